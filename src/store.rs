//! The durable event log: what the rest of the service sees of it, whichever backend holds it.
//!
//! Two backends, two ways of deciding a station's order:
//!
//! - **SQLite** ([`sqlite`], the embedded default): one file in the data directory, written by
//!   this process alone. The station's order is decided in memory, under the station's lock, and
//!   the writer commits records in that order in groups ([`Log::Local`]). A failed write is
//!   final: memory may be ahead of the log, so the service stops taking events.
//! - **PostgreSQL** ([`postgres`]): one database shared by several instances. The order is
//!   decided in the database: a record is committed only as its station's next `seq`, and an
//!   instance that loses the race catches up and decides again ([`Log::Shared`]). Memory is never
//!   ahead of the log, so a failed write fails only its own request.
//!
//! The engine and the HTTP layer see neither: `ingest` picks the commit protocol by the variant,
//! and everything else — reads, revocations, health — goes through [`Log`]'s methods.

mod decode;
pub mod outbox;
pub mod postgres;
pub mod prune;
pub mod rows;
pub mod sqlite;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use crate::domain::{DeviceId, Recorded, StationId};
use crate::engine::Snapshot;
use crate::idempotency::IdempotencyRecord;

pub use crate::config::DatabaseUrl;
pub use outbox::{DueWebhook, OutboxRow, Settle};
pub use prune::Prune;
pub use sqlite::{
    Backup, CHECKPOINT_AFTER, DB_FILE, LogReader, MARKER_FILE, MAX_GROUP, OpenLog,
    WAL_FRAMES_LIMIT, backup, set_aside,
};

/// A station's state is snapshotted every this many of its events unless configured otherwise:
/// start-up then replays at most this many events per station after its snapshot. A snapshot
/// (tens of KiB, mostly the two-hour history) costs the writer well under a microsecond per event
/// at this spacing, while a national log of hundreds of stations restarts in well under a second
/// (S6 in `lobbywatch-bench`).
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 1_000;

/// Where the log lives.
// A `DatabaseUrl` (the driver's parsed config) is some 300 bytes to a path's 24; a `Storage` is
// made once per process, so boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Storage {
    /// The SQLite log in this data directory.
    Dir(PathBuf),
    /// A PostgreSQL database, possibly shared with other instances.
    Postgres(DatabaseUrl),
}

impl Storage {
    /// A log named on the command line: a `postgres://` URL is a database (parsed as
    /// [`DatabaseUrl::parse`] parses it; another scheme is refused rather than taken for a
    /// directory), anything else an SQLite data directory.
    pub fn parse(text: &str) -> Result<Storage, String> {
        if text.contains("://") {
            DatabaseUrl::parse(text).map(Storage::Postgres)
        } else {
            Ok(Storage::Dir(PathBuf::from(text)))
        }
    }
}

impl std::fmt::Display for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Storage::Dir(dir) => write!(f, "{}", dir.display()),
            Storage::Postgres(url) => write!(f, "{url}"),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The log could not be written; the service has stopped accepting events.
    #[error("the event log cannot be written: {0}")]
    Failed(String),
}

/// What one request asks the log to make durable.
#[derive(Debug)]
pub struct Record {
    /// The accepted event; `None` for a refusal, whose answer is still kept for retries.
    pub event: Option<Recorded>,
    /// The answer kept for retries; `None` for the service's own events, which no client retries.
    pub idempotency: Option<IdempotencyRecord>,
    /// The station's state after `event`, when a snapshot is due; written in the same
    /// transaction, so a snapshot never runs ahead of the events it summarises.
    pub snapshot: Option<(StationId, Box<Snapshot>)>,
    /// The webhooks the event caused (`webhooks::outbox_rows`), written in the same
    /// transaction, so an event is never durable without them.
    pub webhooks: Vec<OutboxRow>,
}

/// An admin's revocation of a device's tokens.
#[derive(Debug, Clone)]
pub struct Revocation {
    pub device: DeviceId,
    pub hashes: Vec<[u8; 32]>,
    pub by: DeviceId,
    pub at: DateTime<Utc>,
}

/// Options an operator may set on the log.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// Upper bound on the database size in pages (SQLite `max_page_count`): writes past it fail
    /// exactly as on a full disk. A quota for operators, and the way tests exercise fail-stop.
    pub max_pages: Option<u64>,
    /// Snapshot each station every this many events ([`DEFAULT_SNAPSHOT_EVERY`] when `None`).
    pub snapshot_every: Option<u64>,
    /// Told of every commit that wrote records (the metrics); `None` in tools and tests.
    pub commit_observer: Option<CommitObserver>,
    /// The bench's baseline B6, never the service: the SQLite writer appends each record's event
    /// as one row to an index-free table and writes nothing else (see
    /// `store/sqlite/bare_journal.rs`), so what durability alone costs can be measured through
    /// the same writer thread and group commit. Ignored by PostgreSQL.
    pub bare_journal: bool,
}

/// What a commit of the log is measured by: how long it took (the fsync included) and how many
/// records it made durable. The log only reports; the histograms are the metrics' (handles to
/// the same series, cheap to clone).
#[derive(Debug, Clone)]
pub struct CommitObserver {
    pub latency_seconds: prometheus_client::metrics::histogram::Histogram,
    pub group_size: prometheus_client::metrics::histogram::Histogram,
}

impl CommitObserver {
    /// One commit of `records` records that took `elapsed`. A commit that wrote nothing (a
    /// flush) is not a commit of the log and is not counted.
    pub fn committed(&self, records: usize, elapsed: std::time::Duration) {
        if records == 0 {
            return;
        }
        self.latency_seconds.observe(elapsed.as_secs_f64());
        self.group_size.observe(records as f64);
    }
}

impl StoreOptions {
    fn snapshot_every(&self) -> u64 {
        self.snapshot_every.unwrap_or(DEFAULT_SNAPSHOT_EVERY).max(1)
    }
}

/// How the log is doing, for `/healthz`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogHealth {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Whether events can be written now.
    pub writable: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The handle the service uses: cheap to clone.
#[derive(Clone)]
pub enum Log {
    /// This process alone writes the log (SQLite): order decided in memory, group commit.
    Local(sqlite::Store),
    /// Several instances write one log (PostgreSQL): order decided by the database.
    Shared(postgres::Store),
}

impl Log {
    /// Whether the state after event `seq` of a station should be snapshotted.
    pub fn snapshot_due(&self, seq: u64) -> bool {
        match self {
            Log::Local(log) => log.snapshot_due(seq),
            Log::Shared(log) => log.snapshot_due(seq),
        }
    }

    /// `Some(reason)` when events cannot be written now: for SQLite after a failed write (until
    /// a restart), for PostgreSQL while the database is unreachable.
    pub fn failure(&self) -> Option<String> {
        match self {
            Log::Local(log) => log.failure(),
            Log::Shared(log) => log.unreachable(),
        }
    }

    pub fn health(&self) -> LogHealth {
        let reason = self.failure();
        LogHealth {
            backend: match self {
                Log::Local(_) => "sqlite",
                Log::Shared(_) => "postgres",
            },
            writable: reason.is_none(),
            reason,
        }
    }

    /// The stored answer for `(device, key)`, if the log has one.
    pub async fn find_answer(
        &self,
        device: &DeviceId,
        key: &str,
    ) -> anyhow::Result<Option<IdempotencyRecord>> {
        match self {
            Log::Local(log) => log.find_answer(device, key).await,
            Log::Shared(log) => log.find_answer(device, key).await,
        }
    }

    /// `station`'s events accepted in `[from, to)`, in sequence order (reports and history).
    pub async fn events_between(
        &self,
        station: &StationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Recorded>> {
        match self {
            Log::Local(log) => {
                let (log, station) = (log.clone(), station.clone());
                blocking(move || log.events_between(&station, from, to)).await
            }
            Log::Shared(log) => log.events_between(station, from, to).await,
        }
    }

    /// The last `rule_changed` event of `station` before `at`, if any: the rule in force then.
    pub async fn rule_change_before(
        &self,
        station: &StationId,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<Recorded>> {
        match self {
            Log::Local(log) => {
                let (log, station) = (log.clone(), station.clone());
                blocking(move || log.rule_change_before(&station, at)).await
            }
            Log::Shared(log) => log.rule_change_before(station, at).await,
        }
    }

    /// Makes a revocation durable (and, on a shared log, known to every instance).
    pub async fn revoke(&self, revocation: Revocation) -> Result<(), StoreError> {
        match self {
            Log::Local(log) => acknowledged(log.revoke(revocation)).await,
            Log::Shared(log) => log.revoke(&revocation).await,
        }
    }

    /// One bounded pass of answer retention (`prune.rs`).
    pub async fn prune_answers(&self, prune: Prune) -> Result<(), StoreError> {
        match self {
            Log::Local(log) => acknowledged(log.prune_answers(prune)).await,
            Log::Shared(log) => log.prune_answers(prune).await,
        }
    }

    /// Up to `limit` outbox rows due at `now`, claimed for delivery: on a shared log no other
    /// instance gets them until `lease` has passed (see `store/outbox.rs`).
    pub async fn claim_webhooks(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: usize,
    ) -> anyhow::Result<Vec<DueWebhook>> {
        match self {
            Log::Local(log) => log.due_webhooks(now, limit).await,
            Log::Shared(log) => log.claim_webhooks(now, lease, limit).await,
        }
    }

    /// Records what became of a delivery attempt.
    pub async fn settle_webhook(&self, settle: Settle) -> Result<(), StoreError> {
        match self {
            Log::Local(log) => acknowledged(log.settle_webhook(settle)).await,
            Log::Shared(log) => log.settle_webhook(&settle).await,
        }
    }

    /// Waits until everything handed to the log so far is durable (used at shutdown).
    pub async fn flush(&self) {
        match self {
            Log::Local(log) => log.flush().await,
            Log::Shared(_) => {} // every write is committed before it is acknowledged
        }
    }
}

/// A writer's acknowledgement, a stopped writer counting as a failed write.
pub async fn acknowledged(
    ack: oneshot::Receiver<Result<(), StoreError>>,
) -> Result<(), StoreError> {
    ack.await
        .unwrap_or_else(|_| Err(StoreError::Failed("the log writer stopped".into())))
}

async fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|e| anyhow::anyhow!("a log read stopped: {e}"))?
}
