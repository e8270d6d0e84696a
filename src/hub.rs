//! Per-station live status: the latest documents, serialized once per change and shared by every
//! reader and socket.
//!
//! Status is state, not history, so each station has a `watch` channel holding the newest
//! [`Docs`]. A socket that falls behind simply sees the newest value when it next sends — there is
//! no per-client queue to grow. Documents are only published after the events they reflect are
//! durable, and never replaced by an older one ([`Live::publish`] compares sequence numbers), so a
//! reader can never see a state the log could lose.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;

use crate::domain::status::{PublicStatus, Sign};
use crate::engine::{Station, TicketBoard};

/// A station's headline numbers, for lists that need no whole document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub open: bool,
    pub sign: Sign,
    pub headcount: u32,
    pub cap: u32,
    pub outside: u32,
    /// People the room is held for (booked parties due).
    pub held: u32,
}

/// One station's documents at one point, each serialized once.
#[derive(Debug, Clone)]
pub struct Docs {
    pub seq: u64,
    pub as_of: DateTime<Utc>,
    pub summary: Summary,
    /// The full status document, JSON.
    pub full: Utf8Bytes,
    /// The public status document, JSON.
    pub public: Utf8Bytes,
    /// Where each linked ticket stands, by its link's hash: a ticket's page and socket render
    /// their own view from it (`TicketBoard::view_json`). Never published whole.
    pub tickets: TicketBoard,
}

impl Docs {
    /// Renders both documents of `station` as of `now`.
    pub fn render(station: &Station, now: DateTime<Utc>) -> Docs {
        let (full, tickets) = station.documents(now);
        let public = PublicStatus::from_full(&full);
        Docs {
            seq: full.seq,
            as_of: now,
            summary: Summary {
                open: full.open,
                sign: full.sign,
                headcount: full.headcount,
                cap: full.cap,
                outside: full.outside_total,
                held: full.held,
            },
            full: serde_json::to_string(&full)
                .expect("status documents always serialize")
                .into(),
            public: serde_json::to_string(&public)
                .expect("status documents always serialize")
                .into(),
            tickets,
        }
    }
}

/// The live channel of one station.
#[derive(Debug)]
pub struct Live {
    tx: watch::Sender<Arc<Docs>>,
}

impl Live {
    pub fn new(initial: Docs) -> Self {
        Self {
            tx: watch::Sender::new(Arc::new(initial)),
        }
    }

    /// Publishes `docs` unless something at least as new is already out. Returns whether it was
    /// published.
    pub fn publish(&self, docs: Arc<Docs>) -> bool {
        self.tx.send_if_modified(|current| {
            if (docs.seq, docs.as_of) > (current.seq, current.as_of) {
                *current = docs;
                true
            } else {
                false
            }
        })
    }

    pub fn latest(&self) -> Arc<Docs> {
        self.tx.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<Arc<Docs>> {
        self.tx.subscribe()
    }

    /// How many sockets are watching (for metrics and tests).
    pub fn watchers(&self) -> usize {
        self.tx.receiver_count()
    }
}
