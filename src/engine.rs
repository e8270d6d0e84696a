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
//!
//! This file owns the [`Station`] and the order every event goes through ([`Station::apply`]);
//! each event kind is one small function in the file of its concern: `admission.rs` (check-in,
//! override, admitting from the queue), `desks.rs` (call, recall, check-out, no-show),
//! `transfer.rs` (a waiting ticket moving to another service), `bookings.rs` and `slots.rs`
//! (booked parties, the room held for them, and the slots they book), `corrections.rs`
//! (corrections, cleaning, acknowledgements), `day.rs` (roll-over, close-out, rule changes, what
//! the clock makes due). `state.rs` holds what a station remembers and its snapshot;
//! `documents.rs` the status documents and the alerts' texts.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

mod admission;
pub mod alerts;
pub mod bookings;
mod corrections;
mod day;
mod desks;
pub mod documents;
mod ended;
pub mod history;
mod outcome;
mod reconfigure;
mod remote;
pub mod slots;
mod state;
mod ticket_view;
mod transfer;
pub mod waits;

pub use desks::CALLS_KEPT;
pub use documents::check_config_part;
pub use outcome::{Notice, NoticeKind, Outcome, Place, REFUSALS, Refusal};
pub use state::Ending;
pub use state::{SNAPSHOT_VERSION, Snapshot};
pub use ticket_view::TicketBoard;

use crate::capacity::Capacity;
use crate::config::{self, Rules};
use crate::domain::{DeskId, Event, ServiceId, Ticket};
use history::Sample;
use state::StationState;

/// Whether an event is new (decide by every rule) or replayed from the log (it was accepted
/// once; rules that depend on configuration that may have changed since — opening hours — are
/// not re-judged, so the log stays the truth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Replay,
}

/// A station's live state plus the configuration it is judged by.
#[derive(Debug, Clone)]
pub struct Station {
    config: Arc<config::Station>,
    /// The rule the service runs under; the distancing in force is the state's, which a
    /// `rule_changed` event changes.
    rules: Rules,
    /// The room under the rule in force. Derived from the config, never stored.
    capacity: Capacity,
    /// How many people the queue line holds at the distancing in force. Derived, never stored.
    queue_line_places: Option<u32>,
    state: StationState,
}

impl Station {
    /// An empty station under the given rule.
    pub fn new(config: Arc<config::Station>, rules: &Rules) -> Self {
        let state = StationState::empty(&config, rules.distancing_m);
        Station::with_state(config, rules, state)
    }

    /// A station in `state`, its room derived from `config` under the distancing in `state`.
    fn with_state(config: Arc<config::Station>, rules: &Rules, state: StationState) -> Self {
        let (capacity, queue_line_places) = room(&config, &in_force(rules, &state));
        Station {
            config,
            rules: *rules,
            capacity,
            queue_line_places,
            state,
        }
    }

    /// Works out the room again after the distancing in force changed.
    fn derive_room(&mut self) {
        (self.capacity, self.queue_line_places) =
            room(&self.config, &in_force(&self.rules, &self.state));
    }

    pub fn config(&self) -> &config::Station {
        &self.config
    }
    pub fn seq(&self) -> u64 {
        self.state.seq
    }
    /// When the station's last event was accepted.
    pub fn last_at(&self) -> Option<DateTime<Utc>> {
        self.state.last_at
    }
    pub fn cap(&self) -> u32 {
        self.capacity.cap
    }
    pub fn capacity(&self) -> &Capacity {
        &self.capacity
    }
    /// Visitors inside: every party inside plus the guards' corrections.
    pub fn headcount(&self) -> u32 {
        self.state.inside.iter().map(|p| p.size.get()).sum::<u32>() + self.state.corrections
    }
    /// How long a damped alert settles before it clears (`[operations] alert_settle_min`).
    fn alert_settle(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.config.operations.alert_settle_min))
    }
    /// Alerts raised and not yet cleared (acknowledged or not), oldest first.
    pub fn open_alerts(&self) -> &[crate::domain::Alert] {
        self.state.alerts.open()
    }
    pub fn corrections(&self) -> u32 {
        self.state.corrections
    }
    /// Tickets outside, in queue order.
    pub fn outside_tickets(&self) -> Vec<Ticket> {
        self.state.outside.iter().map(|p| p.ticket).collect()
    }
    /// Tickets inside, in order of arrival.
    pub fn inside_tickets(&self) -> Vec<Ticket> {
        self.state.inside.iter().map(|p| p.ticket).collect()
    }
    /// Parties outside as (ticket, size), in queue order.
    pub fn outside_parties(&self) -> Vec<(Ticket, u32)> {
        self.state
            .outside
            .iter()
            .map(|p| (p.ticket, p.size.get()))
            .collect()
    }
    /// Parties inside as (ticket, size, desk), in order of arrival.
    pub fn inside_parties(&self) -> Vec<(Ticket, u32, Option<DeskId>)> {
        self.state
            .inside
            .iter()
            .map(|p| (p.ticket, p.size.get(), p.desk.clone()))
            .collect()
    }
    /// Desks that called a ticket of `service` recently enough to count as serving it at `now`.
    pub fn active_desks(&self, service: &ServiceId, now: DateTime<Utc>) -> u32 {
        self.state.throughput.active_desks(service, now)
    }
    /// Headcount, cap and outside queue over the two hours before `now`.
    pub fn history(&self, now: DateTime<Utc>) -> Vec<Sample> {
        self.state.history.window(now)
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
        if self.state.day.is_some_and(|d| d < today) {
            let mut next = self.clone();
            let closed_out = next.roll_over(today, at);
            let mut outcome = next.apply_same_day(event, at, mode)?;
            outcome.closed_out.splice(0..0, closed_out);
            *self = next;
            self.after(event, at, &mut outcome);
            return Ok(outcome);
        }
        let mut outcome = self.apply_same_day(event, at, mode)?;
        // The first accepted event starts the station's first day.
        self.state.day.get_or_insert(today);
        self.after(event, at, &mut outcome);
        Ok(outcome)
    }

    /// The event's own change (each kind's function checks everything before it changes
    /// anything), then what follows every accepted event: the queue moves up and `seq` advances.
    fn apply_same_day(
        &mut self,
        event: &Event,
        at: DateTime<Utc>,
        mode: Mode,
    ) -> Result<Outcome, Refusal> {
        let mut outcome = Outcome::begun(self.state.seq + 1, event.kind());
        match event {
            Event::CheckIn {
                service,
                party_size,
                appointment,
                link,
            } => {
                let arrival = admission::Arrival {
                    service,
                    party_size: *party_size,
                    appointment: appointment.as_ref(),
                    link: *link,
                    remote: false,
                    booking: None,
                    ahead: false,
                };
                self.check_in(arrival, at, mode, &mut outcome)?;
            }
            Event::Join {
                service,
                party_size,
                link,
            } => self.join(service, *party_size, *link, at, mode, &mut outcome)?,
            Event::Arrived { ticket } => self.arrived(*ticket, &mut outcome)?,
            Event::Away { ticket } => self.away(*ticket, &mut outcome)?,
            Event::MoreTime { ticket } => self.more_time(*ticket, &mut outcome)?,
            Event::Leave { ticket } => self.leave(*ticket, at, &mut outcome)?,
            Event::ComeBackMissed { ticket } => {
                self.come_back_missed(*ticket, at, mode, &mut outcome)?;
            }
            Event::CheckOut { ticket } => self.check_out(*ticket, at, &mut outcome)?,
            Event::NoShow { ticket } => self.no_show(*ticket, at, &mut outcome)?,
            Event::Recall { desk, ticket } => self.recall(desk, *ticket, at, &mut outcome)?,
            Event::Transfer { ticket, service } => {
                self.transfer(*ticket, service, at, mode, &mut outcome)?;
            }
            Event::Call { desk, service } => {
                self.call(desk, service.as_ref(), at, &mut outcome)?;
            }
            Event::Correction { delta, .. } => self.correct(*delta)?,
            Event::Cleaned { surface } => self.cleaned(surface.as_str(), at),
            Event::Override { ticket, reason: _ } => {
                self.override_cap(*ticket, at, &mut outcome)?;
            }
            Event::Acknowledge { alert, by } => self.acknowledge(*alert, by, at)?,
            Event::RuleChanged { distancing_m, .. } => self.change_rule(distancing_m.metres()),
            Event::CloseOut { .. } => outcome.closed_out = self.close_out(at),
            // Time passed: only the alert review after every event has anything to do.
            Event::Clock => {}
            Event::BookingMade {
                booking,
                service,
                slot,
                party_size,
                code,
                external_ref,
                browser,
            } => {
                let new = bookings::NewBooking {
                    service,
                    slot: *slot,
                    size: *party_size,
                    code: *code,
                    external_ref: external_ref.as_ref(),
                    browser: browser.as_ref(),
                };
                self.make_booking(booking, new, at, mode)?;
                outcome.booking = Some(booking.clone());
            }
            Event::BookingMoved { booking, slot } => {
                self.move_booking(booking, *slot, at, mode)?;
                outcome.booking = Some(booking.clone());
            }
            Event::BookingCancelled {
                booking,
                release_at,
            } => {
                self.cancel_booking(booking, *release_at, at)?;
                outcome.booking = Some(booking.clone());
            }
            Event::BookingDue { booking } => {
                self.booking_due(booking, at, mode)?;
                outcome.booking = Some(booking.clone());
            }
            Event::BookingArrived { booking } => {
                self.booking_arrived(booking, at, mode, &mut outcome)?;
            }
            Event::BookingNoShow { booking } => {
                self.booking_no_show(booking, at, mode)?;
                outcome.booking = Some(booking.clone());
            }
        }
        outcome.admitted = self.admit_from_queue(at);
        self.ticket_notices(&mut outcome);
        self.state.seq += 1;
        self.state.last_at = Some(at);
        outcome.headcount = self.headcount();
        outcome.cap = self.capacity.cap;
        outcome.outside = self.state.outside.len() as u32;
        Ok(outcome)
    }

    /// What this event tells linked tickets: each admitted one, the one called, and those now
    /// near enough to start walking — in that order.
    fn ticket_notices(&mut self, outcome: &mut Outcome) {
        let mut notices = Vec::new();
        let linked = |t: &Ticket| {
            self.state
                .inside
                .iter()
                .find(|p| &p.ticket == t && p.link.is_some())
        };
        for ticket in &outcome.admitted {
            if let Some(party) = linked(ticket) {
                notices.push(Notice::ticket(NoticeKind::TicketAdmitted, party));
            }
        }
        if outcome.kind == "call" {
            if let Some(party) = outcome.ticket.as_ref().and_then(linked) {
                notices.push(Notice::ticket(NoticeKind::TicketCalled, party));
            }
        }
        self.tell_to_walk(&mut notices);
        outcome.notices.extend(notices);
    }

    /// What follows every accepted event: the alerts are reviewed (each one raised is a
    /// notice) and the history recorded.
    fn after(&mut self, event: &Event, at: DateTime<Utc>, outcome: &mut Outcome) {
        if self.headcount() > self.capacity.cap {
            if self.state.over_cap_cause.is_none() {
                self.state.over_cap_cause =
                    Some(documents::over_cap_cause(event, self.capacity.cap));
            }
        } else {
            self.state.over_cap_cause = None;
        }
        let holding = self.conditions(at);
        let settle = self.alert_settle();
        let raised_before = self.state.alerts.raised();
        self.state
            .alerts
            .reconcile(holding, self.state.seq, at, settle);
        outcome.notices.extend(
            self.state
                .alerts
                .open()
                .iter()
                .filter(|a| a.id > raised_before)
                .map(Notice::alert),
        );
        self.state.history.record(Sample {
            at,
            headcount: self.headcount(),
            cap: self.capacity.cap,
            outside: self.state.outside.len() as u32,
        });
    }
}

/// `rules` with the distancing in force in `state`.
fn in_force(rules: &Rules, state: &StationState) -> Rules {
    Rules {
        distancing_m: state.distancing_m,
        ..*rules
    }
}

/// The room under `rules`: its cap, and how many people the queue line holds.
fn room(config: &config::Station, rules: &Rules) -> (Capacity, Option<u32>) {
    let queue_line_places = config
        .queue_line_m
        .map(|l| crate::capacity::queue_line_places(l, rules.distancing_m));
    (config.capacity(rules), queue_line_places)
}

#[cfg(test)]
mod booking_props;
#[cfg(test)]
mod booking_tests;
#[cfg(test)]
mod day_tests;
#[cfg(test)]
mod document_bounds_tests;
#[cfg(test)]
mod remote_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod transfer_recall_tests;
