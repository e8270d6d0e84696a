//! The ticket link at the front desk, in a real Chromium: after a check-in the terminal shows the
//! link's QR code and short link, remembers the slip's paper, and — with print media emulated as
//! the printer sees the page — prints the slip alone, 80 mm wide, with station, service, ticket,
//! time, QR code, link and the line in bokmål and English. Writes `docs/screenshots/slip.png`.

use std::path::Path;
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use super::{
    Browser, Service, attr, check_in_on_terminal, eventually, issued_ticket, terminal,
    test_service, text,
};
use crate::helpers::ServerProcess;

const WAIT: Duration = Duration::from_secs(10);

/// Runs `script` in the page and returns its value.
async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

/// The link the service gave the terminal's last check-in (`ticket_link`), as the page stored it.
async fn issued_link(c: &Client) -> Value {
    js(
        c,
        "return JSON.parse(sessionStorage.getItem('lobbywatch.terminal.recent.small')).issued.link",
    )
    .await
}

/// Shows the page as a printer would (CSS print media), through chromedriver's DevTools bridge.
async fn emulate_print(browser: &Browser, c: &Client) {
    let session = c.session_id().await.unwrap().expect("a WebDriver session");
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/session/{session}/goog/cdp/execute",
            browser.url
        ))
        .json(&json!({"cmd": "Emulation.setEmulatedMedia", "params": {"media": "print"}}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "print media: {answer:?}");
}

/// Waits until the card under the ticket box shows `ticket`'s link.
async fn link_card_shows(c: &Client, ticket: &str) {
    eventually("the ticket's link card is shown", WAIT, || async {
        let shown = attr(c, "#ticket-link", "hidden").await.is_none();
        (shown && attr(c, "#ticket-link", "data-ticket").await.as_deref() == Some(ticket))
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_check_in_shows_its_link_as_a_qr_code_and_prints_a_slip_of_80_mm() {
    let Some(browser) = Browser::start("terminal: ticket link and slip").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let desk = terminal(&browser, &base, "small", "small-desk-token").await;
    desk.find(Locator::Css("button[data-service='passport']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let ticket = issued_ticket(&desk, None).await;
    link_card_shows(&desk, &ticket).await;

    // The card: the service's QR code of this ticket's link, loaded, and the link as text.
    let link = issued_link(&desk).await;
    let code = link["code"].as_str().expect("the answer carries the link");
    assert_eq!(link["url"], format!("/t/{code}"));
    let host = base.trim_start_matches("http://");
    assert_eq!(
        text(&desk, "#ticket-url").await.unwrap(),
        format!("{host}/t/{code}")
    );
    assert_eq!(
        attr(&desk, "#ticket-qr", "src").await.unwrap(),
        format!("/t/{code}/qr.svg")
    );
    eventually("the QR code is drawn", WAIT, || async {
        let width = js(
            &desk,
            "return document.getElementById('ticket-qr').naturalWidth",
        )
        .await;
        (width.as_u64() > Some(0)).then_some(())
    })
    .await;
    let alt = attr(&desk, "#ticket-qr", "alt").await.unwrap();
    assert!(
        alt.contains(&ticket),
        "the QR code is named for {ticket}: {alt}"
    );

    // The paper is remembered by this browser across a reload; the slip follows the choice.
    desk.find(Locator::Css("#slip-paper option[value='58']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    desk.refresh().await.unwrap();
    link_card_shows(&desk, &ticket).await;
    assert_eq!(
        js(&desk, "return document.getElementById('slip-paper').value").await,
        "58"
    );
    desk.find(Locator::Css("#slip-paper option[value='80']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the slip is drawn for 80 mm", WAIT, || async {
        let paper = attr(&desk, "#slip", "data-paper").await;
        let ready = attr(&desk, "#slip", "data-ready").await;
        (paper.as_deref() == Some("80") && ready.as_deref() == Some("true")).then_some(())
    })
    .await;
    let page = js(
        &desk,
        "return document.getElementById('slip-page').textContent",
    )
    .await;
    let page = page.as_str().unwrap();
    assert!(
        page.contains("size: 80mm"),
        "the printed page is the roll's width: {page}"
    );

    // As the printer sees it: the slip alone, 80 mm wide, with everything the visitor needs.
    emulate_print(&browser, &desk).await;
    let printed = js(
        &desk,
        "const visible = (el) => getComputedStyle(el).display !== 'none';
         return { main: visible(document.querySelector('main')),
                  header: visible(document.querySelector('header')),
                  slip: getComputedStyle(document.getElementById('slip')).visibility,
                  width: document.getElementById('slip').getBoundingClientRect().width };",
    )
    .await;
    assert_eq!(printed["main"], false, "the desk's screen does not print");
    assert_eq!(printed["header"], false, "the header does not print");
    assert_eq!(printed["slip"], "visible");
    let width_mm = printed["width"].as_f64().unwrap() * 25.4 / 96.0;
    assert!(
        (width_mm - 80.0).abs() < 0.5,
        "the slip is {width_mm} mm wide"
    );
    let slip = text(&desk, "#slip").await.unwrap();
    for part in [
        "Small politistasjon",
        "Pass · Passport",
        &ticket,
        &format!("{host}/t/{code}"),
        "Følg billetten på mobilen",
        "Follow your ticket on your phone",
        "Sjekket inn / Checked in",
    ] {
        assert!(slip.contains(part), "the slip shows '{part}': {slip}");
    }

    let shot = desk
        .find(Locator::Css("#slip"))
        .await
        .unwrap()
        .screenshot()
        .await
        .unwrap();
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots/slip.png");
    std::fs::write(out, shot).unwrap();
    desk.close().await.unwrap();
}

#[tokio::test]
async fn a_check_in_queued_while_the_service_is_down_shows_its_link_once_it_is_sent() {
    let Some(browser) = Browser::start("terminal: ticket link from the outbox").await else {
        return;
    };
    let Service {
        process,
        _dir,
        config,
        data,
    } = test_service();
    let base = process.base.clone();
    let listen = base.trim_start_matches("http://").to_owned();
    let desk = terminal(&browser, &base, "small", "small-desk-token").await;

    process.kill9();
    check_in_on_terminal(&desk, None).await;
    eventually("the check-in waits in the outbox", WAIT, || async {
        (text(&desk, "#outbox-count").await? == "1").then_some(())
    })
    .await;
    assert!(
        attr(&desk, "#ticket-link", "hidden").await.is_some(),
        "no link before the service has answered"
    );

    let _process = ServerProcess::start_on(&config, &data, &listen);
    let ticket = eventually("the outbox is sent", Duration::from_secs(30), || async {
        attr(&desk, "#issued", "data-ticket")
            .await
            .filter(|t| !t.is_empty())
    })
    .await;
    link_card_shows(&desk, &ticket).await;
    let code = issued_link(&desk).await["code"]
        .as_str()
        .expect("the outbox's answer carries the link")
        .to_owned();
    assert!(
        text(&desk, "#ticket-url")
            .await
            .unwrap()
            .ends_with(&format!("/t/{code}")),
        "the card shows the answer's link"
    );
    desk.close().await.unwrap();
}
