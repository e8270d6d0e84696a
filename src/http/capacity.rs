//! `POST /api/v1/capacity`: the capacity computation as a pure public endpoint for planners —
//! "how many may wait in this room at this distance, and which chairs".

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::json::{JsonBody, parse_json};
use super::problem::ApiError;
use crate::capacity::{self, AreaModel, Capacity, RoomGeometry};
use crate::state::AppState;

/// Room for 500 seats with generous number formatting.
pub const MAX_CAPACITY_BODY: usize = 64 * 1024;

#[derive(utoipa::OpenApi)]
#[openapi(paths(compute))]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/capacity", post(compute))
        .layer(DefaultBodyLimit::max(MAX_CAPACITY_BODY))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CapacityRequest {
    /// Defaults to the rule in force.
    distancing_m: Option<f64>,
    /// Defaults to the rule in force.
    area_model: Option<AreaModel>,
    area_m2: f64,
    #[serde(default)]
    seats: Option<Vec<[f64; 2]>>,
    #[serde(default)]
    max_visitors: Option<u32>,
}

/// How many may wait in a room at a distancing rule, and which chairs.
#[utoipa::path(
    post,
    path = "/api/v1/capacity",
    tag = "capacity",
    request_body(content = CapacityRequest, content_type = "application/json", description = "The room; at most 64 KiB"),
    responses(
        (status = 200, description = "The cap and its terms", body = Capacity),
        (status = 400, description = "Malformed JSON"),
        (status = 413, description = "The body is over 64 KiB"),
        (status = 422, description = "An invalid field (named in `field`)"),
    ),
)]
async fn compute(
    State(state): State<AppState>,
    body: Result<JsonBody<MAX_CAPACITY_BODY>, ApiError>,
) -> Result<Json<Capacity>, ApiError> {
    let JsonBody(body) = body?;
    let req: CapacityRequest = parse_json(body)?;
    let distancing_m = req.distancing_m.unwrap_or(state.config.rules.distancing_m);
    let model = req.area_model.unwrap_or(state.config.rules.area_model);
    let geometry = RoomGeometry {
        area_m2: req.area_m2,
        seats: req.seats,
        max_visitors: req.max_visitors,
    };
    // The solver is bounded but CPU-heavy for large rooms: keep it off the async workers.
    let result =
        tokio::task::spawn_blocking(move || capacity::derive(&geometry, distancing_m, model))
            .await
            .map_err(|_| ApiError::Internal)?;
    result
        .map(Json)
        .map_err(|e| ApiError::invalid(e.field, e.reason))
}
