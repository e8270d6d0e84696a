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
//!    refuses new events until restarted, because memory may be ahead of the log — but a retry
//!    whose answer is already stored still gets that answer.
//!
//! That is the flow on a local log (SQLite), whose order this process alone decides. On a log
//! shared by several instances (PostgreSQL) steps 3 and 4 differ — the database decides the
//! order, and the engine decides again after losing a race: see `ingest/shared.rs`.

mod shared;

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use crate::config::Device;
use crate::domain::{DeviceId, Event, Recorded, StationId};
use crate::engine::{Mode, Outcome, Refusal};
use crate::hub::Docs;
use crate::idempotency::{Answer, Begin, IdempotencyKey, IdempotencyRecord, fingerprint};
use crate::state::{AppState, StationSlot};
use crate::store::{Log, Record, StoreError};

/// HTTP's `201 Created`, the status of an accepted event's stored answer.
const CREATED: u16 = 201;

/// Why an event was not taken. The HTTP layer turns each into problem+json; none of them wrote
/// anything to the log.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    #[error("no station '{0}'")]
    UnknownStation(StationId),
    /// The log has failed: memory may be ahead of it, so nothing more is accepted until restart.
    #[error("the event log cannot be written")]
    LogFailed,
    /// The shared database cannot be reached now; nothing was recorded, a retry may succeed.
    #[error("the database cannot be reached")]
    DatabaseUnavailable,
    /// Other instances kept writing the station first, too many times in a row.
    #[error("the station is contended by other instances")]
    Contended,
    #[error("the Idempotency-Key was used before for another request")]
    KeyReused,
    #[error("the first request with this Idempotency-Key is still in flight")]
    KeyInFlight,
    /// The key was answered longer ago than the retention window: neither replayed nor applied.
    #[error("the Idempotency-Key was answered at {answered_at}, before the retention window")]
    KeyExpired {
        answered_at: DateTime<Utc>,
        retention: chrono::TimeDelta,
    },
    /// The engine refused a service event (a request's refusal is an answer, see [`submit`]).
    #[error("{0}")]
    Refused(Refusal),
    /// A poisoned lock, a look-up in the log that failed, a completion task that died.
    #[error("internal error")]
    Internal,
}

/// The answer to an event request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub answer: Arc<Answer>,
    /// True when this is a stored answer sent again.
    pub replayed: bool,
}

/// One posted event: its Idempotency-Key, its body as sent (the request's identity), the event
/// parsed from it, and for a check-in the new ticket's link code sealed for the stored answer.
pub struct Request<'a> {
    pub key: IdempotencyKey,
    pub body: &'a serde_json::Value,
    pub event: Event,
    pub sealed_link: Option<String>,
}

/// Applies a parsed event from `device` at `station` under `key`. A refusal by the engine is an
/// answer like an outcome — stored for replays under the key — and `render_refusal` gives its
/// status and body (the HTTP layer's problem+json); it runs after the station's lock is released.
pub async fn submit(
    state: &AppState,
    device: &Arc<Device>,
    station: &StationId,
    request: Request<'_>,
    render_refusal: impl Fn(Refusal) -> Answer + Send + Sync + 'static,
) -> Result<Reply, IngestError> {
    let Request {
        key,
        body,
        event,
        sealed_link,
    } = request;
    let slot = station_slot(state, station)?;
    let claim = Claim {
        device: device.clone(),
        key,
        fingerprint: fingerprint(station, body),
        sealed_link,
    };
    if let Log::Local(_) = state.store {
        // A shared log answers an old key when its insert collides (`shared.rs`).
        load_old_answer(state, &claim).await?;
    }
    match state.idempotency.begin(
        &claim.device.id,
        &claim.key,
        claim.fingerprint,
        state.clock.now(),
    ) {
        Begin::Proceed => {}
        Begin::Replay(answer) => {
            return Ok(Reply {
                answer,
                replayed: true,
            });
        }
        Begin::Mismatch => return Err(IngestError::KeyReused),
        Begin::InFlight => return Err(IngestError::KeyInFlight),
        Begin::Expired { answered_at } => return Err(expired(state, answered_at)),
    }
    // Checked only now: a retry of an event the log holds gets its answer even while the log
    // is failing — told "nothing was recorded", a clerk would issue it again under a new key.
    if let Err(failed) = ensure_writable(state) {
        state.idempotency.abandon(&claim.device.id, &claim.key);
        return Err(failed);
    }
    let log = match &state.store {
        Log::Local(log) => log,
        Log::Shared(log) => {
            let task = shared::submit(
                state.clone(),
                log.clone(),
                slot,
                station.clone(),
                claim,
                event,
                render_refusal,
            );
            return tokio::spawn(task)
                .await
                .map_err(|_| IngestError::Internal)?;
        }
    };
    let at = state.clock.now();
    let pending = apply_and_log(
        state,
        log,
        &slot,
        station,
        &claim,
        event,
        at,
        render_refusal,
    )?;
    // Completion runs in its own task: it finishes even if the client disconnects meanwhile.
    let state = state.clone();
    let station = station.clone();
    tokio::spawn(async move { complete(&state, &slot, &station, claim, pending).await })
        .await
        .map_err(|_| IngestError::Internal)?
}

/// The instant an event is accepted: `now`, but never before the station's last event (a clock
/// stepped back, or on a shared log another instance's clock a little ahead) — a station's log
/// runs forward in time, as its history, its waits and the log's time look-ups expect.
pub(crate) fn not_before_last(
    engine: &crate::engine::Station,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    engine.last_at().map_or(now, |last| now.max(last))
}

/// The refusal of a key answered before the retention window.
pub(crate) fn expired(state: &AppState, answered_at: DateTime<Utc>) -> IngestError {
    IngestError::KeyExpired {
        answered_at,
        retention: state.idempotency.policy().retention,
    }
}

/// One request's hold on its `(device, Idempotency-Key)`.
struct Claim {
    device: Arc<Device>,
    key: IdempotencyKey,
    fingerprint: [u8; 32],
    /// A new ticket's link code, sealed for the stored answer (`http/ticket_link.rs`).
    sealed_link: Option<String>,
}

impl Claim {
    /// The body of the 201 answer to `outcome`: a new ticket's link carries only its sealed
    /// code, which the HTTP layer opens for the one who asked.
    fn answer_body(&self, mut outcome: Outcome) -> Bytes {
        if let Some(link) = &mut outcome.ticket_link {
            link.sealed.clone_from(&self.sealed_link);
        }
        Bytes::from(serde_json::to_vec(&outcome).expect("outcomes serialize"))
    }

    /// `answer`, given `at`, as the log keeps it under this key.
    fn record(&self, answer: &Answer, at: DateTime<Utc>) -> IdempotencyRecord {
        IdempotencyRecord {
            device: self.device.id.clone(),
            key: self.key.as_str().to_owned(),
            fingerprint: self.fingerprint,
            status: answer.status,
            body: answer.body.clone(),
            at,
        }
    }
}

/// An answer handed to the log writer, not yet durable: the writer's acknowledgement to wait
/// for, the answer given at `at`, and the documents to publish once it is committed (none after
/// a refusal).
struct Pending {
    ack: oneshot::Receiver<Result<(), StoreError>>,
    at: DateTime<Utc>,
    answer: Arc<Answer>,
    docs: Option<Arc<Docs>>,
}

/// A key older than what memory holds may have been answered before: its answer is in the log,
/// and is brought into memory so that `begin` replays it.
async fn load_old_answer(state: &AppState, claim: &Claim) -> Result<(), IngestError> {
    if !state
        .idempotency
        .needs_log_lookup(&claim.device.id, &claim.key)
    {
        return Ok(());
    }
    match state
        .store
        .find_answer(&claim.device.id, claim.key.as_str())
        .await
    {
        Ok(Some(record)) => state.idempotency.remember(record),
        Ok(None) => {}
        Err(e) => {
            tracing::error!(cause = %e, "idempotency look-up in the log failed");
            return Err(IngestError::Internal);
        }
    }
    Ok(())
}

/// The synchronous section: apply, render the documents, enqueue — no `.await` while the
/// station's guard lives. A refusal leaves the lock with nothing logged, and is rendered and
/// stored after it.
#[allow(clippy::too_many_arguments)] // the claim, the event and where it goes, each needed
fn apply_and_log(
    state: &AppState,
    log: &crate::store::sqlite::Store,
    slot: &StationSlot,
    station: &StationId,
    claim: &Claim,
    event: Event,
    at: DateTime<Utc>,
    render_refusal: impl FnOnce(Refusal) -> Answer,
) -> Result<Pending, IngestError> {
    let (applied, at) = {
        let Ok(mut engine) = slot.engine.lock() else {
            state.idempotency.abandon(&claim.device.id, &claim.key);
            return Err(IngestError::Internal);
        };
        if slot.is_retired() {
            state.idempotency.abandon(&claim.device.id, &claim.key);
            return Err(IngestError::UnknownStation(station.clone()));
        }
        let at = not_before_last(&engine, at);
        let applied = engine.apply(&event, at, Mode::Live).map(|outcome| {
            let answer = Answer {
                status: CREATED,
                body: claim.answer_body(outcome.clone()),
            };
            let device = &claim.device.id;
            let accepted = accept(state, &engine, station, device, event, &outcome, at);
            let ack = log.submit(Record {
                event: Some(accepted.recorded),
                idempotency: Some(claim.record(&answer, at)),
                snapshot: accepted.snapshot,
                webhooks: accepted.webhooks,
            });
            (ack, answer, Some(accepted.docs))
        });
        (applied, at)
    };
    let (ack, answer, docs) = applied.unwrap_or_else(|refusal| {
        let answer = render_refusal(refusal);
        let ack = log.submit(Record {
            event: None,
            idempotency: Some(claim.record(&answer, at)),
            snapshot: None,
            webhooks: Vec::new(),
        });
        (ack, answer, None)
    });
    Ok(Pending {
        ack,
        at,
        answer: Arc::new(answer),
        docs,
    })
}

/// Waits for the log to commit, then stores the answer for retries and publishes the new
/// documents; if the log failed, releases the key so a retry can try again.
async fn complete(
    state: &AppState,
    slot: &StationSlot,
    station: &StationId,
    claim: Claim,
    pending: Pending,
) -> Result<Reply, IngestError> {
    let committed = match pending.ack.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the log writer stopped".to_owned()),
    };
    let device = &claim.device.id;
    if let Err(reason) = committed {
        tracing::error!(cause = %reason, station = %station, "event not acknowledged: the log failed");
        state.idempotency.abandon(device, &claim.key);
        return Err(IngestError::LogFailed);
    }
    let answer = pending.answer;
    state.idempotency.complete(
        device,
        &claim.key,
        claim.fingerprint,
        answer.clone(),
        pending.at,
    );
    if let Some(docs) = pending.docs {
        slot.live.publish(docs);
    }
    Ok(Reply {
        answer,
        replayed: false,
    })
}

/// Applies an event the service itself decides on — a close-out, a clock review, a rule change —
/// through the same lock, log and publication as a request's. `decide` looks at the station under
/// its lock and returns the event to apply, or `None` for nothing to do (so the decision and the
/// apply cannot be split by another event). Returns the outcome once it is durable.
pub async fn apply_system(
    state: &AppState,
    station: &StationId,
    device: &DeviceId,
    decide: impl Fn(&crate::engine::Station, DateTime<Utc>) -> Option<Event>,
) -> Result<Option<Outcome>, IngestError> {
    let slot = writable_slot(state, station)?;
    let log = match &state.store {
        Log::Local(log) => log,
        Log::Shared(log) => {
            return shared::apply_system(state, log, &slot, station, device, decide).await;
        }
    };
    let at = state.clock.now();
    let (ack, outcome, docs) = {
        let mut engine = slot.engine.lock().map_err(|_| IngestError::Internal)?;
        serving(&slot, station)?;
        let at = not_before_last(&engine, at);
        let Some(event) = decide(&engine, at) else {
            return Ok(None);
        };
        let outcome = engine
            .apply(&event, at, Mode::Live)
            .map_err(IngestError::Refused)?;
        let accepted = accept(state, &engine, station, device, event, &outcome, at);
        let ack = log.submit(Record {
            event: Some(accepted.recorded),
            idempotency: None,
            snapshot: accepted.snapshot,
            webhooks: accepted.webhooks,
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
            Err(IngestError::LogFailed)
        }
        Err(_) => Err(IngestError::LogFailed),
    }
}

/// What follows an event the engine accepted, still under the station's lock: its log entry,
/// the documents of the new state (published once it is committed), the station's snapshot
/// when one is due, and the webhooks it caused (written with it).
struct Accepted {
    recorded: Recorded,
    docs: Arc<Docs>,
    snapshot: Option<(StationId, Box<crate::engine::Snapshot>)>,
    webhooks: Vec<crate::store::OutboxRow>,
}

fn accept(
    state: &AppState,
    engine: &crate::engine::Station,
    station: &StationId,
    device: &DeviceId,
    event: Event,
    outcome: &Outcome,
    at: DateTime<Utc>,
) -> Accepted {
    let seq = outcome.seq;
    Accepted {
        webhooks: crate::webhooks::for_event(engine.config(), outcome, at),
        recorded: Recorded {
            station: station.clone(),
            seq,
            at,
            device: device.clone(),
            event,
        },
        docs: Arc::new(Docs::render(engine, at)),
        snapshot: state.store.snapshot_due(seq).then(|| {
            state.metrics.snapshot_taken();
            (station.clone(), Box::new(engine.snapshot()))
        }),
    }
}

/// The station's slot, if the station exists.
/// Refuses a station a reload removed (checked under its engine's lock).
fn serving(slot: &StationSlot, station: &StationId) -> Result<(), IngestError> {
    if slot.is_retired() {
        return Err(IngestError::UnknownStation(station.clone()));
    }
    Ok(())
}

fn station_slot(state: &AppState, station: &StationId) -> Result<Arc<StationSlot>, IngestError> {
    state
        .station(station)
        .ok_or_else(|| IngestError::UnknownStation(station.clone()))
}

/// Whether the log accepts events now: a local one not after a failed write (memory may be
/// ahead of it, so nothing new is taken until a restart), a shared one not while the database
/// cannot be reached.
fn ensure_writable(state: &AppState) -> Result<(), IngestError> {
    match (&state.store, state.store.failure()) {
        (_, None) => Ok(()),
        (Log::Local(_), Some(_)) => Err(IngestError::LogFailed),
        (Log::Shared(_), Some(_)) => Err(IngestError::DatabaseUnavailable),
    }
}

/// The station's slot, if the station exists and the log still accepts events.
fn writable_slot(state: &AppState, station: &StationId) -> Result<Arc<StationSlot>, IngestError> {
    let slot = station_slot(state, station)?;
    ensure_writable(state)?;
    Ok(slot)
}
