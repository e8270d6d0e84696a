//! What a visitor's own page shows about their ticket (`/t/{code}`): its state in plain terms,
//! where it stands, and the station's sign and hours — that one ticket, nothing about any other
//! visitor, and never the appointment reference.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::status::{DayHours, Sign};
use super::{DeskId, PartySize, ServiceId, StationId, Ticket};

/// Where a ticket is in its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// In the queue (at the door or elsewhere).
    Waiting,
    /// Asked in: come into the waiting room now.
    ComeIn,
    /// Inside, waiting to be called.
    Inside,
    /// Called to a desk (`desk`).
    Called,
    /// Served and checked out.
    Served,
    /// Dropped by a desk as a no-show.
    NoShow,
    /// Left the queue from this page.
    Left,
    /// Asked in from elsewhere and did not arrive in time.
    ComeBackMissed,
    /// Still waiting when the office closed for the day.
    Closed,
}

/// One ticket as its own page sees it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TicketView {
    pub ticket: Ticket,
    pub party_size: PartySize,
    pub service: ServiceId,
    pub service_name: String,
    pub service_name_en: String,
    pub station: StationId,
    pub station_name: String,
    pub address: Option<String>,
    pub timezone: String,
    pub state: TicketState,
    /// Waiting elsewhere: keeps its place, not counted at the door.
    pub remote: bool,
    /// Waiting elsewhere and within the station's `notify_ahead` places of the room (or asked
    /// in): time to come.
    pub start_walking: bool,
    /// Place in the queue, 1 = next; `null` once out of the queue.
    pub position: Option<u32>,
    /// Parties ahead in the queue.
    pub ahead: Option<u32>,
    /// Minutes until it is expected in, from how fast the desks serve; `null` when nothing has
    /// been measured yet (or once out of the queue).
    pub expected_enter_min: Option<u32>,
    /// Asked in from elsewhere: the room is held until then.
    #[serde(serialize_with = "super::timestamp::serialize_option")]
    pub come_back_by: Option<DateTime<Utc>>,
    /// The desk it is called to.
    pub desk: Option<DeskId>,
    /// "I need more time" is still possible (once, while waiting elsewhere).
    pub more_time_available: bool,
    /// "Leave the queue" is possible (until called).
    pub can_leave: bool,
    /// "I'm not at the door" is possible (while queued at the door).
    pub can_wait_elsewhere: bool,
    /// Arrival may be confirmed from the page with the code posted at the entrance.
    pub entrance_code_required: bool,
    /// When the ticket left (served, no-show, left, dropped, closed out).
    #[serde(serialize_with = "super::timestamp::serialize_option")]
    pub ended_at: Option<DateTime<Utc>>,
    /// The station's sign at the door now.
    pub sign: Sign,
    /// Whether the service is open now.
    pub open: bool,
    pub hours_today: Option<String>,
    pub week: Vec<DayHours>,
    pub seq: u64,
    #[serde(serialize_with = "super::timestamp::serialize")]
    pub as_of: DateTime<Utc>,
}
