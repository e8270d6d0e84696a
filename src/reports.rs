//! Reports and long-range history, computed from the log by the same engine that ran the day.
//!
//! Every local day starts empty — the first event of a day closes out what the previous day left,
//! and the day's own close-out empties the room after closing — so a day (or a range of days)
//! is rebuilt exactly by replaying its events on an empty station under the rule in force when it
//! began. Replaying a busy day is a few thousand engine steps: well under 100 ms.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use crate::config::{self, Rules};
use crate::domain::{DistrictId, Event, Recorded, ServiceId, StationId, Ticket};
use crate::engine::history::Sample;
use crate::engine::{Mode, Outcome, Station};

/// The rule in force after `last_change` (the last `rule_changed` before the replayed range).
pub fn rules_at(configured: Rules, last_change: Option<&Recorded>) -> Rules {
    match last_change.map(|r| &r.event) {
        Some(Event::RuleChanged { distancing_m, .. }) => Rules {
            distancing_m: distancing_m.metres(),
            ..configured
        },
        _ => configured,
    }
}

/// Replays `events` on an empty station, calling `visit` after each accepted one.
fn replay(
    config: &Arc<config::Station>,
    rules: &Rules,
    events: &[Recorded],
    mut visit: impl FnMut(&Recorded, &Outcome, &Station),
) -> Station {
    let mut station = Station::new(config.clone(), rules);
    for r in events {
        // Logged events were accepted once; one that no longer applies (a config change since)
        // is skipped here rather than failing the report.
        if let Ok(outcome) = station.apply(&r.event, r.at, Mode::Replay) {
            visit(r, &outcome, &station);
        }
    }
    station
}

/// Headcount, cap and outside queue at every `step` from `from` (inclusive) to `to`
/// (exclusive). `events` must start at the beginning of `from`'s local day.
pub fn series(
    config: &Arc<config::Station>,
    rules: &Rules,
    events: &[Recorded],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step: TimeDelta,
) -> Vec<Sample> {
    // The state after each event, in order.
    let mut changes: Vec<Sample> = Vec::with_capacity(events.len());
    replay(config, rules, events, |r, _, station| {
        changes.push(Sample {
            at: r.at,
            headcount: station.headcount(),
            cap: station.cap(),
            outside: station.outside_tickets().len() as u32,
        });
    });
    let mut current = Sample {
        at: from,
        headcount: 0,
        cap: config.capacity(rules).cap,
        outside: 0,
    };
    let mut applied = changes.iter().peekable();
    let mut points = Vec::new();
    let mut t = from;
    while t < to {
        while let Some(change) = applied.next_if(|c| c.at <= t) {
            current = *change;
        }
        points.push(Sample { at: t, ..current });
        t += step;
    }
    points
}

/// One service's day at one station.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceDay {
    pub service: ServiceId,
    pub name_en: String,
    /// People checked in (party sizes summed).
    pub visitors: u32,
    /// Tickets issued.
    pub parties: u32,
    /// Tickets called to a desk.
    pub called: u32,
    pub no_shows: u32,
    /// Minutes from check-in to call, median and 90th percentile; `null` when nobody was called.
    pub wait_p50_min: Option<f64>,
    pub wait_p90_min: Option<f64>,
}

/// One station's day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StationDay {
    pub station: StationId,
    pub name: String,
    pub district: DistrictId,
    pub date: NaiveDate,
    pub events: u32,
    pub max_occupancy: u32,
    pub minutes_at_cap: f64,
    pub minutes_over_cap: f64,
    pub cleanings: u32,
    pub overrides: u32,
    /// Tickets left at the end of the day and closed out.
    pub closed_out: u32,
    pub services: Vec<ServiceDay>,
}

#[derive(Default)]
struct Tally {
    visitors: u32,
    parties: u32,
    called: u32,
    no_shows: u32,
    waits_s: Vec<i64>,
}

/// The report of one local day, `[start, end)`, counted up to `now` (a day in progress is
/// reported so far).
pub fn day(
    config: &Arc<config::Station>,
    rules: &Rules,
    date: NaiveDate,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
    events: &[Recorded],
) -> StationDay {
    let mut tallies: BTreeMap<ServiceId, Tally> = BTreeMap::new();
    let mut issued: HashMap<Ticket, (ServiceId, DateTime<Utc>)> = HashMap::new();
    let mut report = StationDay {
        station: config.id.clone(),
        name: config.name.clone(),
        district: config.district.clone(),
        date,
        events: 0,
        max_occupancy: 0,
        minutes_at_cap: 0.0,
        minutes_over_cap: 0.0,
        cleanings: 0,
        overrides: 0,
        closed_out: 0,
        services: Vec::new(),
    };
    let until = end.min(now);
    // (since, headcount, cap) of the state in force.
    let mut state = (start, 0u32, config.capacity(rules).cap);
    let close_span = |report: &mut StationDay,
                      (since, headcount, cap): (DateTime<Utc>, u32, u32),
                      to: DateTime<Utc>| {
        let minutes =
            (to.min(until) - since.max(start)).num_milliseconds().max(0) as f64 / 60_000.0;
        if headcount > cap {
            report.minutes_over_cap += minutes;
        } else if headcount == cap && cap > 0 {
            report.minutes_at_cap += minutes;
        }
    };
    replay(config, rules, events, |r, outcome, station| {
        report.events += 1;
        close_span(&mut report, state, r.at);
        state = (r.at, station.headcount(), station.cap());
        report.max_occupancy = report.max_occupancy.max(station.headcount());
        report.closed_out += outcome.closed_out.len() as u32;
        match &r.event {
            Event::CheckIn {
                service,
                party_size,
                ..
            } => {
                let t = tallies.entry(service.clone()).or_default();
                t.visitors += party_size.get();
                t.parties += 1;
                if let Some(ticket) = outcome.ticket {
                    issued.insert(ticket, (service.clone(), r.at));
                }
            }
            Event::Call { .. } => {
                if let Some((service, at)) = outcome.ticket.and_then(|t| issued.get(&t)) {
                    let t = tallies.entry(service.clone()).or_default();
                    t.called += 1;
                    t.waits_s.push((r.at - *at).num_seconds());
                }
            }
            Event::NoShow { ticket } => {
                if let Some((service, _)) = issued.get(ticket) {
                    tallies.entry(service.clone()).or_default().no_shows += 1;
                }
            }
            Event::Cleaned { .. } => report.cleanings += 1,
            Event::Override { .. } => report.overrides += 1,
            _ => {}
        }
    });
    close_span(&mut report, state, until);
    report.minutes_at_cap = round1(report.minutes_at_cap);
    report.minutes_over_cap = round1(report.minutes_over_cap);
    report.services = config
        .services
        .iter()
        .map(|s| {
            let mut t = tallies.remove(&s.id).unwrap_or_default();
            t.waits_s.sort_unstable();
            ServiceDay {
                service: s.id.clone(),
                name_en: s.name_en.clone(),
                visitors: t.visitors,
                parties: t.parties,
                called: t.called,
                no_shows: t.no_shows,
                wait_p50_min: percentile_min(&t.waits_s, 50),
                wait_p90_min: percentile_min(&t.waits_s, 90),
            }
        })
        .collect();
    report
}

/// The nearest-rank percentile of sorted seconds, in minutes to one decimal.
fn percentile_min(sorted_s: &[i64], p: usize) -> Option<f64> {
    if sorted_s.is_empty() {
        return None;
    }
    let rank = (p * sorted_s.len()).div_ceil(100).max(1);
    Some(round1(sorted_s[rank - 1] as f64 / 60.0))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The CSV form of daily reports: one row per station and service (the station's occupancy
/// figures repeated on each of its rows, so every row stands alone in a spreadsheet).
pub fn to_csv(days: &[StationDay]) -> String {
    let mut out = String::from(
        "date,district,station,service,visitors,parties,called,no_shows,wait_p50_min,wait_p90_min,max_occupancy,minutes_at_cap,minutes_over_cap,cleanings,overrides,closed_out\n",
    );
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for d in days {
        for s in &d.services {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                d.date,
                d.district,
                d.station,
                s.service,
                s.visitors,
                s.parties,
                s.called,
                s.no_shows,
                opt(s.wait_p50_min),
                opt(s.wait_p90_min),
                d.max_occupancy,
                d.minutes_at_cap,
                d.minutes_over_cap,
                d.cleanings,
                d.overrides,
                d.closed_out
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_in_minutes() {
        let s: Vec<i64> = (1..=10).map(|m| m * 60).collect();
        assert_eq!(percentile_min(&s, 50), Some(5.0));
        assert_eq!(percentile_min(&s, 90), Some(9.0));
        assert_eq!(percentile_min(&[90], 90), Some(1.5));
        assert_eq!(percentile_min(&[], 50), None);
    }
}
