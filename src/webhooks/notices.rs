//! Which webhooks an accepted event causes: one per notice of the engine's outcome
//! (`Outcome::notices`, in the engine's fixed order), at a station that has a webhook configured —
//! none anywhere else, so a station without one writes nothing more to its log.

use chrono::{DateTime, Utc};

use super::payload::{Data, Webhook, outbox_rows};
use crate::config;
use crate::engine::{Notice, Outcome};
use crate::store::OutboxRow;

/// The outbox rows of `outcome`, an event of `station` accepted `at`.
pub fn for_event(
    station: &config::Station,
    outcome: &Outcome,
    at: DateTime<Utc>,
) -> Vec<OutboxRow> {
    if station.webhook.is_none() || outcome.notices.is_empty() {
        return Vec::new();
    }
    outbox_rows(
        &station.id,
        outcome.seq,
        at,
        outcome.notices.iter().map(webhook),
    )
}

/// A notice as sent: the link as its opaque id, never the link's hash in full (nor, since the
/// engine never has it, its code).
fn webhook(notice: &Notice) -> Webhook {
    Webhook {
        kind: notice.kind,
        data: Data {
            link: notice.link.as_ref().map(|link| link.id()),
            ticket: notice.ticket.as_ref().map(ToString::to_string),
            desk: notice.desk.as_ref().map(|desk| desk.as_str().to_owned()),
            alert: notice.alert,
            code: notice.code.clone(),
        },
    }
}
