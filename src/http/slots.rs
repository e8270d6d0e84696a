//! The public's "when can I come": a bookable service's free slots at one station
//! (`GET /api/v1/stations/{station}/slots`), and the next free slot at each station of a district
//! with the first anywhere in it (`GET /api/v1/districts/{district}/next-slots`).
//!
//! Both read the engine under the station's lock and compute nothing of their own: the slots are
//! cut by `engine/slots.rs` from the service's hours, dated exceptions and public holidays on
//! each station-local day, so a daylight-saving change or a holiday is seen here exactly as a
//! booking sees it. Only slots with a free place are listed. No token is needed, and the answers
//! may be cached for a few seconds only: a slot taken a moment ago must not be offered for long.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::problem::ApiError;
use super::station_config;
use crate::config;
use crate::domain::{DistrictId, ServiceId, StationId};
use crate::engine::Station;
use crate::engine::slots::FreeSlot;
use crate::state::AppState;

/// How long a client or proxy may keep an answer: short, since slots are taken all day.
const CACHE_SECONDS: &str = "public, max-age=5";

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(station_slots, district_next_slots),
    components(schemas(StationSlots, SlotView, DistrictNextSlots, StationNext, FirstSlot))
)]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/stations/{station}/slots", get(station_slots))
        .route(
            "/api/v1/districts/{district}/next-slots",
            get(district_next_slots),
        )
}

/// One free slot: RFC 3339 UTC instants, and how many more bookings it takes (at least 1).
#[derive(Serialize, utoipa::ToSchema)]
struct SlotView {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    free: u32,
}

impl From<FreeSlot> for SlotView {
    fn from(s: FreeSlot) -> Self {
        Self {
            start: s.start,
            end: s.end,
            free: s.free,
        }
    }
}

/// A service's free slots at a station over the station-local days `from..=to`.
#[derive(Serialize, utoipa::ToSchema)]
struct StationSlots {
    station: StationId,
    service: ServiceId,
    /// The station's time zone: the days and the opening hours are its local ones.
    timezone: String,
    slot_min: u32,
    /// How many days ahead the station takes bookings (today is day 0).
    horizon_days: u32,
    /// The first local day listed: the one asked, or today if that was earlier.
    from: NaiveDate,
    /// The last local day listed: the one asked, or the horizon's last day if that was earlier.
    to: NaiveDate,
    slots: Vec<SlotView>,
}

/// The free slots of a bookable service at a station.
#[utoipa::path(
    get,
    path = "/api/v1/stations/{station}/slots",
    tag = "bookings",
    params(
        ("station" = String, Path, description = "The station's id, e.g. `oslo-gronland`"),
        ("service" = String, Query, description = "A service the station takes bookings for, e.g. `passport`"),
        ("from" = Option<String>, Query, description = "First station-local day, `YYYY-MM-DD` (default today; an earlier day is clipped to today)"),
        ("to" = Option<String>, Query, description = "Last station-local day, `YYYY-MM-DD` (default the horizon's last day; a later day is clipped to it, so a range wholly beyond the horizon lists no slots)"),
    ),
    responses(
        (status = 200, description = "The free slots (each with `free` ≥ 1), in order; slots already started or full are left out. `from` and `to` are the days actually listed, after clipping", body = StationSlots),
        (status = 400, description = "No `service` named"),
        (status = 404, description = "Unknown station"),
        (status = 422, description = "The station has no such service, or does not take bookings for it (`field` = `service`); a date that is not `YYYY-MM-DD`, or `to` before `from` (`field` names it)"),
    ),
)]
async fn station_slots(
    State(state): State<AppState>,
    Path(station): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let station = station_config(&state, &station)?;
    let service = service_param(&params)?;
    let (from, to) = (date_param(&params, "from")?, date_param(&params, "to")?);
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(ApiError::invalid(
                "to",
                format!("{t} is before `from` ({f}); give a `to` on or after it"),
            ));
        }
    }
    let slot = state
        .station(&station.id)
        .ok_or_else(|| ApiError::NotFound(format!("no station '{}'", station.id)))?;
    let engine = slot.engine.lock().map_err(|_| ApiError::Internal)?;
    let answer = free_slots(&engine, service, (from, to), state.clock.now())?;
    drop(engine);
    Ok(cacheable(answer))
}

/// `service`'s free slots at the station of `engine` over the local days asked, clipped to today
/// and the horizon as of `now`.
fn free_slots(
    engine: &Station,
    service: ServiceId,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    now: DateTime<Utc>,
) -> Result<StationSlots, ApiError> {
    let config = engine.config();
    let booking = engine
        .bookable(&service)
        .and_then(|spec| spec.booking)
        .ok_or_else(|| not_bookable(config, &service))?;
    let (today, last) = engine.booking_days(now);
    let first_day = from.unwrap_or(today).max(today);
    let last_day = to.unwrap_or(last).min(last);
    let tz = config.timezone;
    let (start, end) = (
        local_midnight(tz, first_day),
        local_midnight(tz, last_day.succ_opt().unwrap_or(last_day)),
    );
    let slots = engine
        .slots(&service, start, end, now)
        .into_iter()
        .filter(|s| s.free > 0)
        .map(SlotView::from)
        .collect();
    Ok(StationSlots {
        station: config.id.clone(),
        service,
        timezone: tz.to_string(),
        slot_min: booking.slot_min,
        horizon_days: config.bookings.horizon_days,
        from: first_day,
        to: last_day,
        slots,
    })
}

/// The next free slot of a service at each station of a district that books it, and the first
/// anywhere in the district.
#[derive(Serialize, utoipa::ToSchema)]
struct DistrictNextSlots {
    district: DistrictId,
    service: ServiceId,
    /// Every station of the district that takes bookings for the service, in the config's order.
    stations: Vec<StationNext>,
    /// The earliest of the stations' next slots (the first station listed wins a tie); `null`
    /// when none has a free slot within its horizon.
    first: Option<FirstSlot>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct StationNext {
    station: StationId,
    name: String,
    /// Its first free slot from now to its horizon, or `null` when every slot is taken.
    next: Option<SlotView>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct FirstSlot {
    station: StationId,
    name: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// The next free slot per station of a district, and the first in the district.
#[utoipa::path(
    get,
    path = "/api/v1/districts/{district}/next-slots",
    tag = "bookings",
    params(
        ("district" = String, Path, description = "The district's id, e.g. `oslo`"),
        ("service" = String, Query, description = "The service, e.g. `passport`"),
    ),
    responses(
        (status = 200, description = "Each station of the district that books the service, with its next free slot, and the first anywhere", body = DistrictNextSlots),
        (status = 400, description = "No `service` named"),
        (status = 404, description = "Unknown district"),
        (status = 422, description = "No station of the district takes bookings for the service (`field` = `service`)"),
    ),
)]
async fn district_next_slots(
    State(state): State<AppState>,
    Path(district): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let config = state.config();
    let district = DistrictId::parse(&district)
        .ok()
        .filter(|id| config.district(id).is_some())
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no district '{district}'; GET /api/v1/stations lists them"
            ))
        })?;
    let service = service_param(&params)?;
    let now = state.clock.now();
    let stations: Vec<StationNext> = config
        .stations
        .iter()
        .filter(|s| s.district == district)
        .filter_map(|s| next_at(&state, &s.id, &service, now))
        .collect::<Result<_, _>>()?;
    if stations.is_empty() {
        return Err(ApiError::invalid(
            "service",
            format!(
                "no station of district '{district}' takes bookings for '{service}'; GET /api/v1/opening-hours?district={district} lists each station's services"
            ),
        ));
    }
    let first = first_of(&stations);
    Ok(cacheable(DistrictNextSlots {
        district,
        service,
        stations,
        first,
    }))
}

/// `station`'s next free slot of `service`; `None` when the station does not book it.
fn next_at(
    state: &AppState,
    station: &StationId,
    service: &ServiceId,
    now: DateTime<Utc>,
) -> Option<Result<StationNext, ApiError>> {
    let slot = state.station(station)?;
    let Ok(engine) = slot.engine.lock() else {
        return Some(Err(ApiError::Internal));
    };
    engine.bookable(service)?;
    Some(Ok(StationNext {
        station: station.clone(),
        name: engine.config().name.clone(),
        next: engine.next_free_slot(service, now).map(SlotView::from),
    }))
}

/// The earliest next slot of `stations`; the first listed wins a tie.
fn first_of(stations: &[StationNext]) -> Option<FirstSlot> {
    stations
        .iter()
        .filter_map(|s| s.next.as_ref().map(|next| (s, next)))
        .min_by_key(|(_, next)| next.start)
        .map(|(s, next)| FirstSlot {
            station: s.station.clone(),
            name: s.name.clone(),
            start: next.start,
            end: next.end,
        })
}

/// `?service=`: required, and a well-formed id.
fn service_param(params: &HashMap<String, String>) -> Result<ServiceId, ApiError> {
    let raw = params.get("service").ok_or_else(|| {
        ApiError::BadRequest("name the service: `?service=passport`, for example".into())
    })?;
    ServiceId::parse(raw).map_err(|e| ApiError::invalid("service", e.0))
}

/// `?from=` or `?to=`, if given: a date `YYYY-MM-DD`.
fn date_param(params: &HashMap<String, String>, name: &str) -> Result<Option<NaiveDate>, ApiError> {
    params
        .get(name)
        .map(|raw| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
                ApiError::invalid(name, format!("'{raw}' is not a date like 2026-05-18"))
            })
        })
        .transpose()
}

/// The 422 for `service` at `station`, naming the services that do take bookings there.
fn not_bookable(station: &config::Station, service: &ServiceId) -> ApiError {
    let bookable: Vec<&str> = station
        .services
        .iter()
        .filter(|s| s.booking.is_some())
        .map(|s| s.id.as_str())
        .collect();
    let offer = if bookable.is_empty() {
        "it takes no bookings at all".to_owned()
    } else {
        format!("it takes bookings for: {}", bookable.join(", "))
    };
    let what = if station.services.iter().any(|s| &s.id == service) {
        "does not take bookings for"
    } else {
        "has no service"
    };
    ApiError::invalid(
        "service",
        format!("station '{}' {what} '{service}'; {offer}", station.id),
    )
}

/// The first instant of the local `day` in `tz` (midnight, or the first minute after a clock
/// change that skips it).
fn local_midnight(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    (0..=120)
        .filter_map(|minute| {
            let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0)?;
            tz.from_local_datetime(&day.and_time(time)).earliest()
        })
        .next()
        .map_or_else(
            || day.and_time(NaiveTime::MIN).and_utc(),
            |t| t.with_timezone(&Utc),
        )
}

/// `body` as JSON that clients and proxies may keep for a few seconds.
fn cacheable(body: impl Serialize) -> Response {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_SECONDS),
        )],
        Json(body),
    )
        .into_response()
}
