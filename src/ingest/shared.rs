//! The flow of one event on a log shared by several instances.
//!
//! The station's order is decided by the database, so the engine decides on a copy and the copy
//! becomes the station only once the database has committed it as the station's next `seq`:
//!
//! 1. The station's turn is taken (an async lock held across the commit: one attempt at a time
//!    per station in this instance; catching up waits for it too).
//! 2. The engine applies the event to a copy of the station; the answer and the documents are
//!    rendered from the copy.
//! 3. The record is appended as the next `seq`. Committed: the copy becomes the station, the
//!    answer is stored for retries, the documents are published. Another instance was first: the
//!    station catches up from the log and the engine decides again, on the truth — so the last
//!    place in a full room goes to one of two check-ins, and two desks never get one ticket. The
//!    key was answered by another instance: its stored answer is replayed. The database cannot be
//!    reached: nothing was committed, or (a lost COMMIT) a retry under the key will find it; the
//!    key is released and the answer is 503.
//!
//! Memory is never ahead of the log here, so nothing is fail-stop: the next request tries again.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::{Accepted, CREATED, Claim, IngestError, Reply, accept};
use crate::domain::{DeviceId, Event, StationId};
use crate::engine::{Mode, Outcome, Refusal, Station};
use crate::follow;
use crate::hub::Docs;
use crate::idempotency::Answer;
use crate::state::{AppState, StationSlot};
use crate::store::Record;
use crate::store::postgres::{AppendError, Store};

/// Attempts before a request gives up on a station other instances keep writing first. Every lost
/// attempt means another instance committed an event, so only a storm of writes to one station
/// through several instances gets this far.
const MAX_ATTEMPTS: usize = 32;

/// What the engine decided on a copy of the station, not yet committed.
struct Decided {
    /// The station's last seq when the copy was taken.
    head: u64,
    /// When the event is accepted.
    at: DateTime<Utc>,
    record: Record,
    answer: Arc<Answer>,
    /// The copy after the event, and its documents; `None` after a refusal (nothing changed).
    next: Option<(Station, Arc<Docs>)>,
}

/// Applies a request's event (see the module's steps); runs in a task of its own, so a client
/// that hangs up cannot leave the key claimed.
pub(super) async fn submit(
    state: AppState,
    log: Store,
    slot: Arc<StationSlot>,
    station: StationId,
    claim: Claim,
    event: Event,
    render_refusal: impl Fn(Refusal) -> Answer,
) -> Result<Reply, IngestError> {
    let _turn = slot.turn.lock().await;
    for _ in 0..MAX_ATTEMPTS {
        let decided = decide(&state, &slot, &station, &claim, &event, &render_refusal);
        let decided =
            decided.inspect_err(|_| state.idempotency.abandon(&claim.device.id, &claim.key))?;
        match log.append(&station, decided.head, &decided.record).await {
            Ok(()) => return Ok(finish(&state, &slot, &claim, decided)),
            Err(AppendError::Behind) => catch_up(&state, &log, &slot, &station, &claim).await?,
            Err(AppendError::KeyTaken) => return replay_stored(&state, &log, &claim).await,
            Err(AppendError::Unavailable(reason)) => {
                tracing::warn!(cause = %reason, %station, "event not committed: the database is unavailable");
                state.idempotency.abandon(&claim.device.id, &claim.key);
                return Err(IngestError::DatabaseUnavailable);
            }
        }
    }
    state.idempotency.abandon(&claim.device.id, &claim.key);
    Err(IngestError::Contended)
}

/// Step 2: the engine's decision on a copy of the station.
fn decide(
    state: &AppState,
    slot: &StationSlot,
    station: &StationId,
    claim: &Claim,
    event: &Event,
    render_refusal: &impl Fn(Refusal) -> Answer,
) -> Result<Decided, IngestError> {
    let (head, at, applied) = {
        let engine = slot.engine.lock().map_err(|_| IngestError::Internal)?;
        let at = accepted_at(state, &engine);
        let mut next = engine.clone();
        let applied = next
            .apply(event, at, Mode::Live)
            .map(|outcome| (next, outcome));
        (engine.seq(), at, applied)
    };
    Ok(match applied {
        Ok((next, outcome)) => {
            let answer = Answer {
                status: CREATED,
                body: Bytes::from(serde_json::to_vec(&outcome).expect("outcomes serialize")),
            };
            let device = &claim.device.id;
            let accepted = accept(
                state,
                &next,
                station,
                device,
                event.clone(),
                outcome.seq,
                at,
            );
            Decided {
                head,
                at,
                record: Record {
                    event: Some(accepted.recorded),
                    idempotency: Some(claim.record(&answer, at)),
                    snapshot: accepted.snapshot,
                },
                answer: Arc::new(answer),
                next: Some((next, accepted.docs)),
            }
        }
        Err(refusal) => {
            let answer = render_refusal(refusal);
            Decided {
                head,
                at,
                record: Record {
                    event: None,
                    idempotency: Some(claim.record(&answer, at)),
                    snapshot: None,
                },
                answer: Arc::new(answer),
                next: None,
            }
        }
    })
}

/// The instant an event is accepted: now by this instance's clock, but never before the station's
/// last event, which another instance's clock may have stamped a little ahead — a station's log
/// runs forward in time, as its history and waits expect.
fn accepted_at(state: &AppState, engine: &Station) -> DateTime<Utc> {
    let now = state.clock.now();
    engine.last_at().map_or(now, |last| now.max(last))
}

/// Step 3, committed: the copy becomes the station, the answer is kept, the documents go out.
fn finish(state: &AppState, slot: &StationSlot, claim: &Claim, decided: Decided) -> Reply {
    if let Some((next, docs)) = decided.next {
        install(slot, next);
        slot.live.publish(docs);
    }
    let device = &claim.device.id;
    let answer = decided.answer;
    state.idempotency.complete(
        device,
        &claim.key,
        claim.fingerprint,
        answer.clone(),
        decided.at,
    );
    Reply {
        answer,
        replayed: false,
    }
}

/// Replaces the station with the committed copy. A poisoned lock is taken over: the copy is the
/// truth the log now holds.
fn install(slot: &StationSlot, next: Station) {
    let mut engine = slot
        .engine
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *engine = next;
}

async fn catch_up(
    state: &AppState,
    log: &Store,
    slot: &StationSlot,
    station: &StationId,
    claim: &Claim,
) -> Result<(), IngestError> {
    follow::catch_up(state, log, slot, station)
        .await
        .map_err(|e| {
            tracing::error!(cause = %e, %station, "catching up with the log failed");
            state.idempotency.abandon(&claim.device.id, &claim.key);
            IngestError::DatabaseUnavailable
        })
}

/// Another instance answered this key: its stored answer, byte for byte, if the request is the
/// same one; a different request under the key is refused as on one instance.
async fn replay_stored(state: &AppState, log: &Store, claim: &Claim) -> Result<Reply, IngestError> {
    let device = &claim.device.id;
    let stored = log.find_answer(device, claim.key.as_str()).await;
    let Ok(Some(record)) = stored else {
        state.idempotency.abandon(device, &claim.key);
        return Err(IngestError::DatabaseUnavailable);
    };
    if record.fingerprint != claim.fingerprint {
        state.idempotency.abandon(device, &claim.key);
        return Err(IngestError::KeyReused);
    }
    let answer = Arc::new(Answer {
        status: record.status,
        body: record.body,
    });
    state.idempotency.complete(
        device,
        &claim.key,
        claim.fingerprint,
        answer.clone(),
        record.at,
    );
    Ok(Reply {
        answer,
        replayed: true,
    })
}

/// A service event (close-out, clock review, rule change) on a shared log: decided under the
/// station's turn on a copy, and decided again after catching up if another instance was first —
/// so an event every instance would decide on (the day's close-out) is written once.
pub(super) async fn apply_system(
    state: &AppState,
    log: &Store,
    slot: &StationSlot,
    station: &StationId,
    device: &DeviceId,
    decide: impl Fn(&Station, DateTime<Utc>) -> Option<Event>,
) -> Result<Option<Outcome>, IngestError> {
    let _turn = slot.turn.lock().await;
    for _ in 0..MAX_ATTEMPTS {
        let decided = {
            let engine = slot.engine.lock().map_err(|_| IngestError::Internal)?;
            let at = accepted_at(state, &engine);
            let Some(event) = decide(&engine, at) else {
                return Ok(None);
            };
            let mut next = engine.clone();
            let outcome = next
                .apply(&event, at, Mode::Live)
                .map_err(IngestError::Refused)?;
            let accepted = accept(state, &next, station, device, event, outcome.seq, at);
            (engine.seq(), next, outcome, accepted)
        };
        let (
            head,
            next,
            outcome,
            Accepted {
                recorded,
                docs,
                snapshot,
            },
        ) = decided;
        let record = Record {
            event: Some(recorded),
            idempotency: None,
            snapshot,
        };
        match log.append(station, head, &record).await {
            Ok(()) => {
                install(slot, next);
                slot.live.publish(docs);
                return Ok(Some(outcome));
            }
            Err(AppendError::Behind) => follow::catch_up(state, log, slot, station)
                .await
                .map_err(|_| IngestError::DatabaseUnavailable)?,
            Err(AppendError::KeyTaken) => return Err(IngestError::Internal),
            Err(AppendError::Unavailable(_)) => return Err(IngestError::DatabaseUnavailable),
        }
    }
    Err(IngestError::Contended)
}
