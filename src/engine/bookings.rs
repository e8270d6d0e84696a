//! Booked parties: a booking made, moved and cancelled; room held for it from `hold_min` before
//! its slot (`booking_due`); its arrival at the front desk, ahead of the walk-ins when in its
//! window; and the no-show `grace_min` after its slot started, which gives the held room back.
//!
//! The hold rule: a walk-in — and a booked party outside its window — comes in only while
//! headcount + held + its size ≤ cap, where `held` is the size of every booking that is due and
//! has not arrived. A booked party arriving in its window stops being held and is admitted under
//! the same sum, so it takes its own held room and never another's.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::admission::Arrival;
use super::slots::is_slot;
use super::{Mode, Outcome, Refusal, Station};
use crate::domain::booking::{BookingId, BrowserKey, ExternalRef};
use crate::domain::message::Message;
use crate::domain::status::{BOOKINGS_LISTED, BookingSoon};
use crate::domain::ticket_link::LinkHash;
use crate::domain::{PartySize, ServiceId, Ticket};

/// A booking as the station keeps it: a slot, a party size and what names it — nothing about a
/// person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    pub id: BookingId,
    pub service: ServiceId,
    pub slot: DateTime<Utc>,
    pub size: PartySize,
    /// The hash of its code, when the public made it.
    pub code: Option<LinkHash>,
    /// The reference of the national booking system that pushed it.
    pub external_ref: Option<ExternalRef>,
    /// The booking browser's key, counting its open bookings.
    pub browser: Option<BrowserKey>,
    pub made_at: DateTime<Utc>,
    pub status: BookingStatus,
}

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum BookingStatus {
    /// Booked; its slot is not near yet.
    Booked,
    /// Its slot starts within `hold_min` (or has started): room is held for it.
    Due { since: DateTime<Utc> },
    /// Checked in at the front desk with `ticket`.
    Arrived { at: DateTime<Utc>, ticket: Ticket },
    /// Not arrived `grace_min` after its slot started.
    NoShow { at: DateTime<Utc> },
    /// Cancelled; its slot is free to others from `release_at`.
    Cancelled {
        at: DateTime<Utc>,
        release_at: DateTime<Utc>,
    },
}

impl Booking {
    /// Booked or due: it may still move, be cancelled or arrive.
    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            BookingStatus::Booked | BookingStatus::Due { .. }
        )
    }

    /// Whether room is held for it now.
    pub fn is_held(&self) -> bool {
        matches!(self.status, BookingStatus::Due { .. })
    }

    /// Whether it still takes its slot from others at `now`.
    pub(super) fn holds_its_slot(&self, now: DateTime<Utc>) -> bool {
        match self.status {
            BookingStatus::Cancelled { release_at, .. } => now < release_at,
            _ => true,
        }
    }
}

/// What a `booking_made` event carries besides its id.
#[derive(Debug, Clone, Copy)]
pub(super) struct NewBooking<'a> {
    pub(super) service: &'a ServiceId,
    pub(super) slot: DateTime<Utc>,
    pub(super) size: PartySize,
    pub(super) code: Option<LinkHash>,
    pub(super) external_ref: Option<&'a ExternalRef>,
    pub(super) browser: Option<&'a BrowserKey>,
}

impl Station {
    /// People held for booked parties that are due and have not arrived.
    pub fn held(&self) -> u32 {
        self.held_except(None)
    }

    /// People held for due bookings other than `arriving` (whose own hold ends as it arrives).
    pub(super) fn held_except(&self, arriving: Option<&BookingId>) -> u32 {
        self.state
            .bookings
            .values()
            .filter(|b| b.is_held() && Some(&b.id) != arriving)
            .map(|b| b.size.get())
            .sum()
    }

    /// The booking `id`, in any status, until the day after its slot.
    pub fn booking(&self, id: &BookingId) -> Option<&Booking> {
        self.state.bookings.get(id)
    }

    /// Every booking the station keeps, by id.
    pub fn bookings(&self) -> impl Iterator<Item = &Booking> {
        self.state.bookings.values()
    }

    /// Open bookings made from the browser `key`.
    pub fn open_bookings_of(&self, key: &BrowserKey) -> usize {
        self.state
            .bookings
            .values()
            .filter(|b| b.is_open() && b.browser.as_ref() == Some(key))
            .count()
    }

    /// Open bookings due today from `grace_min` ago on, by slot: what the guards see coming.
    pub(super) fn bookings_soon(&self, now: DateTime<Utc>) -> Vec<BookingSoon> {
        let tz = self.config.timezone;
        let today = now.with_timezone(&tz).date_naive();
        let grace = Duration::minutes(i64::from(self.config.bookings.grace_min));
        let mut soon: Vec<&Booking> = self
            .state
            .bookings
            .values()
            .filter(|b| {
                b.is_open()
                    && b.slot + grace > now
                    && b.slot.with_timezone(&tz).date_naive() == today
            })
            .collect();
        soon.sort_by(|a, b| (a.slot, &a.id).cmp(&(b.slot, &b.id)));
        soon.into_iter()
            .take(BOOKINGS_LISTED)
            .map(|b| BookingSoon {
                booking: b.id.to_string(),
                service: b.service.clone(),
                slot: b.slot,
                party_size: b.size,
                held: b.is_held(),
            })
            .collect()
    }

    /// Whether held room is what keeps the head of the queue out now: it would fit by headcount
    /// alone, not with the held room beside it.
    pub fn held_room_turns_away(&self) -> bool {
        let Some(head) = self.state.outside.front() else {
            return false;
        };
        let size = head.size.get();
        let cap = self.capacity.cap;
        self.headcount() + size <= cap && self.headcount() + self.held() + size > cap
    }

    /// `booking_made`: `id` books `new.slot`. Live, the service must take bookings, the slot be
    /// one of its slots, in the future and within the horizon, and still have a free desk.
    pub(super) fn make_booking(
        &mut self,
        id: &BookingId,
        new: NewBooking<'_>,
        at: DateTime<Utc>,
        mode: Mode,
    ) -> Result<(), Refusal> {
        if self.state.bookings.contains_key(id) {
            return Err(Refusal::BookingRefused(
                Message::new("booking_refused.exists").with("booking", id.as_str()),
            ));
        }
        if new.size.get() > self.capacity.cap {
            return Err(Refusal::PartyTooLarge(
                Message::new("party_too_large")
                    .with("party", new.size.get())
                    .with("cap", self.capacity.cap)
                    .with("distancing_m", self.capacity.distancing_m),
            ));
        }
        if mode == Mode::Live {
            self.check_bookable(new.service, new.slot, None, at)?;
        }
        let booking = Booking {
            id: id.clone(),
            service: new.service.clone(),
            slot: new.slot,
            size: new.size,
            code: new.code,
            external_ref: new.external_ref.cloned(),
            browser: new.browser.cloned(),
            made_at: at,
            status: BookingStatus::Booked,
        };
        self.state.bookings.insert(id.clone(), booking);
        Ok(())
    }

    /// Refuses booking `service`'s `slot` at `at` (for the booking `moving`, which does not count
    /// against itself) unless it is a free future slot within the horizon.
    fn check_bookable(
        &self,
        service: &ServiceId,
        slot: DateTime<Utc>,
        moving: Option<&BookingId>,
        at: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        let spec = self
            .config
            .services
            .iter()
            .find(|s| &s.id == service)
            .ok_or_else(|| Refusal::UnknownService(service.clone()))?;
        let Some(booking) = spec.booking else {
            return Err(Refusal::BookingRefused(
                self.service_message("booking_refused.not_bookable", spec),
            ));
        };
        let tz = self.config.timezone;
        let when = || slot.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
        if !is_slot(spec, tz, slot) {
            return Err(Refusal::BookingRefused(
                self.service_message("booking_refused.not_a_slot", spec)
                    .with("slot", when())
                    .with("slot_min", booking.slot_min),
            ));
        }
        if slot <= at {
            return Err(Refusal::BookingRefused(
                self.service_message("booking_refused.past", spec)
                    .with("slot", when()),
            ));
        }
        let (_, last) = self.booking_days(at);
        if slot.with_timezone(&tz).date_naive() > last {
            return Err(Refusal::BookingRefused(
                self.service_message("booking_refused.beyond_horizon", spec)
                    .with("slot", when())
                    .with("days", self.config.bookings.horizon_days),
            ));
        }
        let taken = self
            .state
            .bookings
            .values()
            .filter(|b| {
                &b.service == service
                    && b.slot == slot
                    && b.holds_its_slot(at)
                    && Some(&b.id) != moving
            })
            .count() as u32;
        if taken >= booking.bookable_desks {
            return Err(Refusal::BookingRefused(
                self.service_message("booking_refused.full", spec)
                    .with("slot", when()),
            ));
        }
        Ok(())
    }

    /// The open booking `id`, refused when unknown or no longer open.
    fn open_booking(&mut self, id: &BookingId) -> Result<&mut Booking, Refusal> {
        let tz = self.config.timezone;
        let booking = self
            .state
            .bookings
            .get_mut(id)
            .ok_or_else(|| booking_refusal("booking_unknown", id))?;
        let code = match booking.status {
            BookingStatus::Booked | BookingStatus::Due { .. } => return Ok(booking),
            BookingStatus::Arrived { .. } => "booking_state.arrived",
            BookingStatus::NoShow { .. } => "booking_state.no_show",
            BookingStatus::Cancelled { .. } => "booking_state.cancelled",
        };
        let slot = booking.slot.with_timezone(&tz).format("%H:%M").to_string();
        Err(Refusal::BookingState(
            Message::new(code)
                .with("booking", id.as_str())
                .with("slot", slot),
        ))
    }

    /// `booking_moved`: an open booking takes another slot of its service (its held room, if
    /// any, is released until the new slot is near).
    pub(super) fn move_booking(
        &mut self,
        id: &BookingId,
        slot: DateTime<Utc>,
        at: DateTime<Utc>,
        mode: Mode,
    ) -> Result<(), Refusal> {
        let service = self.open_booking(id)?.service.clone();
        if mode == Mode::Live {
            self.check_bookable(&service, slot, Some(id), at)?;
        }
        let booking = self.open_booking(id)?;
        booking.slot = slot;
        booking.status = BookingStatus::Booked;
        Ok(())
    }

    /// `booking_cancelled`: an open booking is cancelled; its held room goes at once, its slot
    /// at `release_at`.
    pub(super) fn cancel_booking(
        &mut self,
        id: &BookingId,
        release_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        self.open_booking(id)?.status = BookingStatus::Cancelled { at, release_at };
        Ok(())
    }

    /// `booking_due`: room is held for a booking from now. Live, only once its slot is within
    /// `hold_min`.
    pub(super) fn booking_due(
        &mut self,
        id: &BookingId,
        at: DateTime<Utc>,
        mode: Mode,
    ) -> Result<(), Refusal> {
        let hold = Duration::minutes(i64::from(self.config.bookings.hold_min));
        let booking = self.open_booking(id)?;
        if booking.is_held() || (mode == Mode::Live && at < booking.slot - hold) {
            return Err(booking_refusal("booking_state.not_due", id));
        }
        booking.status = BookingStatus::Due { since: at };
        Ok(())
    }

    /// `booking_no_show`: an open booking's party did not come by `grace_min` after its slot
    /// started; its held room goes to the queue.
    pub(super) fn booking_no_show(
        &mut self,
        id: &BookingId,
        at: DateTime<Utc>,
        mode: Mode,
    ) -> Result<(), Refusal> {
        let grace = Duration::minutes(i64::from(self.config.bookings.grace_min));
        let booking = self.open_booking(id)?;
        if mode == Mode::Live && at < booking.slot + grace {
            return Err(booking_refusal("booking_state.not_late", id));
        }
        booking.status = BookingStatus::NoShow { at };
        Ok(())
    }

    /// `booking_arrived`: the booked party checks in and gets a ticket. In its window (from
    /// `hold_min` before its slot to `grace_min` after) and with `booked_first`, it goes ahead of
    /// the walk-ins; earlier, it queues like a walk-in.
    pub(super) fn booking_arrived(
        &mut self,
        id: &BookingId,
        at: DateTime<Utc>,
        mode: Mode,
        outcome: &mut Outcome,
    ) -> Result<(), Refusal> {
        let rules = self.config.bookings;
        let booking = self.open_booking(id)?.clone();
        let spec = self
            .config
            .services
            .iter()
            .find(|s| s.id == booking.service)
            .ok_or_else(|| Refusal::UnknownService(booking.service.clone()))?;
        let prefix = spec.prefix;
        if mode == Mode::Live {
            // A booked party is not held to the last-check-in margin: its slot was given to it.
            let local = at.with_timezone(&self.config.timezone).naive_local();
            if !spec.hours.is_open(local) {
                self.check_taking_check_ins(spec, at)?;
            }
        }
        let window_opens = booking.slot - Duration::minutes(i64::from(rules.hold_min));
        let arrival = Arrival {
            service: &booking.service,
            party_size: booking.size,
            appointment: None,
            link: None,
            remote: false,
            booking: Some(id),
            ahead: rules.booked_first && at >= window_opens,
        };
        self.issue(prefix, arrival, at, outcome)?;
        let ticket = outcome.ticket.expect("issue gives a ticket");
        self.state
            .bookings
            .get_mut(id)
            .expect("found open above")
            .status = BookingStatus::Arrived { at, ticket };
        outcome.booking = Some(id.clone());
        Ok(())
    }

    /// The booking event the clock makes due at `now`, if any: the earliest no-show first, then
    /// the earliest booking whose room should be held.
    pub(super) fn booking_due_now(&self, now: DateTime<Utc>) -> Option<crate::domain::Event> {
        use crate::domain::Event;
        let rules = self.config.bookings;
        let grace = Duration::minutes(i64::from(rules.grace_min));
        let hold = Duration::minutes(i64::from(rules.hold_min));
        let open = || self.state.bookings.values().filter(|b| b.is_open());
        if let Some(late) = open()
            .filter(|b| b.slot + grace <= now)
            .min_by_key(|b| (b.slot, b.id.clone()))
        {
            return Some(Event::BookingNoShow {
                booking: late.id.clone(),
            });
        }
        open()
            .filter(|b| !b.is_held() && b.slot - hold <= now)
            .min_by_key(|b| (b.slot, b.id.clone()))
            .map(|b| Event::BookingDue {
                booking: b.id.clone(),
            })
    }

    /// At a new local day: bookings that ended (arrived, no-show, cancelled and released) on an
    /// earlier day are forgotten — the log and the reports keep them.
    pub(super) fn forget_ended_bookings(&mut self, at: DateTime<Utc>) {
        let tz = self.config.timezone;
        let today = at.with_timezone(&tz).date_naive();
        self.state.bookings.retain(|_, b| {
            b.is_open() || b.slot.with_timezone(&tz).date_naive() >= today || b.holds_its_slot(at)
        });
    }
}

/// A refusal about booking `id` with `code`.
fn booking_refusal(code: &str, id: &BookingId) -> Refusal {
    Refusal::BookingState(Message::new(code).with("booking", id.as_str()))
}
