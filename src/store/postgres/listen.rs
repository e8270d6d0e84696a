//! Hearing of other instances' commits: one connection that `LISTEN`s, and says whether the
//! database can be reached.
//!
//! Committed events (announced in batches, `announce.rs`) and revocations are notified on
//! [`super::CHANNEL`]; this task turns each line of a notification into a [`Notice`] for the
//! instance to act on. Every (re)connection — the first one too — is followed by
//! [`Notice::Resync`]: the instance then reads every station past what it has, and every
//! revocation. Once a second the connection also reads every station's head (one index probe
//! per station) and passes them on as notices: an announcement lost with the instance that
//! committed is made up for within a second, and a database that stops answering is noticed
//! without waiting for the next request, so `/healthz` can say so.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, NoTls};

use super::CHANNEL;
use crate::domain::{DeviceId, StationId};

/// How often the listening connection reads the stations' heads (and so checks that the
/// database still answers).
const PING_EVERY: Duration = Duration::from_secs(1);
/// How long that read may take before the database counts as unreachable.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// How long to wait between attempts to reconnect.
const RETRY_AFTER: Duration = Duration::from_millis(250);

/// What another instance (or this one) committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// `station` has events up to `seq`.
    Event { station: StationId, seq: u64 },
    /// `device`'s tokens were revoked.
    Revoked(DeviceId),
    /// Notifications may have been missed (a new connection): read everything past what is known.
    Resync,
}

impl Notice {
    /// The notices of a payload, one per line (an announcement batches several).
    fn parse_all(payload: &str) -> impl Iterator<Item = Notice> + '_ {
        payload.lines().filter_map(Notice::parse)
    }

    fn parse(payload: &str) -> Option<Notice> {
        let mut words = payload.split(' ');
        match (words.next()?, words.next()?, words.next()) {
            ("e", station, Some(seq)) => Some(Notice::Event {
                station: StationId::parse(station).ok()?,
                seq: seq.parse().ok()?,
            }),
            ("r", device, None) => Some(Notice::Revoked(DeviceId::parse(device).ok()?)),
            _ => None,
        }
    }
}

/// Whether the database can be reached, and why not when not.
#[derive(Debug, Clone, Default)]
pub struct Reachability {
    down: Arc<Mutex<Option<String>>>,
}

impl Reachability {
    /// `Some(reason)` while the database cannot be reached.
    pub fn down(&self) -> Option<String> {
        self.down.lock().ok().and_then(|d| d.clone())
    }
    pub(super) fn set_down(&self, reason: String) {
        if let Ok(mut down) = self.down.lock() {
            if down.is_none() {
                tracing::error!(cause = %reason, "the database is unreachable: events are refused, reads serve the last known state");
            }
            *down = Some(reason);
        }
    }
    fn set_up(&self) {
        let Ok(mut down) = self.down.lock() else {
            return;
        };
        if down.take().is_some() {
            tracing::info!("the database is reachable again");
        }
    }
}

/// Listens until `notices`' receiver is dropped, reconnecting whenever the connection is lost.
pub(super) async fn listen(
    config: tokio_postgres::Config,
    notices: mpsc::UnboundedSender<Notice>,
    reachability: Reachability,
) {
    while !notices.is_closed() {
        if let Err(e) = listen_once(&config, &notices, &reachability).await {
            reachability.set_down(format!("{e:#}"));
        }
        tokio::select! {
            () = notices.closed() => return,
            () = tokio::time::sleep(RETRY_AFTER) => {}
        }
    }
}

/// One connection's life: `LISTEN`, ask for a resync, then forward notifications and ping.
async fn listen_once(
    config: &tokio_postgres::Config,
    notices: &mpsc::UnboundedSender<Notice>,
    reachability: &Reachability,
) -> anyhow::Result<()> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (messages_tx, mut messages) = mpsc::unbounded_channel();
    // The connection is driven here; its notifications (or its end) arrive on `messages`.
    let driver = tokio::spawn(async move {
        let mut stream = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = stream.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    let _ = messages_tx.send(Ok(n.payload().to_owned()));
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = messages_tx.send(Err(e));
                    return;
                }
            }
        }
    });
    let result = forward(&client, &mut messages, notices, reachability).await;
    driver.abort();
    result
}

async fn forward(
    client: &tokio_postgres::Client,
    messages: &mut mpsc::UnboundedReceiver<Result<String, tokio_postgres::Error>>,
    notices: &mpsc::UnboundedSender<Notice>,
    reachability: &Reachability,
) -> anyhow::Result<()> {
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    reachability.set_up();
    let _ = notices.send(Notice::Resync);
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        tokio::select! {
            () = notices.closed() => return Ok(()),
            message = messages.recv() => match message {
                Some(Ok(payload)) => {
                    for notice in Notice::parse_all(&payload) {
                        let _ = notices.send(notice);
                    }
                }
                Some(Err(e)) => return Err(e.into()),
                None => anyhow::bail!("the listening connection closed"),
            },
            _ = ping.tick() => {
                let heads = tokio::time::timeout(PING_TIMEOUT, super::reads::heads(client))
                    .await
                    .map_err(|_| anyhow::anyhow!("the database did not answer within {PING_TIMEOUT:?}"))??;
                reachability.set_up();
                for (station, seq) in heads {
                    let _ = notices.send(Notice::Event { station, seq });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_are_read_back() {
        assert_eq!(
            Notice::parse("e oslo-sentrum 42"),
            Some(Notice::Event {
                station: StationId::parse("oslo-sentrum").unwrap(),
                seq: 42
            })
        );
        assert_eq!(
            Notice::parse("r desk-1"),
            Some(Notice::Revoked(DeviceId::parse("desk-1").unwrap()))
        );
        assert_eq!(Notice::parse("e oslo"), None);
        let batch: Vec<Notice> = Notice::parse_all("e a 1\ne b 2\nnonsense\nr desk-1").collect();
        assert_eq!(batch.len(), 3);
        assert_eq!(Notice::parse("x"), None);
    }
}
