//! Signed webhooks for an office's own notification gateway (SMS, e-mail): what is sent, how it
//! is signed, and how it reaches the gateway at least once.
//!
//! A station configured with `[stations.webhook]` (`config/webhook.rs`: the URL, and the
//! `whsec_…` secret, parsed there and never printed) gets a webhook for each of the engine's
//! notices — a ticket admitted, called, told to start walking, a guard's alert raised. The rows
//! are written to the log's outbox **in the same transaction as the event** that caused them
//! (`ingest` fills [`crate::store::Record::webhooks`] with [`for_event`]), so an event is never
//! durable without its webhooks, nor a webhook without its event. A deliverer task ([`deliver`])
//! sends what is due, signs it the Standard Webhooks way ([`sign`]), and retries with backoff
//! across restarts. Each row's id is `{station}.{seq}.{index}`, decided by the event alone: a
//! retry, a replay or another instance never make a second id for the same notice, and a
//! receiver dedupes by `webhook-id`.
//!
//! | file | owns |
//! |---|---|
//! | `notices.rs` | which webhooks an accepted event causes, from the engine's notices |
//! | `sign.rs` | the `webhook-signature` header (HMAC-SHA256) and its check |
//! | `payload.rs` | the JSON body of each notice: opaque ids only, never personal data |
//! | `deliver.rs` | the deliverer task: claim what is due, POST, settle, back off |

pub mod deliver;
pub mod notices;
pub mod payload;
pub mod sign;

pub use crate::config::WebhookSecret;
pub use notices::for_event;
pub use payload::outbox_rows;
