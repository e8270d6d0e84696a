//! The browser that books: a random secret in the `lw_browser` cookie, by which the service counts
//! the open bookings one browser holds (`[limits] open_bookings_per_browser`).
//!
//! The secret is 144 random bits the service sets on the first booking and the browser sends back
//! (HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it; long-lived, so a
//! visitor's second booking weeks later counts with the first). The service never keeps the secret:
//! a booking's event carries only [`BrowserKey::of_secret`], a hash that names no person and opens
//! nothing. A secret the browser sends that is not one the service could have made is ignored and
//! replaced — its hash would count bookings just as well, but a made-up value is no reason to trust
//! a client's choice of key.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use rand::rngs::OsRng;

use crate::domain::booking::BrowserKey;

/// The cookie's name.
pub const COOKIE: &str = "lw_browser";
/// Random bytes in a secret: 144 bits, 24 characters of URL-safe base64.
const SECRET_BYTES: usize = 18;
const SECRET_CHARS: usize = 24;
/// How long the browser keeps the cookie: 400 days, the most browsers honour.
const MAX_AGE_S: u64 = 400 * 24 * 3600;

/// The asking browser's secret: the one its cookie sent, or a new one.
pub(super) struct Browser {
    secret: String,
}

impl Browser {
    /// The browser that sent `headers`: its `lw_browser` secret, or a fresh one when it sent none
    /// (or something the service never sets).
    pub(super) fn of_request(headers: &HeaderMap) -> Self {
        let sent = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, value)| *name == COOKIE && is_secret(value))
            .map(|(_, value)| value.to_owned());
        Self {
            secret: sent.unwrap_or_else(fresh_secret),
        }
    }

    /// The key the log and the engine know this browser by.
    pub(super) fn key(&self) -> BrowserKey {
        BrowserKey::of_secret(&self.secret)
    }

    /// The `Set-Cookie` that keeps (or renews) the secret; `Secure` when the service is reached
    /// over HTTPS (`secure`), where a browser would otherwise also send it in the clear.
    pub(super) fn set_cookie(&self, secure: bool) -> HeaderValue {
        let secure = if secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{COOKIE}={}; Path=/; Max-Age={MAX_AGE_S}; HttpOnly; SameSite=Strict{secure}",
            self.secret
        ))
        .expect("a base64url secret is a valid header value")
    }
}

/// 144 bits from the operating system's random source, as URL-safe base64.
fn fresh_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random source is available");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `value` has the shape of a secret the service sets.
fn is_secret(value: &str) -> bool {
    value.len() == SECRET_CHARS
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    }

    #[test]
    fn a_browser_keeps_the_secret_its_cookie_sends() {
        let first = Browser::of_request(&HeaderMap::new());
        let cookie = first.set_cookie(false);
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(cookie.contains("Path=/") && !cookie.contains("Secure"));
        let pair = cookie.split(';').next().unwrap();
        let again = Browser::of_request(&with_cookie(&format!("theme=dark; {pair}")));
        assert_eq!(again.key(), first.key());
        assert!(
            first
                .set_cookie(true)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }

    #[test]
    fn a_cookie_the_service_never_set_is_replaced() {
        let made_up = Browser::of_request(&with_cookie("lw_browser=me"));
        assert_ne!(made_up.key(), BrowserKey::of_secret("me"));
        assert_ne!(
            Browser::of_request(&HeaderMap::new()).key(),
            Browser::of_request(&HeaderMap::new()).key(),
            "each new browser gets its own secret"
        );
    }
}
