//! `POST /api/v1/stations/{station}/join`: the public joins a service's queue before arriving,
//! from the public page, without a terminal or a token.
//!
//! The service makes the ticket link here (`domain/ticket_link.rs`), writes `join` with the
//! link's hash through the log as the device `public` (`ingest::apply_system`), and answers the
//! new ticket with its link in the clear — the one time the code is ever sent. The engine decides
//! whether the station takes joins now (`[stations.remote] join`, `join_hours`, `join_quota`, the
//! service taking check-ins); its refusal is a problem+json with its code, as on the events route.
//!
//! There is no Idempotency-Key and no stored answer: a stored answer would hold the code in the
//! clear (a terminal's is sealed under its token; the public has none). A lost answer is one more
//! ticket that nobody follows, which the desk passes over and the day's close-out ends.
//!
//! Having no token, the route is limited per source address (`[limits]
//! joins_per_hour_per_address`, an IPv6 /64 as one address): a limit on one network asking too
//! often, not an identity check — a household or an office behind one address shares it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::json::{JsonBody, parse_json};
use super::problem::ApiError;
use super::station_config;
use crate::config::Config;
use crate::domain::ticket_link::{LinkAnswer, LinkCode};
use crate::domain::{DeviceId, Event, PartySize, ServiceId, Ticket};
use crate::engine::{Outcome, Place};
use crate::ingest;
use crate::rate_limit::{RateLimiter, address_key};
use crate::state::AppState;

/// Largest accepted join body: a service id and a number.
pub const MAX_JOIN_BODY: usize = 1024;
/// The device the log names for a join.
pub const PUBLIC_DEVICE: &str = "public";

#[derive(utoipa::OpenApi)]
#[openapi(paths(join), components(schemas(JoinRequest, JoinAnswer)))]
pub(super) struct Api;

/// The route, with its limiter built from `config`'s limits.
pub fn router(config: &Config) -> Router<AppState> {
    let per_address = RateLimiter::per_window(
        config.limits.joins_per_hour_per_address,
        Duration::from_secs(3600),
    );
    // The limiter is the route's alone, so the handler closes over it rather than widening
    // the service's state.
    let per_address = Arc::new(per_address);
    let handler =
        move |app, peer, station, body| join(app, per_address.clone(), peer, station, body);
    Router::new()
        .route("/api/v1/stations/{station}/join", post(handler))
        .layer(DefaultBodyLimit::max(MAX_JOIN_BODY))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct JoinRequest {
    /// The service's id, e.g. `passport`.
    #[schema(value_type = String)]
    service: ServiceId,
    /// People in the party, 1–10 (default 1).
    #[serde(default)]
    #[schema(value_type = u32, minimum = 1, maximum = 10)]
    party_size: PartySize,
}

/// The new ticket and its link: the code and page in the clear, sent only in this answer.
#[derive(Serialize, utoipa::ToSchema)]
struct JoinAnswer {
    #[schema(value_type = String, example = "P012")]
    ticket: Ticket,
    /// Place in the queue (1 = next); `null` when asked in at once.
    position: Option<u32>,
    /// `outside`: in the queue, waiting elsewhere; `inside`: asked in at once (come now).
    state: Place,
    ticket_link: LinkAnswer,
}

/// Joins a service's queue before arriving: the visitor waits elsewhere and follows the ticket
/// at its link. No token; limited per source address.
#[utoipa::path(
    post,
    path = "/api/v1/stations/{station}/join",
    tag = "events",
    params(("station" = String, Path, description = "The station's id, e.g. `oslo-gronland`")),
    request_body(content = JoinRequest, content_type = "application/json", description = "The service and party size; at most 1 KiB"),
    responses(
        (status = 201, description = "Joined: the ticket and its link (the only answer that carries the code)", body = JoinAnswer),
        (status = 400, description = "Malformed JSON"),
        (status = 404, description = "Unknown station"),
        (status = 409, description = "Not open to joins now (`join-refused`: `join.off`, `join.hours`, `join.quota`), or the service closed (`service-closed`)"),
        (status = 413, description = "The body is over 1 KiB"),
        (status = 415, description = "A Content-Type other than JSON"),
        (status = 422, description = "An invalid field (named in `field`), or an unknown service"),
        (status = 429, description = "This address joined too often (`join-rate-limited`, `Retry-After`)"),
    ),
)]
async fn join(
    State(app): State<AppState>,
    per_address: Arc<RateLimiter<IpAddr>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(station): Path<String>,
    body: Result<JsonBody<MAX_JOIN_BODY>, ApiError>,
) -> Result<Response, ApiError> {
    let station = station_config(&app, &station)?;
    let JsonBody(value) = body?;
    let request: JoinRequest = parse_json(value)?;
    // After the body is read, so a mistyped request does not use up the address's allowance.
    take_allowance(&per_address, peer.ip())?;
    let code = LinkCode::generate();
    let event = Event::Join {
        service: request.service,
        party_size: request.party_size,
        link: code.hash(),
    };
    let device = DeviceId::parse(PUBLIC_DEVICE).expect("a valid device id");
    let outcome = ingest::apply_system(&app, &station.id, &device, |_, _| Some(event.clone()))
        .await?
        .ok_or(ApiError::Internal)?;
    let answer = answer_of(outcome, &code)?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// One join from `peer`'s address, or 429 with how long until the next is allowed.
fn take_allowance(limiter: &RateLimiter<IpAddr>, peer: IpAddr) -> Result<(), ApiError> {
    limiter
        .take(&address_key(peer), tokio::time::Instant::now())
        .map_err(|wait| ApiError::JoinRateLimited {
            per_hour: limiter.per_minute(),
            retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
        })
}

/// The answer to a join the engine took, with the link's code in the clear.
fn answer_of(outcome: Outcome, code: &LinkCode) -> Result<JoinAnswer, ApiError> {
    let ticket = outcome.ticket.ok_or(ApiError::Internal)?;
    Ok(JoinAnswer {
        ticket,
        position: outcome.position,
        state: outcome.state.unwrap_or(Place::Outside),
        ticket_link: LinkAnswer::open(code.hash().id(), code),
    })
}
