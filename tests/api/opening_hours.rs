//! Opening hours for the coming two weeks: the week, public holidays and dated exceptions.

use lobbywatch::clock::Clock;
use lobbywatch::config::Config;
use serde_json::{Value, json};

use crate::helpers::{TestApp, check_in, oslo_time, test_config_toml};

/// The test config with public holidays on, a station-wide closed day and a service's short day.
fn config_with_calendar() -> Config {
    let toml = test_config_toml()
        .replace("norwegian_holidays = false", "norwegian_holidays = true")
        .replace(
            "queue_line_m = 6.0\n",
            "queue_line_m = 6.0\nexceptions = [{ date = \"2026-05-19\", reason = \"Staff training\" }]\n",
        )
        .replacen(
            "prefix = \"U\"\n",
            "prefix = \"U\"\nexceptions = [{ date = \"2026-05-20\", hours = \"10:00-12:00\", reason = \"Short day\" }]\n",
            1,
        );
    Config::parse(&toml, "calendar.toml").expect("valid")
}

async fn get(app: &TestApp, query: &str) -> (u16, Value) {
    app.get_as(&format!("/api/v1/opening-hours?{query}"), None)
        .await
}

#[tokio::test]
async fn fourteen_dates_with_holidays_and_exceptions_named() {
    // Tuesday 12 May 2026, 09:00 in Oslo: the fortnight holds Ascension Day (Thu 14), Constitution
    // Day (Sun 17) and Whit Monday (25).
    let start = oslo_time(2026, 5, 12, 9);
    let app = TestApp::spawn_on_clock(config_with_calendar(), Clock::starting_at(start)).await;
    let (status, body) = get(&app, "district=oslo&station=small&service=residence").await;
    assert_eq!(status, 200, "{body}");
    let station = &body["stations"][0];
    assert_eq!(station["from"], "2026-05-12");
    let dates = station["services"][0]["dates"].as_array().unwrap();
    assert_eq!(dates.len(), 14);
    let on = |date: &str| dates.iter().find(|d| d["date"] == date).unwrap().clone();
    assert_eq!(
        on("2026-05-12"),
        json!({"date": "2026-05-12", "weekday": "tue", "open": true, "hours": ["00:00-24:00"], "basis": {"kind": "weekly"}})
    );
    assert_eq!(on("2026-05-14")["open"], false);
    assert_eq!(
        on("2026-05-14")["basis"],
        json!({"kind": "holiday", "name": "Kristi himmelfartsdag", "name_en": "Ascension Day"})
    );
    assert_eq!(on("2026-05-17")["basis"]["name_en"], "Constitution Day");
    assert_eq!(on("2026-05-25")["basis"]["name_en"], "Whit Monday");
    assert_eq!(
        on("2026-05-19")["basis"],
        json!({"kind": "exception", "reason": "Staff training"})
    );
    assert_eq!(on("2026-05-19")["open"], false);
    assert_eq!(on("2026-05-20")["hours"], json!(["10:00-12:00"]));
    // The station's other service has no short day.
    let (_, passport) = get(&app, "station=small&service=passport").await;
    let p = &passport["stations"][0]["services"][0]["dates"];
    assert_eq!(p[8]["date"], "2026-05-20");
    assert_eq!(p[8]["hours"], json!(["00:00-24:00"]));

    // A whole district: every station, every service.
    let (_, district) = get(&app, "district=oslo").await;
    assert_eq!(district["stations"].as_array().unwrap().len(), 3);

    // And the engine agrees: a check-in on the holiday is refused.
    let two_days_later = Clock::starting_at(start + chrono::TimeDelta::days(2));
    let holiday = TestApp::spawn_on_clock(config_with_calendar(), two_days_later).await;
    let (status, problem) = holiday
        .post_event_json("small-desk", "small", "holiday", &check_in("passport"))
        .await;
    assert_eq!(status, 409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Ascension Day (Kristi himmelfartsdag)")
            && problem["detail"].as_str().unwrap().contains("opens Friday"),
        "{problem}"
    );
}

#[tokio::test]
async fn unknown_places_are_404_and_no_place_is_400() {
    let app = TestApp::spawn().await;
    assert_eq!(get(&app, "").await.0, 400);
    assert_eq!(get(&app, "station=nowhere").await.0, 404);
    assert_eq!(get(&app, "district=nowhere").await.0, 404);
    assert_eq!(get(&app, "district=vest&station=small").await.0, 404);
    let (status, body) = get(&app, "station=small&service=teleport").await;
    assert_eq!(status, 404);
    assert!(body["detail"].as_str().unwrap().contains("teleport"));
}
