//! The durable event log: SQLite in WAL mode with `synchronous=FULL`, written by one thread.
//!
//! Handlers never touch SQLite. Within the station's lock they hand the writer a [`Record`] (the
//! accepted event and its idempotency record) over a channel, so the log's order is the order in
//! which the engine applied events, and then they await the writer's acknowledgement. The writer
//! takes everything that is queued, writes it in one transaction and commits — one fsync for the
//! whole group — and only then acknowledges each record. A failed write or commit is final: the
//! writer acknowledges that batch and every later one with an error, and the service stops
//! accepting events, because memory may now be ahead of the log and the log is the truth.
//!
//! The interface is narrow on purpose (open, replay, submit, health) so a second backend can be
//! added without touching the engine.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, params};
use tokio::sync::{mpsc, oneshot};

use crate::domain::{DeviceId, Event, Recorded, StationId};
use crate::engine::Snapshot;
use crate::idempotency::IdempotencyRecord;

/// The database file inside the data directory.
pub const DB_FILE: &str = "lobbywatch.sqlite3";
/// Most records one transaction takes; a larger backlog commits in several groups.
pub const MAX_GROUP: usize = 1024;
/// Records committed between two requests to the checkpointer thread. Each record dirties a few
/// pages; a checkpoint copies each page once, its newest version, however often it changed.
pub const CHECKPOINT_AFTER: u64 = 1024;
/// Frames (pages) the WAL may hold before the writer checkpoints it by itself (see
/// [`Checkpointer`]): 8 MiB.
pub const WAL_FRAMES_LIMIT: u64 = 2048;
/// How long the writer's statements wait for a lock another connection holds (only the
/// checkpointer's, briefly) before failing; its own RESTART checkpoints do not wait at all.
const WRITER_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The writer connection's page cache: the hot end of every station's B-trees stays in memory.
const WRITER_CACHE_KIB: i64 = 16 * 1024;
/// A station's state is snapshotted every this many of its events unless configured otherwise:
/// start-up then replays at most this many events per station after its snapshot. A snapshot
/// (tens of KiB, mostly the two-hour history) costs the writer well under a microsecond per event
/// at this spacing, while a national log of hundreds of stations restarts in well under a second
/// (S6 in `lobbywatch bench`).
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 1_000;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The log could not be written; the service has stopped accepting events.
    #[error("the event log cannot be written: {0}")]
    Failed(String),
}

/// What one request asks the writer to make durable.
#[derive(Debug)]
pub struct Record {
    /// The accepted event; `None` for a refusal, whose answer is still kept for retries.
    pub event: Option<Recorded>,
    /// The answer kept for retries; `None` for the service's own events, which no client retries.
    pub idempotency: Option<IdempotencyRecord>,
    /// The station's state after `event`, when a snapshot is due; written in the same
    /// transaction, so a snapshot never runs ahead of the events it summarises.
    pub snapshot: Option<(StationId, Box<Snapshot>)>,
}

/// An admin's revocation of a device's tokens.
#[derive(Debug, Clone)]
pub struct Revocation {
    pub device: DeviceId,
    pub hashes: Vec<[u8; 32]>,
    pub by: DeviceId,
    pub at: DateTime<Utc>,
}

/// What the writer is asked to do.
enum Work {
    Record(Record),
    Revoke(Revocation),
    /// Nothing to write: the acknowledgement says everything queued before is committed.
    Flush,
}

struct Job {
    work: Work,
    ack: oneshot::Sender<Result<(), StoreError>>,
}

/// Whether the log still accepts writes, and why not.
#[derive(Debug, Clone, Default)]
pub struct Health {
    failure: Arc<Mutex<Option<String>>>,
}

impl Health {
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }
    fn fail(&self, reason: String) {
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert(reason);
        }
    }
}

/// Options an operator may set on the log.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreOptions {
    /// Upper bound on the database size in pages (SQLite `max_page_count`): writes past it fail
    /// exactly as on a full disk. A quota for operators, and the way tests exercise fail-stop.
    pub max_pages: Option<u64>,
    /// Snapshot each station every this many events ([`DEFAULT_SNAPSHOT_EVERY`] when `None`).
    pub snapshot_every: Option<u64>,
}

impl StoreOptions {
    fn snapshot_every(&self) -> u64 {
        self.snapshot_every.unwrap_or(DEFAULT_SNAPSHOT_EVERY).max(1)
    }
}

/// The handle handlers use: cheap to clone.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::UnboundedSender<Job>,
    health: Health,
    path: Arc<PathBuf>,
    snapshot_every: u64,
    /// Read-only connection for idempotency look-ups of keys older than what memory holds.
    reader: Arc<Mutex<Connection>>,
}

/// An opened log before its writer starts: replay reads it first.
pub struct OpenLog {
    conn: Connection,
    path: PathBuf,
    options: StoreOptions,
}

impl OpenLog {
    /// Opens (creating if needed) the log in `dir`.
    pub fn open(dir: &Path, options: StoreOptions) -> anyhow::Result<OpenLog> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create data directory {}: {e}", dir.display()))?;
        let path = dir.join(DB_FILE);
        let conn = Connection::open_with_flags(
            &path,
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
        conn.execute_batch(
            "PRAGMA synchronous=FULL;
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
             ) WITHOUT ROWID;",
        )?;
        if let Some(pages) = options.max_pages {
            conn.query_row(&format!("PRAGMA max_page_count={pages}"), [], |_| Ok(()))?;
        }
        Ok(OpenLog {
            conn,
            path,
            options,
        })
    }

    /// The stations that have events in the log. A skip-scan over the primary key: one index
    /// probe per station, however long the log.
    pub fn stations(&self) -> anyhow::Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "WITH RECURSIVE s(station) AS (
                 SELECT MIN(station) FROM events
                 UNION ALL
                 SELECT (SELECT MIN(station) FROM events WHERE events.station > s.station)
                 FROM s WHERE s.station IS NOT NULL)
             SELECT station FROM s WHERE station IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The latest snapshot of each station. One that cannot be read is skipped with a warning:
    /// the log still holds every event, so the station is then rebuilt by a full replay.
    pub fn snapshots(&self) -> anyhow::Result<Vec<(StationId, Snapshot)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT station, seq, state FROM snapshots")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (station, seq, state) = row?;
            let parsed = StationId::parse(&station)
                .map_err(|e| e.to_string())
                .and_then(|id| {
                    serde_json::from_str::<Snapshot>(&state)
                        .map(|snap| (id, snap))
                        .map_err(|e| e.to_string())
                });
            match parsed {
                Ok(pair) => out.push(pair),
                Err(cause) => {
                    tracing::warn!(%station, seq, %cause, "ignoring an unreadable snapshot; the station is replayed in full");
                }
            }
        }
        Ok(out)
    }

    /// Stores `snapshot` as `station`'s latest, when start-up had to replay a long tail (an old
    /// log, or one written with snapshots further apart), so the next start is quick.
    pub fn save_snapshot(&self, station: &StationId, snapshot: &Snapshot) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO snapshots(station, seq, state) VALUES (?1, ?2, ?3)",
            params![
                station.as_str(),
                i64::try_from(snapshot.seq())?,
                serde_json::to_string(snapshot)?
            ],
        )?;
        Ok(())
    }

    /// The token hashes revoked so far.
    pub fn revoked_tokens(&self) -> anyhow::Result<std::collections::HashSet<[u8; 32]>> {
        let mut stmt = self
            .conn
            .prepare("SELECT token_sha256 FROM revoked_tokens")?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = std::collections::HashSet::new();
        for row in rows {
            let bytes = row?;
            out.insert(
                bytes
                    .try_into()
                    .map_err(|_| anyhow::anyhow!("a revoked token hash of the wrong length"))?,
            );
        }
        Ok(out)
    }

    /// Events per station between snapshots.
    pub fn snapshot_every(&self) -> u64 {
        self.options.snapshot_every()
    }

    /// Calls `f` with `station`'s logged events after `after_seq`, in sequence order.
    pub fn replay(
        &self,
        station: &str,
        after_seq: u64,
        f: impl FnMut(Recorded) -> anyhow::Result<()>,
    ) -> anyhow::Result<u64> {
        replay_on(&self.conn, station, after_seq, f)
    }

    /// Another read-only connection to this log, for replaying stations on another thread
    /// (a connection belongs to one thread at a time).
    pub fn reader(&self) -> anyhow::Result<LogReader> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(LogReader { conn })
    }

    /// The stored idempotent answers given at or after `since` (older ones are looked up on
    /// demand with [`Store::find_answer`], so start-up does not grow with the log's age).
    pub fn idempotency_records(
        &self,
        since: DateTime<Utc>,
    ) -> anyhow::Result<Vec<IdempotencyRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT device, key, fingerprint, status, response, at_us FROM idempotency WHERE at_us >= ?1",
        )?;
        let rows = stmt.query_map([since.timestamp_micros()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Vec<u8>>(2)?,
                row.get::<_, u16>(3)?,
                row.get::<_, Vec<u8>>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (device, key, fp, status, body, at_us) = row?;
            out.push(idempotency_record(device, key, fp, status, body, at_us)?);
        }
        Ok(out)
    }

    /// Whether answers older than `since` exist (they are then looked up on demand).
    pub fn has_idempotency_before(&self, since: DateTime<Utc>) -> anyhow::Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM idempotency WHERE at_us < ?1)",
            [since.timestamp_micros()],
            |r| r.get(0),
        )?)
    }

    /// Starts the writer thread; from here on only the writer writes.
    pub fn start_writer(self) -> anyhow::Result<Store> {
        // A second, read-only connection for looking up old idempotency keys: readers never
        // wait for the writer (WAL).
        let reader = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let (jobs, rx) = mpsc::unbounded_channel();
        let health = Health::default();
        let path = Arc::new(self.path.clone());
        let writer_health = health.clone();
        // Checkpoints are the writer's and its checkpointer's business (see `Checkpointer`).
        self.conn.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-{WRITER_CACHE_KIB};"
        ))?;
        self.conn.busy_timeout(WRITER_BUSY_TIMEOUT)?;
        let checkpointer = Checkpointer::start(&self.path)?;
        thread::Builder::new()
            .name("lobbywatch-log-writer".into())
            .spawn(move || writer_loop(self.conn, rx, writer_health, checkpointer))
            .expect("spawning the log writer thread");
        Ok(Store {
            jobs,
            health,
            path,
            snapshot_every: self.options.snapshot_every(),
            reader: Arc::new(Mutex::new(reader)),
        })
    }
}

impl Store {
    /// Queues a record for the next group commit. Call it inside the station's lock so the log
    /// order is the apply order; await the returned receiver outside the lock.
    pub fn submit(&self, record: Record) -> oneshot::Receiver<Result<(), StoreError>> {
        self.send(Work::Record(record))
    }

    /// Makes a revocation durable; await the receiver before acting on it.
    pub fn revoke(&self, revocation: Revocation) -> oneshot::Receiver<Result<(), StoreError>> {
        self.send(Work::Revoke(revocation))
    }

    fn send(&self, work: Work) -> oneshot::Receiver<Result<(), StoreError>> {
        let (ack, rx) = oneshot::channel();
        if let Some(reason) = self.health.failure() {
            let _ = ack.send(Err(StoreError::Failed(reason)));
        } else if let Err(mpsc::error::SendError(job)) = self.jobs.send(Job { work, ack }) {
            let _ = job
                .ack
                .send(Err(StoreError::Failed("the log writer has stopped".into())));
        }
        rx
    }

    /// Whether the state after event `seq` of a station should be snapshotted.
    pub fn snapshot_due(&self, seq: u64) -> bool {
        seq % self.snapshot_every == 0
    }

    /// `Some(reason)` once the log has failed; the service then refuses new events.
    pub fn failure(&self) -> Option<String> {
        self.health.failure()
    }

    /// The stored answer for `(device, key)`, if the log has one. A primary-key look-up, used
    /// only when memory has no entry for the key.
    pub fn find_answer(
        &self,
        device: &DeviceId,
        key: &str,
    ) -> anyhow::Result<Option<IdempotencyRecord>> {
        let conn = self
            .reader
            .lock()
            .map_err(|_| anyhow::anyhow!("idempotency reader poisoned"))?;
        let mut stmt = conn.prepare_cached(
            "SELECT device, key, fingerprint, status, response, at_us FROM idempotency WHERE device = ?1 AND key = ?2",
        )?;
        let mut rows = stmt.query(params![device.as_str(), key])?;
        match rows.next()? {
            None => Ok(None),
            Some(row) => Ok(Some(idempotency_record(
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
            )?)),
        }
    }

    /// `station`'s events accepted in `[from, to)`, in sequence order (reports and history;
    /// read on the read-only connection, never waiting for the writer).
    pub fn events_between(
        &self,
        station: &StationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Recorded>> {
        let conn = self
            .reader
            .lock()
            .map_err(|_| anyhow::anyhow!("log reader poisoned"))?;
        let mut stmt = conn.prepare_cached(
            "SELECT station, seq, at_us, device, body FROM events
             WHERE station = ?1 AND at_us >= ?2 AND at_us < ?3 ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![
            station.as_str(),
            from.timestamp_micros(),
            to.timestamp_micros()
        ])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(recorded(row)?);
        }
        Ok(out)
    }

    /// The last `rule_changed` event of `station` before `at`, if any: the rule in force then.
    pub fn rule_change_before(
        &self,
        station: &StationId,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<Recorded>> {
        let conn = self
            .reader
            .lock()
            .map_err(|_| anyhow::anyhow!("log reader poisoned"))?;
        let mut stmt = conn.prepare_cached(
            "SELECT station, seq, at_us, device, body FROM events INDEXED BY rule_changes
             WHERE station = ?1 AND kind = 'rule_changed' AND at_us < ?2
             ORDER BY at_us DESC LIMIT 1",
        )?;
        let mut rows = stmt.query(params![station.as_str(), at.timestamp_micros()])?;
        rows.next()?.map(recorded).transpose()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits until everything queued so far is committed (used at shutdown).
    pub async fn flush(&self) {
        let (ack, rx) = oneshot::channel();
        if self
            .jobs
            .send(Job {
                work: Work::Flush,
                ack,
            })
            .is_ok()
        {
            let _ = rx.await;
        }
    }
}

/// A read-only connection to an opened log (see [`OpenLog::reader`]).
pub struct LogReader {
    conn: Connection,
}

impl LogReader {
    /// Calls `f` with `station`'s logged events after `after_seq`, in sequence order.
    pub fn replay(
        &self,
        station: &str,
        after_seq: u64,
        f: impl FnMut(Recorded) -> anyhow::Result<()>,
    ) -> anyhow::Result<u64> {
        replay_on(&self.conn, station, after_seq, f)
    }
}

fn replay_on(
    conn: &Connection,
    station: &str,
    after_seq: u64,
    mut f: impl FnMut(Recorded) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut stmt = conn.prepare_cached(
        "SELECT station, seq, at_us, device, body FROM events WHERE station = ?1 AND seq > ?2 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![station, i64::try_from(after_seq)?])?;
    let mut n = 0;
    while let Some(row) = rows.next()? {
        f(recorded(row)?)?;
        n += 1;
    }
    Ok(n)
}

/// An `events` row (`station, seq, at_us, device, body`) as a [`Recorded`] event.
fn recorded(row: &rusqlite::Row<'_>) -> anyhow::Result<Recorded> {
    let station: String = row.get(0)?;
    let seq: i64 = row.get(1)?;
    let at_us: i64 = row.get(2)?;
    let device: String = row.get(3)?;
    let body: String = row.get(4)?;
    let where_ = || format!("event {station}/{seq}");
    Ok(Recorded {
        station: StationId::parse(&station).map_err(|e| anyhow::anyhow!("{}: {e}", where_()))?,
        seq: u64::try_from(seq)?,
        at: DateTime::from_timestamp_micros(at_us)
            .ok_or_else(|| anyhow::anyhow!("{}: bad timestamp", where_()))?,
        device: DeviceId::parse(&device).map_err(|e| anyhow::anyhow!("{}: {e}", where_()))?,
        event: serde_json::from_str::<Event>(&body)
            .map_err(|e| anyhow::anyhow!("{}: unreadable body: {e}", where_()))?,
    })
}

fn idempotency_record(
    device: String,
    key: String,
    fingerprint: Vec<u8>,
    status: u16,
    body: Vec<u8>,
    at_us: i64,
) -> anyhow::Result<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        device: DeviceId::parse(&device).map_err(|e| anyhow::anyhow!("{e}"))?,
        key,
        fingerprint: fingerprint
            .try_into()
            .map_err(|_| anyhow::anyhow!("idempotency fingerprint of wrong length"))?,
        status,
        body: body.into(),
        at: DateTime::from_timestamp_micros(at_us).unwrap_or_default(),
    })
}

/// Copies committed WAL frames into the database file on a thread and connection of its own, so
/// that at ordinary load no commit ever waits for a checkpoint (one takes milliseconds).
///
/// The WAL starts over from its beginning only when a write transaction begins with every
/// frame already copied. Under sustained load the writer always has new frames by then, so a
/// checkpoint on another connection alone would let the WAL grow without end (measured: 1.6 GB
/// in ten seconds). So the writer watches the WAL's size as the checkpointer last saw it, and
/// past [`WAL_FRAMES_LIMIT`] it checkpoints by itself (RESTART: it copies the few frames left
/// and the next commit starts the WAL over) — between two groups, after the acknowledgements.
struct Checkpointer {
    due: std::sync::mpsc::SyncSender<()>,
    /// Frames in the WAL at the end of the last checkpoint.
    wal_frames: Arc<AtomicU64>,
    thread: thread::JoinHandle<()>,
}

impl Checkpointer {
    fn start(path: &Path) -> anyhow::Result<Checkpointer> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Only ever synced, never written through: SQLite writes the pages.
        let database = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        let (due, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let wal_frames = Arc::new(AtomicU64::new(0));
        let frames = wal_frames.clone();
        let thread = thread::Builder::new()
            .name("lobbywatch-log-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    if let Some(log) = checkpoint(&conn, "PASSIVE") {
                        // Under load a PASSIVE checkpoint never reaches the WAL's end, and
                        // SQLite then leaves the pages it copied unsynced: the next sync of the
                        // database file — the writer's RESTART, while events wait — would flush
                        // all of them (measured: 4 ms). Flushed here, that sync finds only the
                        // few pages copied since.
                        if let Err(e) = database.sync_data() {
                            tracing::warn!(cause = %e, "syncing the database file after a checkpoint failed");
                        }
                        frames.store(log, Ordering::Release);
                    }
                }
            })?;
        Ok(Checkpointer {
            due,
            wal_frames,
            thread,
        })
    }

    /// Asks for a checkpoint; a request already waiting covers this one too.
    fn request(&self) {
        let _ = self.due.try_send(());
    }

    fn wal_frames(&self) -> u64 {
        self.wal_frames.load(Ordering::Acquire)
    }

    fn wal_restarted(&self) {
        self.wal_frames.store(0, Ordering::Release);
    }

    /// Lets a running checkpoint finish and stops the thread.
    fn stop(self) {
        drop(self.due);
        let _ = self.thread.join();
    }
}

/// One checkpoint of `mode`: PASSIVE never blocks the writer; RESTART (the writer's own) waits
/// for a running checkpoint and readers, then makes the next commit start the WAL over. Returns
/// the frames the WAL held, or `None` if the checkpoint failed or could not finish (that loses
/// nothing: the frames stay in the WAL).
fn checkpoint(conn: &Connection, mode: &str) -> Option<u64> {
    match conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    }) {
        Ok((0, log)) => u64::try_from(log).ok(),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(cause = %e, "WAL checkpoint failed");
            None
        }
    }
}

/// The writer's RESTART checkpoint, without waiting: if the checkpointer is copying just now,
/// SQLite's busy handler would sleep the writer for milliseconds (1, 2, 5 ms …) while events
/// queue; instead the writer tries again after its next group. Returns whether the WAL will
/// start over.
fn restart_wal(conn: &Connection) -> bool {
    let _ = conn.busy_timeout(Duration::ZERO);
    let restarted = checkpoint(conn, "RESTART").is_some();
    let _ = conn.busy_timeout(WRITER_BUSY_TIMEOUT);
    restarted
}

fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::UnboundedReceiver<Job>,
    health: Health,
    checkpointer: Checkpointer,
) {
    let mut group: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    let mut since_request = 0u64;
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let result = match health.failure() {
            Some(reason) => Err(StoreError::Failed(reason)),
            None => write_group(&mut conn, &group).map_err(|e| {
                let reason = e.to_string();
                tracing::error!(cause = %reason, records = group.len(), "event log write failed; no further events will be accepted");
                health.fail(reason.clone());
                StoreError::Failed(reason)
            }),
        };
        since_request += group.len() as u64;
        for job in group.drain(..) {
            let _ = job.ack.send(result.clone());
        }
        if health.failure().is_some() {
            continue;
        }
        if since_request >= CHECKPOINT_AFTER {
            checkpointer.request();
            since_request = 0;
        }
        // The WAL is not starting over (sustained load): copy the rest here, after the
        // acknowledgements — the group just committed does not wait for it, and what arrives
        // meanwhile commits as one larger group.
        if checkpointer.wal_frames() > WAL_FRAMES_LIMIT && restart_wal(&conn) {
            checkpointer.wal_restarted();
        }
    }
    checkpointer.stop();
    // All senders are gone: the service is shutting down. Checkpoint so the next start reads
    // one file; failure here loses nothing (the WAL is replayed by SQLite on open).
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(cause = %e, "WAL checkpoint at shutdown failed");
    }
}

fn write_group(conn: &mut Connection, group: &[Job]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut insert_event = tx.prepare_cached(
            "INSERT INTO events(station, seq, at_us, device, kind, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut upsert_snapshot = tx.prepare_cached(
            "INSERT OR REPLACE INTO snapshots(station, seq, state) VALUES (?1, ?2, ?3)",
        )?;
        let mut insert_idem = tx.prepare_cached(
            "INSERT INTO idempotency(device, key, fingerprint, status, response, at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut insert_revoked = tx.prepare_cached(
            "INSERT OR IGNORE INTO revoked_tokens(token_sha256, device, at_us, by) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for job in group {
            let r = match &job.work {
                Work::Record(r) => r,
                Work::Revoke(rev) => {
                    for hash in &rev.hashes {
                        insert_revoked.execute(params![
                            &hash[..],
                            rev.device.as_str(),
                            rev.at.timestamp_micros(),
                            rev.by.as_str()
                        ])?;
                    }
                    continue;
                }
                Work::Flush => continue,
            };
            if let Some(e) = &r.event {
                let body = serde_json::to_string(&e.event)
                    .map_err(|err| rusqlite::Error::ToSqlConversionFailure(Box::new(err)))?;
                insert_event.execute(params![
                    e.station.as_str(),
                    e.seq as i64,
                    e.at.timestamp_micros(),
                    e.device.as_str(),
                    e.event.kind(),
                    body
                ])?;
            }
            if let Some((station, snapshot)) = &r.snapshot {
                // Serialized here, on the writer thread, to keep the station's lock short.
                let state = serde_json::to_string(snapshot)
                    .map_err(|err| rusqlite::Error::ToSqlConversionFailure(Box::new(err)))?;
                upsert_snapshot.execute(params![station.as_str(), snapshot.seq() as i64, state])?;
            }
            if let Some(i) = &r.idempotency {
                insert_idem.execute(params![
                    i.device.as_str(),
                    i.key,
                    &i.fingerprint[..],
                    i.status,
                    &i.body[..],
                    i.at.timestamp_micros()
                ])?;
            }
        }
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without checkpoints the WAL would hold every page version ever written (over 60 MiB
    /// here); with them it starts over again and again and stays near [`WAL_FRAMES_LIMIT`]
    /// pages however long the log grows — also under this sustained load, where the
    /// checkpointer thread alone would never let it start over.
    #[test]
    fn the_wal_is_checkpointed_and_reused_so_it_does_not_grow_with_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let store = OpenLog::open(dir.path(), StoreOptions::default())
            .unwrap()
            .start_writer()
            .unwrap();
        let wal = dir.path().join(format!("{DB_FILE}-wal"));
        let stations: Vec<StationId> = (0..64)
            .map(|i| StationId::parse(&format!("s{i}")).unwrap())
            .collect();
        let device = DeviceId::parse("desk").unwrap();
        let event: Event =
            serde_json::from_str(r#"{"kind":"cleaned","surface":"counter"}"#).unwrap();
        let mut largest_wal = 0;
        let mut n = 0u64;
        for _ in 0..80 {
            let acks: Vec<_> = (0..256)
                .map(|_| {
                    n += 1;
                    let station = stations[(n % 64) as usize].clone();
                    store.submit(Record {
                        event: Some(Recorded {
                            station,
                            seq: n / 64 + 1,
                            at: Utc::now(),
                            device: device.clone(),
                            event: event.clone(),
                        }),
                        idempotency: Some(IdempotencyRecord {
                            device: device.clone(),
                            key: format!("key-{n}"),
                            fingerprint: [7; 32],
                            status: 201,
                            body: bytes::Bytes::from(vec![b'x'; 300]),
                            at: Utc::now(),
                        }),
                        snapshot: None,
                    })
                })
                .collect();
            for ack in acks {
                ack.blocking_recv().unwrap().unwrap();
            }
            largest_wal = largest_wal.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        assert!(
            largest_wal < 16 << 20,
            "the WAL grew to {} MiB",
            largest_wal >> 20
        );
    }
}
