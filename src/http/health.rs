//! `GET /healthz`: ready once the log has been replayed (the service only listens after that),
//! and unhealthy — 503, with the reason — once the log can no longer be written.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let events: u64 = state.stations.values().map(|s| s.live.latest().seq).sum();
    match state.store.failure() {
        None => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "stations": state.stations.len(), "events": events })),
        ),
        Some(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "failing",
                "reason": "the event log cannot be written; events are refused, reads still work",
                "stations": state.stations.len(),
                "events": events,
            })),
        ),
    }
}
