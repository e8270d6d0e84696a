//! Posting events: outcomes, idempotency, and the cap under concurrency.

use serde_json::{Value, json};

use crate::helpers::{TestApp, check_in, event_request};

#[tokio::test]
async fn check_in_answers_with_ticket_place_headcount_and_seq() {
    let app = TestApp::spawn().await;
    let pair = json!({"kind": "check_in", "service": "passport", "party_size": 2});
    let r = app.post_event("small-desk", "small", "k1", &pair).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["ticket"], "P001");
    assert_eq!(body["state"], "inside");
    assert_eq!(body["position"], Value::Null);
    assert_eq!(body["headcount"], 2);
    assert_eq!(body["cap"], 3);
    assert_eq!(body["seq"], 1);

    let pair = json!({"kind": "check_in", "service": "residence", "party_size": 2});
    let (_, body) = app
        .post_event_json("small-desk", "small", "k2", &pair)
        .await;
    assert_eq!(body["ticket"], "U001");
    assert_eq!(body["state"], "outside");
    assert_eq!(body["position"], 1);
    assert_eq!(body["headcount"], 2);
}

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_answer_byte_for_byte_and_counts_once() {
    let app = TestApp::spawn().await;
    let event = check_in("passport");
    let first = app
        .post_event("small-desk", "small", "retry-1", &event)
        .await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first_body = first.bytes().await.unwrap();

    // Same event, keys in another order: still the same request.
    let reordered = json!({"service": "passport", "kind": "check_in"});
    let again = app
        .post_event("small-desk", "small", "retry-1", &reordered)
        .await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.bytes().await.unwrap(), first_body);

    let status = app.status("small").await;
    assert_eq!(status["headcount"], 1);
    assert_eq!(status["seq"], 1);
}

#[tokio::test]
async fn a_refusal_is_also_replayed_under_its_key() {
    let app = TestApp::spawn().await;
    let out = json!({"kind": "check_out", "ticket": "P001"});
    let first = app.post_event("small-desk", "small", "r-1", &out).await;
    assert_eq!(first.status(), 404);
    let first_body = first.bytes().await.unwrap();
    // The ticket now exists, but the key already has its answer.
    app.post_events("small-desk", "small", [("r-2", check_in("passport"))])
        .await;
    let again = app.post_event("small-desk", "small", "r-1", &out).await;
    assert_eq!(again.status(), 404);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.bytes().await.unwrap(), first_body);
}

#[tokio::test]
async fn the_same_key_with_a_different_body_is_422_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.post_events("small-desk", "small", [("dup", check_in("passport"))])
        .await;
    let (status, body) = app
        .post_event_json("small-desk", "small", "dup", &check_in("residence"))
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["type"], "/problems/idempotency-key-reused");
    assert_eq!(app.status("small").await["seq"], 1);
}

#[tokio::test]
async fn keys_belong_to_a_device_so_two_devices_may_use_the_same_key() {
    let app = TestApp::spawn().await;
    let e = check_in("passport");
    let (status, _) = app
        .post_event_json("small-desk", "small", "shared", &e)
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .post_event_json("oslo-guard", "small", "shared", &e)
        .await;
    assert_eq!(status, 201);
    assert_eq!(app.status("small").await["headcount"], 2);
}

#[tokio::test]
async fn a_request_whose_first_copy_is_in_flight_gets_409() {
    let app = TestApp::spawn().await;
    // Claim the key as the first copy would, then send the second copy.
    let device = lobbywatch::domain::DeviceId::parse("small-desk").unwrap();
    let key = lobbywatch::idempotency::IdempotencyKey::parse("inflight").unwrap();
    let body = check_in("passport");
    let station = lobbywatch::domain::StationId::parse("small").unwrap();
    let fp = lobbywatch::idempotency::fingerprint(&station, &body);
    assert!(matches!(
        app.state
            .idempotency
            .begin(&device, &key, fp, app.state.clock.now()),
        lobbywatch::idempotency::Begin::Proceed
    ));
    let (status, problem) = app
        .post_event_json("small-desk", "small", "inflight", &body)
        .await;
    assert_eq!(status, 409);
    assert_eq!(problem["type"], "/problems/request-in-flight");
    assert_eq!(app.status("small").await["seq"], 0);
}

#[tokio::test]
async fn fifty_concurrent_check_ins_never_exceed_a_small_cap() {
    let app = TestApp::spawn().await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (client, base) = (app.client.clone(), app.base.clone());
        tasks.push(tokio::spawn(async move {
            let key = format!("c-{i}");
            let r = event_request(
                &client,
                &base,
                "small-desk-token",
                "small",
                &key,
                &check_in("passport"),
            )
            .send()
            .await
            .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()
        }));
    }
    let mut inside = 0;
    let mut positions = Vec::new();
    let mut tickets = Vec::new();
    for t in tasks {
        let body = t.await.unwrap();
        assert!(body["headcount"].as_u64().unwrap() <= 3, "{body}");
        tickets.push(body["ticket"].as_str().unwrap().to_owned());
        match body["state"].as_str().unwrap() {
            "inside" => inside += 1,
            _ => positions.push(body["position"].as_u64().unwrap()),
        }
    }
    assert_eq!(inside, 3);
    positions.sort_unstable();
    assert_eq!(
        positions,
        (1..=47).collect::<Vec<_>>(),
        "queue positions are 1..47, each once"
    );
    tickets.sort();
    tickets.dedup();
    assert_eq!(tickets.len(), 50, "every ticket is unique");
    let status = app.status("small").await;
    assert_eq!(status["headcount"], 3);
    assert_eq!(status["outside"].as_array().unwrap().len(), 47);
    assert_eq!(status["seq"], 50);
}

#[tokio::test]
async fn two_desks_calling_at_once_never_get_the_same_ticket() {
    let app = TestApp::spawn().await;
    app.check_in_passports("big-desk", "big", "in-", 10).await;
    let mut tasks = Vec::new();
    for desk in 0..10 {
        let (client, base) = (app.client.clone(), app.base.clone());
        tasks.push(tokio::spawn(async move {
            let key = format!("call-{desk}");
            let call = json!({"kind": "call", "desk": desk.to_string()});
            event_request(&client, &base, "big-desk-token", "big", &key, &call)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }));
    }
    let mut called: Vec<String> = Vec::new();
    for t in tasks {
        called.push(t.await.unwrap()["ticket"].as_str().unwrap().to_owned());
    }
    called.sort();
    called.dedup();
    assert_eq!(called.len(), 10);
}

#[tokio::test]
async fn checking_out_admits_the_head_of_the_queue_and_asks_it_in() {
    let app = TestApp::spawn().await;
    app.check_in_passports("small-desk", "small", "in-", 4)
        .await;
    let out = json!({"kind": "check_out", "ticket": "P001"});
    let (status, body) = app
        .post_event_json("small-desk", "small", "out-1", &out)
        .await;
    assert_eq!(status, 201);
    assert_eq!(body["admitted"], json!(["P004"]));
    let (_, public) = app.get_as("/api/v1/stations/small/public", None).await;
    assert_eq!(public["please_enter"], json!(["P004"]));
    assert_eq!(public["headcount"], 3);
    assert_eq!(public["sign"], "wait_outside");
}

#[tokio::test]
async fn a_guard_may_correct_the_headcount_but_a_terminal_may_not() {
    let app = TestApp::spawn().await;
    let c = json!({"kind": "correction", "delta": 2, "reason": "two came in with the cleaner"});
    let r = app.post_event("small-desk", "small", "c1", &c).await;
    assert_eq!(r.status(), 403);
    let r = app.post_event("oslo-guard", "small", "c1", &c).await;
    assert_eq!(r.status(), 201);
    assert_eq!(app.status("small").await["headcount"], 2);
    assert_eq!(app.status("small").await["corrections"], 2);
}
