//! The webhook outbox in the SQLite log (see `store/outbox.rs`): rows inserted by the writer
//! with their event, read by the deliverer, settled through the writer.
//!
//! One process owns this log and runs one deliverer, which settles every row it read before it
//! reads again — so nothing needs claiming here, and after a crash every unsettled row is simply
//! due again.

use chrono::{DateTime, Utc};
use rusqlite::{CachedStatement, Connection, params};

use crate::store::outbox::{DueWebhook, OutboxRow, Settle, from_micros, micros};

/// Inserts a row due at once; a row already there (its event written before) stays as it is.
pub(super) const INSERT: &str = "INSERT OR IGNORE INTO webhook_outbox(id, station, body, created_us, due_us, attempts) VALUES (?1, ?2, ?3, ?4, ?4, 0)";

/// Inserts `row` with the writer's cached statement.
pub(super) fn insert(insert: &mut CachedStatement<'_>, row: &OutboxRow) -> rusqlite::Result<()> {
    let created = micros(row.created);
    insert.execute(params![row.id, row.station.as_str(), row.body, created])?;
    Ok(())
}

/// Applies what became of an attempt (in the writer's transaction).
pub(super) fn settle(conn: &Connection, settle: &Settle) -> rusqlite::Result<()> {
    match settle {
        Settle::Done(id) => {
            conn.prepare_cached("DELETE FROM webhook_outbox WHERE id = ?1")?
                .execute(params![id])?;
        }
        Settle::Retry { id, due, attempts } => {
            conn.prepare_cached(
                "UPDATE webhook_outbox SET due_us = ?2, attempts = ?3 WHERE id = ?1",
            )?
            .execute(params![id, micros(*due), attempts])?;
        }
    }
    Ok(())
}

/// Up to `limit` rows due at `now`, the longest due first.
pub(super) fn due(
    conn: &Connection,
    now: DateTime<Utc>,
    limit: usize,
) -> anyhow::Result<Vec<DueWebhook>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, station, body, created_us, attempts FROM webhook_outbox
         WHERE due_us <= ?1 ORDER BY due_us LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![micros(now), limit as i64], |r| {
        Ok(DueWebhook {
            id: r.get(0)?,
            station: r.get(1)?,
            body: r.get(2)?,
            created: from_micros(r.get(3)?),
            attempts: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
