//! Who comes in: a check-in (inside if it fits beside the room held for due bookings and nobody
//! is queued before it, else outside), a guard's override past the cap, and admitting the head of
//! the outside queue whenever room frees up.
//!
//! The queue outside is first in first out and never overtaken — except by a booked party
//! arriving in its window, which queues behind the booked parties at the head and ahead of the
//! walk-ins (`bookings.rs`). These are the rules the property test in `engine/tests.rs` checks
//! against a tiny model.

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::state::Party;
use super::{Mode, Outcome, Place, Refusal, Station};
use crate::config;
use crate::domain::booking::BookingId;
use crate::domain::event::Appointment;
use crate::domain::message::{self, Message};
use crate::domain::ticket_link::{LinkAnswer, LinkHash};
use crate::domain::{PartySize, ServiceId, Ticket};
use crate::hours::Basis;

/// Who a new ticket is for: a party at the front desk (`check_in`) or one joining from afar
/// (`join`, `remote`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Arrival<'a> {
    pub(super) service: &'a ServiceId,
    pub(super) party_size: PartySize,
    pub(super) appointment: Option<&'a Appointment>,
    pub(super) link: Option<LinkHash>,
    pub(super) remote: bool,
    /// The booking it arrives for, if booked.
    pub(super) booking: Option<&'a BookingId>,
    /// A booked party in its window: it goes ahead of the walk-ins.
    pub(super) ahead: bool,
}

impl Station {
    /// `check_in`: a new ticket for `service`, inside or queued outside.
    pub(super) fn check_in(
        &mut self,
        arrival: Arrival<'_>,
        at: DateTime<Utc>,
        mode: Mode,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        let spec = self.service_for_check_in(arrival.service, at, mode)?;
        let prefix = spec.prefix;
        if mode == Mode::Live {
            self.check_walk_in_quota(spec)?;
        }
        self.issue(prefix, arrival, at, outcome)
    }

    /// Refuses a walk-in for `spec` once the day's `walk_in_quota` is used up.
    pub(super) fn check_walk_in_quota(&self, spec: &config::Service) -> Result<(), Refusal> {
        let Some(quota) = spec.walk_in_quota else {
            return Ok(());
        };
        if self.state.walk_ins.get(&spec.id).copied().unwrap_or(0) >= quota {
            let message = if quota == 0 {
                self.service_message("walk_in_quota.by_booking_only", spec)
            } else {
                self.service_message("walk_in_quota.used", spec)
                    .with("quota", quota)
            };
            return Err(Refusal::WalkInQuota(message));
        }
        Ok(())
    }

    /// A new ticket for a party that `arrival` describes: inside if it fits beside the room held
    /// for due bookings and nobody is queued before it, else at the back of the queue — or, for a
    /// booked party in its window, behind the booked parties at the queue's head. A party that
    /// joined from afar and finds room is asked in, with `come_back_min` to arrive.
    pub(super) fn issue(
        &mut self,
        prefix: char,
        arrival: Arrival<'_>,
        at: DateTime<Utc>,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        let size = arrival.party_size;
        if size.get() > self.capacity.cap {
            return Err(Refusal::PartyTooLarge(
                Message::new("party_too_large")
                    .with("party", size.get())
                    .with("cap", self.capacity.cap)
                    .with("distancing_m", self.capacity.distancing_m),
            ));
        }
        let number = self
            .state
            .numbers
            .entry(arrival.service.clone())
            .or_insert(0);
        *number += 1;
        let ticket = Ticket::new(prefix, *number);
        let mut party = Party {
            ticket,
            service: arrival.service.clone(),
            size,
            appointment: arrival.appointment.cloned(),
            checked_in_at: at,
            entered_at: None,
            asked_in: false,
            desk: None,
            called_at: None,
            overridden: false,
            link: arrival.link,
            remote: arrival.remote,
            joined: arrival.remote,
            more_time_used: false,
            told_to_walk: false,
            come_back_by: None,
            booking: arrival.booking.cloned(),
            ahead: arrival.ahead,
        };
        if arrival.booking.is_none() {
            *self
                .state
                .walk_ins
                .entry(arrival.service.clone())
                .or_insert(0) += 1;
        }
        for used in self.state.surfaces.values_mut() {
            used.dirty_since.get_or_insert(at);
            used.visitors += size.get();
        }
        outcome.ticket = Some(ticket);
        outcome.ticket_link = arrival.link.as_ref().map(LinkAnswer::of);
        // Booked parties in their window queue only behind each other.
        let before = if arrival.ahead {
            self.state.outside.iter().take_while(|p| p.ahead).count()
        } else {
            self.state.outside.len()
        };
        let held = self.held_except(arrival.booking);
        if before == 0 && self.headcount() + held + size.get() <= self.capacity.cap {
            party.entered_at = Some(at);
            if party.remote {
                party.asked_in = true;
                self.ask_in_from_afar(&mut party, at);
            }
            self.state.inside.push(party);
            outcome.state = Some(Place::Inside);
        } else {
            self.state.outside.insert(before, party);
            outcome.state = Some(Place::Outside);
            outcome.position = Some(before as u32 + 1);
        }
        Ok(())
    }

    /// This station's `service`, to check a party in for at `at` (or transfer one to): refused
    /// when it has no such service or — live only — when it takes no check-ins now. Opening hours
    /// may have changed since a logged event was accepted, so a replay does not judge them again.
    pub(super) fn service_for_check_in(
        &self,
        service: &ServiceId,
        at: DateTime<Utc>,
        mode: Mode,
    ) -> Result<&config::Service, Refusal> {
        let spec = self
            .config
            .services
            .iter()
            .find(|s| &s.id == service)
            .ok_or_else(|| Refusal::UnknownService(service.clone()))?;
        if mode == Mode::Live {
            self.check_taking_check_ins(spec, at)?;
        }
        Ok(spec)
    }

    /// Refuses a check-in for `spec` at `at` while it is closed, or within its last-admission
    /// margin before closing, saying when it opens again.
    pub(super) fn check_taking_check_ins(
        &self,
        spec: &config::Service,
        at: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        let local = at.with_timezone(&self.config.timezone).naive_local();
        if !spec.hours.is_open(local) {
            let opens = spec.hours.next_opening(local).map_or_else(
                || Message::new("opens.not_soon"),
                |t| {
                    let time = t.format("%H:%M").to_string();
                    if t.date() == local.date() {
                        Message::new("opens.today").with("time", time)
                    } else {
                        Message::new("opens.on_day")
                            .with("weekday", message::weekday(t.weekday()).to_value())
                            .with("time", time)
                    }
                },
            );
            let basis = match spec.hours.on(local.date()).1 {
                Basis::Weekly => Message::new("closed_basis.weekly"),
                Basis::Holiday { name, name_en } => Message::new("closed_basis.holiday")
                    .with("name", name)
                    .with("name_en", name_en),
                Basis::Exception { reason } => {
                    Message::new("closed_basis.exception").with("reason", reason)
                }
            };
            return Err(Refusal::ServiceClosed(
                self.service_message("service_closed.now", spec)
                    .with("weekday", message::weekday(local.weekday()).to_value())
                    .with("time", local.format("%H:%M").to_string())
                    .with("timezone", self.config.timezone.to_string())
                    .with("basis", basis.to_value())
                    .with("opens", opens.to_value()),
            ));
        }
        let last = self.config.operations.last_admission_min;
        if let Some(range) = spec.hours.open_range(local) {
            let minute = (local.hour() * 60 + local.minute()) as u16;
            // A range ending at 24:00 runs on into the next day: not a closing.
            if range.end < 24 * 60 && u32::from(minute) + last >= u32::from(range.end) {
                let last_in = range.end.saturating_sub(last as u16);
                return Err(Refusal::ServiceClosed(
                    self.service_message("service_closed.last_check_in", spec)
                        .with("minutes", last)
                        .with("last_check_in", crate::hours::clock(last_in))
                        .with("closing", crate::hours::clock(range.end)),
                ));
            }
        }
        Ok(())
    }

    /// A message about `spec` at this station: its id, both its names and the station's name.
    pub(super) fn service_message(&self, code: &str, spec: &config::Service) -> Message {
        Message::new(code)
            .with("service", spec.id.as_str())
            .with("service_name", spec.name.as_str())
            .with("service_name_en", spec.name_en.as_str())
            .with("station", self.config.name.as_str())
    }

    /// `override`: a guard lets `ticket` (or the head of the queue) in past the cap.
    pub(super) fn override_cap(
        &mut self,
        ticket: Option<Ticket>,
        at: DateTime<Utc>,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        let outside = &self.state.outside;
        let i = match ticket {
            Some(t) => outside.iter().position(|p| p.ticket == t).ok_or_else(|| {
                let code = if self.state.inside.iter().any(|p| p.ticket == t) {
                    "nothing_to_override.inside"
                } else {
                    "nothing_to_override.not_outside"
                };
                Refusal::NothingToOverride(Message::new(code).with("ticket", t.to_string()))
            })?,
            None if outside.is_empty() => {
                return Err(Refusal::NothingToOverride(Message::new(
                    "nothing_to_override.empty",
                )));
            }
            None => 0,
        };
        let mut party = self.state.outside.remove(i).expect("index found above");
        party.entered_at = Some(at);
        party.asked_in = true;
        party.overridden = true;
        if party.remote {
            self.ask_in_from_afar(&mut party, at);
        }
        outcome.ticket = Some(party.ticket);
        outcome.state = Some(Place::Inside);
        self.state.inside.push(party);
        Ok(())
    }

    /// Admits parties from the head of the outside queue while the head fits. Never overtakes:
    /// a large party at the head waits even if a smaller one behind it would fit.
    pub(super) fn admit_from_queue(&mut self, at: DateTime<Utc>) -> Vec<Ticket> {
        let mut admitted = Vec::new();
        let mut headcount = self.headcount();
        let held = self.held();
        while let Some(head) = self.state.outside.front() {
            if headcount + held + head.size.get() > self.capacity.cap {
                break;
            }
            let Some(mut party) = self.state.outside.pop_front() else {
                break;
            };
            headcount += party.size.get();
            party.entered_at = Some(at);
            party.asked_in = true;
            if party.remote {
                self.ask_in_from_afar(&mut party, at);
            }
            admitted.push(party.ticket);
            self.state.inside.push(party);
        }
        admitted
    }
}
