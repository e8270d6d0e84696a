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
