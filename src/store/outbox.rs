//! The webhook outbox as the log keeps it: rows written with the event that caused them, then
//! claimed, delivered and settled by the deliverer (`webhooks/deliver.rs`).
//!
//! Both backends keep the same table, `webhook_outbox(id, station, body, created_us, due_us,
//! attempts)`. A row is inserted in the transaction of its event (ignored if its id is there
//! already: ids are decided by the event, so the same notice is one row however it is written).
//! On SQLite one process owns the log, so the deliverer reads what is due and settles each row
//! through the log's writer before it reads again. On PostgreSQL several instances may deliver:
//! a claim moves the rows' `due_us` a lease ahead inside `FOR UPDATE SKIP LOCKED`, so no other
//! instance takes them while they are in flight, and an instance killed mid-delivery leaves them
//! due again when the lease runs out.

use chrono::{DateTime, Utc};

use crate::domain::StationId;

/// A webhook to send, as written in its event's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// `{station}.{seq}.{index}`: the `webhook-id` every attempt is sent with.
    pub id: String,
    pub station: StationId,
    /// The JSON body, as it will be signed and sent.
    pub body: String,
    /// When the row was written (the system's time, not a shifted clock): its first attempt is
    /// due then, and it is given up a day later.
    pub created: DateTime<Utc>,
}

/// A row that is due, with the attempts made so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueWebhook {
    pub id: String,
    /// The station's id as stored (a station a reload removed may still have rows).
    pub station: String,
    pub body: String,
    pub created: DateTime<Utc>,
    pub attempts: u32,
}

/// What became of an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// The receiver took it (2xx), or it was given up: the row is deleted.
    Done(String),
    /// Not taken: tried again at `due`, with `attempts` made so far.
    Retry {
        id: String,
        due: DateTime<Utc>,
        attempts: u32,
    },
}

/// Microseconds since the epoch, as both backends store times.
pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// A stored time back as a `DateTime`.
pub(crate) fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}
