//! Bounded idempotency and the log's layout: an answer is replayed for the retention window and
//! refused as expired after it, pruned from the log in two steps; and a log written in the first
//! layout (a fixture written by the version before the journal) is converted in place.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use lobbywatch::clock::Clock;
use lobbywatch::config::Config;
use lobbywatch::store::{Prune, StoreOptions};
use serde_json::json;

use crate::backend::{log_query, logged_count, sqlite_only};
use crate::helpers::{TestApp, check_in, fresh_data, test_config};

const RETENTION: TimeDelta = TimeDelta::hours(72);

/// Runs a pass of retention on the app's log as its clock reads now.
async fn prune(app: &TestApp, clock: &Clock) {
    app.state
        .store
        .prune_answers(Prune::at(clock.now(), RETENTION))
        .await
        .unwrap();
}

/// The stored answer's body length under `key`, or `None` when the log has no row for it.
fn stored_body_len(data: &Path, key: &str) -> Option<String> {
    log_query(
        data,
        &format!("SELECT length(response) FROM idempotency WHERE key = '{key}'"),
    )
    .into_iter()
    .next()
    .map(|row| row[0].clone())
}

#[tokio::test]
async fn a_retry_after_the_retention_window_is_refused_as_expired_and_never_applied() {
    let clock = Clock::starting_at(Utc::now() - TimeDelta::days(10));
    let app = TestApp::spawn_on_clock(test_config(), clock.clone()).await;
    let event = check_in("passport");
    let first = app.post_event("big-desk", "big", "late", &event).await;
    assert_eq!(first.status(), 201);
    let first = first.bytes().await.unwrap();

    clock.advance(RETENTION - TimeDelta::minutes(1));
    let inside = app.post_event("big-desk", "big", "late", &event).await;
    assert_eq!(inside.headers()["idempotent-replayed"], "true");
    assert_eq!(inside.bytes().await.unwrap(), first);

    clock.advance(TimeDelta::minutes(2));
    let (status, problem) = app.post_event_json("big-desk", "big", "late", &event).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "/problems/idempotency-key-expired");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("72 hours") && detail.contains("new key"),
        "{detail}"
    );
    // Not applied: the log holds the one check-in.
    let data = app.stop().await;
    assert_eq!(logged_count(data.path(), "big", "check_in"), 1);
}

#[tokio::test]
async fn the_log_drops_an_expired_answer_but_keeps_its_key_for_one_more_window() {
    let clock = Clock::starting_at(Utc::now() - TimeDelta::days(10));
    let app = TestApp::spawn_on_clock(test_config(), clock.clone()).await;
    let event = check_in("passport");
    assert_eq!(
        app.post_event("big-desk", "big", "old", &event)
            .await
            .status(),
        201
    );
    clock.advance(TimeDelta::hours(1));
    assert_eq!(
        app.post_event("big-desk", "big", "young", &event)
            .await
            .status(),
        201
    );

    // Within the window nothing is pruned.
    prune(&app, &clock).await;
    clock.advance(RETENTION - TimeDelta::minutes(90));
    prune(&app, &clock).await;
    let data = app.stop().await;
    let (old, young) = (
        stored_body_len(data.path(), "old"),
        stored_body_len(data.path(), "young"),
    );
    assert_ne!(
        old.as_deref(),
        Some("0"),
        "an answer inside the window keeps its body"
    );
    assert_ne!(young.as_deref(), Some("0"));

    // Past it, the body goes and the key stays: after a restart (memory empty) a retry is
    // still told it expired, from the log.
    let app =
        TestApp::spawn_with_clock(test_config(), data, StoreOptions::default(), clock.clone())
            .await;
    clock.advance(TimeDelta::minutes(31));
    prune(&app, &clock).await;
    let (status, problem) = app.post_event_json("big-desk", "big", "old", &event).await;
    assert_eq!(
        (status, &problem["type"]),
        (422, &json!("/problems/idempotency-key-expired"))
    );
    let data = app.stop().await;
    assert_eq!(stored_body_len(data.path(), "old").as_deref(), Some("0"));
    assert_ne!(stored_body_len(data.path(), "young").as_deref(), Some("0"));

    // One more window later the row itself is gone.
    let app =
        TestApp::spawn_with_clock(test_config(), data, StoreOptions::default(), clock.clone())
            .await;
    clock.advance(RETENTION);
    prune(&app, &clock).await;
    let data = app.stop().await;
    assert_eq!(stored_body_len(data.path(), "old"), None);
    assert_eq!(stored_body_len(data.path(), "young").as_deref(), Some("0"));
}

/// Every row of the first layout's log at `file`, each table as sorted text.
fn rows_of_first_layout(file: &Path) -> Vec<Vec<String>> {
    rows(
        file,
        [
            "SELECT station || '/' || seq || '/' || at_us || '/' || device || '/' || kind || '/' || body FROM events ORDER BY 1",
            "SELECT device || '/' || key || '/' || hex(fingerprint) || '/' || status || '/' || hex(response) || '/' || at_us FROM idempotency ORDER BY 1",
            "SELECT hex(token_sha256) || device || at_us || by FROM revoked_tokens ORDER BY 1",
            "SELECT station || seq || state FROM snapshots ORDER BY 1",
            "SELECT log_id FROM meta",
        ],
    )
}

fn rows<const N: usize>(file: &Path, queries: [&str; N]) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(file).unwrap();
    queries
        .iter()
        .map(|sql| {
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        })
        .collect()
}

/// A copy of `tests/fixtures/log-v1`: a data directory written by the version before the
/// journal layout (`demo` for a minute, a rule change, a revoked display token, refusals, then a
/// restart with snapshots every 3 events), stopped gracefully.
fn first_layout_fixture() -> Arc<tempfile::TempDir> {
    let data = fresh_data();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/log-v1");
    for file in ["lobbywatch.sqlite3", "lobbywatch.marker"] {
        std::fs::copy(fixture.join(file), data.path().join(file)).unwrap();
    }
    data
}

#[tokio::test]
async fn a_log_of_the_first_layout_is_converted_in_place_and_serves_as_before() {
    if sqlite_only("a_log_of_the_first_layout_is_converted_in_place_and_serves_as_before") {
        return;
    }
    let data = first_layout_fixture();
    let file = data.path().join(lobbywatch::store::DB_FILE);
    let before = rows_of_first_layout(&file);
    assert_eq!(before[0].len(), 120, "the fixture's events");
    let stored: Vec<u8> = rusqlite::Connection::open(&file)
        .unwrap()
        .query_row(
            "SELECT response FROM idempotency WHERE key = 'fixture-key-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // The fixture was written on 2026-11-30 around 08:40 UTC: serve it an hour later.
    let written: DateTime<Utc> = "2026-11-30T09:40:00Z".parse().unwrap();
    let app = TestApp::spawn_with_clock(
        Config::sample(),
        data,
        StoreOptions::default(),
        Clock::starting_at(written),
    )
    .await;

    // A retry of an answered request is replayed byte for byte from the converted log.
    let retry = app
        .client
        .post(app.url("/api/v1/stations/oslo-gronland/events"))
        .bearer_auth("demo-oslo-gronland-desk-1")
        .header("Idempotency-Key", "fixture-key-1")
        .json(&json!({"kind": "check_in", "service": "passport"}))
        .send()
        .await
        .unwrap();
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.bytes().await.unwrap().to_vec(), stored);
    // The revoked display token stays revoked; the stations are replayed.
    let (status, _) = app
        .get_as(
            "/api/v1/stations/oslo-gronland",
            Some("demo-oslo-gronland-display"),
        )
        .await;
    assert_eq!(status, 401);
    let (_, doc) = app
        .get_as(
            "/api/v1/stations/oslo-gronland",
            Some("demo-national-guard"),
        )
        .await;
    // The fixture's 18 events, and perhaps the clock's review the ticker logs at start.
    assert!(doc["seq"].as_u64().unwrap() >= 18, "{doc}");
    let data = app.stop().await;

    let after = rows(
        &file,
        [
            "SELECT station || '/' || seq || '/' || at_us || '/' || device || '/' || kind || '/' || body FROM events ORDER BY 1",
            "SELECT device || '/' || key || '/' || hex(fingerprint) || '/' || status || '/' || hex(response) || '/' || at_us FROM idempotency ORDER BY 1",
            "SELECT hex(token_sha256) || device || at_us || by FROM revoked_tokens ORDER BY 1",
            "SELECT station || seq || state FROM snapshots ORDER BY 1",
            "SELECT log_id FROM meta",
        ],
    );
    // Snapshots may have been renewed and the clock's events logged at start; everything else is
    // as it was.
    let missing = before[0]
        .iter()
        .filter(|row| !after[0].contains(row))
        .count();
    assert_eq!(missing, 0, "events lost in the conversion");
    assert!(
        after[0]
            .iter()
            .filter(|row| !before[0].contains(row))
            .all(|row| row.contains("/lobbywatch/")),
        "only the service's own events were added"
    );
    assert_eq!(after[1], before[1], "answers");
    assert_eq!(after[2], before[2], "revoked tokens");
    assert_eq!(after[4], before[4], "the log's identity");
    let layout = rows(
        &file,
        [
            "SELECT CAST(page_size AS TEXT) FROM pragma_page_size",
            "SELECT CAST(user_version AS TEXT) FROM pragma_user_version",
            "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name)",
        ],
    );
    assert_eq!(layout[0], ["1024"]);
    assert_eq!(layout[1], ["2"]);
    assert_eq!(
        layout[2],
        [
            "events,events_rule_changes,events_station,idempotency,idempotency_at,idempotency_key,meta,revoked_tokens,snapshots,webhook_outbox,webhook_outbox_due"
        ]
    );

    // The marker still matches: the converted log opens again.
    let app = TestApp::spawn_with_clock(
        Config::sample(),
        data,
        StoreOptions::default(),
        Clock::starting_at(written),
    )
    .await;
    let (_, doc) = app
        .get_as(
            "/api/v1/stations/oslo-gronland",
            Some("demo-national-guard"),
        )
        .await;
    assert!(doc["seq"].as_u64().unwrap() >= 18, "{doc}");
    app.stop().await;
}
