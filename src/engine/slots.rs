//! A bookable service's slots: where they fall, and which are free.
//!
//! Slots are cut from the service's opening hours on each local day — its week, its dated
//! exceptions and the public holidays, exactly as check-ins see them — starting at each opening
//! range's start, every `slot_min` minutes, each ending by the range's end. The local times are
//! turned into instants in the station's time zone: a slot in the hour a spring clock change
//! skips does not exist, and one in the hour an autumn change repeats exists twice. A slot takes
//! as many bookings as the service has `bookable_desks`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::Station;
use crate::config;
use crate::domain::ServiceId;

/// One slot and how many more bookings it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeSlot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub free: u32,
}

/// The starts of `service`'s slots on the local `day` in `tz`, in time order; none when it takes no
/// bookings or is closed that day.
pub fn slots_on(service: &config::Service, tz: Tz, day: NaiveDate) -> Vec<DateTime<Utc>> {
    let Some(booking) = service.booking else {
        return Vec::new();
    };
    let step = booking.slot_min as u16;
    let mut starts = Vec::new();
    for range in service.hours.on(day).0 {
        let mut minute = range.start;
        while u32::from(minute) + u32::from(step) <= u32::from(range.end) {
            let local = day.and_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0);
            if let Some(local) = local {
                match tz.from_local_datetime(&local) {
                    LocalResult::Single(t) => starts.push(t.with_timezone(&Utc)),
                    LocalResult::Ambiguous(a, b) => {
                        starts.push(a.with_timezone(&Utc));
                        starts.push(b.with_timezone(&Utc));
                    }
                    LocalResult::None => {}
                }
            }
            minute += step;
        }
    }
    // In real time: the second 02:00 of an autumn change comes after the first 02:30, and the
    // first free slot is the earliest instant, not the earliest wall-clock time.
    starts.sort_unstable();
    starts
}

/// Whether `start` is one of `service`'s slots.
pub fn is_slot(service: &config::Service, tz: Tz, start: DateTime<Utc>) -> bool {
    let day = start.with_timezone(&tz).date_naive();
    slots_on(service, tz, day).contains(&start)
}

impl Station {
    /// The bookable service `service`, or `None` when it has no such service or it takes no
    /// bookings.
    pub fn bookable(&self, service: &ServiceId) -> Option<&config::Service> {
        self.config
            .services
            .iter()
            .find(|s| &s.id == service && s.booking.is_some())
    }

    /// The local days from today to the booking horizon, as of `now`.
    pub fn booking_days(&self, now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
        let today = self.local_date(now);
        let last = today + Duration::days(i64::from(self.config.bookings.horizon_days));
        (today, last)
    }

    /// `service`'s slots starting in `from..to` (clipped to the future and the booking horizon
    /// as of `now`), each with how many more bookings it takes; full ones are listed with 0.
    pub fn slots(
        &self,
        service: &ServiceId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<FreeSlot> {
        let Some(spec) = self.bookable(service) else {
            return Vec::new();
        };
        let (Some(booking), tz) = (spec.booking, self.config.timezone) else {
            return Vec::new();
        };
        let (today, last) = self.booking_days(now);
        let first_day = from.with_timezone(&tz).date_naive().max(today);
        let last_day = to.with_timezone(&tz).date_naive().min(last);
        let taken = self.taken_slots(service, now);
        let length = Duration::minutes(i64::from(booking.slot_min));
        first_day
            .iter_days()
            .take_while(|d| *d <= last_day)
            .flat_map(|d| slots_on(spec, tz, d))
            .filter(|s| *s >= from && *s < to && *s > now)
            .map(|start| FreeSlot {
                start,
                end: start + length,
                free: booking
                    .bookable_desks
                    .saturating_sub(taken.get(&start).copied().unwrap_or(0)),
            })
            .collect()
    }

    /// The first slot of `service` with room, from `now` to the horizon.
    pub fn next_free_slot(&self, service: &ServiceId, now: DateTime<Utc>) -> Option<FreeSlot> {
        let (_, last) = self.booking_days(now);
        let tz = self.config.timezone;
        let end = last
            .succ_opt()
            .and_then(|d| tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).earliest())?
            .with_timezone(&Utc);
        self.slots(service, now, end, now)
            .into_iter()
            .find(|s| s.free > 0)
    }

    /// Bookings holding each of `service`'s slots at `now`: every booking not cancelled, and a
    /// cancelled one until its slot is released.
    pub(super) fn taken_slots(
        &self,
        service: &ServiceId,
        now: DateTime<Utc>,
    ) -> BTreeMap<DateTime<Utc>, u32> {
        let mut taken = BTreeMap::new();
        for b in self.state.bookings.values() {
            if &b.service == service && b.holds_its_slot(now) {
                *taken.entry(b.slot).or_insert(0) += 1;
            }
        }
        taken
    }
}
