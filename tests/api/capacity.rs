//! The capacity calculator for planners: `POST /api/v1/capacity`.

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// `rows` rows of `per_row` chairs at `pitch` metres, rows `gap` metres apart.
fn chairs(rows: usize, per_row: usize, pitch: f64, gap: f64) -> Vec<[f64; 2]> {
    (0..rows)
        .flat_map(|r| (0..per_row).map(move |c| [c as f64 * pitch, r as f64 * gap]))
        .collect()
}

async fn capacity(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/capacity"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_cap_follows_from_area_seats_and_the_legal_maximum() {
    let app = TestApp::spawn().await;
    let seats = chairs(3, 8, 0.55, 1.0);
    let r = capacity(&app, json!({"distancing_m": 2.0, "area_m2": 48, "seats": seats, "max_visitors": null, "area_model": "grid"})).await;
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["area_cap"], 12);
    assert_eq!(c["seat_cap"], 4);
    assert_eq!(c["cap"], 4);
    assert_eq!(c["exact"], true);
    let usable: Vec<usize> = serde_json::from_value(c["usable_seats"].clone()).unwrap();
    assert_eq!(usable.len(), 4);
    for (i, a) in usable.iter().enumerate() {
        for b in &usable[i + 1..] {
            let (p, q) = (seats[*a], seats[*b]);
            let d = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt();
            assert!(d >= 2.0 - 1e-9, "seats {a} and {b} are {d} m apart");
        }
    }

    // At 1 m the same room seats 12.
    let c: Value = capacity(
        &app,
        json!({"distancing_m": 1.0, "area_m2": 48, "seats": seats}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(c["seat_cap"], 12);
    // Hex packing and a legal maximum.
    let c: Value = capacity(
        &app,
        json!({"distancing_m": 2.0, "area_m2": 60, "area_model": "hex", "max_visitors": 10}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(c["area_cap"], 17);
    assert_eq!(c["cap"], 10);
    assert_eq!(c["seat_cap"], Value::Null);
}

#[tokio::test]
async fn sixty_chairs_are_solved_exactly() {
    let app = TestApp::spawn().await;
    let c: Value = capacity(
        &app,
        json!({"distancing_m": 2.0, "area_m2": 80, "seats": chairs(5, 12, 0.5, 0.9)}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(c["exact"], true);
    assert!(c["seat_cap"].as_u64().unwrap() >= 8);
}

#[tokio::test]
async fn bad_geometry_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"distancing_m": 2.0, "area_m2": -5}), "area_m2"),
        (json!({"distancing_m": 0.4, "area_m2": 40}), "distancing_m"),
        (json!({"distancing_m": 5.5, "area_m2": 40}), "distancing_m"),
        (
            json!({"distancing_m": 2.0, "area_m2": 40, "seats": chairs(1, 501, 0.5, 1.0)}),
            "seats",
        ),
        (json!({"distancing_m": 2.0, "area_m2": "big"}), "area_m2"),
        (
            json!({"distancing_m": 2.0, "area_m2": 40, "area_model": "square"}),
            "area_model",
        ),
    ];
    for (body, field) in cases {
        let r = capacity(&app, body.clone()).await;
        assert_eq!(r.status(), 422, "{body}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: Value = r.json().await.unwrap();
        assert!(
            p["field"].as_str().unwrap().starts_with(field),
            "{body} → {p}"
        );
    }
}
