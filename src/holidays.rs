//! Norway's public holidays (helligdager), fixed and Easter-dependent, for any year.
//!
//! Police service counters are closed on these days unless the config says otherwise (a dated
//! exception wins over a holiday; `[calendar] norwegian_holidays = false` turns them all off).

use chrono::{Datelike, Duration, NaiveDate};

/// One public holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    /// Bokmål name, as Norwegians know it.
    pub name: &'static str,
    pub name_en: &'static str,
}

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous Gregorian algorithm, also
/// known as Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a valid date")
}

/// The public holidays of `year`, in date order.
pub fn of_year(year: i32) -> Vec<Holiday> {
    let fixed = |month, day, name, name_en| Holiday {
        date: NaiveDate::from_ymd_opt(year, month, day).expect("fixed holidays are valid dates"),
        name,
        name_en,
    };
    let easter = easter_sunday(year);
    let moving = |offset: i64, name, name_en| Holiday {
        date: easter + Duration::days(offset),
        name,
        name_en,
    };
    let mut days = vec![
        fixed(1, 1, "Nyttårsdag", "New Year's Day"),
        moving(-3, "Skjærtorsdag", "Maundy Thursday"),
        moving(-2, "Langfredag", "Good Friday"),
        moving(0, "Første påskedag", "Easter Sunday"),
        moving(1, "Andre påskedag", "Easter Monday"),
        fixed(5, 1, "Arbeidernes dag", "Labour Day"),
        fixed(5, 17, "Grunnlovsdag", "Constitution Day"),
        moving(39, "Kristi himmelfartsdag", "Ascension Day"),
        moving(49, "Første pinsedag", "Whit Sunday"),
        moving(50, "Andre pinsedag", "Whit Monday"),
        fixed(12, 25, "Første juledag", "Christmas Day"),
        fixed(12, 26, "Andre juledag", "Boxing Day"),
    ];
    days.sort_by_key(|h| h.date);
    days
}

/// The holiday on `date`, if it is one.
pub fn on(date: NaiveDate) -> Option<Holiday> {
    of_year(date.year()).into_iter().find(|h| h.date == date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_matches_the_almanac() {
        for (year, month, day) in [
            (2020, 4, 12),
            (2021, 4, 4),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
        ] {
            assert_eq!(easter_sunday(year), d(year, month, day), "{year}");
        }
    }

    #[test]
    fn the_easter_dependent_holidays_of_2026() {
        let names: Vec<(NaiveDate, &str)> =
            of_year(2026).iter().map(|h| (h.date, h.name)).collect();
        for expected in [
            (d(2026, 4, 2), "Skjærtorsdag"),
            (d(2026, 4, 3), "Langfredag"),
            (d(2026, 4, 6), "Andre påskedag"),
            (d(2026, 5, 14), "Kristi himmelfartsdag"),
            (d(2026, 5, 25), "Andre pinsedag"),
        ] {
            assert!(names.contains(&expected), "{expected:?} in {names:?}");
        }
        assert_eq!(of_year(2026).len(), 12);
    }

    #[test]
    fn ordinary_days_are_not_holidays() {
        assert_eq!(on(d(2026, 11, 25)), None);
        assert_eq!(on(d(2026, 5, 17)).unwrap().name_en, "Constitution Day");
    }
}
