//! Writing to the shared log: a station's next event is decided and committed while its writer
//! holds the station's lock in the database. (Also the rows `copy-log` inserts into an empty log,
//! as they are.)
//!
//! [`write_station`] opens a transaction, takes the station's advisory lock (every instance's
//! writer takes it before writing the station, so writers queue for it in order), reads the
//! station's events past the ones the instance has — usually none; those another instance
//! committed meanwhile — and only then lets the caller decide: on the truth, with no other writer
//! able to commit for the station until this transaction ends. So of two check-ins for the last
//! place sent at once to two instances, the one whose writer gets the lock second sees the first
//! applied and waits outside; and a writer that was behind never loses a race it must retry — the
//! lock's queue is fair, where retrying after a lost race starved the instance that was behind
//! while another had a backlog (measured: dozens of 503s per 10 s of saturating load through two
//! instances).
//!
//! The primary key (station, seq) still decides if anything writes without the lock (a second
//! version of lobbywatch during an upgrade, say): a duplicate seq is refused by PostgreSQL and
//! reported as [`AppendError::Behind`], and the caller catches up and tries again. A refusal
//! writes no event, only its answer. Each committed event is then announced to the other
//! instances (`announce.rs`); a revocation notifies them inside its own transaction.

use deadpool_postgres::{GenericClient, Pool};
use tokio_postgres::error::SqlState;

use super::CHANNEL;
use super::announce::Announcer;
use crate::domain::{Recorded, StationId};
use crate::engine::Snapshot;
use crate::idempotency::IdempotencyRecord;
use crate::store::rows::{AnswerRow, EventRow, RevokedRow, SnapshotRow};
use crate::store::{Record, Revocation};

/// Why a record was not committed. Nothing of it was written in any case.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppendError {
    /// Another instance has written the station since this one last read it.
    #[error("another instance wrote the station first")]
    Behind,
    /// The idempotency key already has a stored answer (another instance answered it).
    #[error("the idempotency key was answered already")]
    KeyTaken,
    /// The database could not be reached or refused the write; the outcome is known not to be
    /// committed, or unknown (a lost connection during COMMIT) — either way nothing is
    /// acknowledged, and a retry under the same key finds the answer if it did commit.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

/// Why [`write_station`] wrote nothing.
#[derive(Debug)]
pub enum WriteError<E> {
    /// The caller decided against writing, for its own reason.
    Decided(E),
    /// The record could not be committed.
    Append(AppendError),
}

impl<E> From<AppendError> for WriteError<E> {
    fn from(e: AppendError) -> Self {
        WriteError::Append(e)
    }
}

/// Writes `station`'s next record under its lock: `decide` is given the station's events after
/// `head` (what the caller has not applied yet) and returns the record to commit with a value to
/// hand back, or `None` to write nothing. `decide` runs while the lock is held, so it must not
/// wait for anything — it is synchronous for that reason.
pub(super) async fn write_station<T, E>(
    pool: &Pool,
    announcer: &Announcer,
    station: &StationId,
    head: u64,
    decide: impl FnOnce(Vec<Recorded>) -> Result<Option<(Record, T)>, E>,
) -> Result<Option<T>, WriteError<E>> {
    let mut client = pool.get().await.map_err(|e| unavailable(&e))?;
    let tx = client.transaction().await.map_err(classify)?;
    lock_station(&tx, station).await?;
    let missing = super::reads::events_after(&tx, station.as_str(), head)
        .await
        .map_err(|e| unavailable(&e))?;
    // Dropping the transaction without a commit rolls it back and releases the lock.
    let Some((record, value)) = decide(missing).map_err(WriteError::Decided)? else {
        return Ok(None);
    };
    write_record(&tx, &record).await?;
    tx.commit().await.map_err(classify)?;
    if let Some(event) = &record.event {
        announcer.event(station, event.seq);
    }
    Ok(Some(value))
}

/// The namespace of the stations' advisory locks (the first of the two keys; "lw").
const STATION_LOCKS: i32 = 0x6c77;

/// Takes `station`'s advisory lock until the transaction ends. Two stations whose names hash
/// alike share a lock: their writers then queue together, which costs time, never correctness.
async fn lock_station(client: &impl GenericClient, station: &StationId) -> Result<(), AppendError> {
    let stmt = client
        .prepare_cached("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .await
        .map_err(classify)?;
    client
        .execute(&stmt, &[&STATION_LOCKS, &station.as_str()])
        .await
        .map_err(classify)?;
    Ok(())
}

/// Writes the record's event, snapshot, answer and webhooks.
async fn write_record(client: &impl GenericClient, record: &Record) -> Result<(), AppendError> {
    if let Some(event) = &record.event {
        insert_event(client, event).await?;
    }
    if let Some((station, snapshot)) = &record.snapshot {
        upsert_snapshot(client, station, snapshot)
            .await
            .map_err(classify)?;
    }
    if let Some(answer) = &record.idempotency {
        insert_answer(client, answer).await?;
    }
    for row in &record.webhooks {
        super::outbox::insert(client, row).await?;
    }
    Ok(())
}

/// Makes a revocation durable and tells every instance of it.
pub(super) async fn revoke(pool: &Pool, revocation: &Revocation) -> Result<(), AppendError> {
    let mut client = pool.get().await.map_err(|e| unavailable(&e))?;
    let tx = client.transaction().await.map_err(classify)?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO revoked_tokens(token_sha256, device, at_us, by_device)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(classify)?;
    for hash in &revocation.hashes {
        tx.execute(
            &insert,
            &[
                &&hash[..],
                &revocation.device.as_str(),
                &revocation.at.timestamp_micros(),
                &revocation.by.as_str(),
            ],
        )
        .await
        .map_err(classify)?;
    }
    notify(&tx, &format!("r {}", revocation.device))
        .await
        .map_err(classify)?;
    tx.commit().await.map_err(classify)
}

async fn insert_event(client: &impl GenericClient, e: &Recorded) -> Result<(), AppendError> {
    let body = serde_json::to_string(&e.event).expect("events serialize");
    let stmt = client
        .prepare_cached(
            "INSERT INTO events(station, seq, at_us, device, kind, body) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await
        .map_err(classify)?;
    client
        .execute(
            &stmt,
            &[
                &e.station.as_str(),
                &seq_param(e.seq)?,
                &e.at.timestamp_micros(),
                &e.device.as_str(),
                &e.event.kind(),
                &body,
            ],
        )
        .await
        .map_err(classify)?;
    Ok(())
}

async fn insert_answer(
    client: &impl GenericClient,
    i: &IdempotencyRecord,
) -> Result<(), AppendError> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO idempotency(device, key, fingerprint, status, response, at_us)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await
        .map_err(classify)?;
    client
        .execute(
            &stmt,
            &[
                &i.device.as_str(),
                &i.key,
                &&i.fingerprint[..],
                &i32::from(i.status),
                &&i.body[..],
                &i.at.timestamp_micros(),
            ],
        )
        .await
        .map_err(classify)?;
    Ok(())
}

/// Stores `snapshot` as `station`'s latest, unless a later one is there already.
pub(super) async fn upsert_snapshot(
    client: &impl GenericClient,
    station: &StationId,
    snapshot: &Snapshot,
) -> Result<(), tokio_postgres::Error> {
    let state = serde_json::to_string(snapshot).expect("snapshots serialize");
    let seq = i64::try_from(snapshot.seq()).unwrap_or(i64::MAX);
    let stmt = client
        .prepare_cached(
            "INSERT INTO snapshots(station, seq, state) VALUES ($1, $2, $3)
             ON CONFLICT (station) DO UPDATE SET seq = EXCLUDED.seq, state = EXCLUDED.state
             WHERE snapshots.seq < EXCLUDED.seq",
        )
        .await?;
    client
        .execute(&stmt, &[&station.as_str(), &seq, &state])
        .await?;
    Ok(())
}

/// Inserts `rows` as they are, column for column (`copy-log`, inside its transaction): one
/// statement per batch, each column sent as one array, where a statement per row would cost a
/// round trip per row.
pub(super) async fn insert_event_rows(
    client: &impl GenericClient,
    rows: &[EventRow],
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO events(station, seq, at_us, device, kind, body)
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
                                  $6::text[])",
        )
        .await?;
    let station: Vec<&str> = rows.iter().map(|r| r.station.as_str()).collect();
    let seq: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let at_us: Vec<i64> = rows.iter().map(|r| r.at_us).collect();
    let device: Vec<&str> = rows.iter().map(|r| r.device.as_str()).collect();
    let kind: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    let body: Vec<&str> = rows.iter().map(|r| r.body.as_str()).collect();
    client
        .execute(&stmt, &[&station, &seq, &at_us, &device, &kind, &body])
        .await?;
    Ok(())
}

/// Inserts stored answers as they are, as [`insert_event_rows`].
pub(super) async fn insert_answer_rows(
    client: &impl GenericClient,
    rows: &[AnswerRow],
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO idempotency(device, key, fingerprint, status, response, at_us)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bytea[], $4::integer[],
                                  $5::bytea[], $6::bigint[])",
        )
        .await?;
    let device: Vec<&str> = rows.iter().map(|r| r.device.as_str()).collect();
    let key: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    let fingerprint: Vec<&[u8]> = rows.iter().map(|r| r.fingerprint.as_slice()).collect();
    let status: Vec<i32> = rows.iter().map(|r| r.status).collect();
    let response: Vec<&[u8]> = rows.iter().map(|r| r.response.as_slice()).collect();
    let at_us: Vec<i64> = rows.iter().map(|r| r.at_us).collect();
    client
        .execute(
            &stmt,
            &[&device, &key, &fingerprint, &status, &response, &at_us],
        )
        .await?;
    Ok(())
}

/// Inserts revoked tokens as they are, as [`insert_event_rows`].
pub(super) async fn insert_revoked_rows(
    client: &impl GenericClient,
    rows: &[RevokedRow],
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO revoked_tokens(token_sha256, device, at_us, by_device)
             SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::bigint[], $4::text[])",
        )
        .await?;
    let hash: Vec<&[u8]> = rows.iter().map(|r| r.token_sha256.as_slice()).collect();
    let device: Vec<&str> = rows.iter().map(|r| r.device.as_str()).collect();
    let at_us: Vec<i64> = rows.iter().map(|r| r.at_us).collect();
    let by: Vec<&str> = rows.iter().map(|r| r.by.as_str()).collect();
    client
        .execute(&stmt, &[&hash, &device, &at_us, &by])
        .await?;
    Ok(())
}

/// Inserts snapshots as they are (their state text untouched), as [`insert_event_rows`].
pub(super) async fn insert_snapshot_rows(
    client: &impl GenericClient,
    rows: &[SnapshotRow],
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO snapshots(station, seq, state)
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[])",
        )
        .await?;
    let station: Vec<&str> = rows.iter().map(|r| r.station.as_str()).collect();
    let seq: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let state: Vec<&str> = rows.iter().map(|r| r.state.as_str()).collect();
    client.execute(&stmt, &[&station, &seq, &state]).await?;
    Ok(())
}

async fn notify(client: &impl GenericClient, payload: &str) -> Result<(), tokio_postgres::Error> {
    client
        .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
        .await?;
    Ok(())
}

fn seq_param(seq: u64) -> Result<i64, AppendError> {
    i64::try_from(seq).map_err(|_| AppendError::Unavailable(format!("seq {seq} out of range")))
}

/// A driver error as what it means for the record: which key was taken, or unavailable.
pub(super) fn classify(e: tokio_postgres::Error) -> AppendError {
    let taken = e
        .as_db_error()
        .filter(|db| db.code() == &SqlState::UNIQUE_VIOLATION)
        .and_then(|db| db.constraint());
    match taken {
        Some("events_station_seq") => AppendError::Behind,
        Some("idempotency_device_key") => AppendError::KeyTaken,
        _ => unavailable(&e),
    }
}

fn unavailable(e: &dyn std::fmt::Display) -> AppendError {
    AppendError::Unavailable(e.to_string())
}
