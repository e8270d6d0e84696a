//! `POST /api/v1/stations/{station}/bookings`: the public books a slot, without a token.
//!
//! The service makes the booking's code here (a [`LinkCode`]), writes `booking_made` with the
//! code's hash and the browser's key through the log as the device `public`
//! (`ingest::apply_system`), and answers the booking with its code in the clear — the one time the
//! code is ever sent. As with joining a queue (`join.rs`) there is no Idempotency-Key and no stored
//! answer: a stored answer would hold the code. A lost answer is a booking nobody holds, which
//! lapses as a no-show and counts against its browser until then.
//!
//! Against slot-hoarding bots, in order — the cheapest check first, and none of them spending an
//! allowance on a request that a later, cheaper one would have refused:
//! 1. the body's shape (a typo costs nothing);
//! 2. the proof of work (`pow.rs`): each booking costs its maker hashing;
//! 3. the source address's hourly allowance (`[limits] bookings_per_hour_per_address`);
//! 4. the browser's open bookings over every station (`[limits] open_bookings_per_browser`,
//!    `browser.rs`); counted before the engine takes the booking, so two requests from one browser
//!    at the same instant may both pass — a limit on a casual second tab, not a guarantee;
//! 5. the engine: a bookable service, one of its slots, in the future, within the horizon, free.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::Guards;
use super::browser::Browser;
use super::capability::view_at;
use super::pow::Solution;
use super::view::MadeBooking;
use crate::domain::booking::{BookingId, BrowserKey};
use crate::domain::ticket_link::LinkCode;
use crate::domain::{DeviceId, Event, PartySize, ServiceId};
use crate::http::join::PUBLIC_DEVICE;
use crate::http::json::{JsonBody, parse_json};
use crate::http::problem::ApiError;
use crate::http::station_config;
use crate::ingest;
use crate::rate_limit::{RateLimiter, address_key};
use crate::state::AppState;

/// Largest accepted booking body: a service, an instant, a number and a short proof of work.
pub(super) const MAX_BOOKING_BODY: usize = 1024;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct BookingRequest {
    /// The service's id, e.g. `passport`; it must take bookings.
    #[schema(value_type = String)]
    service: ServiceId,
    /// The slot's start (RFC 3339), one of the service's free slots.
    slot: DateTime<Utc>,
    /// People in the party, 1–10 (default 1).
    #[serde(default)]
    #[schema(value_type = u32, minimum = 1, maximum = 10)]
    party_size: PartySize,
    /// The solved challenge; may be left out only while `[limits] booking_pow_bits` is 0.
    #[serde(default)]
    pow: Option<Solution>,
}

/// Books a slot: the answer carries the booking's code, its page and QR. No token; the request
/// carries a solved proof of work, and is limited per source address and per browser.
#[utoipa::path(
    post,
    path = "/api/v1/stations/{station}/bookings",
    tag = "bookings",
    params(("station" = String, Path, description = "The station's id, e.g. `oslo-gronland`")),
    request_body(content = BookingRequest, content_type = "application/json", description = "The service, slot, party size and proof of work; at most 1 KiB"),
    responses(
        (status = 201, description = "Booked: the booking with its code (the only answer that carries it); sets the `lw_browser` cookie", body = MadeBooking),
        (status = 400, description = "Malformed JSON"),
        (status = 404, description = "Unknown station"),
        (status = 409, description = "The slot cannot be booked (`booking-refused`), the party is larger than the room's cap (`party-too-large`), or this browser holds enough open bookings (`too-many-open-bookings`)"),
        (status = 413, description = "The body is over 1 KiB"),
        (status = 415, description = "A Content-Type other than JSON"),
        (status = 422, description = "An invalid field (named in `field`), an unknown service, or a proof of work that does not hold (`pow-failed`)"),
        (status = 429, description = "This address booked too often (`booking-rate-limited`, `Retry-After`)"),
    ),
)]
pub(super) async fn book(
    State(app): State<AppState>,
    guards: Arc<Guards>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(station): Path<String>,
    headers: HeaderMap,
    body: Result<JsonBody<MAX_BOOKING_BODY>, ApiError>,
) -> Result<Response, ApiError> {
    let station = station_config(&app, &station)?;
    let JsonBody(value) = body?;
    let request: BookingRequest = parse_json(value)?;
    let limits = &app.config().limits;
    guards.spent.spend(
        request.pow.as_ref(),
        limits.booking_pow_bits,
        app.clock.now(),
    )?;
    take_allowance(&guards.per_address, peer.ip())?;
    let browser = Browser::of_request(&headers);
    within_open_limit(&app, &browser.key(), limits.open_bookings_per_browser)?;

    let code = LinkCode::generate();
    let id = BookingId::of_code(&code);
    let event = Event::BookingMade {
        booking: id.clone(),
        service: request.service,
        slot: request.slot,
        party_size: request.party_size,
        code: Some(code.hash()),
        external_ref: None,
        browser: Some(browser.key()),
    };
    let device = DeviceId::parse(PUBLIC_DEVICE).expect("a valid device id");
    ingest::apply_system(&app, &station.id, &device, |_, _| Some(event.clone()))
        .await?
        .ok_or(ApiError::Internal)?;
    let slot = app.station(&station.id).ok_or(ApiError::Internal)?;
    let answer = MadeBooking::new(&code, view_at(&slot, &id)?);
    let secure = app
        .config()
        .web
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, browser.set_cookie(secure))],
        Json(answer),
    )
        .into_response())
}

/// One booking from `peer`'s address, or 429 with how long until the next is allowed.
fn take_allowance(limiter: &RateLimiter<IpAddr>, peer: IpAddr) -> Result<(), ApiError> {
    limiter
        .take(&address_key(peer), tokio::time::Instant::now())
        .map_err(|wait| ApiError::BookingRateLimited {
            per_hour: limiter.per_minute(),
            retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
        })
}

/// Refuses a browser that holds `limit` open bookings already, over every station.
fn within_open_limit(app: &AppState, key: &BrowserKey, limit: u32) -> Result<(), ApiError> {
    let open: usize = app
        .stations()
        .values()
        .map(|slot| {
            slot.engine
                .lock()
                .map_or(0, |engine| engine.open_bookings_of(key))
        })
        .sum();
    if open >= limit as usize {
        return Err(ApiError::TooManyOpenBookings { limit });
    }
    Ok(())
}
