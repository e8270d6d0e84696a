//! The documents the service publishes about a station.
//!
//! [`StationStatus`] is the full document for guards and terminals; [`PublicStatus`] is what lobby
//! displays and the public page get. They are separate types on purpose: the public one has no
//! field that could carry personal data (no appointment references, no devices), so no code path
//! can leak one by forgetting to blank it out.
//!
//! Every list whose length the state does not otherwise bound is cut at a fixed length (the
//! `*_LISTED` constants) and its full length counted beside it, so a document has a largest size
//! whatever happens at the station — the live sockets' output allowance follows from it
//! (`engine::documents::MAX_DOCUMENT_BYTES`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::alert::Alert;
use super::ids::{DeskId, DistrictId, PartySize, ServiceId, StationId, Ticket};
use super::rule::{AreaModel, Limit};

/// Parties of the outside queue a document lists: its head — who is let in next, whom a guard
/// may override, what a display calls — in order; the rest are counted (`outside_total`). A
/// queue at a small station can be thousands long, and nobody acts on its 201st party.
pub const OUTSIDE_LISTED: usize = 200;
/// Bookings due a full document lists (`bookings_due`): the next ones a guard plans for.
pub const BOOKINGS_LISTED: usize = 12;
/// Parties inside a document lists, in order of arrival (and tickets in `please_enter`). More
/// than a room's cap is inside only by guards' overrides; no waiting room holds 300 parties.
pub const INSIDE_LISTED: usize = 300;
/// Open alerts a document lists, oldest first (the cleared ones are few already). Long-inside
/// alerts come one per ticket, so a room full by overrides could otherwise list hundreds.
pub const OPEN_ALERTS_LISTED: usize = 50;
/// Cleaning records a document lists: the configured surfaces first, then the most recently
/// cleaned (a `cleaned` event may name any surface).
pub const CLEANING_LISTED: usize = 50;

/// A day's hours as the documents show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DayHours {
    pub day: &'static str,
    /// e.g. `["08:00-11:00", "12:00-15:30"]`; empty when closed.
    pub ranges: Vec<String>,
}

/// Why the cap is what it is.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CapBasis {
    pub area_m2: f64,
    pub area_cap: u32,
    pub seat_cap: Option<u32>,
    pub seats: Option<usize>,
    pub max_visitors: Option<u32>,
    pub distancing_m: f64,
    pub area_model: AreaModel,
    pub limited_by: Limit,
    /// False only when the seat search hit its budget and the seat cap is a lower bound.
    pub exact: bool,
}

/// The sign at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sign {
    /// There is room and nobody is queued: a new arrival may walk in.
    Enter,
    /// Full, or others are queued first: new arrivals wait outside.
    WaitOutside,
    /// No service is open now.
    Closed,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ServiceStatus {
    pub id: ServiceId,
    pub name: String,
    pub name_en: String,
    pub prefix: char,
    pub open: bool,
    /// Today's hours in the station's timezone, e.g. "08:00-15:30"; None when closed all day.
    pub hours_today: Option<String>,
    /// Parties inside waiting for this service (not yet called).
    pub waiting_inside: u32,
    /// Parties outside for this service.
    pub waiting_outside: u32,
    /// Minutes a party checking in now would wait for a desk, from the measured pace; `null`
    /// when nothing has been measured yet (no desk time recorded, or no desk serving).
    pub estimated_wait_min: Option<u32>,
    /// Desks that called a ticket of this service in the last 30 minutes.
    pub desks_active: u32,
    /// The station-local time ("HH:MM") from which today's current or next opening takes no more
    /// check-ins (`last_admission_min` before it closes); `null` when closed for the rest of the
    /// day or open past midnight.
    pub last_check_in: Option<String>,
    /// Whether a check-in now would be taken: open, and before the last check-in.
    pub taking_check_ins: bool,
    /// Whether the public may join this service's queue before arriving now: the station offers
    /// it, within its join hours, under the day's quota, and the service takes check-ins.
    pub joinable: bool,
    /// Whether the service takes bookings (`GET /api/v1/stations/{station}/slots`).
    pub bookable: bool,
    /// Walk-in tickets still to be given today, when the service caps them (`walk_in_quota`);
    /// 0 with a quota of 0 means booked visitors only.
    pub walk_ins_left: Option<u32>,
    pub week: Vec<DayHours>,
}

/// A booking whose slot is near, for the guards (never in a public document).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BookingSoon {
    /// The booking's opaque id (a terminal may check it in by this id).
    pub booking: String,
    pub service: ServiceId,
    #[serde(serialize_with = "crate::domain::timestamp::serialize")]
    pub slot: DateTime<Utc>,
    pub party_size: PartySize,
    /// Room is held for it now (its slot is within `hold_min`).
    pub held: bool,
}

/// A party queued outside, in queue order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OutsideParty {
    pub ticket: Ticket,
    pub service: ServiceId,
    pub party_size: PartySize,
    pub position: u32,
    #[serde(serialize_with = "crate::domain::timestamp::serialize")]
    pub since: DateTime<Utc>,
    /// Minutes until this party is expected to be let in, from how fast the desks serve; `null`
    /// when nothing has been measured yet.
    pub expected_enter_min: Option<u32>,
    /// Waits elsewhere (its ticket's page said so, or it joined before arriving): keeps its
    /// place, but is not one of the people at the door.
    pub remote: bool,
    /// Checked in for a booking.
    pub booked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointment: Option<String>,
}

/// A party inside, in order of arrival.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InsideParty {
    pub ticket: Ticket,
    pub party_size: PartySize,
    #[serde(serialize_with = "crate::domain::timestamp::serialize")]
    pub checked_in_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize")]
    pub entered_at: DateTime<Utc>,
    /// The desk serving it, once called.
    pub desk: Option<DeskId>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_option")]
    pub called_at: Option<DateTime<Utc>>,
    /// Let in past the cap by a guard's override.
    pub overridden: bool,
    /// Asked in while waiting elsewhere and not arrived yet: its room is held until
    /// `come_back_by`.
    pub remote: bool,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_option")]
    pub come_back_by: Option<DateTime<Utc>>,
    /// Checked in for a booking.
    pub booked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointment: Option<String>,
}

/// A call of a ticket to a desk. A recall moves the record to the front of `calls` and counts
/// up `recalls`, so a display announces it again without taking it for a new call (`ticket`,
/// `desk` and `at` stay the same).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallRecord {
    pub ticket: Ticket,
    pub desk: DeskId,
    #[serde(serialize_with = "crate::domain::timestamp::serialize")]
    pub at: DateTime<Utc>,
    /// How many times the desk announced this call again.
    #[serde(default)]
    pub recalls: u32,
    /// When the last recall was made; absent until the first.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::domain::timestamp::serialize_option"
    )]
    pub recalled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CleaningRecord {
    pub surface: String,
    #[serde(serialize_with = "crate::domain::timestamp::serialize")]
    pub at: DateTime<Utc>,
}

/// The full status document (guards, terminals).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StationStatus {
    pub station: StationId,
    pub name: String,
    pub district: DistrictId,
    /// The station's event sequence number this document reflects.
    pub seq: u64,
    /// When the document was built (events or the clock: opening hours change without events).
    #[serde(serialize_with = "crate::domain::timestamp::serialize")]
    pub as_of: DateTime<Utc>,
    pub timezone: String,
    pub open: bool,
    pub sign: Sign,
    pub headcount: u32,
    pub cap: u32,
    pub cap_basis: CapBasis,
    /// People inside that no ticket accounts for, as counted by guards.
    pub corrections: u32,
    /// How many can queue outside at the distancing rule along the marked line, if there is one.
    pub queue_line_places: Option<u32>,
    /// The head of the outside queue, in order: at most [`OUTSIDE_LISTED`] parties.
    pub outside: Vec<OutsideParty>,
    /// Parties outside, all of them (`outside` lists the first [`OUTSIDE_LISTED`]).
    pub outside_total: u32,
    /// People outside, in all the parties.
    pub outside_people: u32,
    /// Parties queued at the door (the rest of `outside_total` wait elsewhere).
    pub outside_at_door: u32,
    /// People queued at the door: what the gathering alert and the queue line count.
    pub people_at_door: u32,
    /// Parties waiting elsewhere, in the queue.
    pub outside_remote: u32,
    /// People the room is held for: booked parties due (their slot within `hold_min`) that have
    /// not arrived. Walk-ins come in only while headcount + held stays under the cap.
    pub held: u32,
    /// Open bookings due today from now on (and those late within their grace), by slot: at most
    /// [`BOOKINGS_LISTED`].
    pub bookings_due: Vec<BookingSoon>,
    /// Inside, per service, in order of arrival: the first [`INSIDE_LISTED`] parties to arrive.
    pub inside: BTreeMap<ServiceId, Vec<InsideParty>>,
    /// Parties inside, all of them.
    pub inside_total: u32,
    /// Tickets admitted from the outside queue that should come in now (at most
    /// [`INSIDE_LISTED`]).
    pub please_enter: Vec<Ticket>,
    /// Tickets asked in while waiting elsewhere, on their way (at most [`INSIDE_LISTED`]); not
    /// in `please_enter`.
    pub coming: Vec<Ticket>,
    /// The last 10 calls, newest first.
    pub calls: Vec<CallRecord>,
    /// The configured surfaces, then others newest first; at most [`CLEANING_LISTED`].
    pub cleaning: Vec<CleaningRecord>,
    /// Open alerts (oldest first; at most [`OPEN_ALERTS_LISTED`]), then the recently cleared
    /// (newest first).
    pub alerts: Vec<Alert>,
    /// Open alerts, all of them.
    pub open_alerts_total: u32,
    pub services: Vec<ServiceStatus>,
}

/// A party waiting outside, as shown in public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublicOutside {
    pub ticket: Ticket,
    /// How many people the ticket is for: a count, nothing personal. The lobby display needs it
    /// to explain WAIT OUTSIDE when there is room, but not for the party at the head.
    pub party_size: PartySize,
    pub position: u32,
    /// See [`OutsideParty::expected_enter_min`].
    pub expected_enter_min: Option<u32>,
    /// See [`OutsideParty::remote`].
    pub remote: bool,
    /// See [`OutsideParty::booked`].
    pub booked: bool,
}

/// A call as shown in public: ticket and desk, and how often it was announced again (a display
/// re-announces a call whose `recalls` went up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublicCall {
    pub ticket: Ticket,
    pub desk: DeskId,
    #[serde(serialize_with = "crate::domain::timestamp::serialize")]
    pub at: DateTime<Utc>,
    pub recalls: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicService {
    pub id: ServiceId,
    pub name: String,
    pub name_en: String,
    pub open: bool,
    pub hours_today: Option<String>,
    pub waiting_inside: u32,
    pub waiting_outside: u32,
    /// See [`ServiceStatus::estimated_wait_min`].
    pub estimated_wait_min: Option<u32>,
    /// See [`ServiceStatus::last_check_in`].
    pub last_check_in: Option<String>,
    pub taking_check_ins: bool,
    /// See [`ServiceStatus::joinable`].
    pub joinable: bool,
    /// See [`ServiceStatus::bookable`].
    pub bookable: bool,
    /// See [`ServiceStatus::walk_ins_left`].
    pub walk_ins_left: Option<u32>,
    pub week: Vec<DayHours>,
}

/// The public status document (lobby displays, the public page): counts, ticket ids and calls.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicStatus {
    pub station: StationId,
    pub name: String,
    pub district: DistrictId,
    pub seq: u64,
    #[serde(serialize_with = "crate::domain::timestamp::serialize")]
    pub as_of: DateTime<Utc>,
    pub timezone: String,
    pub open: bool,
    pub sign: Sign,
    pub headcount: u32,
    pub cap: u32,
    pub distancing_m: f64,
    /// The head of the outside queue in order (at most [`OUTSIDE_LISTED`]): ticket ids and when
    /// each is expected in — nothing personal.
    pub outside: Vec<PublicOutside>,
    /// Parties outside, all of them.
    pub outside_total: u32,
    /// See [`StationStatus::outside_at_door`].
    pub outside_at_door: u32,
    /// See [`StationStatus::outside_remote`].
    pub outside_remote: u32,
    /// See [`StationStatus::held`].
    pub held: u32,
    pub please_enter: Vec<Ticket>,
    /// See [`StationStatus::coming`].
    pub coming: Vec<Ticket>,
    /// The last 10 calls, newest first.
    pub calls: Vec<PublicCall>,
    pub services: Vec<PublicService>,
}

impl PublicStatus {
    /// The public view of a full document, field by field: only what is listed here is copied.
    pub fn from_full(s: &StationStatus) -> Self {
        PublicStatus {
            station: s.station.clone(),
            name: s.name.clone(),
            district: s.district.clone(),
            seq: s.seq,
            as_of: s.as_of,
            timezone: s.timezone.clone(),
            open: s.open,
            sign: s.sign,
            headcount: s.headcount,
            cap: s.cap,
            distancing_m: s.cap_basis.distancing_m,
            outside: s
                .outside
                .iter()
                .map(|p| PublicOutside {
                    ticket: p.ticket,
                    party_size: p.party_size,
                    position: p.position,
                    expected_enter_min: p.expected_enter_min,
                    remote: p.remote,
                    booked: p.booked,
                })
                .collect(),
            outside_total: s.outside_total,
            outside_at_door: s.outside_at_door,
            outside_remote: s.outside_remote,
            held: s.held,
            please_enter: s.please_enter.clone(),
            coming: s.coming.clone(),
            calls: s
                .calls
                .iter()
                .map(|c| PublicCall {
                    ticket: c.ticket,
                    desk: c.desk.clone(),
                    at: c.at,
                    recalls: c.recalls,
                })
                .collect(),
            services: s
                .services
                .iter()
                .map(|v| PublicService {
                    id: v.id.clone(),
                    name: v.name.clone(),
                    name_en: v.name_en.clone(),
                    open: v.open,
                    hours_today: v.hours_today.clone(),
                    waiting_inside: v.waiting_inside,
                    waiting_outside: v.waiting_outside,
                    estimated_wait_min: v.estimated_wait_min,
                    last_check_in: v.last_check_in.clone(),
                    taking_check_ins: v.taking_check_ins,
                    joinable: v.joinable,
                    bookable: v.bookable,
                    walk_ins_left: v.walk_ins_left,
                    week: v.week.clone(),
                })
                .collect(),
        }
    }
}
