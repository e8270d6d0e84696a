//! Reading stations: the directory for the public page's drop-downs, full and public documents.

use serde_json::{Value, json};

use crate::helpers::{TestApp, check_in};

#[tokio::test]
async fn the_directory_lists_districts_stations_services_and_hours_without_a_token() {
    let app = TestApp::spawn().await;
    let (_, dir) = app.get_as("/api/v1/stations", None).await;
    let districts = dir["districts"].as_array().unwrap();
    assert_eq!(districts.len(), 2);
    assert_eq!(districts[0]["id"], "oslo");
    let small = &districts[0]["stations"][0];
    assert_eq!(small["id"], "small");
    assert_eq!(small["services"][0]["id"], "passport");
    assert_eq!(small["services"][0]["name_en"], "Passport");
    assert_eq!(
        small["services"][0]["week"][0],
        json!({"day": "mon", "ranges": ["00:00-24:00"]})
    );
    assert_eq!(small["summary"]["cap"], 3);
    assert_eq!(small["summary"]["sign"], "enter");
    assert_eq!(districts[1]["stations"][0]["id"], "bergen");
}

#[tokio::test]
async fn the_full_document_has_every_field_a_guard_needs() {
    let app = TestApp::spawn().await;
    let pair = json!({"kind": "check_in", "service": "passport", "party_size": 2});
    let events = [
        ("a", pair.clone()),
        ("b", pair),
        ("c", json!({"kind": "call", "desk": "1"})),
    ];
    app.post_events("small-desk", "small", events).await;
    let s = app.status("small").await;
    for field in [
        "station",
        "name",
        "district",
        "seq",
        "open",
        "headcount",
        "cap",
        "cap_basis",
        "outside",
        "inside",
        "please_enter",
        "calls",
    ] {
        assert!(s.get(field).is_some(), "missing {field}: {s}");
    }
    assert_eq!(s["station"], "small");
    assert_eq!(s["district"], "oslo");
    assert_eq!(s["open"], true);
    assert_eq!(s["cap_basis"]["area_cap"], 3);
    assert_eq!(s["cap_basis"]["seat_cap"], Value::Null);
    assert_eq!(s["cap_basis"]["distancing_m"], 2.0);
    assert_eq!(s["outside"][0]["ticket"], "P002");
    assert_eq!(s["outside"][0]["position"], 1);
    assert_eq!(s["inside"]["passport"][0]["desk"], "1");
    assert_eq!(s["calls"][0]["ticket"], "P001");
    assert_eq!(s["calls"][0]["desk"], "1");
    assert_eq!(s["queue_line_places"], 4);
}

#[tokio::test]
async fn a_station_with_chairs_is_capped_by_the_chairs_usable_at_the_distance() {
    let app = TestApp::spawn().await;
    // Eight chairs in a row at 0.55 m span 3.85 m, so at 2 m no three of them can be used:
    // 2 chairs, although the 40 m² floor would allow 10.
    let s = app.status("bergen").await;
    assert_eq!(s["cap"], 2);
    assert_eq!(s["cap_basis"]["seat_cap"], 2);
    assert_eq!(s["cap_basis"]["area_cap"], 10);
    assert_eq!(s["cap_basis"]["limited_by"], "seats");
}

#[tokio::test]
async fn the_public_document_has_counts_tickets_and_calls_only() {
    let app = TestApp::spawn().await;
    let events = [
        (
            "a",
            json!({"kind": "check_in", "service": "passport", "party_size": 3, "appointment": "SECRET-REF"}),
        ),
        (
            "b",
            json!({"kind": "check_in", "service": "residence", "appointment": "SECRET-REF-2"}),
        ),
        ("c", json!({"kind": "call", "desk": "4"})),
    ];
    app.post_events("small-desk", "small", events).await;
    let text = app.get_text("/api/v1/stations/small/public").await;
    assert!(!text.contains("SECRET-REF"));
    let p: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        p["outside"],
        json!([{"ticket": "U001", "party_size": 1, "position": 1, "expected_enter_min": null, "remote": false, "booked": false}])
    );
    assert_eq!(p["calls"][0]["ticket"], "P001");
    assert_eq!(p["calls"][0]["desk"], "4");
    assert_eq!(p["headcount"], 3);
    assert!(p.get("inside").is_none());
    assert!(p.get("cap_basis").is_none());
}

#[tokio::test]
async fn healthz_answers_once_the_log_is_replayed() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["stations"], 4);
}

#[tokio::test]
async fn the_pages_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let r = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("/assets/public.js"));
    let r = app
        .client
        .get(app.url("/assets/public.js"))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("/public/live"));
}

#[tokio::test]
async fn me_tells_a_page_who_the_token_is_and_what_it_covers() {
    let app = TestApp::spawn().await;
    let (status, me) = app.get_as("/api/v1/me", Some("oslo-guard-token")).await;
    assert_eq!(status, 200);
    assert_eq!(me["device"], "oslo-guard");
    assert_eq!(me["role"], "guard");
    let ids: Vec<&str> = me["stations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["small", "big", "closed"]);
    let (_, desk) = app.get_as("/api/v1/me", Some("bergen-desk-token")).await;
    assert_eq!(desk["role"], "terminal");
    assert_eq!(desk["stations"][0]["id"], "bergen");
    assert_eq!(desk["stations"].as_array().unwrap().len(), 1);
    let (_, display) = app.get_as("/api/v1/me", Some("small-display-token")).await;
    assert_eq!(display["stations"], json!([]));
    assert_eq!(app.get_as("/api/v1/me", None).await.0, 401);
    assert_eq!(app.get_as("/api/v1/me", Some("nope")).await.0, 401);
}

#[tokio::test]
async fn history_shows_the_last_two_hours_to_guards_only() {
    let app = TestApp::spawn().await;
    app.check_in_passports("small-desk", "small", "h", 4).await;
    let (status, h) = app
        .get_as("/api/v1/stations/small/history", Some("oslo-guard-token"))
        .await;
    assert_eq!(status, 200, "{h}");
    assert_eq!(h["bucket_s"], 10);
    let last = h["points"].as_array().unwrap().last().unwrap().clone();
    // Four check-ins within seconds: one bucket, holding the latest state (3 inside, 1 outside).
    assert_eq!(last["headcount"], 3);
    assert_eq!(last["cap"], 3);
    assert_eq!(last["outside"], 1);
    assert_eq!(
        app.get_as("/api/v1/stations/small/history", Some("vest-guard-token"))
            .await
            .0,
        403
    );
    assert_eq!(
        app.get_as("/api/v1/stations/small/history", None).await.0,
        401
    );
    assert_eq!(
        app.get_as("/api/v1/stations/nowhere/history", Some("all-guard-token"))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn the_room_plan_names_the_seats_the_solver_chose() {
    let app = TestApp::spawn().await;
    let (status, room) = app.get_as("/api/v1/stations/bergen/room", None).await;
    assert_eq!(status, 200);
    assert_eq!(room["seats"].as_array().unwrap().len(), 8);
    // Eight chairs 0.55 m apart in a row, 2 m rule: every fourth chair, 0, 4 (3.85 m span).
    assert_eq!(room["usable_seats"], json!([0, 4]));
    assert_eq!(room["seat_cap"], 2);
    assert_eq!(room["cap"], 2);
    assert_eq!(room["limited_by"], "seats");
    let (_, small) = app.get_as("/api/v1/stations/small/room", None).await;
    assert_eq!(small["seats"], Value::Null);
    assert_eq!(small["area_cap"], 3);
}

#[tokio::test]
async fn every_page_is_served_and_unknown_stations_are_404() {
    let app = TestApp::spawn().await;
    for (path, marker) in [
        ("/", "/assets/public.js"),
        ("/dashboard", "/assets/dashboard.js"),
        ("/display/small", "/assets/display.js"),
        ("/terminal/small", "/assets/terminal.js"),
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            r.text().await.unwrap().contains(marker),
            "{path} loads {marker}"
        );
    }
    for asset in [
        "app.css",
        "common.js",
        "dashboard.css",
        "display.js",
        "terminal.css",
    ] {
        let r = app
            .client
            .get(app.url(&format!("/assets/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{asset}");
    }
    // A person typed the address: a 404 page that says so (see browser/public.rs), not JSON.
    for path in ["/display/nowhere", "/terminal/nowhere"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        assert!(r.text().await.unwrap().contains("/assets/missing.js"));
    }
}

#[tokio::test]
async fn wait_estimates_appear_once_a_desk_has_served_someone() {
    let app = TestApp::spawn().await;
    let public = "/api/v1/stations/big/public";
    app.post_events("big-desk", "big", [("w1", check_in("passport"))])
        .await;
    let (_, doc) = app.get_as(public, None).await;
    assert_eq!(
        doc["services"][0]["estimated_wait_min"],
        Value::Null,
        "honest: nothing measured"
    );
    let events = [
        ("w2", json!({"kind": "call", "desk": "1"})),
        ("w3", json!({"kind": "check_out", "ticket": "P001"})),
        ("w4", check_in("passport")),
    ];
    app.post_events("big-desk", "big", events).await;
    let (_, doc) = app.get_as(public, None).await;
    // One desk, about a second per visitor, one party ahead: rounds up to a minute.
    assert_eq!(doc["services"][0]["estimated_wait_min"], 1, "{doc}");
}
