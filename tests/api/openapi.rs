//! The OpenAPI document: served without a token, OpenAPI 3.1, naming every route of the router
//! with its methods, every refusal as problem+json, and real answers fitting its schemas.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Every route of the router except the web pages, with its methods. Mirrors `http::app`: a new
/// route must be added here and documented, or the count check below fails.
const ROUTES: &[(&str, &[&str])] = &[
    ("/api/v1/stations/{station}/events", &["post"]),
    ("/api/v1/stations/{station}/join", &["post"]),
    ("/api/v1/stations/{station}/bookings", &["post"]),
    ("/api/v1/bookings/challenge", &["get"]),
    ("/api/v1/bookings/{code}", &["get", "delete"]),
    ("/api/v1/bookings/{code}/move", &["post"]),
    ("/api/v1/stations", &["get"]),
    ("/api/v1/stations/{station}", &["get"]),
    ("/api/v1/stations/{station}/public", &["get"]),
    ("/api/v1/stations/{station}/history", &["get"]),
    ("/api/v1/stations/{station}/room", &["get"]),
    ("/api/v1/stations/{station}/live", &["get"]),
    ("/api/v1/stations/{station}/public/live", &["get"]),
    ("/api/v1/live", &["get"]),
    ("/api/v1/capacity", &["post"]),
    ("/api/v1/me", &["get"]),
    ("/api/v1/devices", &["get"]),
    ("/api/v1/devices/{device}/revoke", &["post"]),
    ("/api/v1/admin/reload", &["post"]),
    ("/api/v1/opening-hours", &["get"]),
    ("/api/v1/stations/{station}/slots", &["get"]),
    ("/api/v1/districts/{district}/next-slots", &["get"]),
    (
        "/api/v1/stations/{station}/bookings/{external_ref}",
        &["get", "put", "delete"],
    ),
    ("/api/v1/rules", &["get", "put"]),
    ("/api/v1/reports/daily", &["get"]),
    ("/api/v1/tickets/{code}", &["get"]),
    ("/api/v1/tickets/{code}/live", &["get"]),
    ("/api/v1/tickets/{code}/events", &["post"]),
    ("/api/v1/openapi.json", &["get"]),
    ("/healthz", &["get"]),
    ("/metrics", &["get"]),
    ("/problems", &["get"]),
    ("/problems/{slug}", &["get"]),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

async fn document(app: &TestApp) -> Value {
    let r = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    r.json().await.unwrap()
}

/// The schema a `$ref` points to (or the schema itself).
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("a local schema reference: {r}"));
            let target = &doc["components"]["schemas"][name];
            assert!(target.is_object(), "{r} is defined");
            resolve(doc, target)
        }
        None => schema,
    }
}

/// Checks `value` against `schema`: types, required properties, array items, enums, `oneOf`
/// (one branch fits) and `allOf` (every branch fits). Returns what does not fit.
fn fits(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            fits(doc, s, value, at)?;
        }
    }
    if let Some(one) = schema["oneOf"].as_array() {
        let fitting = one
            .iter()
            .filter(|s| fits(doc, s, value, at).is_ok())
            .count();
        if fitting == 0 {
            return Err(format!("{at}: {value} fits no branch of {schema}"));
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
        if !ok {
            return Err(format!("{at}: {value} is {actual}, documented {types:?}"));
        }
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            return Err(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let (Some(object), Some(props)) = (value.as_object(), schema["properties"].as_object()) {
        for req in schema["required"].as_array().into_iter().flatten() {
            let req = req.as_str().unwrap();
            if !object.contains_key(req) {
                return Err(format!("{at}: required `{req}` is missing"));
            }
        }
        for (k, v) in object {
            if let Some(s) = props.get(k) {
                fits(doc, s, v, &format!("{at}.{k}"))?;
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            fits(doc, schema, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// The JSON schema of `path`'s `method` answer with `status`.
fn answer_schema<'a>(doc: &'a Value, path: &str, method: &str, status: &str) -> &'a Value {
    let schema =
        &doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents a {status} JSON answer"
    );
    resolve(doc, schema)
}

fn property_names(schema: &Value) -> BTreeSet<String> {
    schema["properties"]
        .as_object()
        .expect("an object schema")
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_openapi_document_is_served_without_a_token_as_openapi_3_1() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "lobbywatch");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        (&bearer["type"], &bearer["scheme"]),
        (&json!("http"), &json!("bearer"))
    );
}

#[tokio::test]
async fn every_route_of_the_router_is_documented_with_its_methods() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in ROUTES {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is documented"));
        let documented: BTreeSet<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|k| METHODS.contains(k))
            .collect();
        let expected: BTreeSet<&str> = methods.iter().copied().collect();
        assert_eq!(documented, expected, "the methods of {path}");
    }
    assert_eq!(
        paths.len(),
        ROUTES.len(),
        "documented paths {:?}",
        paths.keys().collect::<Vec<_>>()
    );

    // The list mirrors the router: each route answers its methods, not with the 404 fallback.
    for (path, methods) in ROUTES {
        let url = app.url(
            &path
                .replace("{station}", "small")
                .replace("{device}", "no-such-device")
                .replace("{district}", "oslo")
                .replace("{external_ref}", "NB-1")
                .replace("{slug}", "not-found"),
        );
        for method in *methods {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app.client.request(m, &url).send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            let fallback = body["detail"] == "no such page or API route";
            assert!(
                !fallback && status != 405,
                "{method} {path} is routed (got {status} {body})"
            );
        }
    }
}

#[tokio::test]
async fn every_documented_refusal_is_problem_json_and_token_routes_name_the_bearer_scheme() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let problem = &doc["components"]["schemas"]["Problem"];
    let required: BTreeSet<&str> = problem["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        required,
        BTreeSet::from(["type", "title", "status", "detail"])
    );
    assert!(problem["properties"]["field"].is_object());

    let mut refusals = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let success = responses
                .keys()
                .filter(|s| s.starts_with('1') || s.starts_with('2'))
                .count();
            assert!(success >= 1, "{method} {path} documents its success");
            for (status, response) in responses {
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                if path == "/healthz" && status == "503" {
                    continue; // the health answer itself, in JSON
                }
                let content = response["content"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{method} {path} {status} has a body"));
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["application/problem+json"],
                    "{method} {path} {status}"
                );
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
                refusals += 1;
            }
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if secured {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} takes a token and documents 401"
                );
            }
        }
    }
    assert!(refusals > 50, "refusals are documented ({refusals})");

    for (path, method, statuses) in [
        (
            "/api/v1/stations/{station}/events",
            "post",
            &[
                "201", "400", "401", "403", "404", "409", "413", "415", "422", "429", "503",
            ][..],
        ),
        (
            "/api/v1/stations/{station}",
            "get",
            &["200", "401", "403", "404"][..],
        ),
        (
            "/api/v1/stations/{station}/live",
            "get",
            &["101", "400", "401", "403"][..],
        ),
        (
            "/api/v1/rules",
            "put",
            &["200", "401", "403", "413", "422"][..],
        ),
    ] {
        let op = &doc["paths"][path][method];
        for s in statuses {
            assert!(
                op["responses"][s].is_object(),
                "{method} {path} documents {s}"
            );
        }
        if path != "/api/v1/rules" || method == "put" {
            assert!(op["security"].is_array(), "{method} {path} names its token");
        }
    }
    let live = &doc["paths"]["/api/v1/stations/{station}/live"]["get"];
    assert!(
        live["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "access_token" && p["in"] == "query"),
        "a live route takes ?access_token="
    );
}

#[tokio::test]
async fn real_answers_fit_the_documented_schemas() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;

    // A check-in's 201 outcome: every documented required field, nothing undocumented.
    let pair = json!({"kind": "check_in", "service": "passport", "party_size": 2});
    let (status, outcome) = app
        .post_event_json("small-desk", "small", "openapi-1", &pair)
        .await;
    assert_eq!(status, 201);
    let schema = answer_schema(&doc, "/api/v1/stations/{station}/events", "post", "201");
    for req in schema["required"].as_array().unwrap() {
        assert!(
            outcome.get(req.as_str().unwrap()).is_some(),
            "the outcome has `{req}`: {outcome}"
        );
    }
    let documented = property_names(schema);
    for key in outcome.as_object().unwrap().keys() {
        assert!(documented.contains(key), "`{key}` is documented");
    }
    fits(&doc, schema, &outcome, "outcome").unwrap();
    // The check is not vacuous: a missing field or a wrong type does not fit.
    let mut broken = outcome.clone();
    broken.as_object_mut().unwrap().remove("headcount");
    assert!(fits(&doc, schema, &broken, "broken").is_err());
    broken = outcome.clone();
    broken["ticket"] = json!(7);
    assert!(fits(&doc, schema, &broken, "broken").is_err());

    // Fill the room and queue outside, call a ticket, clean: the documents have content.
    for (i, body) in [
        json!({"kind": "check_in", "service": "passport", "party_size": 1, "appointment": "REF-1"}),
        json!({"kind": "check_in", "service": "residence", "party_size": 2}),
        json!({"kind": "call", "desk": "2", "service": "passport"}),
        json!({"kind": "cleaned", "surface": "door handles"}),
    ]
    .iter()
    .enumerate()
    {
        let r = app
            .post_event("small-desk", "small", &format!("openapi-more-{i}"), body)
            .await;
        assert_eq!(r.status(), 201, "{body}");
    }

    // The full status document: its top-level keys are exactly the documented properties.
    let full = app.status("small").await;
    let schema = answer_schema(&doc, "/api/v1/stations/{station}", "get", "200");
    let documented = property_names(schema);
    let keys: BTreeSet<String> = full.as_object().unwrap().keys().cloned().collect();
    for key in &keys {
        assert!(documented.contains(key), "`{key}` is documented");
    }
    for req in schema["required"].as_array().unwrap() {
        assert!(keys.contains(req.as_str().unwrap()), "`{req}` is sent");
    }
    assert!(!full["outside"].as_array().unwrap().is_empty(), "{full}");
    fits(&doc, schema, &full, "full").unwrap();

    // Other answers, deeply.
    let reads: &[(&str, &str, Option<&str>)] = &[
        (
            "/api/v1/stations/{station}/public",
            "/api/v1/stations/small/public",
            None,
        ),
        ("/api/v1/stations", "/api/v1/stations", None),
        (
            "/api/v1/stations/{station}/room",
            "/api/v1/stations/bergen/room",
            None,
        ),
        (
            "/api/v1/stations/{station}/history",
            "/api/v1/stations/small/history",
            Some("all-guard-token"),
        ),
        (
            "/api/v1/opening-hours",
            "/api/v1/opening-hours?station=small",
            None,
        ),
        ("/api/v1/me", "/api/v1/me", Some("oslo-guard-token")),
        ("/api/v1/devices", "/api/v1/devices", Some("admin-token")),
        ("/api/v1/rules", "/api/v1/rules", Some("admin-token")),
        (
            "/api/v1/reports/daily",
            "/api/v1/reports/daily",
            Some("admin-token"),
        ),
        ("/problems", "/problems", None),
    ];
    for (path, url, token) in reads {
        let (status, body) = app.get_as(url, *token).await;
        assert_eq!(status, 200, "{url}: {body}");
        let schema = answer_schema(&doc, path, "get", "200");
        fits(&doc, schema, &body, url).unwrap();
    }
    let r = app
        .client
        .post(app.url("/api/v1/capacity"))
        .json(&json!({"area_m2": 20.0, "seats": [[0.0, 0.0], [1.0, 0.0], [2.5, 0.0]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let capacity: Value = r.json().await.unwrap();
    let schema = answer_schema(&doc, "/api/v1/capacity", "post", "200");
    fits(&doc, schema, &capacity, "capacity").unwrap();

    // A refusal fits the Problem schema.
    let (status, problem) = app.get_as("/api/v1/stations/nowhere/public", None).await;
    assert_eq!(status, 404);
    let schema = &doc["components"]["schemas"]["Problem"];
    fits(&doc, schema, &problem, "problem").unwrap();
}

#[tokio::test]
async fn a_reload_answer_fits_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lobbywatch.toml");
    std::fs::write(&file, crate::helpers::test_config_toml()).unwrap();
    let config = lobbywatch::config::Config::load(&file).unwrap();
    let app = TestApp::spawn_with_config(config).await;
    let doc = document(&app).await;
    let changed = crate::helpers::test_config_toml()
        .replacen("area_m2 = 12.0", "area_m2 = 20.0", 1)
        .replace("distancing_m = 2.0", "distancing_m = 1.5");
    std::fs::write(&file, changed).unwrap();
    let reload = || {
        app.client
            .post(app.url("/api/v1/admin/reload"))
            .bearer_auth("admin-token")
            .send()
    };
    let r = reload().await.unwrap();
    assert_eq!(r.status(), 200);
    let summary: Value = r.json().await.unwrap();
    let schema = answer_schema(&doc, "/api/v1/admin/reload", "post", "200");
    fits(&doc, schema, &summary, "reload").unwrap();
    assert!(summary["distancing_m"].is_object(), "{summary}");

    std::fs::write(&file, "[rules]\ndistancing_m = 9.0\n").unwrap();
    let r = reload().await.unwrap();
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    fits(
        &doc,
        &doc["components"]["schemas"]["Problem"],
        &problem,
        "problem",
    )
    .unwrap();
}
