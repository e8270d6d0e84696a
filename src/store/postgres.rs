//! The PostgreSQL log: one database shared by any number of identical instances.
//!
//! Each instance keeps its stations in memory, as with SQLite, but a station's order is decided
//! by the database: a station's next record is decided and committed while the writer holds the
//! station's lock in the database, after reading what other instances committed meanwhile
//! (`append.rs`). Memory is never ahead of the log — a decision becomes the station only once
//! committed — so a failed write fails its own request only; nothing here is fail-stop. Every
//! committed event is announced to the other instances, which read what they have not seen
//! (`announce.rs`, `listen.rs`).
//!
//! | file | owns |
//! |---|---|
//! | `schema.rs` | the tables, as numbered migrations applied at start under an advisory lock |
//! | `append.rs` | writing a station's next record under its lock, revocations, snapshots |
//! | `announce.rs` | telling the other instances of committed events, after the commit, in batches |
//! | `copy.rs` | `copy-log`: a whole log read from one snapshot, an empty log filled in one transaction |
//! | `reads.rs` | every read: start-up, catching up, stored answers, ranges |
//! | `listen.rs` | `LISTEN`ing for other instances' commits; whether the database answers |
//! | `outbox.rs` | the webhook outbox: rows written with their event, claimed under a lease, settled |

mod announce;
mod append;
mod copy;
mod listen;
mod outbox;
mod prune;
mod reads;
mod schema;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::mpsc;
use tokio_postgres::NoTls;

pub use append::{AppendError, WriteError};
pub use copy::{CopyTarget, CopyView};
pub use listen::{Notice, Reachability};
pub use schema::SCHEMA_VERSION;

use super::{CommitObserver, Record, Revocation, StoreError, StoreOptions};
use crate::config::DatabaseUrl;
use crate::domain::{DeviceId, Recorded, StationId};
use crate::engine::Snapshot;
use crate::idempotency::IdempotencyRecord;
use announce::Announcer;

/// How the service's connections are named in PostgreSQL (`pg_stat_activity`).
const APPLICATION: &str = "lobbywatch";
/// The notification channel every instance listens on.
const CHANNEL: &str = "lobbywatch";
/// Connections per instance. Each request holds one for one short transaction; more would only
/// queue inside PostgreSQL, whose own default limit is 100 for all instances together.
const POOL_SIZE: usize = 16;
/// How long connecting, or waiting for a pooled connection, may take before a request is told
/// the database is unavailable (a dead database must give a quick 503, not a hung terminal).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// An opened database before the instance starts serving: start-up reads it.
pub struct OpenLog {
    pool: Pool,
    url: DatabaseUrl,
    options: StoreOptions,
}

impl OpenLog {
    /// Connects, and brings the schema up to date (or refuses a newer one).
    pub async fn open(url: &DatabaseUrl, options: StoreOptions) -> anyhow::Result<OpenLog> {
        let pool = pool(url, APPLICATION)?;
        let mut client = pool
            .get()
            .await
            .with_context(|| format!("cannot connect to {url}"))?;
        schema::migrate(&mut client)
            .await
            .with_context(|| format!("preparing the schema of {url}"))?;
        Ok(OpenLog {
            pool,
            url: url.clone(),
            options,
        })
    }

    async fn client(&self) -> anyhow::Result<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .with_context(|| format!("cannot connect to {}", self.url))
    }

    pub async fn stations(&self) -> anyhow::Result<Vec<String>> {
        reads::stations(&self.client().await?).await
    }

    pub async fn snapshots(&self) -> anyhow::Result<Vec<(StationId, Snapshot)>> {
        reads::snapshots(&self.client().await?).await
    }

    /// `station`'s events after `after_seq`, in order.
    pub async fn events_after(
        &self,
        station: &str,
        after_seq: u64,
    ) -> anyhow::Result<Vec<Recorded>> {
        reads::events_after(&self.client().await?, station, after_seq).await
    }

    pub async fn save_snapshot(
        &self,
        station: &StationId,
        snapshot: &Snapshot,
    ) -> anyhow::Result<()> {
        Ok(append::upsert_snapshot(&self.client().await?, station, snapshot).await?)
    }

    pub async fn revoked_tokens(&self) -> anyhow::Result<HashSet<[u8; 32]>> {
        reads::revoked_tokens(&self.client().await?, None).await
    }

    pub async fn idempotency_records(
        &self,
        since: DateTime<Utc>,
    ) -> anyhow::Result<Vec<IdempotencyRecord>> {
        reads::idempotency_records(&self.client().await?, since).await
    }

    pub async fn has_idempotency_before(&self, since: DateTime<Utc>) -> anyhow::Result<bool> {
        reads::has_idempotency_before(&self.client().await?, since).await
    }

    pub fn snapshot_every(&self) -> u64 {
        self.options.snapshot_every()
    }

    /// Starts listening for other instances' commits; from here on the instance serves.
    pub fn start(self) -> Store {
        let reachability = Reachability::default();
        let (notices, received) = mpsc::unbounded_channel();
        tokio::spawn(listen::listen(
            connect_config(&self.url, APPLICATION),
            notices,
            reachability.clone(),
        ));
        Store {
            announcer: Announcer::start(self.pool.clone()),
            pool: self.pool,
            reachability,
            snapshot_every: self.options.snapshot_every(),
            observer: self.options.commit_observer,
            notices: Arc::new(Mutex::new(Some(received))),
            pruned: Arc::default(),
        }
    }
}

/// The handle the service uses: cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    announcer: Announcer,
    reachability: Reachability,
    snapshot_every: u64,
    /// Told of each event transaction's commit (a group of one), for the metrics.
    observer: Option<CommitObserver>,
    /// What the listener heard, taken once by the task that acts on it.
    notices: Arc<Mutex<Option<mpsc::UnboundedReceiver<Notice>>>>,
    /// How far this instance's retention passes dropped answers' bodies.
    pruned: Arc<prune::Watermark>,
}

impl Store {
    /// Decides and commits `station`'s next record under the station's lock in the database
    /// (see `append.rs`): `decide` gets the station's events after `head` and returns the record
    /// to write, or `None`.
    pub async fn write_station<T, E>(
        &self,
        station: &StationId,
        head: u64,
        decide: impl FnOnce(Vec<Recorded>) -> Result<Option<(Record, T)>, E>,
    ) -> Result<Option<T>, WriteError<E>> {
        let started = std::time::Instant::now();
        let written =
            append::write_station(&self.pool, &self.announcer, station, head, decide).await;
        if let (Ok(Some(_)), Some(observer)) = (&written, &self.observer) {
            observer.committed(1, started.elapsed());
        }
        if let Err(WriteError::Append(e)) = &written {
            self.note_failure(e);
        }
        written
    }

    pub async fn revoke(&self, revocation: &Revocation) -> Result<(), StoreError> {
        append::revoke(&self.pool, revocation).await.map_err(|e| {
            self.note_failure(&e);
            StoreError::Failed(e.to_string())
        })
    }

    /// One bounded pass of answer retention (`prune.rs`).
    pub async fn prune_answers(&self, prune: crate::store::Prune) -> Result<(), StoreError> {
        match prune::run(&self.pool, prune, &self.pruned).await {
            Ok(rows) => {
                tracing::debug!(rows, "stored answers pruned");
                Ok(())
            }
            Err(e) => Err(StoreError::Failed(e.to_string())),
        }
    }

    /// Claims up to `limit` outbox rows due at `now` for `lease` (see `outbox.rs`).
    pub async fn claim_webhooks(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> anyhow::Result<Vec<crate::store::DueWebhook>> {
        outbox::claim(&self.pool, now, lease, limit).await
    }

    /// Records what became of a webhook's delivery attempt.
    pub async fn settle_webhook(&self, settle: &crate::store::Settle) -> Result<(), StoreError> {
        outbox::settle(&self.pool, settle)
            .await
            .map_err(|e| StoreError::Failed(e.to_string()))
    }

    /// `station`'s events after `after_seq`, in order (catching up).
    pub async fn events_after(
        &self,
        station: &StationId,
        after_seq: u64,
    ) -> anyhow::Result<Vec<Recorded>> {
        reads::events_after(&self.client().await?, station.as_str(), after_seq).await
    }

    pub async fn find_answer(
        &self,
        device: &DeviceId,
        key: &str,
    ) -> anyhow::Result<Option<IdempotencyRecord>> {
        reads::find_answer(&self.client().await?, device, key).await
    }

    pub async fn events_between(
        &self,
        station: &StationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Recorded>> {
        reads::events_between(&self.client().await?, station, from, to).await
    }

    pub async fn rule_change_before(
        &self,
        station: &StationId,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<Recorded>> {
        reads::rule_change_before(&self.client().await?, station, at).await
    }

    /// The revoked token hashes of `device`.
    pub async fn revoked_of(&self, device: &DeviceId) -> anyhow::Result<HashSet<[u8; 32]>> {
        reads::revoked_tokens(&self.client().await?, Some(device)).await
    }

    /// `Some(reason)` while the database cannot be reached.
    pub fn unreachable(&self) -> Option<String> {
        self.reachability.down()
    }

    pub fn snapshot_due(&self, seq: u64) -> bool {
        seq % self.snapshot_every == 0
    }

    /// What the listener hears; `None` after the first call (one task acts on it).
    pub fn take_notices(&self) -> Option<mpsc::UnboundedReceiver<Notice>> {
        self.notices.lock().ok().and_then(|mut n| n.take())
    }

    async fn client(&self) -> anyhow::Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| {
            self.reachability.set_down(e.to_string());
            anyhow::anyhow!("the database is unavailable: {e}")
        })
    }

    fn note_failure(&self, e: &AppendError) {
        if let AppendError::Unavailable(reason) = e {
            self.reachability.set_down(reason.clone());
        }
    }
}

/// The driver's settings for `url`, with a bounded connect time, named `application` in
/// PostgreSQL's views of its connections.
fn connect_config(url: &DatabaseUrl, application: &str) -> tokio_postgres::Config {
    let mut config = url.config().clone();
    config.connect_timeout(CONNECT_TIMEOUT);
    config.application_name(application);
    config
}

/// The service's connection pool for `url` (also the bench's B7 baseline's, so it measures the
/// same pool).
pub fn pool(url: &DatabaseUrl, application: &str) -> anyhow::Result<Pool> {
    let manager = Manager::from_config(
        connect_config(url, application),
        NoTls,
        ManagerConfig {
            // A connection PostgreSQL closed (a restart) is noticed as closed and replaced.
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(CONNECT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .context("building the database connection pool")
}
