//! Wait estimates from what the station measured, never from a guess.
//!
//! Two measurements feed them: how long recent visitors of a service spent at the desk (from
//! `call` to `check_out`), and which desks called a ticket of that service in the last
//! [`ACTIVE_DESK_WINDOW`]. A service's throughput is then `active desks / mean time at the desk`,
//! and a wait is "the parties ahead / throughput". Without both measurements there is no estimate,
//! and the documents say so (`null`) rather than invent a number. Part of the engine's state, fed
//! with the events' own times, so a replay gives the same estimates.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{DeskId, ServiceId};

/// A desk counts as serving a service while it called one of its tickets this recently.
pub const ACTIVE_DESK_WINDOW: TimeDelta = TimeDelta::minutes(30);
/// How many recent desk times per service the mean is taken over.
pub const DESK_TIMES_KEPT: usize = 20;

/// What the estimates rest on, per service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Seconds from call to check-out of the most recent visitors, newest last.
    desk_seconds: BTreeMap<ServiceId, VecDeque<i64>>,
    /// When each desk last called a ticket of the service.
    last_call: BTreeMap<ServiceId, BTreeMap<DeskId, DateTime<Utc>>>,
}

/// A service's measured pace at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// Mean seconds a visitor spends at a desk.
    pub mean_desk_s: f64,
    /// Desks that called a ticket of the service within the window.
    pub desks: u32,
    /// How many desk times the mean is taken over.
    pub samples: u32,
}

impl Pace {
    /// Parties served per second.
    pub fn rate(&self) -> f64 {
        f64::from(self.desks) / self.mean_desk_s
    }
}

impl Throughput {
    /// A desk called a ticket of `service`.
    pub fn called(&mut self, service: &ServiceId, desk: &DeskId, at: DateTime<Utc>) {
        self.last_call
            .entry(service.clone())
            .or_default()
            .insert(desk.clone(), at);
    }

    /// A called visitor of `service` checked out.
    pub fn served(&mut self, service: &ServiceId, called_at: DateTime<Utc>, at: DateTime<Utc>) {
        let times = self.desk_seconds.entry(service.clone()).or_default();
        // A visitor is at the desk for at least a second; clocks never run backwards here, but a
        // zero would make the rate infinite.
        times.push_back((at - called_at).num_seconds().max(1));
        if times.len() > DESK_TIMES_KEPT {
            times.pop_front();
        }
    }

    /// Desks that called a ticket of `service` within the window before `now`.
    pub fn active_desks(&self, service: &ServiceId, now: DateTime<Utc>) -> u32 {
        self.last_call.get(service).map_or(0, |desks| {
            desks
                .values()
                .filter(|at| now - **at <= ACTIVE_DESK_WINDOW)
                .count() as u32
        })
    }

    /// The pace of `service` at `now`, if there is enough to measure it by.
    pub fn pace(&self, service: &ServiceId, now: DateTime<Utc>) -> Option<Pace> {
        let times = self.desk_seconds.get(service).filter(|t| !t.is_empty())?;
        let desks = self.active_desks(service, now);
        if desks == 0 {
            return None;
        }
        Some(Pace {
            mean_desk_s: times.iter().sum::<i64>() as f64 / times.len() as f64,
            desks,
            samples: times.len() as u32,
        })
    }
}

/// Minutes until `ahead` parties have been served at `pace`, rounded up.
pub fn wait_minutes(ahead: u32, pace: Pace) -> u32 {
    minutes_for(ahead, pace.rate())
}

/// Minutes until `parties` have gone at `per_s` parties a second, rounded up.
pub fn minutes_for(parties: u32, per_s: f64) -> u32 {
    (f64::from(parties) / per_s / 60.0).ceil() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap() + TimeDelta::minutes(min)
    }
    fn svc() -> ServiceId {
        ServiceId::parse("passport").unwrap()
    }
    fn desk(d: &str) -> DeskId {
        DeskId::parse(d).unwrap()
    }

    #[test]
    fn no_measurement_means_no_estimate() {
        let mut th = Throughput::default();
        assert_eq!(th.pace(&svc(), t(0)), None);
        th.called(&svc(), &desk("1"), t(0));
        assert_eq!(
            th.pace(&svc(), t(1)),
            None,
            "a call alone measures no desk time"
        );
    }

    #[test]
    fn the_pace_is_active_desks_over_the_mean_desk_time() {
        let mut th = Throughput::default();
        th.called(&svc(), &desk("1"), t(0));
        th.served(&svc(), t(0), t(4));
        th.called(&svc(), &desk("2"), t(1));
        th.served(&svc(), t(1), t(7));
        let pace = th.pace(&svc(), t(8)).unwrap();
        assert_eq!(pace.desks, 2);
        assert!((pace.mean_desk_s - 300.0).abs() < 1e-9);
        // 6 parties ahead, 2 desks, 5 minutes each: 15 minutes.
        assert_eq!(wait_minutes(6, pace), 15);
    }

    #[test]
    fn desks_that_stopped_calling_no_longer_count() {
        let mut th = Throughput::default();
        th.called(&svc(), &desk("1"), t(0));
        th.served(&svc(), t(0), t(5));
        th.called(&svc(), &desk("2"), t(20));
        assert_eq!(th.active_desks(&svc(), t(25)), 2);
        assert_eq!(th.active_desks(&svc(), t(45)), 1);
        assert_eq!(th.pace(&svc(), t(60)), None, "nobody is serving any more");
    }

    #[test]
    fn only_recent_desk_times_count() {
        let mut th = Throughput::default();
        th.served(&svc(), t(0), t(100));
        for i in 0..DESK_TIMES_KEPT as i64 {
            th.served(&svc(), t(200 + i * 10), t(200 + i * 10 + 2));
        }
        th.called(&svc(), &desk("1"), t(500));
        let pace = th.pace(&svc(), t(500)).unwrap();
        assert!((pace.mean_desk_s - 120.0).abs() < 1e-9);
    }
}
