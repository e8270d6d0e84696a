//! The live protocol: one loop per WebSocket that sends whole status documents.
//!
//! A client gets the current document of each station it watches at once, then a new whole
//! document after every change (documents are small; there is no delta protocol to get wrong).
//! Every document carries its station's `seq`, so clients can tell old from new. Updates come
//! from `watch` channels, so a slow client only ever has the newest document pending — nothing
//! queues per client — and a send that does not complete within [`SEND_TIMEOUT`] closes the
//! socket (with [`CLOSE_TOO_SLOW`] and a reason, if the peer still takes that much) rather than
//! let it hold server memory. Documents are bounded ([`MAX_DOCUMENT_BYTES`]) and the sockets'
//! output allowance is made from that bound, so a document is never too large to send; should
//! one ever be, the socket closes with 1009 and says so instead of vanishing. The server pings every
//! [`Heartbeat::interval`]; a peer silent for [`Heartbeat::timeout`] is dropped. Clients
//! reconnect and get the current document again.
//!
//! The loop is generic over any `Sink + Stream` of messages, so it is tested without a network.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::time::{Instant, MissedTickBehavior, timeout};
use tokio_util::sync::CancellationToken;

use crate::engine::documents::MAX_DOCUMENT_BYTES;

/// Longest a single send may take before the client counts as stuck.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Close code for "server going away" (RFC 6455).
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code for "your token was revoked" (application range, mirrors HTTP 401).
pub const CLOSE_REVOKED: u16 = 4401;
/// Close code for "you did not read for [`SEND_TIMEOUT`]" (application range, mirrors HTTP 408).
pub const CLOSE_TOO_SLOW: u16 = 4408;
/// Close code for "message too big" (RFC 6455).
pub const CLOSE_TOO_LARGE: u16 = 1009;

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
    /// No answer to pings within the heartbeat timeout; the client was sent close code 4408.
    Unresponsive,
    /// A send did not complete in time; the client was sent close code 4408 if it took it.
    Stuck,
    /// A document over [`MAX_DOCUMENT_BYTES`] (a bug): the client was sent close code 1009.
    TooLarge,
    /// The watched stations' channels closed (a reload removed them); the client was sent close
    /// code 1001.
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

/// How a socket closes when its updates end: the close code and the reason the page shows.
#[derive(Debug, Clone, Copy)]
pub struct UpdatesEnd {
    pub code: u16,
    pub reason: &'static str,
}

/// A station's updates end when a reload removes the station.
pub const STATION_GONE: UpdatesEnd = UpdatesEnd {
    code: CLOSE_GOING_AWAY,
    reason: "this station is no longer served",
};

/// [`serve`], for a device's socket that must close (with 4401) the moment `revoked` fires.
pub async fn serve_until_revoked<S, E, U>(
    socket: S,
    updates: U,
    shutdown: CancellationToken,
    revoked: CancellationToken,
    heartbeat: Heartbeat,
) -> Ended
where
    S: Sink<Message> + Stream<Item = Result<Message, E>> + Unpin,
    U: Stream<Item = Utf8Bytes> + Unpin,
{
    serve_until(socket, updates, shutdown, revoked, heartbeat, STATION_GONE).await
}

/// [`serve_until_revoked`], closing with `end` when the updates end (a ticket's socket ends
/// when its link expires, which is not the station going away).
pub async fn serve_until<S, E, U>(
    mut socket: S,
    mut updates: U,
    shutdown: CancellationToken,
    revoked: CancellationToken,
    heartbeat: Heartbeat,
    end: UpdatesEnd,
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
                return close(&mut socket, CLOSE_GOING_AWAY, "server shutting down", Ended::Shutdown).await;
            }
            () = revoked.cancelled() => {
                return close(&mut socket, CLOSE_REVOKED, "the device token was revoked or its access changed; sign in again", Ended::Revoked).await;
            }
            inbound = socket.next() => match inbound {
                // Clients only send pongs and tiny control messages; any of them shows life.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ended::ClientGone,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            update = updates.next() => match update {
                Some(doc) if doc.len() > MAX_DOCUMENT_BYTES => {
                    tracing::error!(bytes = doc.len(), "a status document over its bound");
                    let why = "a status document was too large to send; reported to the operators";
                    return close(&mut socket, CLOSE_TOO_LARGE, why, Ended::TooLarge).await;
                }
                Some(doc) => match timeout(SEND_TIMEOUT, socket.send(Message::Text(doc))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return Ended::ClientGone,
                    Err(_) => return too_slow(&mut socket).await,
                },
                // The station is no longer served (a reload removed it), or what it watched ended.
                None => return close(&mut socket, end.code, end.reason, Ended::UpdatesEnded).await,
            },
            _ = tick.tick() => {
                if last_heard.elapsed() >= heartbeat.timeout {
                    let why = "no answer to pings; reconnect for the current state";
                    return close(&mut socket, CLOSE_TOO_SLOW, why, Ended::Unresponsive).await;
                }
                match timeout(SEND_TIMEOUT, socket.send(Message::Ping(bytes::Bytes::new()))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return Ended::ClientGone,
                    Err(_) => return too_slow(&mut socket).await,
                }
            }
        }
    }
}

/// Sends a close frame with `code` and `reason` (what the page shows), giving the peer a second
/// to take it: the connection ends either way.
async fn close<S: Sink<Message> + Unpin>(
    socket: &mut S,
    code: u16,
    reason: &'static str,
    ended: Ended,
) -> Ended {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }));
    let _ = timeout(Duration::from_secs(1), socket.send(frame)).await;
    ended
}

/// A peer that has not taken a message in [`SEND_TIMEOUT`]: a page in a background tab, a link
/// gone bad. If it reads again within the second, it learns why and reconnects.
async fn too_slow<S: Sink<Message> + Unpin>(socket: &mut S) -> Ended {
    let why = "the page did not read updates for 10 s; reconnect for the current state";
    close(socket, CLOSE_TOO_SLOW, why, Ended::Stuck).await
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
        /// A peer that takes no text message: flushing one never completes.
        stalls_on_text: bool,
        last_was_text: bool,
    }
    impl Sink<Message> for FakeSocket {
        type Error = ();
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }
        fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), ()> {
            self.last_was_text = matches!(item, Message::Text(_));
            self.sent.send(item).map_err(|_| ())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            if self.stalls_on_text && self.last_was_text {
                Poll::Pending
            } else {
                Poll::Ready(Ok(()))
            }
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
                stalls_on_text: false,
                last_was_text: false,
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
        let close = std::iter::from_fn(|| sent.try_recv().ok()).last();
        assert!(
            matches!(&close, Some(Message::Close(Some(f))) if f.code == CLOSE_TOO_SLOW),
            "{close:?}"
        );
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

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_stops_reading_is_closed_with_4408_and_a_reason() {
        let (mut socket, mut sent, _client) = fake();
        socket.stalls_on_text = true;
        let docs = stream::iter(vec![Utf8Bytes::from("{\"seq\":1}")]).chain(stream::pending());
        let task = tokio::spawn(serve(
            socket,
            docs,
            CancellationToken::new(),
            Heartbeat::default(),
        ));
        assert_eq!(sent.recv().await, Some(Message::Text("{\"seq\":1}".into())));
        match sent.recv().await {
            Some(Message::Close(Some(frame))) => {
                assert_eq!(frame.code, CLOSE_TOO_SLOW);
                assert!(frame.reason.contains("reconnect"), "{}", frame.reason);
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
        assert_eq!(task.await.unwrap(), Ended::Stuck);
    }

    #[tokio::test]
    async fn a_document_over_the_bound_is_not_sent_and_the_socket_says_why() {
        let (socket, mut sent, _client) = fake();
        let huge = Utf8Bytes::from("x".repeat(MAX_DOCUMENT_BYTES + 1));
        let docs = stream::iter(vec![huge]).chain(stream::pending());
        let task = tokio::spawn(serve(
            socket,
            docs,
            CancellationToken::new(),
            Heartbeat::default(),
        ));
        match sent.recv().await {
            Some(Message::Close(Some(frame))) => assert_eq!(frame.code, CLOSE_TOO_LARGE),
            other => panic!("expected a close frame, got {other:?}"),
        }
        assert_eq!(task.await.unwrap(), Ended::TooLarge);
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
