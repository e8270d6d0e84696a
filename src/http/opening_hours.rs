//! `GET /api/v1/opening-hours?district=..&station=..&service=..`: the public's question "when is
//! it open", answered for the coming 14 days, one entry per date with its hours — or closed, and
//! why (the weekly schedule, a public holiday by name, or a dated exception with its reason).
//! Dates are the station's local dates, so daylight-saving changes never shift a day.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::problem::ApiError;
use super::station_in;
use crate::config;
use crate::domain::{DistrictId, ServiceId, StationId};
use crate::hours::{Basis, DAY_KEYS, Range, Schedule};
use crate::state::AppState;

/// How many dates, today included.
pub const DAYS: i64 = 14;

#[derive(utoipa::OpenApi)]
#[openapi(paths(opening_hours))]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/opening-hours", get(opening_hours))
}

#[derive(Serialize, utoipa::ToSchema)]
struct OpeningHours {
    stations: Vec<StationHours>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct StationHours {
    station: StationId,
    name: String,
    district: DistrictId,
    timezone: String,
    /// Today in the station's timezone: the first date listed.
    from: NaiveDate,
    services: Vec<ServiceHours>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ServiceHours {
    service: ServiceId,
    name: String,
    name_en: String,
    dates: Vec<DateHours>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct DateHours {
    date: NaiveDate,
    weekday: &'static str,
    open: bool,
    /// e.g. `["08:00-15:30"]`; empty when closed.
    hours: Vec<String>,
    /// Why these hours: `{"kind": "weekly"}`, `{"kind": "holiday", "name": .., "name_en": ..}` or
    /// `{"kind": "exception", "reason": ..}`.
    basis: Basis,
}

/// The coming 14 dates: hours, or closed and why.
#[utoipa::path(
    get,
    path = "/api/v1/opening-hours",
    tag = "stations",
    params(
        ("district" = Option<String>, Query, description = "Every station of this district (or, with `station`, a check that it is in it)"),
        ("station" = Option<String>, Query, description = "One station"),
        ("service" = Option<String>, Query, description = "Only this service"),
    ),
    responses(
        (status = 200, description = "Hours per station, service and date", body = OpeningHours),
        (status = 400, description = "Neither `station` nor `district`"),
        (status = 404, description = "Unknown district, station or service"),
    ),
)]
async fn opening_hours(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<OpeningHours>, ApiError> {
    let district = super::district_param(&state, &params)?;
    let config = state.config();
    let stations = stations_asked(&config, params.get("station"), district.as_ref())?;
    let service = params.get("service");
    let now = state.clock.now();
    let stations = stations
        .into_iter()
        .map(|station| station_hours(station, service, now))
        .collect::<Result<_, _>>()?;
    Ok(Json(OpeningHours { stations }))
}

/// The station asked (which must be in `district` when both are given), or every station of
/// `district`; a 400 when neither is given.
fn stations_asked<'a>(
    config: &'a config::Config,
    station: Option<&String>,
    district: Option<&DistrictId>,
) -> Result<Vec<&'a config::Station>, ApiError> {
    match (station, district) {
        (Some(s), _) => {
            let station = station_in(config, s)?;
            if let Some(d) = district {
                if station.district != *d {
                    return Err(ApiError::NotFound(format!(
                        "station '{}' is not in district '{d}'",
                        station.id
                    )));
                }
            }
            Ok(vec![station])
        }
        (None, Some(d)) => Ok(config
            .stations
            .iter()
            .filter(|s| s.district == *d)
            .collect()),
        (None, None) => Err(ApiError::BadRequest(
            "name a `station` (and optionally a `service`), or a `district` for all its stations"
                .into(),
        )),
    }
}

/// `station`'s coming dates from its local today, for every service or only the one asked
/// (a 404 when the station has no such service).
fn station_hours(
    station: &config::Station,
    service: Option<&String>,
    now: DateTime<Utc>,
) -> Result<StationHours, ApiError> {
    let today = now.with_timezone(&station.timezone).date_naive();
    let services: Vec<ServiceHours> = station
        .services
        .iter()
        .filter(|s| service.is_none_or(|wanted| s.id.as_str() == wanted))
        .map(|s| service_hours(s, today))
        .collect();
    if let Some(wanted) = service {
        if services.is_empty() {
            return Err(ApiError::NotFound(format!(
                "station '{}' has no service '{wanted}'",
                station.id
            )));
        }
    }
    Ok(StationHours {
        station: station.id.clone(),
        name: station.name.clone(),
        district: station.district.clone(),
        timezone: station.timezone.to_string(),
        from: today,
        services,
    })
}

/// `service`'s hours on each of the [`DAYS`] dates from `today`.
fn service_hours(service: &config::Service, today: NaiveDate) -> ServiceHours {
    ServiceHours {
        service: service.id.clone(),
        name: service.name.clone(),
        name_en: service.name_en.clone(),
        dates: (0..DAYS)
            .map(|offset| date_hours(&service.hours, today + Duration::days(offset)))
            .collect(),
    }
}

/// The hours of `schedule` on `date`, or closed, and why.
fn date_hours(schedule: &Schedule, date: NaiveDate) -> DateHours {
    let (ranges, basis) = schedule.on(date);
    DateHours {
        date,
        weekday: DAY_KEYS[date.weekday().num_days_from_monday() as usize],
        open: !ranges.is_empty(),
        hours: ranges.iter().map(Range::to_string).collect(),
        basis,
    }
}
