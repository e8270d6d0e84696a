//! How one event flows from a terminal's request to a durable, published change.
//!
//! 1. The caller is authenticated and its scope checked (by the handler).
//! 2. The `(device, Idempotency-Key)` is claimed: a retry replays the stored answer byte for
//!    byte, a different body under the same key is refused, a concurrent duplicate gets 409.
//! 3. Under the station's lock — short and synchronous — the engine applies the event, the
//!    documents of the new state are rendered, and the record is handed to the log writer, so the
//!    log order is the apply order.
//! 4. Outside the lock the writer's acknowledgement is awaited in a task of its own, so a client
//!    that hangs up cannot leave its key stuck "in flight". Only after the commit is the answer
//!    stored for retries, the new documents published, and 201 returned.
//! 5. If the log cannot be written, the key is released and the answer is 503; the service then
//!    refuses events until restarted, because memory may be ahead of the log.

use std::sync::Arc;

use axum::http::StatusCode;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::config::Device;
use crate::domain::{DeviceId, Event, Recorded, StationId};
use crate::engine::{Mode, Outcome};
use crate::http::problem::ApiError;
use crate::hub::Docs;
use crate::idempotency::{Answer, Begin, IdempotencyKey, IdempotencyRecord, fingerprint};
use crate::state::AppState;
use crate::store::Record;

/// The answer to an event request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub answer: Arc<Answer>,
    /// True when this is a stored answer sent again.
    pub replayed: bool,
}

/// Applies a parsed event from `device` at `station` under `key`.
pub async fn submit(
    state: &AppState,
    device: &Arc<Device>,
    station: &StationId,
    key: IdempotencyKey,
    body: &serde_json::Value,
    event: Event,
) -> Result<Reply, ApiError> {
    let slot = writable_slot(state, station)?;
    let fp = fingerprint(station, body);
    if state.idempotency.needs_log_lookup(&device.id, &key) {
        // An old key, answered before what memory holds: its answer is in the log.
        match state.store.find_answer(&device.id, key.as_str()).await {
            Ok(Some(record)) => state.idempotency.remember(record),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(cause = %e, "idempotency look-up in the log failed");
                return Err(ApiError::Internal);
            }
        }
    }
    match state.idempotency.begin(&device.id, &key, fp) {
        Begin::Proceed => {}
        Begin::Replay(answer) => {
            return Ok(Reply {
                answer,
                replayed: true,
            });
        }
        Begin::Mismatch => return Err(ApiError::IdempotencyKeyReused),
        Begin::InFlight => return Err(ApiError::RequestInFlight),
    }

    let at = state.clock.now();
    // The synchronous section: apply, render, enqueue. No `.await` while the guard lives.
    let (ack, answer, docs) = {
        let Ok(mut engine) = slot.engine.lock() else {
            state.idempotency.abandon(&device.id, &key);
            return Err(ApiError::Internal);
        };
        let (answer, accepted) = match engine.apply(&event, at, Mode::Live) {
            Ok(outcome) => {
                let body = serde_json::to_vec(&outcome).expect("outcomes serialize");
                let accepted = accept(state, &engine, station, &device.id, event, outcome.seq, at);
                (
                    Answer {
                        status: StatusCode::CREATED.as_u16(),
                        body: Bytes::from(body),
                    },
                    Some(accepted),
                )
            }
            Err(refusal) => {
                let err = ApiError::Refused(refusal);
                (
                    Answer {
                        status: err.status().as_u16(),
                        body: err.body(),
                    },
                    None,
                )
            }
        };
        let answer = Arc::new(answer);
        let (event_record, docs, snapshot) = match accepted {
            Some(a) => (Some(a.recorded), Some(a.docs), a.snapshot),
            None => (None, None, None),
        };
        let ack = state.store.submit(Record {
            event: event_record,
            idempotency: Some(IdempotencyRecord {
                device: device.id.clone(),
                key: key.as_str().to_owned(),
                fingerprint: fp,
                status: answer.status,
                body: answer.body.clone(),
                at,
            }),
            snapshot,
        });
        (ack, answer, docs)
    };

    // Completion runs in its own task: it finishes even if the client disconnects meanwhile.
    let completion = {
        let state = state.clone();
        let device = device.clone();
        let slot = slot.clone();
        let station_id = station.clone();
        tokio::spawn(async move {
            let committed = match ack.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("the log writer stopped".to_owned()),
            };
            match committed {
                Ok(()) => {
                    state
                        .idempotency
                        .complete(&device.id, &key, fp, answer.clone(), at);
                    if let Some(docs) = docs {
                        slot.live.publish(docs);
                    }
                    Ok(Reply {
                        answer,
                        replayed: false,
                    })
                }
                Err(reason) => {
                    tracing::error!(cause = %reason, station = %station_id, "event not acknowledged: the log failed");
                    state.idempotency.abandon(&device.id, &key);
                    Err(unavailable())
                }
            }
        })
    };
    completion.await.map_err(|_| ApiError::Internal)?
}

/// The device the service's own events are logged under (no config device may take this id).
pub const SERVICE_DEVICE: &str = "lobbywatch";

pub fn service_device() -> DeviceId {
    DeviceId::parse(SERVICE_DEVICE).expect("a valid device id")
}

/// Applies an event the service itself decides on — a close-out, a clock review, a rule change —
/// through the same lock, log and publication as a request's. `decide` looks at the station under
/// its lock and returns the event to apply, or `None` for nothing to do (so the decision and the
/// apply cannot be split by another event). Returns the outcome once it is durable.
pub async fn apply_system(
    state: &AppState,
    station: &StationId,
    device: &DeviceId,
    decide: impl FnOnce(&crate::engine::Station, DateTime<Utc>) -> Option<Event>,
) -> Result<Option<Outcome>, ApiError> {
    let slot = writable_slot(state, station)?;
    let at = state.clock.now();
    let (ack, outcome, docs) = {
        let mut engine = slot.engine.lock().map_err(|_| ApiError::Internal)?;
        let Some(event) = decide(&engine, at) else {
            return Ok(None);
        };
        let outcome = engine
            .apply(&event, at, Mode::Live)
            .map_err(ApiError::Refused)?;
        let accepted = accept(state, &engine, station, device, event, outcome.seq, at);
        let ack = state.store.submit(Record {
            event: Some(accepted.recorded),
            idempotency: None,
            snapshot: accepted.snapshot,
        });
        (ack, outcome, accepted.docs)
    };
    match ack.await {
        Ok(Ok(())) => {
            slot.live.publish(docs);
            Ok(Some(outcome))
        }
        Ok(Err(e)) => {
            tracing::error!(cause = %e, station = %station, "service event not logged: the log failed");
            Err(unavailable())
        }
        Err(_) => Err(unavailable()),
    }
}

/// What follows an event the engine accepted, still under the station's lock: its log entry,
/// the documents of the new state (published once it is committed), and the station's snapshot
/// when one is due.
struct Accepted {
    recorded: Recorded,
    docs: Arc<Docs>,
    snapshot: Option<(StationId, Box<crate::engine::Snapshot>)>,
}

fn accept(
    state: &AppState,
    engine: &crate::engine::Station,
    station: &StationId,
    device: &DeviceId,
    event: Event,
    seq: u64,
    at: DateTime<Utc>,
) -> Accepted {
    Accepted {
        recorded: Recorded {
            station: station.clone(),
            seq,
            at,
            device: device.clone(),
            event,
        },
        docs: Arc::new(Docs::render(engine, at)),
        snapshot: state
            .store
            .snapshot_due(seq)
            .then(|| (station.clone(), Box::new(engine.snapshot()))),
    }
}

/// The station's slot, if the station exists and the log still accepts events.
fn writable_slot(
    state: &AppState,
    station: &StationId,
) -> Result<Arc<crate::state::StationSlot>, ApiError> {
    let slot = state
        .station(station)
        .ok_or_else(|| ApiError::NotFound(format!("no station '{station}'")))?
        .clone();
    if state.store.failure().is_some() {
        return Err(unavailable());
    }
    Ok(slot)
}

/// The log has failed. The cause goes to the operator's log, not to the client.
fn unavailable() -> ApiError {
    ApiError::Unavailable(
        "events cannot be accepted: the event log cannot be written, so nothing was recorded; reads still work — an operator must fix the storage and restart the service".into(),
    )
}
