//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the HTTP API, for client generators
//! and for people reading the API without the source.
//!
//! The document is generated, never written by hand: every handler carries a
//! `#[utoipa::path(...)]` annotation next to its code (method, path, parameters, body, the
//! success answer and the problem+json refusals it can give), each area's file collects its own
//! in an `Api` struct, and [`document`] merges them. The wire types derive `ToSchema` where they
//! are defined; this file adds the schemas of the two whose JSON is not their Rust shape (a
//! [`Ticket`] is the string `P007`, a [`Text`] a bounded string) and the security schemes. It is
//! built once and served as bytes. The API test checks that every route of the router is in it.
//!
//! Every refusal is the same RFC 9457 body, so a handler documents a refusal by its status and
//! what it means there only; [`problem_bodies`] gives each the one problem+json response body,
//! documents on every route the 503 that the load-shedding layer in front of all of them can
//! give, and on every route that takes a token the 401 for a missing, unknown or revoked one.

use std::borrow::Cow;
use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, ObjectBuilder, Ref, RefOr, Response, Schema, Type};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::domain::Ticket;
use crate::domain::event::Text;
use crate::state::AppState;

/// Where the document is served.
pub const PATH: &str = "/api/v1/openapi.json";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(openapi_json))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "lobbywatch",
        description = "Waiting-room occupancy and queue monitor for public offices under distancing rules. \
            Every error is `application/problem+json` (RFC 9457) with a stable `type` listed at `GET /problems`. \
            Tokens go in `Authorization: Bearer <token>`; WebSocket routes also take `?access_token=`."
    ),
    paths(openapi_json, super::catalogue, super::problem_type),
    components(schemas(super::problem::Problem)),
    modifiers(&Security),
)]
struct Base;

/// The bearer token scheme every token route names.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A device token from the config; its role and scope decide what it may do",
                    ))
                    .build(),
            ),
        );
    }
}

/// The description of the 503 every route can answer (load shedding and request timeouts).
const BUSY: &str = "Overloaded or timed out";
/// The description of the 401 every route that takes a token can answer.
const NO_TOKEN: &str = "No token, or an unknown or revoked one";

/// Gives every documented refusal (4xx, 5xx) that has no body of its own the problem+json body,
/// every operation the 503 of the shedding layer if it does not document its own, and every
/// operation that names a security scheme the 401 of a token refused.
fn problem_bodies(doc: &mut utoipa::openapi::OpenApi) {
    let problem = Content::new(Some(Ref::from_schema_name("Problem")));
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            let takes_token = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let responses = &mut op.responses.responses;
            responses
                .entry("503".to_owned())
                .or_insert_with(|| Response::new(BUSY).into());
            if takes_token {
                responses
                    .entry("401".to_owned())
                    .or_insert_with(|| Response::new(NO_TOKEN).into());
            }
            for (status, response) in responses.iter_mut() {
                let refusal = status.starts_with('4') || status.starts_with('5');
                if let (true, RefOr::T(response)) = (refusal, response) {
                    if response.content.is_empty() {
                        response
                            .content
                            .insert(super::problem::PROBLEM_JSON.to_owned(), problem.clone());
                    }
                }
            }
        }
    }
}

/// The whole document: the base merged with every area's paths and schemas.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    for area in [
        super::events::Api::openapi(),
        super::stations::Api::openapi(),
        super::live::Api::openapi(),
        super::capacity::Api::openapi(),
        super::join::Api::openapi(),
        super::bookings::Api::openapi(),
        super::health::Api::openapi(),
        super::me::Api::openapi(),
        super::devices::Api::openapi(),
        super::admin::Api::openapi(),
        super::opening_hours::Api::openapi(),
        super::rules::Api::openapi(),
        super::slots::Api::openapi(),
        super::integration::Api::openapi(),
        super::reports::Api::openapi(),
        super::tickets::Api::openapi(),
        super::metrics::Api::openapi(),
    ] {
        doc.merge(area);
    }
    problem_bodies(&mut doc);
    doc
}

/// Built once: the document never changes while the service runs.
static DOCUMENT: LazyLock<Bytes> = LazyLock::new(|| {
    document()
        .to_json()
        .expect("the OpenAPI document serializes")
        .into()
});

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses(
        (status = 200, description = "This document", content_type = "application/json", body = Object),
    ),
)]
async fn openapi_json() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        DOCUMENT.clone(),
    )
}

impl PartialSchema for Ticket {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A queue ticket: the service's prefix letter and the day's number, shown with at least three digits",
            ))
            .pattern(Some("^[A-Z][0-9]{1,6}$"))
            .examples([serde_json::json!("P007")])
            .into()
    }
}

impl ToSchema for Ticket {}

impl<const MAX: usize> PartialSchema for Text<MAX> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Text a person typed: trimmed, no control characters"))
            .min_length(Some(1))
            .max_length(Some(MAX))
            .into()
    }
}

impl<const MAX: usize> ToSchema for Text<MAX> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("Text{MAX}"))
    }
}
