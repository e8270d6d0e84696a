//! `GET /t/{code}/qr.svg`: the QR code of a ticket link, for the front desk's answer card and the
//! printed slip, and `GET /b/{code}/qr.svg`, a booking's, for its page — drawn by the service, so
//! no page needs a QR library and nothing is fetched from a CDN.
//!
//! The code is a capability: whoever holds it follows that ticket (or booking). So each route
//! - draws any well-formed code without looking it up: its answer says nothing about which codes
//!   exist (no oracle to guess against); a malformed one is a 404 like any unknown path;
//! - is logged only as its template (the request span names the matched route, never the path —
//!   see [`super::app`]), and never names the code in a log line or a problem body;
//! - is answered `Cache-Control: no-store` (no shared cache keeps a ticket's link) and
//!   `Referrer-Policy: no-referrer`.
//!
//! The QR holds the ticket page's absolute URL: its origin is `[web] public_url` when the operator
//! set one (a proxy's public name), otherwise the request's own `Host`, so a desk reached at
//! `http://10.0.0.5:8080` prints a link the visitor's phone on the same network can open.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use super::problem::ApiError;
use crate::domain::ticket_link::LinkCode;
use crate::state::AppState;

/// The routes, as they appear in logs and metrics: a ticket link's and a booking's.
pub const ROUTE: &str = "/t/{code}/qr.svg";
pub const BOOKING_ROUTE: &str = "/b/{code}/qr.svg";

/// Smallest side of the drawn code in SVG user units; the page and the slip scale it.
const MIN_SIDE: u32 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(ROUTE, get(qr_svg::<'t'>))
        .route(BOOKING_ROUTE, get(qr_svg::<'b'>))
}

/// The QR of a `'t'`icket link's page or a `'b'`ooking's.
async fn qr_svg<const PAGE: char>(
    State(state): State<AppState>,
    Path(code): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Shape only: whether such a ticket or booking exists is never asked here. The code itself
    // stays out of the problem's body: it may be a mistyped real one.
    let code = LinkCode::parse(&code).ok_or_else(|| ApiError::NotFound("no such page".into()))?;
    let origin = match state.config().web.public_url.clone() {
        Some(url) => url,
        None => request_origin(&uri, &headers)?,
    };
    let page = match PAGE {
        'b' => super::bookings::page(&code),
        _ => code.path(),
    };
    let svg = render(&format!("{origin}{page}"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        svg,
    )
        .into_response())
}

/// `http://` and the request's host (`Host`, or the authority of an HTTP/2 request). The
/// service itself speaks plain HTTP; behind a TLS proxy the operator sets `[web] public_url`.
fn request_origin(uri: &Uri, headers: &HeaderMap) -> Result<String, ApiError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .filter(|h| is_host(h))
        .ok_or_else(|| {
            ApiError::BadRequest(
                "the request names no valid Host, and no [web] public_url is configured".into(),
            )
        })?;
    Ok(format!("http://{host}"))
}

/// A host name or address with an optional port: nothing that could carry a path, a query or
/// a user name into the printed link.
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// The SVG of `url`'s QR code: black on white with the standard quiet zone, medium error
/// correction (a creased or smudged slip still scans).
pub fn render(url: &str) -> String {
    QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .expect("a ticket URL is far below a QR code's capacity")
        .render::<svg::Color<'_>>()
        .min_dimensions(MIN_SIDE, MIN_SIDE)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_comes_from_the_host_and_refuses_anything_but_a_host() {
        let mut headers = HeaderMap::new();
        let uri: Uri = "/t/x/qr.svg".parse().unwrap();
        headers.insert(header::HOST, HeaderValue::from_static("10.0.0.5:8080"));
        assert_eq!(
            request_origin(&uri, &headers).unwrap(),
            "http://10.0.0.5:8080"
        );
        headers.insert(
            header::HOST,
            HeaderValue::from_static("evil.example/phish?"),
        );
        assert!(request_origin(&uri, &headers).is_err());
        let h2: Uri = "http://[::1]:8080/t/x/qr.svg".parse().unwrap();
        assert_eq!(
            request_origin(&h2, &HeaderMap::new()).unwrap(),
            "http://[::1]:8080"
        );
    }

    #[test]
    fn the_svg_is_a_square_black_on_white_code() {
        let svg = render("https://ko.politiet.no/t/AbCdEfGhIjKlMnOpQrStUv-_");
        assert!(svg.starts_with("<?xml"), "{svg}");
        assert!(svg.contains("<svg"), "{svg}");
        assert!(svg.contains("#000000") && svg.contains("#ffffff"));
    }
}
