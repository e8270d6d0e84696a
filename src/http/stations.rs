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
use crate::domain::{DistrictId, ServiceId, StationId};
use crate::engine::history::{BUCKET, Sample, WINDOW};
use crate::hours::DayHours;
use crate::hub::Summary;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/stations", get(directory))
        .route("/api/v1/stations/{station}", get(full_status))
        .route("/api/v1/stations/{station}/public", get(public_status))
        .route("/api/v1/stations/{station}/history", get(history))
        .route("/api/v1/stations/{station}/room", get(room))
}

#[derive(Serialize)]
struct Directory {
    districts: Vec<DistrictEntry>,
}

#[derive(Serialize)]
struct DistrictEntry {
    id: DistrictId,
    name: String,
    timezone: String,
    stations: Vec<StationEntry>,
}

#[derive(Serialize)]
struct StationEntry {
    id: StationId,
    name: String,
    address: Option<String>,
    services: Vec<ServiceEntry>,
    /// Live headline numbers, as of `seq`.
    seq: u64,
    summary: Summary,
}

#[derive(Serialize)]
struct ServiceEntry {
    id: ServiceId,
    name: String,
    name_en: String,
    week: Vec<DayHours>,
}

async fn directory(State(state): State<AppState>) -> Response {
    let districts = state
        .config
        .districts
        .iter()
        .map(|d| DistrictEntry {
            id: d.id.clone(),
            name: d.name.clone(),
            timezone: d.timezone.to_string(),
            stations: state
                .config
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

async fn full_status(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path(station): Path<String>,
) -> Result<Response, ApiError> {
    let station = station_config(&state, &station)?;
    may_read(&device, station)?;
    let slot = state.station(&station.id).ok_or(ApiError::Internal)?;
    Ok(json_bytes(slot.live.latest().full.clone().into()))
}

async fn public_status(
    State(state): State<AppState>,
    Path(station): Path<String>,
) -> Result<Response, ApiError> {
    let station = station_config(&state, &station)?;
    let slot = state.station(&station.id).ok_or(ApiError::Internal)?;
    Ok(json_bytes(slot.live.latest().public.clone().into()))
}

/// The last two hours of headcount, cap and outside queue.
#[derive(Serialize)]
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

async fn history(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path(station): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let station = station_config(&state, &station)?;
    may_read(&device, station)?;
    if ["from", "to", "step"]
        .iter()
        .any(|k| params.contains_key(*k))
    {
        let logged = super::reports::history_from_log(&state, station, &params).await?;
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
#[derive(Serialize)]
struct RoomDoc {
    station: StationId,
    area_m2: f64,
    /// Chair positions `[x, y]` in metres; `null` when the room has no seat plan.
    seats: Option<Vec<[f64; 2]>>,
    /// The cap and its terms; its `usable_seats` index into `seats`.
    #[serde(flatten)]
    capacity: Capacity,
}

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
