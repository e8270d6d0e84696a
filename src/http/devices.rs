//! Devices for admins: `GET /api/v1/devices` lists every device with its scope, how many of its
//! tokens are valid and how many live sockets it has open; `POST /api/v1/devices/{device}/revoke`
//! revokes every token the device holds now — recorded in the log before it takes effect, so a
//! restart does not bring the tokens back — and closes that device's open sockets at once (close
//! code 4401). A device gets access again only with a new token in the config.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::auth::Caller;
use super::problem::ApiError;
use crate::config::{Device, Role, Scope};
use crate::domain::DeviceId;
use crate::state::AppState;
use crate::store::Revocation;

#[derive(utoipa::OpenApi)]
#[openapi(paths(list, revoke))]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/devices", get(list))
        .route("/api/v1/devices/{device}/revoke", post(revoke))
}

fn admin_only(device: &Device) -> Result<(), ApiError> {
    if device.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only an admin token may manage devices".into(),
        ))
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct DeviceEntry {
    id: DeviceId,
    role: Role,
    /// e.g. `station oslo-gronland`, `districts oslo`, `all stations`.
    scope: String,
    tokens: usize,
    revoked_tokens: usize,
}

fn describe(scope: &Scope) -> String {
    let list = |ids: Vec<&str>| ids.join(", ");
    match scope {
        Scope::Station(s) => format!("station {s}"),
        Scope::Stations(l) => format!("stations {}", list(l.iter().map(|s| s.as_str()).collect())),
        Scope::Districts(l) => {
            format!("districts {}", list(l.iter().map(|d| d.as_str()).collect()))
        }
        Scope::All => "all stations".into(),
        Scope::Nothing => "no stations".into(),
    }
}

/// Every device: role, scope, tokens and revoked tokens.
#[utoipa::path(
    get,
    path = "/api/v1/devices",
    tag = "devices",
    responses(
        (status = 200, description = "Every device", body = [DeviceEntry]),
        (status = 403, description = "Not an admin token"),
    ),
    security(("bearer" = [])),
)]
async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<Json<Vec<DeviceEntry>>, ApiError> {
    admin_only(&caller)?;
    Ok(Json(
        state
            .config()
            .devices
            .iter()
            .map(|d| DeviceEntry {
                id: d.id.clone(),
                role: d.role,
                scope: describe(&d.scope),
                tokens: d.tokens_sha256.len(),
                revoked_tokens: state.tokens.revoked_count(&d.id),
            })
            .collect(),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Revoked {
    device: DeviceId,
    /// Tokens revoked by this request (0 when they already were).
    revoked_tokens: usize,
    /// Live sockets of the device that were closed.
    closed_sockets: usize,
}

/// Revokes every token of a device now (logged) and closes its live sockets with 4401.
#[utoipa::path(
    post,
    path = "/api/v1/devices/{device}/revoke",
    tag = "devices",
    params(("device" = String, Path, description = "The device's id")),
    responses(
        (status = 200, description = "What was revoked and closed", body = Revoked),
        (status = 403, description = "Not an admin token"),
        (status = 404, description = "Unknown device"),
        (status = 503, description = "Overloaded, timed out, or the log cannot be written (nothing was revoked)"),
    ),
    security(("bearer" = [])),
)]
async fn revoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(device): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    admin_only(&caller)?;
    let config = state.config();
    let target = DeviceId::parse(&device)
        .ok()
        .and_then(|id| config.devices.iter().find(|d| d.id == id))
        .ok_or_else(|| ApiError::NotFound(format!("no device '{device}'")))?;
    let hashes = state.tokens.unrevoked_of(&target.id);
    if !hashes.is_empty() {
        // Durable first: an acknowledged revocation survives a crash.
        let recorded = state
            .store
            .revoke(Revocation {
                device: target.id.clone(),
                hashes: hashes.clone(),
                by: caller.id.clone(),
                at: state.clock.now(),
            })
            .await;
        if recorded.is_err() {
            return Err(ApiError::Unavailable(
                "the revocation could not be recorded: the event log cannot be written; nothing was revoked".into(),
            ));
        }
        state.tokens.revoke(&hashes);
    }
    let closed_sockets = state.sockets.revoke(&target.id);
    tracing::warn!(device = %target.id, by = %caller.id, tokens = hashes.len(), closed_sockets, "device tokens revoked");
    Ok(Json(Revoked {
        device: target.id.clone(),
        revoked_tokens: hashes.len(),
        closed_sockets,
    }))
}
