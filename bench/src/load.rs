//! The HTTP load driver: front desks posting check-ins and check-outs, in a closed loop (every
//! connection sends its next event as soon as the last is answered — throughput) or an open loop
//! (events at a fixed rate whatever the answers do — latency, measured from when each event was
//! due, so a stall counts against every event it delayed).
//!
//! Each station's desk keeps [`KEEP_INSIDE`] parties in the room: it checks a party in, and once
//! the room holds that many it checks the earliest out. Every request carries its own
//! Idempotency-Key and is retried with that same key until it is answered — through refused
//! connections, 503s and even a killed and restarted service — which is what makes the S7 crash
//! check possible and what real terminals do.
//!
//! On a shared log the load can be spread over several [`Instances`]: each client starts at an
//! instance of its own, and with failover a terminal retries the same key at the next instance
//! when one fails (P4).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::client::{Answer, Conn};
use super::fixture::KEEP_INSIDE;

/// A retried request gives up after this long without an answer (the run is then broken, and
/// says so in its failure count).
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);
/// Pause between retries of an unanswered request.
const RETRY_PAUSE: Duration = Duration::from_millis(20);

/// The desks of every station, and the model of who is inside each room.
pub struct Desks {
    desks: Vec<Mutex<Desk>>,
    next_key: AtomicU64,
    run: String,
    /// 503 answers (retried): a database that could not be reached, or contention.
    unavailable: AtomicU64,
    /// Of those, "other instances are writing this station faster than this one can catch up".
    contended: AtomicU64,
}

/// The instances of one shared log a load is spread over, and what a terminal does when one
/// fails.
#[derive(Debug, Clone)]
pub struct Instances {
    pub addrs: Vec<SocketAddr>,
    /// `Some(limit)`: an attempt that fails — refused, broken, a 5xx, or unanswered within
    /// `limit` — is retried at the next instance. `None`: retried where it was sent.
    pub failover: Option<Duration>,
    /// Each station's desk sends through one instance only (`false`: through several).
    pub split_stations: bool,
}

impl Instances {
    /// The instance client `client` of a closed loop over `desks` desks sends to first. Desk
    /// `d`'s clients are `d, d + desks, …` (or client `d % clients` when there are fewer clients
    /// than desks): split, they all start at instance `d % n`; otherwise consecutive clients
    /// alternate and the clients of a desk start at different instances, so every station is
    /// written through more than one.
    pub fn home(&self, client: usize, desks: usize) -> usize {
        let desks = desks.max(1);
        let spread = if self.split_stations {
            client % desks
        } else {
            client + client / desks
        };
        spread % self.addrs.len().max(1)
    }
}

struct Desk {
    path: String,
    token: String,
    inside: VecDeque<String>,
    outside: VecDeque<String>,
}

/// One event a desk is about to send.
#[derive(Debug, Clone)]
pub struct Planned {
    pub desk: usize,
    pub key: String,
    pub kind: &'static str,
    pub body: Bytes,
}

/// An event the service acknowledged (201), and the seq it was given.
#[derive(Debug, Clone)]
pub struct Acked {
    pub desk: usize,
    pub seq: u64,
    pub kind: &'static str,
}

/// The parts of an event's answer the desk model needs.
#[derive(Deserialize)]
struct OutcomeView {
    seq: u64,
    #[serde(default)]
    ticket: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    admitted: Vec<String>,
    #[serde(default)]
    closed_out: Vec<String>,
}

impl Desks {
    /// A desk per `(station, terminal token)`; `run` makes this run's Idempotency-Keys unique.
    pub fn new(terminals: &[(String, String)], run: &str) -> Arc<Desks> {
        Arc::new(Desks {
            desks: terminals
                .iter()
                .map(|(station, token)| {
                    Mutex::new(Desk {
                        path: format!("/api/v1/stations/{station}/events"),
                        token: token.clone(),
                        inside: VecDeque::new(),
                        outside: VecDeque::new(),
                    })
                })
                .collect(),
            next_key: AtomicU64::new(1),
            run: run.to_owned(),
            unavailable: AtomicU64::new(0),
            contended: AtomicU64::new(0),
        })
    }

    pub fn len(&self) -> usize {
        self.desks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.desks.is_empty()
    }

    /// 503 answers so far (each retried), and how many of them said the station was contended.
    pub fn unavailable(&self) -> (u64, u64) {
        (
            self.unavailable.load(Ordering::Relaxed),
            self.contended.load(Ordering::Relaxed),
        )
    }

    /// The next event of desk `desk`: a no-show for a party queued outside (never expected with
    /// the bench site's cap), a check-out of the earliest party once the room is full enough, or
    /// a check-in. A ticket leaves the model when its event is planned, so two requests in
    /// flight never name the same ticket.
    pub fn plan(&self, desk: usize) -> Planned {
        let mut d = self.desks[desk].lock().expect("desk lock");
        let (kind, body) = if let Some(ticket) = d.outside.pop_front() {
            (
                "no_show",
                format!(r#"{{"kind":"no_show","ticket":"{ticket}"}}"#),
            )
        } else if d.inside.len() >= KEEP_INSIDE {
            let ticket = d.inside.pop_front().expect("not empty");
            (
                "check_out",
                format!(r#"{{"kind":"check_out","ticket":"{ticket}"}}"#),
            )
        } else {
            (
                "check_in",
                r#"{"kind":"check_in","service":"passport","party_size":1}"#.to_owned(),
            )
        };
        let n = self.next_key.fetch_add(1, Ordering::Relaxed);
        Planned {
            desk,
            key: format!("{}-{n}", self.run),
            kind,
            body: Bytes::from(body),
        }
    }

    /// Takes an answer into the desk's model; returns the acknowledgement for a 201.
    pub fn absorb(&self, planned: &Planned, answer: &Answer) -> Option<Acked> {
        if answer.status != 201 {
            return None;
        }
        let outcome: OutcomeView = serde_json::from_slice(&answer.body).ok()?;
        let mut d = self.desks[planned.desk].lock().expect("desk lock");
        for gone in &outcome.closed_out {
            d.inside.retain(|t| t != gone);
            d.outside.retain(|t| t != gone);
        }
        for admitted in outcome.admitted {
            d.outside.retain(|t| *t != admitted);
            d.inside.push_back(admitted);
        }
        if planned.kind == "check_in" {
            if let Some(ticket) = outcome.ticket {
                match outcome.state.as_deref() {
                    Some("outside") => d.outside.push_back(ticket),
                    _ => d.inside.push_back(ticket),
                }
            }
        }
        Some(Acked {
            desk: planned.desk,
            seq: outcome.seq,
            kind: planned.kind,
        })
    }

    /// Sends `planned` on `conn` (opening a connection when there is none) until it is answered:
    /// a refused connection, a broken one, a 5xx or "the same key is still in flight" is retried
    /// with the same key. `None` when no answer came within [`GIVE_UP_AFTER`].
    pub async fn send_until_answered(
        &self,
        addr: SocketAddr,
        conn: &mut Option<Conn>,
        planned: &Planned,
        retries: &mut u64,
    ) -> Option<Answer> {
        let one = [addr];
        self.send_to(&one, None, 0, std::slice::from_mut(conn), planned, retries)
            .await
    }

    /// [`Desks::send_until_answered`] over several instances: the first attempt goes to
    /// `addrs[home]` on `conns[home]`; with `failover`, each failed attempt moves on to the next.
    pub async fn send_to(
        &self,
        addrs: &[SocketAddr],
        failover: Option<Duration>,
        home: usize,
        conns: &mut [Option<Conn>],
        planned: &Planned,
        retries: &mut u64,
    ) -> Option<Answer> {
        let (path, token) = {
            let d = self.desks[planned.desk].lock().expect("desk lock");
            (d.path.clone(), d.token.clone())
        };
        let started = Instant::now();
        let mut at = home;
        loop {
            let conn = &mut conns[at];
            if conn.is_none() {
                *conn = Conn::open(addrs[at]).await.ok();
            }
            if let Some(c) = conn.as_mut() {
                let sent = c.post_event(&path, &token, &planned.key, planned.body.clone());
                let answer = match failover {
                    Some(limit) => tokio::time::timeout(limit, sent)
                        .await
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer in time"))),
                    None => sent.await,
                };
                match answer {
                    Ok(answer) if !self.undecided(&answer) => return Some(answer),
                    Ok(_) => {}
                    Err(_) => *conn = None,
                }
            }
            if started.elapsed() > GIVE_UP_AFTER {
                return None;
            }
            *retries += 1;
            if failover.is_some() {
                at = (at + 1) % addrs.len();
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }

    /// A 5xx, or 409 "this key is still in flight": not an answer yet, retry with the same key.
    /// 503s are counted.
    fn undecided(&self, answer: &Answer) -> bool {
        let says = |what: &[u8]| answer.body.windows(what.len()).any(|w| w == what);
        if answer.status == 503 {
            self.unavailable.fetch_add(1, Ordering::Relaxed);
            if says(b"other instances are writing") {
                self.contended.fetch_add(1, Ordering::Relaxed);
            }
        }
        answer.status >= 500 || (answer.status == 409 && says(b"request-in-flight"))
    }
}

/// What one load run did.
pub struct Run {
    /// Events answered 201.
    pub accepted: u64,
    /// Events answered with anything else, or never answered.
    pub failed: u64,
    /// Sends that had to be repeated (broken connections, 503s).
    pub retries: u64,
    pub elapsed: Duration,
    /// Latency per event in microseconds (from its due time, in an open loop).
    pub latency: Histogram<u64>,
    /// Every acknowledged event, when asked to keep them.
    pub acked: Vec<Acked>,
}

impl Run {
    fn new() -> Run {
        Run {
            accepted: 0,
            failed: 0,
            retries: 0,
            elapsed: Duration::ZERO,
            latency: latency_histogram(),
            acked: Vec::new(),
        }
    }

    fn merge(&mut self, other: Run) {
        self.accepted += other.accepted;
        self.failed += other.failed;
        self.retries += other.retries;
        self.latency.add(&other.latency).expect("same bounds");
        self.acked.extend(other.acked);
    }

    fn record(&mut self, desks: &Desks, planned: &Planned, answer: Option<Answer>, since: Instant) {
        let acked = answer.as_ref().and_then(|a| desks.absorb(planned, a));
        let _ = self.latency.record(micros(since.elapsed()));
        match acked {
            Some(a) => {
                self.accepted += 1;
                self.acked.push(a);
            }
            None => self.failed += 1,
        }
    }

    /// Events per second over the run.
    pub fn rate(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A histogram of microseconds from 1 µs to 100 s, three significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("valid bounds")
}

pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// `connections` clients, each on its own keep-alive connection and each serving the desks
/// `i, i + connections, …` in turn, send events back to back for `duration`.
pub async fn closed_loop(
    addr: SocketAddr,
    desks: Arc<Desks>,
    connections: usize,
    duration: Duration,
) -> Run {
    let one = Instances {
        addrs: vec![addr],
        failover: None,
        split_stations: false,
    };
    closed_loop_on(&one, desks, connections, duration).await
}

/// [`closed_loop`] spread over `instances`: client `i` starts each event at its
/// [`Instances::home`], with a keep-alive connection to each instance it uses.
pub async fn closed_loop_on(
    instances: &Instances,
    desks: Arc<Desks>,
    connections: usize,
    duration: Duration,
) -> Run {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|i| {
            let desks = desks.clone();
            let home = instances.home(i, desks.len());
            let (addrs, failover) = (instances.addrs.clone(), instances.failover);
            tokio::spawn(async move {
                let mut run = Run::new();
                let mut conns: Vec<Option<Conn>> = addrs.iter().map(|_| None).collect();
                let mine: Vec<usize> = (i..desks.len()).step_by(connections.max(1)).collect();
                let mine = if mine.is_empty() {
                    vec![i % desks.len()]
                } else {
                    mine
                };
                let mut turn = 0;
                while Instant::now() < deadline {
                    let planned = desks.plan(mine[turn % mine.len()]);
                    turn += 1;
                    let sent = Instant::now();
                    let answer = desks
                        .send_to(
                            &addrs,
                            failover,
                            home,
                            &mut conns,
                            &planned,
                            &mut run.retries,
                        )
                        .await;
                    run.record(&desks, &planned, answer, sent);
                }
                run
            })
        })
        .collect();
    let mut total = Run::new();
    for t in tasks {
        if let Ok(run) = t.await {
            total.merge(run);
        }
    }
    total.elapsed = started.elapsed();
    total
}

/// Events at `rate` per second for `duration`, round-robin over the desks, each sent on the
/// first free one of `connections` keep-alive connections. Latency counts from the moment the
/// event was due, so time spent waiting for a free connection is part of it.
pub async fn open_loop(
    addr: SocketAddr,
    desks: Arc<Desks>,
    rate: f64,
    duration: Duration,
    connections: usize,
) -> Run {
    let (free_tx, mut free_rx) = mpsc::channel::<(Option<Conn>, Run)>(connections);
    for _ in 0..connections {
        let conn = Conn::open(addr).await.ok();
        free_tx
            .send((conn, Run::new()))
            .await
            .expect("room for every connection");
    }
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let started = Instant::now();
    let count = (duration.as_secs_f64() * rate).round() as u64;
    for i in 0..count {
        let due = started + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let Some((mut conn, mut run)) = free_rx.recv().await else {
            break;
        };
        let desks = desks.clone();
        let free_tx = free_tx.clone();
        let planned = desks.plan(i as usize % desks.len());
        tokio::spawn(async move {
            let answer = desks
                .send_until_answered(addr, &mut conn, &planned, &mut run.retries)
                .await;
            run.record(&desks, &planned, answer, due);
            let _ = free_tx.send((conn, run)).await;
        });
    }
    let mut total = Run::new();
    for _ in 0..connections {
        if let Some((_, run)) = free_rx.recv().await {
            total.merge(run);
        }
    }
    total.elapsed = started.elapsed();
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two(split_stations: bool) -> Instances {
        Instances {
            addrs: vec![
                "127.0.0.1:1".parse().unwrap(),
                "127.0.0.1:2".parse().unwrap(),
            ],
            failover: None,
            split_stations,
        }
    }

    /// S1's 128 clients over 64 desks, spread over two instances: each instance gets half the
    /// clients, and each desk's two clients start at different instances.
    #[test]
    fn the_clients_of_a_desk_start_at_different_instances() {
        let homes: Vec<usize> = (0..128).map(|i| two(false).home(i, 64)).collect();
        assert_eq!(homes.iter().filter(|&&h| h == 0).count(), 64);
        for desk in 0..64 {
            assert_ne!(homes[desk], homes[desk + 64], "desk {desk}");
        }
    }

    /// Split, each instance still gets half the clients, but each desk only one instance.
    #[test]
    fn split_the_clients_of_a_desk_start_at_the_same_instance() {
        let homes: Vec<usize> = (0..128).map(|i| two(true).home(i, 64)).collect();
        assert_eq!(homes.iter().filter(|&&h| h == 0).count(), 64);
        for desk in 0..64 {
            assert_eq!(homes[desk], homes[desk + 64], "desk {desk}");
        }
    }
}
