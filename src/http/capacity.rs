//! `POST /api/v1/capacity`: the capacity computation as a pure public endpoint for planners —
//! "how many may wait in this room at this distance, and which chairs". Anonymous, so its work
//! is bounded by `calculator.rs`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde::Deserialize;

use super::calculator::{Admitted, Calculator, Refused};
use super::json::{JsonBody, parse_json};
use super::problem::ApiError;
use crate::capacity::{AreaModel, Capacity, RoomGeometry};
use crate::config::{Config, Rules};
use crate::state::AppState;

/// Room for 500 seats with generous number formatting.
pub const MAX_CAPACITY_BODY: usize = 64 * 1024;

#[derive(utoipa::OpenApi)]
#[openapi(paths(compute))]
pub(super) struct Api;

/// What the route needs: its limits, and the configured rule a request may leave out.
#[derive(Clone)]
struct CalculatorState {
    calculator: Arc<Calculator>,
    rules: Rules,
}

/// The route, with a [`Calculator`] of its own built from `config`'s limits (nothing else
/// shares it).
pub fn router(config: &Config) -> Router<AppState> {
    let state = CalculatorState {
        calculator: Arc::new(Calculator::new(&config.limits)),
        rules: config.rules,
    };
    Router::new()
        .route("/api/v1/capacity", post(compute))
        .route_layer(middleware::from_fn_with_state(state.clone(), admit))
        .layer(DefaultBodyLimit::max(MAX_CAPACITY_BODY))
        .with_state(state)
}

/// A request's place at a solver, handed from [`admit`] to the handler (request extensions must
/// be `Clone`; the place itself is taken once).
#[derive(Clone)]
struct Admission(Arc<Mutex<Option<Admitted>>>);

/// Admits a request by its address's rate and a free solver before its body is read, so a
/// refusal costs next to nothing however large the plan it carries.
async fn admit(
    State(state): State<CalculatorState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let admitted = state
        .calculator
        .admit(peer.ip(), tokio::time::Instant::now())
        .map_err(|refused| match refused {
            Refused::RateLimited { per_minute, wait } => ApiError::CalculatorRateLimited {
                per_minute,
                retry_after_s: wait.as_secs_f64().ceil() as u64,
            },
            Refused::Busy => {
                // Not a warning: under attack this is every request, and logging it would cost
                // the CPU the refusal saves.
                tracing::debug!("capacity calculator busy: every solver is in use");
                ApiError::Overloaded
            }
        })?;
    req.extensions_mut()
        .insert(Admission(Arc::new(Mutex::new(Some(admitted)))));
    Ok(next.run(req).await)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CapacityRequest {
    /// Defaults to the rule in force.
    distancing_m: Option<f64>,
    /// Defaults to the rule in force.
    area_model: Option<AreaModel>,
    area_m2: f64,
    #[serde(default)]
    seats: Option<Vec<[f64; 2]>>,
    #[serde(default)]
    max_visitors: Option<u32>,
}

/// How many may wait in a room at a distancing rule, and which chairs.
#[utoipa::path(
    post,
    path = "/api/v1/capacity",
    tag = "capacity",
    request_body(content = CapacityRequest, content_type = "application/json", description = "The room; at most 64 KiB"),
    responses(
        (status = 200, description = "The cap and its terms", body = Capacity),
        (status = 400, description = "Malformed JSON"),
        (status = 413, description = "The body is over 64 KiB"),
        (status = 422, description = "An invalid field (named in `field`)"),
        (status = 429, description = "This address asked too often (`Retry-After`)"),
        (status = 503, description = "Every solver is busy; nothing was done (`Retry-After`)"),
    ),
)]
async fn compute(
    State(state): State<CalculatorState>,
    Extension(admission): Extension<Admission>,
    body: Result<JsonBody<MAX_CAPACITY_BODY>, ApiError>,
) -> Result<Json<Capacity>, ApiError> {
    let admitted = admission
        .0
        .lock()
        .map_err(|_| ApiError::Internal)?
        .take()
        .ok_or(ApiError::Internal)?;
    let JsonBody(body) = body?;
    let req: CapacityRequest = parse_json(body)?;
    let distancing_m = req.distancing_m.unwrap_or(state.rules.distancing_m);
    let model = req.area_model.unwrap_or(state.rules.area_model);
    let geometry = RoomGeometry {
        area_m2: req.area_m2,
        seats: req.seats,
        max_visitors: req.max_visitors,
    };
    state
        .calculator
        .derive(admitted, geometry, distancing_m, model)
        .await
        .map_err(|_| ApiError::Internal)?
        .map(Json)
        .map_err(|e| ApiError::invalid(e.field, e.reason))
}
