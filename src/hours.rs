//! Opening hours of a service: the weekly schedule in the config's `"08:00-11:00,12:00-15:30"`
//! notation, dated exceptions (closed days, changed hours) and Norway's public holidays, answering
//! "what are the hours on this date, and why", "is it open at this local time" and "when does it
//! open next".
//!
//! Pure and clock-free: callers pass the local wall-clock time in the station's timezone, so
//! daylight-saving changes are handled where the UTC instant is converted, not here.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};
use serde::Serialize;

pub use crate::domain::status::DayHours;
use crate::holidays;

/// One opening interval in minutes after local midnight, `start < end <= 1440`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Range {
    pub start: u16,
    pub end: u16,
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

impl Range {
    /// The minute of the day from which check-ins are refused, `margin` minutes before the range
    /// closes (never before it opens); `None` for a range that runs on past midnight (ends at
    /// 24:00), which has no closing to keep a margin from.
    pub fn last_check_in(self, margin: u32) -> Option<u16> {
        let margin = u16::try_from(margin).unwrap_or(u16::MAX);
        (self.end < 24 * 60).then(|| self.end.saturating_sub(margin).max(self.start))
    }
}

/// Opening hours for each day of the week, Monday first; an empty day is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklyHours {
    days: [Vec<Range>; 7],
}

/// The config's day keys, Monday first.
pub const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn parse_clock(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// Parses one day's ranges, e.g. `"08:00-11:00,12:00-15:30"`. Ranges must be increasing and must
/// not overlap; the message says what to write instead.
pub fn parse_day(s: &str) -> Result<Vec<Range>, String> {
    let mut ranges: Vec<Range> = Vec::new();
    for part in s.split(',').map(str::trim) {
        let bad = || format!("'{part}' is not a range like \"08:00-15:30\"");
        let (a, b) = part.split_once('-').ok_or_else(bad)?;
        let start = parse_clock(a.trim()).ok_or_else(bad)?;
        let end = parse_clock(b.trim()).ok_or_else(bad)?;
        if start >= end {
            return Err(format!("'{part}' ends before it starts"));
        }
        if let Some(prev) = ranges.last() {
            if start < prev.end {
                return Err(format!(
                    "'{part}' overlaps or comes before {prev}; list ranges in order without overlap"
                ));
            }
        }
        ranges.push(Range { start, end });
    }
    Ok(ranges)
}

/// Minutes after midnight as `HH:MM`.
pub fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// Minutes after midnight of `t`.
pub fn minute_of_day(t: NaiveTime) -> u16 {
    (t.hour() * 60 + t.minute()) as u16
}

impl WeeklyHours {
    /// Builds the week from `(day index, ranges)` pairs, Monday = 0.
    pub fn from_days(days: [Vec<Range>; 7]) -> Self {
        Self { days }
    }

    /// Every day 00:00–24:00.
    pub fn always() -> Self {
        let all = vec![Range {
            start: 0,
            end: 24 * 60,
        }];
        Self {
            days: std::array::from_fn(|_| all.clone()),
        }
    }

    pub fn day(&self, weekday: Weekday) -> &[Range] {
        &self.days[weekday.num_days_from_monday() as usize]
    }

    /// All seven days, for documents and the public page.
    pub fn week(&self) -> Vec<DayHours> {
        DAY_KEYS
            .iter()
            .zip(&self.days)
            .map(|(day, ranges)| DayHours {
                day,
                ranges: ranges.iter().map(Range::to_string).collect(),
            })
            .collect()
    }
}

/// A dated change to the weekly hours: other hours that day, or closed (no ranges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub ranges: Vec<Range>,
    pub reason: String,
}

/// Why a date has the hours it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Basis {
    /// The regular weekly hours.
    Weekly,
    /// A Norwegian public holiday: closed.
    Holiday {
        name: &'static str,
        name_en: &'static str,
    },
    /// A dated exception from the config.
    Exception { reason: String },
}

/// A service's whole calendar: the week, the exceptions, and whether public holidays close it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    weekly: WeeklyHours,
    exceptions: BTreeMap<NaiveDate, Exception>,
    holidays: bool,
}

/// How far ahead [`Schedule::next_opening`] looks.
const LOOK_AHEAD_DAYS: i64 = 31;

impl Schedule {
    /// The weekly hours alone: no exceptions, open on public holidays like any other day.
    pub fn weekly(weekly: WeeklyHours) -> Self {
        Self {
            weekly,
            exceptions: BTreeMap::new(),
            holidays: false,
        }
    }

    /// The weekly hours with dated exceptions (which win over holidays), closed on Norway's
    /// public holidays when `holidays` is set.
    pub fn new(
        weekly: WeeklyHours,
        exceptions: BTreeMap<NaiveDate, Exception>,
        holidays: bool,
    ) -> Self {
        Self {
            weekly,
            exceptions,
            holidays,
        }
    }

    pub fn weekly_hours(&self) -> &WeeklyHours {
        &self.weekly
    }

    /// The hours on `date` and why: an exception, else a holiday (closed), else the week.
    pub fn on(&self, date: NaiveDate) -> (&[Range], Basis) {
        if let Some(e) = self.exceptions.get(&date) {
            return (
                &e.ranges,
                Basis::Exception {
                    reason: e.reason.clone(),
                },
            );
        }
        if self.holidays {
            if let Some(h) = holidays::on(date) {
                return (
                    &[],
                    Basis::Holiday {
                        name: h.name,
                        name_en: h.name_en,
                    },
                );
            }
        }
        (self.weekly.day(date.weekday()), Basis::Weekly)
    }

    pub fn is_open(&self, local: NaiveDateTime) -> bool {
        let m = minute_of_day(local.time());
        self.on(local.date())
            .0
            .iter()
            .any(|r| r.start <= m && m < r.end)
    }

    /// The range open at `local`, if any (to know when it closes).
    pub fn open_range(&self, local: NaiveDateTime) -> Option<Range> {
        let m = minute_of_day(local.time());
        self.on(local.date())
            .0
            .iter()
            .copied()
            .find(|r| r.start <= m && m < r.end)
    }

    /// The range open at `local`, or else the next one to open later that day: the one whose
    /// last check-in a visitor asking at `local` cares about.
    pub fn range_today(&self, local: NaiveDateTime) -> Option<Range> {
        let m = minute_of_day(local.time());
        self.on(local.date()).0.iter().copied().find(|r| m < r.end)
    }

    /// The next local time at or after `local` when the service is open, within a month.
    pub fn next_opening(&self, local: NaiveDateTime) -> Option<NaiveDateTime> {
        let now = minute_of_day(local.time());
        for offset in 0..=LOOK_AHEAD_DAYS {
            let date = local.date() + Duration::days(offset);
            for r in self.on(date).0 {
                let start = if offset == 0 {
                    if r.end <= now {
                        continue;
                    }
                    r.start.max(now)
                } else {
                    r.start
                };
                let time =
                    NaiveTime::from_hms_opt(u32::from(start / 60), u32::from(start % 60), 0)?;
                return Some(date.and_time(time));
            }
        }
        None
    }

    /// The hours of `date` as text, e.g. `"08:00-11:00,12:00-15:30"`, or `None` when closed.
    pub fn describe(&self, date: NaiveDate) -> Option<String> {
        let ranges = self.on(date).0;
        (!ranges.is_empty()).then(|| {
            ranges
                .iter()
                .map(Range::to_string)
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    /// The regular week, for documents and the public page.
    pub fn week(&self) -> Vec<DayHours> {
        self.weekly.week()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    /// The weekly hours with `spec` on `day` only, as a schedule without exceptions or holidays.
    fn week_with(day: Weekday, spec: &str) -> Schedule {
        let mut days: [Vec<Range>; 7] = Default::default();
        days[day.num_days_from_monday() as usize] = parse_day(spec).unwrap();
        Schedule::weekly(WeeklyHours::from_days(days))
    }

    #[test]
    fn a_day_with_a_lunch_break_is_closed_during_lunch() {
        // 2026-11-25 is a Wednesday.
        let h = week_with(Weekday::Wed, "08:00-11:00,12:00-15:30");
        assert!(h.is_open(at(2026, 11, 25, 8, 0)));
        assert!(!h.is_open(at(2026, 11, 25, 11, 0)));
        assert!(h.is_open(at(2026, 11, 25, 15, 29)));
        assert!(!h.is_open(at(2026, 11, 25, 15, 30)));
        assert!(!h.is_open(at(2026, 11, 26, 9, 0)));
    }

    #[test]
    fn next_opening_finds_the_afternoon_and_next_week() {
        let h = week_with(Weekday::Wed, "08:00-11:00,12:00-15:30");
        assert_eq!(
            h.next_opening(at(2026, 11, 25, 11, 15)),
            Some(at(2026, 11, 25, 12, 0))
        );
        assert_eq!(
            h.next_opening(at(2026, 11, 25, 16, 0)),
            Some(at(2026, 12, 2, 8, 0))
        );
        assert_eq!(
            Schedule::weekly(WeeklyHours::default()).next_opening(at(2026, 11, 25, 9, 0)),
            None
        );
    }

    #[test]
    fn whole_day_and_malformed_ranges() {
        assert_eq!(parse_day("00:00-24:00").unwrap()[0].end, 1440);
        for bad in [
            "8-15",
            "08:00",
            "15:00-08:00",
            "08:00-12:00,11:00-13:00",
            "24:30-25:00",
            "08:60-09:00",
        ] {
            assert!(parse_day(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn describe_joins_ranges() {
        let h = week_with(Weekday::Mon, "09:00-11:30, 12:00-15:00");
        // 2026-11-23 is a Monday.
        assert_eq!(
            h.describe(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap())
                .as_deref(),
            Some("09:00-11:30,12:00-15:00")
        );
        assert_eq!(
            h.describe(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()),
            None
        );
    }

    #[test]
    fn exceptions_win_over_holidays_which_win_over_the_week() {
        let week = week_with(Weekday::Thu, "08:00-18:00")
            .weekly_hours()
            .clone();
        let mut exceptions = BTreeMap::new();
        // Christmas Eve 2026 is a Thursday: short hours.
        exceptions.insert(
            NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
            Exception {
                ranges: parse_day("08:00-12:00").unwrap(),
                reason: "Julaften".into(),
            },
        );
        let s = Schedule::new(week.clone(), exceptions, true);
        assert!(s.is_open(at(2026, 12, 24, 11, 0)));
        assert!(!s.is_open(at(2026, 12, 24, 13, 0)));
        // Ascension Day 2026 is Thursday 14 May: closed, and it says why.
        let (ranges, basis) = s.on(NaiveDate::from_ymd_opt(2026, 5, 14).unwrap());
        assert!(ranges.is_empty());
        assert_eq!(
            basis,
            Basis::Holiday {
                name: "Kristi himmelfartsdag",
                name_en: "Ascension Day"
            }
        );
        assert_eq!(
            s.next_opening(at(2026, 5, 14, 9, 0)),
            Some(at(2026, 5, 21, 8, 0))
        );
        // Without holidays the same Thursday is a normal day.
        assert!(Schedule::weekly(week).is_open(at(2026, 5, 14, 9, 0)));
    }
}
