//! Who is calling: bearer tokens → devices, and what each role may do at which station.
//!
//! Tokens are never stored: the config holds their SHA-256, and a presented token is hashed and
//! looked up. The station a device may act on comes from its token's scope, never from the
//! request. Roles: a `terminal` posts events for its one station and reads it; a `guard` reads
//! and acts on the stations of its districts or list (and alone may correct the headcount); a
//! `display` reads only public documents, which need no token; an `admin` manages rules and
//! tokens, not stations.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::problem::ApiError;
use crate::config::{self, Config, Device, Role, Scope};
use crate::domain::Event;
use crate::state::AppState;

/// Token hash → device.
#[derive(Debug, Default)]
pub struct Tokens {
    by_hash: HashMap<[u8; 32], Arc<Device>>,
}

impl Tokens {
    pub fn from_config(config: &Config) -> Self {
        Self {
            by_hash: config
                .devices
                .iter()
                .map(|d| (d.token_sha256, Arc::new(d.clone())))
                .collect(),
        }
    }

    /// The device holding `token`. Only the token's hash is compared, so lookup time does not
    /// depend on how much of a guessed token is right.
    pub fn authenticate(&self, token: &str) -> Option<Arc<Device>> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.by_hash.get(&hash).cloned()
    }

    /// Resolves a presented token, or says why not.
    pub fn require(&self, token: Option<&str>) -> Result<Arc<Device>, ApiError> {
        let token = token.ok_or_else(|| {
            ApiError::Unauthorized(
                "this request needs a device token: send `Authorization: Bearer <token>`".into(),
            )
        })?;
        self.authenticate(token)
            .ok_or_else(|| ApiError::Unauthorized("the device token is not valid".into()))
    }
}

/// The token from an `Authorization: Bearer` header, if any.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// An authenticated caller (header token only).
pub struct Caller(pub Arc<Device>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state.tokens.require(bearer_token(parts)).map(Caller)
    }
}

/// Whether `scope` covers `station`.
pub fn covers(scope: &Scope, station: &config::Station) -> bool {
    match scope {
        Scope::Station(s) => *s == station.id,
        Scope::Stations(list) => list.contains(&station.id),
        Scope::Districts(list) => list.contains(&station.district),
        Scope::All => true,
        Scope::Nothing => false,
    }
}

/// May `device` read the full status document of `station`?
pub fn may_read(device: &Device, station: &config::Station) -> Result<(), ApiError> {
    match device.role {
        Role::Terminal | Role::Guard if covers(&device.scope, station) => Ok(()),
        Role::Terminal | Role::Guard => Err(ApiError::Forbidden(format!(
            "device '{}' is not assigned to station '{}'",
            device.id, station.id
        ))),
        Role::Display => Err(ApiError::Forbidden(
            "a display reads the public documents only (…/public and …/public/live need no token)"
                .into(),
        )),
        Role::Admin => Err(ApiError::Forbidden(
            "an admin token manages rules and tokens; use a guard token to watch stations".into(),
        )),
    }
}

/// May `device` post events at `station` at all? (Role and scope; checked before the body is read.)
pub fn may_act(device: &Device, station: &config::Station) -> Result<(), ApiError> {
    match device.role {
        Role::Terminal | Role::Guard if covers(&device.scope, station) => Ok(()),
        Role::Terminal | Role::Guard => Err(ApiError::Forbidden(format!(
            "device '{}' is not assigned to station '{}'",
            device.id, station.id
        ))),
        Role::Display => Err(ApiError::Forbidden(
            "a display token cannot post events; use the station's terminal token".into(),
        )),
        Role::Admin => Err(ApiError::Forbidden(
            "an admin token cannot post events; use a terminal or guard token".into(),
        )),
    }
}

/// May `device` post this particular `event` at `station`? Corrections, overrides and
/// acknowledgements are for guards only; the service's own events for nobody.
pub fn may_post(device: &Device, station: &config::Station, event: &Event) -> Result<(), ApiError> {
    may_act(device, station)?;
    if event.is_system() {
        return Err(ApiError::Forbidden(format!(
            "`{}` events are written by the service itself",
            event.kind()
        )));
    }
    if device.role != Role::Guard {
        let only_guards = match event {
            Event::Correction { .. } => Some("correct the headcount"),
            Event::Override { .. } => Some("let a party in past the cap"),
            Event::Acknowledge { .. } => Some("acknowledge alerts"),
            _ => None,
        };
        if let Some(what) = only_guards {
            return Err(ApiError::Forbidden(format!("only a guard may {what}")));
        }
    }
    Ok(())
}
