//! How instants are written in status documents: RFC 3339 in UTC, exactly as chrono writes them
//! (`2026-11-30T08:30:01.543389Z`, with 0, 3, 6 or 9 fraction digits as the value needs), but
//! built in a small buffer and handed to the serializer as one string.
//!
//! Why not chrono's own `Serialize`: it goes through `fmt` one fragment at a time, and serde_json
//! escapes each fragment separately; a full document carries a few dozen instants and is rendered
//! after every event, where this was over half of the rendering time (see BENCHMARKS.md). Values
//! chrono writes differently (years outside 0–9999, leap seconds) are left to chrono.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// `#[serde(serialize_with = "timestamp::serialize")]` for a `DateTime<Utc>`.
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 32];
    match write(t, &mut buf) {
        Some(len) => s.serialize_str(std::str::from_utf8(&buf[..len]).expect("ASCII digits")),
        None => serde::Serialize::serialize(t, s),
    }
}

/// The same for an `Option<DateTime<Utc>>` (`null` for `None`).
pub fn serialize_option<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serialize(t, s),
        None => s.serialize_none(),
    }
}

/// Writes `t` into `buf` and returns its length, or `None` for a value left to chrono.
fn write(t: &DateTime<Utc>, buf: &mut [u8; 32]) -> Option<usize> {
    let year = t.year();
    let nano = t.nanosecond();
    if !(0..=9999).contains(&year) || nano >= 1_000_000_000 {
        return None;
    }
    let mut out = Out { buf, len: 0 };
    out.digits(year.unsigned_abs(), 4);
    out.byte(b'-');
    out.digits(t.month(), 2);
    out.byte(b'-');
    out.digits(t.day(), 2);
    out.byte(b'T');
    out.digits(t.hour(), 2);
    out.byte(b':');
    out.digits(t.minute(), 2);
    out.byte(b':');
    out.digits(t.second(), 2);
    if nano != 0 {
        out.byte(b'.');
        if nano % 1_000_000 == 0 {
            out.digits(nano / 1_000_000, 3);
        } else if nano % 1_000 == 0 {
            out.digits(nano / 1_000, 6);
        } else {
            out.digits(nano, 9);
        }
    }
    out.byte(b'Z');
    Some(out.len)
}

struct Out<'a> {
    buf: &'a mut [u8; 32],
    len: usize,
}

impl Out<'_> {
    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// `value` in exactly `width` decimal digits, zero-padded.
    fn digits(&mut self, value: u32, width: usize) {
        let mut v = value;
        for i in (0..width).rev() {
            self.buf[self.len + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        self.len += width;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(serde::Serialize)]
    struct Ours(#[serde(serialize_with = "serialize")] DateTime<Utc>);

    fn both(t: DateTime<Utc>) -> (String, String) {
        (
            serde_json::to_string(&Ours(t)).unwrap(),
            serde_json::to_string(&t).unwrap(),
        )
    }

    proptest! {
        /// Byte for byte what chrono writes, for every precision chrono distinguishes.
        #[test]
        fn instants_are_written_exactly_as_chrono_writes_them(
            secs in -62_000_000_000i64..300_000_000_000i64,
            nanos in 0u32..1_000_000_000,
            precision in 0usize..4,
        ) {
            let nanos = [0, nanos / 1_000_000 * 1_000_000, nanos / 1000 * 1000, nanos][precision];
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            let (ours, chronos) = both(t);
            prop_assert_eq!(ours, chronos);
        }
    }

    #[test]
    fn the_edges_are_written_as_chrono_writes_them() {
        for t in [
            DateTime::<Utc>::UNIX_EPOCH,
            DateTime::from_timestamp(253_402_300_799, 999_999_999).unwrap(), // 9999-12-31
            DateTime::from_timestamp(-62_167_219_200, 0).unwrap(),           // year 0
            DateTime::from_timestamp(-62_167_219_201, 0).unwrap(),           // year -1: chrono's
            DateTime::from_timestamp(253_402_300_800, 0).unwrap(),           // year 10000: chrono's
            DateTime::from_timestamp(1_483_228_799, 1_500_000_000).unwrap(), // a leap second
        ] {
            let (ours, chronos) = both(t);
            assert_eq!(ours, chronos);
        }
        let (ours, _) = both(DateTime::from_timestamp(1_796_027_401, 543_389_000).unwrap());
        assert_eq!(ours, "\"2026-11-30T08:30:01.543389Z\"");
    }
}
