//! WebSocket subscriber clients: dashboards that record when each status document arrives (by
//! its `seq`), slow consumers that stop reading, and the join of arrivals with the load
//! driver's send times into a check-in → screen latency histogram.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{StreamExt, stream};
use hdrhistogram::Histogram;
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, client_async};
use tokio_util::sync::CancellationToken;

use super::load::{latency_histogram, micros};

/// Handshakes in flight at once while many subscribers connect (the listen backlog is finite).
const CONNECTING_AT_ONCE: usize = 256;
/// Receive buffer of a slow consumer's socket: small, so that it fills at once and the server
/// meets a client that does not read.
const SLOW_RECV_BUFFER: u32 = 4096;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Where and as whom subscribers connect.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub path: String,
    pub token: Option<String>,
}

/// Opens one WebSocket to `target`; `recv_buffer` shrinks the socket's receive buffer.
pub async fn open(target: &Target, recv_buffer: Option<u32>) -> anyhow::Result<Socket> {
    let socket = TcpSocket::new_v4()?;
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    let tcp = socket
        .connect(target.addr)
        .await
        .with_context(|| format!("connecting to {}", target.addr))?;
    tcp.set_nodelay(true)?;
    let mut request = format!("ws://{}{}", target.addr, target.path).into_client_request()?;
    if let Some(token) = &target.token {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
    }
    let (ws, _) = client_async(request, MaybeTlsStream::Plain(tcp)).await?;
    Ok(ws)
}

/// Opens `count` sockets to `target`, a bounded number of handshakes at a time.
pub async fn open_many(
    target: &Target,
    count: usize,
    recv_buffer: Option<u32>,
) -> anyhow::Result<Vec<Socket>> {
    stream::iter(0..count)
        .map(|_| open(target, recv_buffer))
        .buffer_unordered(CONNECTING_AT_ONCE)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Dashboards that read every document and note when each `seq` arrived.
pub struct Watchers {
    tasks: Vec<JoinHandle<Vec<(u64, Instant)>>>,
    last_seen: Arc<Vec<AtomicU64>>,
    stop: CancellationToken,
}

impl Watchers {
    /// Connects `count` reading subscribers and waits until each has its first document.
    /// They share this process's clock, so they live in this process: its open-file limit must
    /// hold them (the idle connections of S5, which need no clock, are spread over processes).
    pub async fn connect(target: &Target, count: usize) -> anyhow::Result<Watchers> {
        let limit = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(u64::MAX, |(soft, _)| soft);
        anyhow::ensure!(
            count as u64 + 256 <= limit,
            "{count} subscribers need {} open files, but this process may open {limit}: raise the hard limit (ulimit -Hn)",
            count + 256
        );
        let sockets = open_many(target, count, None).await?;
        let last_seen: Arc<Vec<AtomicU64>> =
            Arc::new((0..count).map(|_| AtomicU64::new(0)).collect());
        let got_first = Arc::new(AtomicU64::new(0));
        let stop = CancellationToken::new();
        let tasks = sockets
            .into_iter()
            .enumerate()
            .map(|(i, ws)| {
                let last_seen = last_seen.clone();
                let got_first = got_first.clone();
                let stop = stop.clone();
                tokio::spawn(read_documents(ws, i, last_seen, got_first, stop))
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(30);
        while (got_first.load(Ordering::Relaxed) as usize) < count {
            anyhow::ensure!(
                Instant::now() < deadline,
                "only {} of {count} subscribers got their first document",
                got_first.load(Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(Watchers {
            tasks,
            last_seen,
            stop,
        })
    }

    /// Waits until every subscriber has seen `seq` (or `timeout` passes).
    pub async fn wait_for(&self, seq: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self
                .last_seen
                .iter()
                .all(|s| s.load(Ordering::Relaxed) >= seq)
            {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Stops reading and returns each subscriber's arrivals.
    pub async fn finish(self) -> Vec<Vec<(u64, Instant)>> {
        self.stop.cancel();
        let mut out = Vec::with_capacity(self.tasks.len());
        for t in self.tasks {
            out.push(t.await.unwrap_or_default());
        }
        out
    }
}

async fn read_documents(
    mut ws: Socket,
    index: usize,
    last_seen: Arc<Vec<AtomicU64>>,
    got_first: Arc<AtomicU64>,
    stop: CancellationToken,
) -> Vec<(u64, Instant)> {
    let mut arrivals = Vec::new();
    loop {
        let message = tokio::select! {
            () = stop.cancelled() => break,
            m = ws.next() => m,
        };
        match message {
            Some(Ok(Message::Text(text))) => {
                let now = Instant::now();
                if let Some(seq) = seq_of(text.as_str()) {
                    if arrivals.is_empty() {
                        got_first.fetch_add(1, Ordering::Relaxed);
                    }
                    arrivals.push((seq, now));
                    last_seen[index].fetch_max(seq, Ordering::Relaxed);
                }
            }
            Some(Ok(_)) => {}
            _ => break,
        }
    }
    let _ = ws.close(None).await;
    arrivals
}

/// The document's `seq`: the first `"seq":` field (status documents put it near the start).
pub fn seq_of(doc: &str) -> Option<u64> {
    let at = doc.find("\"seq\":")? + 6;
    let digits: &str = &doc[at..];
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// Consumers that stop reading after the handshake: their sockets are held, never polled.
pub struct Stalled {
    _sockets: Vec<Socket>,
}

impl Stalled {
    pub async fn connect(target: &Target, count: usize) -> anyhow::Result<Stalled> {
        Ok(Stalled {
            _sockets: open_many(target, count, Some(SLOW_RECV_BUFFER)).await?,
        })
    }
}

/// The delay from each event's send time to each arrival of its document, in microseconds.
/// A subscriber that was sent a newer document instead of an older one (the live protocol
/// keeps only the newest) simply has no sample for the older one.
pub fn delivery_latency(
    sent: &HashMap<u64, Instant>,
    arrivals: &[Vec<(u64, Instant)>],
) -> Histogram<u64> {
    let mut hist = latency_histogram();
    for (seq, at) in arrivals.iter().flatten() {
        if let Some(sent_at) = sent.get(seq) {
            let _ = hist.record(micros(at.saturating_duration_since(*sent_at)));
        }
    }
    hist
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seq_is_read_from_the_first_seq_field() {
        assert_eq!(
            seq_of(r#"{"station":"a","seq":123,"x":{"seq":9}}"#),
            Some(123)
        );
        assert_eq!(seq_of(r#"{"seq":7}"#), Some(7));
        assert_eq!(seq_of(r#"{"station":"a"}"#), None);
    }

    #[test]
    fn latency_joins_arrivals_with_send_times_by_seq() {
        let t0 = Instant::now();
        let sent = HashMap::from([(1, t0), (2, t0 + Duration::from_millis(10))]);
        let arrivals = vec![
            vec![
                (1, t0 + Duration::from_millis(3)),
                (2, t0 + Duration::from_millis(14)),
            ],
            vec![
                (2, t0 + Duration::from_millis(12)),
                (3, t0 + Duration::from_millis(20)),
            ],
        ];
        let hist = delivery_latency(&sent, &arrivals);
        assert_eq!(hist.len(), 3, "seq 3 was never sent by the driver");
        assert!(hist.equivalent(hist.max(), 4000));
        assert!(hist.equivalent(hist.min(), 2000));
    }
}
