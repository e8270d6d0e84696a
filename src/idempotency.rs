//! Idempotent event posting: a retried request is answered from memory, never applied twice.
//!
//! Each `(device, Idempotency-Key)` is in one of two states: in flight (the first request is
//! being applied and committed) or done (its answer is stored, byte for byte, in memory and in
//! the log in the same transaction as the event). [`IdempotencyTable::begin`] decides atomically,
//! in one DashMap entry operation, whether a request proceeds, replays, or is refused; so two
//! copies of the same request racing each other cannot both proceed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

use bytes::Bytes;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use sha2::{Digest, Sha256};

use crate::domain::{DeviceId, StationId};

/// How long answers stay in memory. Older ones stay in the log and are looked up there on demand,
/// so a terminal retrying after days off-line is still answered from its stored answer, while
/// start-up and memory do not grow with the age of the log.
pub const KEPT_IN_MEMORY: TimeDelta = TimeDelta::days(1);

/// How far back start-up loads answers into memory. A terminal retries an unanswered request
/// within seconds, so after a crash this window holds every answer a retry will ask for; anything
/// older is looked up in the log on demand. Loading the whole of [`KEPT_IN_MEMORY`] instead would
/// make start-up grow with a busy day's traffic (a million answers take over a second).
pub const LOADED_AT_START: TimeDelta = TimeDelta::minutes(10);

/// A request's identity: SHA-256 over the station and the canonical JSON of its body, so the same
/// event sent with other whitespace or key order counts as the same request.
pub fn fingerprint(station: &StationId, body: &serde_json::Value) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(station.as_str().as_bytes());
    h.update(b"\n");
    // serde_json's Map is ordered by key (no `preserve_order` feature), so this is canonical.
    h.update(body.to_string().as_bytes());
    h.finalize().into()
}

/// A validated `Idempotency-Key` header: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| (0x21..=0x7e).contains(&b));
        ok.then(|| Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored answer to an idempotent request as the log keeps it, replayed byte for byte on a
/// retry. Owned here, with the table that uses it; the log stores and returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub device: DeviceId,
    pub key: String,
    pub fingerprint: [u8; 32],
    pub status: u16,
    pub body: Bytes,
    pub at: DateTime<Utc>,
}

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

#[derive(Debug, Clone)]
enum Slot {
    InFlight {
        fingerprint: [u8; 32],
    },
    Done {
        fingerprint: [u8; 32],
        answer: Arc<Answer>,
        /// When it was answered, for evicting old answers from memory.
        at: DateTime<Utc>,
    },
}

/// What to do with a request.
#[derive(Debug)]
pub enum Begin {
    /// First time: go ahead, then call `complete` or `abandon`.
    Proceed,
    /// Seen and answered: send this again.
    Replay(Arc<Answer>),
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key has not finished yet.
    InFlight,
}

type SlotKey = (DeviceId, String);

#[derive(Debug, Default)]
pub struct IdempotencyTable {
    slots: DashMap<SlotKey, Slot>,
    /// Whether the log holds answers that memory does not (loaded window, evictions); only then
    /// does a key unknown in memory need a look-up in the log.
    older_in_log: AtomicBool,
}

impl IdempotencyTable {
    /// Loads answers stored in the log; `older_in_log` says whether the log has more than these.
    pub fn from_records(records: Vec<IdempotencyRecord>, older_in_log: bool) -> Self {
        let slots = DashMap::with_capacity(records.len());
        for r in records {
            slots.insert(
                (r.device, r.key),
                Slot::Done {
                    fingerprint: r.fingerprint,
                    answer: Arc::new(Answer {
                        status: r.status,
                        body: r.body,
                    }),
                    at: r.at,
                },
            );
        }
        Self {
            slots,
            older_in_log: AtomicBool::new(older_in_log),
        }
    }

    /// Whether a key unknown in memory must be looked up in the log before it may proceed.
    pub fn needs_log_lookup(&self, device: &DeviceId, key: &IdempotencyKey) -> bool {
        self.older_in_log.load(Ordering::Acquire)
            && !self.slots.contains_key(&(device.clone(), key.0.clone()))
    }

    /// Brings an answer found in the log back into memory (unless the key is already known).
    pub fn remember(&self, record: IdempotencyRecord) {
        self.slots
            .entry((record.device, record.key))
            .or_insert(Slot::Done {
                fingerprint: record.fingerprint,
                answer: Arc::new(Answer {
                    status: record.status,
                    body: record.body,
                }),
                at: record.at,
            });
    }

    /// Forgets answers given before `cutoff`; they remain in the log.
    pub fn evict_before(&self, cutoff: DateTime<Utc>) {
        let before = self.slots.len();
        self.slots
            .retain(|_, slot| !matches!(slot, Slot::Done { at, .. } if *at < cutoff));
        if self.slots.len() < before {
            self.older_in_log.store(true, Ordering::Release);
        }
    }

    pub fn begin(&self, device: &DeviceId, key: &IdempotencyKey, fp: [u8; 32]) -> Begin {
        match self.slots.entry((device.clone(), key.0.clone())) {
            Entry::Vacant(v) => {
                v.insert(Slot::InFlight { fingerprint: fp });
                Begin::Proceed
            }
            Entry::Occupied(o) => match o.get() {
                Slot::InFlight { fingerprint } if *fingerprint == fp => Begin::InFlight,
                Slot::Done {
                    fingerprint,
                    answer,
                    ..
                } if *fingerprint == fp => Begin::Replay(answer.clone()),
                _ => Begin::Mismatch,
            },
        }
    }

    /// The answer is durable: later retries replay it.
    pub fn complete(
        &self,
        device: &DeviceId,
        key: &IdempotencyKey,
        fp: [u8; 32],
        answer: Arc<Answer>,
        at: DateTime<Utc>,
    ) {
        self.slots.insert(
            (device.clone(), key.0.clone()),
            Slot::Done {
                fingerprint: fp,
                answer,
                at,
            },
        );
    }

    /// The request was not carried out (e.g. the log failed): the key is free again.
    pub fn abandon(&self, device: &DeviceId, key: &IdempotencyKey) {
        self.slots
            .remove_if(&(device.clone(), key.0.clone()), |_, s| {
                matches!(s, Slot::InFlight { .. })
            });
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (DeviceId, IdempotencyKey) {
        (
            DeviceId::parse("desk-1").unwrap(),
            IdempotencyKey::parse("k-1").unwrap(),
        )
    }

    #[test]
    fn same_key_same_body_replays_and_other_body_mismatches() {
        let t = IdempotencyTable::default();
        let (d, k) = ids();
        assert!(matches!(t.begin(&d, &k, [1; 32]), Begin::Proceed));
        assert!(matches!(t.begin(&d, &k, [1; 32]), Begin::InFlight));
        assert!(matches!(t.begin(&d, &k, [2; 32]), Begin::Mismatch));
        let answer = Arc::new(Answer {
            status: 201,
            body: Bytes::from_static(b"{}"),
        });
        t.complete(&d, &k, [1; 32], answer.clone(), Utc::now());
        match t.begin(&d, &k, [1; 32]) {
            Begin::Replay(a) => assert_eq!(a, answer),
            other => panic!("expected a replay, got {other:?}"),
        }
        assert!(matches!(t.begin(&d, &k, [2; 32]), Begin::Mismatch));
    }

    #[test]
    fn an_abandoned_key_can_be_used_again_but_a_done_one_is_kept() {
        let t = IdempotencyTable::default();
        let (d, k) = ids();
        assert!(matches!(t.begin(&d, &k, [1; 32]), Begin::Proceed));
        t.abandon(&d, &k);
        assert!(matches!(t.begin(&d, &k, [1; 32]), Begin::Proceed));
        t.complete(
            &d,
            &k,
            [1; 32],
            Arc::new(Answer {
                status: 201,
                body: Bytes::new(),
            }),
            Utc::now(),
        );
        t.abandon(&d, &k);
        assert!(matches!(t.begin(&d, &k, [1; 32]), Begin::Replay(_)));
    }

    #[test]
    fn evicted_answers_are_marked_as_only_in_the_log() {
        let t = IdempotencyTable::default();
        let (d, k) = ids();
        assert!(
            !t.needs_log_lookup(&d, &k),
            "an empty log has nothing to look up"
        );
        assert!(matches!(t.begin(&d, &k, [1; 32]), Begin::Proceed));
        let long_ago = Utc::now() - TimeDelta::days(3);
        let answer = Arc::new(Answer {
            status: 201,
            body: Bytes::new(),
        });
        t.complete(&d, &k, [1; 32], answer, long_ago);
        t.evict_before(Utc::now() - KEPT_IN_MEMORY);
        assert!(t.is_empty());
        assert!(t.needs_log_lookup(&d, &k));
    }

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(IdempotencyKey::parse("abc-123_:/").is_some());
        assert!(IdempotencyKey::parse("").is_none());
        assert!(IdempotencyKey::parse("has space").is_none());
        assert!(IdempotencyKey::parse("ø").is_none());
        assert!(IdempotencyKey::parse(&"x".repeat(256)).is_none());
        assert!(IdempotencyKey::parse(&"x".repeat(255)).is_some());
    }

    #[test]
    fn fingerprints_ignore_key_order_but_not_station() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"kind":"check_in","service":"passport"}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{ "service": "passport", "kind": "check_in" }"#).unwrap();
        let s1 = StationId::parse("a").unwrap();
        let s2 = StationId::parse("b").unwrap();
        assert_eq!(fingerprint(&s1, &a), fingerprint(&s1, &b));
        assert_ne!(fingerprint(&s1, &a), fingerprint(&s2, &a));
    }
}
