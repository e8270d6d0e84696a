//! `[stations.webhook]`: where a station's webhooks go (`url`) and the secret they are signed
//! with (`secret`, the Standard Webhooks form `whsec_<base64>`; see `webhooks.rs`).
//!
//! The key is what a receiver verifies signatures with, so it is as secret as a token: it is
//! read from the config file, kept as bytes, and never printed — `Debug` shows nothing of it,
//! and a refusal names the key, never the value. The URL may carry a gateway's credentials
//! (`https://user:pass@…`), so `Debug` shows only its scheme and host.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The prefix the Standard Webhooks libraries expect on a secret.
const PREFIX: &str = "whsec_";

/// A key shorter than this is refused: HMAC-SHA256 is only as strong as its key, and the
/// Standard Webhooks libraries generate 24 to 64 bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// Where a station's webhooks are sent, and the secret they are signed with.
#[derive(Clone, PartialEq)]
pub struct Webhook {
    /// `http://` or `https://`, with a host.
    pub url: reqwest::Url,
    pub secret: WebhookSecret,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("scheme", &self.url.scheme())
            .field("host", &self.url.host_str())
            .finish_non_exhaustive()
    }
}

/// The bytes HMAC is keyed with (the base64 after `whsec_`, decoded).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// Reads `whsec_<base64>`. The error says what is wrong without repeating the value.
    pub fn parse(text: &str) -> Result<WebhookSecret, String> {
        let Some(encoded) = text.strip_prefix(PREFIX) else {
            return Err(format!(
                "must be a Standard Webhooks secret: '{PREFIX}' followed by base64 (e.g. generated with `echo {PREFIX}$(openssl rand -base64 32)`)"
            ));
        };
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| format!("the part after '{PREFIX}' is not valid base64"))?;
        if key.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the key is {} bytes; use at least {MIN_KEY_BYTES} (32 recommended)",
                key.len()
            ));
        }
        Ok(WebhookSecret(key))
    }

    /// The key bytes: for the signature only (`webhooks/sign.rs`).
    pub fn key(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standard_secret_is_read_as_its_decoded_key() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(secret.key().len(), 24);
    }

    #[test]
    fn a_secret_without_the_prefix_bad_base64_or_a_short_key_is_refused() {
        assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(WebhookSecret::parse("whsec_not base64!").is_err());
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_err());
    }

    #[test]
    fn neither_debug_nor_a_refusal_shows_the_secret() {
        let text = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let secret = WebhookSecret::parse(text).unwrap();
        assert!(!format!("{secret:?}").contains("MfKQ9r8G"));
        let refused = WebhookSecret::parse("whsec_c2hvcnQ=").unwrap_err();
        assert!(!refused.contains("c2hvcnQ"), "{refused}");
    }
}

#[cfg(test)]
mod config_tests {
    use crate::config::Config;

    /// A one-station config whose station has `webhook` as its `[stations.webhook]` table.
    fn with_webhook(webhook: &str) -> String {
        format!(
            r#"
[[districts]]
id = "oslo"
name = "Oslo"

[[stations]]
id = "small"
district = "oslo"
name = "Small"
area_m2 = 12.0

[stations.webhook]
{webhook}

[[stations.services]]
id = "passport"
name = "Pass"
prefix = "P"
"#
        )
    }

    #[test]
    fn a_station_webhook_is_read_with_its_url_and_secret() {
        let toml = with_webhook(
            "url = \"http://127.0.0.1:9000/hooks\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"",
        );
        let config = Config::parse(&toml, "site.toml").unwrap();
        let webhook = config.stations[0].webhook.as_ref().unwrap();
        assert_eq!(webhook.url.as_str(), "http://127.0.0.1:9000/hooks");
        assert_eq!(webhook.secret.key().len(), 24);
    }

    #[test]
    fn a_bad_url_and_a_bad_secret_are_each_refused_naming_the_key_not_the_value() {
        let toml = with_webhook("url = \"ftp://gateway/hooks\"\nsecret = \"hunter2-not-a-secret\"");
        let errors = Config::parse(&toml, "site.toml").unwrap_err().to_string();
        assert!(errors.contains("stations[0].webhook.url"), "{errors}");
        assert!(errors.contains("stations[0].webhook.secret"), "{errors}");
        assert!(!errors.contains("hunter2"), "{errors}");
    }

    #[test]
    fn check_config_names_each_webhook_by_scheme_and_host_only() {
        let toml = with_webhook(
            "url = \"https://user:pa55word@gateway.example/hooks?key=k3y\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"",
        );
        let report = Config::parse(&toml, "site.toml").unwrap().describe_caps();
        assert!(
            report.contains("webhook: small → https://gateway.example\n"),
            "{report}"
        );
        for secret in ["pa55word", "k3y", "/hooks", "MfKQ9r8G"] {
            assert!(!report.contains(secret), "{report}");
        }
    }

    #[test]
    fn debug_shows_neither_the_secret_nor_credentials_in_the_url() {
        let toml = with_webhook(
            "url = \"https://user:pa55word@gateway.example/hooks\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"",
        );
        let config = Config::parse(&toml, "site.toml").unwrap();
        let shown = format!("{:?}", config.stations[0]);
        assert!(shown.contains("gateway.example"), "{shown}");
        assert!(
            !shown.contains("pa55word") && !shown.contains("MfKQ9r8G"),
            "{shown}"
        );
    }
}
