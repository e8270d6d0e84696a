//! A station's `[stations.remote]` table: counts of at least 1 where a 0 would make no sense,
//! join hours as one range, and an entrance code long enough not to be guessed at the door.

use super::Checker;
use crate::config::Remote;
use crate::config::raw::RawRemote;

/// Shortest entrance code: a guess at it from afar should be a long shot.
const MIN_ENTRANCE_CODE: usize = 6;

/// The station's rules for remote parties, the defaults for what the file leaves out; `None`
/// when any key has an error (each one recorded).
pub(super) fn remote(c: &Checker<'_>, key: &str, raw: Option<RawRemote>) -> Option<Remote> {
    let Some(raw) = raw else {
        return Some(Remote::default());
    };
    let defaults = Remote::default();
    let join_hours = match raw.join_hours.as_deref() {
        None => Some(None),
        Some(text) => c.keep(
            join_hours(text)
                .map(Some)
                .map_err(|reason| c.err(format!("{key}.remote.join_hours"), reason)),
        ),
    };
    let entrance_code = match raw.entrance_code {
        Some(code) if code.trim().chars().count() < MIN_ENTRANCE_CODE => {
            c.report(c.err(
                format!("{key}.remote.entrance_code"),
                format!("must be at least {MIN_ENTRANCE_CODE} characters, so nobody guesses it"),
            ));
            None
        }
        code => Some(code.map(|c| c.trim().to_owned())),
    };
    Some(Remote {
        notify_ahead: raw.notify_ahead.map_or(defaults.notify_ahead, |n| n.get()),
        come_back_min: raw
            .come_back_min
            .map_or(defaults.come_back_min, |n| n.get()),
        more_time_places: raw
            .more_time_places
            .map_or(defaults.more_time_places, |n| n.get()),
        join: raw.join.unwrap_or(defaults.join),
        join_quota: raw.join_quota.map_or(defaults.join_quota, |n| n.get()),
        join_hours: join_hours?,
        entrance_code: entrance_code?,
    })
}

/// `"08:00-13:00"`: one range of the day.
fn join_hours(text: &str) -> Result<(u16, u16), String> {
    match crate::hours::parse_day(text)?.as_slice() {
        [range] => Ok((range.start, range.end)),
        _ => Err(format!("'{text}' must be one range like \"08:00-13:00\"")),
    }
}
