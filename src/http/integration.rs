//! The booking push of an office's national booking system (a device of role `integration`):
//! `PUT`, `GET` and `DELETE /api/v1/stations/{station}/bookings/{external_ref}`.
//!
//! The national system is the source of its bookings; lobbywatch keeps only the slot, the party
//! size and the system's reference, and the booking's id is worked out from the reference
//! (`BookingId::of_external`), so the same reference always names the same booking. A push is
//! idempotent by nature rather than by an Idempotency-Key: a PUT states what the booking is, and
//! the service logs only what changes — `booking_made` for a new reference, `booking_moved` for a
//! new slot, nothing at all for a booking already so. That comparison is made under the station's
//! lock, in the closure `ingest::apply_system` runs there, so two identical pushes at once log one
//! event between them. A DELETE cancels once; again, it answers the cancelled booking and logs
//! nothing. A booking keeps its service and party size: a push that changes either is refused
//! (`booking-differs`), since it is another booking for the national system too.

use std::sync::Mutex;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::auth::{Caller, may_push_bookings};
use super::json::{JsonBody, parse_json};
use super::problem::ApiError;
use super::{StationConfig, station_config};
use crate::domain::booking::{BookingId, ExternalRef};
use crate::domain::{Event, PartySize, ServiceId};
use crate::engine::bookings::{Booking, BookingStatus};
use crate::ingest;
use crate::state::AppState;

/// Largest accepted push body: a service id, an instant and a number.
pub const MAX_PUSH_BODY: usize = 1024;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(push_booking, read_booking, cancel_booking),
    components(schemas(PushRequest, PushedBooking))
)]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/stations/{station}/bookings/{external_ref}",
            put(push_booking).get(read_booking).delete(cancel_booking),
        )
        .layer(DefaultBodyLimit::max(MAX_PUSH_BODY))
}

/// What the national system says the booking is.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PushRequest {
    /// A service the station takes bookings for, e.g. `passport`.
    #[schema(value_type = String)]
    service: ServiceId,
    /// The slot's start, an RFC 3339 instant (one of the starts `GET …/slots` lists).
    slot: DateTime<Utc>,
    /// People in the party, 1–10 (default 1).
    #[serde(default)]
    #[schema(value_type = u32, minimum = 1, maximum = 10)]
    party_size: PartySize,
}

/// A pushed booking as the station keeps it.
#[derive(Serialize, utoipa::ToSchema)]
struct PushedBooking {
    /// The booking's id, as the log, the documents and a terminal's `booking_arrived` name it.
    #[schema(value_type = String)]
    id: BookingId,
    #[schema(value_type = String)]
    external_ref: ExternalRef,
    #[schema(value_type = String)]
    service: ServiceId,
    slot: DateTime<Utc>,
    slot_end: DateTime<Utc>,
    #[schema(value_type = u32)]
    party_size: PartySize,
    /// `booked`, `due` (room is held for it), `arrived`, `no_show` or `cancelled`.
    #[schema(example = "booked")]
    status: &'static str,
}

/// What a PUT found under the station's lock, and so what it logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Push {
    /// A new reference: `booking_made`.
    Make,
    /// Another slot: `booking_moved` (refused by the engine unless the booking is open).
    Move,
    /// Already so: nothing is logged.
    Unchanged,
    /// Another service or party size: refused, nothing logged.
    Differs(&'static str),
}

/// Creates the booking `external_ref` or moves it to the slot given; an identical push changes
/// nothing and logs nothing.
#[utoipa::path(
    put,
    path = "/api/v1/stations/{station}/bookings/{external_ref}",
    tag = "bookings",
    params(
        ("station" = String, Path, description = "The station's id, e.g. `oslo-gronland`"),
        ("external_ref" = String, Path, description = "The national system's reference: 1–64 letters, digits, `.`, `_` or `-` (never a person's name or id number)"),
    ),
    request_body(content = PushRequest, content_type = "application/json", description = "The service, the slot and the party size; at most 1 KiB"),
    responses(
        (status = 201, description = "Booked: a new reference", body = PushedBooking),
        (status = 200, description = "Moved to the slot given, or already so (nothing logged)", body = PushedBooking),
        (status = 400, description = "Malformed JSON"),
        (status = 403, description = "Not an integration token, or one whose scope does not cover the station"),
        (status = 404, description = "Unknown station"),
        (status = 409, description = "The slot cannot be booked (`booking-refused`), the booking can no longer move (`booking-state`), or it was pushed with another service or party size (`booking-differs`)"),
        (status = 413, description = "The body is over 1 KiB"),
        (status = 415, description = "A Content-Type other than JSON"),
        (status = 422, description = "A malformed reference (`field` = `external_ref`), an invalid field, or an unknown service"),
    ),
    security(("bearer" = [])),
)]
async fn push_booking(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path((station, external_ref)): Path<(String, String)>,
    body: Result<JsonBody<MAX_PUSH_BODY>, ApiError>,
) -> Result<Response, ApiError> {
    let (station, external_ref) = pushed_at(&state, &device, &station, &external_ref)?;
    let JsonBody(value) = body?;
    let request: PushRequest = parse_json(value)?;
    let id = BookingId::of_external(&external_ref);
    // The last decision the closure made: on a shared log it may run again after losing a race.
    let decided = Mutex::new(Push::Unchanged);
    ingest::apply_system(&state, &station.id, &device.id, |engine, _| {
        let push = decide(engine.booking(&id), &request);
        *decided.lock().unwrap_or_else(|e| e.into_inner()) = push;
        event_for(push, &id, &external_ref, &request)
    })
    .await?;
    let push = *decided.lock().unwrap_or_else(|e| e.into_inner());
    if let Push::Differs(what) = push {
        return Err(ApiError::BookingDiffers(format!(
            "booking '{external_ref}' was pushed with another {what}; a booking keeps its service and party size — cancel it and push a new reference instead"
        )));
    }
    let status = if push == Push::Make {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view_of(&state, &station, &id, &external_ref)?)).into_response())
}

/// The booking `external_ref` as the station keeps it.
#[utoipa::path(
    get,
    path = "/api/v1/stations/{station}/bookings/{external_ref}",
    tag = "bookings",
    params(
        ("station" = String, Path, description = "The station's id"),
        ("external_ref" = String, Path, description = "The national system's reference"),
    ),
    responses(
        (status = 200, description = "The booking", body = PushedBooking),
        (status = 403, description = "Not an integration token, or one whose scope does not cover the station"),
        (status = 404, description = "Unknown station, or no booking with this reference there (an ended booking is forgotten the day after its slot)"),
        (status = 422, description = "A malformed reference (`field` = `external_ref`)"),
    ),
    security(("bearer" = [])),
)]
async fn read_booking(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path((station, external_ref)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (station, external_ref) = pushed_at(&state, &device, &station, &external_ref)?;
    let id = BookingId::of_external(&external_ref);
    Ok(Json(view_of(&state, &station, &id, &external_ref)?).into_response())
}

/// Cancels the booking `external_ref`; its slot is free to others after a random short delay
/// (up to the station's `release_max_min`). Cancelling it again logs nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/stations/{station}/bookings/{external_ref}",
    tag = "bookings",
    params(
        ("station" = String, Path, description = "The station's id"),
        ("external_ref" = String, Path, description = "The national system's reference"),
    ),
    responses(
        (status = 200, description = "Cancelled now, or before (nothing logged then)", body = PushedBooking),
        (status = 403, description = "Not an integration token, or one whose scope does not cover the station"),
        (status = 404, description = "Unknown station, or no booking with this reference there"),
        (status = 409, description = "The party has arrived, or lapsed as a no-show (`booking-state`)"),
        (status = 422, description = "A malformed reference (`field` = `external_ref`)"),
    ),
    security(("bearer" = [])),
)]
async fn cancel_booking(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path((station, external_ref)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (station, external_ref) = pushed_at(&state, &device, &station, &external_ref)?;
    let id = BookingId::of_external(&external_ref);
    let release_max_s = i64::from(station.bookings.release_max_min) * 60;
    ingest::apply_system(&state, &station.id, &device.id, |engine, now| {
        let booking = engine.booking(&id)?;
        if matches!(booking.status, BookingStatus::Cancelled { .. }) {
            return None;
        }
        // Refused by the engine when the party has arrived or lapsed.
        let delay = Duration::seconds(rand::rng().random_range(0..=release_max_s));
        Some(Event::BookingCancelled {
            booking: id.clone(),
            release_at: now + delay,
        })
    })
    .await?;
    Ok(Json(view_of(&state, &station, &id, &external_ref)?).into_response())
}

/// The station and the reference of a push, read, or cancel by `device`: an integration's token
/// whose scope covers the station, and a well-formed reference.
fn pushed_at(
    state: &AppState,
    device: &crate::config::Device,
    station: &str,
    external_ref: &str,
) -> Result<(StationConfig, ExternalRef), ApiError> {
    let station = station_config(state, station)?;
    may_push_bookings(device, &station)?;
    let external_ref =
        ExternalRef::parse(external_ref).map_err(|e| ApiError::invalid("external_ref", e.0))?;
    Ok((station, external_ref))
}

/// What a push of `request` does to `existing`.
fn decide(existing: Option<&Booking>, request: &PushRequest) -> Push {
    let Some(booking) = existing else {
        return Push::Make;
    };
    if booking.service != request.service {
        return Push::Differs("service");
    }
    if booking.size != request.party_size {
        return Push::Differs("party size");
    }
    let cancelled = matches!(booking.status, BookingStatus::Cancelled { .. });
    if booking.slot == request.slot && !cancelled {
        return Push::Unchanged;
    }
    // A new slot, or a cancelled booking pushed again: the engine moves it or says why not.
    Push::Move
}

/// The event a push logs, if any.
fn event_for(
    push: Push,
    id: &BookingId,
    external_ref: &ExternalRef,
    request: &PushRequest,
) -> Option<Event> {
    match push {
        Push::Make => Some(Event::BookingMade {
            booking: id.clone(),
            service: request.service.clone(),
            slot: request.slot,
            party_size: request.party_size,
            code: None,
            external_ref: Some(external_ref.clone()),
            browser: None,
        }),
        Push::Move => Some(Event::BookingMoved {
            booking: id.clone(),
            slot: request.slot,
        }),
        Push::Unchanged | Push::Differs(_) => None,
    }
}

/// The booking `id` at `station` as the answer shows it, or 404.
fn view_of(
    state: &AppState,
    station: &StationConfig,
    id: &BookingId,
    external_ref: &ExternalRef,
) -> Result<PushedBooking, ApiError> {
    let unknown = || {
        ApiError::NotFound(format!(
            "no booking '{external_ref}' at station '{}'; PUT it first",
            station.id
        ))
    };
    let slot = state.station(&station.id).ok_or_else(unknown)?;
    let engine = slot.engine.lock().map_err(|_| ApiError::Internal)?;
    let booking = engine
        .booking(id)
        .filter(|b| b.external_ref.as_ref() == Some(external_ref))
        .ok_or_else(unknown)?;
    let slot_min = engine
        .config()
        .services
        .iter()
        .find(|s| s.id == booking.service)
        .and_then(|s| s.booking)
        .map_or(0, |b| b.slot_min);
    Ok(PushedBooking {
        id: booking.id.clone(),
        external_ref: external_ref.clone(),
        service: booking.service.clone(),
        slot: booking.slot,
        slot_end: booking.slot + Duration::minutes(i64::from(slot_min)),
        party_size: booking.size,
        status: status_name(&booking.status),
    })
}

/// The wire name of a booking's status.
fn status_name(status: &BookingStatus) -> &'static str {
    match status {
        BookingStatus::Booked => "booked",
        BookingStatus::Due { .. } => "due",
        BookingStatus::Arrived { .. } => "arrived",
        BookingStatus::NoShow { .. } => "no_show",
        BookingStatus::Cancelled { .. } => "cancelled",
    }
}
