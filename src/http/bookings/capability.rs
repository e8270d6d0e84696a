//! The booking's own routes, by its code: `GET /api/v1/bookings/{code}` (its view),
//! `POST …/{code}/move` (another slot) and `DELETE …/{code}` (cancel). The code is the only
//! credential: whoever holds it sees and changes that one booking, and nothing else.
//!
//! **Finding a booking.** A code names its booking's id without a lookup
//! ([`BookingId::of_code`]); each station's engine is asked for that id, and the booking counts
//! only if the hash it keeps is the hash of this code — an id alone, which the front desk's lists
//! show, opens nothing. Every malformed, unknown or no longer kept code gets the one
//! `unknown-booking` answer, so the routes tell a guesser nothing.
//!
//! **Changes** are the engine's events, written as the device `public`: `booking_moved` (the engine
//! checks the new slot as it would a new booking) and `booking_cancelled`, whose slot becomes free
//! to others after a delay drawn here, uniformly up to the station's `release_max_min`: a bot that
//! polls for freed slots cannot take a cancelled one the moment it is let go. Asking again for what
//! is already so — the same slot, a second cancel — logs nothing and answers the view.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::view::BookingView;
use crate::domain::booking::BookingId;
use crate::domain::ticket_link::LinkCode;
use crate::domain::{DeviceId, Event, StationId};
use crate::engine::bookings::BookingStatus;
use crate::http::join::PUBLIC_DEVICE;
use crate::http::json::{JsonBody, parse_json};
use crate::http::problem::ApiError;
use crate::ingest;
use crate::state::{AppState, StationSlot};

/// Largest accepted move body: one instant.
pub(super) const MAX_MOVE_BODY: usize = 1024;

/// A booking found by its code.
struct Found {
    station: StationId,
    slot: Arc<StationSlot>,
    id: BookingId,
}

/// The booking `raw` is the code of, or the one answer for every code that is none.
fn find(app: &AppState, raw: &str) -> Result<Found, ApiError> {
    let code = LinkCode::parse(raw).ok_or(ApiError::UnknownBooking)?;
    let (hash, id) = (code.hash(), BookingId::of_code(&code));
    app.stations()
        .iter()
        .find(|(_, slot)| {
            slot.engine.lock().is_ok_and(|engine| {
                engine
                    .booking(&id)
                    .is_some_and(|b| b.code.as_ref() == Some(&hash))
            })
        })
        .map(|(station, slot)| Found {
            station: station.clone(),
            slot: slot.clone(),
            id: id.clone(),
        })
        .ok_or(ApiError::UnknownBooking)
}

/// The view of booking `id` at `slot`'s station as its engine has it now.
pub(super) fn view_at(slot: &StationSlot, id: &BookingId) -> Result<BookingView, ApiError> {
    let engine = slot.engine.lock().map_err(|_| ApiError::Internal)?;
    let booking = engine.booking(id).ok_or(ApiError::UnknownBooking)?;
    Ok(BookingView::of(engine.config(), booking))
}

/// A booking's view: where, when, for how many, and where it stands.
#[utoipa::path(
    get,
    path = "/api/v1/bookings/{code}",
    tag = "bookings",
    params(("code" = String, Path, description = "The booking's code: 24 URL-safe base64 characters, from the booking's answer")),
    responses(
        (status = 200, description = "The booking's view; never cached", body = BookingView),
        (status = 404, description = "No booking has this code (`unknown-booking`: mistyped, or no longer kept after its day)"),
    ),
)]
pub(super) async fn get_booking(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<BookingView>, ApiError> {
    let found = find(&app, &code)?;
    Ok(Json(view_at(&found.slot, &found.id)?))
}

/// Another slot for the booking.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MoveRequest {
    /// The new slot's start (RFC 3339), one of the service's free slots.
    slot: DateTime<Utc>,
}

/// Moves the booking to another free slot of its service (the same slot again changes nothing).
#[utoipa::path(
    post,
    path = "/api/v1/bookings/{code}/move",
    tag = "bookings",
    params(("code" = String, Path, description = "The booking's code")),
    request_body(content = MoveRequest, content_type = "application/json", description = "The new slot; at most 1 KiB"),
    responses(
        (status = 200, description = "Moved: the booking's new view", body = BookingView),
        (status = 400, description = "Malformed JSON"),
        (status = 404, description = "No booking has this code (`unknown-booking`)"),
        (status = 409, description = "The slot cannot be booked (`booking-refused`: not a slot, past, beyond the horizon, full), or the booking has arrived, lapsed or been cancelled (`booking-state`)"),
        (status = 413, description = "The body is over 1 KiB"),
        (status = 415, description = "A Content-Type other than JSON"),
        (status = 422, description = "An invalid field (named in `field`)"),
    ),
)]
pub(super) async fn move_booking(
    State(app): State<AppState>,
    Path(code): Path<String>,
    body: Result<JsonBody<MAX_MOVE_BODY>, ApiError>,
) -> Result<Json<BookingView>, ApiError> {
    let found = find(&app, &code)?;
    let JsonBody(value) = body?;
    let MoveRequest { slot } = parse_json(value)?;
    let id = found.id.clone();
    apply(&app, &found, move |engine, _| {
        let unchanged = engine
            .booking(&id)
            .is_some_and(|b| b.is_open() && b.slot == slot);
        (!unchanged).then(|| Event::BookingMoved {
            booking: id.clone(),
            slot,
        })
    })
    .await
}

/// Cancels the booking; its slot becomes free to others a short random while later.
#[utoipa::path(
    delete,
    path = "/api/v1/bookings/{code}",
    tag = "bookings",
    params(("code" = String, Path, description = "The booking's code")),
    responses(
        (status = 200, description = "Cancelled (or already so): the booking's view, `status: cancelled`", body = BookingView),
        (status = 404, description = "No booking has this code (`unknown-booking`)"),
        (status = 409, description = "The booking has arrived or lapsed as a no-show (`booking-state`)"),
    ),
)]
pub(super) async fn cancel_booking(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<BookingView>, ApiError> {
    let found = find(&app, &code)?;
    let release_max_min = found
        .slot
        .engine
        .lock()
        .map_err(|_| ApiError::Internal)?
        .config()
        .bookings
        .release_max_min;
    let delay = release_delay(release_max_min);
    let id = found.id.clone();
    apply(&app, &found, move |engine, at| {
        let cancelled = engine
            .booking(&id)
            .is_some_and(|b| matches!(b.status, BookingStatus::Cancelled { .. }));
        (!cancelled).then(|| Event::BookingCancelled {
            booking: id.clone(),
            release_at: at + delay,
        })
    })
    .await
}

/// Uniformly from nothing to `max_min` minutes, to the second.
fn release_delay(max_min: u32) -> Duration {
    Duration::seconds(rand::random_range(0..=i64::from(max_min) * 60))
}

/// Writes the event `decide` makes of the booking's station (none: nothing to change), then
/// answers the booking's view.
async fn apply(
    app: &AppState,
    found: &Found,
    decide: impl Fn(&crate::engine::Station, DateTime<Utc>) -> Option<Event>,
) -> Result<Json<BookingView>, ApiError> {
    let device = DeviceId::parse(PUBLIC_DEVICE).expect("a valid device id");
    ingest::apply_system(app, &found.station, &device, decide).await?;
    // The station's slot as it is now: a reload while the event was written may have replaced it.
    let slot = app
        .station(&found.station)
        .ok_or(ApiError::UnknownBooking)?;
    Ok(Json(view_at(&slot, &found.id)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_delay_stays_within_its_bound() {
        for _ in 0..200 {
            let d = release_delay(5);
            assert!(d >= Duration::zero() && d <= Duration::minutes(5), "{d}");
        }
        assert_eq!(release_delay(0), Duration::zero());
    }
}
