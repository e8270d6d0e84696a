//! A national booking system pushing bookings by its own reference (`PUT`, `GET`, `DELETE
//! /api/v1/stations/{s}/bookings/{external_ref}`), and a terminal checking booked parties in by
//! code, by reference and by id.

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use lobbywatch::clock::Clock;
use lobbywatch::config::Config;
use lobbywatch::domain::booking::BookingId;
use lobbywatch::domain::event::Event;
use lobbywatch::domain::ticket_link::LinkCode;
use lobbywatch::domain::{DeviceId, PartySize, ServiceId, StationId};
use serde_json::{Value, json};

use crate::backend::logged_count;
use crate::helpers::{TestApp, oslo_time, sha256_hex, test_config_toml};

/// The test config with `small`'s passport bookable (15-minute slots, two per slot) and two
/// integrations: `oslo-booking` for the Oslo district, `vest-booking` for Vest.
pub fn booking_config() -> Config {
    let mut toml = test_config_toml();
    let passport = "prefix = \"P\"\nhours = ";
    let at = toml.find(passport).expect("small's passport");
    let end = at + toml[at..].find('\n').unwrap() + 1;
    let end = end + toml[end..].find('\n').unwrap() + 1;
    toml.insert_str(
        end,
        "\n[stations.services.booking]\nslot_min = 15\nbookable_desks = 2\n",
    );
    for (id, district) in [("oslo-booking", "oslo"), ("vest-booking", "vest")] {
        toml.push_str(&format!(
            "\n[[devices]]\nid = \"{id}\"\nrole = \"integration\"\ndistricts = [\"{district}\"]\ntoken_sha256 = \"{}\"\n",
            sha256_hex(&format!("{id}-token"))
        ));
    }
    Config::parse(&toml, "bookings.toml").expect("the booking config is valid")
}

/// Wednesday 10 June 2026, 09:00 in Oslo: every test's "now".
fn now() -> DateTime<Utc> {
    oslo_time(2026, 6, 10, 9)
}

async fn spawn() -> TestApp {
    TestApp::spawn_on_clock(booking_config(), Clock::starting_at(now())).await
}

/// `slot` as the API writes it.
fn rfc3339(slot: DateTime<Utc>) -> String {
    slot.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A push body for a passport party of `size` at `slot`.
fn push_body(slot: DateTime<Utc>, size: u32) -> Value {
    json!({"service": "passport", "slot": rfc3339(slot), "party_size": size})
}

/// `method` on the booking `reference` at `station` as `device` (token `<device>-token`, or none).
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    device: Option<&str>,
    station: &str,
    reference: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let url = app.url(&format!("/api/v1/stations/{station}/bookings/{reference}"));
    let mut req = app.client.request(method, url);
    if let Some(d) = device {
        req = req.bearer_auth(format!("{d}-token"));
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn push(app: &TestApp, reference: &str, body: &Value) -> (u16, Value) {
    let method = reqwest::Method::PUT;
    call(
        app,
        method,
        Some("oslo-booking"),
        "small",
        reference,
        Some(body),
    )
    .await
}

async fn cancel(app: &TestApp, reference: &str) -> (u16, Value) {
    let method = reqwest::Method::DELETE;
    call(app, method, Some("oslo-booking"), "small", reference, None).await
}

/// How many more bookings `small`'s passport slot at `slot` takes, if it is listed.
async fn free_at(app: &TestApp, slot: DateTime<Utc>) -> Option<u64> {
    let path = "/api/v1/stations/small/slots?service=passport&from=2026-06-10&to=2026-06-10";
    let (status, body) = app.get_as(path, None).await;
    assert_eq!(status, 200, "{body}");
    body["slots"]
        .as_array()?
        .iter()
        .find(|s| s["start"] == rfc3339(slot))
        .and_then(|s| s["free"].as_u64())
}

/// The station's last logged sequence number.
fn seq(app: &TestApp, station: &str) -> u64 {
    let id = StationId::parse(station).unwrap();
    let slot = app.state.station(&id).expect("a station");
    slot.engine.lock().unwrap().seq()
}

#[tokio::test]
async fn a_push_is_made_once_and_an_identical_push_logs_nothing() {
    let app = spawn().await;
    let slot = oslo_time(2026, 6, 10, 11);
    let (status, made) = push(&app, "NB-2026.0001", &push_body(slot, 3)).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        made,
        json!({
            "id": made["id"],
            "external_ref": "NB-2026.0001",
            "service": "passport",
            "slot": rfc3339(slot),
            "slot_end": rfc3339(slot + chrono::Duration::minutes(15)),
            "party_size": 3,
            "status": "booked",
        })
    );
    let after_made = seq(&app, "small");
    let (status, again) = push(&app, "NB-2026.0001", &push_body(slot, 3)).await;
    assert_eq!((status, &again), (200, &made));
    assert_eq!(
        seq(&app, "small"),
        after_made,
        "an identical push logs nothing"
    );

    let (status, read) = call(
        &app,
        reqwest::Method::GET,
        Some("oslo-booking"),
        "small",
        "NB-2026.0001",
        None,
    )
    .await;
    assert_eq!((status, read), (200, made));
    let data = app.stop().await;
    assert_eq!(logged_count(data.path(), "small", "booking_made"), 1);
}

#[tokio::test]
async fn identical_pushes_at_once_log_one_booking() {
    let app = spawn().await;
    let body = push_body(oslo_time(2026, 6, 10, 12), 1);
    let answers = join_all((0..6).map(|_| push(&app, "NB-race", &body))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 201], "{answers:?}");
    let data = app.stop().await;
    assert_eq!(logged_count(data.path(), "small", "booking_made"), 1);
}

#[tokio::test]
async fn a_push_with_another_slot_moves_the_booking_and_one_with_another_party_is_refused() {
    let app = spawn().await;
    let (first, later) = (oslo_time(2026, 6, 10, 11), oslo_time(2026, 6, 11, 14));
    assert_eq!(push(&app, "NB-7", &push_body(first, 2)).await.0, 201);
    let (status, moved) = push(&app, "NB-7", &push_body(later, 2)).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["slot"], rfc3339(later));

    let (status, problem) = push(&app, "NB-7", &push_body(later, 4)).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["type"], "/problems/booking-differs");
    assert!(problem["detail"].as_str().unwrap().contains("party size"));
    let other_service = json!({"service": "residence", "slot": rfc3339(later), "party_size": 2});
    let (status, problem) = push(&app, "NB-7", &other_service).await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (409, Some("/problems/booking-differs"))
    );

    // Not a slot of the service: the engine's refusal, as problem+json.
    let (status, problem) = push(
        &app,
        "NB-7",
        &push_body(later + chrono::Duration::minutes(7), 2),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "booking_refused.not_a_slot");

    let data = app.stop().await;
    assert_eq!(logged_count(data.path(), "small", "booking_moved"), 1);
}

#[tokio::test]
async fn a_cancel_is_logged_once_and_frees_the_slot_later() {
    let app = spawn().await;
    let slot = oslo_time(2026, 6, 10, 11);
    push(&app, "NB-c", &push_body(slot, 1)).await;
    assert_eq!(free_at(&app, slot).await, Some(1));
    let (status, cancelled) = cancel(&app, "NB-c").await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    let (status, again) = cancel(&app, "NB-c").await;
    assert_eq!((status, &again), (200, &cancelled));

    // A cancelled booking cannot come back by a push: the engine says why.
    let (status, problem) = push(&app, "NB-c", &push_body(slot, 1)).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "booking_state.cancelled");

    let (status, problem) = cancel(&app, "NB-never").await;
    assert_eq!(status, 404, "{problem}");

    // Past the longest release delay the slot is whole again.
    app.state
        .clock
        .advance(chrono::Duration::seconds(5 * 60 + 1));
    assert_eq!(free_at(&app, slot).await, Some(2));
    let data = app.stop().await;
    assert_eq!(logged_count(data.path(), "small", "booking_cancelled"), 1);
}

#[tokio::test]
async fn only_an_integration_of_the_stations_district_may_push() {
    let app = spawn().await;
    let before = seq(&app, "small");
    let body = push_body(oslo_time(2026, 6, 10, 11), 1);
    let put = reqwest::Method::PUT;
    for (device, expected) in [
        (None, 401),
        (Some("small-desk"), 403),
        (Some("oslo-guard"), 403),
        (Some("admin"), 403),
        (Some("vest-booking"), 403),
    ] {
        let (status, problem) = call(&app, put.clone(), device, "small", "NB-1", Some(&body)).await;
        assert_eq!(status, expected, "{device:?}: {problem}");
    }
    // The integration itself reads no status documents and posts no events.
    let (status, _) = app
        .get_as("/api/v1/stations/small", Some("oslo-booking-token"))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_event_json(
            "oslo-booking",
            "small",
            "k1",
            &json!({"kind": "cleaned", "surface": "counter"}),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(seq(&app, "small"), before, "nothing refused was logged");
}

#[tokio::test]
async fn a_malformed_reference_is_refused_naming_it() {
    let app = spawn().await;
    let body = push_body(oslo_time(2026, 6, 10, 11), 1);
    let long = "x".repeat(65);
    for bad in ["has%20space", "slash%2Fin", "ø", long.as_str()] {
        let (status, problem) = push(&app, bad, &body).await;
        assert_eq!(status, 422, "{bad}: {problem}");
        assert_eq!(problem["field"], "external_ref", "{bad}");
    }
}

/// A booking with a code, made as the public booking route does (the code hashed into the log).
async fn booking_with_code(app: &TestApp, slot: DateTime<Utc>) -> LinkCode {
    let code = LinkCode::generate();
    let event = Event::BookingMade {
        booking: BookingId::of_code(&code),
        service: ServiceId::parse("passport").unwrap(),
        slot,
        party_size: PartySize::default(),
        code: Some(code.hash()),
        external_ref: None,
        browser: None,
    };
    let station = StationId::parse("small").unwrap();
    let public = DeviceId::parse("public").unwrap();
    lobbywatch::ingest::apply_system(&app.state, &station, &public, |_, _| Some(event.clone()))
        .await
        .expect("the booking is made");
    code
}

#[tokio::test]
async fn a_terminal_checks_a_booking_in_by_code_reference_or_id_once() {
    let app = spawn().await;
    let slot = oslo_time(2026, 6, 10, 9) + chrono::Duration::minutes(15);
    let code = booking_with_code(&app, slot).await;
    push(&app, "NB-ref", &push_body(slot, 2)).await;
    let (_, by_id) = push(
        &app,
        "NB-id",
        &push_body(slot + chrono::Duration::minutes(15), 1),
    )
    .await;
    let id = by_id["id"].as_str().unwrap().to_owned();

    let url = format!("{}/b/{}", app.base, code.as_str());
    let arrivals = [
        (
            "by-code",
            json!({"kind": "booking_arrived", "code": url}),
            BookingId::of_code(&code).to_string(),
        ),
        (
            "by-ref",
            json!({"kind": "booking_arrived", "external_ref": "NB-ref"}),
            BookingId::of_external(
                &lobbywatch::domain::booking::ExternalRef::parse("NB-ref").unwrap(),
            )
            .to_string(),
        ),
        (
            "by-id",
            json!({"kind": "booking_arrived", "booking": id}),
            id.clone(),
        ),
    ];
    for (key, body, booking) in &arrivals {
        let (status, outcome) = app.post_event_json("small-desk", "small", key, body).await;
        assert_eq!(status, 201, "{key}: {outcome}");
        assert_eq!(outcome["booking"], booking.as_str(), "{key}: {outcome}");
        assert!(
            outcome["ticket"].as_str().unwrap().starts_with('P'),
            "{key}: {outcome}"
        );

        // A retry with the same key replays the answer; a new key finds it arrived.
        let r = app.post_event("small-desk", "small", key, body).await;
        assert_eq!(r.headers()["idempotent-replayed"], "true");
        assert_eq!(r.json::<Value>().await.unwrap(), outcome);
        let (status, problem) = app
            .post_event_json("small-desk", "small", &format!("{key}-again"), body)
            .await;
        assert_eq!(status, 409, "{key}: {problem}");
        assert_eq!(problem["type"], "/problems/booking-state");
        assert_eq!(problem["code"], "booking_state.arrived");
    }
    let (_, read) = call(
        &app,
        reqwest::Method::GET,
        Some("oslo-booking"),
        "small",
        "NB-ref",
        None,
    )
    .await;
    assert_eq!(read["status"], "arrived");
    let data = app.stop().await;
    assert_eq!(logged_count(data.path(), "small", "booking_arrived"), 3);
}
