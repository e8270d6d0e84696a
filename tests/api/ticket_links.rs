//! The ticket link as a capability: the check-in answer carries it (and its replay the same
//! bytes), no public document, socket or log line does; a code reads its own ticket and no
//! other; it expires with the day; and the visitor's actions go through `/api/v1/tickets/{code}/
//! events` idempotently.

use chrono::TimeDelta;
use futures_util::StreamExt;
use lobbywatch::clock::Clock;
use lobbywatch::config::Config;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_tungstenite::connect_async;

use crate::helpers::{
    LogFormat, ServerProcess, TestApp, check_in, close_frame, event_request, next_doc, oslo_time,
    test_config_toml,
};

/// The code posted at the small station's entrance in these tests.
const ENTRANCE: &str = "DOOR-7";

/// The tests' config with an entrance code at `small` (cap 3).
fn config() -> Config {
    Config::parse(&config_toml_with_entrance(), "tickets.toml")
        .expect("the config with an entrance code is valid")
}

/// [`config`] as the file a server process reads.
fn config_toml_with_entrance() -> String {
    test_config_toml().replacen(
        "queue_line_m = 6.0\n",
        &format!("queue_line_m = 6.0\n\n[stations.remote]\nentrance_code = \"{ENTRANCE}\"\n"),
        1,
    )
}

/// Checks a passport party in at `small` under `key`: the answer's ticket and link code.
async fn linked_check_in(app: &TestApp, key: &str) -> (String, String) {
    let (status, body) = app
        .post_event_json("small-desk", "small", key, &check_in("passport"))
        .await;
    assert_eq!(status, 201, "{body}");
    let code = body["ticket_link"]["code"].as_str().unwrap().to_owned();
    (body["ticket"].as_str().unwrap().to_owned(), code)
}

/// The link's hash as the log and the engine write it: 64 hex digits.
fn hash_hex(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

async fn ticket(app: &TestApp, code: &str) -> (u16, Value) {
    app.get_as(&format!("/api/v1/tickets/{code}"), None).await
}

/// Posts a visitor's action for `code` under `key`: status, replayed?, the raw body.
async fn act(app: &TestApp, code: &str, key: &str, body: &Value) -> (u16, bool, String) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/tickets/{code}/events")))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let replayed = r.headers().contains_key("idempotent-replayed");
    (status, replayed, r.text().await.unwrap())
}

#[tokio::test]
async fn the_check_in_answer_carries_a_24_character_link_and_its_replay_the_same_bytes() {
    let app = TestApp::spawn_with_config(config()).await;
    let first = app
        .post_event("small-desk", "small", "k1", &check_in("passport"))
        .await;
    assert_eq!(first.status(), 201);
    let first = first.bytes().await.unwrap();
    let again = app
        .post_event("small-desk", "small", "k1", &check_in("passport"))
        .await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.bytes().await.unwrap(),
        first,
        "the replay is byte-identical"
    );

    let body: Value = serde_json::from_slice(&first).unwrap();
    let link = &body["ticket_link"];
    let code = link["code"].as_str().unwrap();
    assert_eq!(code.len(), 24);
    assert!(
        code.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(link["url"], format!("/t/{code}"));
    assert_eq!(link["id"], hash_hex(code)[..16]);
    let (status, view) = ticket(&app, code).await;
    assert_eq!(status, 200);
    assert_eq!(view["ticket"], body["ticket"]);
    assert_eq!(view["state"], "inside");
}

#[tokio::test]
async fn the_code_is_in_no_public_or_full_document_nor_the_public_socket() {
    let app = TestApp::spawn_with_config(config()).await;
    let (mut public_ws, _) = connect_async(app.ws_url("/api/v1/stations/small/public/live"))
        .await
        .unwrap();
    next_doc(&mut public_ws).await;
    // Four parties: three inside and one queued, so both lists hold a linked ticket.
    let mut codes = Vec::new();
    for i in 0..4 {
        codes.push(linked_check_in(&app, &format!("k{i}")).await.1);
    }
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(next_doc(&mut public_ws).await.to_string());
    }
    seen.push(app.get_text("/api/v1/stations/small/public").await);
    seen.push(app.status("small").await.to_string());
    seen.push(app.get_text("/api/v1/stations").await);
    for text in &seen {
        for code in &codes {
            assert!(!text.contains(code.as_str()), "a code in {text}");
            assert!(!text.contains(&hash_hex(code)), "a link hash in {text}");
        }
    }
}

#[tokio::test]
async fn a_code_reads_its_own_ticket_and_no_other() {
    let app = TestApp::spawn_with_config(config()).await;
    let (ticket_a, code_a) = linked_check_in(&app, "a").await;
    let (ticket_b, code_b) = linked_check_in(&app, "b").await;
    assert_ne!(code_a, code_b);
    assert_eq!(ticket(&app, &code_a).await.1["ticket"], ticket_a);
    assert_eq!(ticket(&app, &code_b).await.1["ticket"], ticket_b);

    // A well-formed code nobody was given, a malformed one and a truncated real one: the one
    // answer, word for word, so the route tells a guesser nothing.
    let random = "AAAAAAAAAAAAAAAAAAAAAAAA";
    let answers: Vec<(u16, Value)> = [random, "not-a-code", &code_a[..23]]
        .iter()
        .map(|c| ticket(&app, c))
        .collect::<futures_util::future::JoinAll<_>>()
        .await;
    for (status, body) in &answers {
        assert_eq!(*status, 404);
        assert_eq!(body["type"], "/problems/unknown-ticket-link");
        assert_eq!(body, &answers[0].1);
    }

    // A's socket carries A's view only, also when B changes.
    let (mut ws, _) = connect_async(app.ws_url(&format!("/api/v1/tickets/{code_a}/live")))
        .await
        .unwrap();
    assert_eq!(next_doc(&mut ws).await["ticket"], ticket_a);
    app.post_events(
        "small-desk",
        "small",
        [("out-b", json!({"kind": "check_out", "ticket": ticket_b}))],
    )
    .await;
    let after = next_doc(&mut ws).await;
    assert_eq!(after["ticket"], ticket_a);
    assert!(!after.to_string().contains(&ticket_b), "{after}");
    // B's page now says it was served.
    assert_eq!(ticket(&app, &code_b).await.1["state"], "served");

    // A socket for an unknown link is closed with 4404 at once.
    let (mut unknown, _) = connect_async(app.ws_url(&format!("/api/v1/tickets/{random}/live")))
        .await
        .unwrap();
    assert_eq!(close_frame(&mut unknown).await.unwrap().0, 4404);
}

#[tokio::test]
async fn a_link_expires_at_the_next_days_roll_over() {
    // The tests' stations are always open, so the day ends only with the local date: at
    // 23:00 in Oslo a ticket is checked in, and after midnight the next event rolls the day.
    let clock = Clock::starting_at(oslo_time(2026, 11, 25, 23));
    let app = TestApp::spawn_on_clock(config(), clock.clone()).await;
    let (_, code) = linked_check_in(&app, "late").await;
    assert_eq!(ticket(&app, &code).await.0, 200);
    let (mut ws, _) = connect_async(app.ws_url(&format!("/api/v1/tickets/{code}/live")))
        .await
        .unwrap();
    next_doc(&mut ws).await;

    clock.advance(TimeDelta::hours(2));
    linked_check_in(&app, "next-day").await;
    let (status, body) = ticket(&app, &code).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["type"], "/problems/unknown-ticket-link");
    let (close, reason) = close_frame(&mut ws).await.unwrap();
    assert_eq!(close, 4404, "{reason}");
    assert!(reason.contains("expired"), "{reason}");
}

#[tokio::test]
async fn the_visitors_actions_go_through_the_route_idempotently() {
    let app = TestApp::spawn_with_config(config()).await;
    app.check_in_passports("small-desk", "small", "in", 3).await;
    let (ticket_no, code) = linked_check_in(&app, "queued").await;
    assert_eq!(ticket(&app, &code).await.1["state"], "waiting");

    // "I'm not at the door": once, and again under the same key the same answer.
    let away = json!({"kind": "away"});
    let (status, replayed, first) = act(&app, &code, "a1", &away).await;
    assert_eq!(status, 201, "{first}");
    assert!(!replayed);
    let answer: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(
        answer.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["kind", "seq", "ticket"]
    );
    assert_eq!(answer["ticket"], ticket_no);
    let (status, replayed, again) = act(&app, &code, "a1", &away).await;
    assert_eq!((status, replayed, &again), (201, true, &first));
    let view = ticket(&app, &code).await.1;
    assert_eq!(view["remote"], true);
    assert_eq!(app.status("small").await["outside_remote"], 1);
    // A second "away" under a new key is the engine's refusal.
    let (status, _, refused) = act(&app, &code, "a2", &away).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused.contains("/problems/ticket-state"), "{refused}");

    // More time: once.
    let more = json!({"kind": "more_time"});
    assert_eq!(act(&app, &code, "m1", &more).await.0, 201);
    assert!(act(&app, &code, "m1", &more).await.1, "replayed");
    assert_eq!(ticket(&app, &code).await.1["more_time_available"], false);

    // "I'm here" needs the code posted at the entrance.
    let (status, _, refused) = act(&app, &code, "h1", &json!({"kind": "arrived"})).await;
    assert_eq!(status, 403);
    assert!(
        refused.contains("/problems/wrong-entrance-code"),
        "{refused}"
    );
    let wrong = json!({"kind": "arrived", "entrance": "DOOR-8"});
    assert_eq!(act(&app, &code, "h2", &wrong).await.0, 403);
    let here = json!({"kind": "arrived", "entrance": " door-7 "});
    assert_eq!(act(&app, &code, "h3", &here).await.0, 201);
    assert!(act(&app, &code, "h3", &here).await.1, "replayed");
    assert_eq!(ticket(&app, &code).await.1["remote"], false);

    // Leave: the page then says so.
    let leave = json!({"kind": "leave"});
    assert_eq!(act(&app, &code, "l1", &leave).await.0, 201);
    let (status, replayed, _) = act(&app, &code, "l1", &leave).await;
    assert_eq!((status, replayed), (201, true));
    assert_eq!(ticket(&app, &code).await.1["state"], "left");

    // A code nobody was given cannot act.
    let (status, _, _) = act(&app, "AAAAAAAAAAAAAAAAAAAAAAAA", "x", &leave).await;
    assert_eq!(status, 404);
    // And the key is required, as on every event route.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/tickets/{code}/events")))
        .json(&leave)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn the_log_holds_no_code_and_no_link_hash() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("lobbywatch.toml");
    std::fs::write(&config_path, config_toml_with_entrance()).unwrap();
    let (server, log_path) =
        ServerProcess::spawn_logging_to_file(dir.path(), &config_path, "debug", LogFormat::Plain);
    let client = reqwest::Client::new();
    let base = server.base.clone();

    let answer: Value = event_request(
        &client,
        &base,
        "small-desk-token",
        "small",
        "k",
        &check_in("passport"),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let code = answer["ticket_link"]["code"].as_str().unwrap().to_owned();
    let got = client
        .get(format!("{base}/api/v1/tickets/{code}"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    let ws_url = format!(
        "{}/api/v1/tickets/{code}/live",
        base.replacen("http", "ws", 1)
    );
    let (mut ws, _) = connect_async(ws_url).await.unwrap();
    next_doc(&mut ws).await;
    let posted = client
        .post(format!("{base}/api/v1/tickets/{code}/events"))
        .header("Idempotency-Key", "leave-1")
        .json(&json!({"kind": "leave"}))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 201);
    let _ = ws.next().await;
    drop(ws);
    server.stop();

    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        text.contains("/api/v1/tickets/{code}"),
        "the routes are logged, by their template: {text}"
    );
    assert!(!text.contains(&code), "the log holds the code: {text}");
    assert!(
        !text.contains(&hash_hex(&code)),
        "the log holds the link's hash: {text}"
    );
}

#[tokio::test]
async fn the_visitors_page_is_never_cached_nor_named_to_another_site() {
    let app = TestApp::spawn_with_config(config()).await;
    let (_, code) = linked_check_in(&app, "k").await;
    for path in [format!("/t/{code}"), format!("/api/v1/tickets/{code}")] {
        let r = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(r.headers()["referrer-policy"], "no-referrer", "{path}");
    }
    let page = app.get_text(&format!("/t/{code}")).await;
    assert!(page.contains("/assets/ticket.js"), "{page}");
}
