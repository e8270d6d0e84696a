//! `PUT /api/v1/rules`: an admin changes the distancing rule at run time — nationally, for a
//! district, or for one station — and `GET /api/v1/rules` shows the rule in force at each station.
//!
//! A change is logged as a `rule_changed` event at every affected station (so a restart, the live
//! documents and the reports agree), each station's cap is recomputed from its stored geometry and
//! pushed live. When a cap falls below the headcount nobody is evicted: admissions stop until the
//! headcount is under the new cap, and the over-cap alert says why. Setting the rule already in
//! force changes nothing, so repeating a request is safe without an Idempotency-Key.

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::json::{JsonBody, parse_json};
use super::problem::ApiError;
use super::station_in;
use crate::config::{self, Role};
use crate::domain::event::{Distance, Reason};
use crate::domain::{DistrictId, Event, StationId};
use crate::ingest;
use crate::state::AppState;

/// A rule change is a few dozen bytes.
pub const MAX_RULES_BODY: usize = 1024;

#[derive(utoipa::OpenApi)]
#[openapi(paths(rules_in_force, change_rules))]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/rules", get(rules_in_force).put(change_rules))
        .layer(DefaultBodyLimit::max(MAX_RULES_BODY))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RuleChange {
    distancing_m: Distance,
    #[serde(default)]
    district: Option<String>,
    #[serde(default)]
    station: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct StationRule {
    station: StationId,
    district: DistrictId,
    distancing_m: f64,
    cap: u32,
    headcount: u32,
}

#[derive(Serialize, utoipa::ToSchema)]
struct RulesInForce {
    /// The rule the config file sets; stations follow it until a change names them.
    configured_distancing_m: f64,
    stations: Vec<StationRule>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ChangeAnswer {
    distancing_m: f64,
    scope: String,
    stations: Vec<ChangedStation>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ChangedStation {
    station: StationId,
    /// False when the station already had this rule (nothing was logged).
    changed: bool,
    previous_cap: u32,
    cap: u32,
    headcount: u32,
    /// The logged `rule_changed` event's sequence number, when one was logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
}

fn rule_of(state: &AppState, station: &config::Station) -> Result<StationRule, ApiError> {
    let slot = state.station(&station.id).ok_or(ApiError::Internal)?;
    let engine = slot.engine.lock().map_err(|_| ApiError::Internal)?;
    Ok(StationRule {
        station: station.id.clone(),
        district: station.district.clone(),
        distancing_m: engine.capacity().distancing_m,
        cap: engine.cap(),
        headcount: engine.headcount(),
    })
}

/// The rule and cap in force at every station.
#[utoipa::path(
    get,
    path = "/api/v1/rules",
    tag = "rules",
    responses(
        (status = 200, description = "The rules in force", body = RulesInForce),
        (status = 403, description = "Neither an admin nor a guard token"),
    ),
    security(("bearer" = [])),
)]
async fn rules_in_force(
    State(state): State<AppState>,
    Caller(device): Caller,
) -> Result<Json<RulesInForce>, ApiError> {
    if !matches!(device.role, Role::Admin | Role::Guard) {
        return Err(ApiError::Forbidden(
            "the rules in force are for admins and guards".into(),
        ));
    }
    let stations = state
        .config()
        .stations
        .iter()
        .map(|s| rule_of(&state, s))
        .collect::<Result<_, _>>()?;
    Ok(Json(RulesInForce {
        configured_distancing_m: state.config().rules.distancing_m,
        stations,
    }))
}

/// Changes the distancing rule nationally, for a district, or for one station.
#[utoipa::path(
    put,
    path = "/api/v1/rules",
    tag = "rules",
    request_body(content = RuleChange, content_type = "application/json", description = "`distancing_m`, and at most one of `district` or `station`; at most 1 KiB"),
    responses(
        (status = 200, description = "The change per station", body = ChangeAnswer),
        (status = 400, description = "Malformed JSON"),
        (status = 403, description = "Not an admin token"),
        (status = 404, description = "Unknown district or station"),
        (status = 413, description = "The body is over 1 KiB"),
        (status = 422, description = "An invalid field (named in `field`)"),
        (status = 503, description = "Overloaded, timed out, or the event log cannot be written (nothing was recorded)"),
    ),
    security(("bearer" = [])),
)]
async fn change_rules(
    State(state): State<AppState>,
    Caller(device): Caller,
    body: Result<JsonBody<MAX_RULES_BODY>, ApiError>,
) -> Result<Json<ChangeAnswer>, ApiError> {
    if device.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only an admin token may change the distancing rule".into(),
        ));
    }
    let JsonBody(body) = body?;
    let change: RuleChange = parse_json(body)?;
    let config = state.config();
    let (scope, stations): (String, Vec<&config::Station>) =
        match (&change.district, &change.station) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "station",
                    "give a `district` or a `station`, not both",
                ));
            }
            (None, Some(s)) => {
                let station = station_in(&config, s)?;
                (format!("station {}", station.id), vec![station])
            }
            (Some(d), None) => {
                let id = DistrictId::parse(d)
                    .ok()
                    .filter(|id| config.district(id).is_some())
                    .ok_or_else(|| ApiError::NotFound(format!("no district '{d}'")))?;
                let stations = config
                    .stations
                    .iter()
                    .filter(|s| s.district == id)
                    .collect();
                (format!("district {id}"), stations)
            }
            (None, None) => ("national".to_owned(), config.stations.iter().collect()),
        };
    let reason = Reason::parse(&scope).map_err(|e| ApiError::invalid("scope", e.0))?;
    let mut answer = ChangeAnswer {
        distancing_m: change.distancing_m.metres(),
        scope: scope.clone(),
        stations: Vec::new(),
    };
    let by = device.id.clone();
    for station in stations {
        let before = rule_of(&state, station)?;
        let outcome = ingest::apply_system(&state, &station.id, &by, |engine, _| {
            (engine.capacity().distancing_m != change.distancing_m.metres()).then(|| {
                Event::RuleChanged {
                    distancing_m: change.distancing_m,
                    scope: reason.clone(),
                }
            })
        })
        .await?;
        let after = rule_of(&state, station)?;
        tracing::info!(station = %station.id, by = %by, distancing_m = change.distancing_m.metres(), cap = after.cap, "distancing rule changed");
        answer.stations.push(ChangedStation {
            station: station.id.clone(),
            changed: outcome.is_some(),
            previous_cap: before.cap,
            cap: after.cap,
            headcount: after.headcount,
            seq: outcome.map(|o| o.seq),
        });
    }
    Ok(Json(answer))
}
