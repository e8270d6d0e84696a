//! Durability: a restart — graceful or `kill -9` — shows exactly the state that was acknowledged.

use std::process::Command;
use std::sync::Arc;

use lobbywatch::clock::Clock;
use lobbywatch::store::StoreOptions;
use serde_json::{Value, json};

use crate::helpers::{ServerProcess, TestApp, test_config, write_config};

/// The parts of a status document that must survive a restart (not `as_of`).
fn durable_view(doc: &Value) -> Value {
    json!({
        "seq": doc["seq"], "headcount": doc["headcount"], "corrections": doc["corrections"],
        "outside": doc["outside"], "inside": doc["inside"], "please_enter": doc["please_enter"],
        "calls": doc["calls"], "cleaning": doc["cleaning"],
    })
}

#[tokio::test]
async fn a_graceful_restart_preserves_state_exactly() {
    let app = TestApp::spawn().await;
    for i in 0..6 {
        let size = 1 + i % 2;
        app.post_event("small-desk", "small", &format!("r{i}"), &json!({"kind": "check_in", "service": "passport", "party_size": size, "appointment": format!("BK-{i}")})).await;
    }
    app.post_event(
        "small-desk",
        "small",
        "call",
        &json!({"kind": "call", "desk": "2"}),
    )
    .await;
    app.post_event(
        "small-desk",
        "small",
        "out",
        &json!({"kind": "check_out", "ticket": "P002"}),
    )
    .await;
    app.post_event(
        "oslo-guard",
        "small",
        "corr",
        &json!({"kind": "correction", "delta": 1, "reason": "child without ticket"}),
    )
    .await;
    app.post_event(
        "small-desk",
        "small",
        "clean",
        &json!({"kind": "cleaned", "surface": "door handles"}),
    )
    .await;
    let before = app.status("small").await;
    let replay_before = app.post_event("small-desk", "small", "r3", &json!({"kind": "check_in", "service": "passport", "party_size": 2, "appointment": "BK-3"})).await.bytes().await.unwrap();

    let data = app.stop().await;
    let app = TestApp::spawn_with(test_config(), data, StoreOptions::default()).await;
    let after = app.status("small").await;
    assert_eq!(durable_view(&after), durable_view(&before));

    // Idempotent answers survive too.
    let r = app.post_event("small-desk", "small", "r3", &json!({"kind": "check_in", "service": "passport", "party_size": 2, "appointment": "BK-3"})).await;
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    assert_eq!(r.bytes().await.unwrap(), replay_before);
    // And numbering continues.
    let next: Value = app
        .post_event(
            "small-desk",
            "small",
            "r-next",
            &json!({"kind": "check_in", "service": "passport"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["ticket"], "P007");
}

#[tokio::test]
async fn a_key_answered_days_ago_is_replayed_from_the_log_not_applied_again() {
    // Answered three days ago: after a restart it is no longer held in memory, only in the log.
    let three_days_ago = chrono::Utc::now() - chrono::TimeDelta::days(3);
    let data = Arc::new(tempfile::tempdir().unwrap());
    let app = TestApp::spawn_with_clock(
        test_config(),
        data,
        StoreOptions::default(),
        Clock::starting_at(three_days_ago),
    )
    .await;
    let event = json!({"kind": "check_in", "service": "passport"});
    let first = app
        .post_event("big-desk", "big", "offline-retry", &event)
        .await;
    assert_eq!(first.status(), 201);
    let first_body = first.bytes().await.unwrap();
    let data = app.stop().await;

    let app = TestApp::spawn_with(test_config(), data, StoreOptions::default()).await;
    assert_eq!(
        app.state.idempotency.len(),
        0,
        "day-old answers are not loaded at start"
    );
    let again = app
        .post_event("big-desk", "big", "offline-retry", &event)
        .await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.bytes().await.unwrap(), first_body);
    let other = app
        .post_event(
            "big-desk",
            "big",
            "offline-retry",
            &json!({"kind": "cleaned", "surface": "door"}),
        )
        .await;
    assert_eq!(other.status(), 422);
    // One check-in in the log, whatever else the clock logged since (a `clock` review on the new
    // day closes out the three-day-old ticket).
    let data = app.stop().await;
    let check_ins: i64 = rusqlite::Connection::open(data.path().join(lobbywatch::store::DB_FILE))
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM events WHERE station = 'big' AND kind = 'check_in'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(check_ins, 1);
}

#[tokio::test]
async fn kill_9_under_load_loses_no_acknowledged_event() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let server = ServerProcess::start(&config, &data);
    let client = reqwest::Client::new();

    // Several terminals post concurrently; the server is killed while they are at it.
    let mut tasks = Vec::new();
    for t in 0..4 {
        let client = client.clone();
        let url = format!("{}/api/v1/stations/big/events", server.base);
        tasks.push(tokio::spawn(async move {
            let mut acked: Vec<(String, Value)> = Vec::new();
            for i in 0..1000 {
                let key = format!("t{t}-{i}");
                let sent = client
                    .post(&url)
                    .bearer_auth("big-desk-token")
                    .header("Idempotency-Key", &key)
                    .json(&json!({"kind": "cleaned", "surface": format!("desk {t}")}))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 201 => acked.push((key, r.json().await.unwrap())),
                    _ => break,
                }
            }
            acked
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    server.kill9();
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    assert!(
        acked.len() > 10,
        "the load ran before the kill ({} acked)",
        acked.len()
    );

    let server = ServerProcess::start(&config, &data);
    let status: Value = client
        .get(format!("{}/api/v1/stations/big", server.base))
        .bearer_auth("all-guard-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seq = status["seq"].as_u64().unwrap();
    let max_acked = acked
        .iter()
        .map(|(_, b)| b["seq"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(
        seq >= max_acked,
        "acknowledged seq {max_acked} lost: log has {seq}"
    );
    // Every acknowledged event is there exactly once: its retry replays, not re-applies.
    for (key, body) in acked.iter().take(50) {
        let t = &key[1..key.find('-').unwrap()];
        let r = client
            .post(format!("{}/api/v1/stations/big/events", server.base))
            .bearer_auth("big-desk-token")
            .header("Idempotency-Key", key)
            .json(&json!({"kind": "cleaned", "surface": format!("desk {t}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(
            r.headers()["idempotent-replayed"],
            "true",
            "{key} was not durable"
        );
        assert_eq!(&r.json::<Value>().await.unwrap(), body);
    }
    let after: Value = client
        .get(format!("{}/api/v1/stations/big", server.base))
        .bearer_auth("all-guard-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["seq"].as_u64().unwrap(),
        seq,
        "replays must not add events"
    );
}

#[tokio::test]
async fn a_full_log_stops_accepting_events_with_503_and_reads_keep_working() {
    let data = Arc::new(tempfile::tempdir().unwrap());
    // A log capped at a few pages fills up quickly, like a full disk.
    let app = TestApp::spawn_with(
        test_config(),
        data,
        StoreOptions {
            max_pages: Some(12),
            ..StoreOptions::default()
        },
    )
    .await;
    let mut failed_at = None;
    for i in 0..2000 {
        let r = app.post_event("big-desk", "big", &format!("f{i}"), &json!({"kind": "cleaned", "surface": format!("surface number {i} with a longer name")})).await;
        if r.status() == 503 {
            assert_eq!(r.headers()["content-type"], "application/problem+json");
            failed_at = Some(i);
            break;
        }
        assert_eq!(r.status(), 201);
    }
    let failed_at = failed_at.expect("the log filled up");
    // From now on every event is refused, even a retry and another station.
    let r = app
        .post_event(
            "small-desk",
            "small",
            "after",
            &json!({"kind": "check_in", "service": "passport"}),
        )
        .await;
    assert_eq!(r.status(), 503);
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    // Reads still answer, with the last committed state.
    let status = app.status("big").await;
    assert_eq!(status["seq"].as_u64().unwrap(), failed_at as u64);
    let data = app.stop().await;
    // After a restart (storage fixed: no cap) everything acknowledged is there, nothing more.
    let app = TestApp::spawn_with(test_config(), data, StoreOptions::default()).await;
    assert_eq!(
        app.status("big").await["seq"].as_u64().unwrap(),
        failed_at as u64
    );
}

#[tokio::test]
async fn start_up_resumes_from_snapshots_and_replays_only_the_events_after_them() {
    let every = StoreOptions {
        snapshot_every: Some(4),
        ..StoreOptions::default()
    };
    let app =
        TestApp::spawn_with(test_config(), Arc::new(tempfile::tempdir().unwrap()), every).await;
    for i in 0..7 {
        let r = app
            .post_event(
                "small-desk",
                "small",
                &format!("s{i}"),
                &json!({"kind": "check_in", "service": "passport", "party_size": 1 + i % 2}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    for (key, event) in [
        ("c1", json!({"kind": "call", "desk": "1"})),
        ("o1", json!({"kind": "check_out", "ticket": "P001"})),
        ("c2", json!({"kind": "call", "desk": "2"})),
        ("k1", json!({"kind": "cleaned", "surface": "bench"})),
    ] {
        assert_eq!(
            app.post_event("small-desk", "small", key, &event)
                .await
                .status(),
            201
        );
    }
    let before = app.status("small").await;
    assert_eq!(before["seq"], 11);
    let data = app.stop().await;

    // The snapshot after event 8 is stored; events 9..11 follow it.
    let db = data.path().join(lobbywatch::store::DB_FILE);
    let snap_seq: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT seq FROM snapshots WHERE station = 'small'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(snap_seq, 8);

    // Restarting from the snapshot gives exactly the state before.
    let app = TestApp::spawn_with(test_config(), data, every).await;
    assert_eq!(
        durable_view(&app.status("small").await),
        durable_view(&before)
    );
    let data = app.stop().await;

    // Proof that start-up read the snapshot and not the events it covers: without them the
    // state is still the same.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "DELETE FROM events WHERE station = 'small' AND seq <= 8",
            [],
        )
        .unwrap();
    let app = TestApp::spawn_with(test_config(), data, every).await;
    assert_eq!(
        durable_view(&app.status("small").await),
        durable_view(&before)
    );
    let data = app.stop().await;

    // An unreadable snapshot is ignored and the station replayed in full — which, with its
    // first events gone, is refused loudly rather than started with a wrong state.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE snapshots SET state = 'not json' WHERE station = 'small'",
            [],
        )
        .unwrap();
    let start = lobbywatch::state::StartOptions {
        store: every,
        clock: Clock::system(),
        web_dir: None,
    };
    let err = lobbywatch::state::AppState::open(test_config(), data.path(), start)
        .err()
        .expect("a log with a gap does not open");
    assert!(
        err.to_string().contains("skips from small/0 to small/9"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreadable_snapshot_falls_back_to_a_full_replay() {
    let every = StoreOptions {
        snapshot_every: Some(2),
        ..StoreOptions::default()
    };
    let app =
        TestApp::spawn_with(test_config(), Arc::new(tempfile::tempdir().unwrap()), every).await;
    app.check_in_passports("small-desk", "small", "f", 5).await;
    let before = app.status("small").await;
    let data = app.stop().await;
    rusqlite::Connection::open(data.path().join(lobbywatch::store::DB_FILE))
        .unwrap()
        .execute("UPDATE snapshots SET state = '{\"version\": 1}'", [])
        .unwrap();
    let app = TestApp::spawn_with(test_config(), data, every).await;
    assert_eq!(
        durable_view(&app.status("small").await),
        durable_view(&before)
    );
}

#[tokio::test]
async fn sigterm_closes_sockets_with_1001_flushes_and_exits_0_and_the_next_start_is_exact() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let server = ServerProcess::start(&config, &data);
    let client = reqwest::Client::new();
    for i in 0..5 {
        let r = client
            .post(format!("{}/api/v1/stations/small/events", server.base))
            .bearer_auth("small-desk-token")
            .header("Idempotency-Key", format!("term-{i}"))
            .json(&json!({"kind": "check_in", "service": "passport"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let status = |base: String| {
        let client = client.clone();
        async move {
            client
                .get(format!("{base}/api/v1/stations/small"))
                .bearer_auth("all-guard-token")
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let before = status(server.base.clone()).await;
    let ws_url = server.base.replace("http://", "ws://");
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("{ws_url}/api/v1/stations/small/public/live"))
            .await
            .unwrap();
    crate::helpers::next_doc(&mut ws).await;

    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let code = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
            .await
            .expect("the socket is closed in time")
        {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(code, Some(1001));
    let exit = tokio::task::spawn_blocking(move || {
        let mut server = server;
        let exit = server.child.wait().unwrap();
        (server, exit)
    });
    let (_server, exit) = tokio::time::timeout(std::time::Duration::from_secs(10), exit)
        .await
        .expect("the service exits in time")
        .unwrap();
    assert!(exit.success(), "exit status {exit}");

    let started = std::time::Instant::now();
    let server = ServerProcess::start(&config, &data);
    let after = status(server.base.clone()).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(durable_view(&after), durable_view(&before));
}
