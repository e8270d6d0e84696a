//! The public's free slots (`GET /api/v1/stations/{s}/slots`) across holidays, dated exceptions
//! and daylight-saving changes, and a district's next free slots
//! (`GET /api/v1/districts/{d}/next-slots`).

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Oslo;
use lobbywatch::clock::Clock;
use lobbywatch::config::Config;
use serde_json::{Value, json};

use crate::helpers::{TestApp, sha256_hex};

/// Two bookable stations in Oslo and one that takes no bookings, with Norway's holidays:
/// - `day` books passports 09:00–11:00 every day in hour slots, two per slot, seven days ahead,
///   closed on 16 May 2026 and short (10:00–11:00) on 13 May;
/// - `night` books passports 01:00–04:00 every day in half-hour slots, one per slot: its hours
///   cross the hour a daylight-saving change skips or repeats;
/// - `walk-in` has passports without bookings.
fn slots_config() -> Config {
    let every_day = |range: &str| {
        let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let days: Vec<String> = days.iter().map(|d| format!("{d} = \"{range}\"")).collect();
        format!("hours = {{ {} }}", days.join(", "))
    };
    let (day, night) = (every_day("09:00-11:00"), every_day("01:00-04:00"));
    let toml = format!(
        r#"
[rules]
distancing_m = 2.0

[calendar]
norwegian_holidays = true

[[districts]]
id = "oslo"
name = "Oslo politidistrikt"
timezone = "Europe/Oslo"

[[districts]]
id = "vest"
name = "Vest politidistrikt"
timezone = "Europe/Oslo"

[[stations]]
id = "day"
district = "oslo"
name = "Day politistasjon"
area_m2 = 100.0
exceptions = [
  {{ date = "2026-05-16", reason = "Staff training" }},
  {{ date = "2026-05-13", hours = "10:00-11:00", reason = "Short day" }},
]
[stations.bookings]
horizon_days = 7

[[stations.services]]
id = "passport"
name = "Pass"
prefix = "P"
{day}
[stations.services.booking]
slot_min = 60
bookable_desks = 2

[[stations.services]]
id = "residence"
name = "Opphold"
prefix = "U"
{day}

[[stations]]
id = "night"
district = "oslo"
name = "Night politistasjon"
area_m2 = 100.0

[[stations.services]]
id = "passport"
name = "Pass"
prefix = "P"
{night}
[stations.services.booking]
slot_min = 30
bookable_desks = 1

[[stations]]
id = "walk-in"
district = "oslo"
name = "Walk-in politistasjon"
area_m2 = 100.0

[[stations.services]]
id = "passport"
name = "Pass"
prefix = "P"
{day}

[[stations]]
id = "bergen"
district = "vest"
name = "Bergen politistasjon"
area_m2 = 100.0

[[stations.services]]
id = "passport"
name = "Pass"
prefix = "P"
{day}

[[devices]]
id = "oslo-booking"
role = "integration"
districts = ["oslo"]
token_sha256 = "{}"
"#,
        sha256_hex("oslo-booking-token")
    );
    Config::parse(&toml, "slots.toml").expect("the slots config is valid")
}

async fn spawn_at(now: DateTime<Utc>) -> TestApp {
    TestApp::spawn_on_clock(slots_config(), Clock::starting_at(now)).await
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    app.get_as(path, None).await
}

/// The instant a clock in Oslo shows `hour`:`minute` on `month`-`day` 2026 (the earlier one
/// when it shows it twice).
fn oslo(month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Oslo.with_ymd_and_hms(2026, month, day, hour, minute, 0)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

/// The `start`s of an answer's slots.
fn starts(body: &Value) -> Vec<DateTime<Utc>> {
    body["slots"]
        .as_array()
        .unwrap_or_else(|| panic!("slots: {body}"))
        .iter()
        .map(|s| s["start"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Fills `slot` at `station` with `n` one-person bookings pushed by the integration.
async fn book(app: &TestApp, station: &str, slot: DateTime<Utc>, n: usize) {
    for i in 0..n {
        let reference = format!("ref-{station}-{}-{i}", slot.timestamp());
        let r = app
            .client
            .put(app.url(&format!("/api/v1/stations/{station}/bookings/{reference}")))
            .bearer_auth("oslo-booking-token")
            .json(&json!({"service": "passport", "slot": slot, "party_size": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
}

#[tokio::test]
async fn slots_follow_the_hours_exceptions_and_holidays_and_full_ones_are_not_listed() {
    // Tuesday 12 May 2026, 09:30: today's 09:00 slot has started. Thursday 14 May is Ascension
    // Day and Sunday 17 May Constitution Day; the 13th is short and the 16th closed.
    let app = spawn_at(oslo(5, 12, 9, 30)).await;
    book(&app, "day", oslo(5, 15, 9, 0), 2).await;
    book(&app, "day", oslo(5, 15, 10, 0), 1).await;
    let (status, body) = get(
        &app,
        "/api/v1/stations/day/slots?service=passport&from=2026-05-12&to=2026-05-18",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        starts(&body),
        [
            oslo(5, 12, 10, 0),
            oslo(5, 13, 10, 0),
            oslo(5, 15, 10, 0),
            oslo(5, 18, 9, 0),
            oslo(5, 18, 10, 0),
        ],
        "the 14th, 16th and 17th are closed, the 15th at 09:00 is full"
    );
    assert_eq!(body["slots"][2]["free"], 1, "one of two taken");
    assert_eq!(body["slots"][0]["free"], 2);
    assert_eq!(body["slots"][0]["end"], "2026-05-12T09:00:00Z");
    assert_eq!(
        (&body["station"], &body["service"], &body["timezone"]),
        (&json!("day"), &json!("passport"), &json!("Europe/Oslo"))
    );
    assert_eq!(
        (&body["slot_min"], &body["horizon_days"]),
        (&json!(60), &json!(7))
    );
}

#[tokio::test]
async fn a_range_beyond_the_horizon_is_clipped_and_the_answer_says_so() {
    let app = spawn_at(oslo(5, 12, 9, 30)).await;
    let (status, body) = get(
        &app,
        "/api/v1/stations/day/slots?service=passport&from=2026-05-01&to=2026-07-01",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["from"], &body["to"]),
        (&json!("2026-05-12"), &json!("2026-05-19"))
    );
    assert_eq!(starts(&body).last(), Some(&oslo(5, 19, 10, 0)));
    // The default range is the same.
    let (_, default) = get(&app, "/api/v1/stations/day/slots?service=passport").await;
    assert_eq!(default["slots"], body["slots"]);
    // Wholly beyond it: nothing.
    let (status, beyond) = get(
        &app,
        "/api/v1/stations/day/slots?service=passport&from=2026-06-01&to=2026-06-02",
    )
    .await;
    assert_eq!((status, beyond["slots"].clone()), (200, json!([])));
}

#[tokio::test]
async fn the_spring_clock_change_skips_its_hour_of_slots_and_the_autumn_one_repeats_it() {
    // Sunday 29 March 2026: 02:00 becomes 03:00, so 02:00 and 02:30 never happen.
    let app = spawn_at(oslo(3, 27, 12, 0)).await;
    let (status, spring) = get(
        &app,
        "/api/v1/stations/night/slots?service=passport&from=2026-03-29&to=2026-03-29",
    )
    .await;
    assert_eq!(status, 200, "{spring}");
    let utc = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    assert_eq!(
        starts(&spring),
        // 01:00 and 01:30 CET, then 03:00 and 03:30 CEST.
        [
            utc("2026-03-29T00:00:00Z"),
            utc("2026-03-29T00:30:00Z"),
            utc("2026-03-29T01:00:00Z"),
            utc("2026-03-29T01:30:00Z")
        ]
    );
    // Each slot is 30 real minutes long, also the one just before the change.
    assert_eq!(spring["slots"][1]["end"], "2026-03-29T01:00:00Z");

    // Sunday 25 October 2026: 03:00 becomes 02:00 again, so 02:00 and 02:30 happen twice.
    let app = spawn_at(oslo(10, 23, 12, 0)).await;
    let (_, autumn) = get(
        &app,
        "/api/v1/stations/night/slots?service=passport&from=2026-10-25&to=2026-10-25",
    )
    .await;
    assert_eq!(
        starts(&autumn),
        [
            utc("2026-10-24T23:00:00Z"), // 01:00 CEST
            utc("2026-10-24T23:30:00Z"),
            utc("2026-10-25T00:00:00Z"), // 02:00 CEST
            utc("2026-10-25T00:30:00Z"),
            utc("2026-10-25T01:00:00Z"), // 02:00 CET
            utc("2026-10-25T01:30:00Z"),
            utc("2026-10-25T02:00:00Z"), // 03:00 CET
            utc("2026-10-25T02:30:00Z"),
        ]
    );
    // A booking takes one of the repeated slots, not both.
    book(&app, "night", utc("2026-10-25T00:00:00Z"), 1).await;
    let (_, after) = get(
        &app,
        "/api/v1/stations/night/slots?service=passport&from=2026-10-25&to=2026-10-25",
    )
    .await;
    assert_eq!(starts(&after).len(), 7);
    assert!(starts(&after).contains(&utc("2026-10-25T01:00:00Z")));
}

#[tokio::test]
async fn a_bad_question_is_refused_saying_what_to_fix() {
    let app = spawn_at(oslo(5, 12, 9, 30)).await;
    let cases = [
        ("/api/v1/stations/day/slots", 400, None),
        (
            "/api/v1/stations/day/slots?service=visa",
            422,
            Some("service"),
        ),
        (
            "/api/v1/stations/day/slots?service=residence",
            422,
            Some("service"),
        ),
        (
            "/api/v1/stations/walk-in/slots?service=passport",
            422,
            Some("service"),
        ),
        (
            "/api/v1/stations/day/slots?service=passport&from=12.05.2026",
            422,
            Some("from"),
        ),
        (
            "/api/v1/stations/day/slots?service=passport&from=2026-05-14&to=2026-05-13",
            422,
            Some("to"),
        ),
        ("/api/v1/stations/nowhere/slots?service=passport", 404, None),
        (
            "/api/v1/districts/nowhere/next-slots?service=passport",
            404,
            None,
        ),
        ("/api/v1/districts/oslo/next-slots", 400, None),
        (
            "/api/v1/districts/vest/next-slots?service=passport",
            422,
            Some("service"),
        ),
    ];
    for (path, expected, field) in cases {
        let (status, problem) = get(&app, path).await;
        assert_eq!(status, expected, "{path}: {problem}");
        assert!(
            problem["type"].as_str().unwrap().starts_with("/problems/"),
            "{path}"
        );
        assert_eq!(problem["field"].as_str(), field, "{path}: {problem}");
    }
    let (_, problem) = get(&app, "/api/v1/stations/day/slots?service=residence").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("takes bookings for: passport"), "{detail}");
}

#[tokio::test]
async fn the_district_lists_each_stations_next_free_slot_and_the_first_anywhere() {
    let app = spawn_at(oslo(5, 12, 9, 30)).await;
    let path = "/api/v1/districts/oslo/next-slots?service=passport";
    let r = app.client.get(app.url(path)).send().await.unwrap();
    let cache = r.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cache.contains("max-age=5"), "{cache}");
    let body: Value = r.json().await.unwrap();
    let next = |body: &Value, i: usize| body["stations"][i]["next"]["start"].clone();
    assert_eq!(body["district"], "oslo");
    assert_eq!(
        body["stations"].as_array().unwrap().len(),
        2,
        "walk-in books nothing: {body}"
    );
    assert_eq!(
        (
            &body["stations"][0]["station"],
            &body["stations"][1]["station"]
        ),
        (&json!("day"), &json!("night"))
    );
    assert_eq!(next(&body, 0), json!(oslo(5, 12, 10, 0)));
    assert_eq!(next(&body, 1), json!(oslo(5, 13, 1, 0)));
    assert_eq!(
        body["first"],
        json!({"station": "day", "name": "Day politistasjon", "start": oslo(5, 12, 10, 0), "end": oslo(5, 12, 11, 0)})
    );

    // Today's last slot at `day` fills up: the first anywhere is now the night station's.
    book(&app, "day", oslo(5, 12, 10, 0), 2).await;
    let (_, body) = get(&app, path).await;
    assert_eq!(next(&body, 0), json!(oslo(5, 13, 10, 0)));
    assert_eq!(body["first"]["station"], "night");
    assert_eq!(body["first"]["start"], json!(oslo(5, 13, 1, 0)));
}

#[tokio::test]
async fn a_station_whose_slots_are_all_taken_has_no_next_slot() {
    // 03:45: the night station's slots of today have all started; every later one is booked.
    let app = spawn_at(oslo(5, 12, 3, 45)).await;
    let (_, body) = get(&app, "/api/v1/stations/night/slots?service=passport").await;
    let all = starts(&body);
    assert!(!all.is_empty(), "{body}");
    for slot in &all {
        book(&app, "night", *slot, 1).await;
    }
    let (_, body) = get(&app, "/api/v1/stations/night/slots?service=passport").await;
    assert_eq!(body["slots"], json!([]));
    let (_, body) = get(&app, "/api/v1/districts/oslo/next-slots?service=passport").await;
    assert_eq!(body["stations"][1]["next"], Value::Null, "{body}");
    assert_eq!(body["first"]["station"], "day");
}
