//! Who comes in: a check-in (inside if it fits and nobody is queued before it, else outside), a
//! guard's override past the cap, and admitting the head of the outside queue whenever room
//! frees up.
//!
//! The queue outside is first in first out and never overtaken; these are the rules the property
//! test in `engine/tests.rs` checks against a tiny model.

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::state::Party;
use super::{Mode, Outcome, Place, Refusal, Station};
use crate::config;
use crate::domain::event::Appointment;
use crate::domain::{PartySize, ServiceId, Ticket};
use crate::hours::Basis;

impl Station {
    /// `check_in`: a new ticket for `service`, inside or queued outside.
    pub(super) fn check_in(
        &mut self,
        service: &ServiceId,
        size: PartySize,
        appointment: Option<&Appointment>,
        at: DateTime<Utc>,
        mode: Mode,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        let spec = self
            .config
            .services
            .iter()
            .find(|s| &s.id == service)
            .ok_or_else(|| Refusal::UnknownService(service.clone()))?;
        // Opening hours may have changed since a logged check-in was accepted: a replay does not
        // judge them again.
        if mode == Mode::Live {
            self.check_taking_check_ins(spec, at)?;
        }
        if size.get() > self.capacity.cap {
            return Err(Refusal::PartyTooLarge(format!(
                "a party of {} is larger than this room's cap of {} at {} m distancing; serve the party outside the waiting room or split it over several tickets",
                size.get(),
                self.capacity.cap,
                self.capacity.distancing_m
            )));
        }
        let number = self.state.numbers.entry(service.clone()).or_insert(0);
        *number += 1;
        let ticket = Ticket::new(spec.prefix, *number);
        let mut party = Party {
            ticket,
            service: service.clone(),
            size,
            appointment: appointment.cloned(),
            checked_in_at: at,
            entered_at: None,
            asked_in: false,
            desk: None,
            called_at: None,
            overridden: false,
        };
        for used in self.state.surfaces.values_mut() {
            used.dirty_since.get_or_insert(at);
            used.visitors += size.get();
        }
        outcome.ticket = Some(ticket);
        if self.state.outside.is_empty() && self.headcount() + size.get() <= self.capacity.cap {
            party.entered_at = Some(at);
            self.state.inside.push(party);
            outcome.state = Some(Place::Inside);
        } else {
            self.state.outside.push_back(party);
            outcome.state = Some(Place::Outside);
            outcome.position = Some(self.state.outside.len() as u32);
        }
        Ok(())
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
                Basis::Holiday { name, name_en } => format!(", {name_en} ({name})"),
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
        Ok(())
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
                Refusal::NothingToOverride(if self.state.inside.iter().any(|p| p.ticket == t) {
                    format!("{t} is already inside")
                } else {
                    format!("{t} is not waiting outside")
                })
            })?,
            None if outside.is_empty() => {
                return Err(Refusal::NothingToOverride(
                    "nobody is waiting outside".to_owned(),
                ));
            }
            None => 0,
        };
        let mut party = self.state.outside.remove(i).expect("index found above");
        party.entered_at = Some(at);
        party.asked_in = true;
        party.overridden = true;
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
        while let Some(head) = self.state.outside.front() {
            if headcount + head.size.get() > self.capacity.cap {
                break;
            }
            let Some(mut party) = self.state.outside.pop_front() else {
                break;
            };
            headcount += party.size.get();
            party.entered_at = Some(at);
            party.asked_in = true;
            admitted.push(party.ticket);
            self.state.inside.push(party);
        }
        admitted
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
