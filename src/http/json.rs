//! Request bodies as JSON, read strictly and within the route's size.
//!
//! [`JsonBody`] is the one way a handler reads a body: a declared `Content-Length` over the
//! route's limit is refused with 413 before a byte is read (so `Expect: 100-continue` is answered
//! at once, and a client that declares a large body and sends nothing does not hold the request
//! until its timeout); a `Content-Type` that is not JSON with 415; text that is not JSON with 400;
//! and a key given twice in one object with 422 naming it — `serde_json` would let the last one
//! win, so `{"party_size":1,"party_size":9}` would check in nine people.

use std::cell::RefCell;
use std::fmt;

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Value};

use super::problem::ApiError;

/// A request body of at most `MAX` bytes, parsed as JSON with every key of an object unique.
/// Take it as `Result<JsonBody<MAX>, ApiError>` to decide where in the handler its refusal
/// counts (after the token and the route's own checks).
#[derive(Debug)]
pub struct JsonBody<const MAX: usize>(pub Value);

impl<S: Send + Sync, const MAX: usize> FromRequest<S> for JsonBody<MAX> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        declared_length_within(req.headers(), MAX)?;
        let content_type_ok = is_json(req.headers());
        let body = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                too_large(MAX)
            } else {
                ApiError::BadRequest(format!("the body could not be read: {r}"))
            }
        })?;
        content_type_ok?;
        strict_value(&body).map(JsonBody)
    }
}

fn too_large(max: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!("the body may be at most {max} bytes"))
}

/// A declared length over the limit is refused before the body is read.
fn declared_length_within(headers: &HeaderMap, max: usize) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(length) if length > max as u64 => Err(too_large(max)),
        _ => Ok(()),
    }
}

/// `application/json`, optionally with parameters (`; charset=utf-8`), or no `Content-Type` at
/// all; anything else — `text/plain`, `application/jsonx` — is 415.
fn is_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or_default();
    let essence = text.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "the body is JSON: send `Content-Type: application/json`, not '{text}'"
        )))
    }
}

/// Parses `body` as JSON, refusing an object that names a key twice (422 naming it) and text
/// that is not JSON (400).
pub fn strict_value(body: &[u8]) -> Result<Value, ApiError> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed = Strict {
        path: String::new(),
        duplicate: &duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, duplicate.into_inner()) {
        (_, Some(field)) => Err(ApiError::invalid(
            field,
            "is given more than once; send each field once",
        )),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(ApiError::MalformedJson(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

/// Deserializes a JSON value at `path`, noting the first key found twice in `duplicate`.
struct Strict<'a> {
    path: String,
    duplicate: &'a RefCell<Option<String>>,
}

impl Strict<'_> {
    fn at(&self, path: String) -> Self {
        Strict {
            path,
            duplicate: self.duplicate,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) =
            seq.next_element_seed(self.at(format!("{}[{}]", self.path, items.len())))?
        {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if object.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(path.clone());
                return Err(de::Error::custom(format!("`{path}` is given twice")));
            }
            let value = map.next_value_seed(self.at(path))?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Parses a JSON body into `T`, with errors that say what to fix: 400 for text that is not JSON,
/// 422 naming the field for JSON of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        ApiError::invalid(field, e.into_inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(body: &str) -> Option<String> {
        match strict_value(body.as_bytes()) {
            Err(ApiError::InvalidField { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn a_key_given_twice_is_refused_naming_it_at_any_depth() {
        assert_eq!(
            field_of(r#"{"party_size":1,"party_size":9}"#).as_deref(),
            Some("party_size")
        );
        assert_eq!(
            field_of(r#"{"seats":[[0,0]],"room":{"a":1,"b":{"c":1,"c":2}}}"#).as_deref(),
            Some("room.b.c")
        );
        assert_eq!(
            field_of(r#"[{"x":1},{"y":1,"y":1}]"#).as_deref(),
            Some("[1].y")
        );
    }

    #[test]
    fn unique_keys_parse_to_the_same_value_as_serde_json() {
        let text = r#"{"kind":"check_in","party_size":2,"n":-3,"f":1.5,"ok":true,"x":null,"l":[1,"a",{"b":[]}]}"#;
        let strict = strict_value(text.as_bytes()).unwrap();
        assert_eq!(strict, serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn text_that_is_not_json_is_malformed_not_a_field_error() {
        assert!(matches!(
            strict_value(b"{\"a\":1} trailing"),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(matches!(
            strict_value(b"{\"a\":"),
            Err(ApiError::MalformedJson(_))
        ));
    }

    #[test]
    fn only_json_content_types_are_accepted() {
        let with = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
            is_json(&h).is_ok()
        };
        assert!(with("application/json"));
        assert!(with("application/json; charset=utf-8"));
        assert!(with("Application/JSON"));
        assert!(!with("application/jsonx"));
        assert!(!with("application/json-patch+json"));
        assert!(!with("text/plain"));
        assert!(is_json(&HeaderMap::new()).is_ok());
    }
}
