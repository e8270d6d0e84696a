//! `GET /healthz`: ready once the log has been replayed (the service only listens after that),
//! and unhealthy — 503, with the reason — while events cannot be written (a failed SQLite log, an
//! unreachable database), so a load balancer routes around the instance. It names the instance
//! and its backend, so an operator knows which of several answered, and the config's load: when
//! it was loaded and how the last reload went (a refused reload's error stays until one succeeds).

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

/// Ready once the log is replayed; 503 while events cannot be written.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    responses(
        (status = 200, description = "`{\"status\": \"ok\", \"instance\": name, \"backend\": \"sqlite\"|\"postgres\", \"database\": \"reachable\", \"stations\": n, \"events\": n, \"connections\": {\"open\", \"max\", \"refused\", \"accept_errors\"}, \"config\": {\"loaded_at\", \"last_reload\": {\"at\", \"ok\", \"error\"}}}`", body = Object),
        (status = 503, description = "`{\"status\": \"failing\", \"database\": \"unreachable\", \"reason\": …}` when the log cannot be written or the database reached; a problem+json when overloaded or timed out", content(
            (Object = "application/json"),
            (super::problem::Problem = "application/problem+json"),
        )),
    ),
)]
async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let events: u64 = state.stations().values().map(|s| s.live.latest().seq).sum();
    let log = state.store.health();
    let (status, code, reason) = match (&state.store, log.writable) {
        (_, true) => ("ok", StatusCode::OK, None),
        (crate::store::Log::Local(_), false) => (
            "failing",
            StatusCode::SERVICE_UNAVAILABLE,
            Some("the event log cannot be written; events are refused, reads still work"),
        ),
        (crate::store::Log::Shared(_), false) => (
            "failing",
            StatusCode::SERVICE_UNAVAILABLE,
            Some(
                "the database cannot be reached; events are refused, reads show the last known state",
            ),
        ),
    };
    let mut body = json!({
        "status": status,
        "instance": &*state.instance,
        "backend": log.backend,
        "database": if log.writable { "reachable" } else { "unreachable" },
        "stations": state.stations().len(),
        "events": events,
        "connections": state.connections.counts(),
        "config": state.reloads.status(),
    });
    if let Some(reason) = reason {
        body["reason"] = json!(reason);
    }
    (code, Json(body))
}
