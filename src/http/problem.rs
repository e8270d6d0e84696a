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

use crate::engine::Refusal;
use crate::idempotency::Answer;
use crate::ingest::IngestError;

/// The content type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    MalformedJson(String),
    #[error("{0}")]
    BadRequest(String),
    #[error(
        "this request needs an Idempotency-Key header: 1–255 visible ASCII characters, unique per event, reused only to retry that same event"
    )]
    MissingIdempotencyKey,
    #[error("the Idempotency-Key header must be 1–255 visible ASCII characters (no spaces)")]
    InvalidIdempotencyKey,
    #[error("{field}: {reason}")]
    InvalidField { field: String, reason: String },
    #[error(
        "this Idempotency-Key was already used for a different request from this device; use a new key for a new event"
    )]
    IdempotencyKeyReused,
    #[error(
        "the first request with this Idempotency-Key is still being processed; retry in a moment"
    )]
    RequestInFlight,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unavailable(String),
    #[error(
        "this device has sent more than {per_minute} events in a minute; wait {retry_after_s} s (the answer's Retry-After) and send again with the same Idempotency-Key"
    )]
    RateLimited { per_minute: u32, retry_after_s: u64 },
    #[error(
        "the service is handling as many requests as it can; nothing was done — retry after a second"
    )]
    Overloaded,
    #[error(
        "the request took longer than {0} s; if it was an event, retry with the same Idempotency-Key to learn its outcome"
    )]
    TimedOut(u64),
    #[error("an internal error occurred; it has been logged")]
    Internal,
}

/// One entry of the problem-type catalogue.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct ProblemType {
    pub slug: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub explanation: &'static str,
}

/// Every problem type the API can return, served at `GET /problems`.
pub const CATALOGUE: &[ProblemType] = &[
    ProblemType {
        slug: "malformed-json",
        title: "Malformed JSON",
        status: 400,
        explanation: "The body is not valid JSON.",
    },
    ProblemType {
        slug: "bad-request",
        title: "Bad request",
        status: 400,
        explanation: "A query parameter or header is malformed.",
    },
    ProblemType {
        slug: "missing-idempotency-key",
        title: "Idempotency-Key required",
        status: 400,
        explanation: "Events must carry an Idempotency-Key header so a retry is never counted twice.",
    },
    ProblemType {
        slug: "invalid-idempotency-key",
        title: "Invalid Idempotency-Key",
        status: 400,
        explanation: "The key must be 1–255 visible ASCII characters.",
    },
    ProblemType {
        slug: "unauthorized",
        title: "Authentication required",
        status: 401,
        explanation: "Send a valid device token as `Authorization: Bearer <token>`.",
    },
    ProblemType {
        slug: "forbidden",
        title: "Not allowed for this device",
        status: 403,
        explanation: "The token is valid but its role or station scope does not cover this request.",
    },
    ProblemType {
        slug: "method-not-allowed",
        title: "Method not allowed",
        status: 405,
        explanation: "The route exists but does not take this HTTP method; see the API list in the README or /api/v1/openapi.json.",
    },
    ProblemType {
        slug: "not-found",
        title: "Not found",
        status: 404,
        explanation: "No such station, ticket or page.",
    },
    ProblemType {
        slug: "unknown-ticket",
        title: "Unknown ticket",
        status: 404,
        explanation: "The ticket was not issued today at this station, or has already left.",
    },
    ProblemType {
        slug: "request-in-flight",
        title: "Request in flight",
        status: 409,
        explanation: "The first request with this Idempotency-Key has not finished; retry shortly.",
    },
    ProblemType {
        slug: "service-closed",
        title: "Service closed",
        status: 409,
        explanation: "The service is outside its opening hours.",
    },
    ProblemType {
        slug: "ticket-outside",
        title: "Ticket is outside",
        status: 409,
        explanation: "The ticket is queued outside; it cannot check out from the room.",
    },
    ProblemType {
        slug: "nothing-to-call",
        title: "Nobody waiting",
        status: 409,
        explanation: "No ticket is waiting inside for that service.",
    },
    ProblemType {
        slug: "party-too-large",
        title: "Party larger than the room's cap",
        status: 409,
        explanation: "A party can never fit under the cap; serve it elsewhere or split it.",
    },
    ProblemType {
        slug: "correction-below-zero",
        title: "Correction would go below zero",
        status: 409,
        explanation: "Guards can only remove people they added by correction.",
    },
    ProblemType {
        slug: "nothing-to-override",
        title: "Nobody to let in",
        status: 409,
        explanation: "An override lets in a party waiting outside: the head of the queue, or the ticket named.",
    },
    ProblemType {
        slug: "alert-not-open",
        title: "The alert cannot be acknowledged",
        status: 409,
        explanation: "Only an open alert of this station can be acknowledged, once; see the status document's `alerts`.",
    },
    ProblemType {
        slug: "payload-too-large",
        title: "Body too large",
        status: 413,
        explanation: "The request body exceeds the route's limit.",
    },
    ProblemType {
        slug: "unsupported-media-type",
        title: "Unsupported media type",
        status: 415,
        explanation: "Send `Content-Type: application/json`.",
    },
    ProblemType {
        slug: "invalid-field",
        title: "Invalid field",
        status: 422,
        explanation: "A field is missing, of the wrong type or out of range; `field` names it.",
    },
    ProblemType {
        slug: "unknown-service",
        title: "Unknown service",
        status: 422,
        explanation: "The station does not offer that service.",
    },
    ProblemType {
        slug: "idempotency-key-reused",
        title: "Idempotency-Key reused",
        status: 422,
        explanation: "The key was used before for a different request from the same device.",
    },
    ProblemType {
        slug: "unavailable",
        title: "Service unavailable",
        status: 503,
        explanation: "The service cannot accept this now (e.g. its event log cannot be written); reads keep working.",
    },
    ProblemType {
        slug: "rate-limited",
        title: "Too many events from this device",
        status: 429,
        explanation: "Each device may post a limited number of events per minute; wait for Retry-After and retry with the same key.",
    },
    ProblemType {
        slug: "overloaded",
        title: "The service is busy",
        status: 503,
        explanation: "Too many requests at once; the request was not processed. Retry after Retry-After.",
    },
    ProblemType {
        slug: "request-timeout",
        title: "The request took too long",
        status: 503,
        explanation: "The answer was not ready in time. An event may still complete: retry with the same Idempotency-Key to get its outcome.",
    },
    ProblemType {
        slug: "internal",
        title: "Internal error",
        status: 500,
        explanation: "Something failed inside the service; it has been logged.",
    },
];

fn lookup(slug: &str) -> &'static ProblemType {
    CATALOGUE
        .iter()
        .find(|p| p.slug == slug)
        .expect("every ApiError slug is in the catalogue")
}

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
    /// The field at fault, for `invalid-field` and `unknown-service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl ApiError {
    pub fn slug(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed-json",
            ApiError::BadRequest(_) => "bad-request",
            ApiError::MissingIdempotencyKey => "missing-idempotency-key",
            ApiError::InvalidIdempotencyKey => "invalid-idempotency-key",
            ApiError::InvalidField { .. } => "invalid-field",
            ApiError::IdempotencyKeyReused => "idempotency-key-reused",
            ApiError::RequestInFlight => "request-in-flight",
            ApiError::NotFound(_) => "not-found",
            ApiError::Refused(r) => match r {
                Refusal::UnknownService(_) => "unknown-service",
                Refusal::ServiceClosed(_) => "service-closed",
                Refusal::UnknownTicket(_) => "unknown-ticket",
                Refusal::TicketOutside(_) => "ticket-outside",
                Refusal::NothingToCall(_) => "nothing-to-call",
                Refusal::PartyTooLarge(_) => "party-too-large",
                Refusal::CorrectionBelowZero(_) => "correction-below-zero",
                Refusal::NothingToOverride(_) => "nothing-to-override",
                Refusal::Alert(_) => "alert-not-open",
            },
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::MethodNotAllowed(_) => "method-not-allowed",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::RateLimited { .. } => "rate-limited",
            ApiError::Overloaded => "overloaded",
            ApiError::TimedOut(_) => "request-timeout",
            ApiError::Internal => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(lookup(self.slug()).status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::InvalidField { field, .. } => Some(field),
            ApiError::Refused(Refusal::UnknownService(_)) => Some("service"),
            _ => None,
        }
    }

    /// The serialized problem body (stored for idempotent replays of refusals).
    pub fn body(&self) -> Bytes {
        let p = lookup(self.slug());
        let body = Problem {
            type_: format!("/problems/{}", p.slug),
            title: p.title,
            status: p.status,
            detail: self.to_string(),
            field: self.field().map(str::to_owned),
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
        let challenge = match self {
            ApiError::Unauthorized(_) => Some(r#"Bearer error="invalid_token""#),
            ApiError::Forbidden(_) => Some(r#"Bearer error="insufficient_scope""#),
            _ => None,
        };
        if let Some(c) = challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        let retry_after = match &self {
            ApiError::RateLimited { retry_after_s, .. } => Some(*retry_after_s),
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
            IngestError::KeyReused => ApiError::IdempotencyKeyReused,
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

/// Parses a JSON body into `T`, with errors that say what to fix: 400 for text that is not JSON,
/// 422 naming the field for JSON of the wrong shape.
pub fn parse_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        ApiError::invalid(field, e.into_inner().to_string())
    })
}

/// The body of a request whose route allows at most `max` bytes: 413 when it was larger, 400 when
/// it could not be read.
pub fn body_within(
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    max: usize,
) -> Result<Bytes, ApiError> {
    body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(format!("the body may be at most {max} bytes"))
        } else {
            ApiError::BadRequest(format!("the body could not be read: {r}"))
        }
    })
}

/// Reads body bytes as JSON text (400 when it is not).
pub fn json_value(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::MalformedJson(format!("the body is not valid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_catalogue_entry() {
        let all = [
            ApiError::MalformedJson(String::new()),
            ApiError::BadRequest(String::new()),
            ApiError::MissingIdempotencyKey,
            ApiError::InvalidIdempotencyKey,
            ApiError::invalid("f", "r"),
            ApiError::IdempotencyKeyReused,
            ApiError::RequestInFlight,
            ApiError::NotFound(String::new()),
            ApiError::Refused(Refusal::NothingToCall(String::new())),
            ApiError::Refused(Refusal::Alert(String::new())),
            ApiError::Refused(Refusal::NothingToOverride(String::new())),
            ApiError::Unauthorized(String::new()),
            ApiError::Forbidden(String::new()),
            ApiError::MethodNotAllowed(String::new()),
            ApiError::PayloadTooLarge(String::new()),
            ApiError::UnsupportedMediaType(String::new()),
            ApiError::Unavailable(String::new()),
            ApiError::RateLimited {
                per_minute: 1,
                retry_after_s: 1,
            },
            ApiError::Overloaded,
            ApiError::TimedOut(1),
            ApiError::Internal,
        ];
        for e in all {
            // `status` looks the slug up in the catalogue (and would panic without an entry).
            assert!(
                e.status().is_client_error() || e.status().is_server_error(),
                "{e:?}"
            );
            assert!(CATALOGUE.iter().any(|p| p.slug == e.slug()), "{e:?}");
        }
    }
}
