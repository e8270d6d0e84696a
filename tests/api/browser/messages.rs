//! What the service writes, on the Norwegian pages: a refusal on the terminal and an over-cap
//! alert on the dashboard in bokmål from their codes, and an override reason picked in bokmål
//! stored as its code.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;

use super::{Browser, click, eventually, sign_in, terminal, test_service, text};
use crate::helpers::{event_request, status_at};

#[tokio::test]
async fn the_terminal_says_a_refusal_in_norwegian() {
    let Some(browser) = Browser::start("a refusal in Norwegian").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let desk = terminal(&browser, &base, "small", "small-desk-token").await;
    // Nobody inside: calling next is refused, in the page's language.
    click(&desk, "#call-next").await;
    eventually(
        "the terminal shows the refusal in bokmål",
        Duration::from_secs(5),
        || async {
            text(&desk, "#called")
                .await
                .filter(|t| t.contains("Ingen billetter venter inne"))
        },
    )
    .await;
    desk.close().await.unwrap();
}

#[tokio::test]
async fn an_override_reason_picked_in_norwegian_is_stored_as_its_code_and_shown_in_norwegian() {
    let Some(browser) = Browser::start("an override reason in Norwegian").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let client = reqwest::Client::new();
    // Cap 3: the fourth waits outside.
    for i in 0..4 {
        let check_in = json!({"kind": "check_in", "service": "passport"});
        let key = format!("m{i}");
        let r = event_request(&client, &base, "small-desk-token", "small", &key, &check_in)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }

    let dashboard = browser.session(1600, 1000).await;
    dashboard.goto(&format!("{base}/dashboard")).await.unwrap();
    sign_in(&dashboard, "oslo-guard-token").await;
    let card = "article.station-card[data-station='small']";
    click(&dashboard, &format!("{card} [data-action='override']")).await;
    let choice = "#override-choices input[value='wheelchair_user']";
    dashboard
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css(choice))
        .await
        .expect("the preset reasons are offered");
    let offered = text(&dashboard, "#override-choices").await.unwrap();
    assert!(offered.contains("rullestolbruker"), "{offered}");
    click(&dashboard, choice).await;
    click(&dashboard, "#override-form button[type='submit']").await;

    let over = format!("{card} li[data-kind='over_cap'] .alert-detail");
    let shown = eventually(
        "the over-cap alert is shown in bokmål",
        Duration::from_secs(5),
        || async { text(&dashboard, &over).await.filter(|t| !t.is_empty()) },
    )
    .await;
    assert!(
        shown.contains(
            "4 inne, grense 3, etter at en vakt slapp inn forbi grensen (rullestolbruker)"
        ),
        "{shown}"
    );
    let alert = status_at(&client, &base, "small").await["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "over_cap")
        .cloned()
        .unwrap();
    let reason = &alert["params"]["cause"]["params"]["reason"];
    assert_eq!(
        reason["code"], "reason.wheelchair_user",
        "stored as its code: {alert}"
    );
    dashboard.close().await.unwrap();
}
