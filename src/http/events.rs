//! `POST /api/v1/stations/{station}/events`: front-desk terminals and guards post one event per
//! request, idempotently. The flow itself lives in [`crate::ingest`]; this file turns HTTP into
//! its inputs (in the order a client can act on: station, scope, key, body) and its reply into
//! HTTP.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;

use super::auth::{Caller, bearer_token_in, may_act, may_post};
use super::json::{JsonBody, parse_json};
use super::problem::{ApiError, Kind, problem_response};
use super::station_config;
use super::ticket_link;
use crate::domain::Event;
use crate::domain::event::EventWire;
use crate::domain::ticket_link::LinkCode;
use crate::engine::Outcome;
use crate::idempotency::IdempotencyKey;
use crate::ingest;
use crate::metrics::EventOutcome;
use crate::state::AppState;

/// Largest accepted event body.
pub const MAX_EVENT_BODY: usize = 16 * 1024;
/// The header a retried request carries to be recognised.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on an answer that is a stored one sent again.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";
/// The route events are posted to.
pub const ROUTE: &str = "/api/v1/stations/{station}/events";

#[derive(utoipa::OpenApi)]
#[openapi(paths(post_event))]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(ROUTE, post(post_event))
        .layer(DefaultBodyLimit::max(MAX_EVENT_BODY))
}

/// Posts one event. The same `Idempotency-Key` with the same event again gets the same status
/// and body, with `Idempotent-Replayed: true`, and no second effect.
#[utoipa::path(
    post,
    path = "/api/v1/stations/{station}/events",
    tag = "events",
    params(
        ("station" = String, Path, description = "The station's id, e.g. `oslo-gronland`"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters, unique per event for this device; reused only to retry that event"),
    ),
    request_body(
        content = Event,
        content_type = "application/json",
        description = "One event, tagged by `kind`. `rule_changed`, `close_out` and `clock` are written by the service itself and refused here; `correction`, `override` and `acknowledge` are for guards; an acknowledgement's `by` is taken from the token. At most 16 KiB.",
    ),
    responses(
        (status = 201, description = "The event was recorded; what it did", body = Outcome,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is a stored answer sent again"))),
        (status = 400, description = "Malformed JSON, or a missing or invalid Idempotency-Key"),
        (status = 403, description = "The token's role or station does not cover this event"),
        (status = 404, description = "Unknown station or ticket"),
        (status = 409, description = "Refused by a rule (service closed, ticket outside, nobody to call, …), or the same key still in flight"),
        (status = 413, description = "The body is over 16 KiB"),
        (status = 415, description = "A Content-Type other than JSON"),
        (status = 422, description = "An invalid field (named in `field`), an unknown service, or the key reused for another event"),
        (status = 429, description = "Too many events from this device; see Retry-After"),
        (status = 503, description = "Overloaded, timed out, or the event log cannot be written (nothing was recorded)"),
    ),
    security(("bearer" = [])),
)]
async fn post_event(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path(station): Path<String>,
    headers: HeaderMap,
    body: Result<JsonBody<MAX_EVENT_BODY>, ApiError>,
) -> Result<Response, ApiError> {
    let kind = kind_label(&body);
    let answer = handle(&state, device, &station, &headers, body).await;
    state.metrics.event(kind, outcome(&answer));
    answer
}

/// The event's kind as a metrics label: one the service knows, else `unknown` (a label takes
/// only a bounded set of values, never what a client wrote).
fn kind_label(body: &Result<JsonBody<MAX_EVENT_BODY>, ApiError>) -> &'static str {
    body.as_ref()
        .ok()
        .and_then(|JsonBody(value)| value.get("kind")?.as_str())
        .and_then(crate::domain::Event::known_kind)
        .unwrap_or(crate::metrics::UNKNOWN_KIND)
}

/// What became of an event, for the metrics: a refusal by its problem type. (One turned away
/// before this handler — no valid token, shed, timed out — is counted by the request layer.)
fn outcome(answer: &Result<Response, ApiError>) -> EventOutcome {
    match answer {
        Err(ApiError::RateLimited { .. }) => EventOutcome::RateLimited,
        Err(e) => EventOutcome::Refused(e.kind().entry().slug),
        Ok(r) if r.headers().contains_key(IDEMPOTENT_REPLAYED) => EventOutcome::Replayed,
        Ok(r) if r.status().is_success() => EventOutcome::Accepted,
        Ok(r) => EventOutcome::Refused(
            r.extensions()
                .get::<Kind>()
                .map_or("other", |kind| kind.entry().slug),
        ),
    }
}

/// A check-in gets a new ticket link: its hash goes into the event (and the log), its code
/// sealed under the caller's token into the stored answer. Other events get none.
fn give_link(event: &mut Event, token: Option<&str>) -> Option<String> {
    let Event::CheckIn { link, .. } = event else {
        return None;
    };
    let code = LinkCode::generate();
    *link = Some(code.hash());
    token.map(|token| ticket_link::seal(&code, token))
}

/// The event's way through, in the order a client can act on: station, scope, rate, key, body.
async fn handle(
    state: &AppState,
    device: std::sync::Arc<crate::config::Device>,
    station: &str,
    headers: &HeaderMap,
    body: Result<JsonBody<MAX_EVENT_BODY>, ApiError>,
) -> Result<Response, ApiError> {
    let station = station_config(state, station)?;
    may_act(&device, &station)?;
    state
        .rate
        .take(&device.id, tokio::time::Instant::now())
        .map_err(|wait| ApiError::RateLimited {
            per_minute: state.rate.per_minute(),
            retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
        })?;
    let key = idempotency_key(headers)?;
    let JsonBody(value) = body?;
    let wire: EventWire = parse_json(value.clone())?;
    let mut event = wire
        .into_event(&device.id)
        .map_err(|e| ApiError::invalid(e.field, e.reason))?;
    may_post(&device, &station, &event)?;
    let token = bearer_token_in(headers);
    let sealed_link = give_link(&mut event, token);
    let request = ingest::Request {
        key,
        body: &value,
        event,
        sealed_link,
    };
    let reply = ingest::submit(state, &device, &station.id, request, |refusal| {
        ApiError::Refused(refusal).answer()
    })
    .await?;

    Ok(reply_response(&reply, |body| {
        ticket_link::reveal(body, token)
    }))
}

/// The request's `Idempotency-Key`, or why it has none.
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<IdempotencyKey, ApiError> {
    match headers.get(IDEMPOTENCY_KEY) {
        None => Err(ApiError::MissingIdempotencyKey),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(IdempotencyKey::parse)
            .ok_or(ApiError::InvalidIdempotencyKey),
    }
}

/// The HTTP answer to an event: an accepted one's body as `shown` makes it for this caller, a
/// refusal as its problem+json (its kind kept for the metrics), and a stored answer sent again
/// marked `Idempotent-Replayed`.
pub(super) fn reply_response(
    reply: &ingest::Reply,
    shown: impl FnOnce(&Bytes) -> Bytes,
) -> Response {
    let status =
        StatusCode::from_u16(reply.answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = if status.is_success() {
        (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            shown(&reply.answer.body),
        )
            .into_response()
    } else {
        let mut refused = problem_response(status, reply.answer.body.clone());
        if let Some(kind) = Kind::of_body(&reply.answer.body) {
            refused.extensions_mut().insert(kind);
        }
        refused
    };
    if reply.replayed {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    response
}
