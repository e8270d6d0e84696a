//! `recall` and `transfer` over HTTP: their 201 answers, their refusals as problem+json, and a
//! retry under the same key that changes nothing twice.

use serde_json::{Value, json};

use crate::helpers::{TestApp, check_in};

/// `small` (cap 3) with P001 and U001 inside and P001 called to desk 1.
async fn one_called_one_waiting() -> TestApp {
    let app = TestApp::spawn().await;
    app.post_events(
        "small-desk",
        "small",
        [
            ("a", check_in("passport")),
            ("b", check_in("residence")),
            (
                "c",
                json!({"kind": "call", "desk": "1", "service": "passport"}),
            ),
        ],
    )
    .await;
    app
}

#[tokio::test]
async fn a_recall_answers_201_and_the_status_shows_the_call_recalled_once() {
    let app = one_called_one_waiting().await;
    let recall = json!({"kind": "recall", "desk": "1", "ticket": "P001"});
    let (status, body) = app
        .post_event_json("small-desk", "small", "r1", &recall)
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (&body["kind"], &body["ticket"], &body["desk"]),
        (&json!("recall"), &json!("P001"), &json!("1"))
    );
    // A retry under the same key is answered again and not counted twice.
    let again = app.post_event("small-desk", "small", "r1", &recall).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let calls = &app.status("small").await["calls"];
    assert_eq!(calls.as_array().unwrap().len(), 1);
    assert_eq!(calls[0]["recalls"], 1);
    assert!(calls[0]["recalled_at"].is_string(), "{calls}");
    let public: Value = reqwest::get(app.url("/api/v1/stations/small/public"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["calls"][0]["recalls"], 1, "the display reads it too");
}

#[tokio::test]
async fn a_recall_of_a_ticket_the_desk_has_not_called_is_a_409_problem() {
    let app = one_called_one_waiting().await;
    let recall = json!({"kind": "recall", "desk": "2", "ticket": "P001"});
    let r = app.post_event("small-desk", "small", "r2", &recall).await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/not-called");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not called to desk 2"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_transfer_answers_201_and_the_ticket_waits_for_the_other_service() {
    let app = one_called_one_waiting().await;
    let transfer = json!({"kind": "transfer", "ticket": "U001", "service": "passport"});
    let (status, body) = app
        .post_event_json("small-desk", "small", "t1", &transfer)
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (&body["kind"], &body["ticket"]),
        (&json!("transfer"), &json!("U001"))
    );
    let again = app.post_event("small-desk", "small", "t1", &transfer).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let (status, called) = app
        .post_event_json(
            "small-desk",
            "small",
            "t2",
            &json!({"kind": "call", "desk": "2", "service": "passport"}),
        )
        .await;
    assert_eq!((status, &called["ticket"]), (201, &json!("U001")));
}

#[tokio::test]
async fn transfers_that_cannot_be_made_are_problems_that_say_why() {
    let app = one_called_one_waiting().await;
    for (key, ticket, service, status, slug) in [
        ("x1", "P001", "residence", 409, "cannot-transfer"),
        ("x2", "U001", "residence", 409, "cannot-transfer"),
        ("x3", "U001", "visa", 422, "unknown-service"),
        ("x4", "U009", "passport", 404, "unknown-ticket"),
    ] {
        let transfer = json!({"kind": "transfer", "ticket": ticket, "service": service});
        let (got, problem) = app
            .post_event_json("small-desk", "small", key, &transfer)
            .await;
        assert_eq!(got, status, "{problem}");
        assert_eq!(problem["type"], format!("/problems/{slug}"), "{problem}");
    }
    assert_eq!(app.status("small").await["seq"], 3, "nothing was applied");
}
