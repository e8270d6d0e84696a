//! The service protects itself: per-device rate limits, load shedding, request and header-read
//! timeouts — each refusal a problem+json answer that says when to retry.

use std::time::{Duration, Instant};

use lobbywatch::config::Config;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, check_in, close_code, close_frame, next_doc, test_config_toml};

pub(crate) async fn app_with_limits(limits: &str) -> TestApp {
    let toml = format!("{}\n[limits]\n{limits}\n", test_config_toml());
    let config = Config::parse(&toml, "limits.toml").expect("valid");
    TestApp::spawn_with_config(config).await
}

/// A request whose headers promise a body that never fully arrives: it holds its place.
pub(crate) async fn stalled_post(app: &TestApp) -> TcpStream {
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    tcp.write_all(
        b"POST /api/v1/capacity HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"area_m2\":",
    )
    .await
    .unwrap();
    tcp
}

#[tokio::test]
async fn a_device_over_its_event_rate_gets_429_with_retry_after_and_others_are_unaffected() {
    let app = app_with_limits("events_per_minute_per_device = 5").await;
    app.check_in_passports("big-desk", "big", "k", 5).await;
    let r = app
        .post_event("big-desk", "big", "k5", &check_in("passport"))
        .await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=12).contains(&wait), "{wait}");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "/problems/rate-limited");
    // Nothing was recorded for the refused one, and another device posts freely.
    assert_eq!(app.status("big").await["seq"], 5);
    let counter = json!({"kind": "cleaned", "surface": "counter"});
    let (status, _) = app
        .post_event_json("oslo-guard", "big", "g1", &counter)
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn beyond_the_concurrency_limit_requests_are_shed_with_503_not_queued() {
    let app = app_with_limits("max_concurrent_requests = 1").await;
    let held = stalled_post(&app).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shed at once, not queued"
    );
    assert_eq!(r.headers()["retry-after"], "1");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "/problems/overloaded");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.get_as("/healthz", None).await.0, 200);
}

#[tokio::test]
async fn a_request_that_takes_too_long_is_answered_503() {
    let app = app_with_limits("request_timeout_s = 1").await;
    let mut tcp = stalled_post(&app).await;
    let mut answer = vec![0u8; 2048];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut answer))
        .await
        .expect("an answer within the timeout")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("request-timeout"), "{text}");
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_disconnected() {
    let app = app_with_limits("header_read_timeout_s = 1").await;
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection is closed, not held open");
    // Well-behaved clients are served as before.
    assert_eq!(app.get_as("/healthz", None).await.0, 200);
}

async fn connect_with_origin(
    app: &TestApp,
    path: &str,
    origin: Option<&str>,
) -> Result<crate::helpers::Ws, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = app.ws_url(path).into_client_request().unwrap();
    if let Some(o) = origin {
        request.headers_mut().insert("Origin", o.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

#[tokio::test]
async fn live_sockets_only_open_from_the_services_own_origin_or_an_allowed_one() {
    let app = app_with_limits(r#"allowed_origins = ["https://lobby.politiet.example"]"#).await;
    let path = "/api/v1/stations/small/public/live";
    let own = format!("http://{}", app.addr);
    for allowed in [
        None,
        Some(own.as_str()),
        Some("https://lobby.politiet.example"),
    ] {
        let mut ws = connect_with_origin(&app, path, allowed)
            .await
            .unwrap_or_else(|e| panic!("{allowed:?}: {e}"));
        assert_eq!(crate::helpers::next_doc(&mut ws).await["station"], "small");
    }
    match connect_with_origin(&app, path, Some("https://evil.example")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
        }
        other => panic!("expected a refused handshake, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn sockets_over_the_caps_are_closed_with_1013() {
    let app = app_with_limits("max_sockets = 3\nmax_sockets_per_device = 2").await;
    let guard = "/api/v1/stations/small/live?access_token=oslo-guard-token";
    let mut first = connect_with_origin(&app, guard, None).await.unwrap();
    let _second = connect_with_origin(&app, guard, None).await.unwrap();
    crate::helpers::next_doc(&mut first).await;
    let mut third = connect_with_origin(&app, guard, None).await.unwrap();
    assert_eq!(close_code(&mut third).await, Some(1013), "per-device cap");
    // Another device still gets in, up to the overall cap.
    let mut other = connect_with_origin(
        &app,
        "/api/v1/stations/big/live?access_token=all-guard-token",
        None,
    )
    .await
    .unwrap();
    assert_eq!(crate::helpers::next_doc(&mut other).await["station"], "big");
    let mut public = connect_with_origin(&app, "/api/v1/stations/big/public/live", None)
        .await
        .unwrap();
    assert_eq!(close_code(&mut public).await, Some(1013), "overall cap");
    // A closed socket gives its place back.
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut again = connect_with_origin(&app, guard, None).await.unwrap();
    assert_eq!(
        crate::helpers::next_doc(&mut again).await["station"],
        "small"
    );
}

/// A live socket whose connection comes from `source` (any 127.x.y.z reaches the loopback
/// listener), so a test can be several clients at several addresses.
async fn connect_from(app: &TestApp, source: [u8; 4], path: &str) -> crate::helpers::Ws {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((source, 0).into()).unwrap();
    let tcp = socket.connect(app.addr).await.unwrap();
    let tcp = tokio_tungstenite::MaybeTlsStream::Plain(tcp);
    let (ws, _) = tokio_tungstenite::client_async(app.ws_url(path), tcp)
        .await
        .unwrap();
    ws
}

#[tokio::test]
async fn anonymous_sockets_filling_their_share_never_lock_out_guards_or_displays() {
    let app = app_with_limits(
        "max_sockets = 6\nmax_public_sockets = 3\nmax_public_sockets_per_address = 1",
    )
    .await;
    let public = "/api/v1/stations/small/public/live";
    let mut anonymous = Vec::new();
    for last in 2..5 {
        let mut ws = connect_from(&app, [127, 0, 0, last], public).await;
        assert_eq!(next_doc(&mut ws).await["station"], "small");
        anonymous.push(ws);
    }
    let mut refused = connect_from(&app, [127, 0, 0, 5], public).await;
    let (code, reason) = close_frame(&mut refused).await.unwrap();
    assert_eq!(code, 1013);
    assert!(reason.contains("public"), "{reason}");
    // The places kept for devices: a guard's district stream, a station socket, and a lobby
    // display that gives its token on the public route.
    for path in [
        "/api/v1/live?district=oslo&access_token=oslo-guard-token",
        "/api/v1/stations/small/live?access_token=small-desk-token",
        "/api/v1/stations/small/public/live?access_token=small-display-token",
    ] {
        let mut ws = connect_from(&app, [127, 0, 0, 5], path).await;
        assert!(next_doc(&mut ws).await["seq"].is_u64(), "{path} opened");
        anonymous.push(ws);
    }
}

#[tokio::test]
async fn one_address_gets_only_its_share_of_public_sockets() {
    let app = app_with_limits("max_public_sockets_per_address = 2").await;
    let public = "/api/v1/stations/small/public/live";
    let mut first = connect_from(&app, [127, 0, 0, 2], public).await;
    let mut second = connect_from(&app, [127, 0, 0, 2], public).await;
    next_doc(&mut first).await;
    next_doc(&mut second).await;
    let mut third = connect_from(&app, [127, 0, 0, 2], public).await;
    let (code, reason) = close_frame(&mut third).await.unwrap();
    assert_eq!(code, 1013);
    assert!(reason.contains("this address"), "{reason}");
    let mut elsewhere = connect_from(&app, [127, 0, 0, 3], public).await;
    assert_eq!(next_doc(&mut elsewhere).await["station"], "small");
}

#[tokio::test]
async fn a_public_socket_with_a_bad_token_is_refused_not_counted_as_anonymous() {
    let app = app_with_limits("").await;
    let refused = connect_with_origin(
        &app,
        "/api/v1/stations/small/public/live?access_token=nope",
        None,
    )
    .await;
    assert!(
        matches!(refused, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 401)
    );
}

#[tokio::test]
async fn sockets_take_only_tiny_messages_and_never_compress() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = app_with_limits("").await;
    let mut request = app
        .ws_url("/api/v1/stations/small/public/live")
        .into_client_request()
        .unwrap();
    // A client offering compression is answered without it.
    request.headers_mut().insert(
        "Sec-WebSocket-Extensions",
        "permessage-deflate".parse().unwrap(),
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert!(response.headers().get("sec-websocket-extensions").is_none());
    crate::helpers::next_doc(&mut ws).await;
    // Pongs and tiny control messages are all a client sends; 8 KiB ends the connection.
    ws.send(Message::Text("x".repeat(8 * 1024).into()))
        .await
        .unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "an oversized message closes the socket");
}
