//! Booking a time by the public (`POST /api/v1/stations/{station}/bookings`) and the booking's
//! own routes by its code: a solved proof of work books a slot and gets its code once; the code
//! reads and changes its own booking and no other, and reaches no document or log; a wrong,
//! reused or expired proof of work, too many bookings from one address or one browser are refused
//! with nothing logged; a cancelled slot is free to others only from its `release_at`.

use chrono::{DateTime, TimeDelta, Utc};
use lobbywatch::clock::Clock;
use lobbywatch::config::Config;
use lobbywatch::domain::StationId;
use lobbywatch::domain::booking::BookingId;
use lobbywatch::engine::bookings::BookingStatus;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::backend::logged_count;
use crate::helpers::{LogFormat, ServerProcess, TestApp, oslo_time, test_config_toml};

/// The proof of work the tests' server asks: 256 hashes on average, so the tests solve it fast.
const POW_BITS: u32 = 8;

/// The tests' config with bookings: `small`'s passport (cap 3) and `big`'s take bookings in
/// 15-minute slots, one desk each; `small` frees a cancelled slot after up to `release_max_min`.
/// `limits` are extra `[limits]` lines.
fn config_toml(release_max_min: u32, limits: &str) -> String {
    let toml = test_config_toml();
    let toml = bookable_after(&toml, "name_en = \"Passport\"\n");
    let toml = bookable_after(&toml, "name = \"Big politistasjon\"\n");
    let toml = toml.replacen(
        "queue_line_m = 6.0\n",
        &format!(
            "queue_line_m = 6.0\n\n[stations.bookings]\nrelease_max_min = {release_max_min}\n"
        ),
        1,
    );
    format!("{toml}\n[limits]\nbooking_pow_bits = {POW_BITS}\n{limits}\n")
}

/// `toml` with the first service after `marker` taking bookings: its booking table goes after the
/// service's hours line.
fn bookable_after(toml: &str, marker: &str) -> String {
    let from = toml.find(marker).expect("the marker is in the config");
    let hours = from
        + toml[from..]
            .find("hours = ")
            .expect("a service's hours follow");
    let end = hours + toml[hours..].find('\n').expect("the hours line ends");
    let booking = "\n[stations.services.booking]\nslot_min = 15\nbookable_desks = 1\n";
    format!("{}{booking}{}", &toml[..=end], &toml[end + 1..])
}

fn config(release_max_min: u32, limits: &str) -> Config {
    Config::parse(&config_toml(release_max_min, limits), "bookings.toml")
        .expect("the config with bookings is valid")
}

/// A server on a Wednesday at 10:00 in Oslo.
async fn app_with(release_max_min: u32, limits: &str) -> (TestApp, Clock) {
    let clock = Clock::starting_at(oslo_time(2026, 11, 25, 10));
    let app = TestApp::spawn_on_clock(config(release_max_min, limits), clock.clone()).await;
    (app, clock)
}

/// Tomorrow (Thursday 26 November) at `hour`:`minute` in Oslo: a slot of the test services.
fn slot(hour: u32, minute: i64) -> DateTime<Utc> {
    oslo_time(2026, 11, 26, hour) + TimeDelta::minutes(minute)
}

/// A fresh challenge from `base` and the nonce that solves it.
async fn solved(client: &reqwest::Client, base: &str) -> Value {
    let c: Value = client
        .get(format!("{base}/api/v1/bookings/challenge"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["difficulty"], POW_BITS, "{c}");
    let challenge = c["challenge"].as_str().unwrap();
    json!({"challenge": challenge, "nonce": solve(challenge, POW_BITS)})
}

/// The first nonce whose SHA-256 with `challenge` starts with `bits` zero bits.
fn solve(challenge: &str, bits: u32) -> String {
    (0u64..)
        .map(|n| n.to_string())
        .find(|n| zero_bits(challenge, n) >= bits)
        .unwrap()
}

fn zero_bits(challenge: &str, nonce: &str) -> u32 {
    let digest = Sha256::digest(format!("{challenge}:{nonce}").as_bytes());
    let mut bits = 0;
    for byte in digest {
        bits += byte.leading_zeros();
        if byte != 0 {
            break;
        }
    }
    bits
}

/// An answer: its status, body and `Set-Cookie`.
struct Answer {
    status: u16,
    body: Value,
    cookie: Option<String>,
    retry_after: Option<String>,
}

/// Sends `body` to `station`'s booking route as the browser holding `cookie` (if any).
async fn post_booking(app: &TestApp, station: &str, body: &Value, cookie: Option<&str>) -> Answer {
    let mut request = app
        .client
        .post(app.url(&format!("/api/v1/stations/{station}/bookings")))
        .json(body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let r = request.send().await.unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (cookie, retry_after) = (header("set-cookie"), header("retry-after"));
    Answer {
        status: r.status().as_u16(),
        cookie,
        retry_after,
        body: r.json().await.unwrap_or(Value::Null),
    }
}

/// Books `small`'s passport at `at` for two with a freshly solved proof of work.
async fn book(app: &TestApp, at: DateTime<Utc>, cookie: Option<&str>) -> Answer {
    let pow = solved(&app.client, &app.base).await;
    let body = json!({"service": "passport", "slot": at, "party_size": 2, "pow": pow});
    post_booking(app, "small", &body, cookie).await
}

/// The `name=value` part of a `Set-Cookie`.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// The booking's code from a 201 answer.
fn code_of(answer: &Answer) -> String {
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["booking"]["code"].as_str().unwrap().to_owned()
}

async fn get_booking(app: &TestApp, code: &str) -> (u16, Value) {
    app.get_as(&format!("/api/v1/bookings/{code}"), None).await
}

async fn move_booking(app: &TestApp, code: &str, to: DateTime<Utc>) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/bookings/{code}/move")))
        .json(&json!({"slot": to}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn cancel(app: &TestApp, code: &str) -> (u16, Value) {
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/bookings/{code}")))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_solved_proof_of_work_books_a_slot_and_its_code_is_answered_once_and_nowhere_else() {
    let (app, _clock) = app_with(5, "").await;
    let answer = book(&app, slot(10, 0), None).await;
    let code = code_of(&answer);
    assert_eq!(code.len(), 24);
    let b = &answer.body["booking"];
    assert_eq!(b["url"], format!("/b/{code}"));
    assert_eq!(b["qr"], format!("/b/{code}/qr.svg"));
    assert_eq!(b["station"], "small");
    assert_eq!(b["station_name"], "Small politistasjon");
    assert_eq!(b["service_name_en"], "Passport");
    assert_eq!(b["slot"], "2026-11-26T09:00:00Z");
    assert_eq!(b["slot_end"], "2026-11-26T09:15:00Z");
    assert_eq!(b["party_size"], 2);
    assert_eq!(b["status"], "booked");
    assert_eq!(b["id"].as_str().unwrap().len(), 16);
    let cookie = answer.cookie.expect("the answer sets the browser's cookie");
    assert!(cookie.starts_with("lw_browser="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }

    let (status, view) = get_booking(&app, &code).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["id"], b["id"]);
    assert_eq!(view["timezone"], "Europe/Oslo");
    assert_eq!(view["can_change"], true);
    assert!(
        view.get("code").is_none(),
        "only the booking's answer carries the code"
    );

    let full = app.status("small").await;
    let (_, public) = app.get_as("/api/v1/stations/small/public", None).await;
    for document in [full.to_string(), public.to_string()] {
        assert!(!document.contains(&code), "the code is in a document");
    }
    let data = app.stop().await;
    assert_eq!(logged_count(data.path(), "small", "booking_made"), 1);
    let bodies = crate::backend::log_query(data.path(), "SELECT body FROM events");
    let hash = hex::encode(Sha256::digest(code.as_bytes()));
    assert!(
        bodies.iter().any(|row| row[0].contains(&hash)),
        "the log keeps the code's hash"
    );
    assert!(
        bodies.iter().all(|row| !row[0].contains(&code)),
        "the log holds the code"
    );
}

#[tokio::test]
async fn every_answer_about_a_booking_is_private_to_its_asker() {
    let (app, _clock) = app_with(5, "").await;
    let code = code_of(&book(&app, slot(10, 0), None).await);
    for path in [
        format!("/api/v1/bookings/{code}"),
        "/api/v1/bookings/challenge".to_owned(),
        format!("/api/v1/bookings/{}", "A".repeat(24)),
    ] {
        let r = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(r.headers()["referrer-policy"], "no-referrer", "{path}");
    }
    let qr = app
        .client
        .get(app.url(&format!("/b/{code}/qr.svg")))
        .send()
        .await
        .unwrap();
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert_eq!(qr.headers()["cache-control"], "no-store");
    assert!(qr.text().await.unwrap().contains("<svg"));
    let bad = app
        .client
        .get(app.url("/b/short/qr.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 404);
}

#[tokio::test]
async fn a_code_reads_and_changes_its_own_booking_and_every_other_code_gets_one_answer() {
    let (app, _clock) = app_with(5, "").await;
    let mine = code_of(&book(&app, slot(10, 0), None).await);
    let theirs = code_of(&book(&app, slot(11, 0), None).await);
    let (_, view) = get_booking(&app, &theirs).await;
    assert_eq!(
        view["slot"], "2026-11-26T10:00:00Z",
        "each code reads its own"
    );

    // A code that names an existing booking's id but is not its code opens nothing either.
    let id = view["id"].as_str().unwrap();
    let (status, answer) = get_booking(&app, id).await;
    assert_eq!(status, 404, "{answer}");

    let random = "Zk3vQ9rT0bXa1LmN2pQrStUv".to_owned();
    let truncated = mine[..23].to_owned();
    let altered = format!(
        "{}{}",
        &mine[..23],
        if mine.ends_with('A') { 'B' } else { 'A' }
    );
    let mut problems = Vec::new();
    for code in [&random, &truncated, &altered, &"not a code".to_owned()] {
        let (status, problem) = get_booking(&app, code).await;
        assert_eq!(status, 404, "{code}: {problem}");
        problems.push(problem.clone());
        let (status, moved) = move_booking(&app, code, slot(12, 0)).await;
        assert_eq!((status, &moved), (404, &problem), "move with {code}");
        let (status, cancelled) = cancel(&app, code).await;
        assert_eq!((status, &cancelled), (404, &problem), "cancel with {code}");
    }
    assert!(problems.windows(2).all(|w| w[0] == w[1]), "{problems:?}");
    assert_eq!(problems[0]["type"], "/problems/unknown-booking");
    assert_eq!(problems[0]["code"], "booking_public.unknown");

    let (status, view) = get_booking(&app, &mine).await;
    assert_eq!((status, view["status"].as_str()), (200, Some("booked")));
    let (_, view) = get_booking(&app, &theirs).await;
    assert_eq!(
        view["status"], "booked",
        "nothing reached the other booking"
    );
}

#[tokio::test]
async fn a_wrong_reused_expired_or_missing_proof_of_work_is_refused_and_nothing_is_logged() {
    let (app, clock) = app_with(5, "").await;
    let attempt = |pow: Value| json!({"service": "passport", "slot": slot(10, 0), "pow": pow});

    let good = solved(&app.client, &app.base).await;
    let challenge = good["challenge"].as_str().unwrap().to_owned();
    let wrong = (0u64..)
        .map(|n| n.to_string())
        .find(|n| zero_bits(&challenge, n) < POW_BITS)
        .unwrap();
    let refused = [
        attempt(json!({"challenge": challenge, "nonce": wrong})),
        json!({"service": "passport", "slot": slot(10, 0)}),
        attempt(json!({"challenge": "1234.not-a-challenge", "nonce": "1"})),
    ];
    for body in &refused {
        let answer = post_booking(&app, "small", body, None).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.body);
        assert_eq!(
            answer.body["type"], "/problems/pow-failed",
            "{}",
            answer.body
        );
        assert!(answer.cookie.is_none(), "a refusal sets no cookie");
    }
    // The wrong nonce did not spend the challenge; the right one does, once.
    assert_eq!(
        post_booking(&app, "small", &attempt(good.clone()), None)
            .await
            .status,
        201
    );
    let again = json!({"service": "passport", "slot": slot(11, 0), "pow": good});
    let reused = post_booking(&app, "small", &again, None).await;
    assert_eq!(reused.status, 422);
    assert!(
        reused.body["detail"].as_str().unwrap().contains("used"),
        "{}",
        reused.body
    );

    let stale = solved(&app.client, &app.base).await;
    clock.advance(TimeDelta::minutes(6));
    let late = json!({"service": "passport", "slot": slot(11, 0), "pow": stale});
    let expired = post_booking(&app, "small", &late, None).await;
    assert_eq!(expired.status, 422);
    assert!(
        expired.body["detail"].as_str().unwrap().contains("expired"),
        "{}",
        expired.body
    );

    let data = app.stop().await;
    assert_eq!(
        logged_count(data.path(), "small", "booking_made"),
        1,
        "only the booking with a good proof of work is logged"
    );
}

#[tokio::test]
async fn one_address_booking_too_often_is_told_when_to_come_back() {
    let (app, _clock) = app_with(5, "bookings_per_hour_per_address = 2").await;
    // A mistyped body does not use up the address's allowance.
    let typo = json!({"service": "passport", "slot": "tomorrow"});
    assert_eq!(post_booking(&app, "small", &typo, None).await.status, 422);
    assert_eq!(book(&app, slot(10, 0), None).await.status, 201);
    assert_eq!(book(&app, slot(10, 15), None).await.status, 201);
    let third = book(&app, slot(10, 30), None).await;
    assert_eq!(third.status, 429, "{}", third.body);
    assert_eq!(third.body["type"], "/problems/booking-rate-limited");
    assert_eq!(
        third.body["code"], "booking_public.too_often",
        "the page says it in its language"
    );
    let wait: u64 = third.retry_after.expect("a Retry-After").parse().unwrap();
    assert!(
        (1..=1800).contains(&wait),
        "half an hour refills one of two: {wait}"
    );
}

#[tokio::test]
async fn a_browser_holds_at_most_its_open_bookings_and_a_cancel_frees_one() {
    let (app, _clock) = app_with(0, "").await;
    let first = book(&app, slot(10, 0), None).await;
    let cookie = cookie_pair(first.cookie.as_deref().unwrap());
    let first = code_of(&first);
    // The second booking is at another station: the limit counts over all of them.
    let pow = solved(&app.client, &app.base).await;
    let body = json!({"service": "passport", "slot": slot(10, 0), "pow": pow});
    let second = post_booking(&app, "big", &body, Some(&cookie)).await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(
        second.cookie.as_deref().map(cookie_pair),
        Some(cookie.clone()),
        "the browser keeps its key"
    );

    let third = book(&app, slot(11, 0), Some(&cookie)).await;
    assert_eq!(third.status, 409, "{}", third.body);
    assert_eq!(third.body["type"], "/problems/too-many-open-bookings");
    assert_eq!(third.body["code"], "booking_public.too_many_open");
    assert_eq!(third.body["params"], json!({"limit": 2}));
    assert_eq!(
        book(&app, slot(11, 0), None).await.status,
        201,
        "another browser is not held to this one's bookings"
    );

    let (status, view) = cancel(&app, &first).await;
    assert_eq!((status, view["status"].as_str()), (200, Some("cancelled")));
    assert_eq!(view["can_change"], false);
    assert_eq!(book(&app, slot(11, 15), Some(&cookie)).await.status, 201);
}

/// When the cancelled booking `code` of `app`'s `small` frees its slot.
fn release_at(app: &TestApp, code: &str) -> DateTime<Utc> {
    let id = BookingId::of_code(&lobbywatch::domain::ticket_link::LinkCode::parse(code).unwrap());
    let station = app
        .state
        .station(&StationId::parse("small").unwrap())
        .unwrap();
    let engine = station.engine.lock().unwrap();
    match engine.booking(&id).unwrap().status {
        BookingStatus::Cancelled { release_at, .. } => release_at,
        other => panic!("not cancelled: {other:?}"),
    }
}

#[tokio::test]
async fn a_cancelled_slot_is_free_to_others_only_from_its_release_after_a_random_delay() {
    let (app, clock) = app_with(5, "").await;
    let code = code_of(&book(&app, slot(10, 0), None).await);
    let cancelled_at = clock.now();
    let (status, view) = cancel(&app, &code).await;
    assert_eq!(status, 200, "{view}");
    let release = release_at(&app, &code);
    let delay = release - cancelled_at;
    assert!(
        delay >= TimeDelta::zero() && delay <= TimeDelta::minutes(5) + TimeDelta::seconds(1),
        "the delay is at most release_max_min: {delay}"
    );
    assert!(view.get("release_at").is_none(), "the release is not told");

    let (status, again) = cancel(&app, &code).await;
    assert_eq!(
        (status, &again),
        (200, &view),
        "a second cancel changes nothing"
    );
    let (status, problem) = move_booking(&app, &code, slot(12, 0)).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "booking_state.cancelled");

    if release - clock.now() > TimeDelta::seconds(2) {
        let early = book(&app, slot(10, 0), None).await;
        assert_eq!(early.status, 409, "{}", early.body);
        assert_eq!(early.body["code"], "booking_refused.full");
    }
    clock.advance(release - clock.now() + TimeDelta::seconds(1));
    let after = book(&app, slot(10, 0), None).await;
    assert_eq!(after.status, 201, "free from its release: {}", after.body);
    let data = app.stop().await;
    assert_eq!(logged_count(data.path(), "small", "booking_cancelled"), 1);
}

#[tokio::test]
async fn with_no_delay_a_cancelled_slot_is_free_at_once() {
    let (app, _clock) = app_with(0, "").await;
    let code = code_of(&book(&app, slot(10, 0), None).await);
    assert_eq!(cancel(&app, &code).await.0, 200);
    assert_eq!(book(&app, slot(10, 0), None).await.status, 201);
}

#[tokio::test]
async fn a_booking_moves_to_a_free_slot_and_not_to_a_taken_one() {
    let (app, _clock) = app_with(5, "").await;
    let code = code_of(&book(&app, slot(10, 0), None).await);
    let _other = code_of(&book(&app, slot(11, 0), None).await);

    let (status, view) = move_booking(&app, &code, slot(10, 30)).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["slot"], "2026-11-26T09:30:00Z");
    assert_eq!(view["slot_end"], "2026-11-26T09:45:00Z");
    let (status, same) = move_booking(&app, &code, slot(10, 30)).await;
    assert_eq!(
        (status, &same),
        (200, &view),
        "the same slot again changes nothing"
    );

    let (status, problem) = move_booking(&app, &code, slot(11, 0)).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["type"], "/problems/booking-refused");
    assert_eq!(problem["code"], "booking_refused.full");
    let (status, problem) = move_booking(&app, &code, slot(10, 7)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("booking_refused.not_a_slot"))
    );

    // The slot it left is free again at once: a move frees nothing a bot could watch for.
    assert_eq!(book(&app, slot(10, 0), None).await.status, 201);
    let data = app.stop().await;
    assert_eq!(logged_count(data.path(), "small", "booking_moved"), 1);
}

#[tokio::test]
async fn a_booking_is_refused_by_the_engine_after_the_checks_in_front_of_it() {
    let (app, _clock) = app_with(5, "").await;
    let pow = solved(&app.client, &app.base).await;
    let body = json!({"service": "residence", "slot": slot(10, 0), "pow": pow});
    let answer = post_booking(&app, "small", &body, None).await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert_eq!(answer.body["code"], "booking_refused.not_bookable");
    let pow = solved(&app.client, &app.base).await;
    let past = json!({"service": "passport", "slot": oslo_time(2026, 11, 25, 9), "pow": pow});
    let answer = post_booking(&app, "small", &past, None).await;
    assert_eq!(
        answer.body["code"], "booking_refused.past",
        "{}",
        answer.body
    );
    let answer = post_booking(&app, "nowhere", &past, None).await;
    assert_eq!(answer.status, 404);
}

#[tokio::test]
async fn a_booking_code_never_reaches_the_log_only_its_route_templates() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bookings.toml");
    std::fs::write(&config, config_toml(5, "")).unwrap();
    // At `trace`, the most any operator could turn on.
    let (server, log_path) =
        ServerProcess::spawn_logging_to_file(dir.path(), &config, "trace", LogFormat::Json);
    let client = reqwest::Client::new();
    // This server runs on the real clock: a slot tomorrow, on the hour.
    let tomorrow = (Utc::now() + TimeDelta::days(1)).timestamp();
    let at = DateTime::from_timestamp(tomorrow - tomorrow % 3600, 0).unwrap();
    let pow = solved(&client, &server.base).await;
    let answer: Value = client
        .post(format!("{}/api/v1/stations/small/bookings", server.base))
        .json(&json!({"service": "passport", "slot": at, "pow": pow}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = answer["booking"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("booked: {answer}"))
        .to_owned();
    for path in [
        format!("/api/v1/bookings/{code}"),
        format!("/b/{code}/qr.svg"),
    ] {
        let r = client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let r = client
        .delete(format!("{}/api/v1/bookings/{code}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    server.stop();

    let text = std::fs::read_to_string(&log_path).unwrap();
    for route in ["/api/v1/bookings/{code}", "/b/{code}/qr.svg"] {
        assert!(
            text.contains(&format!(r#""route":"{route}""#)),
            "{route} is logged by its template: {text}"
        );
    }
    assert!(!text.contains(&code), "the log holds the booking's code");
}
