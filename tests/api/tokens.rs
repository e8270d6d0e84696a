//! Tokens: rotation (two valid at once), revocation at run time that closes the device's sockets
//! and survives a restart, and tokens never written to the log.

use std::time::Duration;

use lobbywatch::config::Config;
use lobbywatch::store::StoreOptions;
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;

use crate::helpers::{
    LogFormat, ServerProcess, TestApp, check_in, close_code, event_request, find, next_doc,
    sha256_hex, test_config, test_config_toml, write_config,
};

#[tokio::test]
async fn a_device_may_hold_two_tokens_while_rotating() {
    let toml = test_config_toml().replace(
        &format!("token_sha256 = \"{}\"", sha256_hex("big-desk-token")),
        &format!(
            "token_sha256 = [\"{}\", \"{}\"]",
            sha256_hex("big-desk-token"),
            sha256_hex("big-desk-new-token")
        ),
    );
    let config = Config::parse(&toml, "rotation.toml").unwrap();
    let app = TestApp::spawn_with_config(config).await;
    for token in ["big-desk-token", "big-desk-new-token"] {
        let (status, me) = app.get_as("/api/v1/me", Some(token)).await;
        assert_eq!(status, 200);
        assert_eq!(me["device"], "big-desk");
    }
    // Three hashes, or a hash shared with another device, are config errors.
    let three = toml.replace(
        &format!("\"{}\"]", sha256_hex("big-desk-new-token")),
        &format!(
            "\"{}\", \"{}\"]",
            sha256_hex("big-desk-new-token"),
            sha256_hex("x")
        ),
    );
    let e = Config::parse(&three, "t.toml").unwrap_err();
    assert!(e.to_string().contains("two while rotating"), "{e}");
}

#[tokio::test]
async fn an_admin_revokes_a_device_its_sockets_close_with_4401_and_it_stays_revoked() {
    let app = TestApp::spawn().await;
    let (mut ws, _) =
        connect_async(app.ws_url("/api/v1/stations/small/live?access_token=oslo-guard-token"))
            .await
            .unwrap();
    next_doc(&mut ws).await;

    let revoke = |token: &'static str, device: &'static str| {
        let app = &app;
        async move {
            let r = app
                .client
                .post(app.url(&format!("/api/v1/devices/{device}/revoke")))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    assert_eq!(revoke("oslo-guard-token", "oslo-guard").await.0, 403);
    assert_eq!(revoke("admin-token", "nobody").await.0, 404);
    let (status, body) = revoke("admin-token", "oslo-guard").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revoked_tokens"], 1);
    assert_eq!(body["closed_sockets"], 1);

    assert_eq!(close_code(&mut ws).await, Some(4401));
    let r = app
        .client
        .get(app.url("/api/v1/stations/small"))
        .bearer_auth("oslo-guard-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    let p: Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("revoked"));
    let counter = json!({"kind": "cleaned", "surface": "counter"});
    let (status, _) = app
        .post_event_json("oslo-guard", "small", "after-revoke", &counter)
        .await;
    assert_eq!(status, 401);
    // Other devices are untouched; a second revocation finds nothing left to revoke.
    assert_eq!(
        app.get_as("/api/v1/stations/small", Some("all-guard-token"))
            .await
            .0,
        200
    );
    assert_eq!(
        revoke("admin-token", "oslo-guard").await.1["revoked_tokens"],
        0
    );

    // The revocation is in the log: a restart does not bring the token back.
    let data = app.stop().await;
    let app = TestApp::spawn_with(test_config(), data, StoreOptions::default()).await;
    assert_eq!(
        app.get_as("/api/v1/me", Some("oslo-guard-token")).await.0,
        401
    );
    let (_, devices) = app.get_as("/api/v1/devices", Some("admin-token")).await;
    let guard = find(&devices, "id", "oslo-guard");
    assert_eq!(guard["revoked_tokens"], 1);
    assert_eq!(guard["scope"], "districts oslo");
}

#[tokio::test]
async fn tokens_and_appointments_never_reach_the_log_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let (server, log_path) =
        ServerProcess::spawn_logging_to_file(dir.path(), &config, "trace", LogFormat::Plain);
    let base = server.base.clone();
    let client = reqwest::Client::new();
    // Good and bad tokens, in headers and in the socket query string.
    for token in ["small-desk-token", "not-a-real-token-4f9a"] {
        let passport = check_in("passport");
        let _ = event_request(&client, &base, token, "small", "log-check", &passport)
            .send()
            .await
            .unwrap();
    }
    let ws_url = base.replace("http://", "ws://");
    let (mut ws, _) = connect_async(format!(
        "{ws_url}/api/v1/stations/small/live?access_token=oslo-guard-token"
    ))
    .await
    .unwrap();
    next_doc(&mut ws).await;
    // An appointment reference, personal data, in a full document sent to a guard's socket.
    let booked =
        json!({"kind": "check_in", "service": "passport", "appointment": "APPT-4711-PRIVATE"});
    let r = event_request(
        &client,
        &base,
        "small-desk-token",
        "small",
        "booked",
        &booked,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let doc = next_doc(&mut ws).await;
    assert!(doc.to_string().contains("APPT-4711-PRIVATE"), "{doc}");
    let _ = connect_async(format!(
        "{ws_url}/api/v1/stations/small/live?access_token=secret-guess-77"
    ))
    .await;
    let _ = client
        .post(format!("{base}/api/v1/devices/oslo-guard/revoke"))
        .bearer_auth("admin-token")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill9();
    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        text.contains("device tokens revoked"),
        "the log was written: {text}"
    );
    for secret in [
        "small-desk-token",
        "not-a-real-token-4f9a",
        "oslo-guard-token",
        "secret-guess-77",
        "admin-token",
        "access_token",
        "APPT-4711-PRIVATE",
    ] {
        assert!(!text.contains(secret), "the log holds '{secret}'");
    }
    for hash in ["small-desk-token", "oslo-guard-token"].map(sha256_hex) {
        assert!(!text.contains(&hash), "the log holds a token hash");
    }
}

/// Every token-protected route, with the status each kind of caller gets: the roles a route
/// accepts are stated here in one table, and refusals carry the right challenge.
#[tokio::test]
async fn every_protected_route_accepts_exactly_its_roles() {
    let app = TestApp::spawn().await;
    // (method, path, body); callers: none, small's terminal, big's terminal, small's display,
    // oslo guard, vest guard, admin.
    let callers = [
        None,
        Some("small-desk-token"),
        Some("big-desk-token"),
        Some("small-display-token"),
        Some("oslo-guard-token"),
        Some("vest-guard-token"),
        Some("admin-token"),
    ];
    let cleaned = json!({"kind": "cleaned", "surface": "counter"});
    let table: Vec<(&str, &str, Option<Value>, [u16; 7])> = vec![
        (
            "GET",
            "/api/v1/stations/small",
            None,
            [401, 200, 403, 403, 200, 403, 403],
        ),
        (
            "GET",
            "/api/v1/stations/small/history",
            None,
            [401, 200, 403, 403, 200, 403, 403],
        ),
        (
            "POST",
            "/api/v1/stations/small/events",
            Some(cleaned),
            [401, 201, 403, 403, 201, 403, 403],
        ),
        (
            "GET",
            "/api/v1/me",
            None,
            [401, 200, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/rules",
            None,
            [401, 403, 403, 403, 200, 200, 200],
        ),
        (
            "PUT",
            "/api/v1/rules",
            Some(json!({"distancing_m": 2.0})),
            [401, 403, 403, 403, 403, 403, 200],
        ),
        (
            "GET",
            "/api/v1/reports/daily?district=oslo",
            None,
            // Another district's guard: the stations exist, and are not its own (403, not 404).
            [401, 403, 403, 403, 200, 403, 200],
        ),
        (
            "GET",
            "/api/v1/devices",
            None,
            [401, 403, 403, 403, 403, 403, 200],
        ),
        (
            "POST",
            "/api/v1/devices/nobody/revoke",
            None,
            [401, 403, 403, 403, 403, 403, 404],
        ),
    ];
    for (method, path, body, expected) in table {
        for (i, (caller, want)) in callers.iter().zip(expected).enumerate() {
            let mut req = app.client.request(method.parse().unwrap(), app.url(path));
            if let Some(token) = caller {
                req = req.bearer_auth(token);
            }
            if let Some(b) = &body {
                req = req.json(b).header("Idempotency-Key", format!("roles-{i}"));
            }
            let r = req.send().await.unwrap();
            let got = r.status().as_u16();
            assert_eq!(got, want, "{method} {path} as {caller:?}");
            let challenge = r
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            match got {
                401 => assert_eq!(
                    challenge.as_deref(),
                    Some(r#"Bearer error="invalid_token""#),
                    "{method} {path}"
                ),
                403 => assert_eq!(
                    challenge.as_deref(),
                    Some(r#"Bearer error="insufficient_scope""#),
                    "{method} {path}"
                ),
                _ => {}
            }
            if got >= 400 {
                assert_eq!(
                    r.headers()["content-type"],
                    "application/problem+json",
                    "{method} {path}"
                );
            }
        }
    }
    // A plain request to a WebSocket route is a clear problem, not a text/plain rejection.
    let r = app
        .client
        .get(app.url("/api/v1/stations/small/public/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}
