//! A stored row's columns as the service's types, in one place for both backends: SQLite and
//! PostgreSQL keep the same columns, and must read the same bytes the same way — an event the
//! one refuses as unreadable, the other must refuse too.

use chrono::DateTime;

use crate::domain::{DeviceId, Event, Recorded, StationId};
use crate::engine::Snapshot;
use crate::idempotency::IdempotencyRecord;

/// An `events` row (`station, seq, at_us, device, body`) as the [`Recorded`] event it stores.
pub(super) fn recorded(
    station: &str,
    seq: i64,
    at_us: i64,
    device: &str,
    body: &str,
) -> anyhow::Result<Recorded> {
    let where_ = || format!("event {station}/{seq}");
    Ok(Recorded {
        station: StationId::parse(station).map_err(|e| anyhow::anyhow!("{}: {e}", where_()))?,
        seq: u64::try_from(seq)?,
        at: DateTime::from_timestamp_micros(at_us)
            .ok_or_else(|| anyhow::anyhow!("{}: bad timestamp", where_()))?,
        device: DeviceId::parse(device).map_err(|e| anyhow::anyhow!("{}: {e}", where_()))?,
        event: serde_json::from_str::<Event>(body)
            .map_err(|e| anyhow::anyhow!("{}: unreadable body: {e}", where_()))?,
    })
}

/// An `idempotency` row as the [`IdempotencyRecord`] it stores.
pub(super) fn answer(
    device: &str,
    key: String,
    fingerprint: Vec<u8>,
    status: i64,
    response: Vec<u8>,
    at_us: i64,
) -> anyhow::Result<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        device: DeviceId::parse(device).map_err(|e| anyhow::anyhow!("{e}"))?,
        key,
        fingerprint: fingerprint
            .try_into()
            .map_err(|_| anyhow::anyhow!("idempotency fingerprint of wrong length"))?,
        status: u16::try_from(status)?,
        body: response.into(),
        at: DateTime::from_timestamp_micros(at_us).unwrap_or_default(),
    })
}

/// A `snapshots` row as the station's snapshot; `None`, with a warning, when it cannot be read
/// (the log still holds every event, so the station is then replayed in full).
pub(super) fn snapshot(station: &str, seq: i64, state: &str) -> Option<(StationId, Snapshot)> {
    let parsed = StationId::parse(station)
        .map_err(|e| e.to_string())
        .and_then(|id| {
            serde_json::from_str::<Snapshot>(state)
                .map(|snap| (id, snap))
                .map_err(|e| e.to_string())
        });
    parsed
        .inspect_err(|cause| {
            tracing::warn!(%station, seq, %cause, "ignoring an unreadable snapshot; the station is replayed in full");
        })
        .ok()
}
