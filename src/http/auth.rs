//! Who is calling: bearer tokens → devices, and what each role may do at which station.
//!
//! Tokens are never stored: the config holds their SHA-256, and a presented token is hashed and
//! its hash looked up. The look-up's timing can at most say how close the *hash* of a guess came
//! to a known hash, which says nothing about a token that hashes to it (SHA-256 is preimage
//! resistant) — the reasoning behind any token store keyed by hash. A linear constant-time scan
//! would cost every request time in proportion to the number of devices: thousands in a national
//! deployment. A device may hold two tokens while one replaces the other (rotation),
//! and an admin may revoke a device's tokens at run time (kept in the log, so a restart does not
//! bring them back). The station a device may act on comes from its token's scope, never from the
//! request. Roles: a `terminal` posts events for its one station and reads it; a `guard` reads
//! and acts on the stations of its districts or list (and alone may correct the headcount); a
//! `display` reads only public documents, which need no token; an `admin` manages rules and
//! tokens, not stations.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::problem::ApiError;
use crate::config::{self, Config, Device, Role, Scope};
use crate::domain::Event;
use crate::state::AppState;

/// Token hashes → devices, and the hashes revoked at run time.
#[derive(Debug, Default)]
pub struct Tokens {
    known: HashMap<[u8; 32], Arc<Device>>,
    revoked: RwLock<HashSet<[u8; 32]>>,
}

/// Why a presented token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    Unknown,
    Revoked,
}

impl Tokens {
    /// The config's devices; `revoked` are the hashes the log says were revoked.
    pub fn new(config: &Config, revoked: HashSet<[u8; 32]>) -> Self {
        Self {
            known: config
                .devices
                .iter()
                .flat_map(|d| {
                    let device = Arc::new(d.clone());
                    d.tokens_sha256.iter().map(move |h| (*h, device.clone()))
                })
                .collect(),
            revoked: RwLock::new(revoked),
        }
    }

    pub fn from_config(config: &Config) -> Self {
        Self::new(config, HashSet::new())
    }

    /// The device holding `token`: one hash and one look-up, however many devices there are.
    pub fn authenticate(&self, token: &str) -> Result<Arc<Device>, Rejected> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let device = self.known.get(&hash).ok_or(Rejected::Unknown)?;
        if self.revoked.read().is_ok_and(|r| r.contains(&hash)) {
            return Err(Rejected::Revoked);
        }
        Ok(device.clone())
    }

    /// Resolves a presented token, or says why not.
    pub fn require(&self, token: Option<&str>) -> Result<Arc<Device>, ApiError> {
        let token = token.ok_or_else(|| {
            ApiError::Unauthorized(
                "this request needs a device token: send `Authorization: Bearer <token>`".into(),
            )
        })?;
        self.authenticate(token).map_err(|why| {
            ApiError::Unauthorized(match why {
                Rejected::Unknown => "the device token is not valid".into(),
                Rejected::Revoked => {
                    "this device token was revoked by an administrator; ask for a new one".into()
                }
            })
        })
    }

    /// The hashes of `device`'s tokens that are not yet revoked.
    pub fn unrevoked_of(&self, device: &crate::domain::DeviceId) -> Vec<[u8; 32]> {
        self.tokens_of(device)
            .filter(|(_, revoked)| !revoked)
            .map(|(h, _)| h)
            .collect()
    }

    /// `device`'s token hashes, each with whether it is revoked.
    fn tokens_of<'a>(
        &'a self,
        device: &'a crate::domain::DeviceId,
    ) -> impl Iterator<Item = ([u8; 32], bool)> + 'a {
        let revoked = self.revoked.read().ok();
        self.known
            .iter()
            .filter(move |(_, d)| d.id == *device)
            .map(move |(h, _)| (*h, revoked.as_ref().is_some_and(|r| r.contains(h))))
    }

    /// Marks `hashes` revoked (after the log has recorded it).
    pub fn revoke(&self, hashes: &[[u8; 32]]) {
        if let Ok(mut r) = self.revoked.write() {
            r.extend(hashes.iter().copied());
        }
    }

    /// How many of `device`'s tokens are revoked.
    pub fn revoked_count(&self, device: &crate::domain::DeviceId) -> usize {
        self.tokens_of(device)
            .filter(|(_, revoked)| *revoked)
            .count()
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
