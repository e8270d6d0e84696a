//! The PostgreSQL log as `copy-log` reads and fills it: a whole log read from one snapshot
//! ([`CopyView`], a copy's source), and an empty log filled in one transaction ([`CopyTarget`],
//! its destination).
//!
//! The source is only read — its schema is checked, never migrated — inside one
//! `REPEATABLE READ, READ ONLY` transaction, so the copy is the log as of one moment even if an
//! instance still writes to it. The destination gets the schema as any start does, then one
//! transaction that locks the log's tables against writes before it looks at them: what it found
//! (nothing, or the copy is refused) stays true until the commit, and until then no instance
//! sees a row of the copy.

use anyhow::Context;
use deadpool_postgres::{GenericClient, Object, Pool};

use super::{OpenLog, SCHEMA_VERSION, append, pool, reads, schema};
use crate::config::DatabaseUrl;
use crate::domain::Recorded;
use crate::store::StoreOptions;
use crate::store::rows::{
    AnswerRow, Counts, EventRow, ReadRows, RevokedRow, SnapshotRow, WriteRows,
};

/// A whole log read inside one transaction on a connection of its own.
pub struct CopyView {
    client: Object,
    /// Kept so the connection is closed — and an unfinished transaction rolled back — when
    /// the view is dropped.
    _pool: Pool,
}

impl CopyView {
    /// The log in the database at `url`, read from one snapshot. Refused unless the database
    /// holds a lobbywatch log of the schema this binary reads.
    pub async fn open(url: &DatabaseUrl) -> anyhow::Result<CopyView> {
        let pool = pool(url, "lobbywatch-copy-log")?;
        let client = pool
            .get()
            .await
            .with_context(|| format!("cannot connect to {url}"))?;
        match schema::version(&client).await? {
            Some(SCHEMA_VERSION) => {}
            None => anyhow::bail!("{url} holds no lobbywatch log (it has no lobbywatch_schema)"),
            Some(found) => anyhow::bail!(
                "{url} has schema version {found}; this lobbywatch reads version {SCHEMA_VERSION} (run the lobbywatch release that wrote it)"
            ),
        }
        let view = CopyView {
            client,
            _pool: pool,
        };
        view.begin("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        Ok(view)
    }

    /// Runs `begin` (the transaction's start and locks), and reads once: a `REPEATABLE READ`
    /// transaction's snapshot is taken by its first query, not by `BEGIN`.
    async fn begin(&self, begin: &str) -> anyhow::Result<()> {
        self.client.batch_execute(begin).await?;
        reads::counts(&self.client).await?;
        Ok(())
    }
}

impl ReadRows for CopyView {
    async fn events_after(
        &self,
        after: Option<&EventRow>,
        limit: usize,
    ) -> anyhow::Result<Vec<EventRow>> {
        reads::event_rows(&self.client, after, limit).await
    }

    async fn answers_after(
        &self,
        after: Option<&AnswerRow>,
        limit: usize,
    ) -> anyhow::Result<Vec<AnswerRow>> {
        reads::answer_rows(&self.client, after, limit).await
    }

    async fn revoked_after(
        &self,
        after: Option<&RevokedRow>,
        limit: usize,
    ) -> anyhow::Result<Vec<RevokedRow>> {
        reads::revoked_rows(&self.client, after, limit).await
    }

    async fn snapshots_after(
        &self,
        after: Option<&SnapshotRow>,
        limit: usize,
    ) -> anyhow::Result<Vec<SnapshotRow>> {
        reads::snapshot_rows(&self.client, after, limit).await
    }

    async fn counts(&self) -> anyhow::Result<Counts> {
        reads::counts(&self.client).await
    }

    async fn stations(&self) -> anyhow::Result<Vec<String>> {
        reads::stations(&self.client).await
    }

    async fn replay(
        &self,
        station: &str,
        mut f: impl FnMut(Recorded) -> anyhow::Result<()>,
    ) -> anyhow::Result<u64> {
        let events = reads::events_after(&self.client, station, 0).await?;
        let n = events.len() as u64;
        events.into_iter().try_for_each(&mut f)?;
        Ok(n)
    }
}

/// A log being filled inside one transaction, rolled back unless committed.
pub struct CopyTarget {
    view: CopyView,
}

impl CopyTarget {
    /// Connects to `url`, brings the schema up to date as a start does, begins the transaction
    /// and locks the log's tables against writes (`EXCLUSIVE`: reads go on) before anything
    /// is read, so what [`ReadRows::counts`] finds stays true until the commit.
    pub async fn open(url: &DatabaseUrl) -> anyhow::Result<CopyTarget> {
        let log = OpenLog::open(url, StoreOptions::default()).await?;
        let view = CopyView {
            client: log.client().await?,
            _pool: log.pool,
        };
        view.begin(
            "BEGIN;
             LOCK TABLE events, idempotency, revoked_tokens, snapshots IN EXCLUSIVE MODE",
        )
        .await?;
        Ok(CopyTarget { view })
    }

    fn client(&self) -> &Object {
        &self.view.client
    }
}

impl WriteRows for CopyTarget {
    type Rows = CopyView;

    fn rows(&self) -> &CopyView {
        &self.view
    }

    async fn put_events(&mut self, rows: &[EventRow]) -> anyhow::Result<()> {
        Ok(append::insert_event_rows(self.client(), rows).await?)
    }

    async fn put_answers(&mut self, rows: &[AnswerRow]) -> anyhow::Result<()> {
        Ok(append::insert_answer_rows(self.client(), rows).await?)
    }

    async fn put_revoked(&mut self, rows: &[RevokedRow]) -> anyhow::Result<()> {
        Ok(append::insert_revoked_rows(self.client(), rows).await?)
    }

    async fn put_snapshots(&mut self, rows: &[SnapshotRow]) -> anyhow::Result<()> {
        Ok(append::insert_snapshot_rows(self.client(), rows).await?)
    }

    async fn commit(self) -> anyhow::Result<()> {
        Ok(self.client().batch_execute("COMMIT").await?)
    }
}
