//! Who is calling and what each role may do at which station: the bearer-token extractor over
//! the token table ([`crate::tokens`]), and the role and scope checks every route makes.
//!
//! The station a device may act on comes from its token's scope, never from the request. Roles:
//! a `terminal` posts events for its one station and reads it; a `guard` reads and acts on the
//! stations of its districts or list (and alone may correct the headcount); a `display` reads
//! only public documents, which need no token; an `admin` manages rules and tokens, not stations;
//! a `metrics` device (a Prometheus scraper) reads `GET /metrics` and nothing else; an
//! `integration` (a national booking system) pushes bookings to the stations of its districts or
//! list, and reads nothing else.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::problem::ApiError;
use crate::config::{self, Device, Role, Scope};
use crate::domain::Event;
use crate::state::AppState;
use crate::tokens::Tokens;

/// The refusal of anything but `GET /metrics` to a metrics device.
fn metrics_only() -> ApiError {
    ApiError::Forbidden("a metrics token reads GET /metrics and nothing else".into())
}

/// The refusal of anything but the booking push to an integration.
fn bookings_only() -> ApiError {
    ApiError::Forbidden(
        "an integration token pushes bookings (PUT/GET/DELETE /api/v1/stations/{station}/bookings/{external_ref}) and nothing else".into(),
    )
}

/// The refusal of a terminal or guard at a station outside its scope.
fn not_assigned(device: &Device, station: &config::Station) -> ApiError {
    ApiError::NotAssigned {
        device: device.id.clone(),
        station: station.id.clone(),
    }
}

/// Resolves a presented token to its device, or refuses with 401 saying what to do.
pub fn authenticate(tokens: &Tokens, token: Option<&str>) -> Result<Arc<Device>, ApiError> {
    tokens.require(token).map_err(ApiError::Unauthorized)
}

/// The token from an `Authorization: Bearer` header, if any.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    bearer_token_in(&parts.headers)
}

/// The token from the `Authorization: Bearer` header among `headers`, if any.
pub fn bearer_token_in(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// An authenticated caller (header token only).
pub struct Caller(pub Arc<Device>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(&state.tokens, bearer_token(parts)).map(Caller)
    }
}

/// Whether `scope` covers `station`.
pub fn covers(scope: &Scope, station: &config::Station) -> bool {
    scope.covers(station)
}

/// May `device` read the full status document of `station`?
pub fn may_read(device: &Device, station: &config::Station) -> Result<(), ApiError> {
    match device.role {
        Role::Terminal | Role::Guard if covers(&device.scope, station) => Ok(()),
        Role::Terminal | Role::Guard => Err(not_assigned(device, station)),
        Role::Display => Err(ApiError::Forbidden(
            "a display reads the public documents only (…/public and …/public/live need no token)"
                .into(),
        )),
        Role::Admin => Err(ApiError::Forbidden(
            "an admin token manages rules and tokens; use a guard token to watch stations".into(),
        )),
        Role::Metrics => Err(metrics_only()),
        Role::Integration => Err(bookings_only()),
    }
}

/// May `device` post events at `station` at all? (Role and scope; checked before the body is read.)
pub fn may_act(device: &Device, station: &config::Station) -> Result<(), ApiError> {
    match device.role {
        Role::Terminal | Role::Guard if covers(&device.scope, station) => Ok(()),
        Role::Terminal | Role::Guard => Err(not_assigned(device, station)),
        Role::Display => Err(ApiError::Forbidden(
            "a display token cannot post events; use the station's terminal token".into(),
        )),
        Role::Admin => Err(ApiError::Forbidden(
            "an admin token cannot post events; use a terminal or guard token".into(),
        )),
        Role::Metrics => Err(metrics_only()),
        Role::Integration => Err(bookings_only()),
    }
}

/// May `device` push, read and cancel bookings by their external reference at `station`? Only
/// an integration, within its scope.
pub fn may_push_bookings(device: &Device, station: &config::Station) -> Result<(), ApiError> {
    match device.role {
        Role::Integration if covers(&device.scope, station) => Ok(()),
        Role::Integration => Err(not_assigned(device, station)),
        _ => Err(ApiError::Forbidden(
            "only an `integration` device (a national booking system) pushes bookings by reference; the public books with POST /api/v1/stations/{station}/bookings".into(),
        )),
    }
}

/// May `device` post this particular `event` at `station`? Corrections, overrides and
/// acknowledgements are for guards only; the service's own events for nobody.
pub fn may_post(device: &Device, station: &config::Station, event: &Event) -> Result<(), ApiError> {
    may_act(device, station)?;
    if event.is_system() || event.is_bookings() {
        return Err(ApiError::Forbidden(format!(
            "`{}` events are written by the service itself",
            event.kind()
        )));
    }
    let guards_only = matches!(
        event,
        Event::Correction { .. } | Event::Override { .. } | Event::Acknowledge { .. }
    );
    if guards_only && device.role != Role::Guard {
        return Err(ApiError::GuardsOnly(event.kind()));
    }
    Ok(())
}
