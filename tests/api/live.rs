//! Live status over WebSockets: the current document at once, a new one after each change.

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{TestApp, check_in, next_doc};

#[tokio::test]
async fn the_live_socket_delivers_a_status_within_a_second_of_a_check_in() {
    let app = TestApp::spawn().await;
    let mut request = app
        .ws_url("/api/v1/stations/small/live")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Authorization", "Bearer small-desk-token".parse().unwrap());
    let (mut ws, _) = connect_async(request).await.unwrap();
    let first = next_doc(&mut ws).await;
    assert_eq!(first["station"], "small");
    assert_eq!(first["seq"], 0);

    let sent = Instant::now();
    let booked = json!({"kind": "check_in", "service": "passport", "appointment": "BK-1"});
    let r = app
        .post_event("small-desk", "small", "live-1", &booked)
        .await;
    assert_eq!(r.status(), 201);
    let doc = next_doc(&mut ws).await;
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "took {:?}",
        sent.elapsed()
    );
    assert_eq!(doc["seq"], 1);
    assert_eq!(doc["headcount"], 1);
    assert_eq!(doc["inside"]["passport"][0]["ticket"], "P001");
    assert_eq!(doc["inside"]["passport"][0]["appointment"], "BK-1");
}

#[tokio::test]
async fn the_public_socket_needs_no_token_and_carries_no_personal_data() {
    let app = TestApp::spawn().await;
    let (mut ws, _) = connect_async(app.ws_url("/api/v1/stations/small/public/live"))
        .await
        .unwrap();
    assert_eq!(next_doc(&mut ws).await["seq"], 0);
    let canary =
        json!({"kind": "check_in", "service": "passport", "appointment": "CANARY-APPT-777"});
    app.post_events("small-desk", "small", [("p-1", canary)])
        .await;
    let doc = next_doc(&mut ws).await;
    assert_eq!(doc["seq"], 1);
    assert_eq!(doc["headcount"], 1);
    assert!(!doc.to_string().contains("CANARY-APPT-777"), "{doc}");
    let public = app.get_text("/api/v1/stations/small/public").await;
    assert!(!public.contains("CANARY-APPT-777"));
}

#[tokio::test]
async fn browsers_may_pass_the_token_as_a_query_parameter() {
    let app = TestApp::spawn().await;
    let (mut ws, _) =
        connect_async(app.ws_url("/api/v1/stations/small/live?access_token=oslo-guard-token"))
            .await
            .unwrap();
    assert_eq!(next_doc(&mut ws).await["station"], "small");
    let refused =
        connect_async(app.ws_url("/api/v1/stations/small/live?access_token=vest-guard-token"))
            .await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("expected a 403, got {other:?}"),
    }
    let refused = connect_async(app.ws_url("/api/v1/stations/small/live")).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("expected a 401, got {other:?}"),
    }
}

#[tokio::test]
async fn a_guard_watches_every_station_of_a_district_on_one_socket() {
    let app = TestApp::spawn().await;
    let (mut ws, _) =
        connect_async(app.ws_url("/api/v1/live?district=oslo&access_token=oslo-guard-token"))
            .await
            .unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(
            next_doc(&mut ws).await["station"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    seen.sort();
    assert_eq!(seen, ["big", "closed", "small"]);
    app.post_events("big-desk", "big", [("g-1", check_in("passport"))])
        .await;
    let doc = next_doc(&mut ws).await;
    assert_eq!(
        (doc["station"].as_str(), doc["seq"].as_u64()),
        (Some("big"), Some(1))
    );

    // A list of stations, and a station outside the token's scope.
    let (mut ws, _) =
        connect_async(app.ws_url("/api/v1/live?stations=small,big&access_token=oslo-guard-token"))
            .await
            .unwrap();
    next_doc(&mut ws).await;
    next_doc(&mut ws).await;
    let refused = connect_async(
        app.ws_url("/api/v1/live?stations=small,bergen&access_token=oslo-guard-token"),
    )
    .await;
    assert!(
        matches!(refused, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 403)
    );
}

#[tokio::test]
async fn a_terminal_may_watch_its_own_station_on_the_multi_station_socket_and_no_other() {
    let app = TestApp::spawn().await;
    let (mut ws, _) = connect_async(app.ws_url("/api/v1/live?access_token=small-desk-token"))
        .await
        .unwrap();
    assert_eq!(next_doc(&mut ws).await["station"], "small");
    let refused =
        connect_async(app.ws_url("/api/v1/live?stations=small,big&access_token=small-desk-token"))
            .await;
    assert!(
        matches!(refused, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 403)
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_does_not_hold_up_the_others() {
    let app = TestApp::spawn().await;
    // A stalled client: connects and never reads again.
    let (_stalled, _) = connect_async(app.ws_url("/api/v1/stations/big/public/live"))
        .await
        .unwrap();
    let (mut healthy, _) = connect_async(app.ws_url("/api/v1/stations/big/public/live"))
        .await
        .unwrap();
    next_doc(&mut healthy).await;
    let cleanings = (0..200).map(|i| {
        let surface = format!("surface {}", i % 7);
        (
            format!("s-{i}"),
            json!({"kind": "cleaned", "surface": surface}),
        )
    });
    app.post_events("big-desk", "big", cleanings).await;
    // The healthy client catches up to the newest document; it may skip intermediate ones.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let doc = next_doc(&mut healthy).await;
        if doc["seq"] == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the healthy client never saw seq 200"
        );
    }
}

#[tokio::test]
async fn the_server_closes_live_sockets_with_1001_on_shutdown() {
    let app = TestApp::spawn().await;
    let (mut ws, _) = connect_async(app.ws_url("/api/v1/stations/small/public/live"))
        .await
        .unwrap();
    next_doc(&mut ws).await;
    let _ = ws
        .send(tokio_tungstenite::tungstenite::Message::Pong(
            Default::default(),
        ))
        .await;
    app.stop().await;
    use futures_util::StreamExt;
    let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap();
    match msg {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1001);
        }
        other => panic!("expected a close frame with 1001, got {other:?}"),
    }
}

/// Reads `ws` until `station`'s document reaches `seq`, checking that every document of it
/// lists at most 200 parties outside: that last document.
async fn follow_to(
    mut ws: crate::helpers::Ws,
    station: &str,
    seq: u64,
) -> (crate::helpers::Ws, serde_json::Value) {
    loop {
        let doc = next_doc(&mut ws).await;
        if doc["station"] != station {
            continue;
        }
        let listed = doc["outside"].as_array().unwrap().len();
        assert!(listed <= 200, "{listed} parties listed");
        if doc["seq"].as_u64() == Some(seq) {
            return (ws, doc);
        }
    }
}

#[tokio::test]
async fn a_queue_of_thousands_outside_never_cuts_off_a_guards_stream_or_a_station_socket() {
    use futures_util::StreamExt;
    let toml = format!(
        "{}\n[limits]\nevents_per_minute_per_device = 100000000\n",
        crate::helpers::test_config_toml()
    );
    let app =
        TestApp::spawn_with_config(lobbywatch::config::Config::parse(&toml, "t.toml").unwrap())
            .await;
    let open = |path: &str| {
        let url = app.ws_url(path);
        async move { connect_async(url).await.unwrap().0 }
    };
    let mut guard = open("/api/v1/live?district=oslo&access_token=oslo-guard-token").await;
    for _ in 0..3 {
        next_doc(&mut guard).await;
    }
    let mut station = open("/api/v1/stations/small/live?access_token=small-desk-token").await;
    let mut public = open("/api/v1/stations/small/public/live").await;
    next_doc(&mut station).await;
    next_doc(&mut public).await;
    // Every socket is read all along, as a page would, so none is closed for not reading.
    const N: u64 = 2_000;
    let readers = [guard, station, public].map(|ws| tokio::spawn(follow_to(ws, "small", N)));
    futures_util::stream::iter(0..N)
        .map(|i| {
            let booked = json!({"kind": "check_in", "service": "passport",
                                "appointment": format!("{i:0>64}")});
            let app = &app;
            async move {
                let r = app
                    .post_event("small-desk", "small", &format!("q-{i}"), &booked)
                    .await;
                assert_eq!(r.status(), 201);
            }
        })
        .buffer_unordered(16)
        .collect::<()>()
        .await;
    let mut last = Vec::new();
    for reader in readers {
        last.push(
            tokio::time::timeout(Duration::from_secs(60), reader)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    // At cap 3 with parties of one, three are inside and the rest wait.
    for (_, doc) in &last {
        assert_eq!(doc["outside"].as_array().unwrap().len(), 200);
        assert_eq!(doc["outside_total"], N - 3);
        assert_eq!(doc["outside"][199]["position"], 200);
    }
    assert_eq!(last[0].1["outside_people"], N - 3);
    // The guard's stream is still open and still follows the other stations.
    let (mut guard, _) = last.remove(0);
    app.post_events("big-desk", "big", [("b-1", check_in("passport"))])
        .await;
    let doc = next_doc(&mut guard).await;
    assert_eq!(
        (doc["station"].as_str(), doc["seq"].as_u64()),
        (Some("big"), Some(1))
    );
}
