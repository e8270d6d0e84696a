//! Running a station's day through the API: run-time rule changes, guard overrides and
//! acknowledgements, and what the clock brings (closing, alerts) — on a clock the test moves.

use chrono::TimeDelta;
use lobbywatch::clock::Clock;
use lobbywatch::config::Config;
use lobbywatch::store::StoreOptions;
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;

use crate::helpers::{TestApp, check_in, find, next_doc, oslo_time, sha256_hex, test_config};

async fn put_rules(app: &TestApp, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = app.client.put(app.url("/api/v1/rules")).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_admin_changes_the_rule_and_every_cap_follows_live_and_after_a_restart() {
    let app = TestApp::spawn().await;
    app.check_in_passports("small-desk", "small", "r", 3).await;
    let (mut ws, _) =
        connect_async(app.ws_url("/api/v1/stations/small/live?access_token=oslo-guard-token"))
            .await
            .unwrap();
    assert_eq!(next_doc(&mut ws).await["cap"], 3);

    for (token, expected) in [
        (None, 401),
        (Some("oslo-guard-token"), 403),
        (Some("small-desk-token"), 403),
    ] {
        assert_eq!(
            put_rules(&app, token, &json!({"distancing_m": 3.0}))
                .await
                .0,
            expected
        );
    }
    let (status, problem) =
        put_rules(&app, Some("admin-token"), &json!({"distancing_m": 9.0})).await;
    assert_eq!(status, 422);
    assert_eq!(problem["field"], "distancing_m");
    assert_eq!(
        put_rules(
            &app,
            Some("admin-token"),
            &json!({"distancing_m": 3.0, "district": "nowhere"})
        )
        .await
        .0,
        404
    );

    // 3 m in Oslo: the small room (12 m²) holds one person; three are inside — nobody is evicted.
    let (status, answer) = put_rules(
        &app,
        Some("admin-token"),
        &json!({"distancing_m": 3.0, "district": "oslo"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let small = find(&answer["stations"], "station", "small");
    assert_eq!(small["changed"], true);
    assert_eq!(small["previous_cap"], 3);
    assert_eq!(small["cap"], 1);
    assert_eq!(small["headcount"], 3);
    let live = next_doc(&mut ws).await;
    assert_eq!(live["cap"], 1);
    assert_eq!(live["cap_basis"]["distancing_m"], 3.0);
    let over = find(&live["alerts"], "kind", "over_cap");
    assert!(
        over["detail"]
            .as_str()
            .unwrap()
            .contains("rule change to 3 m (district oslo)"),
        "{over}"
    );
    let bergen = app.status("bergen").await;
    assert_eq!(
        bergen["cap_basis"]["distancing_m"], 2.0,
        "another district keeps its rule"
    );

    // The same request again changes nothing.
    let (_, again) = put_rules(
        &app,
        Some("admin-token"),
        &json!({"distancing_m": 3.0, "district": "oslo"}),
    )
    .await;
    assert!(
        again["stations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["changed"] == false)
    );

    // A new arrival waits outside while the room is over its new cap.
    let (_, r) = app
        .post_event_json("small-desk", "small", "after", &check_in("passport"))
        .await;
    assert_eq!(r["state"], "outside");

    // The rule is in the log: a restart comes back at 3 m.
    let before = app.status("small").await;
    ws.close(None).await.ok();
    let data = app.stop().await;
    let app = TestApp::spawn_with(test_config(), data, StoreOptions::default()).await;
    let after = app.status("small").await;
    assert_eq!(after["cap"], 1);
    assert_eq!(after["alerts"], before["alerts"]);
    let (_, rules) = app.get_as("/api/v1/rules", Some("admin-token")).await;
    assert_eq!(rules["configured_distancing_m"], 2.0);
    let small = find(&rules["stations"], "station", "small");
    assert_eq!(small["distancing_m"], 3.0);
}

#[tokio::test]
async fn a_guard_lets_a_party_in_past_the_cap_and_acknowledges_the_alert() {
    let app = TestApp::spawn().await;
    app.check_in_passports("small-desk", "small", "o", 4).await;
    let ask = json!({"kind": "override", "reason": "wheelchair user in the rain"});
    let (status, _) = app
        .post_event_json("small-desk", "small", "ov-desk", &ask)
        .await;
    assert_eq!(status, 403, "a terminal cannot override the cap");
    let (status, o) = app.post_event_json("oslo-guard", "small", "ov", &ask).await;
    assert_eq!(status, 201);
    assert_eq!(o["ticket"], "P004");
    assert_eq!(o["headcount"], 4);
    let doc = app.status("small").await;
    let over = find(&doc["alerts"], "kind", "over_cap");
    assert_eq!(over["state"], "active");
    assert!(over["detail"].as_str().unwrap().contains("wheelchair user"));

    // `by` comes from the token, never from the body.
    let forged = json!({"kind": "acknowledge", "alert": over["id"], "by": "someone-else"});
    let (status, _) = app
        .post_event_json("oslo-guard", "small", "ack-forged", &forged)
        .await;
    assert_eq!(status, 422);
    let ack = json!({"kind": "acknowledge", "alert": over["id"]});
    let (status, _) = app
        .post_event_json("oslo-guard", "small", "ack", &ack)
        .await;
    assert_eq!(status, 201);
    let doc = app.status("small").await;
    let acked = find(&doc["alerts"], "id", over["id"].clone());
    assert_eq!(acked["state"], "acknowledged");
    assert_eq!(acked["acknowledged_by"], "oslo-guard");
    let (status, _) = app
        .post_event_json("oslo-guard", "small", "ack-2", &ack)
        .await;
    assert_eq!(status, 409);

    // The service's own events cannot be posted.
    let close = json!({"kind": "close_out", "reason": "go home"});
    let (status, _) = app
        .post_event_json("oslo-guard", "small", "fake-close", &close)
        .await;
    assert_eq!(status, 422);
}

/// One station open on Wednesdays 08:00–15:00, its desk and a guard.
pub(crate) fn wednesday_config() -> Config {
    let toml = format!(
        r#"
[calendar]
norwegian_holidays = false

[[districts]]
id = "oslo"
name = "Oslo politidistrikt"

[[stations]]
id = "wed"
district = "oslo"
name = "Onsdag politistasjon"
area_m2 = 40.0

[[stations.services]]
id = "passport"
name = "Pass"
prefix = "P"
hours = {{ wed = "08:00-15:00" }}

[[devices]]
id = "wed-desk"
role = "terminal"
station = "wed"
token_sha256 = "{}"

[[devices]]
id = "all-guard"
role = "guard"
all = true
token_sha256 = "{}"
"#,
        sha256_hex("wed-desk-token"),
        sha256_hex("all-guard-token")
    );
    Config::parse(&toml, "wednesday.toml").unwrap()
}

#[tokio::test]
async fn after_closing_the_clock_closes_out_the_day_by_a_logged_event() {
    // Wednesday 25 November 2026, 14:00 in Oslo.
    let clock = Clock::starting_at(oslo_time(2026, 11, 25, 14));
    let app = TestApp::spawn_on_clock(wednesday_config(), clock.clone()).await;
    app.check_in_passports("wed-desk", "wed", "c", 2).await;
    // 14:50: the last check-in was at 14:45.
    clock.advance(TimeDelta::minutes(50));
    let (status, problem) = app
        .post_event_json("wed-desk", "wed", "late", &check_in("passport"))
        .await;
    assert_eq!(status, 409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("last check-in 15 minutes before closing"),
        "{problem}"
    );

    // 15:20: closed, but within the 30-minute grace: the tickets stand.
    clock.advance(TimeDelta::minutes(30));
    lobbywatch::ticker::log_due_events(&app.state).await;
    assert_eq!(app.status("wed").await["headcount"], 2);
    // 15:31: closed out, by an event that names the reason.
    clock.advance(TimeDelta::minutes(11));
    lobbywatch::ticker::log_due_events(&app.state).await;
    let doc = app.status("wed").await;
    assert_eq!(doc["headcount"], 0);
    assert_eq!(doc["inside"]["passport"], json!([]));
    let data = app.stop().await;
    let events: Vec<(String, String)> = crate::backend::log_query(
        data.path(),
        "SELECT kind, body FROM events WHERE station = 'wed' ORDER BY seq",
    )
    .into_iter()
    .map(|row| (row[0].clone(), row[1].clone()))
    .collect();
    let close = events
        .iter()
        .find(|(k, _)| k == "close_out")
        .expect("a close_out event is logged");
    assert!(close.1.contains("closed at 15:00"), "{}", close.1);
    assert_eq!(events.last().unwrap().0, "close_out");
}

#[tokio::test]
async fn surfaces_due_for_cleaning_are_one_alert_raised_by_the_clock_and_cleared_by_cleaning() {
    let clock = Clock::system();
    let app = TestApp::spawn_on_clock(test_config(), clock.clone()).await;
    app.post_events("big-desk", "big", [("k1", check_in("passport"))])
        .await;
    lobbywatch::ticker::log_due_events(&app.state).await;
    let cleaning = |doc: &Value| -> Vec<Value> {
        doc["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "cleaning_due" && a["state"] == "active")
            .cloned()
            .collect()
    };
    assert!(cleaning(&app.status("big").await).is_empty());
    clock.advance(TimeDelta::minutes(61));
    lobbywatch::ticker::log_due_events(&app.state).await;
    let doc = app.status("big").await;
    let due = cleaning(&doc);
    assert_eq!(due.len(), 1, "one alert for the station: {}", doc["alerts"]);
    assert_eq!(due[0]["code"], "alert.cleaning_due");
    let surfaces = |alert: &Value| -> Vec<String> {
        alert["params"]["surfaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["surface"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(surfaces(&due[0]).len(), 4, "{}", due[0]);
    let counter = json!({"kind": "cleaned", "surface": "counter"});
    app.post_events("big-desk", "big", [("k2", counter)]).await;
    let doc = app.status("big").await;
    let still = cleaning(&doc);
    assert_eq!(
        still[0]["id"], due[0]["id"],
        "the same alert while the list changes"
    );
    assert_eq!(surfaces(&still[0]).len(), 3);
    assert!(!surfaces(&still[0]).contains(&"counter".to_owned()));
    // And two hours inside: the ticket has probably left without checking out.
    clock.advance(TimeDelta::minutes(60));
    lobbywatch::ticker::log_due_events(&app.state).await;
    let doc = app.status("big").await;
    assert!(
        doc["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "long_inside" && a["ticket"] == "P001")
    );
}
