//! The ticket link in a check-in's answer: made here, sealed for the stored answer, opened for
//! the terminal that asked.
//!
//! A retried check-in must get its answer byte for byte — the same link — yet the service keeps
//! a link only as its hash. So the answer stored for retries (in memory and in the log's
//! idempotency table) holds the code *sealed*: XORed with a mask derived from the asking
//! device's token and the link's opaque id. The token is never stored (the config holds its
//! hash), so neither a copy of the database nor the config opens a sealed code; the terminal's
//! retry, which presents its token again, does. Every answer — the first and each replay — is
//! opened the same way, so they are identical. A retry after the device's token was rotated
//! cannot open it: its answer then carries the link's id without the code (the visitor's slip
//! was printed from the first answer, or the clerk checks the party in again).

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::domain::ticket_link::{LinkAnswer, LinkCode};

/// Domain separation for the mask: it is used for nothing else.
const MASK_LABEL: &[u8] = b"lobbywatch ticket link seal v1\n";

/// The mask for the link `id` under `token`: as many bytes of SHA-256 as the code has.
fn mask(token: &str, id: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(MASK_LABEL);
    h.update(token.as_bytes());
    h.update(b"\n");
    h.update(id.as_bytes());
    h.finalize().into()
}

/// `code` sealed under `token` (hex, so the stored answer stays plain JSON).
pub fn seal(code: &LinkCode, token: &str) -> String {
    let mask = mask(token, &code.hash().id());
    let sealed: Vec<u8> = code
        .as_str()
        .bytes()
        .zip(mask.iter())
        .map(|(c, m)| c ^ m)
        .collect();
    hex::encode(sealed)
}

/// The code sealed in `sealed` for the link `id`, if `token` is the one it was sealed under.
pub fn open(sealed: &str, token: &str, id: &str) -> Option<LinkCode> {
    let bytes = hex::decode(sealed).ok()?;
    let mask = mask(token, id);
    let text: Vec<u8> = bytes.iter().zip(mask.iter()).map(|(b, m)| b ^ m).collect();
    let code = LinkCode::parse(std::str::from_utf8(&text).ok()?)?;
    (code.hash().id() == id).then_some(code)
}

/// A stored 201 answer as the terminal presenting `token` receives it: a sealed link opened
/// into its code and page; any other answer unchanged.
pub fn reveal(body: &Bytes, token: Option<&str>) -> Bytes {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.clone();
    };
    let Some(link) = value.get("ticket_link") else {
        return body.clone();
    };
    let Ok(stored) = serde_json::from_value::<LinkAnswer>(link.clone()) else {
        return body.clone();
    };
    let opened = stored
        .sealed
        .as_deref()
        .zip(token)
        .and_then(|(sealed, token)| open(sealed, token, &stored.id));
    let shown = match opened {
        Some(code) => LinkAnswer::open(stored.id, &code),
        None => LinkAnswer::of_id(stored.id),
    };
    value["ticket_link"] = serde_json::to_value(shown).expect("a link answer serializes");
    Bytes::from(serde_json::to_vec(&value).expect("JSON values serialize"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_code_opens_only_with_its_token() {
        let code = LinkCode::generate();
        let id = code.hash().id();
        let sealed = seal(&code, "token-a");
        assert!(!sealed.contains(code.as_str()));
        assert_eq!(open(&sealed, "token-a", &id), Some(code));
        assert_eq!(open(&sealed, "token-b", &id), None);
    }

    #[test]
    fn reveal_opens_the_answer_the_same_way_every_time() {
        let code = LinkCode::generate();
        let id = code.hash().id();
        let body = Bytes::from(
            serde_json::json!({"seq": 1, "ticket_link": {"id": id, "sealed": seal(&code, "t")}})
                .to_string(),
        );
        let first = reveal(&body, Some("t"));
        assert_eq!(first, reveal(&body, Some("t")));
        let v: serde_json::Value = serde_json::from_slice(&first).unwrap();
        assert_eq!(v["ticket_link"]["code"], code.as_str());
        assert_eq!(v["ticket_link"]["url"], format!("/t/{}", code.as_str()));
        assert!(v["ticket_link"].get("sealed").is_none());
        let other: serde_json::Value =
            serde_json::from_slice(&reveal(&body, Some("other"))).unwrap();
        assert_eq!(other["ticket_link"], serde_json::json!({"id": id}));
    }
}
