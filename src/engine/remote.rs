//! Parties that wait elsewhere: joining the queue before arriving, "I'm not at the door",
//! arriving, "I need more time", leaving from the ticket's page, and the room held for an
//! admitted party on its way — dropped when it does not come within `come_back_min`.
//!
//! A remote party keeps its place in the one queue (first in, first out, never overtaken), so the
//! order rules of `admission.rs` hold unchanged; it is only counted apart from the people at the
//! door (the gathering alert and the queue line count bodies, not tickets), and a desk's `call`
//! passes over one that has not arrived yet.

use chrono::{DateTime, Duration, Utc};

use super::admission::Arrival;
use super::state::{Ended, Ending, Party};
use super::{Mode, Notice, NoticeKind, Outcome, Refusal, Station};
use crate::domain::message::Message;
use crate::domain::ticket_link::LinkHash;
use crate::domain::{PartySize, ServiceId, Ticket};

impl Station {
    /// `join`: a party joins `service`'s queue from afar with the link `link`. Live, it must be
    /// open to joins now (the station allows it, within the join hours and the service's, and
    /// under the day's quota); a replay does not judge the configuration again.
    pub(super) fn join(
        &mut self,
        service: &ServiceId,
        party_size: PartySize,
        link: LinkHash,
        at: DateTime<Utc>,
        mode: Mode,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        let spec = self.service_for_check_in(service, at, mode)?;
        let prefix = spec.prefix;
        if mode == Mode::Live {
            self.check_open_to_joins(spec, at)?;
            self.check_walk_in_quota(spec)?;
        }
        let arrival = Arrival {
            service,
            party_size,
            appointment: None,
            link: Some(link),
            remote: true,
            booking: None,
            ahead: false,
        };
        self.issue(prefix, arrival, at, outcome)?;
        *self.state.joins.entry(service.clone()).or_insert(0) += 1;
        Ok(())
    }

    /// Refuses a join the station does not take now: joins off, outside the join hours, or the
    /// day's quota for the service used up.
    pub(super) fn check_open_to_joins(
        &self,
        spec: &crate::config::Service,
        at: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        let remote = &self.config.remote;
        if !remote.join {
            return Err(Refusal::JoinRefused(
                Message::new("join.off").with("station", self.config.name.as_str()),
            ));
        }
        if let Some((start, end)) = remote.join_hours {
            let local = at.with_timezone(&self.config.timezone).naive_local();
            let minute = crate::hours::minute_of_day(local.time());
            if minute < start || minute >= end {
                return Err(Refusal::JoinRefused(
                    self.service_message("join.hours", spec)
                        .with("from", crate::hours::clock(start))
                        .with("to", crate::hours::clock(end)),
                ));
            }
        }
        let used = self.state.joins.get(&spec.id).copied().unwrap_or(0);
        if used >= remote.join_quota {
            return Err(Refusal::JoinRefused(
                self.service_message("join.quota", spec)
                    .with("quota", remote.join_quota),
            ));
        }
        Ok(())
    }

    /// `away`: a party queued outside waits elsewhere from now on, in the same place.
    pub(super) fn away(&mut self, ticket: Ticket, outcome: &mut Outcome) -> Result<(), Refusal> {
        let i = self.find_outside(ticket)?;
        let party = &mut self.state.outside[i];
        if party.remote {
            return Err(state_refusal("ticket_state.already_away", ticket));
        }
        party.remote = true;
        outcome.ticket = Some(ticket);
        Ok(())
    }

    /// `arrived`: a party that waited elsewhere is at the door now. Asked in, its room is no
    /// longer held against the clock.
    pub(super) fn arrived(&mut self, ticket: Ticket, outcome: &mut Outcome) -> Result<(), Refusal> {
        let party = self
            .state
            .inside
            .iter_mut()
            .chain(self.state.outside.iter_mut())
            .find(|p| p.ticket == ticket)
            .ok_or(Refusal::UnknownTicket(ticket))?;
        if !party.remote {
            return Err(state_refusal("ticket_state.not_away", ticket));
        }
        party.remote = false;
        party.come_back_by = None;
        outcome.ticket = Some(ticket);
        Ok(())
    }

    /// `more_time`: a party waiting elsewhere moves back `more_time_places`, once. One already
    /// asked in goes back into the queue that far from its head, and its room goes to the next.
    pub(super) fn more_time(
        &mut self,
        ticket: Ticket,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        let back = self.config.remote.more_time_places as usize;
        let notify_ahead = self.config.remote.notify_ahead as usize;
        let (mut party, from) = self.take_remote_waiting(ticket)?;
        party.more_time_used = true;
        party.come_back_by = None;
        party.asked_in = false;
        party.entered_at = None;
        let to = (from + back).min(self.state.outside.len());
        // Told to walk again only when it comes within reach again.
        if to >= notify_ahead {
            party.told_to_walk = false;
        }
        self.state.outside.insert(to, party);
        outcome.ticket = Some(ticket);
        outcome.position = Some(to as u32 + 1);
        Ok(())
    }

    /// The remote party `ticket`, taken out of the queue (or out of the room it was asked into:
    /// place 0) for `more_time`, refused when it is not waiting elsewhere or had its more time.
    fn take_remote_waiting(&mut self, ticket: Ticket) -> Result<(Party, usize), Refusal> {
        let state = &mut self.state;
        let (party, from) = if let Some(i) = state.outside.iter().position(|p| p.ticket == ticket) {
            (&state.outside[i], i)
        } else {
            let i = state
                .inside
                .iter()
                .position(|p| p.ticket == ticket)
                .ok_or(Refusal::UnknownTicket(ticket))?;
            (&state.inside[i], 0)
        };
        if !party.remote || party.desk.is_some() {
            return Err(state_refusal("ticket_state.not_away", ticket));
        }
        if party.more_time_used {
            return Err(state_refusal("ticket_state.more_time_used", ticket));
        }
        let taken = match state.outside.iter().position(|p| p.ticket == ticket) {
            Some(i) => state.outside.remove(i),
            None => {
                let i = state.inside.iter().position(|p| p.ticket == ticket);
                i.map(|i| state.inside.remove(i))
            }
        };
        Ok((taken.expect("found above"), from))
    }

    /// `leave`: the visitor leaves the queue from the ticket's page (not once a desk called it).
    pub(super) fn leave(
        &mut self,
        ticket: Ticket,
        at: DateTime<Utc>,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        if let Some(desk) = self
            .state
            .inside
            .iter()
            .find(|p| p.ticket == ticket)
            .and_then(|p| p.desk.as_ref())
        {
            return Err(Refusal::TicketState(
                Message::new("ticket_state.called")
                    .with("ticket", ticket.to_string())
                    .with("desk", desk.as_str()),
            ));
        }
        let party = self.remove_anywhere(ticket)?;
        self.ended(&party, Ending::Left, at);
        outcome.ticket = Some(ticket);
        Ok(())
    }

    /// `come_back_missed`: an admitted party waiting elsewhere did not arrive in time. Live, its
    /// deadline must have passed.
    pub(super) fn come_back_missed(
        &mut self,
        ticket: Ticket,
        at: DateTime<Utc>,
        mode: Mode,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        let i = self
            .state
            .inside
            .iter()
            .position(|p| p.ticket == ticket && p.remote && p.come_back_by.is_some())
            .ok_or(Refusal::UnknownTicket(ticket))?;
        let due = self.state.inside[i].come_back_by.is_some_and(|by| by <= at);
        if mode == Mode::Live && !due {
            return Err(state_refusal("ticket_state.not_away", ticket));
        }
        let party = self.state.inside.remove(i);
        self.ended(&party, Ending::ComeBackMissed, at);
        outcome.ticket = Some(ticket);
        Ok(())
    }

    /// The admitted remote party whose time to arrive ran out first, by `now`.
    pub(super) fn come_back_overdue(&self, now: DateTime<Utc>) -> Option<Ticket> {
        self.state
            .inside
            .iter()
            .filter(|p| p.remote && p.come_back_by.is_some_and(|by| by <= now))
            .min_by_key(|p| p.come_back_by)
            .map(|p| p.ticket)
    }

    /// A party waiting elsewhere is asked in: its room is held `come_back_min` for it.
    pub(super) fn ask_in_from_afar(&self, party: &mut Party, at: DateTime<Utc>) {
        let minutes = i64::from(self.config.remote.come_back_min);
        party.come_back_by = Some(at + Duration::minutes(minutes));
        party.told_to_walk = true;
    }

    /// Tells each remote party within `notify_ahead` places of the room to start walking, once:
    /// a notice for each newly told.
    pub(super) fn tell_to_walk(&mut self, notices: &mut Vec<Notice>) {
        let reach = self.config.remote.notify_ahead as usize;
        for party in self.state.outside.iter_mut().take(reach) {
            if party.remote && !party.told_to_walk {
                party.told_to_walk = true;
                notices.push(Notice::ticket(NoticeKind::TicketStartWalking, party));
            }
        }
    }

    /// Remembers how a linked party left, for its page.
    pub(super) fn ended(&mut self, party: &Party, how: Ending, at: DateTime<Utc>) {
        if let Some(link) = party.link {
            self.state.ended.insert(
                link,
                Ended {
                    ticket: party.ticket,
                    service: party.service.clone(),
                    how,
                    at,
                },
            );
        }
    }

    /// Removes `ticket` wherever it is, inside or in the queue.
    pub(super) fn remove_anywhere(&mut self, ticket: Ticket) -> Result<Party, Refusal> {
        let state = &mut self.state;
        if let Some(i) = state.inside.iter().position(|p| p.ticket == ticket) {
            Ok(state.inside.remove(i))
        } else if let Some(i) = state.outside.iter().position(|p| p.ticket == ticket) {
            Ok(state.outside.remove(i).expect("index found above"))
        } else {
            Err(Refusal::UnknownTicket(ticket))
        }
    }

    /// Where `ticket` is in the queue outside, or why it is not there.
    fn find_outside(&self, ticket: Ticket) -> Result<usize, Refusal> {
        if let Some(i) = self.state.outside.iter().position(|p| p.ticket == ticket) {
            Ok(i)
        } else if self.state.inside.iter().any(|p| p.ticket == ticket) {
            Err(state_refusal("ticket_state.not_outside", ticket))
        } else {
            Err(Refusal::UnknownTicket(ticket))
        }
    }

    /// People queued outside at the door (not those waiting elsewhere).
    pub fn at_door_people(&self) -> u32 {
        self.state
            .outside
            .iter()
            .filter(|p| !p.remote)
            .map(|p| p.size.get())
            .sum()
    }
}

/// A refusal of what a ticket's page asked, by `code`.
fn state_refusal(code: &str, ticket: Ticket) -> Refusal {
    Refusal::TicketState(Message::new(code).with("ticket", ticket.to_string()))
}
