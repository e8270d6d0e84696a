//! `POST /api/v1/admin/reload`: an admin has the service re-read its config file, as `SIGHUP`
//! does, and gets what changed — or why nothing did (the file, the key and the reason for an
//! invalid file; the station and its occupants for a removal that cannot apply). The work is
//! `crate::reload`'s; this file is only its HTTP face.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use super::auth::Caller;
use super::problem::ApiError;
use crate::config::Role;
use crate::reload::{self, ReloadError, Summary};
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(paths(reload_config), components(schemas(Summary)))]
pub(super) struct Api;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/admin/reload", post(reload_config))
}

/// Re-reads the config file and applies what changed, or refuses it whole.
#[utoipa::path(
    post,
    path = "/api/v1/admin/reload",
    tag = "admin",
    responses(
        (status = 200, description = "The config was reloaded: what changed, and what needs a restart", body = Summary),
        (status = 403, description = "Not an admin token"),
        (status = 409, description = "The file is valid but cannot apply now (e.g. a station removed while people are inside); nothing changed"),
        (status = 422, description = "The file is not a valid config: `detail` names the file, the key and the reason; nothing changed"),
    ),
    security(("bearer" = [])),
)]
async fn reload_config(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<Json<Summary>, ApiError> {
    if caller.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only an admin token may reload the config".into(),
        ));
    }
    tracing::info!(by = %caller.id, "config reload asked");
    reload::reload(&state).await.map(Json).map_err(|e| match e {
        ReloadError::Invalid(e) => ApiError::InvalidConfig(e),
        ReloadError::Refused(why) => ApiError::ReloadRefused(why),
    })
}
