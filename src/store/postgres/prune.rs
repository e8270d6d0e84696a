//! Retention of idempotent answers in the PostgreSQL log (see `store/prune.rs`): the same two
//! bounded statements as SQLite's, run by whichever instance's ticker comes first — running them
//! twice changes nothing. A watermark per instance remembers how far bodies were dropped, so a
//! pass does not read the tombstones of earlier passes again.

use std::sync::atomic::{AtomicI64, Ordering};

use deadpool_postgres::Pool;

use crate::store::prune::{BATCH, Prune};

/// How far this instance dropped bodies (microseconds since the epoch).
#[derive(Debug, Default)]
pub(super) struct Watermark(AtomicI64);

/// One bounded pass; returns the rows changed.
pub(super) async fn run(pool: &Pool, prune: Prune, mark: &Watermark) -> anyhow::Result<u64> {
    let (empty_before, forget_before) = prune.micros();
    let client = pool.get().await?;
    let forgotten = client
        .execute(
            "DELETE FROM idempotency WHERE (device, key) IN (
                 SELECT device, key FROM idempotency WHERE at_us < $1 ORDER BY at_us LIMIT $2)",
            &[&forget_before, &BATCH],
        )
        .await?;
    let from = mark.0.load(Ordering::Acquire).max(forget_before);
    let row = client
        .query_one(
            "WITH batch AS (
                 SELECT device, key, at_us FROM idempotency WHERE at_us >= $1 AND at_us < $2
                 ORDER BY at_us LIMIT $3),
             emptied AS (
                 UPDATE idempotency i SET response = '\\x'::bytea FROM batch
                 WHERE i.device = batch.device AND i.key = batch.key
                 RETURNING i.at_us)
             SELECT COUNT(*), MAX(at_us) FROM emptied",
            &[&from, &empty_before, &BATCH],
        )
        .await?;
    let (emptied, last_at): (i64, Option<i64>) = (row.get(0), row.get(1));
    // A full batch may have stopped inside a run of equal times: start there again next time.
    let next = match last_at {
        Some(at) if emptied == BATCH => at,
        _ => empty_before,
    };
    mark.0.store(next, Ordering::Release);
    Ok(forgotten + emptied as u64)
}
