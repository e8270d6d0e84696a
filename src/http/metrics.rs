//! `GET /metrics`: the Prometheus text format, to an admin or a `metrics`-role token on the main
//! listener, or without a token on the separate listener `serve --metrics-listen` binds (keep
//! that one on a private interface). Also the layer that measures every request of the API by
//! its matched route, and counts the events that never reached their handler (shed, timed out).
//! What a scrape reads from the state at that moment is `metrics/scrape.rs`.

mod scrape;

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use super::auth::Caller;
use super::problem::{ApiError, Kind};
use crate::config::Role;
use crate::metrics::{CONTENT_TYPE, EventOutcome, RequestLabels};
use crate::state::AppState;

/// Where the metrics are served, on either listener.
pub const PATH: &str = "/metrics";

#[derive(utoipa::OpenApi)]
#[openapi(paths(metrics))]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(metrics))
}

/// The service's metrics in the Prometheus text format (0.0.4).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "meta",
    responses(
        (status = 200, description = "The metrics, Prometheus text format 0.0.4: the families are listed in the README", content_type = "text/plain", body = String),
        (status = 403, description = "The token is neither an admin's nor a `metrics` device's"),
    ),
    security(("bearer" = [])),
)]
async fn metrics(State(state): State<AppState>, Caller(device): Caller) -> Response {
    match device.role {
        Role::Admin | Role::Metrics => scrape(&state),
        _ => ApiError::Forbidden(
            "the metrics are for an admin token or a device of the `metrics` role".into(),
        )
        .into_response(),
    }
}

/// The scrape's answer.
fn scrape(state: &AppState) -> Response {
    match state.metrics.render(scrape::StateNow::new(state.clone())) {
        Ok(text) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
            text,
        )
            .into_response(),
        Err(_) => {
            tracing::error!("the metrics could not be encoded");
            ApiError::Internal.into_response()
        }
    }
}

/// Serves `GET /metrics` alone, without a token, on `listener` until the service shuts down.
pub async fn serve_alone(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let shutdown = state.shutdown.clone().cancelled_owned();
    let app = Router::new()
        .route(
            PATH,
            get(|State(state): State<AppState>| async move { scrape(&state) }),
        )
        .fallback(|| async { ApiError::NotFound("this listener serves /metrics only".into()) })
        .with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Measures one request: its route as matched (`unmatched` for none — never the raw path, which
/// could name anything), method, status and time to answer. An event turned away before its
/// handler is counted here too.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = method_label(req.method());
    let response = next.run(req).await;
    if route == super::events::ROUTE && method == "POST" {
        if let Some(outcome) = response.extensions().get::<Kind>().and_then(turned_away) {
            state.metrics.event(crate::metrics::UNKNOWN_KIND, outcome);
        }
    }
    let labels = RequestLabels {
        route,
        method,
        status: response.status().as_u16(),
    };
    state.metrics.request(&labels, started.elapsed());
    response
}

/// An event answered before its handler ran, by the problem kind of the answer; the handler
/// counts every other outcome itself.
fn turned_away(kind: &Kind) -> Option<EventOutcome> {
    match kind {
        Kind::Overloaded => Some(EventOutcome::Shed),
        Kind::RequestTimeout => Some(EventOutcome::TimedOut),
        Kind::Unauthorized => Some(EventOutcome::Refused(kind.entry().slug)),
        _ => None,
    }
}

/// The method as a label: the ones HTTP names, anything else `other`.
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PATCH" => "PATCH",
        _ => "other",
    }
}
