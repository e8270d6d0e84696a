//! Signed webhooks from the durable outbox, against a receiver in the test that checks every
//! signature: what is sent for an admitted and a called ticket, that a refused webhook is
//! retried with the same id, and that one in flight when the service is killed (SIGKILL) is
//! sent again, with the same id, after the restart on the same log.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use lobbywatch::config::Config;
use lobbywatch::webhooks::WebhookSecret;
use lobbywatch::webhooks::sign;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::helpers::{ServerProcess, TestApp, check_in, event_request, test_config_toml};

/// The secret the test stations sign with (the Standard Webhooks specification's example).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// How long a test waits for a webhook it expects: on PostgreSQL a row claimed by a killed
/// instance waits out its lease (`deliver::LEASE`, 20 s) first.
const WAIT: Duration = Duration::from_secs(40);

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    body: Value,
    /// Whether its `webhook-signature` verified against [`SECRET`] (and its timestamp is now).
    signed: bool,
}

/// What the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// 204 to everything.
    Accept,
    /// 500 to the next `n` requests, then 204.
    Refuse(u32),
    /// Never answers (the request stays open until the client goes away).
    Hold,
}

#[derive(Clone)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<Mode>>,
    arrived: Arc<Notify>,
}

impl Receiver {
    /// Starts the receiver on a port of its own; returns it and its URL.
    async fn start(mode: Mode) -> (Receiver, String) {
        let receiver = Receiver {
            received: Arc::default(),
            mode: Arc::new(Mutex::new(mode)),
            arrived: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/hooks", axum::routing::post(receive))
            .with_state(receiver.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, format!("http://{addr}/hooks"))
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received; panics after [`WAIT`].
    async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not received within {WAIT:?}; received {received:#?}"
            );
            let _ = tokio::time::timeout(Duration::from_millis(200), self.arrived.notified()).await;
        }
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = header(sign::ID_HEADER);
    let timestamp: i64 = header(sign::TIMESTAMP_HEADER).parse().unwrap_or(0);
    let secret = WebhookSecret::parse(SECRET).unwrap();
    let fresh = (chrono::Utc::now().timestamp() - timestamp).abs() <= 60;
    let signed = fresh
        && headers
            .get("content-type")
            .is_some_and(|v| v == "application/json")
        && sign::verify(
            &secret,
            &id,
            timestamp,
            body.as_bytes(),
            &header(sign::SIGNATURE_HEADER),
        );
    let mode = {
        let mut mode = receiver.mode.lock().unwrap();
        let now = *mode;
        if let Mode::Refuse(n) = now {
            *mode = if n > 1 {
                Mode::Refuse(n - 1)
            } else {
                Mode::Accept
            };
        }
        now
    };
    receiver.received.lock().unwrap().push(Received {
        id,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
        signed,
    });
    receiver.arrived.notify_waiters();
    match mode {
        Mode::Accept => StatusCode::NO_CONTENT,
        Mode::Refuse(_) => StatusCode::INTERNAL_SERVER_ERROR,
        Mode::Hold => std::future::pending().await,
    }
}

/// The test config with a webhook to `url` at station `small` (cap 3).
fn config_toml_with_webhook(url: &str) -> String {
    let toml = test_config_toml();
    let webhook = format!(
        "queue_line_m = 6.0\n\n[stations.webhook]\nurl = \"{url}\"\nsecret = \"{SECRET}\"\n"
    );
    let with = toml.replacen("queue_line_m = 6.0\n", &webhook, 1);
    assert_ne!(
        with, toml,
        "the test config has station small's queue line to anchor on"
    );
    with
}

fn config_with_webhook(url: &str) -> Config {
    Config::parse(&config_toml_with_webhook(url), "webhooks.toml").expect("the config is valid")
}

/// Every received webhook carried a valid signature.
fn assert_all_signed(received: &[Received]) {
    for r in received {
        assert!(r.signed, "a webhook without a valid signature: {r:?}");
    }
}

fn of_type<'a>(received: &'a [Received], kind: &str) -> Vec<&'a Received> {
    received.iter().filter(|r| r.body["type"] == kind).collect()
}

#[tokio::test]
async fn an_admitted_and_a_called_ticket_and_an_alert_are_sent_signed_with_opaque_ids_only() {
    let (receiver, url) = Receiver::start(Mode::Accept).await;
    let app = TestApp::spawn_with_config(config_with_webhook(&url)).await;
    // Three fill the room (cap 3: an at-cap alert), the fourth waits outside.
    let mut answers = Vec::new();
    for key in ["first", "second", "third", "fourth"] {
        let (status, answer) = app
            .post_event_json("small-desk", "small", key, &check_in("passport"))
            .await;
        assert_eq!(status, 201, "{answer}");
        answers.push(answer);
    }
    let (first, fourth) = (&answers[0], &answers[3]);
    assert_eq!(fourth["state"], "outside");
    // The first leaves (seq 5): the fourth is admitted; desk 2 calls the second (seq 6).
    app.post_events(
        "small-desk",
        "small",
        [
            (
                "leave",
                json!({"kind": "check_out", "ticket": first["ticket"]}),
            ),
            ("call", json!({"kind": "call", "desk": "2"})),
        ],
    )
    .await;

    let received = receiver
        .wait_for("ticket.admitted, ticket.called and alert.raised", |r| {
            ["ticket.admitted", "ticket.called", "alert.raised"]
                .iter()
                .all(|kind| !of_type(r, kind).is_empty())
        })
        .await;
    assert_all_signed(&received);

    let admitted = of_type(&received, "ticket.admitted")[0];
    assert_eq!(admitted.id, "small.5.0");
    assert_eq!(
        admitted.body["data"],
        json!({"station": "small", "link": fourth["ticket_link"]["id"], "ticket": fourth["ticket"]})
    );
    assert!(
        admitted.body["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let called = of_type(&received, "ticket.called")[0];
    let second = &answers[1];
    assert_eq!(called.id, "small.6.0");
    assert_eq!(
        called.body["data"],
        json!({"station": "small", "link": second["ticket_link"]["id"], "ticket": second["ticket"], "desk": "2"})
    );

    let alert = of_type(&received, "alert.raised")[0];
    assert_eq!(alert.id, "small.3.0", "raised by the third check-in");
    assert_eq!(alert.body["data"]["code"], "alert.at_cap");
    assert!(alert.body["data"]["alert"].is_u64(), "{:?}", alert.body);

    // The opaque id is 16 hex characters; the link's code (the capability) is in no webhook.
    for answer in &answers {
        let link = &answer["ticket_link"];
        assert!(
            link["id"].as_str().is_some_and(|id| id.len() == 16),
            "{link}"
        );
        let code = link["code"]
            .as_str()
            .expect("the check-in answer has the code");
        for r in &received {
            assert!(
                !r.body.to_string().contains(code),
                "{r:?} carries a link code"
            );
        }
    }
    // Each delivered once: nothing was refused.
    let mut ids: Vec<&str> = received.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), received.len(), "{received:#?}");
    app.stop().await;
}

#[tokio::test]
async fn a_party_that_waits_elsewhere_near_the_head_is_told_to_start_walking() {
    let (receiver, url) = Receiver::start(Mode::Accept).await;
    let app = TestApp::spawn_with_config(config_with_webhook(&url)).await;
    // The room is full (cap 3); the fourth waits first in line, then says it waits elsewhere
    // through its own link: within `notify_ahead` (3) places, it is told to start walking.
    app.check_in_passports("small-desk", "small", "in", 3).await;
    let (_, fourth) = app
        .post_event_json("small-desk", "small", "fourth", &check_in("passport"))
        .await;
    let code = fourth["ticket_link"]["code"].as_str().expect("a link code");
    let away = app
        .client
        .post(app.url(&format!("/api/v1/tickets/{code}/events")))
        .header("Idempotency-Key", "away-1")
        .json(&json!({"kind": "away"}))
        .send()
        .await
        .unwrap();
    assert_eq!(away.status(), 201, "{}", away.text().await.unwrap());

    let received = receiver
        .wait_for("ticket.start_walking", |r| {
            !of_type(r, "ticket.start_walking").is_empty()
        })
        .await;
    assert_all_signed(&received);
    let walking = of_type(&received, "ticket.start_walking")[0];
    assert_eq!(walking.id, "small.5.0", "caused by the away event");
    assert_eq!(
        walking.body["data"],
        json!({"station": "small", "link": fourth["ticket_link"]["id"], "ticket": fourth["ticket"]})
    );
    assert!(!walking.body.to_string().contains(code));
    app.stop().await;
}

#[tokio::test]
async fn only_a_station_with_a_webhook_writes_any_and_a_delivered_one_leaves_the_outbox() {
    let (receiver, url) = Receiver::start(Mode::Accept).await;
    let app = TestApp::spawn_with_config(config_with_webhook(&url)).await;
    let call = json!({"kind": "call", "desk": "1"});
    for station in ["big", "small"] {
        let device = format!("{station}-desk");
        app.post_events(
            &device,
            station,
            [("in", check_in("passport")), ("call", call.clone())],
        )
        .await;
    }
    let received = receiver
        .wait_for("small's called ticket", |r| {
            !of_type(r, "ticket.called").is_empty()
        })
        .await;
    assert_eq!(received.len(), 1, "only small has a webhook: {received:#?}");
    assert_eq!(received[0].id, "small.2.0");
    // Settled (deleted) once the receiver's 204 is back: wait for the count, then look.
    let deadline = tokio::time::Instant::now() + WAIT;
    while !scrape(&app)
        .await
        .contains(r#"lobbywatch_webhook_attempts_total{outcome="delivered"} 1"#)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the delivery is counted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Had big written a row, the deliverer would have dropped it (no webhook there) as given up.
    let metrics = scrape(&app).await;
    assert!(
        metrics.contains(r#"lobbywatch_webhook_attempts_total{outcome="gave_up"} 0"#),
        "{metrics}"
    );
    let data = app.stop().await;
    let left = crate::backend::log_query(data.path(), "SELECT id FROM webhook_outbox");
    assert!(left.is_empty(), "rows left in the outbox: {left:?}");
}

/// The `/metrics` text, read with the metrics device's token.
async fn scrape(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .bearer_auth("scraper-token")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_refused_webhook_is_sent_again_with_the_same_id_until_taken() {
    let (receiver, url) = Receiver::start(Mode::Refuse(1)).await;
    let app = TestApp::spawn_with_config(config_with_webhook(&url)).await;
    app.check_in_passports("small-desk", "small", "in", 1).await;
    app.post_events(
        "small-desk",
        "small",
        [("call", json!({"kind": "call", "desk": "1"}))],
    )
    .await;

    // The first attempt is answered 500; the retry comes after the first backoff (5 s).
    let received = receiver
        .wait_for("the called ticket twice", |r| {
            of_type(r, "ticket.called").len() >= 2
        })
        .await;
    assert_all_signed(&received);
    let called = of_type(&received, "ticket.called");
    assert_eq!(called[0].id, called[1].id);
    assert_eq!(called[0].body, called[1].body);
    // Taken the second time: not sent a third.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(of_type(&receiver.received(), "ticket.called").len(), 2);
    let metrics = scrape(&app).await;
    assert!(
        metrics.contains(r#"lobbywatch_webhook_attempts_total{outcome="failed"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"lobbywatch_webhook_attempts_total{outcome="delivered"} 1"#),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_webhook_in_flight_when_the_service_is_killed_is_sent_again_after_the_restart() {
    let (receiver, url) = Receiver::start(Mode::Hold).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lobbywatch.toml");
    std::fs::write(&config, config_toml_with_webhook(&url)).unwrap();
    let data = dir.path().join("data");
    let server = ServerProcess::start(&config, &data);
    let client = reqwest::Client::new();
    for (key, body) in [
        ("in", check_in("passport")),
        ("call", json!({"kind": "call", "desk": "1"})),
    ] {
        let r = event_request(
            &client,
            &server.base,
            "small-desk-token",
            "small",
            key,
            &body,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
    }
    // The receiver holds the webhook's request open; the service dies under it.
    let held = receiver
        .wait_for("the called ticket, held", |r| {
            !of_type(r, "ticket.called").is_empty()
        })
        .await;
    let id = of_type(&held, "ticket.called")[0].id.clone();
    let listen = server.base.trim_start_matches("http://").to_owned();
    server.kill9();

    receiver.set_mode(Mode::Accept);
    let server = ServerProcess::start_on(&config, &data, &listen);
    let received = receiver
        .wait_for("the called ticket again", |r| {
            of_type(r, "ticket.called").len() >= 2
        })
        .await;
    assert_all_signed(&received);
    let called = of_type(&received, "ticket.called");
    assert_eq!(called[1].id, id, "the same webhook-id after the restart");
    assert_eq!(called[0].body, called[1].body);
    server.stop();
}
