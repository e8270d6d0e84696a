//! Retention of idempotent answers in the SQLite log: bodies dropped after the window, rows
//! forgotten after a second one.
//!
//! An answer past the retention window is no longer replayed (`idempotency.rs`), so its body is
//! dropped — the row stays, as a tombstone of its key, so that a retry arriving late is told the
//! key expired rather than applied as new; one more window later the tombstone goes too. Both
//! run on the writer thread, inside a group's transaction, a bounded batch at a time: the rows are
//! found through `idempotency_at` in time order, and a watermark remembers how far bodies were
//! dropped, so a pass never reads the tombstones of earlier passes again.

use rusqlite::{Transaction, params};

use crate::store::prune::{BATCH, Prune};

/// How far bodies were dropped: answers before it are tombstones already. Starts at the
/// beginning of time, so the first pass after a start covers everything once.
#[derive(Debug, Default)]
pub(super) struct Watermark {
    emptied_until: i64,
}

/// One bounded pass of `prune` in `tx`; returns the rows changed.
pub(super) fn run(
    tx: &Transaction<'_>,
    prune: Prune,
    mark: &mut Watermark,
) -> rusqlite::Result<usize> {
    let (empty_before, forget_before) = prune.micros();
    let forgotten = tx.execute(
        "DELETE FROM idempotency WHERE pos IN (
             SELECT pos FROM idempotency WHERE at_us < ?1 ORDER BY at_us LIMIT ?2)",
        params![forget_before, BATCH],
    )?;
    let from = mark.emptied_until.max(forget_before);
    // One pass over the batch: the update says which rows it emptied, and when they were given.
    let mut empty = tx.prepare_cached(
        "UPDATE idempotency SET response = x'' WHERE pos IN (
             SELECT pos FROM idempotency WHERE at_us >= ?1 AND at_us < ?2
             ORDER BY at_us LIMIT ?3)
         RETURNING at_us",
    )?;
    let times = empty
        .query_map(params![from, empty_before, BATCH], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let (emptied, last_at) = (times.len(), times.into_iter().max());
    // A full batch may have stopped inside a run of equal times: start there again next time.
    mark.emptied_until = match last_at {
        Some(at) if emptied as i64 == BATCH => at,
        _ => empty_before,
    };
    Ok(forgotten + emptied)
}
