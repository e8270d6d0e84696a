//! Opening the SQLite log: the file's connection flags, its pragmas, its page size and its tables.
//!
//! Everything that decides what the file on disk looks like lives here, so the schema is read
//! in one place: WAL journal mode (readers never wait for the writer, the writer never waits for
//! readers), `synchronous=FULL` (a commit is on disk before it is acknowledged), 1 KiB pages, and
//! the tables `events` (the journal), `idempotency` (answers), `revoked_tokens`, `snapshots`,
//! `webhook_outbox` and `meta` (the log's identity). The tables are created if missing, so opening a new directory and reopening a log
//! are the same call; a log in the first layout is converted first (`migrate.rs`).
//!
//! **Why this layout.** A commit writes every page it touched to the WAL, whole, and a
//! checkpoint writes each of them once more into the database file; so what an event costs on
//! disk is the number of distinct pages its group touches, not its bytes. The first layout kept
//! events clustered by `(station, seq)` and answers by `(device, key)`, with two more indexes —
//! four B-trees whose insert points are scattered (64 stations' tails, random keys) — and an
//! event cost 21–22 KiB written. Now events and answers are appended in the order they are
//! committed (`INTEGER PRIMARY KEY` tables: a group fills the same last pages), and only two
//! indexes take a scattered insert per event: `events_station` (replay and history, one tail
//! per station) and `idempotency_key` (an 8-byte hash: the window's look-ups). `idempotency_at` and
//! the rule changes' partial index are appended at one end or almost never written. 1 KiB pages
//! make each of those scattered touches a quarter of what a 4 KiB page costs.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// The page size of a log created or converted by this version, in bytes.
pub(super) const PAGE_SIZE: u64 = 1024;

/// `PRAGMA user_version` of the journal layout. The first layout left it at 0.
pub(super) const LAYOUT_VERSION: i64 = 2;

/// The log's tables and indexes. `journal` keeps events in commit order; `events_station` finds a station's events
/// by seq (replay, history: a station's times never run backwards, so a time range is a seq
/// range); `events_rule_changes` indexes only the rule changes, so a report finds the rule in
/// force at a day's start with one probe. `idempotency` keeps each idempotent answer with an 8-byte
/// hash of its `(device, key)` (`idempotency_key`: one probe, the row then compared in full) and its
/// time (`idempotency_at`: what retention prunes; it carries the hash too, so start-up lists the
/// keys the log holds from the index alone). `webhook_outbox` holds the webhooks not yet
/// delivered (`outbox.rs`), found by when each is due; it is empty whenever every receiver is
/// keeping up, so it costs the log next to nothing.
const TABLES: &str = "CREATE TABLE IF NOT EXISTS events(
        pos INTEGER PRIMARY KEY,
        station TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at_us INTEGER NOT NULL,
        device TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS events_station ON events(station, seq);
    CREATE INDEX IF NOT EXISTS events_rule_changes ON events(station, at_us)
        WHERE kind = 'rule_changed';
    CREATE TABLE IF NOT EXISTS idempotency(
        pos INTEGER PRIMARY KEY,
        key_hash INTEGER NOT NULL,
        device TEXT NOT NULL,
        key TEXT NOT NULL,
        fingerprint BLOB NOT NULL,
        status INTEGER NOT NULL,
        response BLOB NOT NULL,
        at_us INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS idempotency_key ON idempotency(key_hash);
    CREATE INDEX IF NOT EXISTS idempotency_at ON idempotency(at_us, key_hash);
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
    CREATE TABLE IF NOT EXISTS webhook_outbox(
        id TEXT PRIMARY KEY,
        station TEXT NOT NULL,
        body TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        due_us INTEGER NOT NULL,
        attempts INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox(due_us);
    CREATE TABLE IF NOT EXISTS meta(
        only INTEGER PRIMARY KEY CHECK (only = 1),
        log_id TEXT NOT NULL,
        created_us INTEGER NOT NULL
    ) WITHOUT ROWID;";

/// Opens (creating if needed) the log at `path` for writing: 1 KiB pages for a new file, a log
/// in the first layout converted (`migrate.rs`), WAL mode, `synchronous=FULL`, the tables, and
/// `max_pages` (in 4 KiB units, whatever the page size) as SQLite's `max_page_count` when set
/// (writes past it then fail exactly as on a full disk).
pub(super) fn open_for_writing(path: &Path, max_pages: Option<u64>) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| anyhow::anyhow!("cannot open the event log {}: {e}", path.display()))?;
    // Takes effect only on a file without tables yet (a new log); `migrate` converts old ones.
    conn.execute_batch(&format!("PRAGMA page_size={PAGE_SIZE};"))?;
    super::migrate::to_journal_layout(&conn, path)?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    anyhow::ensure!(
        mode.eq_ignore_ascii_case("wal"),
        "SQLite refused WAL mode ({mode})"
    );
    conn.execute_batch("PRAGMA synchronous=FULL;")?;
    create_tables(&conn)?;
    if let Some(pages) = max_pages {
        let pages = pages * (4096 / PAGE_SIZE);
        conn.query_row(&format!("PRAGMA max_page_count={pages}"), [], |_| Ok(()))?;
    }
    Ok(conn)
}

/// Creates the tables and indexes that are missing and marks the file as the journal layout.
pub(super) fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(TABLES)?;
    conn.execute_batch(&format!("PRAGMA user_version={LAYOUT_VERSION};"))
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
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // A station's events lie scattered through the journal, so replaying one reads a page per
    // event: mapped, that is a memory read rather than a system call each (a full replay of a
    // million events took 4.1 s through read(), SQLite's default).
    conn.execute_batch(&format!("PRAGMA mmap_size={READ_MAP_BYTES};"))?;
    Ok(conn)
}

/// How much of the log a read connection maps (SQLite's own ceiling, just under 2 GiB): address
/// space only, the kernel's page cache holds the pages either way.
const READ_MAP_BYTES: u64 = 0x7fff_0000;

/// A connection for the checkpointer thread: it writes nothing but checkpoints.
pub(super) fn open_for_checkpoints(path: &Path) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}
