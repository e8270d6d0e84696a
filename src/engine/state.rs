//! What a station remembers between events, and the snapshot that stores it.
//!
//! Everything an event can change lives in one serializable [`StationState`]; what is derived
//! from the configuration (the cap, the queue line) is not in it and is worked out again from the
//! config, as at any start. So a snapshot is simply the state with a layout version, and storing
//! or restoring a station cannot forget a field.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::Station;
use super::alerts::Alerts;
use super::bookings::Booking;
use super::ended::EndedTickets;
use super::history::History;
use super::waits::Throughput;
use crate::config::{self, Rules};
use crate::domain::booking::BookingId;
use crate::domain::event::Appointment;
use crate::domain::message::Message;
use crate::domain::status::CallRecord;
use crate::domain::ticket_link::LinkHash;
use crate::domain::{DeskId, PartySize, ServiceId, Ticket};

/// The current snapshot layout. Bump it whenever [`StationState`] changes shape: a snapshot of
/// another version is refused and the station replayed from the start of its log instead.
///
/// 4: a call's recalls. 5: alerts carry a code and params, and surfaces due for cleaning are
/// one alert per station; the over-cap cause is a message. 6: ticket links, parties waiting
/// elsewhere, the day's joins and the links' endings. 7: bookings, booked parties and the day's
/// walk-ins.
pub const SNAPSHOT_VERSION: u32 = 7;

/// A station's state at one `seq`, as stored in the log's snapshots so that start-up replays only
/// the events after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    version: u32,
    state: StationState,
}

impl Snapshot {
    pub fn seq(&self) -> u64 {
        self.state.seq
    }
}

/// Everything about a station that events change, and nothing derived from the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StationState {
    pub(super) seq: u64,
    pub(super) last_at: Option<DateTime<Utc>>,
    /// The local date the ticket numbers belong to.
    pub(super) day: Option<NaiveDate>,
    /// The last ticket number given today, per service.
    pub(super) numbers: BTreeMap<ServiceId, u32>,
    /// Parties inside, in order of arrival.
    pub(super) inside: Vec<Party>,
    /// Parties queued outside, first in first out.
    pub(super) outside: VecDeque<Party>,
    /// Visitors the guards counted in without a ticket.
    pub(super) corrections: u32,
    /// The last [`super::CALLS_KEPT`] calls, newest first.
    pub(super) calls: VecDeque<CallRecord>,
    /// When each surface was last cleaned.
    pub(super) cleaning: BTreeMap<String, DateTime<Utc>>,
    pub(super) history: History,
    pub(super) throughput: Throughput,
    /// The distancing in force: the config's, until a `rule_changed` event changes it.
    pub(super) distancing_m: f64,
    pub(super) alerts: Alerts,
    /// Use since the last cleaning of each surface the config tracks.
    pub(super) surfaces: BTreeMap<String, SurfaceUse>,
    /// What pushed the headcount over the cap, while it is over.
    pub(super) over_cap_cause: Option<Message>,
    /// Parties that joined before arriving today, per service (the join quota's count).
    pub(super) joins: BTreeMap<ServiceId, u32>,
    /// How today's linked tickets that left ended, so their pages can say so until the day
    /// rolls over (then the links expire).
    pub(super) ended: EndedTickets,
    /// Bookings from today to the horizon, and today's that ended, by id.
    pub(super) bookings: BTreeMap<BookingId, Booking>,
    /// Walk-in tickets (check-ins and joins) given today, per service (the walk-in quota's count).
    pub(super) walk_ins: BTreeMap<ServiceId, u32>,
}

/// How a linked ticket left, for its page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Ended {
    pub(super) ticket: Ticket,
    pub(super) service: ServiceId,
    pub(super) how: Ending,
    pub(super) at: DateTime<Utc>,
}

/// The ways a ticket leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Checked out at a desk.
    Served,
    /// Dropped by a desk as a no-show.
    NoShow,
    /// Left the queue from its page.
    Left,
    /// Waited elsewhere, was asked in and did not arrive in time.
    ComeBackMissed,
    /// Still there when the day was closed out.
    ClosedOut,
}

/// One ticket and the people on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Party {
    pub(super) ticket: Ticket,
    pub(super) service: ServiceId,
    pub(super) size: PartySize,
    pub(super) appointment: Option<Appointment>,
    pub(super) checked_in_at: DateTime<Utc>,
    pub(super) entered_at: Option<DateTime<Utc>>,
    /// Admitted from the outside queue and not yet called: on the "please enter" list.
    pub(super) asked_in: bool,
    pub(super) desk: Option<DeskId>,
    pub(super) called_at: Option<DateTime<Utc>>,
    /// Let in past the cap by a guard's override.
    pub(super) overridden: bool,
    /// The hash of the party's ticket link, if it has one.
    pub(super) link: Option<LinkHash>,
    /// Waiting elsewhere (joined before arriving, or said "I'm not at the door"): kept in its
    /// place but not counted among the people at the door.
    pub(super) remote: bool,
    /// Joined from the public page before arriving.
    pub(super) joined: bool,
    /// Has had its one "I need more time".
    pub(super) more_time_used: bool,
    /// Its page has been told to start walking (its webhook sent).
    pub(super) told_to_walk: bool,
    /// Asked in while waiting elsewhere: dropped if it has not arrived by then.
    pub(super) come_back_by: Option<DateTime<Utc>>,
    /// The booking it arrived for, if booked.
    pub(super) booking: Option<BookingId>,
    /// Arrived in its booking's window: queued ahead of the walk-ins.
    pub(super) ahead: bool,
}

/// How much a tracked surface has been used since it was last cleaned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SurfaceUse {
    /// The first check-in after the last cleaning; `None` while clean.
    pub(super) dirty_since: Option<DateTime<Utc>>,
    /// People checked in since the last cleaning.
    pub(super) visitors: u32,
}

impl StationState {
    /// A station before its first event, under `distancing_m`.
    pub(super) fn empty(config: &config::Station, distancing_m: f64) -> Self {
        StationState {
            seq: 0,
            last_at: None,
            day: None,
            numbers: BTreeMap::new(),
            inside: Vec::new(),
            outside: VecDeque::new(),
            corrections: 0,
            calls: VecDeque::new(),
            cleaning: BTreeMap::new(),
            history: History::default(),
            throughput: Throughput::default(),
            distancing_m,
            alerts: Alerts::default(),
            surfaces: tracked_surfaces(config, BTreeMap::new()),
            over_cap_cause: None,
            joins: BTreeMap::new(),
            ended: EndedTickets::default(),
            bookings: BTreeMap::new(),
            walk_ins: BTreeMap::new(),
        }
    }

    /// Whether every service this state names is still in `config`.
    fn services_known(&self, config: &config::Station) -> bool {
        let known = |s: &ServiceId| config.services.iter().any(|x| &x.id == s);
        self.numbers.keys().all(known)
            && self.bookings.values().all(|b| known(&b.service))
            && self
                .inside
                .iter()
                .chain(&self.outside)
                .all(|p| known(&p.service))
    }
}

/// The surfaces `config` names, each with its use so far from `used` (clean if it has none).
/// Surfaces the config no longer names are dropped.
pub(super) fn tracked_surfaces(
    config: &config::Station,
    mut used: BTreeMap<String, SurfaceUse>,
) -> BTreeMap<String, SurfaceUse> {
    config
        .operations
        .surfaces
        .iter()
        .map(|s| (s.clone(), used.remove(s).unwrap_or_default()))
        .collect()
}

impl Station {
    /// The state to store as a snapshot.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: SNAPSHOT_VERSION,
            state: self.state.clone(),
        }
    }

    /// A station restored from a snapshot, or `None` when the snapshot cannot be used with this
    /// configuration (other layout version, or services the config no longer has) — the caller
    /// then replays the whole log.
    pub fn restore(
        config: Arc<config::Station>,
        rules: &Rules,
        snapshot: Snapshot,
    ) -> Option<Self> {
        if snapshot.version != SNAPSHOT_VERSION {
            return None;
        }
        let mut state = snapshot.state;
        if !state.services_known(&config)
            || crate::capacity::validate_distancing(state.distancing_m).is_err()
        {
            return None;
        }
        state.surfaces = tracked_surfaces(&config, std::mem::take(&mut state.surfaces));
        Some(Station::with_state(config, rules, state))
    }
}
