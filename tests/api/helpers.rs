//! The test harness: a real lobbywatch server on port 0 with a temporary data directory, real
//! HTTP and WebSocket clients, and a config made for tests (small rooms, always open).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use futures_util::StreamExt;
use lobbywatch::AppState;
use lobbywatch::clock::Clock;
use lobbywatch::config::Config;
use lobbywatch::state::StartOptions;
use lobbywatch::store::{Storage, StoreOptions};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// Every socket read in the tests waits at most this long.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

pub fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Weekly hours that are open around the clock (the tests must not depend on the hour they run).
const ALWAYS_OPEN: &str = r#"hours = { mon = "00:00-24:00", tue = "00:00-24:00", wed = "00:00-24:00", thu = "00:00-24:00", fri = "00:00-24:00", sat = "00:00-24:00", sun = "00:00-24:00" }"#;

/// Two districts; `small` has a cap of 3 (12 m² at 2 m), `big` a cap of 25, `closed` has a
/// service that is never open, `bergen` is in another district. Tokens are `<device id>-token`.
pub fn test_config_toml() -> String {
    let always = ALWAYS_OPEN;
    let mut toml = format!(
        r#"
[rules]
distancing_m = 2.0
area_model = "grid"

# Always open means always: the tests must not depend on the day they run.
[calendar]
norwegian_holidays = false

[[districts]]
id = "oslo"
name = "Oslo politidistrikt"
timezone = "Europe/Oslo"

[[districts]]
id = "vest"
name = "Vest politidistrikt"
timezone = "Europe/Oslo"

[[stations]]
id = "small"
district = "oslo"
name = "Small politistasjon"
area_m2 = 12.0
queue_line_m = 6.0

[[stations.services]]
id = "passport"
name = "Pass"
name_en = "Passport"
prefix = "P"
{always}

[[stations.services]]
id = "residence"
name = "Opphold"
prefix = "U"
{always}

[[stations]]
id = "big"
district = "oslo"
name = "Big politistasjon"
area_m2 = 100.0

[[stations.services]]
id = "passport"
name = "Pass"
prefix = "P"
{always}

[[stations]]
id = "closed"
district = "oslo"
name = "Closed politistasjon"
area_m2 = 40.0

[[stations.services]]
id = "passport"
name = "Pass"
prefix = "P"

[[stations]]
id = "bergen"
district = "vest"
name = "Bergen politistasjon"
area_m2 = 40.0
seats = [[0.0, 0.0], [0.55, 0.0], [1.1, 0.0], [1.65, 0.0], [2.2, 0.0], [2.75, 0.0], [3.3, 0.0], [3.85, 0.0]]

[[stations.services]]
id = "passport"
name = "Pass"
prefix = "P"
{always}
"#
    );
    let devices: &[(&str, &str, &str)] = &[
        ("small-desk", "terminal", r#"station = "small""#),
        ("big-desk", "terminal", r#"station = "big""#),
        ("closed-desk", "terminal", r#"station = "closed""#),
        ("bergen-desk", "terminal", r#"station = "bergen""#),
        ("small-display", "display", r#"station = "small""#),
        ("oslo-guard", "guard", r#"districts = ["oslo"]"#),
        ("vest-guard", "guard", r#"districts = ["vest"]"#),
        ("all-guard", "guard", "all = true"),
        ("admin", "admin", ""),
        ("scraper", "metrics", ""),
    ];
    for (id, role, scope) in devices {
        toml.push_str(&format!(
            "\n[[devices]]\nid = \"{id}\"\nrole = \"{role}\"\n{scope}\ntoken_sha256 = \"{}\"\n",
            sha256_hex(&format!("{id}-token"))
        ));
    }
    toml
}

pub fn test_config() -> Config {
    Config::parse(&test_config_toml(), "test.toml").expect("the test config is valid")
}

/// A running server inside the test process.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub data: Arc<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// The test config, a fresh data directory, the system clock.
    pub async fn spawn() -> TestApp {
        Self::spawn_with_config(test_config()).await
    }

    /// [`TestApp::spawn`] with another config.
    pub async fn spawn_with_config(config: Config) -> TestApp {
        Self::spawn_on_clock(config, Clock::system()).await
    }

    /// [`TestApp::spawn`] with other store options (a small log, frequent snapshots).
    pub async fn spawn_with_store(options: StoreOptions) -> TestApp {
        Self::spawn_with(test_config(), fresh_data(), options).await
    }

    /// `config` and a fresh data directory, on `clock` (a day the test chooses, moved by it).
    pub async fn spawn_on_clock(config: Config, clock: Clock) -> TestApp {
        Self::spawn_with_clock(config, fresh_data(), StoreOptions::default(), clock).await
    }

    pub async fn spawn_with(
        config: Config,
        data: Arc<tempfile::TempDir>,
        options: StoreOptions,
    ) -> TestApp {
        Self::spawn_with_clock(config, data, options, Clock::system()).await
    }

    /// A server whose clock reads what `clock` says (e.g. days in the past).
    pub async fn spawn_with_clock(
        config: Config,
        data: Arc<tempfile::TempDir>,
        options: StoreOptions,
        clock: Clock,
    ) -> TestApp {
        let storage = storage_for(data.path());
        Self::spawn_on_storage(config, storage, data, options, clock).await
    }

    /// A server on the log at `storage` (e.g. one of several instances sharing a PostgreSQL
    /// database); `data` is its data directory (unused by a database, kept for the test).
    pub async fn spawn_on_storage(
        config: Config,
        storage: Storage,
        data: Arc<tempfile::TempDir>,
        options: StoreOptions,
        clock: Clock,
    ) -> TestApp {
        let start = StartOptions {
            store: options,
            clock,
            web_dir: None,
            instance: None,
        };
        Self::spawn_started(config, storage, data, start).await
    }

    /// A server on the log at `storage` opened with `start` in full (e.g. a named instance).
    pub async fn spawn_started(
        config: Config,
        storage: Storage,
        data: Arc<tempfile::TempDir>,
        start: StartOptions,
    ) -> TestApp {
        let state = AppState::open(config, &storage, start)
            .await
            .expect("state opens");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(lobbywatch::run(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        TestApp {
            addr,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            state,
            data,
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) -> Arc<tempfile::TempDir> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(10), handle)
                .await
                .expect("server stops in time")
                .unwrap()
                .unwrap();
        }
        self.data.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Posts an event as `device` (token `<device>-token`) with an Idempotency-Key: the raw
    /// answer, for tests that read its headers or bytes.
    pub async fn post_event(
        &self,
        device: &str,
        station: &str,
        key: &str,
        body: &Value,
    ) -> reqwest::Response {
        event_request(
            &self.client,
            &self.base,
            &format!("{device}-token"),
            station,
            key,
            body,
        )
        .send()
        .await
        .unwrap()
    }

    /// [`TestApp::post_event`], answered as the status and the JSON body (`null` when the body
    /// is not JSON), like [`TestApp::get_as`].
    pub async fn post_event_json(
        &self,
        device: &str,
        station: &str,
        key: &str,
        body: &Value,
    ) -> (u16, Value) {
        let r = self.post_event(device, station, key, body).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Posts `events` in order as `device`, each `(Idempotency-Key, body)`; each must be
    /// accepted (201).
    pub async fn post_events<K: AsRef<str>>(
        &self,
        device: &str,
        station: &str,
        events: impl IntoIterator<Item = (K, Value)>,
    ) {
        for (key, body) in events {
            let key = key.as_ref();
            let r = self.post_event(device, station, key, &body).await;
            let status = r.status();
            assert_eq!(status, 201, "{key}: {}", r.text().await.unwrap());
        }
    }

    /// Posts `n` plain passport check-ins as `device` (keys `<prefix>0`, `<prefix>1`, …), each
    /// of which must be accepted (inside or outside).
    pub async fn check_in_passports(&self, device: &str, station: &str, prefix: &str, n: usize) {
        for i in 0..n {
            let key = format!("{prefix}{i}");
            let (status, _) = self
                .post_event_json(device, station, &key, &check_in("passport"))
                .await;
            assert_eq!(status, 201, "check-in {key} at {station}");
        }
    }

    /// The full status of a station, read with the all-stations guard.
    pub async fn status(&self, station: &str) -> Value {
        status_at(&self.client, &self.base, station).await
    }

    /// GETs `path` without a token: the body as text, whatever its status.
    pub async fn get_text(&self, path: &str) -> String {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        r.text().await.unwrap()
    }

    /// GETs `path` (with `token` as a bearer token, if given): the status and the JSON body
    /// (`null` when the body is not JSON).
    pub async fn get_as(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }
}

/// An empty data directory, removed when the last server using it is gone.
/// Where a test's log lives: the SQLite log in `data`, or — when the suite runs on PostgreSQL —
/// the database that stands for `data` (see `backend.rs`).
pub fn storage_for(data: &Path) -> Storage {
    super::backend::storage_for(data)
}

pub fn fresh_data() -> Arc<tempfile::TempDir> {
    Arc::new(tempfile::tempdir().unwrap())
}

/// The instant a clock in Oslo shows `hour`:00 on `year`-`month`-`day`.
pub fn oslo_time(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Oslo
        .with_ymd_and_hms(year, month, day, hour, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// The entry of the JSON array `list` whose `field` is `value`.
pub fn find<T>(list: &Value, field: &str, value: T) -> Value
where
    Value: PartialEq<T>,
    T: std::fmt::Debug,
{
    list.as_array()
        .unwrap_or_else(|| panic!("an array: {list}"))
        .iter()
        .find(|entry| entry[field] == value)
        .unwrap_or_else(|| panic!("no entry with {field} = {value:?} in {list}"))
        .clone()
}

/// A plain check-in for `service`: `{"kind": "check_in", "service": …}`.
pub fn check_in(service: &str) -> Value {
    json!({"kind": "check_in", "service": service})
}

/// The POST of an event to the server at `base` (a [`TestApp`] or a [`ServerProcess`]), with
/// `token` as its bearer token and `key` as its Idempotency-Key.
pub fn event_request(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    station: &str,
    key: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    client
        .post(format!("{base}/api/v1/stations/{station}/events"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
}

/// The full status of a station of the server at `base`, read with the all-stations guard.
pub async fn status_at(client: &reqwest::Client, base: &str, station: &str) -> Value {
    client
        .get(format!("{base}/api/v1/stations/{station}"))
        .bearer_auth("all-guard-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads the next JSON text message from a socket, skipping pings, under [`READ_TIMEOUT`].
pub async fn next_doc(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(READ_TIMEOUT, ws.next())
            .await
            .expect("a live document arrives in time")
            .expect("the socket is open")
            .expect("the socket reads");
        match msg {
            Message::Text(text) => return serde_json::from_str(&text).expect("documents are JSON"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected message {other:?}"),
        }
    }
}

/// Waits, under [`READ_TIMEOUT`], for the close frame that ends a socket, skipping the
/// documents and pings before it: its close code (`None` for a close frame without one).
pub async fn close_code(ws: &mut Ws) -> Option<u16> {
    close_frame(ws).await.map(|(code, _)| code)
}

/// [`close_code`] with the frame's reason, which the pages show.
pub async fn close_frame(ws: &mut Ws) -> Option<(u16, String)> {
    loop {
        match tokio::time::timeout(READ_TIMEOUT, ws.next())
            .await
            .expect("the socket is closed in time")
        {
            Some(Ok(Message::Close(frame))) => {
                return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// A lobbywatch binary running as a child process (for crash tests).
pub struct ServerProcess {
    pub child: Child,
    pub base: String,
    /// What it printed on stdout before "listening on" (e.g. the metrics listener's address).
    pub before: Vec<String>,
}

impl ServerProcess {
    /// Starts `lobbywatch serve` on port 0 and waits for its "listening on" line.
    pub fn start(config: &Path, data: &Path) -> ServerProcess {
        Self::start_on(config, data, "127.0.0.1:0")
    }

    /// Starts `lobbywatch serve` on `listen` (e.g. the port a previous run had, so that a page
    /// loaded from it can reach it again).
    pub fn start_on(config: &Path, data: &Path, listen: &str) -> ServerProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lobbywatch"));
        command
            .args(["serve", "--listen", listen, "--config"])
            .arg(config)
            .arg("--data")
            .arg(data)
            .args(super::backend::database_args(data));
        Self::spawn(command)
    }

    /// Runs `command` (a `lobbywatch` invocation that prints "listening on <url>") and waits
    /// until it listens.
    pub fn spawn(command: Command) -> ServerProcess {
        Self::spawn_logging(command, "warn", Stdio::inherit())
    }

    /// A `serve` of `config` with its data in `dir/data`, logging at `rust_log` (in `format`)
    /// into `dir/server.log`: the server, and the log's path for the test to read.
    pub fn spawn_logging_to_file(
        dir: &Path,
        config: &Path,
        rust_log: &str,
        format: LogFormat,
    ) -> (ServerProcess, PathBuf) {
        let log_path = dir.join("server.log");
        let log = std::fs::File::create(&log_path).expect("the log file is created");
        let data = dir.join("data");
        let mut command = Command::new(env!("CARGO_BIN_EXE_lobbywatch"));
        if format == LogFormat::Json {
            command.args(["--log-format", "json"]);
        }
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(config)
            .arg("--data")
            .arg(&data)
            .args(super::backend::database_args(&data));
        let server = Self::spawn_logging(command, rust_log, Stdio::from(log));
        (server, log_path)
    }

    /// [`ServerProcess::spawn`] with the log level `rust_log` and the log written to `stderr`.
    pub fn spawn_logging(mut command: Command, rust_log: &str, stderr: Stdio) -> ServerProcess {
        use std::io::{BufRead, BufReader};
        let mut child = command
            .env("RUST_LOG", rust_log)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the lobbywatch binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut before = Vec::new();
        let base = loop {
            let line = lines
                .next()
                .expect("the server prints its address")
                .expect("stdout reads");
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.trim().to_owned();
            }
            before.push(line);
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServerProcess {
            child,
            base,
            before,
        }
    }

    /// Stops the server as an operator would (SIGTERM: graceful shutdown, the log flushed) and
    /// waits until it has exited, cleanly.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the server exited with {status}");
    }

    pub fn kill9(mut self) {
        // SIGKILL: no shutdown hooks run; only what was committed survives.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes the test config to a file in `dir`.
pub fn write_config(dir: &Path) -> PathBuf {
    let path = dir.join("lobbywatch.toml");
    std::fs::write(&path, test_config_toml()).unwrap();
    path
}

/// How a server started by [`ServerProcess::spawn_logging_to_file`] writes its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Plain,
    Json,
}
