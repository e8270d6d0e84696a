//! The demo's simulated front desks: real HTTP clients with real tokens driving the real API.
//!
//! Each station gets one task playing its terminals and desks: parties arrive at a rate that
//! swells above what the desks can serve and ebbs below it over a ten-minute cycle (so rooms
//! fill, queues form outside — sometimes long enough to raise a gathering alert — and drain
//! again), each open desk calls the next ticket, serves it for a while and checks it out, a few
//! called tickets never come (no-show), and a cleaner answers the cleaning-due alerts a little
//! while after they are raised. Where a station takes joins before arriving, some visitors join
//! from afar through the public join route instead, and some told to wait outside say on their
//! ticket's page that they wait elsewhere (the ticket route, with the link's code); they wait
//! elsewhere, and most arrive a little
//! while after they are asked in (the desk marks them arrived); a few never come, and the
//! service's clock drops them. At start one join is made for the operator, whose ticket link is
//! printed to follow on a phone. Booked visitors come too, pushed by the national booking
//! system's integration and checked in at the terminal (`sim/bookings.rs`). Nothing here touches
//! the engine directly: if the demo looks right, the API works.

mod bookings;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::{self, Config, Role, Scope};

/// Starts one simulated front desk per station.
pub fn spawn(base_url: String, config: Arc<Config>, shutdown: CancellationToken) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("building the HTTP client");
    if let Some(station) = config.stations.iter().find(|s| s.remote.join) {
        let url = format!("{base_url}/api/v1/stations/{}", station.id);
        tokio::spawn(print_a_ticket_link(client.clone(), base_url.clone(), url));
    }
    bookings::spawn(&client, &base_url, &config, &shutdown);
    for (i, station) in config.stations.iter().enumerate() {
        let Some(token) = terminal_token(&config, station) else {
            continue;
        };
        let desk = FrontDesk {
            client: client.clone(),
            url: format!("{base_url}/api/v1/stations/{}", station.id),
            away: HashSet::new(),
            never_coming: HashSet::new(),
            token,
            rng: StdRng::seed_from_u64(i as u64 * 7919 + 17),
            desks: (1..=desk_count(station, &config))
                .map(|d| (d.to_string(), Desk::Idle))
                .collect(),
            phase: i as f64 * 0.37,
        };
        let shutdown = shutdown.clone();
        tokio::spawn(async move { desk.run(shutdown).await });
    }
}

/// Joins the first service that takes joins at the station at `url` and prints its ticket link
/// on stdout, with the other demo URLs: the operator opens it on a phone to watch a ticket move.
/// Printing a capability to the operator's own terminal is the point here; it is never logged.
async fn print_a_ticket_link(client: reqwest::Client, base_url: String, url: String) {
    let Ok(status) = client.get(format!("{url}/public")).send().await else {
        return;
    };
    let Ok(status) = status.json::<Value>().await else {
        return;
    };
    let joinable = status["services"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["joinable"] == Value::Bool(true))
        .and_then(|s| s["id"].as_str());
    let Some(service) = joinable else {
        println!("  (no service takes joins before arriving now, so no ticket link to follow)");
        return;
    };
    let Some(answer) = join(&client, &url, service, 1).await else {
        return;
    };
    if let (Some(ticket), Some(path)) = (
        answer["ticket"].as_str(),
        answer["ticket_link"]["url"].as_str(),
    ) {
        println!(
            "  your ticket      {base_url}{path}   ({ticket}, joined from afar: open it on a phone)"
        );
    }
}

/// Joins `service`'s queue at the station at `url` through the public route (no token).
async fn join(
    client: &reqwest::Client,
    url: &str,
    service: &str,
    party_size: u32,
) -> Option<Value> {
    let answer = client
        .post(format!("{url}/join"))
        .json(&json!({"service": service, "party_size": party_size}))
        .send()
        .await
        .ok()?;
    if !answer.status().is_success() {
        tracing::debug!(status = %answer.status(), "simulated join refused");
        return None;
    }
    answer.json().await.ok()
}

/// The station's terminal signs in with its public demo token (see config/sample.toml).
fn terminal_token(config: &Config, station: &config::Station) -> Option<String> {
    config
        .devices
        .iter()
        .find(|d| d.role == Role::Terminal && d.scope == Scope::Station(station.id.clone()))
        .map(|d| config::demo_token(&d.id))
}

/// Bigger rooms have more desks.
fn desk_count(station: &config::Station, config: &Config) -> usize {
    match station.capacity(&config.rules).cap {
        0..=6 => 1,
        7..=14 => 2,
        _ => 3,
    }
}

enum Desk {
    Idle,
    Serving {
        ticket: String,
        until: Instant,
        no_show: bool,
    },
}

struct FrontDesk {
    client: reqwest::Client,
    url: String,
    token: String,
    /// Tickets this desk's visitors joined from afar and that have not arrived yet.
    away: HashSet<String>,
    /// Of those, the ones that will never come (the service's clock drops them).
    never_coming: HashSet<String>,
    rng: StdRng,
    desks: Vec<(String, Desk)>,
    /// Offsets this station's arrival cycle from the others'.
    phase: f64,
}

impl FrontDesk {
    async fn run(mut self, shutdown: CancellationToken) {
        let started = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut last_look = Instant::now();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let minutes = started.elapsed().as_secs_f64() / 60.0;
            // A desk serves about one party every 25 s (a call, 10–35 s at the desk). Arrivals
            // swing between 60 % and 140 % of that over ten minutes: queues build, then drain.
            let capacity_per_s = self.desks.len() as f64 / 25.0;
            let load = 1.0 + 0.4 * (std::f64::consts::TAU * minutes / 10.0 + self.phase).sin();
            if self
                .rng
                .random_bool((capacity_per_s * load).clamp(0.0, 1.0))
            {
                self.arrive().await;
            }
            self.work_desks().await;
            if last_look.elapsed() > Duration::from_secs(20) {
                last_look = Instant::now();
                self.answer_cleaning_alerts().await;
            }
            if !self.away.is_empty() && self.rng.random_bool(0.2) {
                self.remote_parties_arrive().await;
            }
        }
    }

    /// The cleaner: a surface whose cleaning-due alert has been up for a couple of minutes gets
    /// cleaned (so the demo shows alerts being raised and cleared).
    async fn answer_cleaning_alerts(&mut self) {
        let Some(status) = self.status().await else {
            return;
        };
        let due: Vec<String> = status["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["kind"] == "cleaning_due" && a["state"] != "cleared")
            .filter(|a| {
                a["since"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .zip(
                        status["as_of"]
                            .as_str()
                            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()),
                    )
                    .is_some_and(|(since, now)| (now - since).num_seconds() >= 120)
            })
            .filter_map(|a| a["surface"].as_str().map(str::to_owned))
            .collect();
        for surface in due {
            self.post(json!({"kind": "cleaned", "surface": surface}))
                .await;
        }
    }

    async fn arrive(&mut self) {
        let Some(status) = self.status().await else {
            return;
        };
        let open: Vec<String> = status["services"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["open"] == Value::Bool(true))
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect();
        if open.is_empty() {
            return;
        }
        let service = &open[self.rng.random_range(0..open.len())];
        let party_size = match self.rng.random_range(0..100) {
            0..80 => 1,
            80..95 => 2,
            _ => 3,
        };
        let joinable = status["services"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["id"] == service.as_str() && s["joinable"] == Value::Bool(true));
        if joinable && self.rng.random_bool(0.25) {
            self.join_from_afar(service, party_size).await;
            return;
        }
        let mut event = json!({"kind": "check_in", "service": service, "party_size": party_size});
        if self.rng.random_bool(0.3) {
            event["appointment"] = json!(format!("BK-{:06}", self.rng.random_range(0..1_000_000)));
        }
        let Some(answer) = self.post(event).await else {
            return;
        };
        // Some of those told to wait outside would rather wait in the café: their ticket's page
        // says so, and they come back when asked in, like those who joined from afar.
        if answer["state"] == "outside" && self.rng.random_bool(0.3) {
            self.wait_elsewhere(&answer).await;
        }
    }

    /// Posts "I'm not at the door" through the ticket's own route, with its link's code.
    async fn wait_elsewhere(&mut self, answer: &Value) {
        let (Some(ticket), Some(code)) = (
            answer["ticket"].as_str(),
            answer["ticket_link"]["code"].as_str(),
        ) else {
            return;
        };
        let url = self.url.split("/api/v1/").next().unwrap_or_default();
        let sent = self
            .client
            .post(format!("{url}/api/v1/tickets/{code}/events"))
            .header(
                "Idempotency-Key",
                format!("sim-{:032x}", self.rng.random::<u128>()),
            )
            .json(&json!({"kind": "away"}))
            .send()
            .await;
        if sent.is_ok_and(|r| r.status().is_success()) {
            self.away.insert(ticket.to_owned());
        }
    }

    /// A visitor joins from afar; one in ten will not come when asked in.
    async fn join_from_afar(&mut self, service: &str, party_size: u32) {
        let Some(answer) = join(&self.client, &self.url, service, party_size).await else {
            return;
        };
        if let Some(ticket) = answer["ticket"].as_str() {
            self.away.insert(ticket.to_owned());
            if self.rng.random_bool(0.1) {
                self.never_coming.insert(ticket.to_owned());
            }
        }
    }

    /// Parties asked in from afar (`coming`) arrive a while later, and the desk marks them
    /// arrived; those gone from the station (served, dropped, closed out) are forgotten.
    async fn remote_parties_arrive(&mut self) {
        let Some(status) = self.status().await else {
            return;
        };
        let tickets = |field: &str| -> HashSet<String> {
            status[field]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        };
        let coming = tickets("coming");
        let outside: HashSet<String> = status["outside"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["ticket"].as_str().map(str::to_owned))
            .collect();
        // The listing holds only the head of a long queue: then nothing is forgotten yet.
        let complete = status["outside_total"].as_u64() == Some(outside.len() as u64);
        self.away
            .retain(|t| coming.contains(t) || outside.contains(t) || !complete);
        // Only this desk's own visitors: a ticket someone follows on a phone arrives by itself.
        let arriving: Vec<String> = coming.intersection(&self.away).cloned().collect();
        self.never_coming.retain(|t| self.away.contains(t));
        for ticket in arriving {
            if self.never_coming.contains(&ticket) || !self.rng.random_bool(0.3) {
                continue;
            }
            self.post(json!({"kind": "arrived", "ticket": ticket}))
                .await;
            self.away.remove(&ticket);
        }
    }

    async fn work_desks(&mut self) {
        for i in 0..self.desks.len() {
            match &self.desks[i].1 {
                Desk::Serving {
                    ticket,
                    until,
                    no_show,
                } if Instant::now() >= *until => {
                    let kind = if *no_show { "no_show" } else { "check_out" };
                    let event = json!({"kind": kind, "ticket": ticket});
                    self.post(event).await;
                    self.desks[i].1 = Desk::Idle;
                }
                Desk::Serving { .. } => {}
                Desk::Idle if self.rng.random_bool(0.35) => {
                    let desk = self.desks[i].0.clone();
                    if let Some(answer) = self.post(json!({"kind": "call", "desk": desk})).await {
                        if let Some(ticket) = answer["ticket"].as_str() {
                            let no_show = self.rng.random_bool(0.05);
                            let secs = if no_show {
                                6
                            } else {
                                self.rng.random_range(10..35)
                            };
                            self.desks[i].1 = Desk::Serving {
                                ticket: ticket.to_owned(),
                                until: Instant::now() + Duration::from_secs(secs),
                                no_show,
                            };
                        }
                    }
                }
                Desk::Idle => {}
            }
        }
    }

    async fn status(&self) -> Option<Value> {
        let response = self
            .client
            .get(&self.url)
            .bearer_auth(&self.token)
            .send()
            .await
            .ok()?;
        response.json().await.ok()
    }

    /// Posts one event, retrying with the same Idempotency-Key on network errors and 5xx
    /// answers, as a real terminal would. Returns the 201 body, if the event was accepted.
    async fn post(&mut self, event: Value) -> Option<Value> {
        let key = format!("sim-{:032x}", self.rng.random::<u128>());
        for attempt in 0..3u32 {
            let sent = self
                .client
                .post(format!("{}/events", self.url))
                .bearer_auth(&self.token)
                .header("Idempotency-Key", &key)
                .json(&event)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => return r.json().await.ok(),
                Ok(r) if r.status().is_client_error() => {
                    let status = r.status();
                    let body: HashMap<String, Value> = r.json().await.unwrap_or_default();
                    tracing::debug!(%status, detail = ?body.get("detail"), "simulated event refused");
                    return None;
                }
                _ => tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt + 1))).await,
            }
        }
        None
    }
}
