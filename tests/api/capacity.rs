//! The capacity calculator for planners: `POST /api/v1/capacity`.

use std::time::{Duration, Instant};

use lobbywatch::config::Config;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::{TestApp, test_config_toml};

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

async fn app_with_limits(limits: &str) -> TestApp {
    let toml = format!("{}\n[limits]\n{limits}\n", test_config_toml());
    TestApp::spawn_with_config(Config::parse(&toml, "calculator.toml").expect("valid")).await
}

/// How long a solver may still be busy after its caller hung up (it looks at its stop flag
/// every 1,024 nodes: milliseconds, even in a debug build).
const SOLVER_FREED_WITHIN: Duration = Duration::from_secs(2);

/// A plan of 500 chairs at the most the calculator accepts, in rows dense enough that an exact
/// search takes seconds of CPU (1.7–7 s in a release build, minutes in a debug one).
fn dense_plan(rows: usize, per_row: usize, pitch: f64, gap: f64, d: f64) -> Value {
    json!({"distancing_m": d, "area_m2": 500, "seats": chairs(rows, per_row, pitch, gap)})
}

fn assert_pairwise_apart(seats: &[[f64; 2]], chosen: &[usize], d: f64) {
    for (i, a) in chosen.iter().enumerate() {
        for b in &chosen[i + 1..] {
            let (p, q) = (seats[*a], seats[*b]);
            let apart = (p[0] - q[0]).hypot(p[1] - q[1]);
            assert!(apart >= d - 1e-9, "seats {a} and {b} are {apart} m apart");
        }
    }
}

#[tokio::test]
async fn a_dense_500_chair_plan_is_answered_within_the_request_with_the_best_valid_set_not_exact() {
    // The solver runs at the lowest priority, so other tests running beside this one may slow
    // it: the request timeout is generous. An unbudgeted search (the config's budget) of this plan
    // takes minutes in a debug build, past it, and was answered 503.
    let app = app_with_limits("request_timeout_s = 120").await;
    let r = capacity(&app, dense_plan(25, 20, 0.55, 1.0, 2.5)).await;
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["exact"], false, "{c}");
    let usable: Vec<usize> = serde_json::from_value(c["usable_seats"].clone()).unwrap();
    assert_eq!(c["seat_cap"], usable.len());
    assert!(usable.len() >= 40, "{} seats", usable.len());
    assert_pairwise_apart(&chairs(25, 20, 0.55, 1.0), &usable, 2.5);
}

#[tokio::test]
async fn solver_requests_beyond_the_solver_limit_are_refused_with_503_at_once() {
    let app = app_with_limits(
        "capacity_solvers = 1\ncapacity_per_minute_per_address = 1000\nrequest_timeout_s = 120",
    )
    .await;
    let started = Instant::now();
    let requests = (0..4).map(|_| {
        let app = &app;
        async move {
            let r = capacity(app, dense_plan(20, 25, 0.5, 0.9, 3.0)).await;
            let status = r.status().as_u16();
            let retry_after = r.headers().get("retry-after").cloned();
            let body: Value = r.json().await.unwrap();
            (status, retry_after, body, started.elapsed())
        }
    });
    let answers = futures_util::future::join_all(requests).await;
    let solved: Vec<_> = answers.iter().filter(|a| a.0 == 200).collect();
    let refused: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    assert!(!solved.is_empty(), "one solver runs: {answers:?}");
    assert!(
        !refused.is_empty(),
        "four at once with one solver: {answers:?}"
    );
    let first_solved = solved.iter().map(|a| a.3).min().unwrap();
    for (_, retry_after, body, at) in &refused {
        assert_eq!(body["type"], "/problems/overloaded", "{body}");
        assert_eq!(retry_after.as_ref().unwrap(), "1");
        // Refused at once, not queued behind the running search.
        assert!(*at < first_solved, "{at:?} vs {first_solved:?}");
    }
}

#[tokio::test]
async fn an_address_over_its_calculator_rate_gets_429_with_retry_after() {
    let app = app_with_limits("capacity_per_minute_per_address = 3").await;
    let small = json!({"distancing_m": 2.0, "area_m2": 48});
    for _ in 0..3 {
        assert_eq!(capacity(&app, small.clone()).await.status(), 200);
    }
    let r = capacity(&app, small).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "/problems/calculator-rate-limited");
}

#[tokio::test]
async fn a_caller_that_hangs_up_stops_its_search_and_frees_the_solver() {
    // A budget as large as the config's: this search would run for seconds if not stopped.
    let app = app_with_limits(
        "capacity_solvers = 1\ncapacity_per_minute_per_address = 1000\ncapacity_search_nodes = 2000000",
    )
    .await;
    let body = dense_plan(10, 50, 0.5, 0.8, 2.0).to_string();
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/capacity HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body.as_bytes()).await.unwrap();
    // Once its search is running, every other request is refused …
    let small = json!({"distancing_m": 2.0, "area_m2": 48, "seats": chairs(2, 4, 0.6, 1.0)});
    let busy = async {
        loop {
            if capacity(&app, small.clone()).await.status() == 503 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), busy)
        .await
        .expect("the hung-up request's search was running");
    // … until the caller hangs up: its search stops at its next check and the solver is free.
    drop(tcp);
    let hung_up = Instant::now();
    loop {
        let status = capacity(&app, small.clone()).await.status();
        if status == 200 {
            break;
        }
        assert_eq!(status, 503);
        assert!(
            hung_up.elapsed() < SOLVER_FREED_WITHIN,
            "the solver was still busy {:?} after the caller hung up",
            hung_up.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
