//! Every refusal is problem+json with a stable type, says what to fix, and changes nothing.

use serde_json::{Value, json};

use crate::helpers::{TestApp, check_in};

/// Asserts a problem+json answer and returns its body.
async fn problem(r: reqwest::Response, status: u16, kind: &str) -> Value {
    assert_eq!(r.status(), status, "expected {status} {kind}");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], format!("/problems/{kind}"), "{body}");
    assert_eq!(body["status"], status);
    assert!(!body["title"].as_str().unwrap().is_empty());
    assert!(body["detail"].as_str().unwrap().len() > 10, "{body}");
    body
}

fn post(app: &TestApp, station: &str) -> reqwest::RequestBuilder {
    app.client
        .post(app.url(&format!("/api/v1/stations/{station}/events")))
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let r = post(&app, "small")
        .bearer_auth("small-desk-token")
        .header("Idempotency-Key", "m1")
        .header("Content-Type", "application/json")
        .body("{\"kind\": \"check_in\",")
        .send()
        .await
        .unwrap();
    problem(r, 400, "malformed-json").await;
    assert_eq!(app.status("small").await["seq"], 0);
}

#[tokio::test]
async fn a_missing_or_invalid_idempotency_key_is_400() {
    let app = TestApp::spawn().await;
    let r = post(&app, "small")
        .bearer_auth("small-desk-token")
        .json(&check_in("passport"))
        .send()
        .await
        .unwrap();
    let body = problem(r, 400, "missing-idempotency-key").await;
    assert!(body["detail"].as_str().unwrap().contains("Idempotency-Key"));
    let r = post(&app, "small")
        .bearer_auth("small-desk-token")
        .header("Idempotency-Key", "has spaces in it")
        .json(&check_in("passport"))
        .send()
        .await
        .unwrap();
    problem(r, 400, "invalid-idempotency-key").await;
    assert_eq!(app.status("small").await["seq"], 0);
}

#[tokio::test]
async fn invalid_fields_are_422_and_name_the_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({"kind": "check_in", "service": "passport", "party_size": 11}),
            "party_size",
        ),
        (
            json!({"kind": "check_in", "service": "passport", "party_size": 0}),
            "party_size",
        ),
        (json!({"kind": "check_in"}), "service"),
        (
            json!({"kind": "check_out", "ticket": "P001", "desk": "2"}),
            "desk",
        ),
        (json!({"kind": "check_out", "ticket": "seven"}), "ticket"),
        (json!({"kind": "call", "desk": ""}), "desk"),
        (json!({"kind": "teleport"}), "kind"),
        (
            json!({"kind": "check_in", "service": "Passport!"}),
            "service",
        ),
    ];
    for (i, (body, field)) in cases.iter().enumerate() {
        let r = app
            .post_event("small-desk", "small", &format!("f{i}"), body)
            .await;
        let p = problem(r, 422, "invalid-field").await;
        assert_eq!(p["field"], *field, "{body} → {p}");
    }
    // A service the station does not offer.
    let r = app
        .post_event("small-desk", "small", "f-x", &check_in("visa"))
        .await;
    let p = problem(r, 422, "unknown-service").await;
    assert_eq!(p["field"], "service");
    assert_eq!(app.status("small").await["seq"], 0);
}

#[tokio::test]
async fn unknown_stations_and_tickets_are_404() {
    let app = TestApp::spawn().await;
    let r = app
        .post_event("small-desk", "nowhere", "n1", &check_in("passport"))
        .await;
    problem(r, 404, "not-found").await;
    let out = json!({"kind": "check_out", "ticket": "P042"});
    let r = app.post_event("small-desk", "small", "n2", &out).await;
    let p = problem(r, 404, "unknown-ticket").await;
    assert!(p["detail"].as_str().unwrap().contains("P042"));
    let r = app
        .client
        .get(app.url("/api/v1/stations/nowhere/public"))
        .send()
        .await
        .unwrap();
    problem(r, 404, "not-found").await;
}

#[tokio::test]
async fn rule_refusals_are_409_with_the_reason() {
    let app = TestApp::spawn().await;
    let r = app
        .post_event("closed-desk", "closed", "c1", &check_in("passport"))
        .await;
    let p = problem(r, 409, "service-closed").await;
    assert!(p["detail"].as_str().unwrap().contains("closed now"), "{p}");

    app.check_in_passports("small-desk", "small", "i", 4).await;
    let out = json!({"kind": "check_out", "ticket": "P004"});
    let r = app.post_event("small-desk", "small", "o1", &out).await;
    problem(r, 409, "ticket-outside").await;
    let call = json!({"kind": "call", "desk": "1"});
    let r = app.post_event("big-desk", "big", "call", &call).await;
    problem(r, 409, "nothing-to-call").await;
    assert_eq!(app.status("small").await["seq"], 4);
}

#[tokio::test]
async fn a_body_over_16_kib_is_413() {
    let app = TestApp::spawn().await;
    let big = json!({"kind": "cleaned", "surface": "x".repeat(17 * 1024)});
    let r = app.post_event("small-desk", "small", "big", &big).await;
    problem(r, 413, "payload-too-large").await;
}

#[tokio::test]
async fn no_token_or_an_unknown_token_is_401() {
    let app = TestApp::spawn().await;
    let r = post(&app, "small")
        .header("Idempotency-Key", "a1")
        .json(&check_in("passport"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    problem(r, 401, "unauthorized").await;
    let r = post(&app, "small")
        .bearer_auth("not-a-token")
        .header("Idempotency-Key", "a2")
        .json(&check_in("passport"))
        .send()
        .await
        .unwrap();
    problem(r, 401, "unauthorized").await;
    let r = app
        .client
        .get(app.url("/api/v1/stations/small"))
        .send()
        .await
        .unwrap();
    problem(r, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_token_outside_its_station_or_role_is_403() {
    let app = TestApp::spawn().await;
    let e = check_in("passport");
    // A terminal of another station.
    let r = app.post_event("big-desk", "small", "s1", &e).await;
    assert_eq!(
        r.headers()["www-authenticate"],
        r#"Bearer error="insufficient_scope""#
    );
    problem(r, 403, "forbidden").await;
    // A guard of another district.
    problem(
        app.post_event("vest-guard", "small", "s2", &e).await,
        403,
        "forbidden",
    )
    .await;
    // Displays and admins post nothing.
    problem(
        app.post_event("small-display", "small", "s3", &e).await,
        403,
        "forbidden",
    )
    .await;
    problem(
        app.post_event("admin", "small", "s4", &e).await,
        403,
        "forbidden",
    )
    .await;
    // A display may not read the full document (it carries personal data).
    let r = app
        .client
        .get(app.url("/api/v1/stations/small"))
        .bearer_auth("small-display-token")
        .send()
        .await
        .unwrap();
    problem(r, 403, "forbidden").await;
    let r = app
        .client
        .get(app.url("/api/v1/stations/small"))
        .bearer_auth("vest-guard-token")
        .send()
        .await
        .unwrap();
    problem(r, 403, "forbidden").await;
    assert_eq!(app.status("small").await["seq"], 0);
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let app = TestApp::spawn().await;
    let r = post(&app, "small")
        .bearer_auth("small-desk-token")
        .header("Idempotency-Key", "ct")
        .header("Content-Type", "text/plain")
        .body(r#"{"kind":"check_in","service":"passport"}"#)
        .send()
        .await
        .unwrap();
    problem(r, 415, "unsupported-media-type").await;
}

#[tokio::test]
async fn unknown_routes_are_problem_json_404() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    problem(r, 404, "not-found").await;
}

#[tokio::test]
async fn a_wrong_method_on_a_real_route_is_405_problem_json() {
    let app = crate::helpers::TestApp::spawn().await;
    for (method, path) in [
        ("DELETE", "/api/v1/me"),
        ("PUT", "/api/v1/stations"),
        ("GET", "/api/v1/capacity"),
    ] {
        let r = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method} {path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["type"], "/problems/method-not-allowed");
    }
}

#[tokio::test]
async fn a_field_given_twice_is_422_naming_it_and_changes_nothing() {
    let app = TestApp::spawn().await;
    // serde alone would let the last one win: nine people checked in instead of one.
    let r = post(&app, "big")
        .bearer_auth("big-desk-token")
        .header("Idempotency-Key", "dup")
        .header("Content-Type", "application/json")
        .body(r#"{"kind":"check_in","service":"passport","party_size":1,"party_size":9}"#)
        .send()
        .await
        .unwrap();
    let body = problem(r, 422, "invalid-field").await;
    assert_eq!(body["field"], "party_size");
    assert_eq!(app.status("big").await["seq"], 0);

    let r = app
        .client
        .put(app.url("/api/v1/rules"))
        .bearer_auth("admin-token")
        .header("Content-Type", "application/json")
        .body(r#"{"distancing_m":2.0,"distancing_m":0.5}"#)
        .send()
        .await
        .unwrap();
    let body = problem(r, 422, "invalid-field").await;
    assert_eq!(body["field"], "distancing_m");
    assert_eq!(app.status("big").await["cap_basis"]["distancing_m"], 2.0);

    let r = app
        .client
        .post(app.url("/api/v1/capacity"))
        .header("Content-Type", "application/json")
        .body(r#"{"area_m2":40,"area_m2":4000}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r, 422, "invalid-field").await["field"], "area_m2");
}

#[tokio::test]
async fn a_content_type_that_only_starts_like_json_is_415_on_every_body_route() {
    let app = TestApp::spawn().await;
    let r = post(&app, "small")
        .bearer_auth("small-desk-token")
        .header("Idempotency-Key", "jsonx")
        .header("Content-Type", "application/jsonx")
        .body(r#"{"kind":"check_in","service":"passport"}"#)
        .send()
        .await
        .unwrap();
    problem(r, 415, "unsupported-media-type").await;
    assert_eq!(app.status("small").await["seq"], 0);
    let r = app
        .client
        .put(app.url("/api/v1/rules"))
        .bearer_auth("admin-token")
        .header("Content-Type", "text/plain")
        .body(r#"{"distancing_m":1.0}"#)
        .send()
        .await
        .unwrap();
    problem(r, 415, "unsupported-media-type").await;
    let r = app
        .client
        .post(app.url("/api/v1/capacity"))
        .header("Content-Type", "application/json; charset=utf-8")
        .body(r#"{"area_m2":40}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "JSON with parameters is JSON");
}

/// Sends only the head of a request declaring `length` body bytes (and, with `expect`, asking
/// for `100 Continue` first) and returns the status line of the answer, read within 5 s — far
/// less than the request timeout the server would otherwise wait for the body.
async fn status_of_a_declared_body(app: &TestApp, length: usize, expect: bool) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let expect = if expect {
        "Expect: 100-continue\r\n"
    } else {
        ""
    };
    let head = format!(
        "POST /api/v1/stations/small/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer small-desk-token\r\n\
         Idempotency-Key: big-body\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n{expect}\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 512];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read(&mut answer))
        .await
        .expect("an answer before the body is sent")
        .unwrap();
    String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_413_before_it_is_sent() {
    let app = TestApp::spawn().await;
    let over = 16 * 1024 + 1;
    assert_eq!(
        status_of_a_declared_body(&app, over, false).await,
        "HTTP/1.1 413 Payload Too Large"
    );
    assert_eq!(
        status_of_a_declared_body(&app, over, true).await,
        "HTTP/1.1 413 Payload Too Large"
    );
    // Within the limit, an `Expect: 100-continue` is answered with 100, and the body awaited.
    assert_eq!(
        status_of_a_declared_body(&app, 100, true).await,
        "HTTP/1.1 100 Continue"
    );
    assert_eq!(app.status("small").await["seq"], 0);
}
