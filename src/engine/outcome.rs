//! What an event did, or why it was refused: the engine's two answers to [`super::Station::apply`].
//!
//! An [`Outcome`] is the body of the 201 answer to an accepted event; a [`Refusal`] says, in words a
//! terminal can show (a code and params, with the English beside), why nothing changed.

use serde::Serialize;

use super::state::Party;
use crate::domain::booking::BookingId;
use crate::domain::message::Message;
use crate::domain::ticket_link::{LinkAnswer, LinkHash};
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
    /// The new ticket's link, for a check-in or a join: its opaque id, and for the terminal
    /// that asked, the code and the visitor's page (`/t/{code}`), which no public document,
    /// socket or log line carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_link: Option<LinkAnswer>,
    /// The booking the event was about.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub booking: Option<BookingId>,
    /// What this event tells people beyond the documents (the webhooks' source), in a fixed
    /// order, so `{station}.{seq}.{index}` names each one the same on every instance and replay.
    /// Not part of the answer.
    #[serde(skip)]
    pub notices: Vec<Notice>,
}

/// Something a visitor's gateway or a guard's pager should hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// A linked ticket was asked in from the queue.
    TicketAdmitted,
    /// A linked ticket was called to a desk.
    TicketCalled,
    /// A linked ticket waiting elsewhere came within `notify_ahead` places of the room.
    TicketStartWalking,
    /// An alert was raised for the guards.
    AlertRaised,
}

impl NoticeKind {
    /// The webhook's `type`.
    pub fn name(self) -> &'static str {
        match self {
            NoticeKind::TicketAdmitted => "ticket.admitted",
            NoticeKind::TicketCalled => "ticket.called",
            NoticeKind::TicketStartWalking => "ticket.start_walking",
            NoticeKind::AlertRaised => "alert.raised",
        }
    }
}

/// One notice: about a linked ticket (its link and number, and the desk of a call) or an alert
/// (its id and code). Never personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub link: Option<LinkHash>,
    pub ticket: Option<Ticket>,
    pub desk: Option<DeskId>,
    pub alert: Option<u64>,
    pub code: Option<String>,
}

impl Notice {
    /// A notice about `party`'s linked ticket.
    pub(super) fn ticket(kind: NoticeKind, party: &Party) -> Self {
        Notice {
            kind,
            link: party.link,
            ticket: Some(party.ticket),
            desk: party.desk.clone(),
            alert: None,
            code: None,
        }
    }

    /// A notice that `alert` was raised.
    pub(super) fn alert(alert: &crate::domain::Alert) -> Self {
        Notice {
            kind: NoticeKind::AlertRaised,
            link: None,
            ticket: None,
            desk: None,
            alert: Some(alert.id),
            code: Some(alert.message.code.clone()),
        }
    }
}

/// Why an event was not applied. Nothing changed.
///
/// Each refusal is a [`Message`] (a code from [`REFUSALS`] and its params) that a page renders
/// in its own language; its English text (`Display`, the problem's `detail`) is rendered from the
/// same message. The variant decides the problem type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    UnknownService(ServiceId),
    ServiceClosed(Message),
    UnknownTicket(Ticket),
    TicketOutside(Ticket),
    NothingToCall(Message),
    NotCalled {
        ticket: Ticket,
        desk: DeskId,
    },
    CannotTransfer(Message),
    PartyTooLarge(Message),
    CorrectionBelowZero(Message),
    NothingToOverride(Message),
    Alert(Message),
    /// What a ticket's page asked does not fit the ticket's state.
    TicketState(Message),
    /// The station does not take a join before arriving now.
    JoinRefused(Message),
    /// A booking cannot be made or moved there.
    BookingRefused(Message),
    /// The booking is unknown, or not in a state for this.
    BookingState(Message),
    /// The day's walk-in quota for the service is used up.
    WalkInQuota(Message),
}

/// Every refusal code with its English template.
pub const REFUSALS: &[(&str, &str)] = &[
    ("unknown_service", "this station has no service '{service}'"),
    (
        "service_closed.now",
        "{service_name_en} at {station} is closed now ({weekday} {time} {timezone}{basis}); {opens}",
    ),
    (
        "service_closed.last_check_in",
        "{service_name_en} at {station} takes its last check-in {minutes} minutes before closing ({last_check_in}, closing {closing})",
    ),
    (
        "ticket_unknown",
        "ticket {ticket} is not issued today at this station or has already left",
    ),
    (
        "ticket_outside",
        "ticket {ticket} is waiting outside, not inside; to drop it from the queue send no_show",
    ),
    ("nothing_to_call.any", "no ticket is waiting inside"),
    (
        "nothing_to_call.service",
        "no ticket for {service_name_en} ('{service}') is waiting inside",
    ),
    (
        "party_too_large",
        "a party of {party} is larger than this room's cap of {cap} at {distancing_m} m distancing; serve the party outside the waiting room or split it over several tickets",
    ),
    (
        "correction_below_zero",
        "only {recorded} uncounted people are recorded inside, so {removing} cannot be removed; check out the ticket of a party that left instead",
    ),
    ("nothing_to_override.empty", "nobody is waiting outside"),
    ("nothing_to_override.inside", "{ticket} is already inside"),
    (
        "nothing_to_override.not_outside",
        "{ticket} is not waiting outside",
    ),
    ("alert.unknown", "there is no alert {alert} at this station"),
    ("alert.already_cleared", "alert {alert} has already cleared"),
    (
        "alert.already_acknowledged",
        "alert {alert} was already acknowledged by {by}",
    ),
    (
        "not_called",
        "ticket {ticket} is not called to desk {desk} now; call it first, or recall the desk's current ticket",
    ),
    (
        "cannot_transfer.same_service",
        "ticket {ticket} already waits for '{service}'; pick another service",
    ),
    (
        "cannot_transfer.called",
        "ticket {ticket} is already called to desk {desk}; serve it there, or check it out and check the visitor in again for the other service",
    ),
    (
        "ticket_state.not_outside",
        "ticket {ticket} is no longer waiting in the queue",
    ),
    (
        "ticket_state.already_away",
        "ticket {ticket} already waits elsewhere",
    ),
    (
        "ticket_state.not_away",
        "ticket {ticket} is not waiting elsewhere",
    ),
    (
        "ticket_state.more_time_used",
        "ticket {ticket} has had its more time already; leave the queue if you cannot come",
    ),
    (
        "ticket_state.called",
        "ticket {ticket} is called to desk {desk}; go there, or tell the desk",
    ),
    (
        "join.off",
        "{station} does not take joins before arriving; check in at the front desk",
    ),
    (
        "join.hours",
        "joining the queue for {service_name_en} at {station} is open {from}–{to}",
    ),
    ("booking_refused.exists", "booking {booking} exists already"),
    (
        "booking_refused.not_bookable",
        "{service_name_en} at {station} takes no bookings; check in at the front desk",
    ),
    (
        "booking_refused.not_a_slot",
        "{slot} is not a slot of {service_name_en} at {station}; slots are {slot_min} minutes from the opening time from each opening; list the free ones with the station's slots route",
    ),
    (
        "booking_refused.past",
        "the slot at {slot} has started or passed; pick a later one",
    ),
    (
        "booking_refused.beyond_horizon",
        "{slot} is more than {days} days ahead; {station} takes bookings up to {days} days ahead",
    ),
    (
        "booking_refused.full",
        "the slot at {slot} for {service_name_en} at {station} is taken; pick another",
    ),
    (
        "booking_unknown",
        "there is no booking {booking} at this station",
    ),
    (
        "booking_state.arrived",
        "booking {booking} has already checked in",
    ),
    (
        "booking_state.no_show",
        "booking {booking} lapsed: nobody came for the slot at {slot}; check the party in as a walk-in",
    ),
    ("booking_state.cancelled", "booking {booking} was cancelled"),
    (
        "booking_state.not_due",
        "booking {booking} is not yet within the hold time, or already held",
    ),
    (
        "booking_state.not_late",
        "booking {booking} is still within its grace time",
    ),
    (
        "walk_in_quota.used",
        "today's {quota} walk-in tickets for {service_name_en} at {station} are given; book a time instead",
    ),
    (
        "walk_in_quota.by_booking_only",
        "{service_name_en} at {station} serves booked visitors only; book a time",
    ),
    (
        "join.quota",
        "today's {quota} places for joining the queue for {service_name_en} at {station} are taken; check in at the front desk",
    ),
];

impl Refusal {
    /// The refusal as a code and params.
    pub fn message(&self) -> Message {
        match self {
            Refusal::UnknownService(s) => {
                Message::new("unknown_service").with("service", s.as_str())
            }
            Refusal::UnknownTicket(t) => {
                Message::new("ticket_unknown").with("ticket", t.to_string())
            }
            Refusal::TicketOutside(t) => {
                Message::new("ticket_outside").with("ticket", t.to_string())
            }
            Refusal::NotCalled { ticket, desk } => Message::new("not_called")
                .with("ticket", ticket.to_string())
                .with("desk", desk.as_str()),
            Refusal::ServiceClosed(m)
            | Refusal::NothingToCall(m)
            | Refusal::CannotTransfer(m)
            | Refusal::PartyTooLarge(m)
            | Refusal::CorrectionBelowZero(m)
            | Refusal::NothingToOverride(m)
            | Refusal::Alert(m)
            | Refusal::TicketState(m)
            | Refusal::JoinRefused(m)
            | Refusal::BookingRefused(m)
            | Refusal::BookingState(m)
            | Refusal::WalkInQuota(m) => m.clone(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message().english(REFUSALS))
    }
}

impl std::error::Error for Refusal {}

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
            ticket_link: None,
            booking: None,
            notices: Vec::new(),
        }
    }
}
