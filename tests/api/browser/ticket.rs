//! The visitor's own page (`/t/{code}`) on a phone, followed from a check-in to COME IN NOW: the
//! room is full, the visitor says they will wait elsewhere (and is told to start walking, being
//! next), a check-out admits them, and the page says COME IN NOW with the time the room is held
//! — announced assertively for a screen reader.

use std::path::Path;
use std::time::Duration;

use fantoccini::Client;
use serde_json::{Value, json};

use super::public::post;
use super::{Browser, attr, click, eventually, test_service, text};
use crate::helpers::{check_in, event_request};

/// A phone's viewport (an iPhone 12–15's CSS pixels).
const PHONE: (u32, u32) = (390, 844);

/// Waits until the page's state block shows `mode` and returns its headline and detail.
async fn state(c: &Client, mode: &str) -> (String, String) {
    eventually(
        &format!("the page shows the state {mode}"),
        Duration::from_secs(10),
        || async {
            (attr(c, "#state", "data-state").await? == mode).then_some(())?;
            Some((text(c, "#headline").await?, text(c, "#detail").await?))
        },
    )
    .await
}

#[tokio::test]
async fn a_ticket_goes_from_check_in_to_come_in_now_on_the_visitors_phone() {
    let Some(browser) = Browser::start("ticket page, check-in to COME IN NOW").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let desk = "small-desk-token";
    // Cap 3: three parties fill the room, the fourth (ours) waits first in the queue.
    for key in ["a", "b", "c"] {
        post(&base, desk, "small", key, check_in("passport")).await;
    }
    let answer: Value = event_request(
        &reqwest::Client::new(),
        &base,
        desk,
        "small",
        "ours",
        &check_in("passport"),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let ticket = answer["ticket"].as_str().unwrap();
    let url = answer["ticket_link"]["url"].as_str().unwrap();

    let c = browser.session(PHONE.0, PHONE.1).await;
    c.goto(&format!("{base}{url}")).await.unwrap();
    let (headline, detail) = state(&c, "waiting").await;
    assert_eq!(headline, "Du er neste");
    assert!(detail.contains("anslag"), "no wait measured yet: {detail}");
    assert_eq!(text(&c, "#number").await.unwrap(), ticket);
    assert_eq!(text(&c, "#sign").await.unwrap(), "Vent ute");

    // "I'm not at the door": being next, the visitor is told to start walking.
    click(&c, "#away").await;
    let (headline, _) = state(&c, "walk").await;
    assert_eq!(headline, "GÅ NÅ");
    eventually("more time is offered", Duration::from_secs(5), || async {
        attr(&c, "#more-time", "hidden")
            .await
            .is_none()
            .then_some(())
    })
    .await;

    // A party leaves: ours is asked in, and the room is held for it.
    post(
        &base,
        desk,
        "small",
        "out",
        json!({"kind": "check_out", "ticket": "P001"}),
    )
    .await;
    let (headline, detail) = state(&c, "come_in").await;
    assert_eq!(headline, "KOM INN NÅ");
    assert!(detail.contains("holdes for deg til"), "{detail}");
    let announced = text(&c, "#alert").await.unwrap_or_default();
    let role = attr(&c, "#alert", "aria-live").await;
    assert!(announced.contains("KOM INN NÅ"), "{announced}");
    assert_eq!(role.as_deref(), Some("assertive"));

    let png = c.screenshot().await.unwrap();
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots/ticket-phone.png");
    std::fs::write(out, png).unwrap();
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_entrance_poster_confirms_arrival_and_a_lost_connection_is_said_plainly() {
    let Some(browser) = Browser::start("ticket page, entrance poster and stale data").await else {
        return;
    };
    // The tests' config with a code posted at the small station's entrance.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lobbywatch.toml");
    let toml = crate::helpers::test_config_toml().replacen(
        "queue_line_m = 6.0\n",
        "queue_line_m = 6.0\n\n[stations.remote]\nentrance_code = \"DOOR-7\"\n",
        1,
    );
    std::fs::write(&config, toml).unwrap();
    let server = crate::helpers::ServerProcess::start(&config, &dir.path().join("data"));
    let base = server.base.clone();
    let desk = "small-desk-token";
    for key in ["a", "b", "c"] {
        post(&base, desk, "small", key, check_in("passport")).await;
    }
    let answer: Value = event_request(
        &reqwest::Client::new(),
        &base,
        desk,
        "small",
        "ours",
        &check_in("passport"),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let url = answer["ticket_link"]["url"].as_str().unwrap();

    // The visitor opens their link (the phone keeps it) and goes for a walk.
    let c = browser.session(PHONE.0, PHONE.1).await;
    c.goto(&format!("{base}{url}")).await.unwrap();
    state(&c, "waiting").await;
    click(&c, "#away").await;
    state(&c, "walk").await;

    // Back at the door they scan the poster: the page confirms their arrival by itself.
    c.goto(&format!("{base}/t/arrive?station=small&entrance=DOOR-7"))
        .await
        .unwrap();
    let said = eventually(
        "the arrival is confirmed",
        Duration::from_secs(10),
        || async { text(&c, "#message").await.filter(|t| !t.is_empty()) },
    )
    .await;
    assert_eq!(said, "Takk – du er registrert ved døren.");
    let (headline, detail) = state(&c, "waiting").await;
    assert_eq!(headline, "Du er neste");
    assert!(!detail.contains("annet sted"), "at the door now: {detail}");

    // The service goes away: the page says which time it is showing.
    server.kill9();
    let stale = eventually(
        "the page says its data is old",
        Duration::from_secs(10),
        || async { text(&c, "#stale").await.filter(|t| !t.is_empty()) },
    )
    .await;
    assert!(stale.starts_with("Viser data fra "), "{stale}");
    assert!(stale.contains("kobler til på nytt"), "{stale}");
    c.close().await.unwrap();
}
