//! The live protocol: one loop per WebSocket that sends whole status documents.
//!
//! A client gets the current document of each station it watches at once, then a new whole
//! document after every change (documents are small; there is no delta protocol to get wrong).
//! Every document carries its station's `seq`, so clients can tell old from new. Updates come
//! from `watch` channels, so a slow client only ever has the newest document pending — nothing
//! queues per client — and a send that does not complete within [`SEND_TIMEOUT`] drops the
//! client rather than let it hold server memory. The server pings every
//! [`Heartbeat::interval`]; a peer silent for [`Heartbeat::timeout`] is dropped. Clients
//! reconnect and get the current document again.
//!
//! The loop is generic over any `Sink + Stream` of messages, so it is tested without a network.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::time::{Instant, MissedTickBehavior, timeout};
use tokio_util::sync::CancellationToken;

/// Longest a single send may take before the client counts as stuck.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Close code for "server going away" (RFC 6455).
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code for "your token was revoked" (application range, mirrors HTTP 401).
pub const CLOSE_REVOKED: u16 = 4401;

#[derive(Debug, Clone, Copy)]
pub struct Heartbeat {
    pub interval: Duration,
    pub timeout: Duration,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(15),
            timeout: Duration::from_secs(45),
        }
    }
}

/// Why a socket loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The service is shutting down; the client was sent close code 1001.
    Shutdown,
    /// The client closed the connection or it broke.
    ClientGone,
    /// No answer to pings within the heartbeat timeout.
    Unresponsive,
    /// A send did not complete in time.
    Stuck,
    /// The watched stations' channels closed.
    UpdatesEnded,
    /// The device's token was revoked; the client was sent close code 4401.
    Revoked,
}

/// Runs one client connection until it ends.
pub async fn serve<S, E, U>(
    socket: S,
    updates: U,
    shutdown: CancellationToken,
    heartbeat: Heartbeat,
) -> Ended
where
    S: Sink<Message> + Stream<Item = Result<Message, E>> + Unpin,
    U: Stream<Item = Utf8Bytes> + Unpin,
{
    serve_until_revoked(
        socket,
        updates,
        shutdown,
        CancellationToken::new(),
        heartbeat,
    )
    .await
}

/// [`serve`], for a device's socket that must close (with 4401) the moment `revoked` fires.
pub async fn serve_until_revoked<S, E, U>(
    mut socket: S,
    mut updates: U,
    shutdown: CancellationToken,
    revoked: CancellationToken,
    heartbeat: Heartbeat,
) -> Ended
where
    S: Sink<Message> + Stream<Item = Result<Message, E>> + Unpin,
    U: Stream<Item = Utf8Bytes> + Unpin,
{
    let mut tick =
        tokio::time::interval_at(Instant::now() + heartbeat.interval, heartbeat.interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => {
                let close = Message::Close(Some(CloseFrame {
                    code: CLOSE_GOING_AWAY,
                    reason: Utf8Bytes::from_static("server shutting down"),
                }));
                let _ = timeout(Duration::from_secs(1), socket.send(close)).await;
                return Ended::Shutdown;
            }
            () = revoked.cancelled() => {
                let close = Message::Close(Some(CloseFrame {
                    code: CLOSE_REVOKED,
                    reason: Utf8Bytes::from_static("the device token was revoked"),
                }));
                let _ = timeout(Duration::from_secs(1), socket.send(close)).await;
                return Ended::Revoked;
            }
            inbound = socket.next() => match inbound {
                // Clients only send pongs and tiny control messages; any of them shows life.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ended::ClientGone,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            update = updates.next() => match update {
                Some(doc) => match timeout(SEND_TIMEOUT, socket.send(Message::Text(doc))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return Ended::ClientGone,
                    Err(_) => return Ended::Stuck,
                },
                None => return Ended::UpdatesEnded,
            },
            _ = tick.tick() => {
                if last_heard.elapsed() >= heartbeat.timeout {
                    return Ended::Unresponsive;
                }
                match timeout(SEND_TIMEOUT, socket.send(Message::Ping(bytes::Bytes::new()))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return Ended::ClientGone,
                    Err(_) => return Ended::Stuck,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio::sync::mpsc;

    /// A socket made of two channels: what the server sends, and what the "client" sends.
    struct FakeSocket {
        sent: mpsc::UnboundedSender<Message>,
        inbound: mpsc::UnboundedReceiver<Result<Message, ()>>,
    }
    impl Sink<Message> for FakeSocket {
        type Error = ();
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }
        fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), ()> {
            self.sent.send(item).map_err(|_| ())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }
    }
    impl Stream for FakeSocket {
        type Item = Result<Message, ()>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.inbound.poll_recv(cx)
        }
    }

    fn fake() -> (
        FakeSocket,
        mpsc::UnboundedReceiver<Message>,
        mpsc::UnboundedSender<Result<Message, ()>>,
    ) {
        let (sent_tx, sent_rx) = mpsc::unbounded_channel();
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        (
            FakeSocket {
                sent: sent_tx,
                inbound: in_rx,
            },
            sent_rx,
            in_tx,
        )
    }

    #[tokio::test]
    async fn documents_are_sent_in_order_then_shutdown_closes_with_1001() {
        let (socket, mut sent, _client) = fake();
        let shutdown = CancellationToken::new();
        let docs = stream::iter(vec![
            Utf8Bytes::from("{\"seq\":1}"),
            Utf8Bytes::from("{\"seq\":2}"),
        ])
        .chain(stream::pending());
        let task = tokio::spawn(serve(socket, docs, shutdown.clone(), Heartbeat::default()));
        assert_eq!(sent.recv().await, Some(Message::Text("{\"seq\":1}".into())));
        assert_eq!(sent.recv().await, Some(Message::Text("{\"seq\":2}".into())));
        shutdown.cancel();
        match sent.recv().await {
            Some(Message::Close(Some(frame))) => assert_eq!(frame.code, CLOSE_GOING_AWAY),
            other => panic!("expected a close frame, got {other:?}"),
        }
        assert_eq!(task.await.unwrap(), Ended::Shutdown);
    }

    #[tokio::test]
    async fn a_revoked_device_is_closed_with_4401() {
        let (socket, mut sent, _client) = fake();
        let revoked = CancellationToken::new();
        let docs = stream::iter(vec![Utf8Bytes::from("{\"seq\":1}")]).chain(stream::pending());
        let task = tokio::spawn(serve_until_revoked(
            socket,
            docs,
            CancellationToken::new(),
            revoked.clone(),
            Heartbeat::default(),
        ));
        assert_eq!(sent.recv().await, Some(Message::Text("{\"seq\":1}".into())));
        revoked.cancel();
        match sent.recv().await {
            Some(Message::Close(Some(frame))) => assert_eq!(frame.code, CLOSE_REVOKED),
            other => panic!("expected a close frame, got {other:?}"),
        }
        assert_eq!(task.await.unwrap(), Ended::Revoked);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_is_pinged_then_dropped() {
        let (socket, mut sent, _client) = fake();
        let hb = Heartbeat {
            interval: Duration::from_secs(15),
            timeout: Duration::from_secs(45),
        };
        let task = tokio::spawn(serve(
            socket,
            stream::pending(),
            CancellationToken::new(),
            hb,
        ));
        assert!(matches!(sent.recv().await, Some(Message::Ping(_))));
        assert_eq!(task.await.unwrap(), Ended::Unresponsive);
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_answers_pings_stays_connected() {
        let (socket, mut sent, client) = fake();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve(
            socket,
            stream::pending(),
            shutdown.clone(),
            Heartbeat::default(),
        ));
        for _ in 0..10 {
            assert!(matches!(sent.recv().await, Some(Message::Ping(_))));
            client.send(Ok(Message::Pong(bytes::Bytes::new()))).unwrap();
        }
        assert!(!task.is_finished());
        shutdown.cancel();
        assert_eq!(task.await.unwrap(), Ended::Shutdown);
    }

    #[tokio::test]
    async fn the_client_closing_ends_the_loop() {
        let (socket, _sent, client) = fake();
        let task = tokio::spawn(serve(
            socket,
            stream::pending(),
            CancellationToken::new(),
            Heartbeat::default(),
        ));
        client.send(Ok(Message::Close(None))).unwrap();
        assert_eq!(task.await.unwrap(), Ended::ClientGone);
    }
}
