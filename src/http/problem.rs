//! Every error the API returns, as RFC 9457 `application/problem+json`.
//!
//! One enum, [`ApiError`], for every refusal. Each variant has a stable `type` (a relative URI
//! under `/problems/`, listed with explanations at `GET /problems`), a fixed `title`, the HTTP
//! status, and a `detail` written for the person who must fix the request. Internal causes are
//! logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;

use crate::domain::message::Message;
use crate::domain::{DeviceId, StationId};
use crate::engine::Refusal;
use crate::idempotency::Answer;
use crate::ingest::IngestError;
use crate::tokens::Rejected;

/// The content type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every error the API answers with. Those a clerk's or guard's page shows carry a message
/// ([`ApiError::message`]: a code from [`PROBLEMS`] or a refusal's, with params), and their
/// English `detail` is rendered from it; the rest say in English what to fix in the request.
#[derive(Debug, Clone)]
pub enum ApiError {
    MalformedJson(String),
    BadRequest(String),
    MissingIdempotencyKey,
    InvalidIdempotencyKey,
    InvalidField {
        field: String,
        reason: String,
    },
    IdempotencyKeyReused,
    IdempotencyKeyExpired {
        answered_at: String,
        retention_h: i64,
    },
    RequestInFlight,
    NotFound(String),
    /// A ticket link that is malformed, never issued, or expired: one answer for all three, so
    /// the route tells a guesser nothing.
    UnknownTicketLink,
    /// "I'm here" from a ticket's page without the code posted at the station's entrance (or at
    /// a station that posts none).
    WrongEntranceCode(String),
    Refused(Refusal),
    /// No token, or one the service does not accept.
    Unauthorized(Rejected),
    Forbidden(String),
    /// A terminal or guard token used at a station outside its scope.
    NotAssigned {
        device: DeviceId,
        station: StationId,
    },
    /// An event only a guard may send (its kind: `correction`, `override`, `acknowledge`).
    GuardsOnly(&'static str),
    MethodNotAllowed(String),
    PayloadTooLarge(String),
    UnsupportedMediaType(String),
    Unavailable(String),
    RateLimited {
        per_minute: u32,
        retry_after_s: u64,
    },
    CalculatorRateLimited {
        per_minute: u32,
        retry_after_s: u64,
    },
    /// This source address joined queues too often (the public page's join, which has no token).
    JoinRateLimited {
        per_hour: u32,
        retry_after_s: u64,
    },
    /// A public booking's proof of work is missing, malformed, wrong, expired or spent: what
    /// to do is the same for each (fetch a new challenge), the detail says which.
    PowFailed(String),
    /// This source address made too many public bookings.
    BookingRateLimited {
        per_hour: u32,
        retry_after_s: u64,
    },
    /// The asking browser already holds as many open bookings as one may.
    TooManyOpenBookings {
        limit: u32,
    },
    /// A booking code that is malformed, never issued or no longer kept: one answer for all,
    /// so the routes tell a guesser nothing.
    UnknownBooking,
    Overloaded,
    TimedOut(u64),
    /// A reload's file is not a valid config: every error, each naming the file, the key and
    /// the reason.
    InvalidConfig(crate::config::ConfigErrors),
    /// An integration pushed a booking it had pushed before under the same reference with
    /// another service or party size (what differs, in English).
    BookingDiffers(String),
    /// A reload's file is valid but cannot apply now (a station with people inside, say).
    ReloadRefused(String),
    Internal,
}

/// The codes of the problems a page shows a clerk or guard, with their English templates
/// (refusals have theirs in [`crate::engine::REFUSALS`]).
pub const PROBLEMS: &[(&str, &str)] = &[
    (
        "token.missing",
        "this request needs a device token: send `Authorization: Bearer <token>`",
    ),
    ("token.unknown", "the device token is not valid"),
    (
        "token.revoked",
        "this device token was revoked by an administrator; ask for a new one",
    ),
    (
        "forbidden.not_assigned",
        "device '{device}' is not assigned to station '{station}'",
    ),
    (
        "forbidden.guards_only.correction",
        "only a guard may correct the headcount",
    ),
    (
        "forbidden.guards_only.override",
        "only a guard may let a party in past the cap",
    ),
    (
        "forbidden.guards_only.acknowledge",
        "only a guard may acknowledge alerts",
    ),
    (
        "idempotency.key_missing",
        "this request needs an Idempotency-Key header: 1–255 visible ASCII characters, unique per event, reused only to retry that same event",
    ),
    (
        "idempotency.key_invalid",
        "the Idempotency-Key header must be 1–255 visible ASCII characters (no spaces)",
    ),
    (
        "idempotency.key_reused",
        "this Idempotency-Key was already used for a different request from this device; use a new key for a new event",
    ),
    (
        "idempotency.key_expired",
        "this Idempotency-Key was answered at {answered_at}, more than {retention_h} hours ago; answers are kept for {retention_h} hours, so this request was neither replayed nor applied — if the event still has to be recorded, send it again with a new key",
    ),
    (
        "idempotency.in_flight",
        "the first request with this Idempotency-Key is still being processed; retry in a moment",
    ),
    (
        "rate_limited",
        "this device has sent more than {per_minute} events in a minute; wait {retry_after_s} s (the answer's Retry-After) and send again with the same Idempotency-Key",
    ),
    (
        "join.too_often",
        "this network has joined queues {per_hour} times in the last hour; try again in {retry_after_min} min, or check in at the front desk",
    ),
    (
        "booking_public.too_often",
        "this network has made {per_hour} bookings in the last hour; nothing was booked — try again in {retry_after_min} min, or book at the front desk",
    ),
    (
        "booking_public.too_many_open",
        "this browser already holds {limit} open bookings, the most one may; nothing was booked — cancel one you no longer need from its page, then book again",
    ),
    (
        "booking_public.unknown",
        "no booking has this code: check the address or the code, or ask at the front desk",
    ),
    (
        "overloaded",
        "the service is handling as many requests as it can; nothing was done — retry after a second",
    ),
    (
        "timed_out",
        "the request took longer than {seconds} s; if it was an event, retry with the same Idempotency-Key to learn its outcome",
    ),
    ("internal", "an internal error occurred; it has been logged"),
];

impl ApiError {
    /// What a page renders in its own language, for the problems a clerk or guard meets;
    /// `None` for those that only a developer or operator fixes (the English `detail` says how).
    pub fn message(&self) -> Option<Message> {
        let m = |code: &str| Some(Message::new(code));
        match self {
            ApiError::Refused(r) => Some(r.message()),
            ApiError::Unauthorized(why) => m(match why {
                Rejected::Missing => "token.missing",
                Rejected::Unknown => "token.unknown",
                Rejected::Revoked => "token.revoked",
            }),
            ApiError::NotAssigned { device, station } => Some(
                Message::new("forbidden.not_assigned")
                    .with("device", device.as_str())
                    .with("station", station.as_str()),
            ),
            ApiError::GuardsOnly(kind) => m(&format!("forbidden.guards_only.{kind}")),
            ApiError::MissingIdempotencyKey => m("idempotency.key_missing"),
            ApiError::InvalidIdempotencyKey => m("idempotency.key_invalid"),
            ApiError::IdempotencyKeyReused => m("idempotency.key_reused"),
            ApiError::IdempotencyKeyExpired {
                answered_at,
                retention_h,
            } => Some(
                Message::new("idempotency.key_expired")
                    .with("answered_at", answered_at.as_str())
                    .with("retention_h", *retention_h),
            ),
            ApiError::RequestInFlight => m("idempotency.in_flight"),
            ApiError::RateLimited {
                per_minute,
                retry_after_s,
            } => Some(
                Message::new("rate_limited")
                    .with("per_minute", *per_minute)
                    .with("retry_after_s", *retry_after_s),
            ),
            ApiError::JoinRateLimited {
                per_hour,
                retry_after_s,
            } => Some(
                Message::new("join.too_often")
                    .with("per_hour", *per_hour)
                    .with("retry_after_min", retry_after_s.div_ceil(60)),
            ),
            ApiError::BookingRateLimited {
                per_hour,
                retry_after_s,
            } => Some(
                Message::new("booking_public.too_often")
                    .with("per_hour", *per_hour)
                    .with("retry_after_min", retry_after_s.div_ceil(60)),
            ),
            ApiError::TooManyOpenBookings { limit } => {
                Some(Message::new("booking_public.too_many_open").with("limit", *limit))
            }
            ApiError::UnknownBooking => m("booking_public.unknown"),
            ApiError::Overloaded => m("overloaded"),
            ApiError::TimedOut(seconds) => {
                Some(Message::new("timed_out").with("seconds", *seconds))
            }
            ApiError::Internal => m("internal"),
            _ => None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let ApiError::Refused(r) = self {
            return r.fmt(f);
        }
        if let Some(m) = self.message() {
            return f.write_str(&m.english(PROBLEMS));
        }
        match self {
            ApiError::MalformedJson(s)
            | ApiError::BadRequest(s)
            | ApiError::NotFound(s)
            | ApiError::WrongEntranceCode(s)
            | ApiError::Forbidden(s)
            | ApiError::MethodNotAllowed(s)
            | ApiError::PayloadTooLarge(s)
            | ApiError::UnsupportedMediaType(s)
            | ApiError::Unavailable(s)
            | ApiError::BookingDiffers(s) => f.write_str(s),
            ApiError::PowFailed(why) => write!(
                f,
                "{why}; nothing was booked — fetch a new challenge (GET /api/v1/bookings/challenge), solve it and send the booking again"
            ),
            ApiError::InvalidField { field, reason } => write!(f, "{field}: {reason}"),
            ApiError::UnknownTicketLink => f.write_str(
                "no ticket has this link today: check the address, or ask at the front desk",
            ),
            ApiError::CalculatorRateLimited {
                per_minute,
                retry_after_s,
            } => write!(
                f,
                "this address has asked the capacity calculator more than {per_minute} times in a minute; wait {retry_after_s} s (the answer's Retry-After)"
            ),
            ApiError::InvalidConfig(e) => write!(
                f,
                "the config was not reloaded; the running config stays in force: {e}"
            ),
            ApiError::ReloadRefused(s) => write!(
                f,
                "the config was not reloaded; the running config stays in force: {s}"
            ),
            // Each of the rest has a message, rendered above.
            _ => f.write_str(self.kind().entry().title),
        }
    }
}

impl std::error::Error for ApiError {}

/// One entry of the problem-type catalogue.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct ProblemType {
    pub slug: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub explanation: &'static str,
    /// The message codes a problem of this type carries in its `code` (with `params`), for a
    /// page to say it in its language; empty when its `detail` alone explains it.
    pub codes: &'static [&'static str],
}

/// Declares [`Kind`], one variant per problem type, with its status, slug, title and explanation
/// in one row: the catalogue and every answer's status are read from that row, so a kind cannot
/// lack an entry, and a new kind is one new row.
macro_rules! problem_kinds {
    ($($kind:ident => $status:ident, $slug:literal, $title:literal, $explanation:literal;)+) => {
        /// Every kind of problem the API reports.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Kind {
            $($kind,)+
        }

        impl Kind {
            /// Every kind, in the catalogue's order.
            pub const ALL: &[Kind] = &[$(Kind::$kind,)+];

            /// This kind's catalogue entry.
            pub const fn entry(self) -> ProblemType {
                match self {
                    $(Kind::$kind => ProblemType {
                        slug: $slug,
                        title: $title,
                        status: StatusCode::$status.as_u16(),
                        explanation: $explanation,
                        codes: message_codes(Kind::$kind),
                    },)+
                }
            }

            pub const fn status(self) -> StatusCode {
                match self {
                    $(Kind::$kind => StatusCode::$status,)+
                }
            }
        }
    };
}

problem_kinds! {
    MalformedJson => BAD_REQUEST, "malformed-json", "Malformed JSON",
        "The body is not valid JSON.";
    BadRequest => BAD_REQUEST, "bad-request", "Bad request",
        "A query parameter or header is malformed.";
    MissingIdempotencyKey => BAD_REQUEST, "missing-idempotency-key", "Idempotency-Key required",
        "Events must carry an Idempotency-Key header so a retry is never counted twice.";
    InvalidIdempotencyKey => BAD_REQUEST, "invalid-idempotency-key", "Invalid Idempotency-Key",
        "The key must be 1–255 visible ASCII characters.";
    Unauthorized => UNAUTHORIZED, "unauthorized", "Authentication required",
        "Send a valid device token as `Authorization: Bearer <token>`.";
    Forbidden => FORBIDDEN, "forbidden", "Not allowed for this device",
        "The token is valid but its role or station scope does not cover this request.";
    MethodNotAllowed => METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed",
        "The route exists but does not take this HTTP method; see the API list in the README or /api/v1/openapi.json.";
    NotFound => NOT_FOUND, "not-found", "Not found",
        "No such station, ticket or page.";
    UnknownTicketLink => NOT_FOUND, "unknown-ticket-link", "Unknown ticket link",
        "The ticket link is not known: mistyped, or expired with the day's close-out. The same answer for every such link.";
    WrongEntranceCode => FORBIDDEN, "wrong-entrance-code", "Arrival needs the entrance code",
        "Arriving from a ticket's page needs the code posted at the station's entrance (its QR poster fills it in); a station without one takes arrivals at the front desk.";
    UnknownTicket => NOT_FOUND, "unknown-ticket", "Unknown ticket",
        "The ticket was not issued today at this station, or has already left.";
    RequestInFlight => CONFLICT, "request-in-flight", "Request in flight",
        "The first request with this Idempotency-Key has not finished; retry shortly.";
    ServiceClosed => CONFLICT, "service-closed", "Service closed",
        "The service is outside its opening hours.";
    TicketOutside => CONFLICT, "ticket-outside", "Ticket is outside",
        "The ticket is queued outside; it cannot check out from the room.";
    NothingToCall => CONFLICT, "nothing-to-call", "Nobody waiting",
        "No ticket is waiting inside for that service.";
    NotCalled => CONFLICT, "not-called", "Ticket not called to this desk",
        "A recall announces again the ticket a desk has called and not yet checked out; call a ticket first.";
    CannotTransfer => CONFLICT, "cannot-transfer", "Ticket cannot be transferred",
        "Only a ticket still waiting (outside, or inside and not called) can move to another service, and only to a different one.";
    PartyTooLarge => CONFLICT, "party-too-large", "Party larger than the room's cap",
        "A party can never fit under the cap; serve it elsewhere or split it.";
    CorrectionBelowZero => CONFLICT, "correction-below-zero", "Correction would go below zero",
        "Guards can only remove people they added by correction.";
    NothingToOverride => CONFLICT, "nothing-to-override", "Nobody to let in",
        "An override lets in a party waiting outside: the head of the queue, or the ticket named.";
    AlertNotOpen => CONFLICT, "alert-not-open", "The alert cannot be acknowledged",
        "Only an open alert of this station can be acknowledged, once; see the status document's `alerts`.";
    TicketState => CONFLICT, "ticket-state", "The ticket cannot do that now",
        "What a ticket's page asked does not fit where the ticket is: only a ticket queued at the door can wait elsewhere, only one waiting elsewhere can arrive or have more time (once), and a called ticket cannot leave the queue.";
    JoinRefused => CONFLICT, "join-refused", "Joining the queue is not open",
        "The station does not take joins before arriving now: it does not offer it, it is outside the join hours, or the day's quota for the service is used up. Check in at the front desk.";
    BookingRefused => CONFLICT, "booking-refused", "That slot cannot be booked",
        "The service takes no bookings, or the time is not one of its slots, has passed, lies beyond the booking horizon, or is taken. List the free slots and pick one.";
    BookingState => CONFLICT, "booking-state", "The booking cannot do that now",
        "The booking is unknown at this station, or has already arrived, lapsed as a no-show or been cancelled.";
    BookingDiffers => CONFLICT, "booking-differs", "The booking was pushed with another service or party size",
        "A booking pushed by reference keeps its service and party size; only its slot moves. Cancel it (DELETE) and push a new reference for another service or party.";
    WalkInQuota => CONFLICT, "walk-in-quota", "No more walk-in tickets today",
        "The day's walk-in quota for the service is used up, or it serves booked visitors only. Book a time.";
    PayloadTooLarge => PAYLOAD_TOO_LARGE, "payload-too-large", "Body too large",
        "The request body exceeds the route's limit.";
    UnsupportedMediaType => UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type",
        "Send `Content-Type: application/json`.";
    InvalidField => UNPROCESSABLE_ENTITY, "invalid-field", "Invalid field",
        "A field is missing, of the wrong type or out of range; `field` names it.";
    UnknownService => UNPROCESSABLE_ENTITY, "unknown-service", "Unknown service",
        "The station does not offer that service.";
    IdempotencyKeyReused => UNPROCESSABLE_ENTITY, "idempotency-key-reused", "Idempotency-Key reused",
        "The key was used before for a different request from the same device.";
    InvalidConfig => UNPROCESSABLE_ENTITY, "invalid-config", "Invalid config file",
        "A reload read a config file that is not valid; `detail` names the file, the key and the reason of every error (the first error's key also in `field`). The running config stays in force.";
    ReloadRefused => CONFLICT, "reload-refused", "The config cannot apply now",
        "The config file is valid but cannot apply to the running service now (e.g. a station removed while people are inside); `detail` says why. The running config stays in force.";
    IdempotencyKeyExpired => UNPROCESSABLE_ENTITY, "idempotency-key-expired", "Idempotency-Key expired",
        "The key was answered longer ago than the service keeps answers (`[storage] idempotency_retention_h`): the request was neither replayed nor applied. Send the event again with a new key if it still has to be recorded.";
    Unavailable => SERVICE_UNAVAILABLE, "unavailable", "Service unavailable",
        "The service cannot accept this now (e.g. its event log cannot be written); reads keep working.";
    RateLimited => TOO_MANY_REQUESTS, "rate-limited", "Too many events from this device",
        "Each device may post a limited number of events per minute; wait for Retry-After and retry with the same key.";
    CalculatorRateLimited => TOO_MANY_REQUESTS, "calculator-rate-limited", "Too many calculations from this address",
        "Each source address may ask the capacity calculator a limited number of times per minute; wait for Retry-After.";
    JoinRateLimited => TOO_MANY_REQUESTS, "join-rate-limited", "Too many joins from this address",
        "Each source address may join queues a limited number of times per hour (`[limits] joins_per_hour_per_address`): a limit on abuse from one network, not an identity check. Wait for Retry-After, or check in at the front desk.";
    PowFailed => UNPROCESSABLE_ENTITY, "pow-failed", "The proof of work does not hold",
        "A public booking carries the solution of a fresh challenge from `GET /api/v1/bookings/challenge` (`pow`: the challenge and a nonce whose SHA-256 starts with its `difficulty` zero bits). It was missing, wrong, older than 5 minutes or already used; fetch a new one.";
    BookingRateLimited => TOO_MANY_REQUESTS, "booking-rate-limited", "Too many bookings from this address",
        "Each source address may make a limited number of public bookings per hour (`[limits] bookings_per_hour_per_address`): a limit on one network, not an identity check. Wait for Retry-After, or book at the front desk.";
    TooManyOpenBookings => CONFLICT, "too-many-open-bookings", "This browser holds enough bookings",
        "A browser may hold a limited number of open bookings at once (`[limits] open_bookings_per_browser`). Cancel one from its page, or wait until one has passed.";
    UnknownBooking => NOT_FOUND, "unknown-booking", "Unknown booking",
        "No booking has this code: mistyped, or no longer kept after its day. The same answer for every such code.";
    Overloaded => SERVICE_UNAVAILABLE, "overloaded", "The service is busy",
        "Too many requests at once; the request was not processed. Retry after Retry-After.";
    RequestTimeout => SERVICE_UNAVAILABLE, "request-timeout", "The request took too long",
        "The answer was not ready in time. An event may still complete: retry with the same Idempotency-Key to get its outcome.";
    Internal => INTERNAL_SERVER_ERROR, "internal", "Internal error",
        "Something failed inside the service; it has been logged.";
}

/// The message codes a problem of `kind` may carry (see [`PROBLEMS`] and
/// [`crate::engine::REFUSALS`]).
const fn message_codes(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Unauthorized => &["token.missing", "token.unknown", "token.revoked"],
        Kind::Forbidden => &[
            "forbidden.not_assigned",
            "forbidden.guards_only.correction",
            "forbidden.guards_only.override",
            "forbidden.guards_only.acknowledge",
        ],
        Kind::MissingIdempotencyKey => &["idempotency.key_missing"],
        Kind::InvalidIdempotencyKey => &["idempotency.key_invalid"],
        Kind::IdempotencyKeyReused => &["idempotency.key_reused"],
        Kind::IdempotencyKeyExpired => &["idempotency.key_expired"],
        Kind::RequestInFlight => &["idempotency.in_flight"],
        Kind::RateLimited => &["rate_limited"],
        Kind::JoinRateLimited => &["join.too_often"],
        Kind::BookingRateLimited => &["booking_public.too_often"],
        Kind::TooManyOpenBookings => &["booking_public.too_many_open"],
        Kind::UnknownBooking => &["booking_public.unknown"],
        Kind::Overloaded => &["overloaded"],
        Kind::RequestTimeout => &["timed_out"],
        Kind::Internal => &["internal"],
        Kind::UnknownService => &["unknown_service"],
        Kind::UnknownTicket => &["ticket_unknown"],
        Kind::TicketOutside => &["ticket_outside"],
        Kind::ServiceClosed => &["service_closed.now", "service_closed.last_check_in"],
        Kind::NothingToCall => &["nothing_to_call.any", "nothing_to_call.service"],
        Kind::PartyTooLarge => &["party_too_large"],
        Kind::CorrectionBelowZero => &["correction_below_zero"],
        Kind::NothingToOverride => &[
            "nothing_to_override.empty",
            "nothing_to_override.inside",
            "nothing_to_override.not_outside",
        ],
        Kind::NotCalled => &["not_called"],
        Kind::CannotTransfer => &["cannot_transfer.same_service", "cannot_transfer.called"],
        Kind::TicketState => &[
            "ticket_state.not_outside",
            "ticket_state.already_away",
            "ticket_state.not_away",
            "ticket_state.more_time_used",
            "ticket_state.called",
        ],
        Kind::JoinRefused => &["join.off", "join.hours", "join.quota"],
        Kind::BookingRefused => &[
            "booking_refused.exists",
            "booking_refused.not_bookable",
            "booking_refused.not_a_slot",
            "booking_refused.past",
            "booking_refused.beyond_horizon",
            "booking_refused.full",
        ],
        Kind::BookingState => &[
            "booking_unknown",
            "booking_state.arrived",
            "booking_state.no_show",
            "booking_state.cancelled",
            "booking_state.not_due",
            "booking_state.not_late",
        ],
        Kind::WalkInQuota => &["walk_in_quota.used", "walk_in_quota.by_booking_only"],
        Kind::AlertNotOpen => &[
            "alert.unknown",
            "alert.already_cleared",
            "alert.already_acknowledged",
        ],
        _ => &[],
    }
}

impl Kind {
    /// The kind a problem+json body names in its `type`, if any (a stored refusal's answer).
    pub fn of_body(body: &[u8]) -> Option<Kind> {
        #[derive(serde::Deserialize)]
        struct Typed<'a> {
            #[serde(rename = "type", borrow)]
            type_: std::borrow::Cow<'a, str>,
        }
        let typed: Typed<'_> = serde_json::from_slice(body).ok()?;
        let slug = typed.type_.strip_prefix("/problems/")?;
        Kind::ALL.iter().copied().find(|k| k.entry().slug == slug)
    }
}

/// Every problem type the API can return, served at `GET /problems`: the rows above, built at
/// compile time.
pub const CATALOGUE: [ProblemType; Kind::ALL.len()] = {
    let mut entries = [Kind::Internal.entry(); Kind::ALL.len()];
    let mut i = 0;
    while i < Kind::ALL.len() {
        entries[i] = Kind::ALL[i].entry();
        i += 1;
    }
    entries
};

/// The RFC 9457 body of every error (`application/problem+json`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// The problem type, e.g. `/problems/invalid-field`; `GET /problems` lists them.
    #[serde(rename = "type")]
    #[schema(example = "/problems/invalid-field")]
    type_: String,
    title: &'static str,
    /// The HTTP status, repeated.
    status: u16,
    /// What went wrong and what to fix, for a person.
    detail: String,
    /// The field at fault, for `invalid-field` and `unknown-service`; the config key at fault,
    /// for `invalid-config`.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// For the problems a clerk's or guard's page shows (refusals, token, scope, rate and
    /// Idempotency-Key problems): a stable code the page renders in its language from
    /// `messages.<code>`, with `params`; `detail` is the same message in English.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "ticket_unknown")]
    code: Option<String>,
    /// The values `code`'s sentence needs (tickets, service ids and names, times as `HH:MM`,
    /// counts); a value that is an object with a `code` is a message itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, example = json!({"ticket": "P123"}))]
    params: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    /// The kind of problem this is: its row in the catalogue.
    pub fn kind(&self) -> Kind {
        match self {
            ApiError::MalformedJson(_) => Kind::MalformedJson,
            ApiError::BadRequest(_) => Kind::BadRequest,
            ApiError::MissingIdempotencyKey => Kind::MissingIdempotencyKey,
            ApiError::InvalidIdempotencyKey => Kind::InvalidIdempotencyKey,
            ApiError::InvalidField { .. } => Kind::InvalidField,
            ApiError::IdempotencyKeyReused => Kind::IdempotencyKeyReused,
            ApiError::IdempotencyKeyExpired { .. } => Kind::IdempotencyKeyExpired,
            ApiError::RequestInFlight => Kind::RequestInFlight,
            ApiError::NotFound(_) => Kind::NotFound,
            ApiError::UnknownTicketLink => Kind::UnknownTicketLink,
            ApiError::WrongEntranceCode(_) => Kind::WrongEntranceCode,
            ApiError::Refused(r) => match r {
                Refusal::UnknownService(_) => Kind::UnknownService,
                Refusal::ServiceClosed(_) => Kind::ServiceClosed,
                Refusal::UnknownTicket(_) => Kind::UnknownTicket,
                Refusal::TicketOutside(_) => Kind::TicketOutside,
                Refusal::NothingToCall(_) => Kind::NothingToCall,
                Refusal::NotCalled { .. } => Kind::NotCalled,
                Refusal::CannotTransfer(_) => Kind::CannotTransfer,
                Refusal::PartyTooLarge(_) => Kind::PartyTooLarge,
                Refusal::CorrectionBelowZero(_) => Kind::CorrectionBelowZero,
                Refusal::NothingToOverride(_) => Kind::NothingToOverride,
                Refusal::Alert(_) => Kind::AlertNotOpen,
                Refusal::TicketState(_) => Kind::TicketState,
                Refusal::JoinRefused(_) => Kind::JoinRefused,
                Refusal::BookingRefused(_) => Kind::BookingRefused,
                Refusal::BookingState(_) => Kind::BookingState,
                Refusal::WalkInQuota(_) => Kind::WalkInQuota,
            },
            ApiError::Unauthorized(_) => Kind::Unauthorized,
            ApiError::Forbidden(_) | ApiError::NotAssigned { .. } | ApiError::GuardsOnly(_) => {
                Kind::Forbidden
            }
            ApiError::MethodNotAllowed(_) => Kind::MethodNotAllowed,
            ApiError::PayloadTooLarge(_) => Kind::PayloadTooLarge,
            ApiError::UnsupportedMediaType(_) => Kind::UnsupportedMediaType,
            ApiError::Unavailable(_) => Kind::Unavailable,
            ApiError::RateLimited { .. } => Kind::RateLimited,
            ApiError::CalculatorRateLimited { .. } => Kind::CalculatorRateLimited,
            ApiError::JoinRateLimited { .. } => Kind::JoinRateLimited,
            ApiError::PowFailed(_) => Kind::PowFailed,
            ApiError::BookingRateLimited { .. } => Kind::BookingRateLimited,
            ApiError::TooManyOpenBookings { .. } => Kind::TooManyOpenBookings,
            ApiError::UnknownBooking => Kind::UnknownBooking,
            ApiError::Overloaded => Kind::Overloaded,
            ApiError::TimedOut(_) => Kind::RequestTimeout,
            ApiError::InvalidConfig(_) => Kind::InvalidConfig,
            ApiError::ReloadRefused(_) => Kind::ReloadRefused,
            ApiError::BookingDiffers(_) => Kind::BookingDiffers,
            ApiError::Internal => Kind::Internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.kind().status()
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::InvalidField { field, .. } => Some(field),
            ApiError::Refused(Refusal::UnknownService(_)) => Some("service"),
            ApiError::InvalidConfig(e) if !e.first().key.is_empty() => Some(&e.first().key),
            _ => None,
        }
    }

    /// The serialized problem body (stored for idempotent replays of refusals).
    pub fn body(&self) -> Bytes {
        let p = self.kind().entry();
        let (code, params) = self.message().map(|m| (m.code, m.params)).unzip();
        let body = Problem {
            type_: format!("/problems/{}", p.slug),
            title: p.title,
            status: p.status,
            detail: self.to_string(),
            field: self.field().map(str::to_owned),
            code,
            params,
        };
        serde_json::to_vec(&body)
            .expect("problem bodies serialize")
            .into()
    }

    /// This error as an answer stored under an Idempotency-Key, replayed byte for byte.
    pub fn answer(&self) -> Answer {
        Answer {
            status: self.status().as_u16(),
            body: self.body(),
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// A problem response from a status and a stored body (for replays).
pub fn problem_response(status: StatusCode, body: Bytes) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
        body,
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = problem_response(status, self.body());
        // The kind rides along for the layers outside the handler (the metrics).
        response.extensions_mut().insert(self.kind());
        let challenge = match self {
            ApiError::Unauthorized(_) => Some(r#"Bearer error="invalid_token""#),
            ApiError::Forbidden(_) | ApiError::NotAssigned { .. } | ApiError::GuardsOnly(_) => {
                Some(r#"Bearer error="insufficient_scope""#)
            }
            _ => None,
        };
        if let Some(c) = challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        let retry_after = match &self {
            ApiError::RateLimited { retry_after_s, .. }
            | ApiError::CalculatorRateLimited { retry_after_s, .. }
            | ApiError::JoinRateLimited { retry_after_s, .. }
            | ApiError::BookingRateLimited { retry_after_s, .. } => Some(*retry_after_s),
            ApiError::Overloaded | ApiError::TimedOut(_) => Some(1),
            // The log has failed: nothing changes until an operator restarts the service.
            ApiError::Unavailable(_) => Some(30),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::UnknownStation(station) => {
                ApiError::NotFound(format!("no station '{station}'"))
            }
            IngestError::LogFailed => ApiError::Unavailable(
                "events cannot be accepted: the event log cannot be written, so nothing was recorded; reads still work — an operator must fix the storage and restart the service".into(),
            ),
            IngestError::DatabaseUnavailable => ApiError::Unavailable(
                "events cannot be accepted just now: the database cannot be reached, so nothing was recorded; retry with the same Idempotency-Key — reads still show the last known state".into(),
            ),
            IngestError::Contended => ApiError::Unavailable(
                "events cannot be accepted just now: other instances are writing this station faster than this one can catch up; retry with the same Idempotency-Key".into(),
            ),
            IngestError::KeyReused => ApiError::IdempotencyKeyReused,
            IngestError::KeyExpired {
                answered_at,
                retention,
            } => ApiError::IdempotencyKeyExpired {
                answered_at: answered_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                retention_h: retention.num_hours(),
            },
            IngestError::KeyInFlight => ApiError::RequestInFlight,
            IngestError::Refused(refusal) => ApiError::Refused(refusal),
            IngestError::Internal => ApiError::Internal,
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError::Refused(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_problem_body_names_its_kind_and_anything_else_none() {
        for error in [
            ApiError::Refused(Refusal::NothingToCall(Message::new("nothing_to_call.any"))),
            ApiError::RateLimited {
                per_minute: 5,
                retry_after_s: 1,
            },
            ApiError::invalid("f", "r"),
        ] {
            assert_eq!(Kind::of_body(&error.body()), Some(error.kind()));
            let response = error.clone().into_response();
            assert_eq!(response.extensions().get::<Kind>(), Some(&error.kind()));
        }
        assert_eq!(
            Kind::of_body(br#"{"type": "/problems/no-such-slug"}"#),
            None
        );
        assert_eq!(Kind::of_body(b"not json"), None);
    }

    #[test]
    fn every_error_has_a_catalogue_entry() {
        let all = [
            ApiError::MalformedJson(String::new()),
            ApiError::BadRequest(String::new()),
            ApiError::MissingIdempotencyKey,
            ApiError::InvalidIdempotencyKey,
            ApiError::invalid("f", "r"),
            ApiError::IdempotencyKeyReused,
            ApiError::IdempotencyKeyExpired {
                answered_at: String::new(),
                retention_h: 72,
            },
            ApiError::RequestInFlight,
            ApiError::NotFound(String::new()),
            ApiError::UnknownTicketLink,
            ApiError::WrongEntranceCode(String::new()),
            ApiError::Refused(Refusal::NothingToCall(Message::new("nothing_to_call.any"))),
            ApiError::Refused(Refusal::Alert(
                Message::new("alert.unknown").with("alert", 1),
            )),
            ApiError::Refused(Refusal::NothingToOverride(Message::new(
                "nothing_to_override.empty",
            ))),
            ApiError::Unauthorized(Rejected::Revoked),
            ApiError::NotAssigned {
                device: DeviceId::parse("d").unwrap(),
                station: StationId::parse("s").unwrap(),
            },
            ApiError::GuardsOnly("override"),
            ApiError::Forbidden(String::new()),
            ApiError::MethodNotAllowed(String::new()),
            ApiError::PayloadTooLarge(String::new()),
            ApiError::UnsupportedMediaType(String::new()),
            ApiError::Unavailable(String::new()),
            ApiError::RateLimited {
                per_minute: 1,
                retry_after_s: 1,
            },
            ApiError::CalculatorRateLimited {
                per_minute: 1,
                retry_after_s: 1,
            },
            ApiError::PowFailed(String::new()),
            ApiError::BookingRateLimited {
                per_hour: 1,
                retry_after_s: 1,
            },
            ApiError::TooManyOpenBookings { limit: 2 },
            ApiError::UnknownBooking,
            ApiError::Overloaded,
            ApiError::TimedOut(1),
            ApiError::InvalidConfig(
                crate::config::ConfigError {
                    file: "f.toml".into(),
                    key: "k".into(),
                    reason: "r".into(),
                }
                .into(),
            ),
            ApiError::ReloadRefused(String::new()),
            ApiError::BookingDiffers(String::new()),
            ApiError::Internal,
        ];
        for e in all {
            assert!(
                e.status().is_client_error() || e.status().is_server_error(),
                "{e:?}"
            );
            if let Some(m) = e.message() {
                assert!(e.kind().entry().codes.contains(&m.code.as_str()), "{e:?}");
            }
            assert!(
                CATALOGUE.iter().any(|p| p.slug == e.kind().entry().slug),
                "{e:?}"
            );
        }
    }

    #[test]
    fn every_code_the_catalogue_lists_has_an_english_template() {
        for entry in CATALOGUE {
            for code in entry.codes {
                let listed = crate::domain::message::lookup(PROBLEMS, code)
                    .or_else(|| crate::domain::message::lookup(crate::engine::REFUSALS, code));
                assert!(listed.is_some(), "{}: {code}", entry.slug);
            }
        }
    }

    #[test]
    fn the_catalogue_names_each_slug_once_with_its_kinds_status() {
        let mut slugs = std::collections::HashSet::new();
        for (kind, entry) in Kind::ALL.iter().zip(CATALOGUE.iter()) {
            assert!(slugs.insert(entry.slug), "{} twice", entry.slug);
            assert_eq!(entry.status, kind.status().as_u16(), "{kind:?}");
            assert!(!entry.title.is_empty() && !entry.explanation.is_empty());
        }
        assert_eq!(slugs.len(), Kind::ALL.len());
    }
}
