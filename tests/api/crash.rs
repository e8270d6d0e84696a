//! The crash test: concurrent terminals against the real binary, which is killed with SIGKILL at
//! random moments and restarted, again and again, while the terminals retry every unanswered
//! event with the same Idempotency-Key — as real terminals do. At the end it proves, from the
//! log itself:
//!
//! * every acknowledged event is in the log exactly once (at the seq it was acknowledged with);
//! * the log holds no event that no client sent (its events are exactly the acknowledged ones);
//! * each station's sequence numbers have no gaps;
//! * the live headcounts, inside and outside queues equal those of a pure replay of the log.
//!
//! `LOBBYWATCH_CRASH_ROUNDS` sets how many kills (default 4, for CI); the long run is
//! `LOBBYWATCH_CRASH_ROUNDS=200 cargo test --release --test api crash -- --nocapture`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lobbywatch::audit::{Acknowledged, LoggedEvents, audit};
use lobbywatch::config::Config;
use lobbywatch::domain::Recorded;
use lobbywatch::domain::status::{INSIDE_LISTED, OUTSIDE_LISTED};
use lobbywatch::engine::{Mode, Station};
use lobbywatch::store::{OpenLog, StoreOptions};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::helpers::{ServerProcess, event_request, status_at, test_config_toml};

/// The three stations and their terminals' tokens.
pub(crate) const TERMINALS: [(&str, &str); 3] = [
    ("small", "small-desk-token"),
    ("big", "big-desk-token"),
    ("bergen", "bergen-desk-token"),
];

/// One acknowledged event: the station, the kind sent, and the seq the service answered with.
#[derive(Debug, Clone)]
pub(crate) struct Acked {
    pub(crate) station: &'static str,
    pub(crate) kind: String,
    pub(crate) seq: u64,
}

impl Acked {
    /// As the audit reads it.
    pub(crate) fn acknowledged(&self) -> Acknowledged<'_> {
        Acknowledged {
            station: self.station,
            seq: self.seq,
            kind: &self.kind,
        }
    }
}

/// Sends `body` to `station` with `key` until an instance answers (any HTTP status), retrying
/// through every crash. Starts at `bases[*at]` and, whenever that instance does not answer (or
/// answers "not now"), moves on to the next one — with one instance, tries it again. Returns the
/// status and body.
pub(crate) async fn send_until_answered(
    client: &reqwest::Client,
    bases: &[String],
    at: &mut usize,
    station: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> (u16, Value) {
    loop {
        let base = &bases[*at % bases.len()];
        let sent = event_request(client, base, token, station, key, body)
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if let Ok(r) = sent {
            let status = r.status().as_u16();
            let answer: Value = r.json().await.unwrap_or(Value::Null);
            // A 5xx, or the same key still in flight, is not an answer yet: retry with the key.
            let undecided =
                status >= 500 || (status == 409 && answer["type"] == "/problems/request-in-flight");
            if !undecided {
                return (status, answer);
            }
        }
        *at += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A front desk: check-ins, calls, check-outs of called tickets, some no-shows. Each new event
/// goes to the next of `bases` in turn (one instance: always that one).
pub(crate) async fn terminal(
    bases: Arc<[String]>,
    station: &'static str,
    token: &'static str,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> Vec<Acked> {
    let client = reqwest::Client::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut called: Vec<String> = Vec::new();
    let mut acked = Vec::new();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let body = match rng.random_range(0..10) {
            0..4 => {
                json!({"kind": "check_in", "service": "passport", "party_size": rng.random_range(1..=2)})
            }
            4..6 => json!({"kind": "call", "desk": format!("{}", rng.random_range(1..=3))}),
            6..9 if !called.is_empty() => {
                let ticket = called.remove(rng.random_range(0..called.len()));
                json!({"kind": "check_out", "ticket": ticket})
            }
            _ if !called.is_empty() => {
                let ticket = called.remove(0);
                json!({"kind": "no_show", "ticket": ticket})
            }
            _ => json!({"kind": "cleaned", "surface": "counter"}),
        };
        let key = format!("{station}-{seed}-{n}");
        let mut at = (seed + n) as usize;
        let (status, answer) =
            send_until_answered(&client, &bases, &mut at, station, token, &key, &body).await;
        if status == 201 {
            if body["kind"] == "call" {
                called.push(answer["ticket"].as_str().unwrap().to_owned());
            }
            acked.push(Acked {
                station,
                kind: body["kind"].as_str().unwrap().to_owned(),
                seq: answer["seq"].as_u64().unwrap(),
            });
        }
    }
    acked
}

/// The test config with a rate limit no terminal reaches (retries through a crash are fast).
pub(crate) fn crash_config_toml() -> String {
    format!(
        "{}\n[limits]\nevents_per_minute_per_device = 1000000\n",
        test_config_toml()
    )
}

fn crash_config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("crash.toml");
    std::fs::write(&path, crash_config_toml()).unwrap();
    path
}

/// `station` replayed from empty through the engine, from `events` (its whole log, in order).
pub(crate) fn replayed(config: &Config, station: &str, events: &[Recorded]) -> Station {
    let station_config = config
        .stations
        .iter()
        .find(|s| s.id.as_str() == station)
        .unwrap();
    let mut engine = Station::new(Arc::new(station_config.clone()), &config.rules);
    for r in events {
        engine
            .apply(&r.event, r.at, Mode::Replay)
            .expect("the log replays");
    }
    engine
}

/// Asserts that `doc`, a station's full status as the service shows it, is what `engine` (a pure
/// replay of its log) shows: seq, headcount, the inside and outside queues.
pub(crate) fn assert_shows_replay(doc: &Value, engine: &Station, station: &str) {
    assert_eq!(doc["seq"].as_u64().unwrap(), engine.seq(), "{station}");
    assert_eq!(
        doc["headcount"].as_u64().unwrap(),
        u64::from(engine.headcount()),
        "{station}"
    );
    let outside: Vec<String> = doc["outside"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ticket"].as_str().unwrap().to_owned())
        .collect();
    let replay_outside: Vec<String> = engine
        .outside_tickets()
        .iter()
        .map(|t| t.to_string())
        .collect();
    // A document lists the head of the queue and counts all of it (a long run queues more).
    let listed = replay_outside.len().min(OUTSIDE_LISTED);
    assert_eq!(outside, replay_outside[..listed], "{station}");
    assert_eq!(
        doc["outside_total"].as_u64().unwrap(),
        replay_outside.len() as u64,
        "{station}"
    );
    let mut inside: Vec<String> = doc["inside"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|p| p["ticket"].as_str().unwrap().to_owned())
        })
        .collect();
    inside.sort();
    let mut replay_inside: Vec<String> = engine
        .inside_tickets()
        .iter()
        .map(|t| t.to_string())
        .collect();
    replay_inside.sort();
    assert_eq!(
        doc["inside_total"].as_u64().unwrap(),
        replay_inside.len() as u64,
        "{station}"
    );
    if replay_inside.len() <= INSIDE_LISTED {
        assert_eq!(inside, replay_inside, "{station}");
    }
}

#[tokio::test]
async fn killed_at_random_moments_the_service_loses_nothing_and_invents_nothing() {
    if crate::backend::sqlite_only(
        "killed_at_random_moments_the_service_loses_nothing_and_invents_nothing",
    ) {
        return;
    }
    let rounds: usize = std::env::var("LOBBYWATCH_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(4);
    let dir = tempfile::tempdir().unwrap();
    let config_path = crash_config(dir.path());
    let data = dir.path().join("data");
    let mut server = ServerProcess::start(&config_path, &data);
    let base = server.base.clone();
    let listen = base.trim_start_matches("http://").to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let bases: Arc<[String]> = Arc::from([base.clone()]);
    let desks: Vec<_> = TERMINALS
        .iter()
        .enumerate()
        .map(|(i, (station, token))| {
            tokio::spawn(terminal(
                bases.clone(),
                station,
                token,
                i as u64,
                stop.clone(),
            ))
        })
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    for _ in 0..rounds {
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..400))).await;
        server.kill9();
        server = ServerProcess::start_on(&config_path, &data, &listen);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked: Vec<Acked> = Vec::new();
    for d in desks {
        acked.extend(d.await.unwrap());
    }
    assert!(
        acked.len() > rounds,
        "the terminals worked ({} acknowledged)",
        acked.len()
    );

    // What the service shows now.
    let client = reqwest::Client::new();
    let mut shown: HashMap<&str, Value> = HashMap::new();
    for (station, _) in TERMINALS {
        shown.insert(station, status_at(&client, &base, station).await);
    }
    server.kill9();

    // The log itself, read the way start-up reads it: exactly the acknowledged events, at their
    // seqs, without holes.
    let config = Config::load(&config_path).unwrap();
    let log = OpenLog::open(&data, StoreOptions::default()).unwrap();
    let acknowledged: Vec<Acknowledged<'_>> = acked.iter().map(Acked::acknowledged).collect();
    let found = audit(&log, TERMINALS.iter().map(|(s, _)| *s), &acknowledged).unwrap();
    assert!(
        found.is_clean(),
        "the log disagrees with the acknowledgements: {found:#?}"
    );
    // And replayed from empty, it gives what the service shows.
    for (station, _) in TERMINALS {
        let events = log.events_of(station).unwrap();
        assert_shows_replay(
            &shown[station],
            &replayed(&config, station, &events),
            station,
        );
    }
    eprintln!(
        "crash test: {rounds} kills, {} acknowledged events, all present exactly once",
        acked.len()
    );
}
