//! The log's rows exactly as a backend stores them, and the two interfaces `copy-log` moves them
//! through: reading a whole log from one consistent view ([`ReadRows`]) and filling an empty log
//! in one transaction ([`WriteRows`]).
//!
//! The service itself never sees these: it reads and writes [`Recorded`] events and parsed
//! answers. A copy must not go through those types, because parsing and serializing again could
//! change a stored byte — an event's body text or an idempotency answer, which a retry is sent
//! byte for byte. So a row here is the columns as they are, and each backend reads and writes
//! its own tables (`sqlite/reads.rs` and `sqlite/writer.rs`, `postgres/reads.rs` and
//! `postgres/append.rs`; the views and transactions in each backend's `copy.rs`).
//!
//! The tables' keys are the same on both backends, so rows are read in key order, a batch at a
//! time, each batch after the last row of the one before (a keyset, never an offset, so a batch
//! costs the same at the end of a long log as at its start). The order itself is each backend's
//! own — PostgreSQL compares text by its collation, SQLite byte by byte — so nothing may depend
//! on two backends listing rows in the same order.
//!
//! The `meta` table (the log's identity) is not a row here: a copy is a log of its own, and an
//! SQLite destination's marker already names the identity it was created with.

use crate::domain::Recorded;

/// Rows read or written in one statement when copying: a few MiB of bodies and answers, so
/// memory stays flat however long the log, and few round trips to a database.
pub const BATCH: usize = 5_000;

/// An `events` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub station: String,
    pub seq: i64,
    pub at_us: i64,
    pub device: String,
    pub kind: String,
    /// The event's JSON text, exactly as stored.
    pub body: String,
}

/// An `idempotency` row: a stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRow {
    pub device: String,
    pub key: String,
    pub fingerprint: Vec<u8>,
    pub status: i32,
    /// The answer's bytes, sent again on a retry.
    pub response: Vec<u8>,
    pub at_us: i64,
}

/// A `revoked_tokens` row (`by` is `by_device` on PostgreSQL, where `BY` is a keyword).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedRow {
    pub token_sha256: Vec<u8>,
    pub device: String,
    pub at_us: i64,
    pub by: String,
}

/// A `snapshots` row: a station's state after event `seq`, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRow {
    pub station: String,
    pub seq: i64,
    pub state: String,
}

/// How many rows each table holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub events: u64,
    pub answers: u64,
    pub revoked: u64,
    pub snapshots: u64,
}

impl Counts {
    /// Whether the log holds nothing at all — what a copy's destination must be.
    pub fn is_empty(&self) -> bool {
        *self == Counts::default()
    }
}

// The traits below are used by one command on one task (`copy-log`, under `block_on`), and an
// SQLite connection is not `Sync`, so their futures carry no `Send` bound: plain `async fn`.

/// A whole log read from one consistent view: a copy's source, or its destination before the
/// commit (reading its own writes). Each `…_after` returns up to `limit` rows in key order after
/// `after` (from the first row when `None`).
#[allow(async_fn_in_trait)]
pub trait ReadRows {
    async fn events_after(
        &self,
        after: Option<&EventRow>,
        limit: usize,
    ) -> anyhow::Result<Vec<EventRow>>;
    async fn answers_after(
        &self,
        after: Option<&AnswerRow>,
        limit: usize,
    ) -> anyhow::Result<Vec<AnswerRow>>;
    async fn revoked_after(
        &self,
        after: Option<&RevokedRow>,
        limit: usize,
    ) -> anyhow::Result<Vec<RevokedRow>>;
    async fn snapshots_after(
        &self,
        after: Option<&SnapshotRow>,
        limit: usize,
    ) -> anyhow::Result<Vec<SnapshotRow>>;
    /// How many rows each table holds.
    async fn counts(&self) -> anyhow::Result<Counts>;
    /// The stations that have events.
    async fn stations(&self) -> anyhow::Result<Vec<String>>;
    /// Calls `f` with each of `station`'s events from its first, in order, read as start-up
    /// reads them; returns how many there were.
    async fn replay(
        &self,
        station: &str,
        f: impl FnMut(Recorded) -> anyhow::Result<()>,
    ) -> anyhow::Result<u64>;
}

/// An empty log being filled in one transaction: nothing is visible to anyone else, and nothing
/// stays, until [`WriteRows::commit`]. Dropped without it, the transaction is rolled back.
#[allow(async_fn_in_trait)]
pub trait WriteRows {
    /// Reading the log being filled, inside its transaction (its own writes included).
    type Rows: ReadRows;
    fn rows(&self) -> &Self::Rows;
    async fn put_events(&mut self, rows: &[EventRow]) -> anyhow::Result<()>;
    async fn put_answers(&mut self, rows: &[AnswerRow]) -> anyhow::Result<()>;
    async fn put_revoked(&mut self, rows: &[RevokedRow]) -> anyhow::Result<()>;
    async fn put_snapshots(&mut self, rows: &[SnapshotRow]) -> anyhow::Result<()>;
    /// Makes everything written durable, as one commit.
    async fn commit(self) -> anyhow::Result<()>;
}
