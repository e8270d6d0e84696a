//! Load shedding and request timeouts, for every route.
//!
//! A fixed number of requests are handled at once; one more is answered 503 with `Retry-After`
//! at once rather than queued without bound (a queue only turns overload into latency for
//! everyone). A request that takes longer than the configured timeout is answered 503 too — an
//! event it carried still completes in its own task, and a retry with the same Idempotency-Key
//! returns its outcome. WebSocket upgrades pass through quickly: the socket itself is not a
//! request and is limited separately (see `live.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::problem::ApiError;
use crate::state::AppState;

/// How many requests may run at once; shared by all connections.
#[derive(Debug, Clone)]
pub struct InFlight(Arc<Semaphore>);

impl InFlight {
    pub fn new(max: usize) -> Self {
        Self(Arc::new(Semaphore::new(max)))
    }
}

pub async fn shed_and_time_out(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let Ok(_permit) = state.in_flight.0.clone().try_acquire_owned() else {
        tracing::warn!("shedding load: too many requests in flight");
        return ApiError::Overloaded.into_response();
    };
    let limit = state.config.limits.request_timeout_s;
    match tokio::time::timeout(Duration::from_secs(limit), next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::TimedOut(limit).into_response(),
    }
}
