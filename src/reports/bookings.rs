//! A daily report's booking figures per service: bookings made, moved and cancelled that day,
//! booked parties that arrived or did not come, how punctual the arrivals were, walk-ins against
//! the service's `walk_in_quota`, and the minutes during which room held for due bookings kept
//! the head of the walk-in queue out although it would have fitted by headcount alone.
//!
//! Every figure counts what happened on the reported day (a booking made last week for today
//! counts as made last week and as arrived or no-show today). The no-show rate is no-shows over
//! the booked parties whose fate was settled that day, arrived + no-shows, so cancellations do
//! not flatter it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{percentile_min, round1};
use crate::config;
use crate::domain::Event;

/// One service's booking figures of one day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BookingDay {
    /// Bookings made that day (for any day).
    pub made: u32,
    /// Bookings moved to another slot that day.
    pub moved: u32,
    /// Bookings cancelled that day.
    pub cancelled: u32,
    /// Booked parties checked in at the front desk.
    pub arrived: u32,
    /// Booked parties that had not come `grace_min` after their slot started.
    pub no_shows: u32,
    /// no_shows / (arrived + no_shows), to three decimals; `null` when neither happened.
    pub no_show_rate: Option<f64>,
    /// Minutes from the slot's start to the party's check-in (negative: early), median and
    /// 90th percentile; `null` when nobody booked arrived.
    pub punctuality_p50_min: Option<f64>,
    pub punctuality_p90_min: Option<f64>,
    /// Walk-in tickets issued (check-ins and joins without a booking): what the quota counts.
    pub walk_ins: u32,
    /// The service's daily walk-in quota; `null` when walk-ins are not capped.
    pub walk_in_quota: Option<u32>,
    /// Minutes during which the head of the queue, a party of this service, would have fitted
    /// by headcount alone but not beside the room held for due bookings.
    pub minutes_held_turned_away: f64,
}

/// One service's booking figures so far.
#[derive(Default)]
pub(super) struct BookingTally {
    made: u32,
    moved: u32,
    cancelled: u32,
    arrived: u32,
    no_shows: u32,
    walk_ins: u32,
    /// Each arrival's check-in minus its slot's start, in seconds.
    lateness_s: Vec<i64>,
    /// Time the held room turned this service's head of the queue away, in milliseconds.
    turned_away_ms: i64,
}

impl BookingTally {
    /// Counts a booking event of this service's booking; `slot` is the booking's slot after it.
    pub(super) fn booking_event(&mut self, event: &Event, at: DateTime<Utc>, slot: DateTime<Utc>) {
        match event {
            Event::BookingMade { .. } => self.made += 1,
            Event::BookingMoved { .. } => self.moved += 1,
            Event::BookingCancelled { .. } => self.cancelled += 1,
            Event::BookingArrived { .. } => {
                self.arrived += 1;
                self.lateness_s.push((at - slot).num_seconds());
            }
            Event::BookingNoShow { .. } => self.no_shows += 1,
            _ => {}
        }
    }

    /// Counts a walk-in ticket (a check-in or a join without a booking).
    pub(super) fn walk_in(&mut self) {
        self.walk_ins += 1;
    }

    /// Adds `ms` milliseconds during which held room turned this service's head of the queue
    /// away.
    pub(super) fn turned_away(&mut self, ms: i64) {
        self.turned_away_ms += ms;
    }

    /// The service's booking figures, punctuality as percentiles.
    pub(super) fn into_day(mut self, service: &config::Service) -> BookingDay {
        self.lateness_s.sort_unstable();
        let settled = self.arrived + self.no_shows;
        BookingDay {
            made: self.made,
            moved: self.moved,
            cancelled: self.cancelled,
            arrived: self.arrived,
            no_shows: self.no_shows,
            no_show_rate: (settled > 0)
                .then(|| (f64::from(self.no_shows) / f64::from(settled) * 1000.0).round() / 1000.0),
            punctuality_p50_min: percentile_min(&self.lateness_s, 50),
            punctuality_p90_min: percentile_min(&self.lateness_s, 90),
            walk_ins: self.walk_ins,
            walk_in_quota: service.walk_in_quota,
            minutes_held_turned_away: round1(self.turned_away_ms as f64 / 60_000.0),
        }
    }
}

/// The CSV columns the booking figures add to each service's row.
pub(super) const CSV_HEADER: &str = "bookings_made,bookings_moved,bookings_cancelled,bookings_arrived,booking_no_shows,booking_no_show_rate,punctuality_p50_min,punctuality_p90_min,walk_ins,walk_in_quota,minutes_held_turned_away";

/// The booking figures as CSV cells, in [`CSV_HEADER`]'s order (empty where `null`).
pub(super) fn csv_cells(b: &BookingDay) -> String {
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    format!(
        "{},{},{},{},{},{},{},{},{},{},{}",
        b.made,
        b.moved,
        b.cancelled,
        b.arrived,
        b.no_shows,
        opt(b.no_show_rate),
        opt(b.punctuality_p50_min),
        opt(b.punctuality_p90_min),
        b.walk_ins,
        b.walk_in_quota.map(|q| q.to_string()).unwrap_or_default(),
        b.minutes_held_turned_away
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{NaiveDate, TimeZone};

    use super::super::{StationDay, day, earlier_bookings};
    use super::*;
    use crate::domain::booking::{BookingId, ExternalRef};
    use crate::domain::{DeviceId, PartySize, Recorded};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn id(n: u32) -> BookingId {
        BookingId::of_external(&ExternalRef::parse(&format!("ref-{n}")).unwrap())
    }

    /// Replays `log` (events before the reported day and on it) as the report route does and
    /// reports 2026-12-01 at `station`.
    fn report(station: &Arc<config::Station>, log: Vec<(&str, Event)>) -> StationDay {
        let rules = config::Config::sample().rules;
        let date = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let midnight = |d: NaiveDate| {
            let local = station
                .timezone
                .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap());
            local.unwrap().with_timezone(&Utc)
        };
        let bounds = (midnight(date), midnight(date.succ_opt().unwrap()));
        let recorded: Vec<Recorded> = log
            .into_iter()
            .enumerate()
            .map(|(i, (when, event))| Recorded {
                station: station.id.clone(),
                seq: i as u64 + 1,
                at: at(when),
                device: DeviceId::parse("desk-1").unwrap(),
                event,
            })
            .collect();
        let (before, on_day): (Vec<_>, Vec<_>) =
            recorded.into_iter().partition(|r| r.at < bounds.0);
        let earlier = earlier_bookings(before);
        day(station, &rules, date, bounds, bounds.1, (&earlier, &on_day))
    }

    #[test]
    fn bookings_arrivals_no_shows_punctuality_and_held_room_minutes_are_counted_exactly() {
        let mut config = config::Config::sample()
            .stations
            .into_iter()
            .find(|s| s.id.as_str() == "oslo-manglerud")
            .unwrap();
        config.services[0].booking = Some(config::ServiceBooking {
            slot_min: 15,
            bookable_desks: 2,
        });
        config.services[0].walk_in_quota = Some(40);
        config.bookings = config::BookingRules::default();
        let station = Arc::new(config);
        let service = station.services[0].id.clone();
        let cap =
            crate::engine::Station::new(station.clone(), &config::Config::sample().rules).cap();
        assert!(cap >= 4, "the test fills the room around a party of 3");

        let made = |n: u32, slot: &str, size: u32| Event::BookingMade {
            booking: id(n),
            service: service.clone(),
            slot: at(slot),
            party_size: PartySize::new(size).unwrap(),
            code: None,
            external_ref: Some(ExternalRef::parse(&format!("ref-{n}")).unwrap()),
            browser: None,
        };
        let walk_in = || Event::CheckIn {
            service: service.clone(),
            party_size: PartySize::new(1).unwrap(),
            appointment: None,
            link: None,
        };
        let due = |n| Event::BookingDue { booking: id(n) };
        let arrived = |n| Event::BookingArrived { booking: id(n) };
        let mut log = vec![
            // Made before the day: inherited, not counted as made on it.
            ("2026-11-28T12:00:00Z", made(1, "2026-12-01T10:00:00Z", 2)),
            ("2026-11-28T12:01:00Z", made(2, "2026-12-01T10:00:00Z", 1)),
            ("2026-11-29T12:00:00Z", made(5, "2026-12-01T10:30:00Z", 1)),
            // The day: two made, one of them cancelled, the other moved.
            ("2026-12-01T08:00:00Z", made(3, "2026-12-01T11:00:00Z", 1)),
            ("2026-12-01T08:05:00Z", made(4, "2026-12-01T11:00:00Z", 1)),
            (
                "2026-12-01T08:10:00Z",
                Event::BookingCancelled {
                    booking: id(4),
                    release_at: at("2026-12-01T08:12:00Z"),
                },
            ),
            (
                "2026-12-01T08:20:00Z",
                Event::BookingMoved {
                    booking: id(3),
                    slot: at("2026-12-01T11:15:00Z"),
                },
            ),
            // Three held from 09:45; walk-ins fill the rest of the room.
            ("2026-12-01T09:45:00Z", due(1)),
            ("2026-12-01T09:45:00Z", due(2)),
        ];
        log.extend((0..cap - 3).map(|_| ("2026-12-01T09:46:00Z", walk_in())));
        log.extend([
            // This walk-in would fit by headcount: the held room turns it away from 09:50…
            ("2026-12-01T09:50:00Z", walk_in()),
            // … through booking 1 arriving 8 minutes early (booking 2 is still held) …
            ("2026-12-01T09:52:00Z", arrived(1)),
            // … until booking 2's no-show gives its room to the queue: 20 minutes.
            (
                "2026-12-01T10:10:00Z",
                Event::BookingNoShow { booking: id(2) },
            ),
            ("2026-12-01T10:15:00Z", due(5)),
            ("2026-12-01T10:30:00Z", arrived(5)),
            ("2026-12-01T11:00:00Z", due(3)),
            ("2026-12-01T11:20:00Z", arrived(3)),
        ]);

        let report = report(&station, log);
        let b = &report.services[0].bookings;
        assert_eq!(
            (b.made, b.moved, b.cancelled, b.arrived, b.no_shows),
            (2, 1, 1, 3, 1)
        );
        assert_eq!(b.no_show_rate, Some(0.25));
        // Arrivals -8, 0 and +5 minutes against their slots.
        assert_eq!(b.punctuality_p50_min, Some(0.0));
        assert_eq!(b.punctuality_p90_min, Some(5.0));
        assert_eq!((b.walk_ins, b.walk_in_quota), (cap - 2, Some(40)));
        assert_eq!(b.minutes_held_turned_away, 20.0);
        assert_eq!(report.minutes_held_turned_away, 20.0);
        let row = &report.services[0];
        assert_eq!(row.parties, cap - 2 + 3, "booked arrivals are parties too");
    }

    #[test]
    fn the_csv_row_carries_the_booking_columns_in_the_header_s_order() {
        let b = BookingDay {
            made: 4,
            moved: 1,
            cancelled: 2,
            arrived: 3,
            no_shows: 1,
            no_show_rate: Some(0.25),
            punctuality_p50_min: Some(-1.5),
            punctuality_p90_min: None,
            walk_ins: 7,
            walk_in_quota: None,
            minutes_held_turned_away: 12.5,
        };
        assert_eq!(CSV_HEADER.split(',').count(), 11);
        assert_eq!(csv_cells(&b), "4,1,2,3,1,0.25,-1.5,,7,,12.5");
    }
}
