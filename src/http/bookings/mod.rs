//! Booking a time by the public: the proof-of-work challenge, the booking itself, and the
//! booking's own routes by its code. The slots to choose from and an office system's pushed
//! bookings live elsewhere (`slots.rs`, `integration.rs`).
//!
//! | concept | file |
//! |---|---|
//! | the proof of work: challenges, checking and spending solutions | `pow.rs` |
//! | the browser's `lw_browser` cookie that counts its open bookings | `browser.rs` |
//! | `POST /api/v1/stations/{station}/bookings` and its anti-abuse checks | `public.rs` |
//! | a booking by its code: view, move, cancel | `capability.rs` |
//! | the booking's view and the answer that carries its code | `view.rs` |
//!
//! Every answer here is `Cache-Control: no-store` and `Referrer-Policy: no-referrer`: one carries
//! a code, the rest answer to one, and no shared cache or other site should see either. Routes are
//! logged by their template only (see [`super::app`]), never with the code.

mod browser;
mod capability;
mod pow;
mod public;
mod view;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};

pub use view::page;

use crate::config::Config;
use crate::rate_limit::RateLimiter;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        pow::challenge,
        public::book,
        capability::get_booking,
        capability::move_booking,
        capability::cancel_booking
    ),
    components(schemas(
        pow::ChallengeAnswer,
        pow::Solution,
        public::BookingRequest,
        view::MadeBooking,
        view::BookingView,
        view::Status,
        capability::MoveRequest
    ))
)]
pub(super) struct Api;

/// What the public booking route remembers between requests: the solutions spent on this
/// instance and each address's allowance. The routes' alone, so their handlers close over it
/// rather than widening the service's state.
pub(super) struct Guards {
    spent: pow::SpentChallenges,
    per_address: RateLimiter<std::net::IpAddr>,
}

/// The routes, with their limiter built from `config`'s limits.
pub fn router(config: &Config) -> Router<AppState> {
    let guards = Arc::new(Guards {
        spent: pow::SpentChallenges::default(),
        per_address: RateLimiter::per_window(
            config.limits.bookings_per_hour_per_address,
            Duration::from_secs(3600),
        ),
    });
    let book = move |app, peer, station, headers, body| {
        public::book(app, guards.clone(), peer, station, headers, body)
    };
    Router::new()
        .route("/api/v1/bookings/challenge", get(pow::challenge))
        .route("/api/v1/stations/{station}/bookings", post(book))
        .route(
            "/api/v1/bookings/{code}",
            get(capability::get_booking).delete(capability::cancel_booking),
        )
        .route(
            "/api/v1/bookings/{code}/move",
            post(capability::move_booking),
        )
        .layer(DefaultBodyLimit::max(
            public::MAX_BOOKING_BODY.max(capability::MAX_MOVE_BODY),
        ))
        .layer(axum::middleware::map_response(private))
}

/// Marks an answer as for its asker alone.
async fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
