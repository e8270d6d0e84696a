//! The WebSocket routes: a station's full live status (token), its public live status (no
//! token), and a guard's stream of several stations. Authentication, scope and the page's
//! `Origin` are checked before the upgrade, so a refused client gets an ordinary problem+json
//! answer. Browsers cannot set headers on a WebSocket, so the token may also come as the
//! `access_token` query parameter (which the request log never records: it logs paths, not
//! queries).
//!
//! Limits: inbound messages and frames of at most [`MAX_INBOUND_MESSAGE`] (clients only send
//! pongs and tiny control messages), no compression (none is negotiated), at most
//! [`MAX_BUFFERED_OUTPUT`] of unsent output per connection, and caps on open sockets overall,
//! per device, without a token and per source address (`crate::sockets`) — a socket over a cap
//! is accepted and closed at once with 1013 ("try again later") and the cap's reason, which a
//! browser can see, unlike a refused handshake. A public socket opened with a token (a lobby
//! display's) counts as that device's, in the places kept for devices.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::get;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio_stream::wrappers::WatchStream;

use super::auth::{authenticate, bearer_token, may_read};
use super::problem::ApiError;
use super::{station_config, station_in};
use crate::config::{self, Device, Scope};
use crate::domain::{DistrictId, StationId};
use crate::engine::documents::MAX_DOCUMENT_BYTES;
use crate::hub::Docs;
use crate::live::{self, Heartbeat};
use crate::sockets::{Holder, Refusal, SocketKind};
use crate::state::AppState;

/// Clients send only pongs and tiny control messages.
pub const MAX_INBOUND_MESSAGE: usize = 4 * 1024;
/// Unsent output a connection may hold: one status document at its largest — every message is
/// one station's document, a guard's stream of many stations included, and the loop sends the
/// next only once the last is written — plus room for the control frames (a pong, the close)
/// that may queue behind it. So no document a station can produce is ever refused for size.
pub const MAX_BUFFERED_OUTPUT: usize = MAX_DOCUMENT_BYTES + CONTROL_FRAMES_ROOM;
/// A few control frames of at most 125 bytes each, with their headers.
const CONTROL_FRAMES_ROOM: usize = 4 * 1024;
/// Read buffer per socket. tungstenite's default (128 KiB) is zero-filled on the first read, so
/// every idle lobby display would cost 128 KiB of resident memory; clients only send pongs and
/// tiny control messages, and a larger frame (up to [`MAX_INBOUND_MESSAGE`]) grows the buffer
/// for itself.
pub const READ_BUFFER: usize = 1024;
/// Bytes collected before a write reaches the socket: none — each status document is written
/// at once (one document is a whole message; batching would only delay it).
pub const WRITE_BUFFER: usize = 0;
/// Close code for "too many connections, try again later" (RFC 6455 registry).
pub const CLOSE_TRY_AGAIN_LATER: u16 = 1013;

#[derive(utoipa::OpenApi)]
#[openapi(paths(station_live, public_live, multi_live))]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/stations/{station}/live", get(station_live))
        .route("/api/v1/stations/{station}/public/live", get(public_live))
        .route("/api/v1/live", get(multi_live))
}

/// A token from the header, or else from `?access_token=`.
struct LiveCaller(Arc<Device>);

impl axum::extract::FromRequestParts<AppState> for LiveCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let from_query = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .ok()
            .and_then(|Query(mut q)| q.remove("access_token"));
        let token = bearer_token(parts).map(str::to_owned).or(from_query);
        authenticate(&state.tokens, token.as_deref()).map(LiveCaller)
    }
}

/// A token if one was given (then it must be valid), else nobody: the public routes.
struct MaybeCaller(Option<Arc<Device>>);

impl axum::extract::FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let given = bearer_token(parts).is_some()
            || parts
                .uri
                .query()
                .is_some_and(|q| q.contains("access_token="));
        if !given {
            return Ok(MaybeCaller(None));
        }
        let LiveCaller(device) = LiveCaller::from_request_parts(parts, state).await?;
        Ok(MaybeCaller(Some(device)))
    }
}

/// Who holds a socket: the device, else the peer's address (public sockets are capped by it).
fn holder(device: Option<&Device>, peer: SocketAddr) -> Holder {
    match device {
        Some(d) => Holder::Device(d.id.clone()),
        None => Holder::Public(peer.ip()),
    }
}

/// Refuses an upgrade from a page of another origin (a browser always sends `Origin`; other
/// clients may omit it). The service's own origin is always allowed.
pub(super) fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let own = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|host| {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host)
        });
    if own
        || state
            .config()
            .limits
            .allowed_origins
            .iter()
            .any(|o| o == origin)
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "live sockets from pages at '{origin}' are not allowed; an operator may add it to [limits] allowed_origins"
        )))
    }
}

/// A plain HTTP request to a WebSocket route.
pub(super) fn not_a_websocket(rejection: WebSocketUpgradeRejection) -> ApiError {
    ApiError::BadRequest(format!(
        "this route is a live WebSocket: connect with a WebSocket client ({})",
        rejection.body_text()
    ))
}

fn upgrade(
    ws: WebSocketUpgrade,
    state: &AppState,
    holder: Holder,
    kind: SocketKind,
    updates: BoxStream<'static, Utf8Bytes>,
) -> Response {
    let shutdown = state.shutdown.clone();
    let permit = state.sockets.try_open(holder.clone(), kind);
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
            let revoked = permit.revoked.clone();
            let ended =
                live::serve_until_revoked(socket, updates, shutdown, revoked, Heartbeat::default())
                    .await;
            drop(permit);
            tracing::debug!(?ended, "live socket closed");
        })
}

/// Closes a socket over a cap with 1013 and the cap's reason, under a timeout (the peer may not
/// read).
pub(super) async fn refuse(mut socket: WebSocket, holder: &Holder, refusal: Refusal) {
    // Never an address or token in the log: a device id, or just "public".
    let device = match holder {
        Holder::Device(d) => d.as_str(),
        Holder::Public(_) => "public",
    };
    tracing::warn!(
        device,
        reason = refusal.reason(),
        "live socket refused: too many open"
    );
    let close = Message::Close(Some(CloseFrame {
        code: CLOSE_TRY_AGAIN_LATER,
        reason: Utf8Bytes::from_static(refusal.reason()),
    }));
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(close)).await;
}

fn watch(
    state: &AppState,
    id: &StationId,
    pick: fn(&Docs) -> Utf8Bytes,
) -> Option<BoxStream<'static, Utf8Bytes>> {
    let rx = state.station(id)?.live.subscribe();
    Some(WatchStream::new(rx).map(move |docs| pick(&docs)).boxed())
}

fn full(d: &Docs) -> Utf8Bytes {
    d.full.clone()
}
fn public(d: &Docs) -> Utf8Bytes {
    d.public.clone()
}

/// WebSocket: the station's full status document now, then after every change.
#[utoipa::path(
    get,
    path = "/api/v1/stations/{station}/live",
    tag = "live",
    params(("station" = String, Path, description = "The station's id, e.g. `oslo-gronland`"), ("access_token" = Option<String>, Query, description = "The token, for clients that cannot set headers (browsers); instead of `Authorization: Bearer`")),
    responses(
        (status = 101, description = "Switching to WebSocket; every text message is a full status document (`StationStatus`)"),
        (status = 400, description = "Not a WebSocket upgrade request"),
        (status = 403, description = "The token does not cover this station, or the page's Origin is not allowed"),
        (status = 404, description = "Unknown station"),
    ),
    security(("bearer" = [])),
)]
async fn station_live(
    State(state): State<AppState>,
    LiveCaller(device): LiveCaller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(station): Path<String>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(not_a_websocket)?;
    check_origin(&state, &headers)?;
    let station = station_config(&state, &station)?;
    may_read(&device, &station)?;
    let updates = watch(&state, &station.id, full).ok_or(ApiError::Internal)?;
    Ok(upgrade(
        ws,
        &state,
        holder(Some(&device), peer),
        SocketKind::Full,
        updates,
    ))
}

/// WebSocket: the station's public status document now, then after every change.
#[utoipa::path(
    get,
    path = "/api/v1/stations/{station}/public/live",
    tag = "live",
    params(("station" = String, Path, description = "The station's id, e.g. `oslo-gronland`"), ("access_token" = Option<String>, Query, description = "Optional: a device's token (a lobby display's), so the socket counts as that device's and never competes with anonymous ones")),
    responses(
        (status = 101, description = "Switching to WebSocket; every text message is a public status document (`PublicStatus`)"),
        (status = 401, description = "A token was given and is not valid"),
        (status = 400, description = "Not a WebSocket upgrade request"),
        (status = 403, description = "The page's Origin is not allowed"),
        (status = 404, description = "Unknown station"),
    ),
)]
async fn public_live(
    State(state): State<AppState>,
    MaybeCaller(device): MaybeCaller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(station): Path<String>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(not_a_websocket)?;
    check_origin(&state, &headers)?;
    let station = station_config(&state, &station)?;
    let updates = watch(&state, &station.id, public).ok_or(ApiError::Internal)?;
    Ok(upgrade(
        ws,
        &state,
        holder(device.as_deref(), peer),
        SocketKind::Public,
        updates,
    ))
}

/// `GET /api/v1/live?district=<id>` or `?stations=a,b`, or neither for every station the token
/// covers. Each document names its station.
#[utoipa::path(
    get,
    path = "/api/v1/live",
    tag = "live",
    params(
        ("district" = Option<String>, Query, description = "Every station of this district"),
        ("stations" = Option<String>, Query, description = "A comma-separated list of station ids"),
        ("access_token" = Option<String>, Query, description = "The token, for clients that cannot set headers (browsers); instead of `Authorization: Bearer`"),
    ),
    responses(
        (status = 101, description = "Switching to WebSocket; every text message is a full status document (`StationStatus`) of one of the stations"),
        (status = 400, description = "Not a WebSocket upgrade request, or both `district` and `stations`"),
        (status = 403, description = "The token does not cover a station asked for, or the page's Origin is not allowed"),
        (status = 404, description = "Unknown district or station, or no station matches"),
    ),
    security(("bearer" = [])),
)]
async fn multi_live(
    State(state): State<AppState>,
    LiveCaller(device): LiveCaller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(not_a_websocket)?;
    check_origin(&state, &headers)?;
    let config = state.config();
    let chosen: Vec<&config::Station> = match (params.get("district"), params.get("stations")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give either `district` or `stations`, not both".into(),
            ));
        }
        (Some(d), None) => {
            let id = DistrictId::parse(d).map_err(|e| ApiError::BadRequest(e.0))?;
            config
                .district(&id)
                .ok_or_else(|| ApiError::NotFound(format!("no district '{id}'")))?;
            config
                .stations
                .iter()
                .filter(|s| s.district == id)
                .collect()
        }
        (None, Some(list)) => list
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| station_in(&config, s))
            .collect::<Result<_, _>>()?,
        (None, None) => config
            .stations
            .iter()
            .filter(|s| super::auth::covers(&device.scope, s))
            .collect(),
    };
    if chosen.is_empty() {
        return Err(ApiError::NotFound(
            if matches!(device.scope, Scope::Nothing) {
                "this token covers no stations".to_owned()
            } else {
                "no stations match the request".to_owned()
            },
        ));
    }
    for s in &chosen {
        may_read(&device, s)?;
    }
    let streams: Vec<_> = chosen
        .iter()
        .filter_map(|s| watch(&state, &s.id, full))
        .collect();
    Ok(upgrade(
        ws,
        &state,
        holder(Some(&device), peer),
        SocketKind::MultiStation,
        stream::select_all(streams).boxed(),
    ))
}
