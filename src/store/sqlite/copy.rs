//! The SQLite log as `copy-log` reads and fills it: a read-only view of a whole log as of one
//! commit ([`CopyView`], a copy's source), and an empty log filled in one transaction
//! ([`CopyTarget`], its destination).
//!
//! The source is never written — no marker, no checkpoint — so copying out of a data directory
//! leaves its log exactly as it was. (SQLite itself may leave an empty `-wal` and a `-shm`
//! beside a log a read-only connection opened after a clean shutdown, as `backup` does: they
//! hold nothing, and the next start opens them as any.) The destination is opened as any start opens a data directory
//! (the directory's checks, a fresh directory gets its marker) and follows the writer's rule for
//! the marker: it says the WAL is in use before the commit that puts the copy there.

use std::path::Path;

use rusqlite::Connection;

use super::marker::Marker;
use super::{OpenLog, checkpointer, datadir, reads, schema, writer};
use crate::domain::Recorded;
use crate::store::StoreOptions;
use crate::store::rows::{
    AnswerRow, Counts, EventRow, ReadRows, RevokedRow, SnapshotRow, WriteRows,
};

/// A whole log read inside one read transaction.
pub struct CopyView {
    conn: Connection,
}

impl CopyView {
    /// The log in `dir`, read-only, after the data directory's checks (see
    /// `datadir::open_read_only_checked`). Every read from here on sees the log as of one
    /// commit, even while a service is still writing to it (WAL: neither waits for the other).
    pub fn open(dir: &Path) -> anyhow::Result<CopyView> {
        let view = CopyView {
            conn: datadir::open_read_only_checked(dir)?,
        };
        view.begin("BEGIN")?;
        Ok(view)
    }

    /// Starts the transaction with `begin`, and reads once: in WAL mode the first read, not
    /// `BEGIN`, fixes what the transaction sees.
    fn begin(&self, begin: &str) -> anyhow::Result<()> {
        self.conn.execute_batch(begin)?;
        reads::counts(&self.conn)?;
        Ok(())
    }
}

impl ReadRows for CopyView {
    async fn events_after(
        &self,
        after: Option<&EventRow>,
        limit: usize,
    ) -> anyhow::Result<Vec<EventRow>> {
        reads::event_rows(&self.conn, after, limit)
    }

    async fn answers_after(
        &self,
        after: Option<&AnswerRow>,
        limit: usize,
    ) -> anyhow::Result<Vec<AnswerRow>> {
        reads::answer_rows(&self.conn, after, limit)
    }

    async fn revoked_after(
        &self,
        after: Option<&RevokedRow>,
        limit: usize,
    ) -> anyhow::Result<Vec<RevokedRow>> {
        reads::revoked_rows(&self.conn, after, limit)
    }

    async fn snapshots_after(
        &self,
        after: Option<&SnapshotRow>,
        limit: usize,
    ) -> anyhow::Result<Vec<SnapshotRow>> {
        reads::snapshot_rows(&self.conn, after, limit)
    }

    async fn counts(&self) -> anyhow::Result<Counts> {
        reads::counts(&self.conn)
    }

    async fn stations(&self) -> anyhow::Result<Vec<String>> {
        reads::stations(&self.conn)
    }

    async fn replay(
        &self,
        station: &str,
        f: impl FnMut(Recorded) -> anyhow::Result<()>,
    ) -> anyhow::Result<u64> {
        reads::replay(&self.conn, station, 0, f)
    }
}

/// A log being filled inside one write transaction, rolled back unless committed.
pub struct CopyTarget {
    /// The write connection, inside the transaction.
    view: CopyView,
    marker: Marker,
    committed: bool,
}

impl CopyTarget {
    /// Opens (creating if needed) the log in `dir` as a start does, and takes the log's write
    /// lock (`BEGIN IMMEDIATE`) before anything is read, so what [`ReadRows::counts`] finds
    /// there stays true until the commit.
    pub fn open(dir: &Path) -> anyhow::Result<CopyTarget> {
        let log = OpenLog::open(dir, StoreOptions::default())?;
        let view = CopyView { conn: log.conn };
        view.begin("BEGIN IMMEDIATE")?;
        Ok(CopyTarget {
            view,
            marker: log.marker,
            committed: false,
        })
    }

    fn conn(&self) -> &Connection {
        &self.view.conn
    }
}

impl WriteRows for CopyTarget {
    type Rows = CopyView;

    fn rows(&self) -> &CopyView {
        &self.view
    }

    async fn put_events(&mut self, rows: &[EventRow]) -> anyhow::Result<()> {
        Ok(writer::insert_event_rows(self.conn(), rows)?)
    }

    async fn put_answers(&mut self, rows: &[AnswerRow]) -> anyhow::Result<()> {
        Ok(writer::insert_answer_rows(self.conn(), rows)?)
    }

    async fn put_revoked(&mut self, rows: &[RevokedRow]) -> anyhow::Result<()> {
        Ok(writer::insert_revoked_rows(self.conn(), rows)?)
    }

    async fn put_snapshots(&mut self, rows: &[SnapshotRow]) -> anyhow::Result<()> {
        Ok(writer::insert_snapshot_rows(self.conn(), rows)?)
    }

    /// Commits, then folds the WAL into the database file and records the log's events in the
    /// marker, as a graceful shutdown does; the marker says the WAL is in use before the commit
    /// puts anything there, so a WAL lost in between is noticed at the next start.
    async fn commit(mut self) -> anyhow::Result<()> {
        self.marker.wal_in_use_from_now()?;
        self.conn().execute_batch("COMMIT")?;
        self.committed = true;
        let events = schema::event_count(self.conn())?;
        if checkpointer::empty_wal(self.conn()) {
            self.marker.wal_emptied(events)?;
        } else {
            self.marker.advance(events)?;
        }
        Ok(())
    }
}

impl Drop for CopyTarget {
    fn drop(&mut self) {
        if !self.committed {
            // Closing the connection would roll back too; saying so keeps the WAL empty.
            let _ = self.conn().execute_batch("ROLLBACK");
        }
    }
}
