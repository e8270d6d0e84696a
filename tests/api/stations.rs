//! Reading stations: the directory for the public page's drop-downs, full and public documents.

use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn the_directory_lists_districts_stations_services_and_hours_without_a_token() {
    let app = TestApp::spawn().await;
    let dir: Value = app
        .client
        .get(app.url("/api/v1/stations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    app.post_event(
        "small-desk",
        "small",
        "a",
        &json!({"kind": "check_in", "service": "passport", "party_size": 2}),
    )
    .await;
    app.post_event(
        "small-desk",
        "small",
        "b",
        &json!({"kind": "check_in", "service": "passport", "party_size": 2}),
    )
    .await;
    app.post_event(
        "small-desk",
        "small",
        "c",
        &json!({"kind": "call", "desk": "1"}),
    )
    .await;
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
    app.post_event("small-desk", "small", "a", &json!({"kind": "check_in", "service": "passport", "party_size": 3, "appointment": "SECRET-REF"})).await;
    app.post_event(
        "small-desk",
        "small",
        "b",
        &json!({"kind": "check_in", "service": "residence", "appointment": "SECRET-REF-2"}),
    )
    .await;
    app.post_event(
        "small-desk",
        "small",
        "c",
        &json!({"kind": "call", "desk": "4"}),
    )
    .await;
    let text = app
        .client
        .get(app.url("/api/v1/stations/small/public"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("SECRET-REF"));
    let p: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(p["outside"], json!(["U001"]));
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
