//! The WebSocket routes: a station's full live status (token), its public live status (no
//! token), and a guard's stream of several stations. Authentication and scope are checked before
//! the upgrade, so a refused client gets an ordinary problem+json answer. Browsers cannot set
//! headers on a WebSocket, so the token may also come as the `access_token` query parameter
//! (which the request log never records: it logs paths, not queries).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::{Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio_stream::wrappers::WatchStream;

use super::auth::{bearer_token, may_read};
use super::problem::ApiError;
use super::station_config;
use crate::config::{self, Device, Scope};
use crate::domain::{DistrictId, StationId};
use crate::hub::Docs;
use crate::live::{self, Heartbeat};
use crate::state::AppState;

/// Clients send only pongs and tiny control messages.
pub const MAX_INBOUND_MESSAGE: usize = 4 * 1024;

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
        state.tokens.require(token.as_deref()).map(LiveCaller)
    }
}

fn upgrade(
    ws: WebSocketUpgrade,
    state: &AppState,
    updates: BoxStream<'static, Utf8Bytes>,
) -> Response {
    let shutdown = state.shutdown.clone();
    ws.max_message_size(MAX_INBOUND_MESSAGE)
        .max_frame_size(MAX_INBOUND_MESSAGE)
        .on_upgrade(move |socket: WebSocket| async move {
            let ended = live::serve(socket, updates, shutdown, Heartbeat::default()).await;
            tracing::debug!(?ended, "live socket closed");
        })
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

async fn station_live(
    State(state): State<AppState>,
    LiveCaller(device): LiveCaller,
    Path(station): Path<String>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let station = station_config(&state, &station)?;
    may_read(&device, station)?;
    let updates = watch(&state, &station.id, full).ok_or(ApiError::Internal)?;
    Ok(upgrade(ws, &state, updates))
}

async fn public_live(
    State(state): State<AppState>,
    Path(station): Path<String>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let station = station_config(&state, &station)?;
    let updates = watch(&state, &station.id, public).ok_or(ApiError::Internal)?;
    Ok(upgrade(ws, &state, updates))
}

/// `GET /api/v1/live?district=<id>` or `?stations=a,b`, or neither for every station the token
/// covers. Each document names its station.
async fn multi_live(
    State(state): State<AppState>,
    LiveCaller(device): LiveCaller,
    Query(params): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let chosen: Vec<&config::Station> = match (params.get("district"), params.get("stations")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give either `district` or `stations`, not both".into(),
            ));
        }
        (Some(d), None) => {
            let id = DistrictId::parse(d).map_err(|e| ApiError::BadRequest(e.0))?;
            state
                .config
                .district(&id)
                .ok_or_else(|| ApiError::NotFound(format!("no district '{id}'")))?;
            state
                .config
                .stations
                .iter()
                .filter(|s| s.district == id)
                .collect()
        }
        (None, Some(list)) => list
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| station_config(&state, s))
            .collect::<Result<_, _>>()?,
        (None, None) => state
            .config
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
    Ok(upgrade(ws, &state, stream::select_all(streams).boxed()))
}
