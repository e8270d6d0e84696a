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

/// The limits every request passes: how many may run at once (shared by all connections), and
/// how long one may take. Built by `app()` from the config and held by its middleware alone.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    in_flight: Arc<Semaphore>,
    timeout_s: u64,
}

impl RequestLimits {
    pub fn new(config: &crate::config::Limits) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(config.max_concurrent_requests)),
            timeout_s: config.request_timeout_s,
        }
    }
}

pub async fn shed_and_time_out(
    State(limits): State<RequestLimits>,
    req: Request,
    next: Next,
) -> Response {
    let Ok(_permit) = limits.in_flight.clone().try_acquire_owned() else {
        tracing::warn!("shedding load: too many requests in flight");
        return ApiError::Overloaded.into_response();
    };
    let limit = limits.timeout_s;
    match tokio::time::timeout(Duration::from_secs(limit), next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::TimedOut(limit).into_response(),
    }
}
