//! The station's day and what changes it from outside the room: a new local day, the day's
//! close-out, a change of the distancing rule, and what the clock alone makes due.
//!
//! The engine has no clock. [`Station::due`] answers the ticker's question "should an event be
//! logged now?" from the instant it is given, and what it proposes (`close_out`, `clock`) is logged
//! and applied like any other event, so a replay reaches the same state without a clock.

use chrono::{DateTime, NaiveDate, Timelike, Utc};

use super::Station;
use super::state::Ending;
use crate::domain::{Event, Ticket};

impl Station {
    /// A new local day: ticket numbers and join counts restart, yesterday's remaining tickets
    /// and counts are closed out (the office has closed in between), and yesterday's ticket
    /// links expire.
    pub(super) fn roll_over(&mut self, today: NaiveDate, at: DateTime<Utc>) -> Vec<Ticket> {
        let closed = self.close_out(at);
        self.state.numbers.clear();
        self.state.joins.clear();
        self.state.walk_ins.clear();
        self.state.ended.clear();
        self.forget_ended_bookings(at);
        self.state.day = Some(today);
        closed
    }

    /// `close_out`: every ticket still inside or outside is dropped, inside first, and the
    /// corrections go back to zero; a linked ticket's page says it was closed out. Returns the
    /// dropped tickets.
    pub(super) fn close_out(&mut self, at: DateTime<Utc>) -> Vec<Ticket> {
        let state = &mut self.state;
        let parties: Vec<_> = state
            .inside
            .drain(..)
            .chain(state.outside.drain(..))
            .collect();
        state.corrections = 0;
        for party in &parties {
            self.ended(party, Ending::ClosedOut, at);
        }
        parties.into_iter().map(|p| p.ticket).collect()
    }

    /// `rule_changed`: the distancing in force becomes `distancing_m`, and with it the cap and the
    /// queue line's places.
    pub(super) fn change_rule(&mut self, distancing_m: f64) {
        self.state.distancing_m = distancing_m;
        self.derive_room();
    }

    /// The event the service should log now, by the clock alone: the day's close-out once the
    /// station has closed, dropping a party that was asked in from afar and did not come in
    /// time, or a `clock` event when an alert became due or went away. `None` when
    /// time changed nothing.
    pub fn due(&self, now: DateTime<Utc>) -> Option<Event> {
        if let Some(reason) = self.close_out_due(now) {
            return Some(Event::CloseOut {
                reason: crate::domain::event::Reason::parse(&reason).ok()?,
            });
        }
        if let Some(ticket) = self.come_back_overdue(now) {
            return Some(Event::ComeBackMissed { ticket });
        }
        if let Some(event) = self.booking_due_now(now) {
            return Some(event);
        }
        self.state
            .alerts
            .would_change(&self.conditions(now), now, self.alert_settle())
            .then_some(Event::Clock)
    }

    /// Why the day's remaining tickets should be closed out at `now`, if they should: every
    /// service has closed for the day and the grace period has passed.
    fn close_out_due(&self, now: DateTime<Utc>) -> Option<String> {
        let state = &self.state;
        if state.inside.is_empty() && state.outside.is_empty() && state.corrections == 0 {
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
}
