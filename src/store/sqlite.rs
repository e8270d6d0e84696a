//! The SQLite log: one file in the data directory, written by this process alone.
//!
//! Handlers never touch SQLite. Within the station's lock they hand the writer a [`Record`] (the
//! accepted event and its idempotency record) with [`Store::submit`], so the log's order is the
//! order in which the engine applied events, and then they await the writer's acknowledgement,
//! which comes only once the record is durable. A failed write is final ([`StoreError`],
//! [`Health`]): the service then stops accepting events, because memory may be ahead of the log
//! and the log is the truth.
//!
//! | file | owns |
//! |---|---|
//! | `schema.rs` | opening the file: flags, WAL and `synchronous=FULL`, the layout and why, the log's identity |
//! | `migrate.rs` | converting a log of the first layout in place |
//! | `prune.rs` | retention of stored answers: bodies dropped, then rows forgotten |
//! | `datadir.rs` | the data directory at start-up: refusing a log missing pieces, adopting, setting aside |
//! | `marker.rs` | the directory's record of its log: identity, events, whether the WAL is in use |
//! | `backup.rs` | an online copy of the live log into one file |
//! | `copy.rs` | `copy-log`: a whole log read as of one commit, an empty log filled in one transaction |
//! | `writer.rs` | the writer thread: group commit, fail-stop |
//! | `bare_journal.rs` | the bench's B6: the writer's groups as one index-free row per event |
//! | `checkpointer.rs` | the checkpointer thread and the writer's WAL restarts |
//! | `reads.rs` | every read: replay, snapshots, stored answers, ranges, the readers' pool |
//! | `outbox.rs` | the webhook outbox: rows written with their event, read when due, settled |

mod backup;
mod bare_journal;
mod checkpointer;
mod copy;
mod datadir;
mod marker;
mod migrate;
mod outbox;
mod prune;
mod reads;
mod schema;
mod writer;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

pub use backup::{Backup, backup};
pub use checkpointer::{CHECKPOINT_AFTER, WAL_FRAMES_LIMIT};
pub use copy::{CopyTarget, CopyView};
pub use datadir::set_aside;
pub use marker::MARKER_FILE;
pub use reads::LogReader;
pub use writer::MAX_GROUP;

use super::{Record, Revocation, StoreError, StoreOptions};
use crate::domain::{DeviceId, Recorded, StationId};
use crate::engine::Snapshot;
use crate::idempotency::IdempotencyRecord;
use marker::Marker;
use reads::ReaderPool;
use writer::{Job, Work};

/// The database file inside the data directory.
pub const DB_FILE: &str = "lobbywatch.sqlite3";

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

/// The handle handlers use: cheap to clone.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::UnboundedSender<Job>,
    health: Health,
    path: Arc<PathBuf>,
    snapshot_every: u64,
    /// Read-only connections for the reads that serve requests: idempotency look-ups of keys
    /// older than what memory holds, reports and history.
    readers: Arc<ReaderPool>,
}

/// An opened log before its writer starts: replay reads it first.
pub struct OpenLog {
    conn: Connection,
    path: PathBuf,
    options: StoreOptions,
    /// The data directory's record of this log, kept up to date from here on.
    marker: Marker,
    /// Events in the log when it was opened.
    events: u64,
}

impl OpenLog {
    /// Opens (creating if needed) the log in `dir`. Refuses — an error naming the file and what
    /// to do — a log that is missing its database file or WAL, or that is not, or is older
    /// than, the log the directory recorded (see `store/datadir.rs`).
    pub fn open(dir: &Path, options: StoreOptions) -> anyhow::Result<OpenLog> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create data directory {}: {e}", dir.display()))?;
        let (conn, marker, events) = datadir::open_checked(dir, options.max_pages)?;
        Ok(OpenLog {
            conn,
            path: dir.join(DB_FILE),
            options,
            marker,
            events,
        })
    }

    /// The stations that have events in the log (one index probe per station).
    pub fn stations(&self) -> anyhow::Result<Vec<String>> {
        reads::stations(&self.conn)
    }

    /// The latest snapshot of each station. One that cannot be read is skipped with a warning:
    /// the log still holds every event, so the station is then rebuilt by a full replay.
    pub fn snapshots(&self) -> anyhow::Result<Vec<(StationId, Snapshot)>> {
        reads::snapshots(&self.conn)
    }

    /// Stores `snapshot` as `station`'s latest, when start-up had to replay a long tail (an old
    /// log, or one written with snapshots further apart), so the next start is quick.
    pub fn save_snapshot(&self, station: &StationId, snapshot: &Snapshot) -> anyhow::Result<()> {
        Ok(writer::save_snapshot(&self.conn, station, snapshot)?)
    }

    /// The token hashes revoked so far.
    pub fn revoked_tokens(&self) -> anyhow::Result<HashSet<[u8; 32]>> {
        reads::revoked_tokens(&self.conn)
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
        reads::replay(&self.conn, station, after_seq, f)
    }

    /// Another read-only connection to this log, for replaying stations on another thread
    /// (a connection belongs to one thread at a time).
    pub fn reader(&self) -> anyhow::Result<LogReader> {
        LogReader::open(&self.path)
    }

    /// The stored idempotent answers given at or after `since` (older ones are looked up on
    /// demand with [`Store::find_answer`], so start-up does not grow with the log's age).
    pub fn idempotency_records(
        &self,
        since: DateTime<Utc>,
    ) -> anyhow::Result<Vec<IdempotencyRecord>> {
        reads::idempotency_records(&self.conn, since)
    }

    /// The key hashes of the answers given before `since` (`idempotency::key_hash`), read from
    /// the index alone: memory then looks up only the keys among them.
    pub fn answer_hashes_before(&self, since: DateTime<Utc>) -> anyhow::Result<Vec<i64>> {
        reads::answer_hashes_before(&self.conn, since)
    }

    /// Starts the writer thread; from here on only the writer writes.
    pub fn start_writer(self) -> anyhow::Result<Store> {
        // Readers never wait for the writer (WAL).
        let readers = Arc::new(ReaderPool::open(self.path.clone())?);
        let health = Health::default();
        let snapshot_every = self.options.snapshot_every();
        if self.options.bare_journal {
            bare_journal::create(&self.conn)?;
        }
        let jobs = writer::start(
            self.conn,
            &self.path,
            health.clone(),
            Arc::new(self.marker),
            self.events,
            self.options.commit_observer,
            self.options.bare_journal,
        )?;
        Ok(Store {
            jobs,
            health,
            readers,
            path: Arc::new(self.path),
            snapshot_every,
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

    /// Prunes stored answers: bodies given before `prune.empty_before` are dropped, rows given
    /// before `prune.forget_before` forgotten — a bounded pass, in the writer's next group.
    pub fn prune_answers(
        &self,
        prune: crate::store::Prune,
    ) -> oneshot::Receiver<Result<(), StoreError>> {
        self.send(Work::Prune(prune))
    }

    /// Records what became of a webhook's delivery attempt, in the writer's next group.
    pub fn settle_webhook(
        &self,
        settle: crate::store::Settle,
    ) -> oneshot::Receiver<Result<(), StoreError>> {
        self.send(Work::Settle(settle))
    }

    /// Up to `limit` outbox rows due at `now` (one deliverer reads them; see `outbox.rs`).
    pub async fn due_webhooks(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> anyhow::Result<Vec<crate::store::DueWebhook>> {
        self.readers
            .read(move |reader| outbox::due(reader.connection(), now, limit))
            .await
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
    /// only when memory has no entry for the key; it runs in a blocking task on a read-only
    /// connection of its own, so it never blocks an async worker thread.
    pub async fn find_answer(
        &self,
        device: &DeviceId,
        key: &str,
    ) -> anyhow::Result<Option<IdempotencyRecord>> {
        self.readers.find_answer(device, key).await
    }

    /// `station`'s events accepted in `[from, to)`, in sequence order (reports and history).
    /// Blocking: call it from a blocking task. It reads on a read-only connection of its own,
    /// never waiting for the writer.
    pub fn events_between(
        &self,
        station: &StationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Recorded>> {
        self.readers.events_between(station, from, to)
    }

    /// The last `rule_changed` event of `station` before `at`, if any: the rule in force then.
    /// Blocking, as [`Store::events_between`].
    pub fn rule_change_before(
        &self,
        station: &StationId,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<Recorded>> {
        self.readers.rule_change_before(station, at)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits until everything queued so far is committed and the WAL is checkpointed into the
    /// database file, so that file alone is current (used at shutdown; a later commit simply
    /// uses the WAL again).
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
