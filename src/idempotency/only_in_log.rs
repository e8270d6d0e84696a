//! Which answered keys the log holds that memory does not — so that a key memory does not know
//! is looked up in the log only when it may be one of them, not on every new request.
//!
//! Keys are kept as the same 8-byte hash the SQLite log indexes them by ([`key_hash`]): a hash
//! shared by a new key and an old one costs one needless look-up, never a wrong answer (the log
//! compares the key in full). Hashes are grouped by the hour their answers were given, and an
//! hour's group is dropped once its answers are past twice the retention window — the log has
//! forgotten them too — so the set is bounded by the window, not by the log's age. Past a cap
//! (a share of the memory budget) the set gives up and every unknown key is looked up, as before.

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sha2::{Digest, Sha256};

/// What the log's index and this set know an answer's key by: the first 8 bytes of SHA-256 over
/// device and key.
pub fn key_hash(device: &str, key: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(device.as_bytes())
        .chain_update(b"\n")
        .chain_update(key.as_bytes())
        .finalize();
    i64::from_be_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"))
}

/// What one hash costs in memory, rounded up (a hash set's slot, its control byte, spare room).
pub(super) const BYTES_PER_HASH: usize = 24;

#[derive(Debug)]
pub(super) enum OnlyInLog {
    /// Every key the log holds and memory does not, by hour answered (oldest first).
    Known(VecDeque<(DateTime<Utc>, HashSet<i64>)>),
    /// Not known: every key memory does not hold is looked up.
    Unknown,
}

impl OnlyInLog {
    /// Keys answered before `hour` (the log's part of the window at start-up), or `None` when
    /// the log could not list them.
    pub(super) fn start(older: Option<(DateTime<Utc>, Vec<i64>)>, cap: usize) -> OnlyInLog {
        match older {
            Some((_, hashes)) if hashes.len() > cap => OnlyInLog::Unknown,
            Some((hour, hashes)) => {
                OnlyInLog::Known(VecDeque::from([(hour, hashes.into_iter().collect())]))
            }
            None => OnlyInLog::Unknown,
        }
    }

    /// Whether a key of this hash may be in the log though not in memory.
    pub(super) fn may_hold(&self, hash: i64) -> bool {
        match self {
            OnlyInLog::Known(hours) => hours.iter().any(|(_, set)| set.contains(&hash)),
            OnlyInLog::Unknown => true,
        }
    }

    /// An answer given at `at` left memory; it stays in the log.
    pub(super) fn left_memory(&mut self, hash: i64, at: DateTime<Utc>, cap: usize) {
        let OnlyInLog::Known(hours) = self else {
            return;
        };
        let hour = at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at);
        match hours.back_mut() {
            Some((last, set)) if *last >= hour => {
                set.insert(hash);
            }
            _ => hours.push_back((hour, HashSet::from([hash]))),
        }
        if hours.iter().map(|(_, set)| set.len()).sum::<usize>() > cap {
            *self = OnlyInLog::Unknown;
        }
    }

    /// Drops the hours whose answers the log has forgotten (given before `forgotten_before`).
    pub(super) fn forget_before(&mut self, forgotten_before: DateTime<Utc>) {
        if let OnlyInLog::Known(hours) = self {
            while hours
                .front()
                .is_some_and(|(hour, _)| *hour + TimeDelta::hours(1) <= forgotten_before)
            {
                hours.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_that_left_memory_are_looked_up_and_forgotten_hours_are_dropped() {
        let t0: DateTime<Utc> = "2026-11-30T08:00:00Z".parse().unwrap();
        let mut set = OnlyInLog::start(Some((t0, vec![1, 2])), 100);
        assert!(set.may_hold(1) && set.may_hold(2));
        assert!(!set.may_hold(3), "a new key needs no look-up");
        set.left_memory(3, t0 + TimeDelta::hours(2), 100);
        assert!(set.may_hold(3));
        set.forget_before(t0 + TimeDelta::hours(1));
        assert!(!set.may_hold(1), "the log forgot the first hour's answers");
        assert!(set.may_hold(3));
    }

    #[test]
    fn past_its_cap_or_without_a_listing_every_unknown_key_is_looked_up() {
        let t0 = Utc::now();
        assert!(OnlyInLog::start(None, 100).may_hold(7));
        assert!(OnlyInLog::start(Some((t0, vec![1, 2, 3])), 2).may_hold(7));
        let mut set = OnlyInLog::start(Some((t0, vec![])), 2);
        for h in 0..3 {
            set.left_memory(h, t0, 2);
        }
        assert!(set.may_hold(99));
    }
}
