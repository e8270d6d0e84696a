//! Idempotent event posting: a retried request is answered from memory, never applied twice.
//!
//! Each `(device, Idempotency-Key)` is in one of two states: in flight (the first request is
//! being applied and committed) or done (its answer is stored, byte for byte, in memory and in
//! the log in the same transaction as the event). [`IdempotencyTable::begin`] decides atomically,
//! in one DashMap entry operation, whether a request proceeds, replays, or is refused; so two
//! copies of the same request racing each other cannot both proceed.
//!
//! What is kept is bounded twice over ([`Policy`]): an answer is replayed for the retention
//! window (72 h by default: a terminal's outbox resends a night's and a weekend day's queue) and
//! refused as expired after it; and memory holds answers up to a byte budget, the oldest leaving
//! first — an answer within the window but no longer in memory is read back from the log by one
//! indexed look-up ([`IdempotencyTable::needs_log_lookup`]), which a new key is spared: memory
//! also knows, by hash, which keys the log holds that it does not (`idempotency/only_in_log.rs`).

mod only_in_log;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

use bytes::Bytes;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use sha2::{Digest, Sha256};

pub use crate::config::IdempotencyPolicy as Policy;
use crate::domain::{DeviceId, StationId};
pub use only_in_log::key_hash;
use only_in_log::{BYTES_PER_HASH, OnlyInLog};

/// How far back start-up loads answers into memory. A terminal retries an unanswered request
/// within seconds, so after a crash this window holds every answer a retry will ask for; anything
/// older is looked up in the log on demand. Loading the whole retention window instead would
/// make start-up grow with a busy day's traffic (a million answers take over a second).
pub const LOADED_AT_START: TimeDelta = TimeDelta::minutes(10);

/// What an answer costs in memory beyond its bytes: the map's entry, the key's and device's
/// allocations, the `Arc` and the eviction queue's entry — measured as about 200 bytes on
/// x86-64, rounded up so the budget errs on the safe side.
const ENTRY_OVERHEAD: usize = 256;

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
    /// The key was answered longer ago than the retention window: its answer is no longer
    /// replayed, and the request is not applied either (it may be that very event, resent late).
    Expired { answered_at: DateTime<Utc> },
}

type SlotKey = (DeviceId, String);

#[derive(Debug)]
pub struct IdempotencyTable {
    slots: DashMap<SlotKey, Slot>,
    /// The keys the log holds that memory does not (`only_in_log.rs`): a key unknown in memory
    /// is looked up in the log only if it may be one of them.
    only_in_log: Mutex<OnlyInLog>,
    /// Answered keys, oldest first, with when each was answered: what leaves memory first.
    order: Mutex<VecDeque<(SlotKey, DateTime<Utc>)>>,
    /// Memory the done answers take, by [`cost`].
    bytes: AtomicUsize,
    policy: Policy,
}

impl Default for IdempotencyTable {
    fn default() -> Self {
        Self::new(Policy::default())
    }
}

/// What `answer` under `key` costs in memory, for the budget.
fn cost(key: &SlotKey, answer: &Answer) -> usize {
    ENTRY_OVERHEAD + key.0.as_str().len() + key.1.len() + answer.body.len()
}

impl IdempotencyTable {
    /// An empty table under `policy`.
    pub fn new(policy: Policy) -> Self {
        Self {
            slots: DashMap::new(),
            only_in_log: Mutex::new(OnlyInLog::Known(VecDeque::new())),
            order: Mutex::new(VecDeque::new()),
            bytes: AtomicUsize::new(0),
            policy,
        }
    }

    /// Loads answers stored in the log (oldest first); `older` lists the hashes of the keys of
    /// the window's earlier answers the log holds ([`key_hash`]), given before the hour it names,
    /// or is `None` when the log cannot list them (every unknown key is then looked up).
    pub fn from_records(
        policy: Policy,
        records: Vec<IdempotencyRecord>,
        older: Option<(DateTime<Utc>, Vec<i64>)>,
    ) -> Self {
        let table = Self::new(policy);
        *table.only_in_log() = OnlyInLog::start(older, table.hash_cap());
        for r in records {
            table.remember(r);
        }
        table
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Whether a key unknown in memory must be looked up in the log before it may proceed: only
    /// when the log may hold it (an answer memory let go, or one from before this start).
    pub fn needs_log_lookup(&self, device: &DeviceId, key: &IdempotencyKey) -> bool {
        !self.slots.contains_key(&(device.clone(), key.0.clone()))
            && self
                .only_in_log()
                .may_hold(key_hash(device.as_str(), key.as_str()))
    }

    fn only_in_log(&self) -> std::sync::MutexGuard<'_, OnlyInLog> {
        self.only_in_log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How many key hashes the log's part may hold before every unknown key is looked up: an
    /// eighth of the memory budget.
    fn hash_cap(&self) -> usize {
        self.policy.memory_budget / 8 / BYTES_PER_HASH
    }

    /// Brings an answer found in the log back into memory (unless the key is already known).
    pub fn remember(&self, record: IdempotencyRecord) {
        let key = (record.device, record.key);
        let answer = Arc::new(Answer {
            status: record.status,
            body: record.body,
        });
        if let Entry::Vacant(v) = self.slots.entry(key.clone()) {
            v.insert(Slot::Done {
                fingerprint: record.fingerprint,
                answer: answer.clone(),
                at: record.at,
            });
            self.added(key, &answer, record.at);
        }
    }

    /// Forgets answers given before `cutoff` (they remain in the log until pruned) and, while
    /// memory is over its budget, the oldest others. Answers leave in the order they were given.
    pub fn evict_before(&self, cutoff: DateTime<Utc>) {
        let mut order = self.order.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some((key, at)) = order.front().cloned() {
            let over_budget = self.bytes.load(Ordering::Acquire) > self.policy.memory_budget;
            if at >= cutoff && !over_budget {
                break;
            }
            order.pop_front();
            let removed = self.slots.remove_if(
                &key,
                |_, slot| matches!(slot, Slot::Done { at: answered, .. } if *answered == at),
            );
            if let Some((key, Slot::Done { answer, .. })) = removed {
                self.bytes.fetch_sub(cost(&key, &answer), Ordering::AcqRel);
                let hash = key_hash(key.0.as_str(), &key.1);
                self.only_in_log().left_memory(hash, at, self.hash_cap());
            }
        }
        // The log forgets an answer a retention window after it stopped replaying it.
        if let Some(forgotten) = cutoff.checked_sub_signed(self.policy.retention) {
            self.only_in_log().forget_before(forgotten);
        }
    }

    /// Decides what to do with a request under `key` at `now`.
    pub fn begin(
        &self,
        device: &DeviceId,
        key: &IdempotencyKey,
        fp: [u8; 32],
        now: DateTime<Utc>,
    ) -> Begin {
        let oldest_replayed = now - self.policy.retention;
        match self.slots.entry((device.clone(), key.0.clone())) {
            Entry::Vacant(v) => {
                v.insert(Slot::InFlight { fingerprint: fp });
                Begin::Proceed
            }
            Entry::Occupied(o) => match o.get() {
                Slot::Done { at, .. } if *at < oldest_replayed => {
                    Begin::Expired { answered_at: *at }
                }
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
        let slot_key = (device.clone(), key.0.clone());
        let before = self.slots.insert(
            slot_key.clone(),
            Slot::Done {
                fingerprint: fp,
                answer: answer.clone(),
                at,
            },
        );
        if !matches!(before, Some(Slot::Done { .. })) {
            self.added(slot_key, &answer, at);
        }
    }

    /// Counts a new done answer and, past the budget, lets the oldest go.
    fn added(&self, key: SlotKey, answer: &Answer, at: DateTime<Utc>) {
        let total = self.bytes.fetch_add(cost(&key, answer), Ordering::AcqRel) + cost(&key, answer);
        self.order
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back((key, at));
        if total > self.policy.memory_budget {
            self.evict_before(DateTime::<Utc>::MIN_UTC);
        }
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

    /// Memory the answers held take, in bytes, as counted against the budget.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Acquire)
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
        assert!(matches!(
            t.begin(&d, &k, [1; 32], Utc::now()),
            Begin::Proceed
        ));
        assert!(matches!(
            t.begin(&d, &k, [1; 32], Utc::now()),
            Begin::InFlight
        ));
        assert!(matches!(
            t.begin(&d, &k, [2; 32], Utc::now()),
            Begin::Mismatch
        ));
        let answer = Arc::new(Answer {
            status: 201,
            body: Bytes::from_static(b"{}"),
        });
        t.complete(&d, &k, [1; 32], answer.clone(), Utc::now());
        match t.begin(&d, &k, [1; 32], Utc::now()) {
            Begin::Replay(a) => assert_eq!(a, answer),
            other => panic!("expected a replay, got {other:?}"),
        }
        assert!(matches!(
            t.begin(&d, &k, [2; 32], Utc::now()),
            Begin::Mismatch
        ));
    }

    #[test]
    fn an_abandoned_key_can_be_used_again_but_a_done_one_is_kept() {
        let t = IdempotencyTable::default();
        let (d, k) = ids();
        assert!(matches!(
            t.begin(&d, &k, [1; 32], Utc::now()),
            Begin::Proceed
        ));
        t.abandon(&d, &k);
        assert!(matches!(
            t.begin(&d, &k, [1; 32], Utc::now()),
            Begin::Proceed
        ));
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
        assert!(matches!(
            t.begin(&d, &k, [1; 32], Utc::now()),
            Begin::Replay(_)
        ));
    }

    #[test]
    fn evicted_answers_are_marked_as_only_in_the_log() {
        let t = IdempotencyTable::default();
        let (d, k) = ids();
        assert!(
            !t.needs_log_lookup(&d, &k),
            "an empty log has nothing to look up"
        );
        assert!(matches!(
            t.begin(&d, &k, [1; 32], Utc::now()),
            Begin::Proceed
        ));
        let long_ago = Utc::now() - TimeDelta::days(3);
        let answer = Arc::new(Answer {
            status: 201,
            body: Bytes::new(),
        });
        t.complete(&d, &k, [1; 32], answer, long_ago);
        t.evict_before(Utc::now() - Policy::default().retention);
        assert!(t.is_empty());
        assert!(t.needs_log_lookup(&d, &k));
    }

    fn answer(bytes: usize) -> Arc<Answer> {
        Arc::new(Answer {
            status: 201,
            body: Bytes::from(vec![b'x'; bytes]),
        })
    }

    #[test]
    fn an_answer_older_than_the_retention_is_refused_as_expired_not_replayed_nor_applied() {
        let t = IdempotencyTable::new(Policy {
            retention: TimeDelta::hours(72),
            memory_budget: 1 << 20,
        });
        let (d, k) = ids();
        let answered = Utc::now();
        assert!(matches!(t.begin(&d, &k, [1; 32], answered), Begin::Proceed));
        t.complete(&d, &k, [1; 32], answer(10), answered);
        let just_inside = answered + TimeDelta::hours(72);
        assert!(matches!(
            t.begin(&d, &k, [1; 32], just_inside),
            Begin::Replay(_)
        ));
        let after = just_inside + TimeDelta::seconds(1);
        assert!(matches!(
            t.begin(&d, &k, [1; 32], after),
            Begin::Expired { answered_at } if answered_at == answered
        ));
        // Another body under the expired key is not applied either.
        assert!(matches!(
            t.begin(&d, &k, [2; 32], after),
            Begin::Expired { .. }
        ));
    }

    #[test]
    fn memory_holds_answers_up_to_its_budget_the_oldest_leaving_first() {
        let one = ENTRY_OVERHEAD + "desk-1".len() + "k-00".len() + 1000;
        let t = IdempotencyTable::new(Policy {
            retention: TimeDelta::hours(72),
            memory_budget: 10 * one,
        });
        let d = DeviceId::parse("desk-1").unwrap();
        let start = Utc::now();
        for i in 0..25 {
            let k = IdempotencyKey::parse(&format!("k-{i:02}")).unwrap();
            let at = start + TimeDelta::seconds(i);
            assert!(matches!(t.begin(&d, &k, [1; 32], at), Begin::Proceed));
            t.complete(&d, &k, [1; 32], answer(1000), at);
            assert!(
                t.bytes() <= 10 * one,
                "over budget after {i}: {}",
                t.bytes()
            );
        }
        assert_eq!(t.len(), 10);
        let oldest = IdempotencyKey::parse("k-00").unwrap();
        let newest = IdempotencyKey::parse("k-24").unwrap();
        assert!(
            t.needs_log_lookup(&d, &oldest),
            "the oldest left memory for the log"
        );
        assert!(!t.needs_log_lookup(&d, &newest));
        assert!(matches!(
            t.begin(&d, &newest, [1; 32], start),
            Begin::Replay(_)
        ));
    }

    #[test]
    fn after_a_start_only_keys_the_log_holds_are_looked_up_there() {
        let (d, old) = ids();
        let new = IdempotencyKey::parse("k-new").unwrap();
        let older = Some((Utc::now(), vec![key_hash(d.as_str(), old.as_str())]));
        let t = IdempotencyTable::from_records(Policy::default(), Vec::new(), older);
        assert!(t.needs_log_lookup(&d, &old));
        assert!(!t.needs_log_lookup(&d, &new), "a new key costs no look-up");
        let unlisted = IdempotencyTable::from_records(Policy::default(), Vec::new(), None);
        assert!(unlisted.needs_log_lookup(&d, &new));
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
