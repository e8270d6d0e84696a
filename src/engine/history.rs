//! A station's recent occupancy — headcount, cap and outside queue over the last two hours — for
//! the guards' chart.
//!
//! Part of the engine's state, fed by accepted events with the event's own time, so it is rebuilt
//! exactly by a replay or a snapshot like every other part of the state, and a restart does not
//! blank the chart. Bounded: samples closer together than [`BUCKET`] replace each other (a 2-hour
//! chart cannot show finer detail), so a station keeps at most `WINDOW / BUCKET + 1` samples
//! however busy it is.

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// How far back the history reaches.
pub const WINDOW: TimeDelta = TimeDelta::hours(2);
/// The finest resolution kept.
pub const BUCKET: TimeDelta = TimeDelta::seconds(10);

/// The station's numbers just after an accepted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub headcount: u32,
    pub cap: u32,
    /// Parties queued outside.
    pub outside: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct History {
    samples: VecDeque<Sample>,
}

impl History {
    /// Records the state after an event at `sample.at`.
    pub fn record(&mut self, sample: Sample) {
        match self.samples.back_mut() {
            // Same bucket as the previous sample: this one supersedes it.
            Some(last) if bucket(last.at) == bucket(sample.at) => *last = sample,
            _ => self.samples.push_back(sample),
        }
        // Keep one sample at or before the window's start, so the line starts at its left edge.
        let start = sample.at - WINDOW;
        while self.samples.get(1).is_some_and(|s| s.at <= start) {
            self.samples.pop_front();
        }
    }

    /// The samples for the window ending at `now`: the last one at or before its start (the
    /// state the window opened with), then every later one.
    pub fn window(&self, now: DateTime<Utc>) -> Vec<Sample> {
        let start = now - WINDOW;
        let first_inside = self.samples.partition_point(|s| s.at <= start);
        let from = first_inside.saturating_sub(1);
        self.samples.range(from..).copied().collect()
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

fn bucket(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(BUCKET.num_seconds())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: DateTime<Utc>, headcount: u32) -> Sample {
        Sample {
            at,
            headcount,
            cap: 5,
            outside: 0,
        }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap()
    }

    #[test]
    fn samples_in_one_bucket_keep_only_the_latest() {
        let mut h = History::default();
        h.record(sample(t0(), 1));
        h.record(sample(t0() + TimeDelta::seconds(3), 2));
        h.record(sample(t0() + TimeDelta::seconds(12), 3));
        let w = h.window(t0() + TimeDelta::seconds(20));
        assert_eq!(w.iter().map(|s| s.headcount).collect::<Vec<_>>(), [2, 3]);
    }

    #[test]
    fn the_history_is_bounded_by_the_window_and_keeps_the_opening_state() {
        let mut h = History::default();
        for i in 0..10_000 {
            h.record(sample(t0() + TimeDelta::seconds(i * 7), (i % 5) as u32));
        }
        let max = (WINDOW.num_seconds() / BUCKET.num_seconds()) as usize + 2;
        assert!(h.len() <= max, "{} samples kept", h.len());
        let now = t0() + TimeDelta::seconds(10_000 * 7);
        let w = h.window(now);
        assert!(w[0].at <= now - WINDOW, "the first sample opens the window");
        assert!(w[1].at > now - WINDOW);
        assert!(w.windows(2).all(|p| p[0].at < p[1].at));
    }

    #[test]
    fn an_idle_station_still_shows_its_last_state() {
        let mut h = History::default();
        h.record(sample(t0(), 4));
        let w = h.window(t0() + TimeDelta::hours(5));
        assert_eq!(w, vec![sample(t0(), 4)]);
    }
}
