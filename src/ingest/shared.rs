//! The flow of one event on a log shared by several instances.
//!
//! The station's order is decided in the database, and the engine decides on the truth:
//!
//! 1. The station's turn is taken in this instance (an async lock held across the commit: one
//!    write at a time per station here; catching up with other instances waits for it too).
//! 2. The log's writer takes the station's lock in the database and reads the events other
//!    instances committed since this instance's last (`store/postgres/append.rs`); they are
//!    applied first. Then, while the lock is held, the engine applies the event to a copy of the
//!    station and the answer and documents are rendered from the copy — so of two check-ins for
//!    the last place sent at once to two instances, the second sees the first and waits outside,
//!    and two desks calling at once never get one ticket.
//! 3. The record is committed. Committed: the copy becomes the station, the answer is stored for
//!    retries, the documents are published. The key was answered by another instance: its stored
//!    answer is replayed. The database cannot be reached: nothing was committed, or (a lost
//!    COMMIT) a retry under the key will find it; the key is released and the answer is 503.
//!    A duplicate seq (a writer that did not take the lock) is caught up with and tried again.
//!
//! Memory is never ahead of the log here, so nothing is fail-stop: the next request tries again.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Accepted, CREATED, Claim, IngestError, Reply, accept};
use crate::domain::{DeviceId, Event, Recorded, StationId};
use crate::engine::{Mode, Outcome, Refusal, Station};
use crate::follow;
use crate::hub::Docs;
use crate::idempotency::Answer;
use crate::state::{AppState, StationSlot};
use crate::store::Record;
use crate::store::postgres::{AppendError, Store, WriteError};

/// Attempts before a request gives up: only a writer that does not take the station's lock (see
/// `append.rs`) can make one fail, so a second attempt almost never happens.
const MAX_ATTEMPTS: usize = 8;

/// What the engine decided on a copy of the station, not yet committed.
struct Decided {
    /// When the event is accepted.
    at: DateTime<Utc>,
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
    render_refusal: impl Fn(Refusal) -> Answer + Sync,
) -> Result<Reply, IngestError> {
    let _turn = slot.turn.lock().await;
    let abandon = || state.idempotency.abandon(&claim.device.id, &claim.key);
    for _ in 0..MAX_ATTEMPTS {
        let head = head_of(&slot).inspect_err(|_| abandon())?;
        let written = log
            .write_station(&station, head, |missing| {
                catch_up_with(&state, &slot, &missing)?;
                decide(&state, &slot, &station, &claim, &event, &render_refusal).map(Some)
            })
            .await;
        match written {
            Ok(Some(decided)) => return Ok(finish(&state, &slot, &claim, decided)),
            // `decide` above always gives a record; nothing written would be a bug, not an answer.
            Ok(None) => {
                abandon();
                return Err(IngestError::Internal);
            }
            Err(WriteError::Decided(e)) => {
                abandon();
                return Err(e);
            }
            Err(WriteError::Append(AppendError::Behind)) => {
                catch_up(&state, &log, &slot, &station)
                    .await
                    .inspect_err(|_| abandon())?;
            }
            Err(WriteError::Append(AppendError::KeyTaken)) => {
                return replay_stored(&state, &log, &claim).await;
            }
            Err(WriteError::Append(AppendError::Unavailable(reason))) => {
                tracing::warn!(cause = %reason, %station, "event not committed: the database is unavailable");
                abandon();
                return Err(IngestError::DatabaseUnavailable);
            }
        }
    }
    abandon();
    Err(IngestError::Contended)
}

/// The station's last seq in this instance.
fn head_of(slot: &StationSlot) -> Result<u64, IngestError> {
    Ok(slot.engine.lock().map_err(|_| IngestError::Internal)?.seq())
}

/// Step 2's first half: the events other instances committed meanwhile, applied and published.
fn catch_up_with(
    state: &AppState,
    slot: &StationSlot,
    missing: &[Recorded],
) -> Result<(), IngestError> {
    follow::apply_missing(state, slot, missing).map_err(|e| {
        tracing::error!(cause = %e, "applying other instances' events failed");
        IngestError::Internal
    })
}

/// Step 2: the engine's decision on a copy of the station, and the record that keeps it.
fn decide(
    state: &AppState,
    slot: &StationSlot,
    station: &StationId,
    claim: &Claim,
    event: &Event,
    render_refusal: &impl Fn(Refusal) -> Answer,
) -> Result<(Record, Decided), IngestError> {
    let (at, applied) = {
        let engine = slot.engine.lock().map_err(|_| IngestError::Internal)?;
        super::serving(slot, station)?;
        let at = accepted_at(state, &engine);
        let mut next = engine.clone();
        let applied = next
            .apply(event, at, Mode::Live)
            .map(|outcome| (next, outcome));
        (at, applied)
    };
    Ok(match applied {
        Ok((next, outcome)) => {
            let answer = Answer {
                status: CREATED,
                body: claim.answer_body(outcome.clone()),
            };
            let device = &claim.device.id;
            let accepted = accept(state, &next, station, device, event.clone(), &outcome, at);
            let record = Record {
                event: Some(accepted.recorded),
                idempotency: Some(claim.record(&answer, at)),
                snapshot: accepted.snapshot,
                webhooks: accepted.webhooks,
            };
            let next = Some((next, accepted.docs));
            (
                record,
                Decided {
                    at,
                    answer: Arc::new(answer),
                    next,
                },
            )
        }
        Err(refusal) => {
            let answer = render_refusal(refusal);
            let record = Record {
                event: None,
                idempotency: Some(claim.record(&answer, at)),
                snapshot: None,
                webhooks: Vec::new(),
            };
            (
                record,
                Decided {
                    at,
                    answer: Arc::new(answer),
                    next: None,
                },
            )
        }
    })
}

/// The instant an event is accepted: now by this instance's clock, never before the station's
/// last event (see [`super::not_before_last`]).
fn accepted_at(state: &AppState, engine: &Station) -> DateTime<Utc> {
    super::not_before_last(engine, state.clock.now())
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

/// After a duplicate seq: the station brought up to the log before the next attempt.
async fn catch_up(
    state: &AppState,
    log: &Store,
    slot: &StationSlot,
    station: &StationId,
) -> Result<(), IngestError> {
    follow::catch_up(state, log, slot, station)
        .await
        .map_err(|e| {
            tracing::error!(cause = %e, %station, "catching up with the log failed");
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
    if record.at < state.clock.now() - state.idempotency.policy().retention {
        state.idempotency.abandon(device, &claim.key);
        return Err(super::expired(state, record.at));
    }
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
/// station's lock in the database after catching up — so an event every instance would decide
/// on (the day's close-out) is written once: the second writer sees it and decides nothing.
pub(super) async fn apply_system(
    state: &AppState,
    log: &Store,
    slot: &StationSlot,
    station: &StationId,
    device: &DeviceId,
    decide: impl Fn(&Station, DateTime<Utc>) -> Option<Event>,
) -> Result<Option<Outcome>, IngestError> {
    let _turn = slot.turn.lock().await;
    // The clock asks every station every few seconds, and mostly nothing is due: that answer
    // needs no database. Something due here is decided again under the lock, on the truth.
    if !due_here(state, slot, &decide)? {
        return Ok(None);
    }
    for _ in 0..MAX_ATTEMPTS {
        let head = head_of(slot)?;
        let written = log
            .write_station(station, head, |missing| {
                catch_up_with(state, slot, &missing)?;
                decide_system(state, slot, station, device, &decide)
            })
            .await;
        match written {
            Ok(Some((next, docs, outcome))) => {
                install(slot, next);
                slot.live.publish(docs);
                return Ok(Some(outcome));
            }
            Ok(None) => return Ok(None),
            Err(WriteError::Decided(e)) => return Err(e),
            Err(WriteError::Append(AppendError::Behind)) => {
                catch_up(state, log, slot, station).await?;
            }
            Err(WriteError::Append(AppendError::KeyTaken)) => return Err(IngestError::Internal),
            Err(WriteError::Append(AppendError::Unavailable(_))) => {
                return Err(IngestError::DatabaseUnavailable);
            }
        }
    }
    Err(IngestError::Contended)
}

/// Whether `decide` finds something to do on the station as this instance has it.
fn due_here(
    state: &AppState,
    slot: &StationSlot,
    decide: &impl Fn(&Station, DateTime<Utc>) -> Option<Event>,
) -> Result<bool, IngestError> {
    let engine = slot.engine.lock().map_err(|_| IngestError::Internal)?;
    Ok(decide(&engine, accepted_at(state, &engine)).is_some())
}

/// A service event decided on a copy of the station: the record, and the copy with its
/// documents and outcome; `None` when there is nothing to do.
#[allow(clippy::type_complexity)] // the record and the three things `apply_system` installs
fn decide_system(
    state: &AppState,
    slot: &StationSlot,
    station: &StationId,
    device: &DeviceId,
    decide: &impl Fn(&Station, DateTime<Utc>) -> Option<Event>,
) -> Result<Option<(Record, (Station, Arc<Docs>, Outcome))>, IngestError> {
    let engine = slot.engine.lock().map_err(|_| IngestError::Internal)?;
    super::serving(slot, station)?;
    let at = accepted_at(state, &engine);
    let Some(event) = decide(&engine, at) else {
        return Ok(None);
    };
    let mut next = engine.clone();
    drop(engine);
    let outcome = next
        .apply(&event, at, Mode::Live)
        .map_err(IngestError::Refused)?;
    let Accepted {
        recorded,
        docs,
        snapshot,
        webhooks,
    } = accept(state, &next, station, device, event, &outcome, at);
    let record = Record {
        event: Some(recorded),
        idempotency: None,
        snapshot,
        webhooks,
    };
    Ok(Some((record, (next, docs, outcome))))
}
