//! `GET /healthz`: ready once the log has been replayed (the service only listens after that),
//! and unhealthy — 503, with the reason — once the log can no longer be written.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(paths(healthz))]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// Ready once the log is replayed; 503 once the log cannot be written.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    responses(
        (status = 200, description = "`{\"status\": \"ok\", \"stations\": n, \"events\": n, \"connections\": {\"open\", \"max\", \"refused\", \"accept_errors\"}}`", body = Object),
        (status = 503, description = "`{\"status\": \"failing\", \"reason\": …}` when the log cannot be written; a problem+json when overloaded or timed out", content(
            (Object = "application/json"),
            (super::problem::Problem = "application/problem+json"),
        )),
    ),
)]
async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let events: u64 = state.stations.values().map(|s| s.live.latest().seq).sum();
    match state.store.failure() {
        None => (
            StatusCode::OK,
            Json(json!({
                "status": "ok",
                "stations": state.stations.len(),
                "events": events,
                "connections": state.connections.counts(),
            })),
        ),
        Some(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "failing",
                "reason": "the event log cannot be written; events are refused, reads still work",
                "stations": state.stations.len(),
                "events": events,
                "connections": state.connections.counts(),
            })),
        ),
    }
}
