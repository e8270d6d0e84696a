//! What retention asks of either log: which stored answers lose their bodies and which are
//! forgotten (`[storage] idempotency_retention_h`).
//!
//! An answer older than the retention window is no longer replayed; its body is dropped but its
//! key kept for one more window, so that a retry arriving late is refused as expired rather than
//! applied as a new event; after that the row goes. Each backend does it in bounded passes
//! (`sqlite/prune.rs`, `postgres/prune.rs`), one every few minutes from the ticker.

use chrono::{DateTime, TimeDelta, Utc};

/// Most rows one pass changes: enough to keep up with a national day's answers in a few passes,
/// few enough that the pass holds up no commit for long.
pub const BATCH: i64 = 10_000;

/// One pruning pass's cut-offs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prune {
    /// Answers given before this lose their bodies.
    pub empty_before: DateTime<Utc>,
    /// Answers given before this are forgotten.
    pub forget_before: DateTime<Utc>,
}

impl Prune {
    /// The cut-offs at `now` for a window of `retention`.
    pub fn at(now: DateTime<Utc>, retention: TimeDelta) -> Prune {
        Prune {
            empty_before: now - retention,
            forget_before: now - retention - retention,
        }
    }

    /// Both cut-offs in microseconds since the epoch, as the logs store times.
    pub fn micros(&self) -> (i64, i64) {
        (
            self.empty_before.timestamp_micros(),
            self.forget_before.timestamp_micros(),
        )
    }
}
