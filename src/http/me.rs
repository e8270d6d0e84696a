//! `GET /api/v1/me`: who a token belongs to and which stations it covers — what a page needs
//! right after sign-in to know the token is good and what to show.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, response::IntoResponse, response::Response};
use serde::Serialize;

use super::auth::{Caller, covers};
use crate::config::Role;
use crate::domain::{DeviceId, DistrictId, StationId};
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(paths(me))]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(me))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Me {
    device: DeviceId,
    role: Role,
    /// The stations this token reads or acts on (none for displays and admins, whose pages do
    /// not read stations with a token).
    stations: Vec<StationRef>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct StationRef {
    id: StationId,
    name: String,
    district: DistrictId,
}

/// The token's device, role and the stations it covers.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "devices",
    responses(
        (status = 200, description = "Who the token is", body = Me),
    ),
    security(("bearer" = [])),
)]
async fn me(State(state): State<AppState>, Caller(device): Caller) -> Response {
    let stations = match device.role {
        Role::Terminal | Role::Guard | Role::Integration => state
            .config()
            .stations
            .iter()
            .filter(|s| covers(&device.scope, s))
            .map(|s| StationRef {
                id: s.id.clone(),
                name: s.name.clone(),
                district: s.district.clone(),
            })
            .collect(),
        Role::Display | Role::Admin | Role::Metrics => Vec::new(),
    };
    Json(Me {
        device: device.id.clone(),
        role: device.role,
        stations,
    })
    .into_response()
}
