//! The visitor's own ticket, by its link's code: `GET /api/v1/tickets/{code}` (its view), the
//! socket `…/live` (that view after every change) and `POST …/events` (away, more time, leave,
//! arrived). The code is the only credential: whoever holds the link follows that one ticket,
//! and nothing else.
//!
//! **Finding a ticket.** The code is hashed and the hash looked up in each station's latest
//! published documents (`Docs.tickets`, each station's board of linked tickets). Scanning the stations — a
//! handful of map look-ups — needs no index of its own that would have to follow every event,
//! reload and day's roll-over: a link is found exactly while a published document carries its
//! ticket, and expires the moment the day's roll-over drops it from them.
//!
//! **Never the code in a log.** Routes are logged by their template (`/api/v1/tickets/{code}`),
//! and a ticket's events are posted as the synthetic device `t-<opaque id>`, which names the
//! link's hash prefix, not the code. Every unknown, expired or malformed code gets the one
//! `unknown-ticket-link` answer, so the routes tell a guesser nothing.

mod events;
mod live;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::problem::ApiError;
use crate::domain::StationId;
use crate::domain::ticket_link::{LinkCode, LinkHash};
use crate::hub::Docs;
use crate::state::{AppState, StationSlot};

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(get_ticket, live::ticket_live, events::post_ticket_event),
    components(schemas(crate::domain::ticket::TicketView, events::TicketAction))
)]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets/{code}", get(get_ticket))
        .route("/api/v1/tickets/{code}/live", get(live::ticket_live))
        .route(
            "/api/v1/tickets/{code}/events",
            post(events::post_ticket_event),
        )
        .layer(axum::extract::DefaultBodyLimit::max(events::MAX_BODY))
}

/// A linked ticket found among the stations' published documents.
struct Found {
    hash: LinkHash,
    station: StationId,
    slot: Arc<StationSlot>,
    docs: Arc<Docs>,
}

impl Found {
    /// The ticket's view as last published, JSON.
    fn view(&self) -> String {
        self.docs
            .tickets
            .view_json(&self.hash)
            .expect("found only where the documents carry the ticket")
    }
}

/// The ticket a code links to today, or the one answer for every code that links to none.
fn find(state: &AppState, raw: &str) -> Result<Found, ApiError> {
    let hash = LinkCode::parse(raw)
        .ok_or(ApiError::UnknownTicketLink)?
        .hash();
    state
        .stations()
        .iter()
        .find_map(|(id, slot)| {
            let docs = slot.live.latest();
            docs.tickets.has(&hash).then(|| Found {
                hash,
                station: id.clone(),
                slot: slot.clone(),
                docs,
            })
        })
        .ok_or(ApiError::UnknownTicketLink)
}

/// The ticket's own view: its state, place, expected time and the station's sign and hours.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{code}",
    tag = "tickets",
    params(("code" = String, Path, description = "The ticket link's code: 24 URL-safe base64 characters, from the check-in's `ticket_link`")),
    responses(
        (status = 200, description = "The ticket's view; never cached", body = crate::domain::ticket::TicketView),
        (status = 404, description = "No ticket has this link today (mistyped, or expired with the day)"),
    ),
)]
async fn get_ticket(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let found = find(&state, &code)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        found.view(),
    )
        .into_response())
}
