//! The baselines every figure is divided by, measured in the same run on the same machine:
//!
//! * **B1** — a bare axum server with the event route's shape: it checks the same headers,
//!   parses the same JSON into the same [`Event`] type and answers 201 with an outcome of the
//!   same shape; no state, no log, no engine.
//! * **B2** — the raw fsync rate of the data directory's disk: a small append and `fsync`, in a
//!   loop, on a file in that directory.
//! * **B3** — a bare axum WebSocket server that broadcasts a document of the same size as the
//!   service's status document to every subscriber when it is poked over HTTP.
//! * **B5** — the same bare WebSocket server's memory per idle connection.
//!
//! B1 and B3 run as child processes (`lobbywatch bench-baseline http|ws`), started exactly like
//! the service, so process, runtime and client are the same on both sides of every ratio.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

use super::load::{latency_histogram, micros};
use crate::domain::Event;
use crate::http::live::{READ_BUFFER, WRITE_BUFFER};

/// Which bare server to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// B1: the event route's shape, no state, no storage.
    Http,
    /// B3 and B5: a WebSocket broadcast of a fixed-size document.
    Ws,
}

/// Serves the bare baseline `kind` on `listen` until the process is stopped. `document` is the
/// status document whose size the WebSocket baseline imitates.
pub async fn serve(kind: Kind, listen: SocketAddr, document: Option<&Path>) -> anyhow::Result<()> {
    let app = match kind {
        Kind::Http => Router::new()
            .route("/api/v1/stations/{station}/events", post(bare_event))
            .with_state(Arc::new(AtomicU64::new(0))),
        Kind::Ws => {
            let text = match document {
                Some(path) => std::fs::read_to_string(path)?,
                None => r#"{"station":"s0000","seq":0}"#.to_owned(),
            };
            let (tx, _) = broadcast::channel(16);
            let template = Template::new(&text)?;
            let current = template.render(0);
            Router::new()
                .route("/ws", get(bare_socket))
                .route("/publish/{seq}", post(bare_publish))
                .with_state(Arc::new(Broadcast {
                    tx,
                    template,
                    current: std::sync::Mutex::new(current),
                }))
        }
    };
    let listener = TcpListener::bind(listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        }),
        app,
    )
    .await?;
    Ok(())
}

/// The outcome B1 answers with: the service's outcome fields, made up.
#[derive(Serialize)]
struct BareOutcome<'a> {
    seq: u64,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a str>,
    admitted: [&'a str; 0],
    headcount: u32,
    cap: u32,
    outside: u32,
}

async fn bare_event(
    State(seq): State<Arc<AtomicU64>>,
    UrlPath(_station): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !headers.contains_key("authorization") || !headers.contains_key("idempotency-key") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let event: Event = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(_) => return StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    };
    let n = seq.fetch_add(1, Ordering::Relaxed) + 1;
    let check_in = matches!(event, Event::CheckIn { .. });
    let outcome = BareOutcome {
        seq: n,
        kind: event.kind(),
        ticket: check_in.then(|| format!("P{:03}", n % 999_999 + 1)),
        state: check_in.then_some("inside"),
        admitted: [],
        headcount: 8,
        cap: 1000,
        outside: 0,
    };
    (
        StatusCode::CREATED,
        [("content-type", "application/json")],
        serde_json::to_vec(&outcome).expect("serializes"),
    )
        .into_response()
}

/// A status document with its `seq` number cut out, to be printed with any number.
struct Template {
    before: String,
    after: String,
}

impl Template {
    fn new(doc: &str) -> anyhow::Result<Template> {
        let marker = "\"seq\":";
        let at = doc
            .find(marker)
            .ok_or_else(|| anyhow::anyhow!("the document has no \"seq\""))?
            + marker.len();
        let digits = doc[at..].bytes().take_while(u8::is_ascii_digit).count();
        Ok(Template {
            before: doc[..at].to_owned(),
            after: doc[at + digits..].to_owned(),
        })
    }

    fn render(&self, seq: u64) -> Utf8Bytes {
        format!("{}{seq}{}", self.before, self.after).into()
    }
}

struct Broadcast {
    tx: broadcast::Sender<Utf8Bytes>,
    template: Template,
    current: std::sync::Mutex<Utf8Bytes>,
}

async fn bare_publish(State(b): State<Arc<Broadcast>>, UrlPath(seq): UrlPath<u64>) -> StatusCode {
    let doc = b.template.render(seq);
    *b.current.lock().expect("lock") = doc.clone();
    let _ = b.tx.send(doc);
    StatusCode::NO_CONTENT
}

/// The same buffer sizes as the service's sockets, so B5 is the floor of a connection so
/// configured and the S5 ratio shows what the live protocol adds to it.
async fn bare_socket(State(b): State<Arc<Broadcast>>, ws: WebSocketUpgrade) -> Response {
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| forward(socket, b))
}

/// Sends the current document, then every broadcast one; a lagging client skips to the newest.
async fn forward(mut socket: WebSocket, b: Arc<Broadcast>) {
    let mut rx = b.tx.subscribe();
    let current = b.current.lock().expect("lock").clone();
    if socket.send(Message::Text(current)).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            doc = rx.recv() => match doc {
                Ok(doc) => if socket.send(Message::Text(doc)).await.is_err() { return },
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            inbound = socket.recv() => match inbound {
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

/// B2: `samples` appends of 512 bytes, each followed by an fsync, on a file in `dir`. Returns
/// the fsync latency histogram (µs) and the rate per second.
pub fn fsync_rate(dir: &Path, samples: u32) -> anyhow::Result<(Histogram<u64>, f64)> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    let block = [0x5au8; 512];
    let mut hist = latency_histogram();
    let started = Instant::now();
    for _ in 0..samples {
        let t = Instant::now();
        file.write_all(&block)?;
        file.sync_all()?;
        let _ = hist.record(micros(t.elapsed()));
    }
    let rate = f64::from(samples) / started.elapsed().as_secs_f64().max(1e-9);
    drop(file);
    let _ = std::fs::remove_file(&path);
    Ok((hist, rate))
}

/// Milliseconds of a microsecond histogram's quantile.
pub fn ms(hist: &Histogram<u64>, quantile: f64) -> f64 {
    hist.value_at_quantile(quantile) as f64 / 1000.0
}

/// A pause long enough for a child process to settle after connections open or close.
pub const SETTLE: Duration = Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_prints_the_document_with_any_seq_and_the_same_size_otherwise() {
        let doc = r#"{"station":"s0001","name":"x","seq":41,"headcount":8}"#;
        let t = Template::new(doc).unwrap();
        assert_eq!(t.render(41).as_str(), doc);
        assert_eq!(
            t.render(1234).as_str(),
            r#"{"station":"s0001","name":"x","seq":1234,"headcount":8}"#
        );
        assert!(Template::new(r#"{"station":"s"}"#).is_err());
    }

    #[test]
    fn the_fsync_probe_measures_every_sample() {
        let dir = tempfile::tempdir().unwrap();
        let (hist, rate) = fsync_rate(dir.path(), 5).unwrap();
        assert_eq!(hist.len(), 5);
        assert!(rate > 0.0);
        assert!(!dir.path().join("fsync-probe").exists());
    }
}
