//! What an event did, or why it was refused: the engine's two answers to [`super::Station::apply`].
//!
//! An [`Outcome`] is the body of the 201 answer to an accepted event; a [`Refusal`] says, in words a
//! terminal can show, why nothing changed.

use serde::Serialize;

use crate::domain::{DeskId, ServiceId, Ticket};

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
    #[error(
        "ticket {ticket} is not called to desk {desk} now; call it first, or recall the desk's current ticket"
    )]
    NotCalled { ticket: Ticket, desk: DeskId },
    #[error("{0}")]
    CannotTransfer(String),
    #[error("{0}")]
    PartyTooLarge(String),
    #[error("{0}")]
    CorrectionBelowZero(String),
    #[error("{0}")]
    NothingToOverride(String),
    #[error("{0}")]
    Alert(String),
}

impl Outcome {
    /// The outcome of event number `seq` of `kind`, before the event has done anything.
    pub(super) fn begun(seq: u64, kind: &'static str) -> Self {
        Outcome {
            seq,
            kind,
            ticket: None,
            state: None,
            position: None,
            desk: None,
            admitted: Vec::new(),
            closed_out: Vec::new(),
            headcount: 0,
            cap: 0,
            outside: 0,
        }
    }
}
