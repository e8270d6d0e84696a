//! Converting a log written in the first layout (`events` clustered by `(station, seq)` and
//! `idempotency` by `(device, key)`, four indexes, 4 KiB pages) into the journal layout
//! (`schema.rs`), in place, when the service opens it.
//!
//! Two steps, each atomic and each done again if the process dies before it finished: the rows
//! move in one transaction (the old tables renamed aside, events copied station by station in seq
//! order — the order a station's events have in the journal, whatever their clocks said — and
//! answers in the order they were given, the old tables dropped, the layout version set), then a `VACUUM` rewrites the file
//! with 1 KiB pages (SQLite changes a page size only by rewriting, and not in WAL mode, so the
//! file leaves WAL mode for it; `schema.rs` puts it back). Nothing else changes: the log's
//! identity, its events with their seqs and times, answers byte for byte, revocations and
//! snapshots — so the data directory's marker still matches it.

use std::path::Path;
use std::time::Instant;

use rusqlite::{Connection, params};

use super::schema::{self, LAYOUT_VERSION, PAGE_SIZE};
use crate::idempotency::key_hash as answer_key_hash;

/// Converts the log behind `conn` (the file at `path`) to the journal layout if it is in the
/// first one, or finishes a conversion a crash interrupted. A new, empty file is left alone.
pub(super) fn to_journal_layout(conn: &Connection, path: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let moved = if version < LAYOUT_VERSION && has_table(conn, "events")? {
        Some(move_rows(conn).map_err(|e| {
            anyhow::anyhow!("converting the event log {} failed: {e}", path.display())
        })?)
    } else {
        None
    };
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let page_size: u64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    if version == LAYOUT_VERSION && page_size != PAGE_SIZE {
        rewrite_with_small_pages(conn).map_err(|e| {
            anyhow::anyhow!(
                "rewriting the event log {} with {PAGE_SIZE}-byte pages failed: {e}",
                path.display()
            )
        })?;
    }
    if let Some((events, answers)) = moved {
        tracing::info!(
            log = %path.display(),
            events,
            answers,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "event log converted to the journal layout"
        );
    }
    Ok(())
}

fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [name],
        |r| r.get(0),
    )
}

/// Moves events and answers into the journal layout in one transaction; returns how many of
/// each moved.
fn move_rows(conn: &Connection) -> rusqlite::Result<(u64, u64)> {
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(
        "DROP INDEX IF EXISTS events_at; DROP INDEX IF EXISTS rule_changes;
         DROP INDEX IF EXISTS idempotency_at;
         ALTER TABLE events RENAME TO events_v1; ALTER TABLE idempotency RENAME TO idempotency_v1;",
    )?;
    schema::create_tables(&tx)?;
    let events = tx.execute(
        "INSERT INTO events(station, seq, at_us, device, kind, body)
         SELECT station, seq, at_us, device, kind, body FROM events_v1 ORDER BY station, seq",
        [],
    )? as u64;
    let answers = move_answers(&tx)?;
    tx.execute_batch("DROP TABLE events_v1; DROP TABLE idempotency_v1;")?;
    tx.commit()?;
    Ok((events, answers))
}

/// Copies each stored answer with its key's hash (computed here: SQLite has no SHA-256).
fn move_answers(conn: &Connection) -> rusqlite::Result<u64> {
    let mut read = conn.prepare(
        "SELECT device, key, fingerprint, status, response, at_us FROM idempotency_v1 ORDER BY at_us",
    )?;
    let mut insert = conn.prepare(super::writer::INSERT_ANSWER)?;
    let mut rows = read.query([])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let (device, key): (String, String) = (r.get(0)?, r.get(1)?);
        insert.execute(params![
            answer_key_hash(&device, &key),
            device,
            key,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Vec<u8>>(4)?,
            r.get::<_, i64>(5)?
        ])?;
        n += 1;
    }
    Ok(n)
}

/// Rewrites the whole file with [`PAGE_SIZE`]-byte pages, out of WAL mode (atomic through the
/// rollback journal; the caller turns WAL mode back on).
fn rewrite_with_small_pages(conn: &Connection) -> anyhow::Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))?;
    anyhow::ensure!(
        mode.eq_ignore_ascii_case("delete"),
        "SQLite kept the file in {mode} mode (another connection has it open?)"
    );
    conn.execute_batch(&format!("PRAGMA page_size={PAGE_SIZE}; VACUUM;"))?;
    Ok(())
}
