//! Reports from the log: `GET /api/v1/reports/daily?date=..&district=..` (JSON, or CSV with
//! `Accept: text/csv` or `&format=csv`) and the long-range history behind
//! `GET /api/v1/stations/{station}/history?from=..&to=..&step=5m`. Both replay the log on a
//! read-only connection in a blocking task, so they never hold up events.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::auth::{Caller, covers};
use super::problem::ApiError;
use crate::config::Rules;
use crate::config::{self, Device, Role};
use crate::domain::{DistrictId, Recorded, StationId};
use crate::engine::history::Sample;
use crate::reports;
use crate::state::AppState;
use crate::store::Log;

/// The longest range the history endpoint replays.
pub const MAX_RANGE: TimeDelta = TimeDelta::days(7);
/// The most points one history answer holds.
pub const MAX_POINTS: i64 = 5_000;

#[derive(utoipa::OpenApi)]
#[openapi(paths(daily))]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/reports/daily", get(daily))
}

/// Local midnight of `date` to the next, in UTC.
fn day_bounds(tz: Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map_or_else(
                || d.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
                |t| t.with_timezone(&Utc),
            )
    };
    (midnight(date), midnight(date.succ_opt().unwrap_or(date)))
}

/// What replaying a station over `[start, end)` needs, `start` being the start of a local day.
struct ReplayInput {
    /// The rule in force at `start`.
    rules: Rules,
    /// The bookings' own events before `start`: the bookings the day inherits.
    earlier: Vec<Recorded>,
    /// The events in between.
    events: Vec<Recorded>,
}

async fn replay_input(
    store: &Log,
    configured: Rules,
    station: &config::Station,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> anyhow::Result<ReplayInput> {
    let id = &station.id;
    let rules = reports::rules_at(
        configured,
        store.rule_change_before(id, start).await?.as_ref(),
    );
    let lookback = reports::booking_lookback(station);
    let earlier = if lookback.is_zero() {
        Vec::new()
    } else {
        reports::earlier_bookings(store.events_between(id, start - lookback, start).await?)
    };
    Ok(ReplayInput {
        rules,
        earlier,
        events: store.events_between(id, start, end).await?,
    })
}

/// Runs a report's replay — CPU work over a day of events — off the async workers.
async fn compute<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ApiError::Internal)
}

/// A failed read of the log: 503 while the database cannot be reached (try again later), else 500.
fn log_error(store: &Log, e: &anyhow::Error) -> ApiError {
    tracing::error!(cause = %e, "reading the log for a report failed");
    match store.failure() {
        Some(_) => ApiError::Unavailable(
            "the report cannot be read just now: the event log cannot be reached; try again shortly".into(),
        ),
        None => ApiError::Internal,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct DailyReport {
    date: NaiveDate,
    stations: Vec<reports::StationDay>,
}

/// Per station and service: visitors, parties, waits, occupancy, no-shows, cleanings.
#[utoipa::path(
    get,
    path = "/api/v1/reports/daily",
    tag = "reports",
    params(
        ("date" = Option<String>, Query, description = "`YYYY-MM-DD`; default today at the first station"),
        ("district" = Option<String>, Query, description = "Only this district"),
        ("station" = Option<String>, Query, description = "Only this station"),
        ("format" = Option<String>, Query, description = "`csv` for CSV (as `Accept: text/csv`)"),
    ),
    responses(
        (status = 200, description = "The day's report", content(
            (DailyReport = "application/json"),
            (String = "text/csv"),
        )),
        (status = 403, description = "Neither a guard nor an admin token, or a guard asking for stations outside its scope"),
        (status = 404, description = "Unknown district, or no station matches"),
        (status = 422, description = "An invalid `date`"),
    ),
    security(("bearer" = [])),
)]
async fn daily(
    State(state): State<AppState>,
    Caller(device): Caller,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !matches!(device.role, Role::Admin | Role::Guard) {
        return Err(ApiError::Forbidden(
            "reports are for guards and admins".into(),
        ));
    }
    let district = super::district_param(&state, &params)?;
    let stations = stations_asked(&state, &device, district.as_ref(), &params)?;
    let now = state.clock.now();
    let date = match params.get("date") {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::invalid("date", format!("'{d}' is not a date like 2026-11-25"))
        })?,
        None => now.with_timezone(&stations[0].timezone).date_naive(),
    };
    let csv = wants_csv(&params, &headers);
    let days = day_reports(&state, stations, date, now).await?;
    if csv {
        return csv_response(date, &days);
    }
    Ok(axum::Json(DailyReport {
        date,
        stations: days,
    })
    .into_response())
}

/// The stations the report covers: those of `district` and `?station=` when given, within the
/// caller's scope; a 404 when none is left.
fn stations_asked(
    state: &AppState,
    device: &Device,
    district: Option<&DistrictId>,
    params: &HashMap<String, String>,
) -> Result<Vec<Arc<config::Station>>, ApiError> {
    let in_scope = |s: &config::Station| match device.role {
        Role::Admin => true,
        Role::Guard => covers(&device.scope, s),
        _ => false,
    };
    let config = state.config();
    let asked: Vec<&config::Station> = config
        .stations
        .iter()
        .filter(|s| district.is_none_or(|d| s.district == *d))
        .filter(|s| params.get("station").is_none_or(|id| s.id.as_str() == id))
        .collect();
    if asked.is_empty() {
        return Err(ApiError::NotFound("no station matches the request".into()));
    }
    // Stations that exist but are another guard's are forbidden, not "not found".
    let stations: Vec<Arc<config::Station>> = asked
        .into_iter()
        .filter(|s| in_scope(s))
        .map(|s| Arc::new(s.clone()))
        .collect();
    if stations.is_empty() {
        return Err(ApiError::Forbidden(format!(
            "device '{}' is not assigned to the stations asked for",
            device.id
        )));
    }
    Ok(stations)
}

/// CSV when `?format=csv` or the `Accept` header names `text/csv`.
fn wants_csv(params: &HashMap<String, String>, headers: &HeaderMap) -> bool {
    params.get("format").is_some_and(|f| f == "csv")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv"))
}

/// Each station's report of `date` (its own local day), replayed from the log.
async fn day_reports(
    state: &AppState,
    stations: Vec<Arc<config::Station>>,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<reports::StationDay>, ApiError> {
    let mut days = Vec::with_capacity(stations.len());
    for station in stations {
        let bounds = day_bounds(station.timezone, date);
        let input = replay_input(&state.store, state.config().rules, &station, bounds)
            .await
            .map_err(|e| log_error(&state.store, &e))?;
        days.push(
            compute(move || {
                let logged = (&input.earlier[..], &input.events[..]);
                reports::day(&station, &input.rules, date, bounds, now, logged)
            })
            .await?,
        );
    }
    Ok(days)
}

/// The reports as a CSV download named after `date`.
fn csv_response(date: NaiveDate, days: &[reports::StationDay]) -> Result<Response, ApiError> {
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"lobbywatch-{date}.csv\""))
                    .map_err(|_| ApiError::Internal)?,
            ),
        ],
        reports::to_csv(days),
    )
        .into_response())
}

/// `?step=` as a duration: `30s`, `5m`, `1h`.
fn parse_step(s: &str) -> Option<TimeDelta> {
    // Split off the unit by character, not byte: the text is the client's.
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()]
        .parse()
        .ok()
        .filter(|n| *n > 0)?;
    match unit {
        's' => Some(TimeDelta::seconds(n)),
        'm' => Some(TimeDelta::minutes(n)),
        'h' => Some(TimeDelta::hours(n)),
        _ => None,
    }
}

fn parse_time(field: &str, s: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::invalid(
                field.to_owned(),
                format!("'{s}' is not an RFC 3339 time like 2026-11-25T08:00:00Z"),
            )
        })
}

/// The history of `station` from `from` to `to` every `step`, replayed from the log.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LoggedHistory {
    station: StationId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step_s: i64,
    points: Vec<Sample>,
}

pub async fn history_from_log(
    state: &AppState,
    station: &config::Station,
    params: &HashMap<String, String>,
) -> Result<LoggedHistory, ApiError> {
    let now = state.clock.now();
    let to = params
        .get("to")
        .map(|t| parse_time("to", t))
        .transpose()?
        .unwrap_or(now);
    let from = params
        .get("from")
        .map(|t| parse_time("from", t))
        .transpose()?
        .unwrap_or(to - TimeDelta::hours(2));
    let step = match params.get("step") {
        None => TimeDelta::minutes(5),
        Some(s) => parse_step(s).ok_or_else(|| {
            ApiError::invalid("step", format!("'{s}' is not a step like 30s, 5m or 1h"))
        })?,
    };
    if from >= to {
        return Err(ApiError::invalid("from", "must be before `to`"));
    }
    if to - from > MAX_RANGE {
        return Err(ApiError::invalid("to", "the range may be at most 7 days"));
    }
    if (to - from).num_seconds() / step.num_seconds() > MAX_POINTS {
        return Err(ApiError::invalid(
            "step",
            format!("that is more than {MAX_POINTS} points; use a larger step"),
        ));
    }
    let config = Arc::new(station.clone());
    // Days start empty: replay from the start of `from`'s local day.
    let day_start = day_bounds(
        config.timezone,
        from.with_timezone(&config.timezone).date_naive(),
    )
    .0;
    let input = replay_input(&state.store, state.config().rules, &config, (day_start, to))
        .await
        .map_err(|e| log_error(&state.store, &e))?;
    let points: Vec<Sample> = compute(move || {
        let logged = (&input.earlier[..], &input.events[..]);
        reports::series(&config, &input.rules, logged, from, to, step)
    })
    .await?;
    Ok(LoggedHistory {
        station: station.id.clone(),
        from,
        to,
        step_s: step.num_seconds(),
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_parse_and_odd_text_is_refused_not_a_panic() {
        assert_eq!(parse_step("5m"), Some(TimeDelta::minutes(5)));
        assert_eq!(parse_step("30s"), Some(TimeDelta::seconds(30)));
        assert_eq!(parse_step("1h"), Some(TimeDelta::hours(1)));
        for bad in ["", "m", "0m", "-5m", "5", "5d", "\u{80}", "5\u{80}", "ø"] {
            assert_eq!(parse_step(bad), None, "{bad:?}");
        }
    }
}
