//! The HTTP surface: one small router per area, merged by [`app`].
//!
//! | area | file |
//! |---|---|
//! | posting events | `events.rs` |
//! | reading stations (directory, full, public) | `stations.rs` |
//! | the public joining a queue before arriving | `join.rs` |
//! | the public booking a time: proof of work, the booking, its code's routes | `bookings/` |
//! | live WebSockets | `live.rs` |
//! | the capacity calculator | `capacity.rs` |
//! | its bounds: node budget, solver slots, cancellation, rate per address | `calculator.rs` |
//! | health | `health.rs` |
//! | who a token is | `me.rs` |
//! | devices: list, revoke tokens | `devices.rs` |
//! | reloading the config file | `admin.rs` |
//! | opening hours for the coming two weeks | `opening_hours.rs` |
//! | the distancing rule at run time | `rules.rs` |
//! | a bookable service's free slots, and a district's next ones | `slots.rs` |
//! | a national booking system's push: bookings by its reference | `integration.rs` |
//! | daily reports and history from the log | `reports.rs` |
//! | a visitor's own ticket by its link: view, socket, actions | `tickets.rs` |
//! | the web pages | `web.rs` |
//! | a ticket link's or booking's QR code (`/t/{code}/qr.svg`, `/b/{code}/qr.svg`) | `qr.rs` |
//! | errors as problem+json | `problem.rs` |
//! | request bodies: size, content type, strict JSON | `json.rs` |
//! | the OpenAPI document (`GET /api/v1/openapi.json`) | `openapi.rs` |
//! | load shedding and request timeouts | `limits.rs` |
//! | the token extractor, roles and scopes | `auth.rs` |
//! | `GET /metrics` and the layer that measures every request | `metrics.rs` |

pub mod admin;
pub mod auth;
pub mod bookings;
pub mod calculator;
pub mod capacity;
pub mod devices;
pub mod events;
pub mod health;
pub mod integration;
pub mod join;
pub mod json;
pub mod limits;
pub mod live;
pub mod me;
pub mod message_codes;
pub mod metrics;
pub mod openapi;
pub mod opening_hours;
pub mod problem;
pub mod qr;
pub mod reports;
pub mod rules;
pub mod slots;
pub mod stations;
pub mod ticket_link;
pub mod tickets;
pub mod web;

use axum::Json;
use axum::Router;
use axum::extract::{MatchedPath, Path};
use axum::http::Request;
use axum::routing::get;
use tower_http::trace::TraceLayer;

use crate::config;
use crate::domain::{DistrictId, StationId};
use crate::state::AppState;
use problem::{ApiError, CATALOGUE, ProblemType};

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(events::router())
        .merge(stations::router())
        .merge(live::router())
        .merge(capacity::router(&state.config()))
        .merge(join::router(&state.config()))
        .merge(bookings::router(&state.config()))
        .merge(health::router())
        .merge(me::router())
        .merge(devices::router())
        .merge(admin::router())
        .merge(opening_hours::router())
        .merge(rules::router())
        .merge(slots::router())
        .merge(integration::router())
        .merge(reports::router())
        .merge(tickets::router())
        .merge(openapi::router())
        .merge(web::router())
        .merge(qr::router())
        .merge(metrics::router())
        .route("/problems", get(catalogue))
        .route("/problems/{slug}", get(problem_type))
        .fallback(|| async { ApiError::NotFound("no such page or API route".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError::MethodNotAllowed("this route does not accept that HTTP method".into())
        })
        .layer(axum::middleware::from_fn_with_state(
            limits::RequestLimits::new(&state.config().limits),
            limits::shed_and_time_out,
        ))
        // Outside the shedding layer, so a request it turns away is measured too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::observe,
        ))
        .with_state(state)
        .layer(
            // Spans name the matched route, never the raw URI: query strings may carry a token.
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("(unmatched)", MatchedPath::as_str);
                tracing::info_span!("http", method = %req.method(), route = %route)
            }),
        )
}

/// Every problem type the API can return.
#[utoipa::path(
    get,
    path = "/problems",
    tag = "meta",
    responses(
        (status = 200, description = "The catalogue of problem types", body = [ProblemType]),
    ),
)]
async fn catalogue() -> Json<&'static [ProblemType]> {
    Json(&CATALOGUE)
}

/// One problem type, by its slug.
#[utoipa::path(
    get,
    path = "/problems/{slug}",
    tag = "meta",
    params(("slug" = String, Path, description = "e.g. `invalid-field`")),
    responses(
        (status = 200, description = "The problem type", body = ProblemType),
        (status = 404, description = "No such problem type"),
    ),
)]
async fn problem_type(Path(slug): Path<String>) -> Result<Json<ProblemType>, ApiError> {
    CATALOGUE
        .iter()
        .find(|p| p.slug == slug)
        .map(|p| Json(*p))
        .ok_or_else(|| ApiError::NotFound(format!("no problem type '{slug}'")))
}

/// One station's config, out of the config in force when the request began: a reload during the
/// request does not change it under the handler.
pub(crate) struct StationConfig {
    config: std::sync::Arc<config::Config>,
    index: usize,
}

impl std::ops::Deref for StationConfig {
    type Target = config::Station;
    fn deref(&self) -> &config::Station {
        &self.config.stations[self.index]
    }
}

/// The station named in a path, or 404.
pub(crate) fn station_config(state: &AppState, raw: &str) -> Result<StationConfig, ApiError> {
    let config = state.config();
    StationId::parse(raw)
        .ok()
        .and_then(|id| config.stations.iter().position(|s| s.id == id))
        .map(|index| StationConfig { config, index })
        .ok_or_else(|| no_station(raw))
}

/// The station named `raw` in `config`, or 404 (for handlers that work on several stations of
/// one config snapshot).
pub(crate) fn station_in<'a>(
    config: &'a config::Config,
    raw: &str,
) -> Result<&'a config::Station, ApiError> {
    StationId::parse(raw)
        .ok()
        .and_then(|id| config.station(&id))
        .ok_or_else(|| no_station(raw))
}

fn no_station(raw: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no station '{raw}'; GET /api/v1/stations lists them"
    ))
}

/// `?district=`, if given: a configured district, or 404.
pub(crate) fn district_param(
    state: &AppState,
    params: &std::collections::HashMap<String, String>,
) -> Result<Option<DistrictId>, ApiError> {
    params
        .get("district")
        .map(|raw| {
            DistrictId::parse(raw)
                .ok()
                .filter(|id| state.config().district(id).is_some())
                .ok_or_else(|| {
                    ApiError::NotFound(format!(
                        "no district '{raw}'; GET /api/v1/stations lists them"
                    ))
                })
        })
        .transpose()
}
