//! A booking as its holder sees it: where and when, for how many, and where it stands — the
//! answer of every route that takes a booking's code, and (with the code) of the booking itself.
//!
//! Nothing here is personal (a booking holds none) and nothing tells a bot more than the holder
//! needs: a cancelled booking's `release_at`, when its slot becomes free to others, stays inside.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config;
use crate::domain::PartySize;
use crate::domain::ticket_link::LinkCode;
use crate::engine::bookings::{Booking, BookingStatus};

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum Status {
    /// Booked; the slot is not near yet.
    Booked,
    /// The slot is near (or has begun): room is held for the party now.
    Due,
    /// Checked in at the front desk.
    Arrived,
    /// The party did not come by the end of the grace period after the slot began.
    NoShow,
    Cancelled,
}

/// A booking's view.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct BookingView {
    /// The booking's opaque id (16 hex digits), as the front desk's lists name it.
    #[schema(example = "3f9a0c1d2e4b5a69")]
    id: String,
    #[schema(example = "oslo-gronland")]
    station: String,
    station_name: String,
    /// The station's street address, if configured.
    address: Option<String>,
    #[schema(example = "passport")]
    service: String,
    /// The service's name in Norwegian.
    service_name: String,
    service_name_en: String,
    /// The slot's start (RFC 3339, UTC).
    slot: DateTime<Utc>,
    slot_end: DateTime<Utc>,
    #[schema(value_type = u32, minimum = 1, maximum = 10)]
    party_size: PartySize,
    status: Status,
    /// The station's time zone (IANA), to show the slot in local time.
    #[schema(example = "Europe/Oslo")]
    timezone: String,
    /// Whether the booking can still be moved or cancelled.
    can_change: bool,
}

/// A booking just made: its view, and the code that is its capability — sent in this answer only.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct MadeBooking {
    booking: MadeView,
}

#[derive(Serialize, utoipa::ToSchema)]
struct MadeView {
    /// The booking's code: 24 URL-safe base64 characters. Whoever holds it can see, move and
    /// cancel the booking, and the front desk checks it in by it. Shown once: keep it.
    #[schema(example = "Zk3vQ9rT0bXa1LmN2pQrStUv")]
    code: String,
    /// The booking's page.
    #[schema(example = "/b/Zk3vQ9rT0bXa1LmN2pQrStUv")]
    url: String,
    /// The page's QR code (SVG).
    #[schema(example = "/b/Zk3vQ9rT0bXa1LmN2pQrStUv/qr.svg")]
    qr: String,
    #[serde(flatten)]
    view: BookingView,
}

impl MadeBooking {
    pub(super) fn new(code: &LinkCode, view: BookingView) -> Self {
        let url = page(code);
        Self {
            booking: MadeView {
                code: code.as_str().to_owned(),
                qr: format!("{url}/qr.svg"),
                url,
                view,
            },
        }
    }
}

/// The booking page of `code`.
pub fn page(code: &LinkCode) -> String {
    format!("/b/{}", code.as_str())
}

impl BookingView {
    /// `booking`'s view at `station` (as configured now).
    pub(super) fn of(station: &config::Station, booking: &Booking) -> Self {
        let service = station.services.iter().find(|s| s.id == booking.service);
        let slot_min = service
            .and_then(|s| s.booking)
            .map_or(0, |b| i64::from(b.slot_min));
        let name = |pick: fn(&config::Service) -> &str| {
            service.map_or_else(|| booking.service.to_string(), |s| pick(s).to_owned())
        };
        Self {
            id: booking.id.to_string(),
            station: station.id.to_string(),
            station_name: station.name.clone(),
            address: station.address.clone(),
            service: booking.service.to_string(),
            service_name: name(|s| &s.name),
            service_name_en: name(|s| &s.name_en),
            slot: booking.slot,
            slot_end: booking.slot + Duration::minutes(slot_min),
            party_size: booking.size,
            status: status_of(booking.status),
            timezone: station.timezone.name().to_owned(),
            can_change: booking.is_open(),
        }
    }
}

fn status_of(status: BookingStatus) -> Status {
    match status {
        BookingStatus::Booked => Status::Booked,
        BookingStatus::Due { .. } => Status::Due,
        BookingStatus::Arrived { .. } => Status::Arrived,
        BookingStatus::NoShow { .. } => Status::NoShow,
        BookingStatus::Cancelled { .. } => Status::Cancelled,
    }
}
