//! Bookings: a service's bookable slots (`[stations.services.booking]`), the station's rules for
//! holding room for booked parties (`[stations.bookings]`), and a service's daily walk-in quota.
//!
//! Slots follow the service's own opening hours, exceptions and holidays (`engine/slots.rs`);
//! nothing here repeats them.

/// A service that takes bookings: slots of `slot_min` minutes, each as many bookings as the
/// desks that serve bookings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceBooking {
    /// Length of a slot, in minutes; slots start at each opening range's start.
    pub slot_min: u32,
    /// How many of the service's desks serve bookings (the rest serve walk-ins): one booking per
    /// desk per slot.
    pub bookable_desks: u32,
}

/// A station's rules for booked parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingRules {
    /// Room is held for a booked party from this many minutes before its slot starts.
    pub hold_min: u32,
    /// A booked party that has not arrived this many minutes after its slot started is a
    /// no-show, and its held room goes to the queue.
    pub grace_min: u32,
    /// Booked parties arriving in their window (from `hold_min` before the slot to `grace_min`
    /// after) go in ahead of the walk-in queue.
    pub booked_first: bool,
    /// How many days ahead slots can be booked (today counts as day 0).
    pub horizon_days: u32,
    /// A cancelled slot becomes free to others after a random delay of up to this many minutes,
    /// so a bot watching for cancellations cannot grab them the moment they appear.
    pub release_max_min: u32,
}

impl Default for BookingRules {
    fn default() -> Self {
        Self {
            hold_min: 15,
            grace_min: 10,
            booked_first: true,
            horizon_days: 14,
            release_max_min: 5,
        }
    }
}
