//! What identifies a booking without saying who made it: its opaque [`BookingId`], the
//! [`ExternalRef`] an office's national booking system gives it, and the [`BrowserKey`] that
//! counts a browser's open bookings.
//!
//! A booking made by the public is a capability: its code is a [`LinkCode`] (the same 144 random
//! bits as a ticket link) and the service keeps only the code's hash. Its id is the hash's first
//! 16 hex digits, so a terminal that reads the code from a QR needs no lookup to name the booking,
//! and a booking pushed by an integration has an id worked out the same way from its reference.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ids::ParseError;
use super::ticket_link::{LinkCode, LinkHash};

/// A booking's opaque id: 16 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BookingId(String);

impl BookingId {
    /// The id of the booking whose code hashes to `hash`.
    pub fn of_code_hash(hash: &LinkHash) -> Self {
        Self(hash.id())
    }

    /// The id of the booking whose code is `code`.
    pub fn of_code(code: &LinkCode) -> Self {
        Self::of_code_hash(&code.hash())
    }

    /// The id of the booking an integration pushed as `reference`.
    pub fn of_external(reference: &ExternalRef) -> Self {
        let digest = Sha256::digest(format!("lobbywatch-booking-ref:{}", reference.0).as_bytes());
        Self(hex::encode(&digest[..8]))
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.len() == 16
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError(format!(
                "'{s}' is not a booking id: 16 lowercase hex digits"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BookingId {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}
impl From<BookingId> for String {
    fn from(id: BookingId) -> String {
        id.0
    }
}
impl fmt::Display for BookingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The reference a national booking system gave a booking it pushes here: 1–64 letters, digits,
/// `.`, `_` or `-`. A reference, not a person: no names, no national id numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExternalRef(String);

impl ExternalRef {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError(format!(
                "'{s}' is not an external booking reference: 1–64 letters, digits, '.', '_' or '-'"
            )))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ExternalRef {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}
impl From<ExternalRef> for String {
    fn from(r: ExternalRef) -> String {
        r.0
    }
}
impl fmt::Display for ExternalRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The hash of the random key a browser keeps for booking (16 hex digits): enough to count that
/// browser's open bookings, nothing about the person using it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BrowserKey(String);

impl BrowserKey {
    /// The key for the browser that sent `secret` (whatever it is; only its hash is kept).
    pub fn of_secret(secret: &str) -> Self {
        let digest = Sha256::digest(format!("lobbywatch-browser:{secret}").as_bytes());
        Self(hex::encode(&digest[..8]))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BrowserKey {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        BookingId::parse(&s).map(|id| Self(id.0)).map_err(|_| {
            ParseError(format!(
                "'{s}' is not a browser key: 16 lowercase hex digits"
            ))
        })
    }
}
impl From<BrowserKey> for String {
    fn from(k: BrowserKey) -> String {
        k.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_names_its_booking_without_a_lookup() {
        let code = LinkCode::generate();
        let id = BookingId::of_code(&code);
        assert_eq!(id.as_str(), code.hash().id());
        assert!(BookingId::parse(id.as_str()).is_ok());
    }

    #[test]
    fn an_external_reference_names_one_booking() {
        let a = ExternalRef::parse("NO-2026-000123").unwrap();
        let b = ExternalRef::parse("NO-2026-000124").unwrap();
        assert_ne!(BookingId::of_external(&a), BookingId::of_external(&b));
        assert_eq!(
            BookingId::of_external(&a),
            BookingId::of_external(&a.clone())
        );
        assert!(ExternalRef::parse("").is_err());
        assert!(ExternalRef::parse("has space").is_err());
        assert!(ExternalRef::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn ids_are_lowercase_hex_of_sixteen() {
        assert!(BookingId::parse("0123456789abcdef").is_ok());
        assert!(BookingId::parse("0123456789ABCDEF").is_err());
        assert!(BookingId::parse("0123").is_err());
    }
}
