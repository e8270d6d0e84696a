//! The web pages, embedded in the binary at compile time (no CDN, nothing fetched at run time).
//!
//! | page | for | files |
//! |---|---|---|
//! | `/` | the public: district → station → service, hours, how busy, joining a queue, booking a time | `index.html`, `public.js`, `public/` |
//! | `/dashboard` | guards: every station in the token's scope | `dashboard.html`, `dashboard.js` |
//! | `/display/{station}` | the lobby screen | `display.html`, `display.js` |
//! | `/terminal/{station}` | the front desk | `terminal.html`, `terminal.js`, `slip.css` (its printed ticket slip) |
//! | `/t/{code}` | a visitor following their own ticket (the code is the capability) | `ticket.html`, `ticket.js`, `ticket/` |
//! | `/b/{code}` | a visitor's own booking: its code and QR, move, cancel (the code is the capability) | `booking.html`, `booking.js`, `booking/`, `booking.css` |
//! | `/display/{x}`, `/terminal/{x}` for no such station | whoever mistyped it: a 404 page saying so | `missing.html`, `missing.js` |
//!
//! Every page links `favicon.svg` (also answered at `/favicon.ico`, where browsers look by
//! themselves), so no page load ends in a 404 in the console.
//!
//! Shared modules: `common.js` (fetch, socket, session), `i18n.js` (the language and its
//! catalogue, `lang/*.json`, served by [`languages`]), `format.js`
//! (times, numbers, names), `dom.js` (building elements). The dashboard's parts are in
//! `dashboard/`, the display's in `display/`, the terminal's in `terminal/` and `outbox.js`.
//!
//! For page development, `serve --web-dir web` reads the files from disk on every request instead,
//! so a page can be edited and reloaded without rebuilding. Only then are the pages' unit tests
//! (`web/tests/*.test.html`) served, under `/tests/`: they are not embedded, so a production
//! binary does not carry or expose them.

use std::path::Path;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::problem::ApiError;
use super::station_config;

mod languages;
use crate::state::AppState;

/// One embedded file: its name under `web/` and its compiled-in content.
pub struct Asset {
    pub file: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! asset {
    ($file:literal, $type:expr) => {
        Asset {
            file: $file,
            content_type: $type,
            body: include_str!(concat!("../../web/", $file)),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// Every embedded file; those not named by a page route are served under `/assets/`.
pub const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("dashboard.html", "text/html; charset=utf-8"),
    asset!("display.html", "text/html; charset=utf-8"),
    asset!("terminal.html", "text/html; charset=utf-8"),
    asset!("missing.html", "text/html; charset=utf-8"),
    asset!("ticket.html", "text/html; charset=utf-8"),
    asset!("ticket.css", "text/css; charset=utf-8"),
    asset!("ticket.js", JS),
    asset!("ticket/view.js", JS),
    asset!("ticket/alert.js", JS),
    asset!("ticket/actions.js", JS),
    asset!("booking.html", "text/html; charset=utf-8"),
    asset!("booking.css", "text/css; charset=utf-8"),
    asset!("booking.js", JS),
    asset!("booking/move.js", JS),
    asset!("choices.js", JS),
    asset!("favicon.svg", SVG),
    asset!("missing.js", JS),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("dashboard.css", "text/css; charset=utf-8"),
    asset!("display.css", "text/css; charset=utf-8"),
    asset!("terminal.css", "text/css; charset=utf-8"),
    asset!("slip.css", "text/css; charset=utf-8"),
    asset!("common.js", JS),
    asset!("i18n.js", JS),
    asset!("format.js", JS),
    asset!("dom.js", JS),
    asset!("public.js", JS),
    asset!("public/join.js", JS),
    asset!("public/booking.js", JS),
    asset!("public/pow.js", JS),
    asset!("public/slots.js", JS),
    asset!("dashboard.js", JS),
    asset!("dashboard/text.js", JS),
    asset!("dashboard/session.js", JS),
    asset!("dashboard/cards.js", JS),
    asset!("dashboard/alerts.js", JS),
    asset!("dashboard/sort.js", JS),
    asset!("dashboard/chart.js", JS),
    asset!("dashboard/room.js", JS),
    asset!("dashboard/dialogs.js", JS),
    asset!("dashboard/cleaning.js", JS),
    asset!("dashboard/due.js", JS),
    asset!("dashboard/filter.js", JS),
    asset!("dashboard/bulk.js", JS),
    asset!("dashboard/bookings.js", JS),
    asset!("display.js", JS),
    asset!("display/words.js", JS),
    asset!("display/board.js", JS),
    asset!("display/fit.js", JS),
    asset!("display/sound.js", JS),
    asset!("display/lines.js", JS),
    asset!("display/bookings.js", JS),
    asset!("terminal.js", JS),
    asset!("terminal/text.js", JS),
    asset!("terminal/state.js", JS),
    asset!("terminal/view.js", JS),
    asset!("terminal/render.js", JS),
    asset!("terminal/lists.js", JS),
    asset!("terminal/outbox-view.js", JS),
    asset!("terminal/actions.js", JS),
    asset!("terminal/discard.js", JS),
    asset!("terminal/session.js", JS),
    asset!("terminal/controls.js", JS),
    asset!("terminal/current.js", JS),
    asset!("terminal/availability.js", JS),
    asset!("terminal/call-confirm.js", JS),
    asset!("terminal/transfer.js", JS),
    asset!("terminal/undo.js", JS),
    asset!("terminal/slip.js", JS),
    asset!("terminal/remote.js", JS),
    asset!("terminal/booking.js", JS),
    asset!("terminal/camera.js", JS),
    asset!("outbox.js", JS),
];

pub fn router() -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(|s: State<AppState>| page(s, "index.html")))
        .route(
            "/dashboard",
            get(|s: State<AppState>| page(s, "dashboard.html")),
        )
        .route("/display/{station}", get(station_page::<'d'>))
        .route("/terminal/{station}", get(station_page::<'t'>))
        .route("/t/{code}", get(ticket_page))
        .route("/b/{code}", get(booking_page))
        .route(
            "/favicon.ico",
            get(|s: State<AppState>| page(s, "favicon.svg")),
        )
        .route("/tests/{file}", get(test_file))
        .route("/assets/lang/{file}", get(languages::file));
    ASSETS
        .iter()
        .filter(|a| a.content_type != HTML)
        .fold(pages, |router, asset| {
            router.route(
                &format!("/assets/{}", asset.file),
                get(move |s: State<AppState>| serve(s, asset)),
            )
        })
}

fn find(file: &str) -> &'static Asset {
    ASSETS
        .iter()
        .find(|a| a.file == file)
        .expect("page routes name embedded files")
}

async fn page(state: State<AppState>, file: &'static str) -> Response {
    serve(state, find(file)).await
}

/// A per-station page (`'d'`isplay or `'t'`erminal). An unknown station is a 404 with a page
/// that says so in the reader's language and links to the public page — a person typed that
/// address, so they get a page, not a problem+json body and not a page that fails later.
async fn station_page<const KIND: char>(
    state: State<AppState>,
    UrlPath(station): UrlPath<String>,
) -> Response {
    if station_config(&state, &station).is_err() {
        let mut missing = serve(state, find("missing.html")).await;
        *missing.status_mut() = StatusCode::NOT_FOUND;
        return missing;
    }
    if KIND == 't' {
        // The origin a ticket slip's short link names, as its QR code does (`qr.rs`): the
        // configured public one, or (left empty) the page's own. Validated as a bare origin, so
        // it cannot break out of the attribute.
        let public_url = state.config().web.public_url.clone().unwrap_or_default();
        return serve_with(state, find("terminal.html"), |body| {
            body.replacen(
                PUBLIC_URL_SLOT,
                &format!(r#"<meta name="public-url" content="{public_url}">"#),
                1,
            )
        })
        .await;
    }
    // The display's wall clock must be the service's (the demo runs shifted hours; a kiosk PC's
    // clock may be wrong) from the first paint, before any document arrives: the page carries
    // the service's time at the moment it was served.
    let now = state.clock.now().to_rfc3339();
    serve_with(state, find("display.html"), |body| {
        body.replacen(
            SERVICE_TIME_SLOT,
            &format!(r#"<meta name="service-time" content="{now}">"#),
            1,
        )
    })
    .await
}

/// A visitor's ticket page, for any code: the page asks the API, which answers every unknown
/// code alike. Never stored by a cache (the address is the ticket's capability) and never
/// named to another site (`serve_with` sends `Referrer-Policy: no-referrer`).
async fn ticket_page(state: State<AppState>) -> Response {
    let mut page = serve(state, find("ticket.html")).await;
    page.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    page
}

/// A visitor's booking page, for any code: the page asks the API, which answers every unknown
/// code alike. Like the ticket's page, never stored by a cache and never named to another site.
async fn booking_page(state: State<AppState>) -> Response {
    let mut page = serve(state, find("booking.html")).await;
    page.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    page
}

/// Where `terminal.html` takes `[web] public_url`.
const PUBLIC_URL_SLOT: &str = r#"<meta name="public-url" content="">"#;

/// Where `display.html` takes the service's time.
const SERVICE_TIME_SLOT: &str = r#"<meta name="service-time" content="">"#;

async fn serve(state: State<AppState>, asset: &'static Asset) -> Response {
    serve_with(state, asset, |body| body).await
}

/// `asset`, its body passed through `adapt` first.
async fn serve_with(
    State(state): State<AppState>,
    asset: &'static Asset,
    adapt: impl FnOnce(String) -> String,
) -> Response {
    let body = match state.web_dir.as_deref() {
        Some(dir) => match read(dir, asset.file).await {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!(file = asset.file, cause = %e, "web file from --web-dir unreadable");
                return ApiError::NotFound(format!("{} is not readable", asset.file))
                    .into_response();
            }
        },
        None => asset.body.to_owned(),
    };
    let body = adapt(body);
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        body,
    )
        .into_response()
}

/// A file of `<web-dir>/tests/` (the pages' unit tests), only when serving from disk: a plain
/// name ending in `.html` or `.js`, so nothing outside that folder can be asked for.
async fn test_file(
    State(state): State<AppState>,
    UrlPath(file): UrlPath<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound(format!("no test page {file}"));
    let dir = state.web_dir.as_deref().ok_or_else(not_found)?;
    let plain = file
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        && !file.starts_with('.');
    let content_type = match file.rsplit_once('.') {
        Some((_, "html")) if plain => HTML,
        Some((_, "js")) if plain => JS,
        _ => return Err(not_found()),
    };
    let body = read(&dir.join("tests"), &file)
        .await
        .map_err(|_| not_found())?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response())
}

async fn read(dir: &Path, file: &str) -> std::io::Result<String> {
    tokio::fs::read_to_string(dir.join(file)).await
}
