//! What the service writes to a page comes as a code and params beside the English `detail`:
//! refusals and problems, alerts and their causes, preset reasons stored as codes; and a full
//! room that empties by one and fills again within the settle period stays one alert.

use chrono::TimeDelta;
use lobbywatch::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{TestApp, check_in, find, test_config};

#[tokio::test]
async fn a_refusal_carries_its_code_and_params_beside_the_english_detail() {
    let app = TestApp::spawn().await;
    let out = json!({"kind": "check_out", "ticket": "P042"});
    let (status, p) = app.post_event_json("small-desk", "small", "m1", &out).await;
    assert_eq!(status, 404);
    assert_eq!(p["type"], "/problems/unknown-ticket");
    assert_eq!(p["code"], "ticket_unknown");
    assert_eq!(p["params"], json!({"ticket": "P042"}));
    assert_eq!(
        p["detail"],
        "ticket P042 is not issued today at this station or has already left"
    );

    let (status, p) = app
        .post_event_json("closed-desk", "closed", "m2", &check_in("passport"))
        .await;
    assert_eq!(status, 409);
    assert_eq!(p["code"], "service_closed.now", "{p}");
    assert_eq!(p["params"]["service"], "passport");
    assert!(p["params"]["time"].as_str().unwrap().len() == 5, "{p}");
    assert!(p["params"]["opens"]["code"].is_string(), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("closed now"), "{p}");
}

#[tokio::test]
async fn token_scope_and_idempotency_problems_carry_codes_too() {
    let app = TestApp::spawn().await;
    let (status, p) = app
        .get_as("/api/v1/stations/small", Some("no-such-token"))
        .await;
    assert_eq!(status, 401);
    assert_eq!(p["code"], "token.unknown");
    assert_eq!(p["detail"], "the device token is not valid");

    let (status, p) = app
        .get_as("/api/v1/stations/big", Some("small-desk-token"))
        .await;
    assert_eq!(status, 403);
    assert_eq!(p["code"], "forbidden.not_assigned", "{p}");
    assert_eq!(
        p["params"],
        json!({"device": "small-desk", "station": "big"})
    );

    let ask = json!({"kind": "override", "reason": "wheelchair_user"});
    let (status, p) = app.post_event_json("small-desk", "small", "m3", &ask).await;
    assert_eq!(status, 403);
    assert_eq!(p["code"], "forbidden.guards_only.override", "{p}");

    app.post_event_json("small-desk", "small", "m4", &check_in("passport"))
        .await;
    let other = json!({"kind": "check_in", "service": "passport", "party_size": 2});
    let (status, p) = app
        .post_event_json("small-desk", "small", "m4", &other)
        .await;
    assert_eq!(status, 422);
    assert_eq!(p["code"], "idempotency.key_reused", "{p}");
}

#[tokio::test]
async fn a_preset_override_reason_is_stored_as_its_code_and_named_by_the_alert_cause() {
    let app = TestApp::spawn().await;
    app.check_in_passports("small-desk", "small", "o", 4).await;
    let ask = json!({"kind": "override", "reason": "wheelchair_user"});
    let (status, _) = app.post_event_json("oslo-guard", "small", "ov", &ask).await;
    assert_eq!(status, 201);
    let doc = app.status("small").await;
    let over = find(&doc["alerts"], "kind", "over_cap");
    assert_eq!(over["code"], "alert.over_cap");
    assert_eq!(over["params"]["headcount"], 4);
    assert_eq!(over["params"]["cap"], 3);
    let cause = &over["params"]["cause"];
    assert_eq!(cause["code"], "cause.override");
    assert_eq!(cause["params"]["reason"]["code"], "reason.wheelchair_user");
    assert!(
        over["detail"]
            .as_str()
            .unwrap()
            .contains("a guard's override (wheelchair user)"),
        "{over}"
    );

    // Free text stays as typed.
    let app = TestApp::spawn().await;
    app.check_in_passports("small-desk", "small", "o", 4).await;
    let ask = json!({"kind": "override", "reason": "tent by the door"});
    app.post_event_json("oslo-guard", "small", "ov", &ask).await;
    let over = find(&app.status("small").await["alerts"], "kind", "over_cap");
    assert_eq!(
        over["params"]["cause"]["params"]["reason"],
        "tent by the door"
    );
}

/// The open at-cap alert of `doc`, if any.
fn at_cap(doc: &Value) -> Option<Value> {
    doc["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "at_cap" && a["state"] != "cleared")
        .cloned()
}

#[tokio::test]
async fn a_full_room_that_fills_again_within_the_settle_period_is_one_alert_then_clears() {
    let clock = Clock::system();
    let app = TestApp::spawn_on_clock(test_config(), clock.clone()).await;
    app.check_in_passports("small-desk", "small", "f", 3).await;
    let full = at_cap(&app.status("small").await).expect("cap 3: full");
    assert_eq!(full["code"], "alert.at_cap");

    // One leaves: the alert stays, settling.
    let out = json!({"kind": "check_out", "ticket": "P001"});
    app.post_events("small-desk", "small", [("out1", out)])
        .await;
    let settling = at_cap(&app.status("small").await).expect("still open, settling");
    assert_eq!(settling["id"], full["id"]);
    assert!(settling["settles_at"].is_string(), "{settling}");

    // Two minutes later the room is full again: the same alert, no longer settling.
    clock.advance(TimeDelta::minutes(2));
    lobbywatch::ticker::log_due_events(&app.state).await;
    app.post_events("small-desk", "small", [("again", check_in("passport"))])
        .await;
    let again = at_cap(&app.status("small").await).expect("full again");
    assert_eq!(again["id"], full["id"], "one alert, not a new one");
    assert!(again.get("settles_at").is_none(), "{again}");

    // Not full for longer than the settle period (5 min by default): cleared, by the clock.
    let out = json!({"kind": "check_out", "ticket": "P002"});
    app.post_events("small-desk", "small", [("out2", out)])
        .await;
    clock.advance(TimeDelta::minutes(4));
    lobbywatch::ticker::log_due_events(&app.state).await;
    assert!(
        at_cap(&app.status("small").await).is_some(),
        "still settling"
    );
    clock.advance(TimeDelta::minutes(2));
    lobbywatch::ticker::log_due_events(&app.state).await;
    let doc = app.status("small").await;
    assert!(at_cap(&doc).is_none(), "{}", doc["alerts"]);
    let cleared = find(&doc["alerts"], "id", full["id"].clone());
    assert_eq!(cleared["state"], "cleared");
}

/// The catalogue file of `language`.
fn catalogue(language: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("web/lang")
        .join(format!("{language}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The `{names}` a text (or each form of a plural text) fills in.
fn names_in(text: &Value) -> Vec<String> {
    let strings: Vec<&str> = match text {
        Value::String(s) => vec![s],
        Value::Object(forms) => forms.values().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    strings
        .into_iter()
        .flat_map(lobbywatch::domain::message::placeholders)
        .map(str::to_owned)
        .collect()
}

/// Every code's path in a `messages` section, leaves only.
fn leaves(node: &Value, path: &str, out: &mut Vec<String>) {
    match node {
        Value::Object(o) if !o.contains_key("other") => {
            for (key, value) in o {
                let deeper = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                leaves(value, &deeper, out);
            }
        }
        _ => out.push(path.to_owned()),
    }
}

#[test]
fn every_code_the_service_can_write_has_a_text_in_bokmal_nynorsk_and_english() {
    let codes = lobbywatch::http::message_codes::every_code();
    for language in ["nb", "nn", "en"] {
        let messages = &catalogue(language)["messages"];
        for (code, english) in &codes {
            let text = code.split('.').fold(messages, |node, part| &node[part]);
            assert!(
                text.is_string() || text.is_object(),
                "web/lang/{language}.json lacks messages.{code} (in English: \"{english}\")"
            );
            // A page fills in only what the service sends: the English template's params, a
            // name whose `_en` twin the template uses (the page picks the name of its
            // language), and `n`, which picks a plural form.
            let given = lobbywatch::domain::message::placeholders(english);
            for name in names_in(text) {
                assert!(
                    name == "n"
                        || given.contains(&name.as_str())
                        || given.contains(&format!("{name}_en").as_str()),
                    "{language}: messages.{code} fills in {{{name}}}, which the service does not send"
                );
            }
        }
        let mut listed = Vec::new();
        leaves(messages, "", &mut listed);
        for path in listed {
            assert!(
                codes.iter().any(|(code, _)| *code == path),
                "{language}: messages.{path} is no code the service writes"
            );
        }
    }
}
