//! Documents change with the clock, not only with events: a service opens at 08:00 with nobody
//! posting anything. This task re-renders a station's documents when its time-dependent facts
//! (the local date, which services are open, which desks count as serving) change, and publishes them — but only when the
//! station has nothing in flight, so it never publishes a state the log has not yet committed.
//! It logs the events the clock alone brings about — the day's close-out after closing, and a
//! `clock` review when an alert falls due or goes away — through the same path as requests.
//! It also drops day-old idempotent answers from memory; the log keeps them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::StationId;
use crate::engine::Station;
use crate::hub::Docs;
use crate::state::AppState;

/// How often the clock is checked; opening hours are given to the minute.
pub const TICK: Duration = Duration::from_secs(10);

/// How often answers past the retention window leave memory and a pass of retention runs on the
/// log (`store/prune.rs`).
pub const EVICT_EVERY: Duration = Duration::from_secs(600);

/// What about a station depends on the time alone: the local date, which services are open, and
/// how many desks count as serving each (a desk that stopped calling drops out of the wait
/// estimates after half an hour).
type TimeFacts = (chrono::NaiveDate, Vec<(bool, u32)>);

fn time_facts(station: &Station, now: DateTime<Utc>) -> TimeFacts {
    let local = now.with_timezone(&station.config().timezone).naive_local();
    let services = station
        .config()
        .services
        .iter()
        .map(|s| (s.hours.is_open(local), station.active_desks(&s.id, now)))
        .collect();
    (local.date(), services)
}

/// One pass of answer retention in the log; a failure is logged and tried again next time (the
/// answers it would have pruned are refused as expired all the same).
async fn prune_answers(
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
    retention: chrono::TimeDelta,
) {
    let prune = crate::store::Prune::at(now, retention);
    if let Err(e) = state.store.prune_answers(prune).await {
        tracing::warn!(cause = %e, "pruning stored answers failed");
    }
}

/// Runs until the service shuts down.
pub async fn keep_time(state: AppState) {
    let mut seen: BTreeMap<StationId, TimeFacts> = BTreeMap::new();
    let mut tick = tokio::time::interval(TICK);
    let mut evicted = tokio::time::Instant::now();
    loop {
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = state.clock.now();
        if evicted.elapsed() >= EVICT_EVERY {
            evicted = tokio::time::Instant::now();
            let retention = state.idempotency.policy().retention;
            state.idempotency.evict_before(now - retention);
            prune_answers(&state, now, retention).await;
        }
        log_due_events(&state).await;
        for (id, slot) in state.stations().iter() {
            let docs = {
                let Ok(engine) = slot.engine.lock() else {
                    continue;
                };
                let facts = time_facts(&engine, now);
                // The first sighting only records: the start-up documents are already current.
                let changed = seen
                    .insert(id.clone(), facts.clone())
                    .is_some_and(|before| before != facts);
                // Only when everything applied is also published, i.e. committed.
                (changed && engine.seq() == slot.live.latest().seq)
                    .then(|| Arc::new(Docs::render(&engine, now)))
            };
            if let Some(docs) = docs {
                slot.live.publish(docs);
            }
        }
    }
}

/// Logs, for every station, the event the clock alone now brings about (the day's close-out, or
/// a review of alerts that fell due or went away), if any.
pub async fn log_due_events(state: &AppState) {
    let service = crate::domain::DeviceId::service();
    for id in state.stations().keys() {
        match crate::ingest::apply_system(state, id, &service, |engine, at| engine.due(at)).await {
            Ok(Some(outcome)) => {
                tracing::info!(station = %id, kind = outcome.kind, seq = outcome.seq, closed_out = outcome.closed_out.len(), "time-driven event logged");
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(station = %id, error = %e, "time-driven event not applied"),
        }
    }
}
