//! S6: how long the service takes from start to a ready `/healthz` with a large log. The log is
//! written the way the running service writes it — the engine applies each event, the writer
//! commits it in groups with its idempotency record and, every `snapshot_every` events of a
//! station, the station's snapshot — only much faster, since no client waits on each event.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};

use super::fixture::KEEP_INSIDE;
use lobbywatch::config::{self, Config, Rules};
use lobbywatch::domain::{DeviceId, Event, Recorded, Ticket};
use lobbywatch::engine::{Mode, Outcome, Station};
use lobbywatch::idempotency::{IdempotencyRecord, fingerprint};
use lobbywatch::store::sqlite::Store;
use lobbywatch::store::{OpenLog, Record, StoreOptions};

/// Records handed to the writer before waiting for their acknowledgements.
const BATCH: usize = 4096;

/// Writes `events` check-ins and check-outs, spread evenly over the stations of `config` and
/// over the hour that ends `ago` before now, into a new log in `data`, with snapshots every
/// `snapshot_every` events of a station (`None`: no snapshots, as an old log or a long tail
/// would be).
pub fn write_log(
    config: &Config,
    data: &Path,
    events: u64,
    snapshot_every: Option<u64>,
    ago: TimeDelta,
) -> anyhow::Result<()> {
    let log = OpenLog::open(
        data,
        StoreOptions {
            max_pages: None,
            snapshot_every: Some(snapshot_every.unwrap_or(u64::MAX)),
            ..StoreOptions::default()
        },
    )?;
    let store = log.start_writer()?;
    let mut desks: Vec<Desk> = config
        .stations
        .iter()
        .map(|s| Desk::new(s, &config.rules))
        .collect();
    anyhow::ensure!(!desks.is_empty(), "the config has no stations");
    let start = Utc::now() - ago - TimeDelta::hours(1);
    let step = TimeDelta::microseconds(3_600_000_000 / i64::try_from(events.max(1))?);
    let mut acks = Vec::with_capacity(BATCH);
    for i in 0..events {
        let n = desks.len();
        let desk = &mut desks[usize::try_from(i)? % n];
        let at = start + step * i32::try_from(i).unwrap_or(i32::MAX);
        let body = desk.next_body();
        let event: Event = serde_json::from_value(body.clone())?;
        let Some(outcome) = desk.apply(&event, at) else {
            continue;
        };
        let accepted = Accepted {
            key: format!("gen-{i}"),
            body,
            event,
            outcome,
            at,
        };
        acks.push(store.submit(desk.record(&store, accepted)?));
        if acks.len() == BATCH {
            wait_all(&mut acks)?;
        }
    }
    wait_all(&mut acks)?;
    Ok(())
}

/// One station's front desk as the generator drives it: the station's engine, the device it
/// posts as, and the tickets inside, oldest first.
struct Desk {
    engine: Station,
    device: DeviceId,
    inside: VecDeque<Ticket>,
}

/// An event the engine accepted, with what its record needs besides the desk.
struct Accepted {
    /// Its Idempotency-Key.
    key: String,
    /// The body as posted.
    body: serde_json::Value,
    event: Event,
    outcome: Outcome,
    at: DateTime<Utc>,
}

impl Desk {
    fn new(station: &config::Station, rules: &Rules) -> Desk {
        Desk {
            engine: Station::new(Arc::new(station.clone()), rules),
            device: DeviceId::parse(&format!("{}-desk", station.id)).expect("a valid device id"),
            inside: VecDeque::new(),
        }
    }

    /// The next event's body: once [`KEEP_INSIDE`] are inside, the earliest checks out;
    /// until then, someone checks in.
    fn next_body(&self) -> serde_json::Value {
        match self.inside.front() {
            Some(ticket) if self.inside.len() >= KEEP_INSIDE => {
                serde_json::json!({"kind": "check_out", "ticket": ticket.to_string()})
            }
            _ => serde_json::json!({"kind": "check_in", "service": "passport", "party_size": 1}),
        }
    }

    /// Applies `event` live at `at` and keeps the tickets inside in step with the engine;
    /// `None` when it was refused.
    fn apply(&mut self, event: &Event, at: DateTime<Utc>) -> Option<Outcome> {
        let Ok(outcome) = self.engine.apply(event, at, Mode::Live) else {
            // A day boundary closed the room out: start the desk's model again.
            self.inside.clear();
            return None;
        };
        if matches!(event, Event::CheckOut { .. }) {
            self.inside.pop_front();
        }
        for gone in &outcome.closed_out {
            self.inside.retain(|t| t != gone);
        }
        if let (Event::CheckIn { .. }, Some(ticket)) = (event, outcome.ticket) {
            self.inside.push_back(ticket);
        }
        Some(outcome)
    }

    /// What the service's writer logs for `accepted`: the event, its idempotent answer and,
    /// when due, the station's snapshot.
    fn record(&self, store: &Store, accepted: Accepted) -> anyhow::Result<Record> {
        let Accepted {
            key,
            body,
            event,
            outcome,
            at,
        } = accepted;
        let station_id = self.engine.config().id.clone();
        let seq = outcome.seq;
        Ok(Record {
            idempotency: Some(IdempotencyRecord {
                device: self.device.clone(),
                key,
                fingerprint: fingerprint(&station_id, &body),
                status: 201,
                body: Bytes::from(serde_json::to_vec(&outcome)?),
                at,
            }),
            snapshot: store
                .snapshot_due(seq)
                .then(|| (station_id.clone(), Box::new(self.engine.snapshot()))),
            webhooks: Vec::new(),
            event: Some(Recorded {
                station: station_id,
                seq,
                at,
                device: self.device.clone(),
                event,
            }),
        })
    }
}

fn wait_all(
    acks: &mut Vec<tokio::sync::oneshot::Receiver<Result<(), lobbywatch::store::StoreError>>>,
) -> anyhow::Result<()> {
    for ack in acks.drain(..) {
        ack.blocking_recv()
            .context("the log writer stopped")?
            .context("writing the generated log")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn a_generated_log_replays_to_every_event_with_snapshots_where_due() {
        let site = fixture::site(3);
        let config = Config::parse(&site.toml, "bench.toml").unwrap();
        let dir = tempfile::tempdir().unwrap();
        write_log(&config, dir.path(), 300, Some(40), TimeDelta::zero()).unwrap();
        let log = OpenLog::open(dir.path(), StoreOptions::default()).unwrap();
        let mut total = 0;
        for s in &config.stations {
            let mut engine = Station::new(Arc::new(s.clone()), &config.rules);
            total += log
                .replay(s.id.as_str(), 0, |r| {
                    assert_eq!(r.seq, engine.seq() + 1);
                    engine.apply(&r.event, r.at, Mode::Replay).unwrap();
                    Ok(())
                })
                .unwrap();
            assert_eq!(engine.headcount() as usize, KEEP_INSIDE);
        }
        assert_eq!(total, 300);
        let snapshots = log.snapshots().unwrap();
        assert_eq!(
            snapshots.len(),
            3,
            "100 events a station, a snapshot every 40"
        );
        assert!(snapshots.iter().all(|(_, s)| s.seq() == 80));
    }
}
