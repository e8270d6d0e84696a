//! The log's one writer: a thread that owns the write connection and commits records in groups.
//!
//! Handlers hand the writer a [`Job`] over a channel, in the order the engine applied the
//! events, and await its acknowledgement. The writer takes everything that is queued (up to
//! [`MAX_GROUP`]), writes it in one transaction and commits — one fsync for the whole group,
//! `synchronous=FULL` — and only then acknowledges each job. A failed write or commit is final:
//! the writer acknowledges that group and every later one with an error, and the service stops
//! accepting events, because memory may now be ahead of the log and the log is the truth.
//! Between groups, after the acknowledgements, it keeps the WAL small (see `checkpointer.rs`).
//! It also keeps the data directory's marker (`marker.rs`) truthful: before the first commit
//! that puts anything in an empty WAL the marker says the WAL is in use, and a flush empties the
//! WAL into the database file before it is acknowledged, so after a graceful shutdown the
//! database file alone is the whole log. (The row inserts `copy-log` fills an empty log with,
//! before any writer runs, share the writer's statements.)

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use rusqlite::{CachedStatement, Connection, params};
use tokio::sync::{mpsc, oneshot};

use super::checkpointer::{self, CHECKPOINT_AFTER, Checkpointer, WAL_FRAMES_LIMIT};
use super::marker::Marker;
use super::outbox;
use super::prune::{self, Watermark};
use super::{Health, Record, Revocation, StoreError};
use crate::domain::{Recorded, StationId};
use crate::engine::Snapshot;
use crate::idempotency::IdempotencyRecord;
use crate::idempotency::key_hash as answer_key_hash;
use crate::store::CommitObserver;
use crate::store::outbox::Settle;
use crate::store::prune::Prune;
use crate::store::rows::{AnswerRow, EventRow, RevokedRow, SnapshotRow};

/// Most records one transaction takes; a larger backlog commits in several groups.
pub const MAX_GROUP: usize = 1024;
/// The writer connection's page cache: the hot end of every station's B-trees stays in memory.
const WRITER_CACHE_KIB: i64 = 16 * 1024;
/// Stores a station's latest snapshot, replacing the one before.
const UPSERT_SNAPSHOT: &str =
    "INSERT OR REPLACE INTO snapshots(station, seq, state) VALUES (?1, ?2, ?3)";
const INSERT_EVENT: &str =
    "INSERT INTO events(station, seq, at_us, device, kind, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
pub(super) const INSERT_ANSWER: &str = "INSERT INTO idempotency(key_hash, device, key, fingerprint, status, response, at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
/// A token revoked twice stays one row.
const INSERT_REVOKED: &str =
    "INSERT OR IGNORE INTO revoked_tokens(token_sha256, device, at_us, by) VALUES (?1, ?2, ?3, ?4)";

/// What the writer is asked to do.
// A `Record` is most of what the writer is sent, each moved once through the channel: boxing it
// would add an allocation per event to save bytes of the rarer jobs' queue slots.
#[allow(clippy::large_enum_variant)]
pub(super) enum Work {
    Record(Record),
    Revoke(Revocation),
    /// A pass of answer retention (`prune.rs`).
    Prune(Prune),
    /// What became of a webhook's delivery attempt (`outbox.rs`).
    Settle(Settle),
    /// Nothing to write: the acknowledgement says everything queued before is committed.
    Flush,
}

pub(super) struct Job {
    pub(super) work: Work,
    pub(super) ack: oneshot::Sender<Result<(), StoreError>>,
}

/// How far the log has got, and the marker that records it.
pub(super) struct Position {
    pub(super) marker: Arc<Marker>,
    /// Events committed so far, for the checkpointer to record in the marker.
    pub(super) committed: Arc<AtomicU64>,
    /// The bench's B6: groups go to `bare_journal.rs` instead of the log's tables.
    pub(super) bare_journal: bool,
}

impl Position {
    fn events(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }
}

/// Starts the writer thread on `conn` (the log at `path`, opened for writing, holding `events`
/// events), with its checkpointer; from here on only the writer writes. Returns the writer's
/// queue.
pub(super) fn start(
    conn: Connection,
    path: &Path,
    health: Health,
    marker: Arc<Marker>,
    events: u64,
    observer: Option<CommitObserver>,
    bare_journal: bool,
) -> anyhow::Result<mpsc::UnboundedSender<Job>> {
    let (jobs, rx) = mpsc::unbounded_channel();
    checkpointer::take_over_checkpoints(&conn)?;
    conn.execute_batch(&format!("PRAGMA cache_size=-{WRITER_CACHE_KIB};"))?;
    let position = Position {
        marker,
        committed: Arc::new(AtomicU64::new(events)),
        bare_journal,
    };
    let checkpointer = Checkpointer::start(path, &position)?;
    thread::Builder::new()
        .name("lobbywatch-log-writer".into())
        .spawn(move || writer_loop(conn, rx, health, checkpointer, position, observer))
        .expect("spawning the log writer thread");
    Ok(jobs)
}

/// Stores `snapshot` as `station`'s latest outside the writer thread (start-up, before the
/// writer starts), with the same statement the writer uses.
pub(super) fn save_snapshot(
    conn: &Connection,
    station: &StationId,
    snapshot: &Snapshot,
) -> rusqlite::Result<()> {
    put_snapshot(
        &mut conn.prepare_cached(UPSERT_SNAPSHOT)?,
        station,
        snapshot,
    )
}

fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::UnboundedReceiver<Job>,
    health: Health,
    checkpointer: Checkpointer,
    position: Position,
    observer: Option<CommitObserver>,
) {
    let mut group: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    let mut since_request = 0u64;
    let mut pruned = Watermark::default();
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let mut result = commit_unless_failed(&mut conn, &group, &health, &position, &mut pruned);
        if let (Ok(()), Some(observer)) = (&result, &observer) {
            let records = group
                .iter()
                .filter(|job| matches!(job.work, Work::Record(_)));
            observer.committed(records.count(), started.elapsed());
        }
        if result.is_ok() && group.iter().any(|job| matches!(job.work, Work::Flush)) {
            result = empty_wal(&conn, &position, &health);
        }
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
        if checkpointer.wal_frames() > WAL_FRAMES_LIMIT && checkpointer::restart_wal(&conn) {
            checkpointer.wal_restarted();
        }
    }
    checkpointer.stop();
    // All senders are gone: the log is being closed.
    close(conn, &position);
}

/// Closes the log once its last handle is gone — also after a failure, as everything committed
/// is still worth folding in. SQLite deletes the WAL file when the last connection closes, so
/// the WAL is emptied and the marker told so first; if either fails, the connection is leaked
/// rather than closed, so the WAL the marker still expects stays where it is (the process is
/// ending anyway, or a test dropped its log).
fn close(conn: Connection, position: &Position) {
    let recorded = checkpointer::empty_wal(&conn)
        && position
            .marker
            .wal_emptied(position.events())
            .inspect_err(|e| tracing::warn!(cause = %e, "updating the data directory's marker at close failed"))
            .is_ok();
    if !recorded {
        std::mem::forget(conn);
    }
}

/// Commits `group`, unless the log has already failed; a failure here is recorded in `health`,
/// so every later group is refused too (fail-stop). Before the first commit into an empty WAL
/// the marker says the WAL is in use: a marker that cannot say so fails the log like a failed
/// write, since the directory could then no longer tell a lost WAL from a complete log.
fn commit_unless_failed(
    conn: &mut Connection,
    group: &[Job],
    health: &Health,
    position: &Position,
    pruned: &mut Watermark,
) -> Result<(), StoreError> {
    if let Some(reason) = health.failure() {
        return Err(StoreError::Failed(reason));
    }
    let writes = group.iter().any(|job| !matches!(job.work, Work::Flush));
    let fail = |reason: String| {
        tracing::error!(cause = %reason, records = group.len(), "event log write failed; no further events will be accepted");
        health.fail(reason.clone());
        StoreError::Failed(reason)
    };
    if writes && !position.marker.wal_in_use() {
        position
            .marker
            .wal_in_use_from_now()
            .map_err(|e| fail(format!("cannot update the data directory's marker: {e}")))?;
    }
    let written = if position.bare_journal {
        super::bare_journal::write_group(conn, group)
    } else {
        write_group(conn, group, pruned)
    };
    written.map_err(|e| fail(e.to_string()))?;
    let events = group
        .iter()
        .filter(|job| matches!(&job.work, Work::Record(r) if r.event.is_some()))
        .count() as u64;
    position.committed.fetch_add(events, Ordering::AcqRel);
    Ok(())
}

/// A flush's checkpoint: copies the whole WAL into the database file and empties it, then
/// records in the marker that the database file alone is current. If the WAL cannot be emptied
/// (a reader holds it) nothing is lost — the marker goes on saying the WAL is in use. Only a
/// marker that cannot be written fails the log.
fn empty_wal(conn: &Connection, position: &Position, health: &Health) -> Result<(), StoreError> {
    if !checkpointer::empty_wal(conn) {
        return Ok(());
    }
    position.marker.wal_emptied(position.events()).map_err(|e| {
        let reason = format!("cannot update the data directory's marker: {e}");
        tracing::error!(cause = %reason, "the log's marker cannot be written");
        health.fail(reason.clone());
        StoreError::Failed(reason)
    })
}

/// Writes every job of `group` in one transaction and commits it (one fsync).
fn write_group(
    conn: &mut Connection,
    group: &[Job],
    pruned: &mut Watermark,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut statements = Statements::prepare(&tx)?;
        for job in group {
            match &job.work {
                Work::Record(record) => statements.record(record)?,
                Work::Revoke(revocation) => statements.revocation(revocation)?,
                Work::Prune(p) => {
                    let rows = prune::run(&tx, *p, pruned)?;
                    tracing::debug!(rows, "stored answers pruned");
                }
                Work::Settle(settle) => outbox::settle(&tx, settle)?,
                Work::Flush => {}
            }
        }
    }
    tx.commit()
}

/// The writer's statements, prepared once per group (from the connection's statement cache).
struct Statements<'conn> {
    insert_event: CachedStatement<'conn>,
    upsert_snapshot: CachedStatement<'conn>,
    insert_idempotency: CachedStatement<'conn>,
    insert_revoked: CachedStatement<'conn>,
    insert_webhook: CachedStatement<'conn>,
}

impl<'conn> Statements<'conn> {
    fn prepare(conn: &'conn Connection) -> rusqlite::Result<Self> {
        Ok(Statements {
            insert_event: conn.prepare_cached(INSERT_EVENT)?,
            upsert_snapshot: conn.prepare_cached(UPSERT_SNAPSHOT)?,
            insert_idempotency: conn.prepare_cached(INSERT_ANSWER)?,
            insert_revoked: conn.prepare_cached(INSERT_REVOKED)?,
            insert_webhook: conn.prepare_cached(outbox::INSERT)?,
        })
    }

    fn record(&mut self, record: &Record) -> rusqlite::Result<()> {
        if let Some(event) = &record.event {
            self.event(event)?;
        }
        if let Some((station, snapshot)) = &record.snapshot {
            put_snapshot(&mut self.upsert_snapshot, station, snapshot)?;
        }
        if let Some(answer) = &record.idempotency {
            self.idempotency(answer)?;
        }
        for row in &record.webhooks {
            outbox::insert(&mut self.insert_webhook, row)?;
        }
        Ok(())
    }

    fn event(&mut self, e: &Recorded) -> rusqlite::Result<()> {
        let body = serde_json::to_string(&e.event).map_err(to_sql_error)?;
        self.insert_event.execute(params![
            e.station.as_str(),
            e.seq as i64,
            e.at.timestamp_micros(),
            e.device.as_str(),
            e.event.kind(),
            body
        ])?;
        Ok(())
    }

    fn idempotency(&mut self, i: &IdempotencyRecord) -> rusqlite::Result<()> {
        self.insert_idempotency.execute(params![
            answer_key_hash(i.device.as_str(), &i.key),
            i.device.as_str(),
            i.key,
            &i.fingerprint[..],
            i.status,
            &i.body[..],
            i.at.timestamp_micros()
        ])?;
        Ok(())
    }

    fn revocation(&mut self, rev: &Revocation) -> rusqlite::Result<()> {
        for hash in &rev.hashes {
            self.insert_revoked.execute(params![
                &hash[..],
                rev.device.as_str(),
                rev.at.timestamp_micros(),
                rev.by.as_str()
            ])?;
        }
        Ok(())
    }
}

/// Inserts `rows` as they are, column for column (`copy-log`, inside its transaction), with the
/// statement the writer inserts events with.
pub(super) fn insert_event_rows(conn: &Connection, rows: &[EventRow]) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(INSERT_EVENT)?;
    for r in rows {
        insert.execute(params![r.station, r.seq, r.at_us, r.device, r.kind, r.body])?;
    }
    Ok(())
}

/// Inserts stored answers as they are, as [`insert_event_rows`].
pub(super) fn insert_answer_rows(conn: &Connection, rows: &[AnswerRow]) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(INSERT_ANSWER)?;
    for r in rows {
        insert.execute(params![
            answer_key_hash(&r.device, &r.key),
            r.device,
            r.key,
            r.fingerprint,
            r.status,
            r.response,
            r.at_us
        ])?;
    }
    Ok(())
}

/// Inserts revoked tokens as they are, as [`insert_event_rows`].
pub(super) fn insert_revoked_rows(conn: &Connection, rows: &[RevokedRow]) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(INSERT_REVOKED)?;
    for r in rows {
        insert.execute(params![r.token_sha256, r.device, r.at_us, r.by])?;
    }
    Ok(())
}

/// Inserts snapshots as they are (their state text untouched), as [`insert_event_rows`].
pub(super) fn insert_snapshot_rows(
    conn: &Connection,
    rows: &[SnapshotRow],
) -> rusqlite::Result<()> {
    let mut upsert = conn.prepare_cached(UPSERT_SNAPSHOT)?;
    for r in rows {
        upsert.execute(params![r.station, r.seq, r.state])?;
    }
    Ok(())
}

/// Runs [`UPSERT_SNAPSHOT`] for `station`. The snapshot is serialized here — on the writer
/// thread, when the writer stores it — to keep the station's lock short.
fn put_snapshot(
    upsert: &mut CachedStatement<'_>,
    station: &StationId,
    snapshot: &Snapshot,
) -> rusqlite::Result<()> {
    let state = serde_json::to_string(snapshot).map_err(to_sql_error)?;
    let seq = i64::try_from(snapshot.seq()).map_err(to_sql_error)?;
    upsert.execute(params![station.as_str(), seq, state])?;
    Ok(())
}

fn to_sql_error(err: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(err))
}
