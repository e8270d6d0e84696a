//! The service's clock: the one place that reads the time.
//!
//! The engine never reads a clock; the service stamps each event with [`Clock::now`] when it
//! accepts it. The demo runs on a shifted clock so that its stations are open at whatever hour a
//! newcomer starts it — time still passes at the real rate, it just starts on a weekday morning.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Microseconds added to the system time. Shared by every clone, so a test that moves the
    /// clock forward moves it for the whole service.
    offset_us: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that reads `start` now and then runs at the real rate.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        let offset = (start - Utc::now()).num_microseconds().unwrap_or(0);
        Self {
            offset_us: Arc::new(AtomicI64::new(offset)),
        }
    }

    /// Moves the clock forward by `by` (tests of what happens by the clock: closing, alerts).
    pub fn advance(&self, by: Duration) {
        self.offset_us
            .fetch_add(by.num_microseconds().unwrap_or(0), Ordering::SeqCst);
    }

    fn offset(&self) -> Duration {
        Duration::microseconds(self.offset_us.load(Ordering::SeqCst))
    }

    /// For the demo: the coming (or current) working day at `time` in `tz`, as a clock — today
    /// if today is a Monday–Thursday that is not a public holiday, otherwise the next such day
    /// (Friday hours are short, and weekends and holidays are closed, which would make a dull
    /// demo).
    pub fn demo(tz: Tz, time: NaiveTime) -> Self {
        let today = Utc::now().with_timezone(&tz).date_naive();
        let mut day = today;
        while !matches!(
            day.weekday(),
            Weekday::Mon | Weekday::Tue | Weekday::Wed | Weekday::Thu
        ) || crate::holidays::on(day).is_some()
        {
            day += Duration::days(1);
        }
        let start = tz
            .from_local_datetime(&day.and_time(time))
            .earliest()
            .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
        Self::starting_at(start)
    }

    pub fn is_shifted(&self) -> bool {
        self.offset() != Duration::zero()
    }

    /// The time, to the microsecond: the log stores microseconds, so memory and a replay of
    /// the log agree exactly.
    pub fn now(&self) -> DateTime<Utc> {
        let t = Utc::now() + self.offset();
        DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_clock_starts_on_a_weekday_morning() {
        let tz: Tz = "Europe/Oslo".parse().unwrap();
        let clock = Clock::demo(tz, NaiveTime::from_hms_opt(9, 30, 0).unwrap());
        let local = clock.now().with_timezone(&tz);
        assert!(matches!(
            local.weekday(),
            Weekday::Mon | Weekday::Tue | Weekday::Wed | Weekday::Thu
        ));
        assert_eq!(local.format("%H:%M").to_string(), "09:30");
    }
}
