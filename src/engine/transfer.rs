//! `transfer`: a ticket that waits for one service moves to another service's queue — the clerk
//! found the visitor needs a different counter — without losing their turn.
//!
//! The party keeps its ticket number and its place in the station's lists, which are ordered by
//! arrival: so among the other service's tickets it stands where its check-in time puts it, and
//! a desk calling that service reaches it as if it had checked in for it. A ticket already called
//! is being served and is not moved: the desk finishes with it first.

use chrono::{DateTime, Utc};

use super::{Mode, Outcome, Refusal, Station};
use crate::domain::message::Message;
use crate::domain::{ServiceId, Ticket};

impl Station {
    /// `transfer`: `ticket`, waiting inside (not yet called) or outside, now waits for `service`.
    pub(super) fn transfer(
        &mut self,
        ticket: Ticket,
        service: &ServiceId,
        at: DateTime<Utc>,
        mode: Mode,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        // The target must be taking check-ins now, as for a check-in.
        self.service_for_check_in(service, at, mode)?;
        let party = self.waiting_party(ticket)?;
        if &party.service == service {
            return Err(Refusal::CannotTransfer(
                Message::new("cannot_transfer.same_service")
                    .with("ticket", ticket.to_string())
                    .with("service", service.as_str()),
            ));
        }
        party.service = service.clone();
        outcome.ticket = Some(ticket);
        Ok(())
    }

    /// The party of `ticket` if it is waiting (outside, or inside and not called).
    fn waiting_party(&mut self, ticket: Ticket) -> Result<&mut super::state::Party, Refusal> {
        let state = &mut self.state;
        let party = state
            .inside
            .iter_mut()
            .chain(state.outside.iter_mut())
            .find(|p| p.ticket == ticket)
            .ok_or(Refusal::UnknownTicket(ticket))?;
        match &party.desk {
            Some(desk) => Err(Refusal::CannotTransfer(
                Message::new("cannot_transfer.called")
                    .with("ticket", ticket.to_string())
                    .with("desk", desk.as_str()),
            )),
            None => Ok(party),
        }
    }
}
