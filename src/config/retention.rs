//! `[storage] idempotency_retention_h` and `idempotency_memory_mib`: how long idempotent answers
//! are replayed, and how much memory holds them (the table itself is `idempotency.rs`).

use chrono::TimeDelta;

/// How long answers are replayed and how much memory holds them (`[storage] idempotency_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyPolicy {
    /// How long an answer is replayed to a retry; after it, a retry is refused as expired and
    /// the answer pruned from the log.
    pub retention: TimeDelta,
    /// Bytes of answers held in memory (counted as `idempotency.rs` does); older ones stay in
    /// the log.
    pub memory_budget: usize,
}

impl Default for IdempotencyPolicy {
    /// 72 hours, and 256 MiB: about 600,000 answers (a check-in's answer is ~110 bytes, plus
    /// ~300 of bookkeeping) — a national deployment's busiest hours — with everything older in
    /// the window one look-up away.
    fn default() -> Self {
        IdempotencyPolicy {
            retention: TimeDelta::hours(72),
            memory_budget: 256 * 1024 * 1024,
        }
    }
}
