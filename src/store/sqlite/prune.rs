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
    let (emptied, last_at): (usize, Option<i64>) = tx.query_row(
        "WITH batch AS (
             SELECT pos, at_us FROM idempotency WHERE at_us >= ?1 AND at_us < ?2
             ORDER BY at_us LIMIT ?3)
         SELECT COUNT(*), MAX(at_us) FROM batch",
        params![from, empty_before, BATCH],
        |r| Ok((r.get::<_, i64>(0)? as usize, r.get(1)?)),
    )?;
    if emptied > 0 {
        tx.execute(
            "UPDATE idempotency SET response = x'' WHERE pos IN (
                 SELECT pos FROM idempotency WHERE at_us >= ?1 AND at_us < ?2
                 ORDER BY at_us LIMIT ?3)",
            params![from, empty_before, BATCH],
        )?;
    }
    // A full batch may have stopped inside a run of equal times: start there again next time.
    mark.emptied_until = match last_at {
        Some(at) if emptied as i64 == BATCH => at,
        _ => empty_before,
    };
    Ok(forgotten + emptied)
}
