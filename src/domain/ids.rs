//! Newtypes for the identifiers that cross the API boundary.
//!
//! Each type can only be built through its parser, so a `StationId` in the engine is always a
//! valid slug and a `Ticket` always has the `<prefix><number>` shape. Serde goes through the same
//! parsers (`try_from`), so a malformed value in a request body is a 422 that names the field.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a value could not be parsed; the message is shown to the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Slugs: lowercase ASCII letters, digits and '-', 1–64 characters, not starting or ending with '-'.
fn parse_slug(what: &str, s: &str) -> Result<String, ParseError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(ParseError(format!(
            "'{s}' is not a valid {what} id: use 1–64 lowercase letters a–z, digits and '-'"
        )))
    }
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schema(value_type = String, pattern = "^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                parse_slug($what, s).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, ParseError> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_id!(
    /// A station (one waiting room), e.g. `oslo-gronland`.
    StationId,
    "station"
);
slug_id!(
    /// A police district, e.g. `oslo`.
    DistrictId,
    "district"
);
slug_id!(
    /// A service offered at a station, e.g. `passport`.
    ServiceId,
    "service"
);

/// A device (terminal, guard screen, display, admin tool) as named in the config. Device ids are
/// operator-chosen labels; they may contain any visible characters except whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String)]
pub struct DeviceId(String);

impl DeviceId {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if !s.is_empty() && s.chars().count() <= 64 && !s.chars().any(char::is_whitespace) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError(format!(
                "'{s}' is not a valid device id: use 1–64 characters without spaces"
            )))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for DeviceId {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}
impl From<DeviceId> for String {
    fn from(id: DeviceId) -> String {
        id.0
    }
}
impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The device the service's own events are logged under; no config device may take this id.
pub const SERVICE_DEVICE: &str = "lobbywatch";

/// A desk (counter) where a clerk serves visitors: 1–16 letters, digits or '-', e.g. `3` or `A2`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[A-Za-z0-9-]{1,16}$", example = "3")]
pub struct DeskId(String);

impl DeskId {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = !s.is_empty()
            && s.len() <= 16
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError(format!(
                "'{s}' is not a valid desk: use 1–16 letters, digits or '-', e.g. \"3\""
            )))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for DeskId {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}
impl From<DeskId> for String {
    fn from(id: DeskId) -> String {
        id.0
    }
}
impl fmt::Display for DeskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A queue ticket: the service's prefix letter and the day's running number, e.g. `P007`.
/// Numbers are shown with at least three digits; `P7` and `P007` parse to the same ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ticket {
    prefix: char,
    number: u32,
}

impl Ticket {
    pub fn new(prefix: char, number: u32) -> Self {
        Self { prefix, number }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let bad = || {
            ParseError(format!(
                "'{s}' is not a valid ticket: use the service letter and a number, e.g. \"P007\""
            ))
        };
        let mut chars = s.chars();
        let prefix = chars
            .next()
            .filter(char::is_ascii_uppercase)
            .ok_or_else(bad)?;
        let digits = chars.as_str();
        if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let number = digits.parse().map_err(|_| bad())?;
        if number == 0 {
            return Err(bad());
        }
        Ok(Self { prefix, number })
    }
    pub fn prefix(&self) -> char {
        self.prefix
    }
    pub fn number(&self) -> u32 {
        self.number
    }
}
impl TryFrom<String> for Ticket {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}
impl From<Ticket> for String {
    fn from(t: Ticket) -> String {
        t.to_string()
    }
}
impl fmt::Display for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:03}", self.prefix, self.number)
    }
}

/// How many people arrive together on one ticket: 1–10.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(try_from = "u32", into = "u32")]
#[schema(value_type = u32, example = 2)]
pub struct PartySize(u8);

impl PartySize {
    pub const MAX: u32 = 10;
    pub const ONE: PartySize = PartySize(1);
    pub fn new(n: u32) -> Result<Self, ParseError> {
        if (1..=Self::MAX).contains(&n) {
            Ok(Self(n as u8))
        } else {
            Err(ParseError(format!(
                "party size {n} is out of range: one ticket covers 1 to {} people",
                Self::MAX
            )))
        }
    }
    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}
impl Default for PartySize {
    fn default() -> Self {
        Self::ONE
    }
}
impl TryFrom<u32> for PartySize {
    type Error = ParseError;
    fn try_from(n: u32) -> Result<Self, ParseError> {
        Self::new(n)
    }
}
impl From<PartySize> for u32 {
    fn from(p: PartySize) -> u32 {
        p.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_print_with_three_digits_and_parse_back() {
        let t = Ticket::parse("P7").unwrap();
        assert_eq!(t.to_string(), "P007");
        assert_eq!(Ticket::parse("P007").unwrap(), t);
        assert_eq!(Ticket::new('U', 1234).to_string(), "U1234");
    }

    #[test]
    fn malformed_tickets_are_rejected() {
        for bad in ["", "P", "p007", "PP1", "P0", "P-1", "P12a", "P1234567"] {
            assert!(Ticket::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn slugs_reject_uppercase_spaces_and_edges() {
        assert!(StationId::parse("oslo-gronland").is_ok());
        for bad in ["", "Oslo", "oslo gronland", "-oslo", "oslo-", "grønland"] {
            assert!(StationId::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn party_size_is_one_to_ten() {
        assert!(PartySize::new(0).is_err());
        assert_eq!(PartySize::new(10).unwrap().get(), 10);
        assert!(PartySize::new(11).is_err());
    }
}
