//! A station's `[stations.bookings]` and a service's `[stations.services.booking]`: each number
//! within the range a real office could mean, so a typo (a 600-minute slot, a hold of a day) is
//! named at start-up instead of quietly emptying the room.

use super::Checker;
use crate::config::raw::{RawBookingRules, RawServiceBooking};
use crate::config::{BookingRules, ServiceBooking};

/// `value` of `key` when it lies in `lo..=hi`; otherwise the error is recorded.
fn within(c: &Checker<'_>, key: String, value: u32, lo: u32, hi: u32, unit: &str) -> Option<u32> {
    if (lo..=hi).contains(&value) {
        Some(value)
    } else {
        c.report(c.err(
            key,
            format!("{value} is out of range: use {lo}–{hi} {unit}"),
        ));
        None
    }
}

/// The station's booking rules, the defaults for what the file leaves out; `None` when any key
/// has an error (each one recorded).
pub(super) fn rules(
    c: &Checker<'_>,
    key: &str,
    raw: Option<RawBookingRules>,
) -> Option<BookingRules> {
    let raw = raw.unwrap_or_default();
    let d = BookingRules::default();
    let hold_min = within(
        c,
        format!("{key}.bookings.hold_min"),
        raw.hold_min.unwrap_or(d.hold_min),
        0,
        240,
        "minutes",
    );
    let grace_min = within(
        c,
        format!("{key}.bookings.grace_min"),
        raw.grace_min.map_or(d.grace_min, |n| n.get()),
        1,
        120,
        "minutes",
    );
    let horizon_days = within(
        c,
        format!("{key}.bookings.horizon_days"),
        raw.horizon_days.unwrap_or(d.horizon_days),
        0,
        90,
        "days",
    );
    let release_max_min = within(
        c,
        format!("{key}.bookings.release_max_min"),
        raw.release_max_min.unwrap_or(d.release_max_min),
        0,
        60,
        "minutes",
    );
    Some(BookingRules {
        hold_min: hold_min?,
        grace_min: grace_min?,
        booked_first: raw.booked_first.unwrap_or(d.booked_first),
        horizon_days: horizon_days?,
        release_max_min: release_max_min?,
    })
}

/// A service's bookable slots; `None` outside when a key has an error (recorded).
pub(super) fn service(
    c: &Checker<'_>,
    key: &str,
    raw: Option<RawServiceBooking>,
) -> Option<Option<ServiceBooking>> {
    let Some(raw) = raw else {
        return Some(None);
    };
    let slot_min = within(
        c,
        format!("{key}.booking.slot_min"),
        raw.slot_min.get(),
        5,
        240,
        "minutes",
    );
    let desks = within(
        c,
        format!("{key}.booking.bookable_desks"),
        raw.bookable_desks.get(),
        1,
        50,
        "desks",
    );
    Some(Some(ServiceBooking {
        slot_min: slot_min?,
        bookable_desks: desks?,
    }))
}
