//! The per-station state machine: the only code that changes occupancy.
//!
//! [`Station::apply`] takes one event and the instant the service accepted it, and either changes
//! the station and returns an [`Outcome`], or changes nothing and returns a [`Refusal`]. It is
//! pure — no I/O, no clock, no async — so the same function serves live requests, replay of the
//! log at start-up and the property tests, and "replaying the log gives the same state" holds by
//! construction.
//!
//! The rules (see the README): a party goes inside only if it fits under the cap and nobody is
//! queued before it; otherwise it queues outside, first in first out. Whenever room frees up the
//! head of the queue is admitted and listed in `please_enter`. A desk's `call` takes the
//! longest-waiting uncalled ticket inside. Headcount = parties inside + guard corrections, never
//! negative, and never above the cap through check-ins.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};

pub mod alerts;
pub mod history;
pub mod waits;

use crate::capacity::Capacity;
use crate::config::{self, Rules};
use crate::domain::event::Appointment;
use crate::domain::status::{
    CallRecord, CapBasis, CleaningRecord, InsideParty, OutsideParty, PublicStatus, ServiceStatus,
    Sign, StationStatus,
};
use crate::domain::{DeskId, Event, PartySize, ServiceId, Ticket};
use crate::hours::Basis;
use alerts::{AckRefusal, Alerts, Condition};
use history::{History, Sample};
use waits::{Throughput, wait_minutes};

/// How many recent calls a station remembers (the displays show the last few).
pub const CALLS_KEPT: usize = 10;

/// Whether an event is new (decide by every rule) or replayed from the log (it was accepted
/// once; rules that depend on configuration that may have changed since — opening hours — are
/// not re-judged, so the log stays the truth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Replay,
}

/// One ticket and the people on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Party {
    ticket: Ticket,
    service: ServiceId,
    size: PartySize,
    appointment: Option<Appointment>,
    checked_in_at: DateTime<Utc>,
    entered_at: Option<DateTime<Utc>>,
    /// Admitted from the outside queue and not yet called: on the "please enter" list.
    asked_in: bool,
    desk: Option<DeskId>,
    called_at: Option<DateTime<Utc>>,
    /// Let in past the cap by a guard's override.
    #[serde(default)]
    overridden: bool,
}

/// Where a checked-in party ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    Inside,
    Outside,
}

/// What an accepted event did; the body of the 201 answer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Outcome {
    pub seq: u64,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Ticket>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Place>,
    /// Position in the outside queue (1 = next), for a check-in that waits outside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desk: Option<DeskId>,
    /// Tickets this event admitted from the outside queue.
    pub admitted: Vec<Ticket>,
    /// Tickets dropped because the day changed before they were served.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub closed_out: Vec<Ticket>,
    pub headcount: u32,
    pub cap: u32,
    pub outside: u32,
}

/// Why an event was not applied. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("this station has no service '{0}'")]
    UnknownService(ServiceId),
    #[error("{0}")]
    ServiceClosed(String),
    #[error("ticket {0} is not issued today at this station or has already left")]
    UnknownTicket(Ticket),
    #[error("ticket {0} is waiting outside, not inside; to drop it from the queue send no_show")]
    TicketOutside(Ticket),
    #[error("{0}")]
    NothingToCall(String),
    #[error("{0}")]
    PartyTooLarge(String),
    #[error("{0}")]
    CorrectionBelowZero(String),
    #[error("{0}")]
    NothingToOverride(String),
    #[error("{0}")]
    Alert(String),
}

/// A station's state at one `seq`, as stored in the log's snapshots so that start-up replays only
/// the events after it. The configuration and the cap are not in it: they are re-derived from the
/// config, as at any start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Bumped whenever the layout changes; a snapshot of another version is ignored and the log
    /// replayed from the start instead.
    version: u32,
    seq: u64,
    last_at: Option<DateTime<Utc>>,
    day: Option<NaiveDate>,
    numbers: BTreeMap<ServiceId, u32>,
    inside: Vec<Party>,
    outside: VecDeque<Party>,
    corrections: u32,
    calls: VecDeque<CallRecord>,
    cleaning: BTreeMap<String, DateTime<Utc>>,
    #[serde(default)]
    history: History,
    #[serde(default)]
    throughput: Throughput,
    distancing_m: f64,
    alerts: Alerts,
    surfaces: BTreeMap<String, SurfaceUse>,
    over_cap_cause: Option<String>,
}

/// The current snapshot layout.
pub const SNAPSHOT_VERSION: u32 = 2;

/// How much a tracked surface has been used since it was last cleaned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct SurfaceUse {
    /// The first check-in after the last cleaning; `None` while clean.
    dirty_since: Option<DateTime<Utc>>,
    /// People checked in since the last cleaning.
    visitors: u32,
}

impl Snapshot {
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// A station's live state plus the configuration it is judged by.
#[derive(Debug, Clone)]
pub struct Station {
    config: Arc<config::Station>,
    capacity: Capacity,
    queue_line_places: Option<u32>,
    seq: u64,
    last_at: Option<DateTime<Utc>>,
    /// The local date the ticket numbers belong to.
    day: Option<NaiveDate>,
    numbers: BTreeMap<ServiceId, u32>,
    inside: Vec<Party>,
    outside: VecDeque<Party>,
    corrections: u32,
    calls: VecDeque<CallRecord>,
    cleaning: BTreeMap<String, DateTime<Utc>>,
    history: History,
    throughput: Throughput,
    /// The rule in force here: the config's, until a `rule_changed` event changes it.
    rules: Rules,
    alerts: Alerts,
    surfaces: BTreeMap<String, SurfaceUse>,
    /// What pushed the headcount over the cap, while it is over.
    over_cap_cause: Option<String>,
}

impl Station {
    /// An empty station under the given rule.
    pub fn new(config: Arc<config::Station>, rules: &Rules) -> Self {
        let capacity = config.capacity(rules);
        let queue_line_places = config
            .queue_line_m
            .map(|l| crate::capacity::queue_line_places(l, rules.distancing_m));
        Station {
            capacity,
            queue_line_places,
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
            rules: *rules,
            alerts: Alerts::default(),
            surfaces: config
                .operations
                .surfaces
                .iter()
                .map(|s| (s.clone(), SurfaceUse::default()))
                .collect(),
            over_cap_cause: None,
            config,
        }
    }

    /// The state to store as a snapshot.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: SNAPSHOT_VERSION,
            seq: self.seq,
            last_at: self.last_at,
            day: self.day,
            numbers: self.numbers.clone(),
            inside: self.inside.clone(),
            outside: self.outside.clone(),
            corrections: self.corrections,
            calls: self.calls.clone(),
            cleaning: self.cleaning.clone(),
            history: self.history.clone(),
            throughput: self.throughput.clone(),
            distancing_m: self.rules.distancing_m,
            alerts: self.alerts.clone(),
            surfaces: self.surfaces.clone(),
            over_cap_cause: self.over_cap_cause.clone(),
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
        let known = |s: &ServiceId| config.services.iter().any(|x| &x.id == s);
        let all_known = snapshot.numbers.keys().all(known)
            && snapshot
                .inside
                .iter()
                .chain(&snapshot.outside)
                .all(|p| known(&p.service));
        if !all_known {
            return None;
        }
        let in_force = Rules {
            distancing_m: snapshot.distancing_m,
            ..*rules
        };
        if crate::capacity::validate_distancing(in_force.distancing_m).is_err() {
            return None;
        }
        let mut station = Station::new(config, &in_force);
        station.seq = snapshot.seq;
        station.last_at = snapshot.last_at;
        station.day = snapshot.day;
        station.numbers = snapshot.numbers;
        station.inside = snapshot.inside;
        station.outside = snapshot.outside;
        station.corrections = snapshot.corrections;
        station.calls = snapshot.calls;
        station.cleaning = snapshot.cleaning;
        station.history = snapshot.history;
        station.throughput = snapshot.throughput;
        station.alerts = snapshot.alerts;
        // Surfaces named in the config now are tracked; their use so far is kept.
        for (surface, used) in snapshot.surfaces {
            if let Some(slot) = station.surfaces.get_mut(&surface) {
                *slot = used;
            }
        }
        station.over_cap_cause = snapshot.over_cap_cause;
        Some(station)
    }

    pub fn config(&self) -> &config::Station {
        &self.config
    }
    pub fn seq(&self) -> u64 {
        self.seq
    }
    pub fn cap(&self) -> u32 {
        self.capacity.cap
    }
    pub fn capacity(&self) -> &Capacity {
        &self.capacity
    }
    /// Visitors inside: every party inside plus the guards' corrections.
    pub fn headcount(&self) -> u32 {
        self.inside.iter().map(|p| p.size.get()).sum::<u32>() + self.corrections
    }
    pub fn corrections(&self) -> u32 {
        self.corrections
    }
    /// Tickets outside, in queue order.
    pub fn outside_tickets(&self) -> Vec<Ticket> {
        self.outside.iter().map(|p| p.ticket).collect()
    }
    /// Tickets inside, in order of arrival.
    pub fn inside_tickets(&self) -> Vec<Ticket> {
        self.inside.iter().map(|p| p.ticket).collect()
    }
    /// Parties outside as (ticket, size), in queue order.
    pub fn outside_parties(&self) -> Vec<(Ticket, u32)> {
        self.outside
            .iter()
            .map(|p| (p.ticket, p.size.get()))
            .collect()
    }
    /// Parties inside as (ticket, size, desk), in order of arrival.
    pub fn inside_parties(&self) -> Vec<(Ticket, u32, Option<DeskId>)> {
        self.inside
            .iter()
            .map(|p| (p.ticket, p.size.get(), p.desk.clone()))
            .collect()
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.config.timezone).date_naive()
    }

    /// Applies one event accepted at `at`. On `Ok` the station moved to its next `seq`; on `Err`
    /// nothing changed.
    pub fn apply(
        &mut self,
        event: &Event,
        at: DateTime<Utc>,
        mode: Mode,
    ) -> Result<Outcome, Refusal> {
        // Every check in `apply_same_day` happens before its first mutation. The day rollover is
        // the one change made before those checks, so it is done on a clone that is kept only
        // if the event is accepted: a refused event changes nothing.
        let today = self.local_date(at);
        if self.day.is_some_and(|d| d < today) {
            let mut next = self.clone();
            let closed_out = next.roll_over(today);
            let mut outcome = next.apply_same_day(event, at, mode)?;
            outcome.closed_out.splice(0..0, closed_out);
            *self = next;
            self.after(event, at);
            return Ok(outcome);
        }
        let outcome = self.apply_same_day(event, at, mode)?;
        // The first accepted event starts the station's first day.
        self.day.get_or_insert(today);
        self.after(event, at);
        Ok(outcome)
    }

    /// What follows every accepted event: the alerts are reviewed and the history recorded.
    fn after(&mut self, event: &Event, at: DateTime<Utc>) {
        if self.headcount() > self.capacity.cap {
            if self.over_cap_cause.is_none() {
                self.over_cap_cause = Some(match event {
                    Event::Correction { reason, .. } => format!("a guard's correction ({reason})"),
                    Event::Override { reason, .. } => format!("a guard's override ({reason})"),
                    Event::RuleChanged {
                        distancing_m,
                        scope,
                    } => format!(
                        "the rule change to {} m ({scope}), which lowered the cap to {}",
                        distancing_m.metres(),
                        self.capacity.cap
                    ),
                    _ => "an unrecorded cause".to_owned(),
                });
            }
        } else {
            self.over_cap_cause = None;
        }
        let holding = self.conditions(at);
        self.alerts.reconcile(holding, self.seq, at);
        self.record_history(at);
    }

    /// The alert conditions that hold at `at`, each with what a guard should read.
    fn conditions(&self, at: DateTime<Utc>) -> Vec<(Condition, String)> {
        let ops = &self.config.operations;
        let tz = self.config.timezone;
        let clock = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
        let mut holding = Vec::new();
        let (headcount, cap) = (self.headcount(), self.capacity.cap);
        if headcount > cap {
            let cause = self
                .over_cap_cause
                .as_deref()
                .unwrap_or("an unrecorded cause");
            holding.push((
                Condition::OverCap,
                format!("{headcount} inside, cap {cap}, after {cause}; admissions stop until the headcount is under the cap"),
            ));
        } else if headcount == cap && cap > 0 {
            holding.push((
                Condition::AtCap,
                format!("{headcount} / {cap}: new arrivals wait outside"),
            ));
        }
        let outside_people: u32 = self.outside.iter().map(|p| p.size.get()).sum();
        let gathering = ops
            .gathering_people
            .or(self.queue_line_places)
            .unwrap_or(10)
            .max(1);
        if outside_people >= gathering {
            holding.push((
                Condition::Gathering,
                format!("{outside_people} people queued outside (alert at {gathering}); keep 2 m along the queue"),
            ));
        }
        for (surface, used) in &self.surfaces {
            let Some(since) = used.dirty_since else {
                continue;
            };
            let minutes = (at - since).num_minutes();
            if used.visitors >= ops.cleaning_every_visitors
                || minutes >= i64::from(ops.cleaning_every_min)
            {
                holding.push((
                    Condition::CleaningDue {
                        surface: surface.clone(),
                    },
                    format!(
                        "{surface}: in use since {} by {} visitors (clean every {} min or {} visitors)",
                        clock(since),
                        used.visitors,
                        ops.cleaning_every_min,
                        ops.cleaning_every_visitors
                    ),
                ));
            }
        }
        for p in &self.inside {
            let entered = p.entered_at.unwrap_or(p.checked_in_at);
            if (at - entered).num_minutes() >= i64::from(ops.long_inside_min) {
                holding.push((
                    Condition::LongInside { ticket: p.ticket },
                    format!(
                        "{} inside since {}: check it out if the party has left",
                        p.ticket,
                        clock(entered)
                    ),
                ));
            }
        }
        for s in &self.config.services {
            let Some(pace) = self.throughput.pace(&s.id, at) else {
                continue;
            };
            let (inside, outside) = self.waiting_for(&s.id);
            let waiting = inside + outside;
            let minutes = wait_minutes(waiting, pace);
            if minutes > ops.long_wait_min {
                holding.push((
                    Condition::LongWait {
                        service: s.id.clone(),
                    },
                    format!(
                        "{}: about {minutes} min for {waiting} waiting at {} desk(s) (alert above {} min)",
                        s.name_en, pace.desks, ops.long_wait_min
                    ),
                ));
            }
        }
        holding
    }

    /// Parties waiting for `service`: inside and not yet called, and outside.
    fn waiting_for(&self, service: &ServiceId) -> (u32, u32) {
        let inside = self
            .inside
            .iter()
            .filter(|p| p.service == *service && p.desk.is_none())
            .count() as u32;
        let outside = self
            .outside
            .iter()
            .filter(|p| p.service == *service)
            .count() as u32;
        (inside, outside)
    }

    /// The event the service should log now, by the clock alone: the day's close-out once the
    /// station has closed, or a `clock` event when an alert became due or went away. `None` when
    /// time changed nothing.
    pub fn due(&self, now: DateTime<Utc>) -> Option<Event> {
        if let Some(reason) = self.close_out_due(now) {
            return Some(Event::CloseOut {
                reason: crate::domain::event::Reason::parse(&reason).ok()?,
            });
        }
        self.alerts
            .would_change(&self.conditions(now))
            .then_some(Event::Clock)
    }

    /// Why the day's remaining tickets should be closed out at `now`, if they should: every
    /// service has closed for the day and the grace period has passed.
    fn close_out_due(&self, now: DateTime<Utc>) -> Option<String> {
        if self.inside.is_empty() && self.outside.is_empty() && self.corrections == 0 {
            return None;
        }
        let local = now.with_timezone(&self.config.timezone).naive_local();
        let minute = (local.hour() * 60 + local.minute()) as u16;
        let mut closing: Option<u16> = None;
        for s in &self.config.services {
            if s.hours.is_open(local) {
                return None;
            }
            if s.hours
                .next_opening(local)
                .is_some_and(|t| t.date() == local.date())
            {
                return None; // a break, not the end of the day
            }
            let ended = s
                .hours
                .on(local.date())
                .0
                .iter()
                .map(|r| r.end)
                .filter(|end| *end <= minute)
                .max();
            closing = closing.max(ended);
        }
        let grace = self.config.operations.close_out_grace_min;
        let closed_at = closing.unwrap_or(0);
        (u32::from(minute) >= u32::from(closed_at) + grace).then(|| {
            if closing.is_some() {
                format!(
                    "closed at {:02}:{:02}; the day's remaining tickets are closed out {grace} min after closing",
                    closed_at / 60,
                    closed_at % 60
                )
            } else {
                "closed all day today; the remaining tickets are closed out".to_owned()
            }
        })
    }

    fn record_history(&mut self, at: DateTime<Utc>) {
        self.history.record(Sample {
            at,
            headcount: self.headcount(),
            cap: self.capacity.cap,
            outside: self.outside.len() as u32,
        });
    }

    /// Desks that called a ticket of `service` recently enough to count as serving it at `now`.
    pub fn active_desks(&self, service: &ServiceId, now: DateTime<Utc>) -> u32 {
        self.throughput.active_desks(service, now)
    }

    /// Headcount, cap and outside queue over the two hours before `now`.
    pub fn history(&self, now: DateTime<Utc>) -> Vec<Sample> {
        self.history.window(now)
    }

    /// A new local day: ticket numbers restart, and yesterday's remaining tickets and counts are
    /// closed out (the office has closed in between).
    fn roll_over(&mut self, today: NaiveDate) -> Vec<Ticket> {
        let mut closed: Vec<Ticket> = self.inside.drain(..).map(|p| p.ticket).collect();
        closed.extend(self.outside.drain(..).map(|p| p.ticket));
        self.corrections = 0;
        self.numbers.clear();
        self.day = Some(today);
        closed
    }

    fn apply_same_day(
        &mut self,
        event: &Event,
        at: DateTime<Utc>,
        mode: Mode,
    ) -> Result<Outcome, Refusal> {
        let mut outcome = Outcome {
            seq: self.seq + 1,
            kind: event.kind(),
            ticket: None,
            state: None,
            position: None,
            desk: None,
            admitted: Vec::new(),
            closed_out: Vec::new(),
            headcount: 0,
            cap: 0,
            outside: 0,
        };
        match event {
            Event::CheckIn {
                service,
                party_size,
                appointment,
            } => {
                let spec = self
                    .config
                    .services
                    .iter()
                    .find(|s| &s.id == service)
                    .ok_or_else(|| Refusal::UnknownService(service.clone()))?;
                if mode == Mode::Live {
                    let local = at.with_timezone(&self.config.timezone).naive_local();
                    if !spec.hours.is_open(local) {
                        let next = spec.hours.next_opening(local).map_or_else(
                            || "it has no opening hours in the coming month".to_owned(),
                            |t| {
                                if t.date() == local.date() {
                                    format!("it opens again at {}", t.format("%H:%M"))
                                } else {
                                    format!(
                                        "it opens {} at {}",
                                        weekday_en(t.weekday()),
                                        t.format("%H:%M")
                                    )
                                }
                            },
                        );
                        let why = match spec.hours.on(local.date()).1 {
                            Basis::Weekly => String::new(),
                            Basis::Holiday { name, name_en } => {
                                format!(", {name_en} ({name})")
                            }
                            Basis::Exception { reason } => format!(", {reason}"),
                        };
                        return Err(Refusal::ServiceClosed(format!(
                            "{} at {} is closed now ({} {}{why}); {next}",
                            spec.name_en,
                            self.config.name,
                            local.format("%a %H:%M"),
                            self.config.timezone
                        )));
                    }
                    let last = self.config.operations.last_admission_min;
                    if let Some(range) = spec.hours.open_range(local) {
                        let minute = (local.hour() * 60 + local.minute()) as u16;
                        // A range ending at 24:00 runs on into the next day: not a closing.
                        if range.end < 24 * 60 && u32::from(minute) + last >= u32::from(range.end) {
                            let last_in = range.end.saturating_sub(last as u16);
                            return Err(Refusal::ServiceClosed(format!(
                                "{} at {} takes its last check-in {last} minutes before closing ({:02}:{:02}, closing {:02}:{:02})",
                                spec.name_en,
                                self.config.name,
                                last_in / 60,
                                last_in % 60,
                                range.end / 60,
                                range.end % 60
                            )));
                        }
                    }
                }
                if party_size.get() > self.capacity.cap {
                    return Err(Refusal::PartyTooLarge(format!(
                        "a party of {} is larger than this room's cap of {} at {} m distancing; serve the party outside the waiting room or split it over several tickets",
                        party_size.get(),
                        self.capacity.cap,
                        self.capacity.distancing_m
                    )));
                }
                let number = self.numbers.entry(service.clone()).or_insert(0);
                *number += 1;
                let ticket = Ticket::new(spec.prefix, *number);
                let mut party = Party {
                    ticket,
                    service: service.clone(),
                    size: *party_size,
                    appointment: appointment.clone(),
                    checked_in_at: at,
                    entered_at: None,
                    asked_in: false,
                    desk: None,
                    called_at: None,
                    overridden: false,
                };
                for used in self.surfaces.values_mut() {
                    used.dirty_since.get_or_insert(at);
                    used.visitors += party_size.get();
                }
                outcome.ticket = Some(ticket);
                if self.outside.is_empty()
                    && self.headcount() + party_size.get() <= self.capacity.cap
                {
                    party.entered_at = Some(at);
                    self.inside.push(party);
                    outcome.state = Some(Place::Inside);
                } else {
                    self.outside.push_back(party);
                    outcome.state = Some(Place::Outside);
                    outcome.position = Some(self.outside.len() as u32);
                }
            }
            Event::CheckOut { ticket } => {
                let i = self.find_inside(*ticket)?;
                let party = self.inside.remove(i);
                if let Some(called_at) = party.called_at {
                    self.throughput.served(&party.service, called_at, at);
                }
                outcome.ticket = Some(*ticket);
            }
            Event::NoShow { ticket } => {
                if let Some(i) = self.inside.iter().position(|p| p.ticket == *ticket) {
                    self.inside.remove(i);
                } else if let Some(i) = self.outside.iter().position(|p| p.ticket == *ticket) {
                    self.outside.remove(i);
                } else {
                    return Err(Refusal::UnknownTicket(*ticket));
                }
                outcome.ticket = Some(*ticket);
            }
            Event::Call { desk, service } => {
                if let Some(s) = service {
                    if !self.config.services.iter().any(|x| &x.id == s) {
                        return Err(Refusal::UnknownService(s.clone()));
                    }
                }
                let next = self
                    .inside
                    .iter_mut()
                    .find(|p| p.desk.is_none() && service.as_ref().is_none_or(|s| &p.service == s))
                    .ok_or_else(|| {
                        Refusal::NothingToCall(match service {
                            Some(s) => format!("no ticket for '{s}' is waiting inside"),
                            None => "no ticket is waiting inside".to_owned(),
                        })
                    })?;
                next.desk = Some(desk.clone());
                next.called_at = Some(at);
                next.asked_in = false;
                let record = CallRecord {
                    ticket: next.ticket,
                    desk: desk.clone(),
                    at,
                };
                outcome.ticket = Some(next.ticket);
                outcome.desk = Some(desk.clone());
                let called_service = next.service.clone();
                self.throughput.called(&called_service, desk, at);
                self.calls.push_front(record);
                self.calls.truncate(CALLS_KEPT);
            }
            Event::Correction { delta, .. } => {
                let next = i64::from(self.corrections) + i64::from(delta.get());
                if next < 0 {
                    return Err(Refusal::CorrectionBelowZero(format!(
                        "only {} uncounted people are recorded inside, so {} cannot be removed; check out the ticket of a party that left instead",
                        self.corrections,
                        -delta.get()
                    )));
                }
                self.corrections = next as u32;
            }
            Event::Cleaned { surface } => {
                self.cleaning.insert(surface.as_str().to_owned(), at);
                if let Some(used) = self.surfaces.get_mut(surface.as_str()) {
                    *used = SurfaceUse::default();
                }
            }
            Event::Override { ticket, reason: _ } => {
                let i = match ticket {
                    Some(t) => self
                        .outside
                        .iter()
                        .position(|p| p.ticket == *t)
                        .ok_or_else(|| {
                            Refusal::NothingToOverride(
                                if self.inside.iter().any(|p| p.ticket == *t) {
                                    format!("{t} is already inside")
                                } else {
                                    format!("{t} is not waiting outside")
                                },
                            )
                        })?,
                    None if self.outside.is_empty() => {
                        return Err(Refusal::NothingToOverride(
                            "nobody is waiting outside".to_owned(),
                        ));
                    }
                    None => 0,
                };
                let mut party = self.outside.remove(i).expect("index found above");
                party.entered_at = Some(at);
                party.asked_in = true;
                party.overridden = true;
                outcome.ticket = Some(party.ticket);
                outcome.state = Some(Place::Inside);
                self.inside.push(party);
            }
            Event::Acknowledge { alert, by } => {
                self.alerts.check_acknowledge(*alert).map_err(|r| {
                    Refusal::Alert(match r {
                        AckRefusal::Unknown(id) => {
                            format!("there is no alert {id} at this station")
                        }
                        AckRefusal::Cleared(id) => format!("alert {id} has already cleared"),
                        AckRefusal::AlreadyAcknowledged { id, by } => {
                            format!("alert {id} was already acknowledged by {by}")
                        }
                    })
                })?;
                self.alerts.acknowledge(*alert, by, at);
            }
            Event::RuleChanged { distancing_m, .. } => {
                self.rules.distancing_m = distancing_m.metres();
                self.capacity = self.config.capacity(&self.rules);
                self.queue_line_places = self
                    .config
                    .queue_line_m
                    .map(|l| crate::capacity::queue_line_places(l, self.rules.distancing_m));
            }
            Event::CloseOut { .. } => {
                outcome.closed_out = self
                    .inside
                    .drain(..)
                    .chain(self.outside.drain(..))
                    .map(|p| p.ticket)
                    .collect();
                self.corrections = 0;
            }
            Event::Clock => {}
        }
        outcome.admitted = self.admit_from_queue(at);
        self.seq += 1;
        self.last_at = Some(at);
        outcome.headcount = self.headcount();
        outcome.cap = self.capacity.cap;
        outcome.outside = self.outside.len() as u32;
        Ok(outcome)
    }

    fn find_inside(&self, ticket: Ticket) -> Result<usize, Refusal> {
        if let Some(i) = self.inside.iter().position(|p| p.ticket == ticket) {
            Ok(i)
        } else if self.outside.iter().any(|p| p.ticket == ticket) {
            Err(Refusal::TicketOutside(ticket))
        } else {
            Err(Refusal::UnknownTicket(ticket))
        }
    }

    /// Admits parties from the head of the outside queue while the head fits. Never overtakes:
    /// a large party at the head waits even if a smaller one behind it would fit.
    fn admit_from_queue(&mut self, at: DateTime<Utc>) -> Vec<Ticket> {
        let mut admitted = Vec::new();
        let mut headcount = self.headcount();
        while let Some(head) = self.outside.front() {
            if headcount + head.size.get() > self.capacity.cap {
                break;
            }
            let Some(mut party) = self.outside.pop_front() else {
                break;
            };
            headcount += party.size.get();
            party.entered_at = Some(at);
            party.asked_in = true;
            admitted.push(party.ticket);
            self.inside.push(party);
        }
        admitted
    }

    /// The sign at the door at `now`.
    fn sign(&self, open: bool) -> Sign {
        if !open {
            Sign::Closed
        } else if self.outside.is_empty() && self.headcount() < self.capacity.cap {
            Sign::Enter
        } else {
            Sign::WaitOutside
        }
    }

    /// The full status document at `now` (opening hours are judged at `now`).
    pub fn status(&self, now: DateTime<Utc>) -> StationStatus {
        let cfg = &self.config;
        let local = now.with_timezone(&cfg.timezone).naive_local();
        // Each service's measured pace, once: for its own wait and for the queue outside.
        let paces: Vec<Option<waits::Pace>> = cfg
            .services
            .iter()
            .map(|s| self.throughput.pace(&s.id, now))
            .collect();
        let services: Vec<ServiceStatus> = cfg
            .services
            .iter()
            .zip(&paces)
            .map(|(s, pace)| {
                let (waiting_inside, waiting_outside) = self.waiting_for(&s.id);
                ServiceStatus {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    name_en: s.name_en.clone(),
                    prefix: s.prefix,
                    open: s.hours.is_open(local),
                    hours_today: s.hours.describe(local.date()),
                    waiting_inside,
                    waiting_outside,
                    estimated_wait_min: pace
                        .map(|pace| wait_minutes(waiting_inside + waiting_outside, pace)),
                    desks_active: self.throughput.active_desks(&s.id, now),
                    week: s.hours.week(),
                }
            })
            .collect();
        // Room frees up as fast as all desks together serve; the outside queue moves at that pace.
        let measured: Vec<waits::Pace> = paces.into_iter().flatten().collect();
        let departures_per_s: Option<f64> =
            (!measured.is_empty()).then(|| measured.iter().map(waits::Pace::rate).sum());
        let open = services.iter().any(|s| s.open);
        let mut inside: BTreeMap<ServiceId, Vec<InsideParty>> = cfg
            .services
            .iter()
            .map(|s| (s.id.clone(), Vec::new()))
            .collect();
        for p in &self.inside {
            inside
                .entry(p.service.clone())
                .or_default()
                .push(InsideParty {
                    ticket: p.ticket,
                    party_size: p.size,
                    checked_in_at: p.checked_in_at,
                    entered_at: p.entered_at.unwrap_or(p.checked_in_at),
                    desk: p.desk.clone(),
                    called_at: p.called_at,
                    overridden: p.overridden,
                    appointment: p.appointment.as_ref().map(|a| a.as_str().to_owned()),
                });
        }
        let c = &self.capacity;
        StationStatus {
            station: cfg.id.clone(),
            name: cfg.name.clone(),
            district: cfg.district.clone(),
            seq: self.seq,
            as_of: now,
            timezone: cfg.timezone.to_string(),
            open,
            sign: self.sign(open),
            headcount: self.headcount(),
            cap: c.cap,
            cap_basis: CapBasis {
                area_m2: cfg.geometry.area_m2,
                area_cap: c.area_cap,
                seat_cap: c.seat_cap,
                seats: cfg.geometry.seats.as_ref().map(Vec::len),
                max_visitors: c.max_visitors,
                distancing_m: c.distancing_m,
                area_model: c.area_model,
                limited_by: c.limited_by,
                exact: c.exact,
            },
            corrections: self.corrections,
            queue_line_places: self.queue_line_places,
            outside: self
                .outside
                .iter()
                .enumerate()
                .map(|(i, p)| OutsideParty {
                    ticket: p.ticket,
                    service: p.service.clone(),
                    party_size: p.size,
                    position: i as u32 + 1,
                    since: p.checked_in_at,
                    expected_enter_min: departures_per_s
                        .map(|rate| waits::minutes_for(i as u32 + 1, rate)),
                    appointment: p.appointment.as_ref().map(|a| a.as_str().to_owned()),
                })
                .collect(),
            inside,
            please_enter: self
                .inside
                .iter()
                .filter(|p| p.asked_in)
                .map(|p| p.ticket)
                .collect(),
            calls: self.calls.iter().cloned().collect(),
            cleaning: self
                .cleaning
                .iter()
                .map(|(surface, at)| CleaningRecord {
                    surface: surface.clone(),
                    at: *at,
                })
                .collect(),
            alerts: self.alerts.listing(),
            services,
        }
    }

    /// The public document at `now`: built from the full one through its field-by-field copy.
    pub fn public_status(&self, now: DateTime<Utc>) -> PublicStatus {
        PublicStatus::from_full(&self.status(now))
    }
}

fn weekday_en(w: chrono::Weekday) -> &'static str {
    use chrono::Weekday::*;
    match w {
        Mon => "Monday",
        Tue => "Tuesday",
        Wed => "Wednesday",
        Thu => "Thursday",
        Fri => "Friday",
        Sat => "Saturday",
        Sun => "Sunday",
    }
}

#[cfg(test)]
mod day_tests;
#[cfg(test)]
mod tests;
