//! Durability: a restart — graceful or `kill -9` — shows exactly the state that was acknowledged.

use std::process::Command;
use std::sync::Arc;

use lobbywatch::clock::Clock;
use lobbywatch::store::StoreOptions;
use serde_json::{Value, json};

use crate::backend::{log_execute, log_query, storage_for};
use crate::helpers::{
    ServerProcess, TestApp, check_in, close_code, event_request, next_doc, status_at, test_config,
    write_config,
};

/// The parts of a status document that must survive a restart (not `as_of`).
fn durable_view(doc: &Value) -> Value {
    json!({
        "seq": doc["seq"], "headcount": doc["headcount"], "corrections": doc["corrections"],
        "outside": doc["outside"], "inside": doc["inside"], "please_enter": doc["please_enter"],
        "calls": doc["calls"], "cleaning": doc["cleaning"],
    })
}

/// Runs `sql` on the log of the stopped server in `data`, starts it again with `options` and
/// asserts that `small` shows the durable state of `before`; stops it and gives `data` back.
async fn mutate_respawn_compare(
    data: Arc<tempfile::TempDir>,
    options: StoreOptions,
    sql: Option<&str>,
    before: &Value,
) -> Arc<tempfile::TempDir> {
    if let Some(sql) = sql {
        log_execute(data.path(), sql);
    }
    let app = TestApp::spawn_with(test_config(), data, options).await;
    assert_eq!(
        durable_view(&app.status("small").await),
        durable_view(before)
    );
    app.stop().await
}

#[tokio::test]
async fn a_graceful_restart_preserves_state_exactly() {
    let app = TestApp::spawn().await;
    let check_ins = (0..6).map(|i| {
        let (size, appointment) = (1 + i % 2, format!("BK-{i}"));
        let body = json!({"kind": "check_in", "service": "passport", "party_size": size, "appointment": appointment});
        (format!("r{i}"), body)
    });
    app.post_events("small-desk", "small", check_ins).await;
    let desk = [
        ("call", json!({"kind": "call", "desk": "2"})),
        ("out", json!({"kind": "check_out", "ticket": "P002"})),
    ];
    app.post_events("small-desk", "small", desk).await;
    let correction = json!({"kind": "correction", "delta": 1, "reason": "child without ticket"});
    app.post_events("oslo-guard", "small", [("corr", correction)])
        .await;
    let clean = json!({"kind": "cleaned", "surface": "door handles"});
    app.post_events("small-desk", "small", [("clean", clean)])
        .await;
    let before = app.status("small").await;
    let r3 =
        json!({"kind": "check_in", "service": "passport", "party_size": 2, "appointment": "BK-3"});
    let replay_before = app
        .post_event("small-desk", "small", "r3", &r3)
        .await
        .bytes()
        .await
        .unwrap();

    let data = app.stop().await;
    let app = TestApp::spawn_with(test_config(), data, StoreOptions::default()).await;
    let after = app.status("small").await;
    assert_eq!(durable_view(&after), durable_view(&before));

    // Idempotent answers survive too.
    let r = app.post_event("small-desk", "small", "r3", &r3).await;
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    assert_eq!(r.bytes().await.unwrap(), replay_before);
    // And numbering continues.
    let (_, next) = app
        .post_event_json("small-desk", "small", "r-next", &check_in("passport"))
        .await;
    assert_eq!(next["ticket"], "P007");
}

#[tokio::test]
async fn a_key_answered_days_ago_is_replayed_from_the_log_not_applied_again() {
    // Answered two days ago (within the 72-hour retention): after a restart it is no longer
    // held in memory, only in the log.
    let two_days_ago = chrono::Utc::now() - chrono::TimeDelta::days(2);
    let app = TestApp::spawn_on_clock(test_config(), Clock::starting_at(two_days_ago)).await;
    let event = check_in("passport");
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
    let door = json!({"kind": "cleaned", "surface": "door"});
    let (status, _) = app
        .post_event_json("big-desk", "big", "offline-retry", &door)
        .await;
    assert_eq!(status, 422);
    // One check-in in the log, whatever else the clock logged since (a `clock` review on the new
    // day closes out the three-day-old ticket).
    let data = app.stop().await;
    assert_eq!(
        crate::backend::logged_count(data.path(), "big", "check_in"),
        1
    );
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
        let (client, base) = (client.clone(), server.base.clone());
        tasks.push(tokio::spawn(async move {
            let mut acked: Vec<(String, Value)> = Vec::new();
            let body = json!({"kind": "cleaned", "surface": format!("desk {t}")});
            for i in 0..1000 {
                let key = format!("t{t}-{i}");
                let sent = event_request(&client, &base, "big-desk-token", "big", &key, &body)
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
    let status = status_at(&client, &server.base, "big").await;
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
        let event = json!({"kind": "cleaned", "surface": format!("desk {t}")});
        let r = event_request(&client, &server.base, "big-desk-token", "big", key, &event)
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
    let after = status_at(&client, &server.base, "big").await;
    assert_eq!(
        after["seq"].as_u64().unwrap(),
        seq,
        "replays must not add events"
    );
}

#[tokio::test]
async fn a_full_log_stops_accepting_events_with_503_and_reads_keep_working() {
    if crate::backend::sqlite_only(
        "a_full_log_stops_accepting_events_with_503_and_reads_keep_working",
    ) {
        return;
    }
    // A log capped at a few pages fills up quickly, like a full disk.
    let app = TestApp::spawn_with_store(StoreOptions {
        max_pages: Some(12),
        ..StoreOptions::default()
    })
    .await;
    let mut failed_at = None;
    for i in 0..2000 {
        let surface = format!("surface number {i} with a longer name");
        let body = json!({"kind": "cleaned", "surface": surface});
        let r = app
            .post_event("big-desk", "big", &format!("f{i}"), &body)
            .await;
        if r.status() == 503 {
            assert_eq!(r.headers()["content-type"], "application/problem+json");
            failed_at = Some(i);
            break;
        }
        assert_eq!(r.status(), 201);
    }
    let failed_at = failed_at.expect("the log filled up");
    // From now on every event is refused, even a retry and another station.
    let (status, _) = app
        .post_event_json("small-desk", "small", "after", &check_in("passport"))
        .await;
    assert_eq!(status, 503);
    assert_eq!(app.get_as("/healthz", None).await.0, 503);
    // Reads still answer, with the last committed state.
    let status = app.status("big").await;
    assert_eq!(status["seq"].as_u64().unwrap(), failed_at as u64);
    // A retry of an event the log holds still gets its stored answer: told "nothing was
    // recorded", a clerk would issue it again under a new key. The refused one is still refused.
    let first = json!({"kind": "cleaned", "surface": "surface number 0 with a longer name"});
    let r = app.post_event("big-desk", "big", "f0", &first).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    assert_eq!(r.json::<Value>().await.unwrap()["seq"], 1);
    let refused = json!({"kind": "cleaned", "surface": format!("surface number {failed_at} with a longer name")});
    let r = app
        .post_event("big-desk", "big", &format!("f{failed_at}"), &refused)
        .await;
    assert_eq!(r.status(), 503);
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
    let app = TestApp::spawn_with_store(every.clone()).await;
    let check_ins = (0..7).map(|i| {
        let size = 1 + i % 2;
        let body = json!({"kind": "check_in", "service": "passport", "party_size": size});
        (format!("s{i}"), body)
    });
    app.post_events("small-desk", "small", check_ins).await;
    let desk = [
        ("c1", json!({"kind": "call", "desk": "1"})),
        ("o1", json!({"kind": "check_out", "ticket": "P001"})),
        ("c2", json!({"kind": "call", "desk": "2"})),
        ("k1", json!({"kind": "cleaned", "surface": "bench"})),
    ];
    app.post_events("small-desk", "small", desk).await;
    let before = app.status("small").await;
    assert_eq!(before["seq"], 11);
    let data = app.stop().await;

    // The snapshot after event 8 is stored; events 9..11 follow it.
    let snap_seq = log_query(
        data.path(),
        "SELECT seq FROM snapshots WHERE station = 'small'",
    );
    assert_eq!(snap_seq, [["8"]]);

    // Restarting from the snapshot gives exactly the state before.
    let data = mutate_respawn_compare(data, every.clone(), None, &before).await;

    // Proof that start-up read the snapshot and not the events it covers: without them the
    // state is still the same.
    let delete = "DELETE FROM events WHERE station = 'small' AND seq <= 8";
    let data = mutate_respawn_compare(data, every.clone(), Some(delete), &before).await;

    // An unreadable snapshot is ignored and the station replayed in full — which, with its
    // first events gone, is refused loudly rather than started with a wrong state.
    log_execute(
        data.path(),
        "UPDATE snapshots SET state = 'not json' WHERE station = 'small'",
    );
    let start = lobbywatch::state::StartOptions {
        store: every,
        clock: Clock::system(),
        web_dir: None,
        instance: None,
    };
    let err = lobbywatch::state::AppState::open(test_config(), &storage_for(data.path()), start)
        .await
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
    let app = TestApp::spawn_with_store(every.clone()).await;
    app.check_in_passports("small-desk", "small", "f", 5).await;
    let before = app.status("small").await;
    let data = app.stop().await;
    let unreadable = "UPDATE snapshots SET state = '{\"version\": 1}'";
    mutate_respawn_compare(data, every, Some(unreadable), &before).await;
}

#[tokio::test]
async fn sigterm_closes_sockets_with_1001_flushes_and_exits_0_and_the_next_start_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let server = ServerProcess::start(&config, &data);
    let client = reqwest::Client::new();
    for i in 0..5 {
        let key = format!("term-{i}");
        let passport = check_in("passport");
        let r = event_request(
            &client,
            &server.base,
            "small-desk-token",
            "small",
            &key,
            &passport,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
    }
    let before = status_at(&client, &server.base, "small").await;
    let ws_url = server.base.replace("http://", "ws://");
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("{ws_url}/api/v1/stations/small/public/live"))
            .await
            .unwrap();
    next_doc(&mut ws).await;

    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(close_code(&mut ws).await, Some(1001));
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
    let after = status_at(&client, &server.base, "small").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(durable_view(&after), durable_view(&before));
}
