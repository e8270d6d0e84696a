//! The baselines every figure is divided by, measured in the same run on the same machine:
//!
//! * **B1** — a bare axum server with the event route's shape: it checks the same headers,
//!   parses the same JSON into the same [`Event`] type and answers 201 with an outcome of the
//!   same shape; no state, no log, no engine.
//! * **B2** — the raw fsync rate of the data directory's disk: a small append and `fsync`, in a
//!   loop, on a file in that directory.
//! * **B3** — a bare axum WebSocket server that broadcasts a document of the same size as the
//!   service's status document to every subscriber when it is poked over HTTP.
//! * **B4** — B1 that also writes what the service writes for an event — its log row and its
//!   idempotent answer — through the service's own log ([`Store`]: one writer, group commit,
//!   `synchronous=FULL`) and answers once that is durable. Not one of the issue's baselines: it
//!   is the floor a durable event stands on, so S1's gap to B1 splits into what storage costs
//!   (B4 / B1) and what the service adds on top (S1 / B4).
//! * **B5** — the same bare WebSocket server's memory per idle connection.
//! * **B6** — B4's handler with its [`Store`] opened in bare-journal mode
//!   (`StoreOptions::bare_journal`): the same writer thread, group commit and
//!   `synchronous=FULL`, but each event appended as one row (its JSON) to an index-free table and
//!   nothing else written. What durability itself costs here: S1 / B6 is what the log's layout
//!   and the service add above it, B4 / B6 what the layout alone adds.
//! * **B7** — B1 that also writes the service's two rows for an event to a shared PostgreSQL
//!   log, through the same kind of pool ([`shared_log`]); **B7n** the same with the service's
//!   `NOTIFY` in the transaction.
//!
//! B1, B3, B4, B6 and B7 run as child processes (`lobbywatch-bench baseline
//! http|ws|durable|bare-journal|shared-log|shared-log-notify`), started
//! exactly like the service, so process, runtime and client are the same on both sides of every
//! ratio.

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
use chrono::Utc;
use dashmap::DashSet;
use hdrhistogram::Histogram;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::broadcast;

use super::load::{latency_histogram, micros};
use lobbywatch::domain::{DeviceId, Event, Recorded, StationId};
use lobbywatch::http::live::{READ_BUFFER, WRITE_BUFFER};
use lobbywatch::idempotency::IdempotencyRecord;
use lobbywatch::store::sqlite::Store;
use lobbywatch::store::{OpenLog, Record, StoreOptions};

mod shared_log;

/// Which bare server to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// B1: the event route's shape, no state, no storage.
    Http,
    /// B3 and B5: a WebSocket broadcast of a fixed-size document.
    Ws,
    /// B4: B1 plus the service's log records for each event, committed before the answer.
    Durable,
    /// B6: B4 with the store in bare-journal mode: one index-free row per event.
    BareJournal,
    /// B7: B1 plus the service's two rows for each event in a PostgreSQL database.
    SharedLog,
    /// B7n: B7 plus the `NOTIFY` the service sends in the same transaction.
    SharedLogNotify,
}

/// Serves the bare baseline `kind` on `listen` until the process is stopped. `document` is the
/// status document whose size the WebSocket baseline imitates; `data` the directory of the
/// durable baseline's log; `database` the URL of the shared-log baseline's database.
pub async fn serve(
    kind: Kind,
    listen: SocketAddr,
    document: Option<&Path>,
    data: Option<&Path>,
    database: Option<&str>,
) -> anyhow::Result<()> {
    let app = match (kind, database) {
        (Kind::SharedLog, Some(url)) => shared_log::router(url, false).await?,
        (Kind::SharedLogNotify, Some(url)) => shared_log::router(url, true).await?,
        (Kind::SharedLog | Kind::SharedLogNotify, None) => {
            anyhow::bail!("the shared-log baselines need --database")
        }
        _ => router(kind, document, data)?,
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

fn router(kind: Kind, document: Option<&Path>, data: Option<&Path>) -> anyhow::Result<Router> {
    Ok(match kind {
        Kind::Http => Router::new()
            .route("/api/v1/stations/{station}/events", post(bare_event))
            .with_state(Arc::new(AtomicU64::new(0))),
        Kind::Durable | Kind::BareJournal => {
            let data = data.ok_or_else(|| anyhow::anyhow!("the durable baselines need --data"))?;
            let options = StoreOptions {
                bare_journal: kind == Kind::BareJournal,
                ..StoreOptions::default()
            };
            let store = OpenLog::open(data, options)?.start_writer()?;
            Router::new()
                .route("/api/v1/stations/{station}/events", post(durable_event))
                .with_state(Arc::new(Durable {
                    store,
                    seq: AtomicU64::new(0),
                    answered: DashSet::new(),
                }))
        }
        Kind::SharedLog | Kind::SharedLogNotify => {
            anyhow::bail!("the shared-log baselines are built by shared_log::router")
        }
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
    })
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
    let event = match bare_request(&headers, &body) {
        Ok((_, _, event)) => event,
        Err(refused) => return refused.into_response(),
    };
    let n = seq.fetch_add(1, Ordering::Relaxed) + 1;
    created(bare_outcome(&event, n))
}

/// What B1 and B4 check of a request, as the event route does first: the token and
/// `Idempotency-Key` headers are there, and the body is an [`Event`]. Returns the token (the
/// whole `Authorization` value), the key and the event, or the status to refuse with.
fn bare_request<'h>(
    headers: &'h HeaderMap,
    body: &[u8],
) -> Result<(&'h str, &'h str, Event), StatusCode> {
    let (Some(auth), Some(key)) = (
        headers.get("authorization").and_then(|v| v.to_str().ok()),
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()),
    ) else {
        return Err(StatusCode::UNAUTHORIZED);
    };
    let event = serde_json::from_slice(body).map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
    Ok((auth, key, event))
}

fn bare_outcome(event: &Event, n: u64) -> Vec<u8> {
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
    serde_json::to_vec(&outcome).expect("serializes")
}

fn created(body: impl Into<Bytes>) -> Response {
    (
        StatusCode::CREATED,
        [("content-type", "application/json")],
        body.into(),
    )
        .into_response()
}

/// B4's and B6's state: the log, a sequence number for its rows, and the keys already answered
/// (so a retry is answered, not inserted twice — which would fail B4's whole group).
struct Durable {
    store: Store,
    seq: AtomicU64,
    answered: DashSet<(String, String)>,
}

/// B1's work, then the two records the service logs for an accepted event — the event row and
/// the idempotent answer, of the same sizes — committed before answering. (B6's store writes
/// only the event, as one row.)
async fn durable_event(
    State(b): State<Arc<Durable>>,
    UrlPath(station): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (auth, key, event) = match bare_request(&headers, &body) {
        Ok(request) => request,
        Err(refused) => return refused.into_response(),
    };
    let Ok(station) = StationId::parse(&station) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let device = device_of(auth);
    let n = b.seq.fetch_add(1, Ordering::Relaxed) + 1;
    let answer = Bytes::from(bare_outcome(&event, n));
    if !b
        .answered
        .insert((device.as_str().to_owned(), key.to_owned()))
    {
        return created(answer);
    }
    let at = Utc::now();
    let ack = b.store.submit(Record {
        webhooks: Vec::new(),
        event: Some(Recorded {
            station,
            seq: n,
            at,
            device: device.clone(),
            event,
        }),
        idempotency: Some(IdempotencyRecord {
            device,
            key: key.to_owned(),
            fingerprint: fingerprint_of(&body),
            status: StatusCode::CREATED.as_u16(),
            body: answer.clone(),
            at,
        }),
        snapshot: None,
    });
    match ack.await {
        Ok(Ok(())) => created(answer),
        _ => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// The device a token names is the service's business; here each token is its own device.
fn device_of(auth: &str) -> DeviceId {
    DeviceId::parse(&format!(
        "d{}",
        hex::encode(&fingerprint_of(auth.as_bytes())[..8])
    ))
    .expect("a valid device id")
}

fn fingerprint_of(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
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

    /// The baseline handler of `kind`, logging into `dir`, served on a loopback port.
    async fn serve_baseline(kind: Kind, dir: &std::path::Path) -> std::net::SocketAddr {
        let app = router(kind, None, Some(dir)).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    /// One check-in under `key`, as the bench's desks post it.
    async fn post_check_in(
        client: &reqwest::Client,
        addr: std::net::SocketAddr,
        key: &str,
    ) -> reqwest::Result<reqwest::Response> {
        client
            .post(format!("http://{addr}/api/v1/stations/s0001/events"))
            .header("authorization", "Bearer t")
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(r#"{"kind":"check_in","service":"passport","party_size":1}"#)
            .send()
            .await
    }

    /// B4 writes what the service writes for an event, once per key: a retry is answered with
    /// the same body and not inserted again (which would fail the writer's whole group).
    #[tokio::test]
    async fn the_durable_baseline_logs_each_event_and_its_answer_once() {
        let dir = tempfile::tempdir().unwrap();
        let addr = serve_baseline(Kind::Durable, dir.path()).await;
        let client = reqwest::Client::new();
        let post = |key: &'static str| post_check_in(&client, addr, key);
        let first = post("k1").await.unwrap();
        assert_eq!(first.status(), 201);
        let first = first.bytes().await.unwrap();
        let retry = post("k1").await.unwrap();
        assert_eq!(retry.status(), 201);
        assert_eq!(post("k2").await.unwrap().status(), 201);

        let log = OpenLog::open(dir.path(), StoreOptions::default()).unwrap();
        let mut seqs = Vec::new();
        log.replay("s0001", 0, |r| {
            seqs.push(r.seq);
            Ok(())
        })
        .unwrap();
        assert_eq!(seqs.len(), 2, "two keys, two events: {seqs:?}");
        let answers = log
            .idempotency_records(chrono::DateTime::UNIX_EPOCH)
            .unwrap();
        assert_eq!(answers.len(), 2);
        let k1 = answers.iter().find(|a| a.key == "k1").unwrap();
        assert_eq!(k1.body, first, "the logged answer is the one sent");
    }

    /// B6 goes through the same handler, but its store appends one row per event to the bare
    /// journal and writes no answer.
    #[tokio::test]
    async fn the_bare_journal_baseline_appends_one_row_per_event() {
        let dir = tempfile::tempdir().unwrap();
        let addr = serve_baseline(Kind::BareJournal, dir.path()).await;
        let client = reqwest::Client::new();
        for key in ["k1", "k1", "k2"] {
            let answer = post_check_in(&client, addr, key).await.unwrap();
            assert_eq!(answer.status(), 201);
        }
        let db = rusqlite::Connection::open(dir.path().join(lobbywatch::store::DB_FILE)).unwrap();
        let count = |table: &str| {
            db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
        };
        assert_eq!(count("bare_journal"), 2, "two keys, two rows");
        assert_eq!(count("events"), 0);
        assert_eq!(count("idempotency"), 0);
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
