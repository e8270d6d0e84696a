//! Daily reports and long-range history, computed from the log.

use chrono::TimeDelta;
use lobbywatch::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{TestApp, check_in, find, oslo_time, test_config};

/// A morning at `small` (cap 3) on Wednesday 25 November 2026, on a clock the test moves:
/// at cap 10:00–10:35, over cap 10:35–10:40 (a guard's +1), one call after 10 minutes, a no-show.
async fn a_morning() -> TestApp {
    let clock = Clock::starting_at(oslo_time(2026, 11, 25, 10));
    let app = TestApp::spawn_on_clock(test_config(), clock.clone()).await;
    let (desk, guard) = ("small-desk", "oslo-guard");
    let pair = json!({"kind": "check_in", "service": "passport", "party_size": 2});
    app.post_events(desk, "small", [("a", check_in("passport")), ("b", pair)])
        .await;
    clock.advance(TimeDelta::minutes(10));
    let call = json!({"kind": "call", "desk": "1"});
    app.post_events(desk, "small", [("c", call)]).await;
    clock.advance(TimeDelta::minutes(5));
    let out = json!({"kind": "check_out", "ticket": "P001"});
    app.post_events(desk, "small", [("d", out), ("e", check_in("passport"))])
        .await;
    clock.advance(TimeDelta::minutes(20));
    let child = json!({"kind": "correction", "delta": 1, "reason": "child"});
    app.post_events(guard, "small", [("f", child)]).await;
    clock.advance(TimeDelta::minutes(5));
    let child_left = json!({"kind": "correction", "delta": -1, "reason": "child left"});
    app.post_events(guard, "small", [("g", child_left)]).await;
    let events = [
        ("h", json!({"kind": "no_show", "ticket": "P003"})),
        ("i", json!({"kind": "cleaned", "surface": "counter"})),
    ];
    app.post_events(desk, "small", events).await;
    app
}

#[tokio::test]
async fn the_daily_report_counts_the_day_from_the_log() {
    let app = a_morning().await;
    let oslo = "/api/v1/reports/daily?date=2026-11-25&district=oslo";
    let (status, report) = app.get_as(oslo, Some("oslo-guard-token")).await;
    assert_eq!(status, 200);
    let small = find(&report["stations"], "station", "small");
    assert_eq!(small["max_occupancy"], 4);
    assert_eq!(small["minutes_at_cap"], 35.0, "{small}");
    assert_eq!(small["minutes_over_cap"], 5.0, "{small}");
    assert_eq!(small["cleanings"], 1);
    let passport = &small["services"][0];
    assert_eq!(passport["service"], "passport");
    assert_eq!(passport["visitors"], 4);
    assert_eq!(passport["parties"], 3);
    assert_eq!(passport["called"], 1);
    assert_eq!(passport["no_shows"], 1);
    assert_eq!(passport["wait_p50_min"], 10.0);
    assert_eq!(
        small["services"][1]["wait_p50_min"],
        Value::Null,
        "nobody waited for residence"
    );

    // The same as CSV, by Accept header or by format=csv.
    for (path, accept) in [
        (
            "/api/v1/reports/daily?date=2026-11-25&district=oslo",
            "text/csv",
        ),
        (
            "/api/v1/reports/daily?date=2026-11-25&district=oslo&format=csv",
            "*/*",
        ),
    ] {
        let r = app
            .client
            .get(app.url(path))
            .bearer_auth("oslo-guard-token")
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = r.text().await.unwrap();
        let mut lines = csv.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("date,district,station,service,visitors")
        );
        assert!(
            csv.contains("2026-11-25,oslo,small,passport,4,3,1,1,10,10,4,35,5,1,0,0"),
            "{csv}"
        );
    }

    // Scope: a terminal may not; another district's guard is forbidden these stations (they
    // exist: 403, not 404), whether asked by district or by station; unknown ones are 404.
    let today = "/api/v1/reports/daily?district=oslo";
    assert_eq!(app.get_as(today, Some("small-desk-token")).await.0, 403);
    assert_eq!(app.get_as(today, Some("vest-guard-token")).await.0, 403);
    let small = "/api/v1/reports/daily?station=small";
    assert_eq!(app.get_as(small, Some("vest-guard-token")).await.0, 403);
    let nowhere = "/api/v1/reports/daily?station=nowhere";
    assert_eq!(app.get_as(nowhere, Some("oslo-guard-token")).await.0, 404);
    let norwegian_date = "/api/v1/reports/daily?date=25.11.2026";
    assert_eq!(
        app.get_as(norwegian_date, Some("oslo-guard-token")).await.0,
        422
    );
}

#[tokio::test]
async fn history_over_any_range_is_replayed_from_the_log_at_the_asked_step() {
    let app = a_morning().await;
    let morning =
        "/api/v1/stations/small/history?from=2026-11-25T09:00:00Z&to=2026-11-25T09:45:00Z&step=5m";
    let (status, h) = app.get_as(morning, Some("oslo-guard-token")).await;
    assert_eq!(status, 200);
    assert_eq!(h["step_s"], 300);
    let headcounts: Vec<u64> = h["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["headcount"].as_u64().unwrap())
        .collect();
    // 10:00 (before the first check-in), 10:05 … 10:35 at 3, 10:40 at 4 (the +1 at 10:35),
    // 10:45 after the −1 and the no-show: 2.
    assert_eq!(headcounts, [0, 3, 3, 3, 3, 3, 3, 3, 4]);
    for (query, field) in [
        ("from=2026-11-25T10:00:00Z&to=2026-11-25T09:00:00Z", "from"),
        ("from=yesterday", "from"),
        ("step=5parsecs", "step"),
        ("from=2026-11-01T00:00:00Z&to=2026-11-25T00:00:00Z", "to"),
        (
            "from=2026-11-24T00:00:00Z&to=2026-11-25T00:00:00Z&step=1s",
            "step",
        ),
    ] {
        let path = format!("/api/v1/stations/small/history?{query}");
        let (status, p) = app.get_as(&path, Some("oslo-guard-token")).await;
        assert_eq!(status, 422, "{query}");
        assert_eq!(p["field"], field, "{query}");
    }
}

/// The test config with `small`'s passport service bookable (15-minute slots, one desk).
fn bookable_small() -> lobbywatch::config::Config {
    let mut config = test_config();
    let small = config
        .stations
        .iter_mut()
        .find(|s| s.id.as_str() == "small")
        .unwrap();
    small.services[0].booking = Some(lobbywatch::config::ServiceBooking {
        slot_min: 15,
        bookable_desks: 1,
    });
    small.services[0].walk_in_quota = Some(20);
    config
}

/// Logs a booking made by an integration (the way the booking routes log one).
async fn log_booking(
    app: &TestApp,
    reference: &str,
    slot: chrono::DateTime<chrono::Utc>,
    size: u32,
) {
    use lobbywatch::domain::booking::{BookingId, ExternalRef};
    use lobbywatch::domain::{DeviceId, Event, PartySize, ServiceId, StationId};
    let external_ref = ExternalRef::parse(reference).unwrap();
    let event = Event::BookingMade {
        booking: BookingId::of_external(&external_ref),
        service: ServiceId::parse("passport").unwrap(),
        slot,
        party_size: PartySize::new(size).unwrap(),
        code: None,
        external_ref: Some(external_ref),
        browser: None,
    };
    let (station, device) = (
        StationId::parse("small").unwrap(),
        DeviceId::parse("admin").unwrap(),
    );
    let logged =
        lobbywatch::ingest::apply_system(&app.state, &station, &device, |_, _| Some(event.clone()))
            .await;
    assert!(matches!(logged, Ok(Some(_))), "the booking is logged");
}

/// Logs what the clock makes due at `small` now, as the ticker does.
async fn log_what_is_due(app: &TestApp) {
    use lobbywatch::domain::{DeviceId, StationId};
    let (station, service) = (StationId::parse("small").unwrap(), DeviceId::service());
    let due = |s: &lobbywatch::engine::Station, at| s.due(at);
    while lobbywatch::ingest::apply_system(&app.state, &station, &service, due)
        .await
        .unwrap()
        .is_some()
    {}
}

#[tokio::test]
async fn the_daily_report_counts_bookings_punctuality_walk_ins_and_held_room_minutes() {
    let clock = Clock::starting_at(oslo_time(2026, 11, 24, 12));
    let app = TestApp::spawn_on_clock(bookable_small(), clock.clone()).await;
    let ten = oslo_time(2026, 11, 25, 10);
    // Booked the day before: a pair at 10:00 and one at 10:15.
    log_booking(&app, "ref-1", ten, 2).await;
    log_booking(&app, "ref-2", ten + TimeDelta::minutes(15), 1).await;

    // 09:45 the pair is due: 2 of small's 3 places are held.
    clock.advance(ten - TimeDelta::minutes(15) - clock.now());
    log_what_is_due(&app).await;
    clock.advance(TimeDelta::minutes(1));
    app.post_events("small-desk", "small", [("w1", check_in("passport"))])
        .await;
    // 09:48 a walk-in that fits by headcount waits behind the held room …
    clock.advance(TimeDelta::minutes(2));
    app.post_events("small-desk", "small", [("w2", check_in("passport"))])
        .await;
    // … until the pair checks in 5 minutes early at 09:55: 7 minutes.
    clock.advance(TimeDelta::minutes(7));
    let pair = json!({"kind": "booking_arrived", "external_ref": "ref-1"});
    app.post_events("small-desk", "small", [("b1", pair)]).await;
    // 10:25 the single has not come: a no-show.
    clock.advance(TimeDelta::minutes(5));
    log_what_is_due(&app).await;
    clock.advance(TimeDelta::minutes(25));
    log_what_is_due(&app).await;

    let (status, report) = app
        .get_as(
            "/api/v1/reports/daily?date=2026-11-25&station=small",
            Some("oslo-guard-token"),
        )
        .await;
    assert_eq!(status, 200);
    let small = find(&report["stations"], "station", "small");
    assert_eq!(small["minutes_held_turned_away"], 7.0, "{small}");
    let booked = &small["services"][0]["bookings"];
    assert_eq!(booked["made"], 0, "made the day before: {booked}");
    assert_eq!(
        (booked["arrived"].as_u64(), booked["no_shows"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(booked["no_show_rate"], 0.5);
    assert_eq!(booked["punctuality_p50_min"], -5.0);
    assert_eq!(
        (
            booked["walk_ins"].as_u64(),
            booked["walk_in_quota"].as_u64()
        ),
        (Some(2), Some(20))
    );
    assert_eq!(booked["minutes_held_turned_away"], 7.0);

    let (_, day_before) = app
        .get_as(
            "/api/v1/reports/daily?date=2026-11-24&station=small",
            Some("oslo-guard-token"),
        )
        .await;
    let booked = &day_before["stations"][0]["services"][0]["bookings"];
    assert_eq!(
        (booked["made"].as_u64(), booked["arrived"].as_u64()),
        (Some(2), Some(0))
    );

    let csv = app
        .client
        .get(app.url("/api/v1/reports/daily?date=2026-11-25&station=small&format=csv"))
        .bearer_auth("oslo-guard-token")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",minutes_held_turned_away"),
        "{csv}"
    );
    assert!(csv.contains(",0,0,0,1,1,0.5,-5,-5,2,20,7\n"), "{csv}");
}
