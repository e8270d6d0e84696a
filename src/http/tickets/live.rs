//! `GET /api/v1/tickets/{code}/live`: a WebSocket that carries one ticket's view — now, then
//! after every change of its station — and nothing of any other visitor.
//!
//! It follows the station sockets' limits (`http/live.rs`): the same frame and buffer bounds,
//! pings, and it counts as a public socket of the peer's address. A link that is unknown when
//! the socket opens, or expires while it is open (the day's roll-over), closes it with
//! [`CLOSE_UNKNOWN_LINK`], which the page reads as "this link no longer works" rather than a
//! reason to reconnect.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::stream::{BoxStream, StreamExt};
use tokio_stream::wrappers::WatchStream;

use super::super::live::{
    MAX_BUFFERED_OUTPUT, MAX_INBOUND_MESSAGE, READ_BUFFER, WRITE_BUFFER, check_origin,
    not_a_websocket, refuse,
};
use super::super::problem::ApiError;
use super::find;
use crate::domain::ticket_link::LinkHash;
use crate::live::{self, Heartbeat, UpdatesEnd};
use crate::sockets::{Holder, SocketKind};
use crate::state::AppState;

/// Close code for "no ticket has this link (any more)" (application range, mirrors HTTP 404).
pub const CLOSE_UNKNOWN_LINK: u16 = 4404;
/// What the page is told when its link is unknown or has expired.
const UNKNOWN_LINK: UpdatesEnd = UpdatesEnd {
    code: CLOSE_UNKNOWN_LINK,
    reason: "this ticket link is unknown or has expired with the day",
};

/// WebSocket: the ticket's view now, then after every change.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{code}/live",
    tag = "tickets",
    params(("code" = String, Path, description = "The ticket link's code")),
    responses(
        (status = 101, description = "Switching to WebSocket; every text message is the ticket's view (`TicketView`). Closed with 4404 when the link is unknown or expires"),
        (status = 400, description = "Not a WebSocket upgrade request"),
        (status = 403, description = "The page's Origin is not allowed"),
    ),
)]
pub(super) async fn ticket_live(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(not_a_websocket)?;
    check_origin(&state, &headers)?;
    // An unknown link still gets its socket, closed at once with a code a browser can read (a
    // refused handshake tells a page nothing).
    let updates = find(&state, &code)
        .ok()
        .map(|found| views(&found.slot, found.hash));
    Ok(upgrade(ws, &state, Holder::Public(peer.ip()), updates))
}

/// The ticket's view from each new document of its station, ending when a document no longer
/// carries it.
fn views(slot: &crate::state::StationSlot, hash: LinkHash) -> BoxStream<'static, Utf8Bytes> {
    WatchStream::new(slot.live.subscribe())
        .map(move |docs| docs.tickets.view_json(&hash).map(Utf8Bytes::from))
        .take_while(|view| std::future::ready(view.is_some()))
        .filter_map(std::future::ready)
        .boxed()
}

fn upgrade(
    ws: WebSocketUpgrade,
    state: &AppState,
    holder: Holder,
    updates: Option<BoxStream<'static, Utf8Bytes>>,
) -> Response {
    let shutdown = state.shutdown.clone();
    let permit = state.sockets.try_open(holder.clone(), SocketKind::Public);
    ws.max_message_size(MAX_INBOUND_MESSAGE)
        .max_frame_size(MAX_INBOUND_MESSAGE)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_BUFFERED_OUTPUT)
        .on_upgrade(move |socket: WebSocket| async move {
            let permit = match permit {
                Ok(permit) => permit,
                Err(refusal) => return refuse(socket, &holder, refusal).await,
            };
            let Some(updates) = updates else {
                return close_unknown(socket).await;
            };
            let revoked = permit.revoked.clone();
            let ended = live::serve_until(
                socket,
                updates,
                shutdown,
                revoked,
                Heartbeat::default(),
                UNKNOWN_LINK,
            )
            .await;
            drop(permit);
            tracing::debug!(?ended, "ticket socket closed");
        })
}

/// Closes a socket whose link is unknown, under a timeout (the peer may not read).
async fn close_unknown(mut socket: WebSocket) {
    let close = Message::Close(Some(CloseFrame {
        code: UNKNOWN_LINK.code,
        reason: Utf8Bytes::from_static(UNKNOWN_LINK.reason),
    }));
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(close)).await;
}
