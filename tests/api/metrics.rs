//! `GET /metrics`: scraped from a running server after real traffic, parsed as the Prometheus
//! text format, and checked for its families and their types, label values from bounded sets
//! only (never a token, ticket or appointment reference), counts that moved, and who may read
//! it. The ops files (Grafana dashboard, alerting rules) may only name families it exports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use tokio_tungstenite::connect_async;

use crate::helpers::{ServerProcess, TestApp, check_in, next_doc, write_config};

/// Every family the service exports, with its type.
const FAMILIES: &[(&str, &str)] = &[
    ("lobbywatch_http_request_duration_seconds", "histogram"),
    ("lobbywatch_events_total", "counter"),
    ("lobbywatch_log_snapshots_total", "counter"),
    ("lobbywatch_webhook_attempts_total", "counter"),
    ("lobbywatch_log_commit_duration_seconds", "histogram"),
    ("lobbywatch_log_commit_group_size", "histogram"),
    ("lobbywatch_log_failing", "gauge"),
    ("lobbywatch_log_wal_bytes", "gauge"),
    ("lobbywatch_station_headcount", "gauge"),
    ("lobbywatch_station_cap", "gauge"),
    ("lobbywatch_station_outside", "gauge"),
    ("lobbywatch_station_held", "gauge"),
    ("lobbywatch_station_open", "gauge"),
    ("lobbywatch_station_alerts", "gauge"),
    ("lobbywatch_sockets_open", "gauge"),
    ("lobbywatch_sockets_anonymous_open", "gauge"),
    ("lobbywatch_sockets_max", "gauge"),
    ("lobbywatch_idempotency_answers_in_memory", "gauge"),
    ("lobbywatch_idempotency_memory_bytes", "gauge"),
    ("lobbywatch_idempotency_memory_budget_bytes", "gauge"),
];

/// The test config's stations: the only values a `station` label may take.
const STATIONS: &[&str] = &["small", "big", "closed", "bergen"];

/// An appointment reference posted in the test; it must never become a label.
const APPOINTMENT: &str = "BK-4711";

/// One sample line: `name{label="value",…} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed scrape: each family's type (from `# TYPE`) and every sample.
#[derive(Debug, Default)]
struct Scrape {
    types: BTreeMap<String, String>,
    samples: Vec<Sample>,
}

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut scrape = Scrape::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name type");
                let before = scrape.types.insert(name.to_owned(), kind.to_owned());
                assert!(before.is_none(), "{name} is declared once");
            } else if !line.starts_with('#') {
                scrape.samples.push(parse_sample(line));
            }
        }
        scrape
    }

    /// The family a sample belongs to: its name, or its name less a histogram's or counter's
    /// suffix.
    fn family_of(&self, name: &str) -> Option<String> {
        if self.types.contains_key(name) {
            return Some(name.to_owned());
        }
        ["_bucket", "_sum", "_count", "_created"]
            .iter()
            .filter_map(|suffix| name.strip_suffix(suffix))
            .find(|base| self.types.contains_key(*base))
            .map(str::to_owned)
    }

    /// The value of the one sample named `name` with exactly these labels.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == wanted)
            .unwrap_or_else(|| panic!("no sample {name}{labels:?}"))
            .value
    }

    /// The sum of every sample named `name` whose labels include `labels`.
    fn total(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
            .sum()
    }
}

fn parse_sample(line: &str) -> Sample {
    let (head, value) = line.rsplit_once(' ').expect("a sample has a value");
    let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number: {line}"));
    let Some((name, labels)) = head.split_once('{') else {
        return Sample {
            name: head.to_owned(),
            labels: BTreeMap::new(),
            value,
        };
    };
    let labels = labels.strip_suffix('}').expect("labels end with }");
    Sample {
        name: name.to_owned(),
        labels: parse_labels(labels),
        value,
    }
}

/// `k="v",k2="v2"`, with `\"`, `\\` and `\n` escapes in values.
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").expect("key=\"value\"");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next().expect("a closing quote");
            match c {
                '\\' => {
                    let (_, escaped) = chars.next().expect("an escaped character");
                    value.push(if escaped == 'n' { '\n' } else { escaped });
                }
                '"' => break i,
                c => value.push(c),
            }
        };
        labels.insert(key.to_owned(), value);
        rest = after[end + 1..].trim_start_matches(',');
    }
    labels
}

async fn scrape_as(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn scrape(app: &TestApp, token: &str) -> (String, Scrape) {
    let r = scrape_as(app, Some(token)).await;
    assert_eq!(r.status(), 200);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = r.text().await.unwrap();
    let parsed = Scrape::parse(&text);
    (text, parsed)
}

/// Every `lobbywatch_…` name in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("lobbywatch_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// Every string in a JSON document (the dashboard's queries, titles, variables).
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// Posts traffic of every outcome; returns the tickets handed out.
async fn post_traffic(app: &TestApp) -> Vec<String> {
    let mut tickets = Vec::new();
    let booked = json!({"kind": "check_in", "service": "passport", "appointment": APPOINTMENT});
    for (i, body) in [
        booked,
        check_in("passport"),
        check_in("passport"),
        check_in("passport"),
    ]
    .iter()
    .enumerate()
    {
        let (status, answer) = app
            .post_event_json("small-desk", "small", &format!("m{i}"), body)
            .await;
        assert_eq!(status, 201, "{answer}");
        tickets.push(answer["ticket"].as_str().unwrap().to_owned());
    }
    // The same key and body again: the stored answer, replayed.
    let r = app
        .post_event("small-desk", "small", "m1", &check_in("passport"))
        .await;
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    // A service that is never open: refused by a rule (409 service-closed).
    let (status, _) = app
        .post_event_json("closed-desk", "closed", "c0", &check_in("passport"))
        .await;
    assert_eq!(status, 409);
    // No token: refused before anything else.
    let r = app
        .client
        .post(app.url("/api/v1/stations/small/events"))
        .header("Idempotency-Key", "n0")
        .json(&check_in("passport"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    tickets
}

#[tokio::test]
async fn a_scrape_names_every_family_with_its_type_and_only_bounded_label_values() {
    let app = TestApp::spawn().await;
    let tickets = post_traffic(&app).await;
    let (mut ws, _) =
        connect_async(app.ws_url("/api/v1/stations/small/live?access_token=oslo-guard-token"))
            .await
            .unwrap();
    next_doc(&mut ws).await;
    let (mut public, _) = connect_async(app.ws_url("/api/v1/stations/big/public/live"))
        .await
        .unwrap();
    next_doc(&mut public).await;

    let (text, scrape) = scrape(&app, "admin-token").await;

    for (family, kind) in FAMILIES {
        assert_eq!(
            scrape.types.get(*family).map(String::as_str),
            Some(*kind),
            "{family} is a {kind}"
        );
    }
    let ours: BTreeSet<&str> = FAMILIES.iter().map(|(f, _)| *f).collect();
    let exported: BTreeSet<&str> = scrape.types.keys().map(String::as_str).collect();
    assert_eq!(exported, ours, "no family the README does not list");
    for sample in &scrape.samples {
        let family = scrape.family_of(&sample.name);
        assert!(
            family.is_some(),
            "{} belongs to a declared family",
            sample.name
        );
    }

    // Label values come from bounded sets, and nothing secret or personal is one.
    let secrets: Vec<String> = [
        "small-desk-token",
        "closed-desk-token",
        "oslo-guard-token",
        "admin-token",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(tickets.iter().cloned())
    .chain([APPOINTMENT.to_owned()])
    .collect();
    for sample in &scrape.samples {
        for (key, value) in &sample.labels {
            for secret in &secrets {
                assert!(
                    !value.contains(secret.as_str()),
                    "{}{{{key}={value:?}}} carries {secret:?}",
                    sample.name
                );
            }
            match key.as_str() {
                "station" => assert!(STATIONS.contains(&value.as_str()), "station {value}"),
                "route" => assert!(
                    value == "unmatched" || (value.starts_with('/') && !value.contains("small")),
                    "route {value} is a matched route"
                ),
                "kind" if sample.name.starts_with("lobbywatch_sockets") => assert!(
                    ["full", "public", "multi_station"].contains(&value.as_str()),
                    "socket kind {value}"
                ),
                _ => {}
            }
        }
    }
    assert!(
        !text.contains("/api/v1/stations/small/"),
        "raw paths are never labels"
    );

    // What happened moved the counts.
    assert!(
        scrape.value(
            "lobbywatch_events_total",
            &[
                ("kind", "check_in"),
                ("outcome", "accepted"),
                ("reason", "none")
            ]
        ) >= 4.0
    );
    assert!(
        scrape.total(
            "lobbywatch_events_total",
            &[("outcome", "replayed"), ("reason", "none")]
        ) >= 1.0
    );
    assert!(
        scrape.total(
            "lobbywatch_events_total",
            &[("outcome", "refused"), ("reason", "service-closed")]
        ) >= 1.0
    );
    assert!(
        scrape.value(
            "lobbywatch_events_total",
            &[
                ("kind", "unknown"),
                ("outcome", "refused"),
                ("reason", "unauthorized")
            ]
        ) >= 1.0
    );
    let events_201 = scrape.total(
        "lobbywatch_http_request_duration_seconds_count",
        &[
            ("route", "/api/v1/stations/{station}/events"),
            ("status", "201"),
        ],
    );
    assert!(events_201 >= 5.0, "{events_201} answers 201 (one a replay)");
    assert!(scrape.total("lobbywatch_log_commit_group_size_count", &[]) >= 1.0);
    assert!(scrape.total("lobbywatch_log_commit_duration_seconds_count", &[]) >= 1.0);
    assert_eq!(
        scrape.value("lobbywatch_station_headcount", &[("station", "small")]),
        3.0
    );
    assert_eq!(
        scrape.value("lobbywatch_station_cap", &[("station", "small")]),
        3.0
    );
    assert_eq!(
        scrape.value("lobbywatch_station_outside", &[("station", "small")]),
        1.0
    );
    assert_eq!(
        scrape.value(
            "lobbywatch_station_alerts",
            &[
                ("station", "small"),
                ("kind", "at_cap"),
                ("state", "active")
            ]
        ),
        1.0
    );
    assert_eq!(
        scrape.value("lobbywatch_sockets_open", &[("kind", "full")]),
        1.0
    );
    assert_eq!(
        scrape.value("lobbywatch_sockets_open", &[("kind", "public")]),
        1.0
    );
    assert_eq!(scrape.value("lobbywatch_sockets_anonymous_open", &[]), 1.0);
    assert!(scrape.value("lobbywatch_idempotency_answers_in_memory", &[]) >= 5.0);
    assert!(scrape.value("lobbywatch_idempotency_memory_bytes", &[]) > 0.0);
    assert_eq!(
        scrape.value("lobbywatch_idempotency_memory_budget_bytes", &[]),
        (256 * 1024 * 1024) as f64,
        "the default budget"
    );
    assert!(scrape.total("lobbywatch_log_failing", &[]) == 0.0);
}

#[tokio::test]
async fn only_an_admin_or_a_metrics_device_reads_the_metrics_and_a_metrics_device_nothing_else() {
    let app = TestApp::spawn().await;
    let none = scrape_as(&app, None).await;
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["content-type"], "application/problem+json");
    assert_eq!(scrape_as(&app, Some("no-such-token")).await.status(), 401);
    let guard = scrape_as(&app, Some("all-guard-token")).await;
    assert_eq!(guard.status(), 403);
    let (_, scrape) = scrape(&app, "scraper-token").await;
    assert!(scrape.types.contains_key("lobbywatch_events_total"));

    let (status, _) = app
        .get_as("/api/v1/stations/small", Some("scraper-token"))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.get_as("/api/v1/devices", Some("scraper-token")).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_event_json("scraper", "small", "s0", &check_in("passport"))
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_dashboard_and_the_alerting_rules_query_only_families_the_service_exports() {
    let app = TestApp::spawn().await;
    // The request family has its first series with the first request answered.
    post_traffic(&app).await;
    let (_, scrape) = scrape(&app, "admin-token").await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));

    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("ops/grafana/lobbywatch.json")).unwrap(),
    )
    .expect("the dashboard is JSON");
    assert_eq!(dashboard["__inputs"][0]["name"], "DS_PROMETHEUS");
    let mut texts = Vec::new();
    strings(&dashboard, &mut texts);
    let rules = std::fs::read_to_string(root.join("ops/prometheus/alerts.yml")).unwrap();
    let exprs: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .collect();
    assert!(exprs.len() >= 3, "log failing, over cap, sockets near cap");

    for (file, text) in [("dashboard", texts.join("\n")), ("rules", exprs.join("\n"))] {
        let names = metric_names(&text);
        assert!(names.len() >= 5, "the {file} queries metrics: {names:?}");
        for name in names {
            assert!(
                scrape.family_of(&name).is_some(),
                "the {file} names {name}, which the service does not export"
            );
        }
    }
}

#[tokio::test]
async fn metrics_listen_serves_the_metrics_alone_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let mut command = Command::new(env!("CARGO_BIN_EXE_lobbywatch"));
    command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .arg("--config")
        .arg(&config)
        .arg("--data")
        .arg(&data)
        .args(crate::backend::database_args(&data));
    let server = ServerProcess::spawn(command);
    let metrics_url = server
        .before
        .iter()
        .find_map(|l| l.strip_prefix("metrics on "))
        .expect("the metrics address is printed")
        .trim()
        .to_owned();
    let client = reqwest::Client::new();

    let r = client.get(&metrics_url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let scrape = Scrape::parse(&r.text().await.unwrap());
    assert_eq!(scrape.types["lobbywatch_station_cap"], "gauge");
    assert_eq!(
        scrape.value("lobbywatch_station_cap", &[("station", "small")]),
        3.0
    );

    // Only /metrics there; the main listener still wants a token.
    let other = metrics_url.replace("/metrics", "/healthz");
    assert_eq!(client.get(&other).send().await.unwrap().status(), 404);
    let main = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 401);
    server.stop();
}

#[tokio::test]
async fn events_shed_at_the_door_and_over_the_rate_limit_are_counted_as_such() {
    let app = crate::limits::app_with_limits(
        "max_concurrent_requests = 1\nevents_per_minute_per_device = 2",
    )
    .await;
    let held = crate::limits::stalled_post(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (status, _) = app
        .post_event_json("big-desk", "big", "shed", &check_in("passport"))
        .await;
    assert_eq!(status, 503, "shed: the only place is held");
    drop(held);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.check_in_passports("big-desk", "big", "r", 2).await;
    let (status, _) = app
        .post_event_json("big-desk", "big", "r2", &check_in("passport"))
        .await;
    assert_eq!(status, 429);

    let (_, scrape) = scrape(&app, "admin-token").await;
    let events = |outcome| {
        scrape.total(
            "lobbywatch_events_total",
            &[("outcome", outcome), ("reason", "none")],
        )
    };
    assert_eq!(events("shed"), 1.0);
    assert_eq!(events("rate_limited"), 1.0);
    assert_eq!(events("accepted"), 2.0);
    let shed_answers = scrape.total(
        "lobbywatch_http_request_duration_seconds_count",
        &[
            ("route", "/api/v1/stations/{station}/events"),
            ("status", "503"),
        ],
    );
    assert_eq!(shed_answers, 1.0);
}
