//! Reading stations: the public directory (district → station → service, what the public page's
//! drop-downs need), a station's full status for its guards and terminals, and its public status
//! for anyone. Reads are served from the latest published documents; they never take a station's
//! lock or touch the log — except the occupancy history and the room plan, which copy a few
//! hundred numbers under the lock (they are fetched once per dashboard, not per change).

use axum::Router;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use serde::Serialize;

use super::auth::{Caller, may_read};
use super::problem::ApiError;
use super::station_config;
use chrono::{DateTime, Utc};

use crate::capacity::Capacity;
use crate::domain::status::{PublicStatus, StationStatus};
use crate::domain::{DistrictId, ServiceId, StationId};
use crate::engine::history::{BUCKET, Sample, WINDOW};
use crate::hours::DayHours;
use crate::hub::Summary;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(paths(directory, full_status, public_status, history, room))]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/stations", get(directory))
        .route("/api/v1/stations/{station}", get(full_status))
        .route("/api/v1/stations/{station}/public", get(public_status))
        .route("/api/v1/stations/{station}/history", get(history))
        .route("/api/v1/stations/{station}/room", get(room))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Directory {
    districts: Vec<DistrictEntry>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct DistrictEntry {
    id: DistrictId,
    name: String,
    timezone: String,
    stations: Vec<StationEntry>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct StationEntry {
    id: StationId,
    name: String,
    address: Option<String>,
    services: Vec<ServiceEntry>,
    /// Live headline numbers, as of `seq`.
    seq: u64,
    summary: Summary,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ServiceEntry {
    id: ServiceId,
    name: String,
    name_en: String,
    week: Vec<DayHours>,
}

/// Districts → stations → services, with weekly hours and a live summary.
#[utoipa::path(
    get,
    path = "/api/v1/stations",
    tag = "stations",
    responses(
        (status = 200, description = "The directory", body = Directory),
    ),
)]
async fn directory(State(state): State<AppState>) -> Response {
    let districts = state
        .config()
        .districts
        .iter()
        .map(|d| DistrictEntry {
            id: d.id.clone(),
            name: d.name.clone(),
            timezone: d.timezone.to_string(),
            stations: state
                .config()
                .stations
                .iter()
                .filter(|s| s.district == d.id)
                .filter_map(|s| {
                    let docs = state.station(&s.id)?.live.latest();
                    Some(StationEntry {
                        id: s.id.clone(),
                        name: s.name.clone(),
                        address: s.address.clone(),
                        services: s
                            .services
                            .iter()
                            .map(|v| ServiceEntry {
                                id: v.id.clone(),
                                name: v.name.clone(),
                                name_en: v.name_en.clone(),
                                week: v.hours.week(),
                            })
                            .collect(),
                        seq: docs.seq,
                        summary: docs.summary,
                    })
                })
                .collect(),
        })
        .collect();
    axum::Json(Directory { districts }).into_response()
}

fn json_bytes(body: Bytes) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

/// A station's full status document (guards and terminals).
#[utoipa::path(
    get,
    path = "/api/v1/stations/{station}",
    tag = "stations",
    params(("station" = String, Path, description = "The station's id, e.g. `oslo-gronland`")),
    responses(
        (status = 200, description = "The full status document", body = StationStatus),
        (status = 403, description = "The token does not cover this station"),
        (status = 404, description = "Unknown station"),
    ),
    security(("bearer" = [])),
)]
async fn full_status(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path(station): Path<String>,
) -> Result<Response, ApiError> {
    let station = station_config(&state, &station)?;
    may_read(&device, &station)?;
    let slot = state.station(&station.id).ok_or(ApiError::Internal)?;
    Ok(json_bytes(slot.live.latest().full.clone().into()))
}

/// A station's public status document: counts, ticket numbers, calls, hours and waits only.
#[utoipa::path(
    get,
    path = "/api/v1/stations/{station}/public",
    tag = "stations",
    params(("station" = String, Path, description = "The station's id, e.g. `oslo-gronland`")),
    responses(
        (status = 200, description = "The public status document", body = PublicStatus),
        (status = 404, description = "Unknown station"),
    ),
)]
async fn public_status(
    State(state): State<AppState>,
    Path(station): Path<String>,
) -> Result<Response, ApiError> {
    let station = station_config(&state, &station)?;
    let slot = state.station(&station.id).ok_or(ApiError::Internal)?;
    Ok(json_bytes(slot.live.latest().public.clone().into()))
}

/// What the history route answers: the recent window, or a range replayed from the log.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // documents the answer's shape only
enum HistoryAnswer {
    Recent(HistoryDoc),
    Logged(super::reports::LoggedHistory),
}

/// The last two hours of headcount, cap and outside queue.
#[derive(Serialize, utoipa::ToSchema)]
struct HistoryDoc {
    station: StationId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// Resolution: samples closer than this are merged.
    bucket_s: i64,
    /// Each sample holds from its `at` until the next sample (or `to`); the first may precede
    /// `from`, giving the state the window opened with.
    points: Vec<Sample>,
}

/// Headcount, cap and outside queue over the last two hours (10 s resolution); with any of
/// `from`, `to`, `step`, any range up to 7 days replayed from the log.
#[utoipa::path(
    get,
    path = "/api/v1/stations/{station}/history",
    tag = "stations",
    params(
        ("station" = String, Path, description = "The station's id, e.g. `oslo-gronland`"),
        ("from" = Option<String>, Query, description = "RFC 3339 start; default `to` minus 2 hours"),
        ("to" = Option<String>, Query, description = "RFC 3339 end; default now"),
        ("step" = Option<String>, Query, description = "Resolution like `30s`, `5m` (default) or `1h`; at most 5000 points"),
    ),
    responses(
        (status = 200, description = "The recent window (`bucket_s`) or, with `from`/`to`/`step`, the range from the log (`step_s`)", body = HistoryAnswer),
        (status = 403, description = "The token does not cover this station"),
        (status = 404, description = "Unknown station"),
        (status = 422, description = "An invalid `from`, `to` or `step` (named in `field`)"),
    ),
    security(("bearer" = [])),
)]
async fn history(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path(station): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let station = station_config(&state, &station)?;
    may_read(&device, &station)?;
    if ["from", "to", "step"]
        .iter()
        .any(|k| params.contains_key(*k))
    {
        let logged = super::reports::history_from_log(&state, &station, &params).await?;
        return Ok(axum::Json(logged).into_response());
    }
    let slot = state.station(&station.id).ok_or(ApiError::Internal)?;
    let now = state.clock.now();
    let points = slot
        .engine
        .lock()
        .map_err(|_| ApiError::Internal)?
        .history(now);
    Ok(axum::Json(HistoryDoc {
        station: station.id.clone(),
        from: now - WINDOW,
        to: now,
        bucket_s: BUCKET.num_seconds(),
        points,
    })
    .into_response())
}

/// The waiting room's plan and the seats the capacity solver chose: why the cap is what it is.
/// Public, like the capacity calculator: it is the office's furniture, not anyone's data.
#[derive(Serialize, utoipa::ToSchema)]
struct RoomDoc {
    station: StationId,
    area_m2: f64,
    /// Chair positions `[x, y]` in metres; `null` when the room has no seat plan.
    seats: Option<Vec<[f64; 2]>>,
    /// The cap and its terms; its `usable_seats` index into `seats`.
    #[serde(flatten)]
    capacity: Capacity,
}

/// The room plan: area, seat coordinates, the seats the solver chose and the cap's terms.
#[utoipa::path(
    get,
    path = "/api/v1/stations/{station}/room",
    tag = "stations",
    params(("station" = String, Path, description = "The station's id, e.g. `oslo-gronland`")),
    responses(
        (status = 200, description = "The room plan and its cap", body = RoomDoc),
        (status = 404, description = "Unknown station"),
    ),
)]
async fn room(
    State(state): State<AppState>,
    Path(station): Path<String>,
) -> Result<Response, ApiError> {
    let station = station_config(&state, &station)?;
    let slot = state.station(&station.id).ok_or(ApiError::Internal)?;
    let capacity = slot
        .engine
        .lock()
        .map_err(|_| ApiError::Internal)?
        .capacity()
        .clone();
    Ok(axum::Json(RoomDoc {
        station: station.id.clone(),
        area_m2: station.geometry.area_m2,
        seats: station.geometry.seats.clone(),
        capacity,
    })
    .into_response())
}
