//! Opening the SQLite log: the file's connection flags, its pragmas and its tables.
//!
//! Everything that decides what the file on disk looks like lives here, so the schema is read
//! in one place: WAL journal mode (readers never wait for the writer, the writer never waits for
//! readers), `synchronous=FULL` (a commit is on disk before it is acknowledged), and the tables
//! `events`, `idempotency`, `revoked_tokens`, `snapshots` and `meta` (the log's identity). The
//! tables are created if missing, so opening a new directory and reopening an old log — also one
//! written before `meta` existed — are the same call.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// `synchronous=FULL` (a commit is on disk before it is acknowledged), then the log's tables and
/// indexes. `events` is keyed by `(station, seq)`, so a station's events are contiguous and
/// replay is one range scan; `rule_changes` indexes only the rule changes, so a report finds the
/// rule in force at a day's start with one probe. (SQLite keeps each CREATE statement's text as
/// written, indentation included, so this text is left exactly as earlier versions wrote it.)
const SYNCHRONOUS_AND_TABLES: &str = "PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS events(
                 station TEXT NOT NULL,
                 seq INTEGER NOT NULL,
                 at_us INTEGER NOT NULL,
                 device TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 body TEXT NOT NULL,
                 PRIMARY KEY (station, seq)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS idempotency(
                 device TEXT NOT NULL,
                 key TEXT NOT NULL,
                 fingerprint BLOB NOT NULL,
                 status INTEGER NOT NULL,
                 response BLOB NOT NULL,
                 at_us INTEGER NOT NULL,
                 PRIMARY KEY (device, key)
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS idempotency_at ON idempotency(at_us);
             CREATE INDEX IF NOT EXISTS events_at ON events(station, at_us);
             CREATE INDEX IF NOT EXISTS rule_changes ON events(station, at_us)
                 WHERE kind = 'rule_changed';
             CREATE TABLE IF NOT EXISTS revoked_tokens(
                 token_sha256 BLOB PRIMARY KEY,
                 device TEXT NOT NULL,
                 at_us INTEGER NOT NULL,
                 by TEXT NOT NULL
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS snapshots(
                 station TEXT PRIMARY KEY,
                 seq INTEGER NOT NULL,
                 state TEXT NOT NULL
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS meta(
                 only INTEGER PRIMARY KEY CHECK (only = 1),
                 log_id TEXT NOT NULL,
                 created_us INTEGER NOT NULL
             ) WITHOUT ROWID;";

/// Opens (creating if needed) the log at `path` for writing: WAL mode, `synchronous=FULL`, the
/// tables, and `max_pages` as SQLite's `max_page_count` when set (writes past it then fail
/// exactly as on a full disk).
pub(super) fn open_for_writing(path: &Path, max_pages: Option<u64>) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| anyhow::anyhow!("cannot open the event log {}: {e}", path.display()))?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    anyhow::ensure!(
        mode.eq_ignore_ascii_case("wal"),
        "SQLite refused WAL mode ({mode})"
    );
    conn.execute_batch(SYNCHRONOUS_AND_TABLES)?;
    if let Some(pages) = max_pages {
        conn.query_row(&format!("PRAGMA max_page_count={pages}"), [], |_| Ok(()))?;
    }
    Ok(conn)
}

/// The log's identity, a random id stored once when the log is created (or adopted: a log
/// written before identities existed gets one on its first open). `None` when it has none yet.
pub(super) fn log_id(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT log_id FROM meta WHERE only = 1", [], |r| r.get(0))
        .optional()
}

/// Gives the log a new random identity and returns it.
pub(super) fn assign_log_id(conn: &Connection) -> rusqlite::Result<String> {
    let id = format!("{:032x}", rand::random::<u128>());
    conn.execute(
        "INSERT INTO meta(only, log_id, created_us) VALUES (1, ?1, ?2)",
        rusqlite::params![id, chrono::Utc::now().timestamp_micros()],
    )?;
    Ok(id)
}

/// How many events the log holds: the sum of each station's highest seq, since a station's
/// events are numbered from 1 without gaps (replay refuses a gap). One index probe per station,
/// where `COUNT(*)` would read every row.
pub(super) fn event_count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(
        "WITH RECURSIVE s(station) AS (
             SELECT MIN(station) FROM events
             UNION ALL
             SELECT (SELECT MIN(station) FROM events WHERE events.station > s.station)
             FROM s WHERE s.station IS NOT NULL)
         SELECT COALESCE(SUM((SELECT MAX(seq) FROM events WHERE events.station = s.station)), 0)
         FROM s WHERE station IS NOT NULL",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n.max(0) as u64)
}

/// A read-only connection to the log at `path`, already opened (and so created) for writing.
/// In WAL mode it reads the last commit without ever waiting for the writer.
pub(super) fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// A connection for the checkpointer thread: it writes nothing but checkpoints.
pub(super) fn open_for_checkpoints(path: &Path) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}
