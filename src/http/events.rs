//! `POST /api/v1/stations/{station}/events`: front-desk terminals and guards post one event per
//! request, idempotently. The flow itself lives in [`crate::ingest`]; this file turns HTTP into
//! its inputs (in the order a client can act on: station, scope, key, body) and its reply into
//! HTTP.

use axum::Router;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;

use super::auth::{Caller, may_act, may_post};
use super::problem::{ApiError, json_value, parse_json, problem_response};
use super::station_config;
use crate::domain::event::EventWire;
use crate::idempotency::IdempotencyKey;
use crate::ingest;
use crate::state::AppState;

/// Largest accepted event body.
pub const MAX_EVENT_BODY: usize = 16 * 1024;
/// The header a retried request carries to be recognised.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on an answer that is a stored one sent again.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/stations/{station}/events", post(post_event))
        .layer(DefaultBodyLimit::max(MAX_EVENT_BODY))
}

async fn post_event(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path(station): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let station = station_config(&state, &station)?;
    may_act(&device, station)?;
    state
        .rate
        .take(&device.id, tokio::time::Instant::now())
        .map_err(|wait| ApiError::RateLimited {
            per_minute: state.rate.per_minute(),
            retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
        })?;
    let key = match headers.get(IDEMPOTENCY_KEY) {
        None => return Err(ApiError::MissingIdempotencyKey),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(IdempotencyKey::parse)
            .ok_or(ApiError::InvalidIdempotencyKey)?,
    };
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(format!(
                "an event body may be at most {MAX_EVENT_BODY} bytes"
            ))
        } else {
            ApiError::BadRequest(format!("the body could not be read: {rejection}"))
        }
    })?;
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default();
        if !ct
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
        {
            return Err(ApiError::UnsupportedMediaType(format!(
                "events are JSON: send `Content-Type: application/json`, not '{ct}'"
            )));
        }
    }
    let value = json_value(&body)?;
    let wire: EventWire = parse_json(value.clone())?;
    let event = wire
        .into_event(&device.id)
        .map_err(|e| ApiError::invalid(e.field, e.reason))?;
    may_post(&device, station, &event)?;
    let reply = ingest::submit(&state, &device, &station.id, key, &value, event).await?;

    let status =
        StatusCode::from_u16(reply.answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = if status.is_success() {
        (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            reply.answer.body.clone(),
        )
            .into_response()
    } else {
        problem_response(status, reply.answer.body.clone())
    };
    if reply.replayed {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(response)
}
