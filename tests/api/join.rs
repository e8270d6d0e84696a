//! Joining the queue before arriving (`POST /api/v1/stations/{station}/join`): the public gets a
//! ticket and its link without a token, waits elsewhere (counted apart from the people at the
//! door), and is refused — each refusal a problem+json with its code — when the station does not
//! take joins now, or when one address asks too often.

use chrono::TimeDelta;
use lobbywatch::clock::Clock;
use lobbywatch::config::Config;
use serde_json::{Value, json};

use crate::helpers::{TestApp, oslo_time, test_config_toml};

/// The test config with joins: `small` takes 2 a day per service, `bergen` only 08:00–09:00,
/// `closed` takes joins but its service never opens; `big` takes none. Extra `[limits]` lines
/// may be given.
fn config_with_joins(limits: &str) -> Config {
    let toml = format!("{}\n[limits]\n{limits}\n", toml_with_joins());
    Config::parse(&toml, "joins.toml").expect("a valid config")
}

/// The test config's TOML with the joins of [`config_with_joins`].
pub(crate) fn toml_with_joins() -> String {
    test_config_toml()
        .replace(
            "area_m2 = 12.0\nqueue_line_m = 6.0\n",
            "area_m2 = 12.0\nqueue_line_m = 6.0\n\n[stations.remote]\njoin = true\njoin_quota = 2\n",
        )
        .replace(
            "[3.85, 0.0]]\n",
            "[3.85, 0.0]]\n\n[stations.remote]\njoin = true\njoin_hours = \"08:00-09:00\"\n",
        )
        .replace(
            "name = \"Closed politistasjon\"\narea_m2 = 40.0\n",
            "name = \"Closed politistasjon\"\narea_m2 = 40.0\n\n[stations.remote]\njoin = true\n",
        )
}

/// A server with joins on a Wednesday at 10:00 in Oslo (outside `bergen`'s join hours).
async fn app_with_joins(limits: &str) -> (TestApp, Clock) {
    let clock = Clock::starting_at(oslo_time(2026, 11, 25, 10));
    let app = TestApp::spawn_on_clock(config_with_joins(limits), clock.clone()).await;
    (app, clock)
}

/// Joins `station`'s `service` queue with a party of one: the status and the JSON body.
async fn join(app: &TestApp, station: &str, service: &str) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/stations/{station}/join")))
        .json(&json!({"service": service}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_join_gets_a_ticket_and_its_link_and_waits_elsewhere_not_at_the_door() {
    let (app, _clock) = app_with_joins("").await;
    // `small` holds 3: three at the desk, one at the door, then the join behind them.
    app.check_in_passports("small-desk", "small", "k", 4).await;
    let (status, answer) = join(&app, "small", "passport").await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["ticket"], "P005");
    assert_eq!(answer["state"], "outside");
    assert_eq!(answer["position"], 2);
    let code = answer["ticket_link"]["code"].as_str().unwrap();
    assert_eq!(code.len(), 24);
    assert_eq!(answer["ticket_link"]["url"], format!("/t/{code}"));
    assert_eq!(answer["ticket_link"]["id"].as_str().unwrap().len(), 16);

    let full = app.status("small").await;
    assert_eq!(full["outside_total"], 2);
    assert_eq!(full["outside_remote"], 1);
    assert_eq!(full["outside_at_door"], 1);
    assert_eq!(
        full["people_at_door"], 1,
        "the joined party is not at the door"
    );
    assert_eq!(full["outside"][1]["ticket"], "P005");
    assert_eq!(full["outside"][1]["remote"], true);
    let (_, public) = app.get_as("/api/v1/stations/small/public", None).await;
    assert_eq!(public["outside_remote"], 1);
    for document in [full.to_string(), public.to_string()] {
        assert!(!document.contains(code), "the code is in a document");
    }
    let passport = &public["services"][0];
    assert_eq!(
        passport["joinable"], true,
        "one of the day's two joins is left"
    );
}

#[tokio::test]
async fn a_join_into_an_empty_room_is_asked_in_and_shown_as_coming() {
    let (app, _clock) = app_with_joins("").await;
    let (status, answer) = join(&app, "small", "passport").await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["state"], "inside");
    assert_eq!(answer["position"], Value::Null);
    let (_, public) = app.get_as("/api/v1/stations/small/public", None).await;
    assert_eq!(public["coming"], json!(["P001"]));
    assert_eq!(public["please_enter"], json!([]));
}

/// The problem's type and code of a refused join.
async fn refusal(app: &TestApp, station: &str, service: &str) -> (u16, Value, Value) {
    let (status, problem) = join(app, station, service).await;
    (status, problem["type"].clone(), problem["code"].clone())
}

#[tokio::test]
async fn joins_are_refused_where_off_closed_outside_their_hours_or_over_the_quota() {
    let (app, _clock) = app_with_joins("joins_per_hour_per_address = 100").await;
    let off = refusal(&app, "big", "passport").await;
    assert_eq!(
        off,
        (409, json!("/problems/join-refused"), json!("join.off"))
    );
    let closed = refusal(&app, "closed", "passport").await;
    assert_eq!(closed.0, 409);
    assert_eq!(closed.1, "/problems/service-closed");
    let hours = refusal(&app, "bergen", "passport").await;
    assert_eq!(
        hours,
        (409, json!("/problems/join-refused"), json!("join.hours"))
    );
    let (_, bergen) = app.get_as("/api/v1/stations/bergen/public", None).await;
    assert_eq!(bergen["services"][0]["joinable"], false);

    for _ in 0..2 {
        assert_eq!(join(&app, "small", "passport").await.0, 201);
    }
    let quota = refusal(&app, "small", "passport").await;
    assert_eq!(
        quota,
        (409, json!("/problems/join-refused"), json!("join.quota"))
    );
    let (_, small) = app.get_as("/api/v1/stations/small/public", None).await;
    assert_eq!(
        small["services"][0]["joinable"], false,
        "the quota is used up"
    );
    assert_eq!(
        small["services"][1]["joinable"], true,
        "residence has its own"
    );

    let unknown = refusal(&app, "small", "nothing").await;
    assert_eq!(unknown.0, 422);
    let (status, _) = join(&app, "nowhere", "passport").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_address_that_joins_too_often_gets_429_with_retry_after() {
    let (app, _clock) = app_with_joins("joins_per_hour_per_address = 2").await;
    assert_eq!(join(&app, "small", "passport").await.0, 201);
    assert_eq!(join(&app, "small", "residence").await.0, 201);
    let r = app
        .client
        .post(app.url("/api/v1/stations/small/join"))
        .json(&json!({"service": "residence"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // Two an hour: the next is free in half an hour.
    assert!((1700..=1800).contains(&wait), "{wait}");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/join-rate-limited");
    assert_eq!(problem["code"], "join.too_often");
    assert_eq!(problem["params"]["per_hour"], 2);
    assert_eq!(app.status("small").await["seq"], 2, "nothing was recorded");
}

#[tokio::test]
async fn the_daily_report_counts_joins_remote_parties_and_their_no_shows() {
    let (app, clock) = app_with_joins("").await;
    // Both asked in at once (the room is empty); P002 arrives, P001 does not come in time.
    assert_eq!(join(&app, "small", "passport").await.0, 201);
    assert_eq!(join(&app, "small", "passport").await.0, 201);
    let arrived = json!({"kind": "arrived", "ticket": "P002"});
    app.post_events("small-desk", "small", [("a", arrived)])
        .await;
    clock.advance(TimeDelta::minutes(11));
    // The service's clock review (every few seconds) drops the overdue party.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.status("small").await["inside_total"] != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "P001 was never dropped"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let path = "/api/v1/reports/daily?date=2026-11-25&station=small";
    let (status, report) = app.get_as(path, Some("oslo-guard-token")).await;
    assert_eq!(status, 200, "{report}");
    let passport = &report["stations"][0]["services"][0];
    assert_eq!(passport["parties"], 2, "{passport}");
    assert_eq!(passport["joins"], 2);
    assert_eq!(passport["remote"], 2);
    assert_eq!(passport["remote_no_shows"], 1);
    assert_eq!(passport["left"], 0);
}

#[test]
fn the_demo_prints_one_live_ticket_link_on_stdout_and_never_in_its_log() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lobbywatch"))
        .args(["demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the demo starts");
    // The log is drained as it comes, so the demo never blocks on a full pipe.
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let (lines, seen) = std::sync::mpsc::channel();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let link = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = seen
            .recv_timeout(left)
            .expect("the demo prints a ticket link");
        if let Some(at) = line.find("/t/") {
            break line[at + 3..].split_whitespace().next().unwrap().to_owned();
        }
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(link.len(), 24, "a whole code: {link}");
    let log = log.join().unwrap();
    assert!(log.contains("listening"), "the log was read: {log}");
    assert!(!log.contains(&link), "the code is in the log");
}
