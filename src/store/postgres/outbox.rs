//! The webhook outbox in the shared log (see `store/outbox.rs`): rows inserted with their event,
//! claimed under a lease by whichever instance gets there first, settled by that instance.
//!
//! A claim is one statement: the due rows are locked with `FOR UPDATE SKIP LOCKED` (an instance
//! claiming at the same moment skips them rather than waiting) and their `due_us` moved a lease
//! ahead, so no other instance claims them again while they are in flight. An instance killed
//! mid-delivery settles nothing: its rows are due again when the lease runs out, and another
//! instance (or the same one restarted) sends them with the same id.

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};

use super::append::{AppendError, classify};
use crate::store::outbox::{DueWebhook, OutboxRow, Settle, from_micros, micros};

/// Inserts `row` due at once; a row already there stays as it is.
pub(super) async fn insert(
    client: &impl GenericClient,
    row: &OutboxRow,
) -> Result<(), AppendError> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO webhook_outbox(id, station, body, created_us, due_us, attempts)
             VALUES ($1, $2, $3, $4, $4, 0) ON CONFLICT (id) DO NOTHING",
        )
        .await
        .map_err(classify)?;
    client
        .execute(
            &stmt,
            &[
                &row.id,
                &row.station.as_str(),
                &row.body,
                &micros(row.created),
            ],
        )
        .await
        .map_err(classify)?;
    Ok(())
}

/// Claims up to `limit` rows due at `now` until `now + lease`.
pub(super) async fn claim(
    pool: &Pool,
    now: DateTime<Utc>,
    lease: std::time::Duration,
    limit: usize,
) -> anyhow::Result<Vec<DueWebhook>> {
    let client = pool.get().await?;
    let until = now + chrono::TimeDelta::from_std(lease)?;
    let stmt = client
        .prepare_cached(
            "UPDATE webhook_outbox o SET due_us = $2
             FROM (SELECT id FROM webhook_outbox WHERE due_us <= $1
                   ORDER BY due_us LIMIT $3 FOR UPDATE SKIP LOCKED) due
             WHERE o.id = due.id
             RETURNING o.id, o.station, o.body, o.created_us, o.attempts",
        )
        .await?;
    let rows = client
        .query(&stmt, &[&micros(now), &micros(until), &(limit as i64)])
        .await?;
    Ok(rows
        .iter()
        .map(|r| DueWebhook {
            id: r.get(0),
            station: r.get(1),
            body: r.get(2),
            created: from_micros(r.get(3)),
            attempts: u32::try_from(r.get::<_, i32>(4)).unwrap_or(0),
        })
        .collect())
}

/// Applies what became of an attempt.
pub(super) async fn settle(pool: &Pool, settle: &Settle) -> anyhow::Result<()> {
    let client = pool.get().await?;
    match settle {
        Settle::Done(id) => {
            client
                .execute("DELETE FROM webhook_outbox WHERE id = $1", &[id])
                .await?;
        }
        Settle::Retry { id, due, attempts } => {
            let attempts = i32::try_from(*attempts).unwrap_or(i32::MAX);
            client
                .execute(
                    "UPDATE webhook_outbox SET due_us = $2, attempts = $3 WHERE id = $1",
                    &[id, &micros(*due), &attempts],
                )
                .await?;
        }
    }
    Ok(())
}
