//! What a webhook says: its type and a few opaque facts, as the JSON body the receiver gets.
//!
//! ```json
//! {"type": "ticket.called", "timestamp": "2026-11-30T09:41:07.120Z",
//!  "data": {"station": "oslo-gronland", "link": "3f9a0c1d2e4b5a69", "ticket": "P007", "desk": "3"}}
//! ```
//!
//! `link` is the ticket link's opaque id (the first 16 hex characters of the SHA-256 of its
//! code) — what a gateway keys a visitor's phone number on. Never sent: the link's code (it is
//! the capability to act on the ticket), an appointment reference, or text a guard typed.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::domain::StationId;
use crate::engine::NoticeKind;
use crate::store::OutboxRow;

/// A notice's facts, as sent; each is absent when the notice has none.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Data {
    /// The ticket link's opaque id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desk: Option<String>,
    /// The alert's id at the station.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<u64>,
    /// The alert's code (`alert.gathering`, …), which a gateway can map to its own words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// One webhook to send: its type (the engine's notice kind) and facts.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub kind: NoticeKind,
    pub data: Data,
}

#[derive(Serialize)]
struct Body<'a> {
    /// `ticket.admitted`, `ticket.called`, `ticket.start_walking` or `alert.raised`.
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: String,
    data: StationData<'a>,
}

#[derive(Serialize)]
struct StationData<'a> {
    station: &'a str,
    #[serde(flatten)]
    data: &'a Data,
}

/// The body of `webhook`, caused by an event of `station` accepted `at`.
pub fn body(station: &StationId, at: DateTime<Utc>, webhook: &Webhook) -> String {
    serde_json::to_string(&Body {
        kind: webhook.kind.name(),
        timestamp: at.to_rfc3339_opts(SecondsFormat::Millis, true),
        data: StationData {
            station: station.as_str(),
            data: &webhook.data,
        },
    })
    .expect("webhook bodies serialize")
}

/// The outbox rows of event `seq` of `station`, accepted `at`: one per webhook, in the
/// engine's order, each with the id `{station}.{seq}.{index}` — decided by the event alone, so
/// a replay or another instance writing the same event gives the same ids.
pub fn outbox_rows(
    station: &StationId,
    seq: u64,
    at: DateTime<Utc>,
    webhooks: impl IntoIterator<Item = Webhook>,
) -> Vec<OutboxRow> {
    webhooks
        .into_iter()
        .enumerate()
        .map(|(index, webhook)| OutboxRow {
            id: format!("{station}.{seq}.{index}"),
            station: station.clone(),
            body: body(station, at, &webhook),
            created: Utc::now(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn station() -> StationId {
        StationId::parse("oslo-gronland").unwrap()
    }

    fn at() -> DateTime<Utc> {
        "2026-11-30T09:41:07.120Z".parse().unwrap()
    }

    #[test]
    fn a_called_ticket_says_its_station_link_ticket_and_desk() {
        let called = Webhook {
            kind: NoticeKind::TicketCalled,
            data: Data {
                link: Some("3f9a0c1d2e4b5a69".into()),
                ticket: Some("P007".into()),
                desk: Some("3".into()),
                ..Data::default()
            },
        };
        let sent: serde_json::Value =
            serde_json::from_str(&body(&station(), at(), &called)).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({
                "type": "ticket.called",
                "timestamp": "2026-11-30T09:41:07.120Z",
                "data": {"station": "oslo-gronland", "link": "3f9a0c1d2e4b5a69", "ticket": "P007", "desk": "3"}
            })
        );
    }

    #[test]
    fn an_alert_says_its_id_and_code_only() {
        let raised = Webhook {
            kind: NoticeKind::AlertRaised,
            data: Data {
                alert: Some(42),
                code: Some("alert.gathering".into()),
                ..Data::default()
            },
        };
        let sent: serde_json::Value =
            serde_json::from_str(&body(&station(), at(), &raised)).unwrap();
        assert_eq!(
            sent["data"],
            serde_json::json!({"station": "oslo-gronland", "alert": 42, "code": "alert.gathering"})
        );
        assert_eq!(sent["type"], "alert.raised");
    }

    #[test]
    fn rows_are_numbered_by_station_seq_and_index() {
        let admitted = |ticket: &str| Webhook {
            kind: NoticeKind::TicketAdmitted,
            data: Data {
                ticket: Some(ticket.into()),
                ..Data::default()
            },
        };
        let rows = outbox_rows(&station(), 41, at(), [admitted("P001"), admitted("P002")]);
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["oslo-gronland.41.0", "oslo-gronland.41.1"]);
        assert!(rows[1].body.contains("P002"));
    }
}
