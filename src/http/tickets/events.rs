//! `POST /api/v1/tickets/{code}/events`: what a visitor does from their ticket's page — wait
//! elsewhere, ask for more time, leave the queue, say they are at the door — posted as events
//! like any terminal's, through the same idempotent flow (`crate::ingest`).
//!
//! The poster is a synthetic device, `t-<opaque id>`: it holds no token and no role the router
//! would ever grant (it is never in the token table), it exists so the log, the idempotency keys
//! and the rate limit have one holder per link. The answer carries only what concerns this
//! ticket (its kind, `seq` and ticket), not the whole outcome with other tickets' numbers.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;

use super::super::events::{idempotency_key, reply_response};
use super::super::json::{JsonBody, parse_json};
use super::super::problem::ApiError;
use super::super::station_config;
use super::{Found, find};
use crate::config::{Device, Role, Scope};
use crate::domain::event::Event;
use crate::domain::{DeviceId, Ticket};
use crate::ingest;
use crate::state::AppState;

/// Largest accepted body: a kind and an entrance code.
pub const MAX_BODY: usize = 1024;

/// What the visitor asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// "I'm not at the door — I'll wait elsewhere."
    Away,
    /// "I need more time" (once).
    MoreTime,
    /// "Leave the queue."
    Leave,
    /// "I'm here": needs the code posted at the entrance.
    Arrived,
}

/// The body of a ticket's event.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketAction {
    pub kind: ActionKind,
    /// The code posted at the station's entrance; only `arrived` reads it.
    #[serde(default)]
    pub entrance: Option<String>,
}

/// Posts one of the visitor's events for the linked ticket. The same `Idempotency-Key` with the
/// same body again gets the same answer, with `Idempotent-Replayed: true`, and no second effect.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{code}/events",
    tag = "tickets",
    params(
        ("code" = String, Path, description = "The ticket link's code"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters, unique per action of this ticket"),
    ),
    request_body(content = TicketAction, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded: `{kind, seq, ticket}`",
            headers(("Idempotent-Replayed" = String, description = "`true` when this is a stored answer sent again"))),
        (status = 400, description = "Malformed JSON, or a missing or invalid Idempotency-Key"),
        (status = 403, description = "`arrived` without the entrance code, or at a station that posts none"),
        (status = 404, description = "No ticket has this link today"),
        (status = 409, description = "The ticket cannot do that now (`ticket-state`), or the same key still in flight"),
        (status = 422, description = "An invalid field, or the key reused for another action"),
        (status = 429, description = "Too many actions from this link; see Retry-After"),
        (status = 503, description = "The event log cannot be written (nothing was recorded)"),
    ),
)]
pub(super) async fn post_ticket_event(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Result<JsonBody<MAX_BODY>, ApiError>,
) -> Result<Response, ApiError> {
    let found = find(&state, &code)?;
    let device = visitor_device(&found);
    state
        .rate
        .take(&device.id, tokio::time::Instant::now())
        .map_err(|wait| ApiError::RateLimited {
            per_minute: state.rate.per_minute(),
            retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
        })?;
    let key = idempotency_key(&headers)?;
    let JsonBody(value) = body?;
    let action: TicketAction = parse_json(value.clone())?;
    let event = event_for(&state, &found, &action)?;
    let request = ingest::Request {
        key,
        body: &value,
        event,
        sealed_link: None,
    };
    let reply = ingest::submit(&state, &device, &found.station, request, |refusal| {
        ApiError::Refused(refusal).answer()
    })
    .await?;
    Ok(reply_response(&reply, own_part))
}

/// The link's own poster: `t-<opaque id>`, scoped to its station, with no token.
fn visitor_device(found: &Found) -> Arc<Device> {
    Arc::new(Device {
        id: DeviceId::parse(&format!("t-{}", found.hash.id()))
            .expect("t- and 16 hex digits is a device id"),
        // Never checked: the device is not in the token table, so no route can be asked as it.
        role: Role::Display,
        scope: Scope::Station(found.station.clone()),
        tokens_sha256: Vec::new(),
    })
}

/// The event `action` means for the found ticket; `arrived` only with the entrance's code.
fn event_for(state: &AppState, found: &Found, action: &TicketAction) -> Result<Event, ApiError> {
    let ticket = ticket_of(found)?;
    Ok(match action.kind {
        ActionKind::Away => Event::Away { ticket },
        ActionKind::MoreTime => Event::MoreTime { ticket },
        ActionKind::Leave => Event::Leave { ticket },
        ActionKind::Arrived => {
            let station = station_config(state, found.station.as_str())?;
            check_entrance(
                station.remote.entrance_code.as_deref(),
                action.entrance.as_deref(),
            )?;
            Event::Arrived { ticket }
        }
    })
}

/// The ticket number in the found view.
fn ticket_of(found: &Found) -> Result<Ticket, ApiError> {
    found
        .docs
        .tickets
        .view(&found.hash)
        .map(|view| view.ticket)
        .ok_or(ApiError::UnknownTicketLink)
}

/// Arrival from the page needs the code posted at the entrance: it shows the visitor is at the
/// door, not at home. Compared without regard to case or surrounding spaces (it is typed).
fn check_entrance(posted: Option<&str>, given: Option<&str>) -> Result<(), ApiError> {
    let Some(posted) = posted else {
        return Err(ApiError::WrongEntranceCode(
            "this station takes arrivals at the front desk: show your ticket there".into(),
        ));
    };
    match given {
        Some(given) if given.trim().eq_ignore_ascii_case(posted.trim()) => Ok(()),
        _ => Err(ApiError::WrongEntranceCode(
            "the entrance code does not match the one posted at the entrance".into(),
        )),
    }
}

/// The part of a stored outcome that concerns the ticket: its kind, `seq` and ticket. Derived
/// from the stored answer alone, so a replay is byte-identical.
fn own_part(body: &Bytes) -> Bytes {
    let Ok(outcome) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.clone();
    };
    let own = serde_json::json!({
        "kind": outcome["kind"],
        "seq": outcome["seq"],
        "ticket": outcome["ticket"],
    });
    Bytes::from(serde_json::to_vec(&own).expect("JSON values serialize"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrival_needs_the_posted_code_typed_in_any_case() {
        assert!(check_entrance(Some("DOOR7"), Some(" door7 ")).is_ok());
        assert!(matches!(
            check_entrance(Some("DOOR7"), Some("door8")),
            Err(ApiError::WrongEntranceCode(_))
        ));
        assert!(check_entrance(Some("DOOR7"), None).is_err());
        assert!(check_entrance(None, Some("anything")).is_err());
    }

    #[test]
    fn the_answer_keeps_only_the_tickets_own_part() {
        let stored = Bytes::from_static(
            br#"{"seq":7,"kind":"away","ticket":"P002","admitted":["P001"],"headcount":3}"#,
        );
        let own: serde_json::Value = serde_json::from_slice(&own_part(&stored)).unwrap();
        assert_eq!(
            own,
            serde_json::json!({"kind": "away", "seq": 7, "ticket": "P002"})
        );
    }
}
