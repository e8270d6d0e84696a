//! What the desks do with a ticket inside: call it, recall it (announce it again), check it out
//! when the visitor leaves, or drop it as a no-show.
//!
//! A call takes the longest-waiting uncalled ticket inside (for one service or any); the time from
//! call to check-out is what the wait estimates in `engine/waits.rs` are measured from.

use chrono::{DateTime, Utc};

use super::state::Ending;
use super::{Outcome, Refusal, Station};
use crate::domain::message::Message;
use crate::domain::status::CallRecord;
use crate::domain::{DeskId, ServiceId, Ticket};

/// How many recent calls a station remembers (the displays show the last few).
pub const CALLS_KEPT: usize = 10;

impl Station {
    /// `call`: `desk` takes the longest-waiting uncalled ticket inside, of `service` if named.
    pub(super) fn call(
        &mut self,
        desk: &DeskId,
        service: Option<&ServiceId>,
        at: DateTime<Utc>,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        let spec = match service {
            Some(s) => Some(
                self.config
                    .services
                    .iter()
                    .find(|x| &x.id == s)
                    .ok_or_else(|| Refusal::UnknownService(s.clone()))?,
            ),
            None => None,
        };
        let Some(i) = self.next_to_call(service) else {
            return Err(Refusal::NothingToCall(match spec {
                Some(spec) => self.service_message("nothing_to_call.service", spec),
                None => Message::new("nothing_to_call.any"),
            }));
        };
        let next = &mut self.state.inside[i];
        next.desk = Some(desk.clone());
        next.called_at = Some(at);
        next.asked_in = false;
        let record = CallRecord {
            ticket: next.ticket,
            desk: desk.clone(),
            at,
            recalls: 0,
            recalled_at: None,
        };
        outcome.ticket = Some(next.ticket);
        outcome.desk = Some(desk.clone());
        let called_service = next.service.clone();
        self.state.throughput.called(&called_service, desk, at);
        self.state.calls.push_front(record);
        self.state.calls.truncate(CALLS_KEPT);
        Ok(())
    }

    /// The party inside a desk calls next (of `service`, when given): a booked party that came
    /// in its window first — its time was booked — then the longest waiting. A party waiting
    /// elsewhere is called once it has arrived.
    fn next_to_call(&self, service: Option<&ServiceId>) -> Option<usize> {
        let waiting = |p: &&super::state::Party| {
            p.desk.is_none() && !p.remote && service.is_none_or(|s| &p.service == s)
        };
        let inside = &self.state.inside;
        inside
            .iter()
            .position(|p| waiting(&p) && p.ahead)
            .or_else(|| inside.iter().position(|p| waiting(&p)))
    }

    /// `recall`: `desk` announces its called `ticket` again. The call's record moves to the front
    /// of the recent calls (the display's current call) with its count of recalls raised; it is
    /// made again from the party when ten later calls have pushed it off the list.
    pub(super) fn recall(
        &mut self,
        desk: &DeskId,
        ticket: Ticket,
        at: DateTime<Utc>,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        let called_at = self
            .state
            .inside
            .iter()
            .find(|p| p.ticket == ticket && p.desk.as_ref() == Some(desk))
            .and_then(|p| p.called_at)
            .ok_or_else(|| Refusal::NotCalled {
                ticket,
                desk: desk.clone(),
            })?;
        let calls = &mut self.state.calls;
        let mut record = calls
            .iter()
            .position(|c| c.ticket == ticket && &c.desk == desk)
            .and_then(|i| calls.remove(i))
            .unwrap_or_else(|| CallRecord {
                ticket,
                desk: desk.clone(),
                at: called_at,
                recalls: 0,
                recalled_at: None,
            });
        record.recalls += 1;
        record.recalled_at = Some(at);
        calls.push_front(record);
        calls.truncate(CALLS_KEPT);
        outcome.ticket = Some(ticket);
        outcome.desk = Some(desk.clone());
        Ok(())
    }

    /// `check_out`: a party inside leaves; its time at the desk, if it was called, is measured.
    pub(super) fn check_out(
        &mut self,
        ticket: Ticket,
        at: DateTime<Utc>,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        let i = self.find_inside(ticket)?;
        let party = self.state.inside.remove(i);
        if let Some(called_at) = party.called_at {
            self.state.throughput.served(&party.service, called_at, at);
        }
        self.ended(&party, Ending::Served, at);
        outcome.ticket = Some(ticket);
        Ok(())
    }

    /// `no_show`: drops `ticket` wherever it is, inside or in the queue outside.
    pub(super) fn no_show(
        &mut self,
        ticket: Ticket,
        at: DateTime<Utc>,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        let party = self.remove_anywhere(ticket)?;
        self.ended(&party, Ending::NoShow, at);
        outcome.ticket = Some(ticket);
        Ok(())
    }

    /// Where `ticket` is inside, or why it cannot be served there.
    fn find_inside(&self, ticket: Ticket) -> Result<usize, Refusal> {
        let state = &self.state;
        if let Some(i) = state.inside.iter().position(|p| p.ticket == ticket) {
            Ok(i)
        } else if state.outside.iter().any(|p| p.ticket == ticket) {
            Err(Refusal::TicketOutside(ticket))
        } else {
            Err(Refusal::UnknownTicket(ticket))
        }
    }
}
