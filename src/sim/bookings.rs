//! The demo's booked visitors, so a newcomer sees held room on the dashboard within minutes.
//!
//! For every bookable service at a station the national booking system's integration device
//! covers, one task asks the public slots route for today's free slots and books about half of
//! them — the next two slots in full, so room is held at once — by pushing each booking with
//! `PUT /api/v1/stations/{s}/bookings/{external_ref}`. Each booked party then has a fate: most
//! check in at the station's terminal (`booking_arrived` with the reference) around their slot,
//! some early, some late within grace; about 15 % never come, and the service's clock logs their
//! no-show; a few are cancelled beforehand (`DELETE` by the integration). Like the front desks in
//! `sim.rs`, nothing here touches the engine: it drives the real routes with the demo tokens.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::config::{self, Config};
use crate::domain::ServiceId;

/// Share of the free places in a slot (after the first two slots) that get booked.
const BOOKED_SHARE: f64 = 0.55;

/// Starts one booking task per bookable service whose station the integration device covers.
pub(super) fn spawn(
    client: &reqwest::Client,
    base_url: &str,
    config: &Arc<Config>,
    shutdown: &CancellationToken,
) {
    for (i, station) in config.stations.iter().enumerate() {
        let (Some(integration), Some(terminal)) = (
            integration_token(config, station),
            super::terminal_token(config, station),
        ) else {
            continue;
        };
        for service in station.services.iter().filter(|s| s.booking.is_some()) {
            let visitors = BookedVisitors {
                client: client.clone(),
                url: format!("{base_url}/api/v1/stations/{}", station.id),
                station: Arc::new(station.clone()),
                service: service.id.clone(),
                integration: integration.clone(),
                terminal: terminal.clone(),
                rng: StdRng::seed_from_u64(i as u64 * 104_729 + 31),
            };
            let shutdown = shutdown.clone();
            tokio::spawn(async move { visitors.run(shutdown).await });
        }
    }
}

/// The demo token of the integration device (the national booking system) covering `station`.
fn integration_token(config: &Config, station: &config::Station) -> Option<String> {
    config
        .devices
        .iter()
        .filter(|d| d.role == config::Role::Integration)
        .find(|d| d.scope.covers(station))
        .map(|d| config::demo_token(&d.id))
}

/// What becomes of one booked party, and when (on the service's clock).
#[derive(Debug)]
enum Fate {
    Arrives(DateTime<Utc>),
    Cancelled(DateTime<Utc>),
    /// Never comes: the service's clock logs the no-show `grace_min` after the slot.
    NeverComes,
}

impl Fate {
    fn due(&self) -> Option<DateTime<Utc>> {
        match self {
            Fate::Arrives(at) | Fate::Cancelled(at) => Some(*at),
            Fate::NeverComes => None,
        }
    }
}

struct BookedVisitors {
    client: reqwest::Client,
    url: String,
    station: Arc<config::Station>,
    service: ServiceId,
    integration: String,
    terminal: String,
    rng: StdRng,
}

impl BookedVisitors {
    /// Books today's slots, then plays each booked party's fate when its time comes.
    async fn run(mut self, shutdown: CancellationToken) {
        let Some(offset) = self.clock_offset().await else {
            tracing::debug!("demo bookings: the station's status could not be read");
            return;
        };
        let now = || Utc::now() + offset;
        let mut plan = self.book_today(now()).await;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        while !plan.is_empty() {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let (ready, later): (Vec<_>, Vec<_>) = plan
                .into_iter()
                .partition(|(_, fate)| fate.due().is_some_and(|at| at <= now()));
            plan = later;
            for (reference, fate) in ready {
                self.play(&reference, &fate).await;
            }
        }
    }

    /// How far the service's clock (the demo's, shifted to a weekday morning) is ahead of this
    /// machine's, from the `as_of` of the station's status.
    async fn clock_offset(&self) -> Option<TimeDelta> {
        let status: Value = self
            .client
            .get(&self.url)
            .bearer_auth(&self.terminal)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let as_of = DateTime::parse_from_rfc3339(status["as_of"].as_str()?).ok()?;
        Some(as_of.with_timezone(&Utc) - Utc::now())
    }

    /// Books today's free slots (the next two in full, about half of the rest) and gives each
    /// booked party a fate: the references of the bookings with theirs, NeverComes left out.
    async fn book_today(&mut self, now: DateTime<Utc>) -> Vec<(String, Fate)> {
        let today = now.with_timezone(&self.station.timezone).date_naive();
        let path = format!(
            "{}/slots?service={}&from={today}&to={today}",
            self.url, self.service
        );
        let Some(slots) = self.get_json(&path).await else {
            tracing::debug!("demo bookings: no slots to book (is the slots route there?)");
            return Vec::new();
        };
        let mut plan = Vec::new();
        for (i, slot) in slots["slots"].as_array().into_iter().flatten().enumerate() {
            let (Some(start), Some(free)) = (
                slot["start"]
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok()),
                slot["free"].as_u64(),
            ) else {
                continue;
            };
            let start = start.with_timezone(&Utc);
            for _ in 0..free {
                if i >= 2 && !self.rng.random_bool(BOOKED_SHARE) {
                    continue;
                }
                if let Some(reference) = self.push(start).await {
                    let fate = self.fate(start, now);
                    if fate.due().is_some() {
                        plan.push((reference, fate));
                    }
                }
            }
        }
        plan
    }

    /// Pushes a booking of `slot` under a fresh reference, as the national system would.
    async fn push(&mut self, slot: DateTime<Utc>) -> Option<String> {
        let reference = format!("demo-{:012x}", self.rng.random::<u64>() >> 16);
        let party_size = match self.rng.random_range(0..100) {
            0..60 => 1,
            60..90 => 2,
            _ => 3,
        };
        let body = json!({"service": self.service, "slot": slot, "party_size": party_size});
        let pushed = self
            .client
            .put(format!("{}/bookings/{reference}", self.url))
            .bearer_auth(&self.integration)
            .json(&body)
            .send()
            .await
            .ok()?;
        if !pushed.status().is_success() {
            tracing::debug!(status = %pushed.status(), "demo booking refused");
            return None;
        }
        Some(reference)
    }

    /// A booked party's fate: about 15 % never come, 5 % cancel up to an hour before, the rest
    /// arrive — most within a few minutes of the slot, a fifth early, a fifth late within the
    /// grace. Nobody acts in the first two minutes, so the held room is seen before it is used.
    fn fate(&mut self, slot: DateTime<Utc>, now: DateTime<Utc>) -> Fate {
        let not_before = now + TimeDelta::minutes(2);
        let rng = &mut self.rng;
        let roll = rng.random_range(0..100);
        // Whole minutes in `range` and a few seconds, so the check-ins do not come in lockstep.
        let mut minutes = |range: std::ops::Range<i64>| {
            TimeDelta::minutes(rng.random_range(range))
                + TimeDelta::seconds(rng.random_range(0..60))
        };
        let when = match roll {
            0..15 => return Fate::NeverComes,
            15..20 => return Fate::Cancelled((slot - minutes(5..60)).max(not_before)),
            20..36 => slot - minutes(6..14),
            36..52 => slot + minutes(3..9),
            _ => slot + minutes(-5..2),
        };
        Fate::Arrives(when.max(not_before))
    }

    /// Plays one party's fate: its check-in at the terminal, or its cancellation.
    async fn play(&mut self, reference: &str, fate: &Fate) {
        let sent = match fate {
            Fate::Arrives(_) => {
                let key = format!("sim-{:032x}", self.rng.random::<u128>());
                self.client
                    .post(format!("{}/events", self.url))
                    .bearer_auth(&self.terminal)
                    .header("Idempotency-Key", key)
                    .json(&json!({"kind": "booking_arrived", "external_ref": reference}))
                    .send()
                    .await
            }
            Fate::Cancelled(_) => {
                self.client
                    .delete(format!("{}/bookings/{reference}", self.url))
                    .bearer_auth(&self.integration)
                    .send()
                    .await
            }
            Fate::NeverComes => return,
        };
        if let Ok(r) = sent {
            if !r.status().is_success() {
                tracing::debug!(status = %r.status(), "demo booking's arrival or cancellation refused");
            }
        }
    }

    async fn get_json(&self, url: &str) -> Option<Value> {
        let r = self.client.get(url).send().await.ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json().await.ok()
    }
}
