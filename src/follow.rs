//! Keeping up with the other instances on a shared log.
//!
//! Every instance keeps every station in memory, so what another instance commits must reach
//! this one: the log's listener ([`crate::store::postgres::Notice`]) says which station moved
//! (or which device was revoked), and this module reads what is missing and applies it — events
//! through the engine, exactly as at start-up, then the station's fresh documents to this
//! instance's sockets; revocations into the token table, closing the device's sockets here too.
//! After a lost connection it reads everything past what it has, so a missed notification only
//! delays a change, never loses it.

use std::collections::HashSet;
use std::sync::Arc;

use crate::domain::{DeviceId, StationId};
use crate::hub::Docs;
use crate::state::{AppState, StationSlot, replay_one};
use crate::store::Log;
use crate::store::postgres::{Notice, Store};

/// Brings `slot` up to the log: applies the station's events past the one it has, and publishes
/// the new documents. The caller holds the station's turn, so nothing else changes it meanwhile.
pub async fn catch_up(
    state: &AppState,
    log: &Store,
    slot: &StationSlot,
    station: &StationId,
) -> anyhow::Result<()> {
    let head = slot
        .engine
        .lock()
        .map_err(|_| anyhow::anyhow!("station {station}'s lock is poisoned"))?
        .seq();
    let missing = log.events_after(station, head).await?;
    apply_missing(state, slot, &missing)
}

/// Applies `missing` — the station's events after the one it has, in order, committed by other
/// instances — and publishes the new documents. Nothing to do for none.
pub fn apply_missing(
    state: &AppState,
    slot: &StationSlot,
    missing: &[crate::domain::Recorded],
) -> anyhow::Result<()> {
    if missing.is_empty() {
        return Ok(());
    }
    let docs = {
        let mut engine = slot
            .engine
            .lock()
            .map_err(|_| anyhow::anyhow!("a station's lock is poisoned"))?;
        for recorded in missing {
            replay_one(&mut engine, recorded)?;
        }
        Docs::render(&engine, state.clock.now())
    };
    slot.live.publish(Arc::new(docs));
    Ok(())
}

/// Acts on what the shared log's listener hears, until shutdown. Does nothing on a local log.
pub async fn follow(state: AppState) {
    let Log::Shared(log) = &state.store else {
        return;
    };
    let Some(mut notices) = log.take_notices() else {
        return;
    };
    loop {
        let notice = tokio::select! {
            () = state.shutdown.cancelled() => return,
            notice = notices.recv() => notice,
        };
        match notice {
            None => return,
            Some(Notice::Event { station, seq }) => {
                tokio::spawn(catch_up_to(state.clone(), log.clone(), station, Some(seq)));
            }
            Some(Notice::Revoked(device)) => {
                tokio::spawn(revoke_here(state.clone(), log.clone(), device));
            }
            Some(Notice::Resync) => resync(&state, log),
        }
    }
}

/// Catches `station` up, unless it already has `seq` (this instance's own commit, mostly).
async fn catch_up_to(state: AppState, log: Store, station: StationId, seq: Option<u64>) {
    let Some(slot) = state.station(&station) else {
        return;
    };
    let has = |slot: &StationSlot| {
        seq.is_some_and(|seq| slot.engine.lock().is_ok_and(|engine| engine.seq() >= seq))
    };
    if has(&slot) {
        return;
    }
    let _turn = slot.turn.lock().await;
    if has(&slot) {
        return;
    }
    if let Err(e) = catch_up(&state, &log, &slot, &station).await {
        tracing::warn!(%station, cause = %e, "catching up with another instance's events failed; retried on the next notice");
    }
}

/// Applies a revocation another instance recorded: the tokens stop working here, and the
/// device's sockets on this instance are closed.
async fn revoke_here(state: AppState, log: Store, device: DeviceId) {
    match log.revoked_of(&device).await {
        Ok(hashes) => apply_revocations(&state, &device, &hashes),
        Err(e) => {
            tracing::warn!(%device, cause = %e, "reading another instance's revocation failed");
        }
    }
}

/// Revokes here those of `device`'s tokens in `revoked` that still work here, and closes the
/// device's sockets if any did.
fn apply_revocations(state: &AppState, device: &DeviceId, revoked: &HashSet<[u8; 32]>) {
    let newly: Vec<[u8; 32]> = state
        .tokens
        .unrevoked_of(device)
        .into_iter()
        .filter(|hash| revoked.contains(hash))
        .collect();
    if newly.is_empty() {
        return;
    }
    state.tokens.revoke(&newly);
    let closed = state.sockets.revoke(device);
    tracing::warn!(%device, tokens = newly.len(), closed_sockets = closed, "device tokens revoked on another instance");
}

/// After a (re)connection: every station read past what it has, every device's revocations.
fn resync(state: &AppState, log: &Store) {
    for station in state.stations().keys() {
        tokio::spawn(catch_up_to(
            state.clone(),
            log.clone(),
            station.clone(),
            None,
        ));
    }
    let (state, log) = (state.clone(), log.clone());
    tokio::spawn(async move {
        for device in state.config().devices.iter().map(|d| &d.id) {
            match log.revoked_of(device).await {
                Ok(hashes) => apply_revocations(&state, device, &hashes),
                Err(e) => tracing::warn!(%device, cause = %e, "reading revocations failed"),
            }
        }
    });
}
