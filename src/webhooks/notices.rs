//! Which webhooks an accepted event causes: one per notice of the engine's outcome, at a station
//! that has a webhook configured — none anywhere else, so a station without one writes nothing
//! more to its log.

use chrono::{DateTime, Utc};

use super::payload::{Data, Webhook, WebhookType, outbox_rows};
use crate::config;
use crate::engine::Outcome;
use crate::store::OutboxRow;

/// The outbox rows of `outcome`, an event of `station` accepted `at`.
pub fn for_event(
    station: &config::Station,
    outcome: &Outcome,
    at: DateTime<Utc>,
) -> Vec<OutboxRow> {
    if station.webhook.is_none() {
        return Vec::new();
    }
    outbox_rows(&station.id, outcome.seq, at, webhooks(outcome))
}

/// The webhooks of `outcome`, in a deterministic order.
fn webhooks(outcome: &Outcome) -> Vec<Webhook> {
    let admitted = outcome.admitted.iter().map(|ticket| Webhook {
        kind: WebhookType::TicketAdmitted,
        data: Data {
            ticket: Some(ticket.to_string()),
            ..Data::default()
        },
    });
    let called = (outcome.kind == "call")
        .then(|| Webhook {
            kind: WebhookType::TicketCalled,
            data: Data {
                ticket: outcome.ticket.as_ref().map(ToString::to_string),
                desk: outcome.desk.as_ref().map(|d| d.as_str().to_owned()),
                ..Data::default()
            },
        })
        .into_iter();
    admitted.chain(called).collect()
}
