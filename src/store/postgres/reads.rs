//! Every read of the PostgreSQL log: start-up's snapshots and tails, catching up with other
//! instances, stored answers, revocations, the ranges reports read, and the rows as stored that
//! `copy-log` copies. Each statement is prepared once per pooled connection (deadpool's statement
//! cache).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::domain::{DeviceId, Recorded, StationId};
use crate::engine::Snapshot;
use crate::idempotency::IdempotencyRecord;
use crate::store::decode;
use crate::store::rows::{AnswerRow, Counts, EventRow, RevokedRow, SnapshotRow};

const EVENT_COLUMNS: &str = "station, seq, at_us, device, body";

/// The stations that have events: a skip-scan over the primary key, one probe per station.
pub(super) async fn stations(client: &impl GenericClient) -> anyhow::Result<Vec<String>> {
    let rows = client
        .query(
            "WITH RECURSIVE s(station) AS (
                 SELECT MIN(station) FROM events
                 UNION ALL
                 SELECT (SELECT MIN(station) FROM events WHERE events.station > s.station)
                 FROM s WHERE s.station IS NOT NULL)
             SELECT station FROM s WHERE station IS NOT NULL",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Every station's last seq: the skip-scan of [`stations`], one more probe per station.
pub(super) async fn heads(
    client: &tokio_postgres::Client,
) -> anyhow::Result<Vec<(StationId, u64)>> {
    let rows = client
        .query(
            "WITH RECURSIVE s(station) AS (
                 SELECT MIN(station) FROM events
                 UNION ALL
                 SELECT (SELECT MIN(station) FROM events WHERE events.station > s.station)
                 FROM s WHERE s.station IS NOT NULL)
             SELECT station, (SELECT MAX(seq) FROM events WHERE events.station = s.station)
             FROM s WHERE station IS NOT NULL",
            &[],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let station: String = row.try_get(0)?;
            let seq: i64 = row.try_get(1)?;
            Ok((
                StationId::parse(&station).map_err(|e| anyhow::anyhow!("{station}: {e}"))?,
                u64::try_from(seq)?,
            ))
        })
        .collect()
}

/// The latest snapshot of each station; an unreadable one is skipped with a warning (the station
/// is then replayed in full).
pub(super) async fn snapshots(
    client: &impl GenericClient,
) -> anyhow::Result<Vec<(StationId, Snapshot)>> {
    let rows = client
        .query("SELECT station, seq, state FROM snapshots", &[])
        .await?;
    let mut out = Vec::new();
    for row in rows {
        let (station, seq, state): (String, i64, String) = (row.get(0), row.get(1), row.get(2));
        out.extend(decode::snapshot(&station, seq, &state));
    }
    Ok(out)
}

/// `station`'s events after `after_seq`, in order.
pub(super) async fn events_after(
    client: &impl GenericClient,
    station: &str,
    after_seq: u64,
) -> anyhow::Result<Vec<Recorded>> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE station = $1 AND seq > $2 ORDER BY seq"
        ))
        .await?;
    let rows = client
        .query(&stmt, &[&station, &i64::try_from(after_seq)?])
        .await?;
    rows.iter().map(recorded).collect()
}

/// `station`'s events accepted in `[from, to)`, in order.
pub(super) async fn events_between(
    client: &impl GenericClient,
    station: &StationId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Vec<Recorded>> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE station = $1 AND at_us >= $2 AND at_us < $3 ORDER BY seq"
        ))
        .await?;
    let rows = client
        .query(
            &stmt,
            &[
                &station.as_str(),
                &from.timestamp_micros(),
                &to.timestamp_micros(),
            ],
        )
        .await?;
    rows.iter().map(recorded).collect()
}

/// The last rule change of `station` before `at`.
pub(super) async fn rule_change_before(
    client: &impl GenericClient,
    station: &StationId,
    at: DateTime<Utc>,
) -> anyhow::Result<Option<Recorded>> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE station = $1 AND kind = 'rule_changed' AND at_us < $2
             ORDER BY at_us DESC, seq DESC LIMIT 1"
        ))
        .await?;
    let row = client
        .query_opt(&stmt, &[&station.as_str(), &at.timestamp_micros()])
        .await?;
    row.as_ref().map(recorded).transpose()
}

/// The stored answer for `(device, key)`.
pub(super) async fn find_answer(
    client: &impl GenericClient,
    device: &DeviceId,
    key: &str,
) -> anyhow::Result<Option<IdempotencyRecord>> {
    let stmt = client
        .prepare_cached(
            "SELECT device, key, fingerprint, status, response, at_us FROM idempotency
             WHERE device = $1 AND key = $2",
        )
        .await?;
    let row = client.query_opt(&stmt, &[&device.as_str(), &key]).await?;
    row.as_ref().map(idempotency_record).transpose()
}

/// The stored answers given at or after `since`.
pub(super) async fn idempotency_records(
    client: &impl GenericClient,
    since: DateTime<Utc>,
) -> anyhow::Result<Vec<IdempotencyRecord>> {
    let rows = client
        .query(
            "SELECT device, key, fingerprint, status, response, at_us FROM idempotency
             WHERE at_us >= $1",
            &[&since.timestamp_micros()],
        )
        .await?;
    rows.iter().map(idempotency_record).collect()
}

/// Whether answers older than `since` exist.
pub(super) async fn has_idempotency_before(
    client: &impl GenericClient,
    since: DateTime<Utc>,
) -> anyhow::Result<bool> {
    Ok(client
        .query_one(
            "SELECT EXISTS(SELECT 1 FROM idempotency WHERE at_us < $1)",
            &[&since.timestamp_micros()],
        )
        .await?
        .get(0))
}

/// The token hashes revoked so far, of every device or of one.
pub(super) async fn revoked_tokens(
    client: &impl GenericClient,
    device: Option<&DeviceId>,
) -> anyhow::Result<HashSet<[u8; 32]>> {
    let rows = match device {
        None => {
            client
                .query("SELECT token_sha256 FROM revoked_tokens", &[])
                .await?
        }
        Some(device) => {
            client
                .query(
                    "SELECT token_sha256 FROM revoked_tokens WHERE device = $1",
                    &[&device.as_str()],
                )
                .await?
        }
    };
    rows.iter()
        .map(|r| {
            r.get::<_, Vec<u8>>(0)
                .try_into()
                .map_err(|_| anyhow::anyhow!("a revoked token hash of the wrong length"))
        })
        .collect()
}

/// Up to `limit` `events` rows after `after` in key order, every column as stored (`copy-log`).
/// The first batch starts after `('', MIN)`, before every row: a station id is never empty.
/// The order is the database's collation's; the primary key's index serves it either way.
pub(super) async fn event_rows(
    client: &impl GenericClient,
    after: Option<&EventRow>,
    limit: usize,
) -> anyhow::Result<Vec<EventRow>> {
    let (station, seq) = after.map_or(("", i64::MIN), |r| (r.station.as_str(), r.seq));
    let stmt = client
        .prepare_cached(
            "SELECT station, seq, at_us, device, kind, body FROM events
             WHERE (station, seq) > ($1, $2) ORDER BY station, seq LIMIT $3",
        )
        .await?;
    let rows = client
        .query(&stmt, &[&station, &seq, &i64::try_from(limit)?])
        .await?;
    rows.iter()
        .map(|r| {
            Ok(EventRow {
                station: r.try_get(0)?,
                seq: r.try_get(1)?,
                at_us: r.try_get(2)?,
                device: r.try_get(3)?,
                kind: r.try_get(4)?,
                body: r.try_get(5)?,
            })
        })
        .collect()
}

/// Up to `limit` stored answers after `after` in key order, as [`event_rows`] (a device id is
/// never empty).
pub(super) async fn answer_rows(
    client: &impl GenericClient,
    after: Option<&AnswerRow>,
    limit: usize,
) -> anyhow::Result<Vec<AnswerRow>> {
    let (device, key) = after.map_or(("", ""), |r| (r.device.as_str(), r.key.as_str()));
    let stmt = client
        .prepare_cached(
            "SELECT device, key, fingerprint, status, response, at_us FROM idempotency
             WHERE (device, key) > ($1, $2) ORDER BY device, key LIMIT $3",
        )
        .await?;
    let rows = client
        .query(&stmt, &[&device, &key, &i64::try_from(limit)?])
        .await?;
    rows.iter()
        .map(|r| {
            Ok(AnswerRow {
                device: r.try_get(0)?,
                key: r.try_get(1)?,
                fingerprint: r.try_get(2)?,
                status: r.try_get(3)?,
                response: r.try_get(4)?,
                at_us: r.try_get(5)?,
            })
        })
        .collect()
}

/// Up to `limit` revoked tokens after `after` in key order, as [`event_rows`] (a hash is never
/// empty).
pub(super) async fn revoked_rows(
    client: &impl GenericClient,
    after: Option<&RevokedRow>,
    limit: usize,
) -> anyhow::Result<Vec<RevokedRow>> {
    let hash = after.map_or(&[][..], |r| r.token_sha256.as_slice());
    let stmt = client
        .prepare_cached(
            "SELECT token_sha256, device, at_us, by_device FROM revoked_tokens
             WHERE token_sha256 > $1 ORDER BY token_sha256 LIMIT $2",
        )
        .await?;
    let rows = client
        .query(&stmt, &[&hash, &i64::try_from(limit)?])
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RevokedRow {
                token_sha256: r.try_get(0)?,
                device: r.try_get(1)?,
                at_us: r.try_get(2)?,
                by: r.try_get(3)?,
            })
        })
        .collect()
}

/// Up to `limit` snapshots after `after` in key order, as [`event_rows`].
pub(super) async fn snapshot_rows(
    client: &impl GenericClient,
    after: Option<&SnapshotRow>,
    limit: usize,
) -> anyhow::Result<Vec<SnapshotRow>> {
    let station = after.map_or("", |r| r.station.as_str());
    let stmt = client
        .prepare_cached(
            "SELECT station, seq, state FROM snapshots WHERE station > $1 ORDER BY station LIMIT $2",
        )
        .await?;
    let rows = client
        .query(&stmt, &[&station, &i64::try_from(limit)?])
        .await?;
    rows.iter()
        .map(|r| {
            Ok(SnapshotRow {
                station: r.try_get(0)?,
                seq: r.try_get(1)?,
                state: r.try_get(2)?,
            })
        })
        .collect()
}

/// How many rows each table holds.
pub(super) async fn counts(client: &impl GenericClient) -> anyhow::Result<Counts> {
    let row = client
        .query_one(
            "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM idempotency),
                    (SELECT COUNT(*) FROM revoked_tokens), (SELECT COUNT(*) FROM snapshots)",
            &[],
        )
        .await?;
    let count = |i: usize| -> anyhow::Result<u64> { Ok(u64::try_from(row.try_get::<_, i64>(i)?)?) };
    Ok(Counts {
        events: count(0)?,
        answers: count(1)?,
        revoked: count(2)?,
        snapshots: count(3)?,
    })
}

/// An `events` row (`station, seq, at_us, device, body`) as a [`Recorded`] event.
pub(super) fn recorded(row: &Row) -> anyhow::Result<Recorded> {
    let (station, device, body): (String, String, String) =
        (row.try_get(0)?, row.try_get(3)?, row.try_get(4)?);
    decode::recorded(&station, row.try_get(1)?, row.try_get(2)?, &device, &body)
}

/// An `idempotency` row as the [`IdempotencyRecord`] it stores.
fn idempotency_record(row: &Row) -> anyhow::Result<IdempotencyRecord> {
    let device: String = row.try_get(0)?;
    let status: i32 = row.try_get(3)?;
    decode::answer(
        &device,
        row.try_get(1)?,
        row.try_get(2)?,
        i64::from(status),
        row.try_get(4)?,
        row.try_get(5)?,
    )
}
