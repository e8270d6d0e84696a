//! The deliverer: a task that sends the outbox's due webhooks to their stations' receivers,
//! signed, and settles each one — delivered, or tried again later.
//!
//! Delivery is **at least once**: a row is deleted only after its receiver answered 2xx, so a
//! crash between the receiver's answer and the delete sends it again after the restart, with the
//! same `webhook-id` (receivers dedupe by it). Anything else — a refusal, a timeout, a receiver
//! that cannot be reached — is tried again after an exponential backoff (5 s, 10 s, 20 s, … at
//! most an hour apart); a webhook still not delivered a day after it was written is given up with
//! a warning. Each round claims a batch of due rows and sends them at once, so one slow receiver
//! holds up a round for at most the request timeout. What is logged names the webhook's id (its
//! station and event) and what went wrong — never its body, the receiver's URL or the secret.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::sign;
use crate::config::Webhook;
use crate::state::AppState;
use crate::store::{DueWebhook, Settle};

/// How often the outbox is looked at when the last round found nothing to send.
pub const POLL: Duration = Duration::from_millis(500);
/// How long to wait after the outbox could not be read.
const UNREADABLE_PAUSE: Duration = Duration::from_secs(5);
/// Rows claimed and sent at once.
const BATCH: usize = 32;
/// A receiver that has not answered within this time is tried again later.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claim on a shared log keeps other instances off a row: longer than an attempt
/// can take (the timeout, then the settle), so a row is never sent twice at once; short enough
/// that an instance killed mid-delivery delays its rows only this much.
pub const LEASE: Duration = Duration::from_secs(20);
/// The first retry's delay; each later one doubles, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF_S: i64 = 5;
const MAX_BACKOFF: TimeDelta = TimeDelta::hours(1);
/// A webhook not delivered this long after it was written is given up.
const GIVE_UP_AFTER: TimeDelta = TimeDelta::days(1);

/// What one attempt came to, for the metrics and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    Failed,
    GaveUp,
}

impl Attempt {
    pub fn label(self) -> &'static str {
        match self {
            Attempt::Delivered => "delivered",
            Attempt::Failed => "failed",
            Attempt::GaveUp => "gave_up",
        }
    }
}

/// Runs until the service shuts down. A batch in flight at shutdown is left unsettled: its rows
/// are sent again after the restart.
pub async fn deliver(state: AppState) {
    let client = match client() {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(cause = %e, "webhooks cannot be sent: no HTTP client");
            return;
        }
    };
    let mut pause = POLL;
    loop {
        if !pause.is_zero() {
            tokio::select! {
                () = state.shutdown.cancelled() => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            claimed = round(&state, &client) => pause = next_pause(claimed),
        }
    }
}

/// How long to wait before the next round: none after a full batch (more may be due), the poll
/// interval after a partial one, longer after a failed read of the outbox (a database that is
/// down is not asked twice a second, nor is the log filled with the same warning).
fn next_pause(claimed: Option<usize>) -> Duration {
    match claimed {
        Some(n) if n >= BATCH => Duration::ZERO,
        Some(_) => POLL,
        None => UNREADABLE_PAUSE,
    }
}

/// The client every attempt uses: a timeout per request, and no redirects (a receiver that
/// moved is a configuration to fix, not a body to send somewhere else).
fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("lobbywatch/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Claims a batch of due rows, sends them at once and settles each; returns how many it
/// claimed, `None` when the outbox could not be read.
async fn round(state: &AppState, client: &reqwest::Client) -> Option<usize> {
    let due = match state.store.claim_webhooks(Utc::now(), LEASE, BATCH).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(cause = %e, "reading the webhook outbox failed; trying again in 5 s");
            return None;
        }
    };
    let claimed = due.len();
    let attempts = due.into_iter().map(|row| attempt(state, client, row));
    for (outcome, settle) in futures_util::future::join_all(attempts).await {
        match state.store.settle_webhook(settle).await {
            // Counted once settled, so a count says the outbox agrees.
            Ok(()) => state.metrics.webhook(outcome.label()),
            Err(e) => {
                tracing::warn!(cause = %e, "recording a webhook's delivery failed; it will be sent again");
            }
        }
    }
    Some(claimed)
}

/// Sends one row, unless it is too old or its station no longer has a webhook: what came of it,
/// and what becomes of the row.
async fn attempt(state: &AppState, client: &reqwest::Client, row: DueWebhook) -> (Attempt, Settle) {
    let now = Utc::now();
    let outcome = if now > gives_up_at(row.created) {
        tracing::warn!(webhook = %row.id, attempts = row.attempts, "webhook given up: not delivered within a day");
        Attempt::GaveUp
    } else if let Some(webhook) = receiver(state, &row.station) {
        send(client, &webhook, &row).await
    } else {
        tracing::info!(webhook = %row.id, "webhook dropped: its station no longer has a webhook configured");
        Attempt::GaveUp
    };
    let settle = match outcome {
        Attempt::Delivered | Attempt::GaveUp => Settle::Done(row.id),
        Attempt::Failed => {
            let attempts = row.attempts.saturating_add(1);
            Settle::Retry {
                id: row.id,
                due: now + backoff(attempts),
                attempts,
            }
        }
    };
    (outcome, settle)
}

/// The station's webhook in the config in force now (a reload may have changed it).
fn receiver(state: &AppState, station: &str) -> Option<Webhook> {
    let config = state.config();
    let station = config.stations.iter().find(|s| s.id.as_str() == station)?;
    station.webhook.clone()
}

/// One signed POST; only a 2xx answer is a delivery.
async fn send(client: &reqwest::Client, webhook: &Webhook, row: &DueWebhook) -> Attempt {
    let timestamp = Utc::now().timestamp();
    let signature = sign::signature(&webhook.secret, &row.id, timestamp, row.body.as_bytes());
    let sent = client
        .post(webhook.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(sign::ID_HEADER, &row.id)
        .header(sign::TIMESTAMP_HEADER, timestamp.to_string())
        .header(sign::SIGNATURE_HEADER, signature)
        .body(row.body.clone())
        .send()
        .await;
    match sent {
        Ok(answer) if answer.status().is_success() => Attempt::Delivered,
        Ok(answer) => {
            tracing::warn!(webhook = %row.id, status = answer.status().as_u16(), attempts = row.attempts + 1, "webhook refused by its receiver; will retry");
            Attempt::Failed
        }
        Err(e) => {
            // Without the URL: it may carry the gateway's credentials.
            tracing::warn!(webhook = %row.id, cause = %e.without_url(), attempts = row.attempts + 1, "webhook not delivered; will retry");
            Attempt::Failed
        }
    }
}

/// The delay before attempt number `attempts + 1`: 5 s after the first, doubling, at most an hour.
pub fn backoff(attempts: u32) -> TimeDelta {
    let doublings = attempts.saturating_sub(1).min(20);
    TimeDelta::seconds(FIRST_BACKOFF_S << doublings).min(MAX_BACKOFF)
}

/// When a row written at `created` is given up.
pub fn gives_up_at(created: DateTime<Utc>) -> DateTime<Utc> {
    created + GIVE_UP_AFTER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_five_seconds_up_to_an_hour() {
        let delays: Vec<i64> = (1..=12).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(
            delays,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn a_full_batch_is_followed_at_once_and_an_unreadable_outbox_after_a_pause() {
        assert_eq!(next_pause(Some(BATCH)), Duration::ZERO);
        assert_eq!(next_pause(Some(1)), POLL);
        assert_eq!(next_pause(Some(0)), POLL);
        assert_eq!(next_pause(None), UNREADABLE_PAUSE);
    }

    #[test]
    fn a_webhook_is_given_up_a_day_after_it_was_written() {
        let created: DateTime<Utc> = "2026-11-30T09:00:00Z".parse().unwrap();
        assert_eq!(
            gives_up_at(created),
            "2026-12-01T09:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
