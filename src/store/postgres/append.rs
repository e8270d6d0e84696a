//! Writing to the shared log: a record is committed only as its station's next `seq`. (Also the
//! rows `copy-log` inserts into an empty log, as they are.)
//!
//! Why a unique key and not a lock on the station's head: the primary key (station, seq) already
//! exists for replay, and it decides the race with no extra row and no lock held across a round
//! trip. Two instances that both think a station is at seq 41 both insert seq 42; PostgreSQL
//! lets the first commit and fails the second with a unique violation (after waiting for the
//! first to finish, so the loser never guesses). The loser is told [`AppendError::Behind`],
//! catches up from the log and lets the engine decide again on the fresh state.
//!
//! A refusal writes no event, only its answer; it is committed only if the station's head is
//! still the one it was decided on, so a refusal is never stored for a state that was already
//! stale. Each commit that adds an event notifies the other instances (`NOTIFY` is delivered only
//! on commit, and only if it commits).

use deadpool_postgres::{GenericClient, Pool};
use tokio_postgres::error::SqlState;

use super::CHANNEL;
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

/// Commits `record` for `station`, whose head (last seq) was `head` when the engine decided.
pub(super) async fn append(
    pool: &Pool,
    station: &StationId,
    head: u64,
    record: &Record,
) -> Result<(), AppendError> {
    let mut client = pool.get().await.map_err(|e| unavailable(&e))?;
    let tx = client.transaction().await.map_err(classify)?;
    match &record.event {
        Some(event) => insert_event(&tx, event).await?,
        None => ensure_head(&tx, station, head).await?,
    }
    if let Some((station, snapshot)) = &record.snapshot {
        upsert_snapshot(&tx, station, snapshot)
            .await
            .map_err(classify)?;
    }
    if let Some(answer) = &record.idempotency {
        insert_answer(&tx, answer).await?;
    }
    if let Some(event) = &record.event {
        notify(&tx, &format!("e {} {}", event.station, event.seq))
            .await
            .map_err(classify)?;
    }
    tx.commit().await.map_err(classify)
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

/// Fails with [`AppendError::Behind`] unless `station`'s last committed seq is `head`.
async fn ensure_head(
    client: &impl GenericClient,
    station: &StationId,
    head: u64,
) -> Result<(), AppendError> {
    let stmt = client
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events WHERE station = $1")
        .await
        .map_err(classify)?;
    let found: i64 = client
        .query_one(&stmt, &[&station.as_str()])
        .await
        .map_err(classify)?
        .get(0);
    if found == seq_param(head)? {
        Ok(())
    } else {
        Err(AppendError::Behind)
    }
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
fn classify(e: tokio_postgres::Error) -> AppendError {
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
