//! Signed webhooks for an office's own notification gateway (SMS, e-mail): what is sent, how it
//! is signed, and how it reaches the gateway at least once.
//!
//! | file | owns |
//! |---|---|
//! | `sign.rs` | the `webhook-signature` header (HMAC-SHA256) and its check |

pub mod sign;

pub use crate::config::WebhookSecret;
