//! The ticket link: the capability a visitor holds to follow their own ticket (`/t/{code}`).
//!
//! A [`LinkCode`] is 18 bytes from the operating system's random source (144 bits: nobody guesses
//! one, however many they try), written as 24 characters of URL-safe base64. The service keeps
//! only its [`LinkHash`] — in the event log, in memory and in the documents it renders for a
//! ticket's page — so a copy of the database or a snapshot holds no link anyone could open. The
//! hash's first 16 hex digits are the link's *opaque id*: what a webhook and the log's device
//! column name, which says nothing about the code.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Random bytes in a code.
const CODE_BYTES: usize = 18;
/// Characters of a code: 18 bytes in base64 without padding.
pub const CODE_CHARS: usize = 24;

/// The capability itself. Never logged: its `Debug` says only that it is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkCode(String);

impl LinkCode {
    /// A fresh code from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; CODE_BYTES];
        OsRng
            .try_fill_bytes(&mut bytes)
            .expect("the operating system's random source is available");
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A code as a visitor's browser sends it back: exactly 24 URL-safe base64 characters.
    pub fn parse(s: &str) -> Option<Self> {
        let well_formed = s.len() == CODE_CHARS
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (well_formed && URL_SAFE_NO_PAD.decode(s).is_ok()).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the service stores in its place.
    pub fn hash(&self) -> LinkHash {
        LinkHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// The visitor's page for this code.
    pub fn path(&self) -> String {
        format!("/t/{}", self.0)
    }
}

impl fmt::Debug for LinkCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkCode(<redacted>)")
    }
}

/// SHA-256 of a [`LinkCode`]: how the log and the engine know a ticket's link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LinkHash([u8; 32]);

impl LinkHash {
    /// The link's opaque id: the hash's first 16 hex digits.
    pub fn id(&self) -> String {
        hex::encode(&self.0[..8])
    }
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl TryFrom<String> for LinkHash {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&s, &mut bytes)
            .map_err(|_| format!("'{s}' is not a link hash: 64 hex digits"))?;
        Ok(Self(bytes))
    }
}

impl From<LinkHash> for String {
    fn from(h: LinkHash) -> String {
        hex::encode(h.0)
    }
}

/// A ticket link as an answer carries it: the opaque `id`, and for the one who asked, the `code`
/// and the page's `url`. The answer stored for a retry holds the code only `sealed` (under the
/// asking terminal's token, see `http/ticket_link.rs`), never in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkAnswer {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl LinkAnswer {
    /// The answer for a link the engine knows only by its hash.
    pub fn of(hash: &LinkHash) -> Self {
        Self::of_id(hash.id())
    }

    /// The answer naming only the link's opaque `id`.
    pub fn of_id(id: String) -> Self {
        LinkAnswer {
            id,
            sealed: None,
            code: None,
            url: None,
        }
    }

    /// The answer with the code and its page in the clear.
    pub fn open(id: String, code: &LinkCode) -> Self {
        LinkAnswer {
            id,
            sealed: None,
            code: Some(code.as_str().to_owned()),
            url: Some(code.path()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_24_url_safe_characters_and_differ() {
        let a = LinkCode::generate();
        let b = LinkCode::generate();
        assert_eq!(a.as_str().len(), CODE_CHARS);
        assert_ne!(a, b);
        assert_eq!(LinkCode::parse(a.as_str()), Some(a.clone()));
        assert_eq!(a.path(), format!("/t/{}", a.as_str()));
    }

    #[test]
    fn malformed_codes_are_refused() {
        assert_eq!(LinkCode::parse(""), None);
        assert_eq!(LinkCode::parse(&"a".repeat(23)), None);
        assert_eq!(LinkCode::parse(&"a".repeat(25)), None);
        assert_eq!(LinkCode::parse(&format!("{}/", "a".repeat(23))), None);
    }

    #[test]
    fn the_hash_round_trips_and_the_debug_form_hides_the_code() {
        let code = LinkCode::generate();
        let hash = code.hash();
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(serde_json::from_str::<LinkHash>(&json).unwrap(), hash);
        assert_eq!(hash.id().len(), 16);
        assert!(!format!("{code:?}").contains(code.as_str()));
    }
}
