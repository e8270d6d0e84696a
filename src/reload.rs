//! Reloading the configuration while the service runs (`SIGHUP`, `POST /api/v1/admin/reload`).
//!
//! A reload reads and validates the whole file with the code `serve` uses, compares it with the
//! running config ([`plan::Plan`]), and checks that every change can apply now — a station to be
//! removed must be empty and have no events in the log (a restart would refuse the log), a
//! changed station must still hold every service its tickets name. Any error refuses the reload
//! whole: the running config stays in force and the error is kept for `/healthz` until a reload
//! succeeds. Otherwise it applies, in this order: each changed station's engine gets its new
//! config (hours, exceptions, services, operations, room) and pushes fresh documents; the config,
//! the token table (revocations kept) and the station map are swapped; the sockets of removed or
//! re-scoped devices are closed with 4401; then a `rule_changed` event is logged at each station
//! whose rule or room changed, through the same path as `PUT /api/v1/rules`, so replay and the
//! reports see the new cap from that event on. `[limits]` and `[storage]` apply only at the next
//! start; the answer says so.

pub mod plan;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Config, ConfigError, ConfigErrors, SAMPLE_NAME};
use crate::domain::event::{Distance, Reason};
use crate::domain::{DeviceId, Event, StationId};
use crate::engine;
use crate::hub::Docs;
use crate::state::{AppState, StationSlot, Stations};
use plan::Plan;

/// Why a reload was refused; nothing changed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReloadError {
    /// The file cannot be read or is not a valid config: every error, each naming the file, the
    /// key and the reason.
    #[error("{0}")]
    Invalid(ConfigErrors),
    /// The file is valid but cannot apply now (a station with people inside, say).
    #[error("{0}")]
    Refused(String),
}

/// What a successful reload changed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ReloadSummary)]
pub struct Summary {
    /// The file that was read.
    pub file: String,
    #[serde(flatten)]
    pub plan: Plan,
    /// Stations where a `rule_changed` event was logged (their cap derived again).
    #[schema(value_type = Vec<String>)]
    pub rules_logged: Vec<StationId>,
    /// Live sockets closed with 4401 (removed or re-scoped devices).
    pub closed_sockets: usize,
    /// What did not apply after the reload was accepted (a log write that failed, say).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Re-reads the running config's file and applies it, or refuses it whole. Logs the outcome.
pub async fn reload(state: &AppState) -> Result<Summary, ReloadError> {
    let _one_at_a_time = state.reloads.one_at_a_time().await;
    let outcome = read_and_apply(state).await;
    let at = state.clock.now();
    match &outcome {
        Ok(summary) => {
            tracing::info!(
                file = %summary.file,
                devices_added = summary.plan.devices_added.len(),
                devices_removed = summary.plan.devices_removed.len(),
                devices_changed = summary.plan.devices_changed.len(),
                stations_added = summary.plan.stations_added.len(),
                stations_removed = summary.plan.stations_removed.len(),
                stations_changed = summary.plan.stations_changed.len(),
                closed_sockets = summary.closed_sockets,
                needs_restart = ?summary.plan.needs_restart,
                "config reloaded"
            );
            state.reloads.record(at, Ok(()));
        }
        Err(e) => {
            tracing::error!(cause = %e, "config reload refused; the running config stays in force");
            state.reloads.record(at, Err(e.to_string()));
        }
    }
    outcome
}

async fn read_and_apply(state: &AppState) -> Result<Summary, ReloadError> {
    let old = state.config();
    let new = read(&old)?;
    let plan = Plan::between(&old, &new);
    let now = state.clock.now();
    let engines = prepare(state, &old, &new, &plan, now)?;
    retire(state, &plan).await?;
    let closed_sockets = swap(state, &new, &plan, engines, now).await;
    sync_new_stations(state, &plan).await;
    let (rules_logged, warnings) = log_rules(state, &plan).await;
    Ok(Summary {
        file: new.source.clone(),
        plan,
        rules_logged,
        closed_sockets,
        warnings,
    })
}

/// The running config's file, read and validated again.
fn read(running: &Config) -> Result<Arc<Config>, ReloadError> {
    if running.source == SAMPLE_NAME {
        return Err(ReloadError::Invalid(
            ConfigError {
                file: SAMPLE_NAME.to_owned(),
                key: String::new(),
                reason: "the service runs on the built-in sample, which has no file to read again; start it with --config".into(),
            }
            .into(),
        ));
    }
    Config::load(&PathBuf::from(&running.source))
        .map(Arc::new)
        .map_err(|e| ReloadError::Invalid(e.map(without_source_lines)))
}

/// `e` without the lines of the file a TOML syntax error quotes (`3 | database = "…"`, and the
/// `|` and `^` lines around it): the error goes to the log, the admin's answer and the public
/// `/healthz`, and a quoted line may hold a database password. The line and column stay, and
/// `check-config` shows the quote to the operator at the console.
fn without_source_lines(mut e: ConfigError) -> ConfigError {
    let quoted = |line: &str| {
        let rest = line
            .trim_start()
            .trim_start_matches(|c: char| c.is_ascii_digit());
        rest.trim_start().starts_with('|')
    };
    e.reason = e
        .reason
        .lines()
        .filter(|line| !quoted(line))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    e
}

/// Every engine the new config needs, checked but not yet in service: each changed station's
/// engine reconfigured on a copy, each new station's empty engine. Refuses the whole reload on
/// the first station the config cannot apply to now.
fn prepare(
    state: &AppState,
    old: &Config,
    new: &Config,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<Vec<(StationId, engine::Station)>, ReloadError> {
    let stations = state.stations();
    for id in &plan.stations_removed {
        removable(&stations, id)?;
    }
    let mut engines = Vec::new();
    for config in &new.stations {
        let config = Arc::new(config.clone());
        let engine = match stations.get(&config.id) {
            None => engine::Station::new(config, &new.rules),
            Some(_) if !changes(plan, old, &config.id) => continue,
            Some(slot) => {
                let mut engine = slot
                    .engine
                    .lock()
                    .map_err(|_| poisoned(&config.id))?
                    .clone();
                engine
                    .reconfigure(config, &new.rules)
                    .map_err(ReloadError::Refused)?;
                engine
            }
        };
        engine::check_config_part(&engine, now).map_err(ReloadError::Refused)?;
        engines.push((engine.config().id.clone(), engine));
    }
    Ok(engines)
}

/// Whether a running station's engine needs the new config.
fn changes(plan: &Plan, old: &Config, id: &StationId) -> bool {
    plan.stations_changed.contains(id) || plan.room_changed(id) || old.station(id).is_none()
}

/// A station may be removed only when nobody is inside or queued, and nothing of it is in the
/// log: at the next start a log with events of a station the config lacks is refused.
fn removable(stations: &Stations, id: &StationId) -> Result<(), ReloadError> {
    let Some(slot) = stations.get(id) else {
        return Ok(());
    };
    let engine = slot.engine.lock().map_err(|_| poisoned(id))?;
    still_removable(&engine, id)
}

/// [`removable`]'s test on the station's engine.
fn still_removable(engine: &engine::Station, id: &StationId) -> Result<(), ReloadError> {
    let (inside, outside) = engine.occupants();
    if inside > 0 || outside > 0 {
        return Err(ReloadError::Refused(format!(
            "station '{id}' cannot be removed while people are there: {inside} inside, {outside} parties queued outside; remove it once they have been served and checked out"
        )));
    }
    if engine.seq() > 0 {
        return Err(ReloadError::Refused(format!(
            "station '{id}' cannot be removed: its {} events are in the event log, and a start with a config without it would refuse the log; keep the station (without devices) or start a new log",
            engine.seq()
        )));
    }
    Ok(())
}

/// Marks each station to be removed as retired — checked again under its turn and its lock, so
/// that no event taken since [`prepare`] is lost with it, and none is taken from now on. Undone,
/// and the reload refused, if one has taken an event meanwhile.
async fn retire(state: &AppState, plan: &Plan) -> Result<(), ReloadError> {
    let stations = state.stations();
    let mut retired: Vec<&StationSlot> = Vec::new();
    for id in &plan.stations_removed {
        let Some(slot) = stations.get(id) else {
            continue;
        };
        let _turn = slot.turn.lock().await;
        let checked = slot
            .engine
            .lock()
            .map_err(|_| poisoned(id))
            .and_then(|engine| {
                still_removable(&engine, id)?;
                slot.retired
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            });
        if let Err(e) = checked {
            for slot in retired {
                slot.retired
                    .store(false, std::sync::atomic::Ordering::SeqCst);
            }
            return Err(e);
        }
        retired.push(slot);
    }
    Ok(())
}

fn poisoned(id: &StationId) -> ReloadError {
    ReloadError::Refused(format!(
        "station '{id}' is unavailable (its lock is poisoned)"
    ))
}

/// Puts the new config in force: engines, config, tokens and stations swapped, the sockets of
/// removed or re-scoped devices closed. Returns how many sockets were closed.
async fn swap(
    state: &AppState,
    new: &Arc<Config>,
    plan: &Plan,
    engines: Vec<(StationId, engine::Station)>,
    now: DateTime<Utc>,
) -> usize {
    let mut stations: Stations = state
        .stations()
        .iter()
        .filter(|(id, _)| new.station(id).is_some())
        .map(|(id, slot)| (id.clone(), slot.clone()))
        .collect();
    for (id, prepared) in engines {
        match stations.get(&id) {
            Some(slot) => install(slot, prepared, new, now).await,
            None => {
                stations.insert(id, Arc::new(StationSlot::new(prepared, now)));
            }
        }
    }
    state.config.store(new.clone());
    state.tokens.replace(new);
    state.stations.store(Arc::new(stations));
    for id in &plan.stations_removed {
        tracing::info!(station = %id, "station removed by a config reload");
    }
    plan.devices_to_close()
        .map(|device| {
            let closed = state.sockets.revoke(device);
            tracing::info!(%device, closed_sockets = closed, "device removed or re-scoped by a config reload");
            closed
        })
        .sum()
}

/// Gives a running station its new config. The engine was reconfigured on a copy; applying that
/// copy's config to the live engine (which may have taken events since) keeps those events. On a
/// shared log an event is decided on a copy of the engine that is installed after its commit, so
/// the change is made under the station's turn, never between the two.
async fn install(slot: &StationSlot, prepared: engine::Station, new: &Config, now: DateTime<Utc>) {
    let config = Arc::new(prepared.config().clone());
    let _turn = slot.turn.lock().await;
    let docs = {
        let Ok(mut engine) = slot.engine.lock() else {
            return;
        };
        if let Err(why) = engine.reconfigure(config, &new.rules) {
            // A check-in for a removed service raced the reload: the station keeps its config.
            tracing::warn!(station = %prepared.config().id, %why, "station not reconfigured");
            return;
        }
        Arc::new(Docs::render(&engine, now))
    };
    slot.live.publish(docs);
}

/// On a shared log another instance may already have taken events at a station this one only
/// now adds: read them before it serves the station.
async fn sync_new_stations(state: &AppState, plan: &Plan) {
    let crate::store::Log::Shared(log) = &state.store else {
        return;
    };
    for id in &plan.stations_added {
        let Some(slot) = state.station(id) else {
            continue;
        };
        let _turn = slot.turn.lock().await;
        if let Err(e) = crate::follow::catch_up(state, log, &slot, id).await {
            tracing::warn!(station = %id, cause = %e, "reading a new station's events from the log failed; retried on the next notice");
        }
    }
}

/// Logs a `rule_changed` event at every station whose rule or room the reload changed, through
/// the rule-change path (decided under the station's lock, or turn on a shared log: when another
/// instance has logged the same change already, nothing is logged again).
async fn log_rules(state: &AppState, plan: &Plan) -> (Vec<StationId>, Vec<String>) {
    let (mut logged, mut warnings) = (Vec::new(), Vec::new());
    let service = DeviceId::service();
    let Ok(reason) = Reason::parse("config reload") else {
        return (logged, warnings);
    };
    for station in state.config().stations.iter() {
        let id = &station.id;
        let follows = plan.distancing_m.map(|r| (r.from, r.to));
        let room = plan.room_changed(id);
        if follows.is_none() && !room {
            continue;
        }
        let decided = crate::ingest::apply_system(state, id, &service, |engine, _| {
            rule_event(engine, follows, room, &reason)
        })
        .await;
        match decided {
            Ok(Some(outcome)) => {
                tracing::info!(station = %id, cap = outcome.cap, seq = outcome.seq, "rule changed by a config reload");
                logged.push(id.clone());
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(station = %id, cause = %e, "a config reload's rule change was not logged");
                warnings.push(format!(
                    "station '{id}': the rule change was not logged: {e}"
                ));
            }
        }
    }
    (logged, warnings)
}

/// The event a reload logs at a station, decided on the station as it is now: the new
/// configured rule when it still follows the old one (a rule set by `PUT /api/v1/rules` stays),
/// else the rule in force again when its room changed.
fn rule_event(
    engine: &engine::Station,
    configured: Option<(f64, f64)>,
    room_changed: bool,
    reason: &Reason,
) -> Option<Event> {
    let current = engine.capacity().distancing_m;
    let target = match configured {
        Some((from, to)) if current == from => to,
        _ => current,
    };
    if target == current && !room_changed {
        return None;
    }
    Some(Event::RuleChanged {
        distancing_m: Distance::parse(target).ok()?,
        scope: reason.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_keeps_its_position_and_message_but_not_the_quoted_line() {
        let text = "[storage]\ndatabase = \"postgres://u:hunter2@db/x\" oops\n";
        let e = Config::parse(text, "lw.toml").unwrap_err().first().clone();
        assert!(
            e.reason.contains("hunter2"),
            "the parser quotes the line: {e}"
        );
        let e = without_source_lines(e);
        assert!(!e.reason.contains("hunter2"), "{e}");
        assert!(e.reason.contains("line 2"), "{e}");
    }
}
