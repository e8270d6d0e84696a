//! A booked visitor from the public page to the front desk, in a real browser: the public page's
//! booking flow (day → time → party size → confirm, the proof of work solved in the page at the
//! test config's low difficulty), the booking's own page with its code as text and QR, the
//! dashboard's gauge holding room for the party, and the terminal checking it in by the typed
//! code — with the ticket, the party size and how early it came.

use std::path::Path;
use std::time::Duration;

use fantoccini::{Client, Locator};

use super::{Browser, attr, click, eventually, exists, sign_in, terminal, text, type_into};
use crate::helpers::{ServerProcess, test_config_toml};

/// A phone's width (an iPhone 12–15's CSS pixels, as in `ticket.rs`), tall enough that the
/// screenshot shows the booking page down to its code.
const PHONE: (u32, u32) = (390, 1200);

/// The tests' config with passport at `big` taking bookings (15-minute slots, two bookable desks)
/// and a proof of work of 4 bits, so the page solves it at once.
fn booking_config(dir: &Path) -> std::path::PathBuf {
    let mut toml = test_config_toml();
    let big = toml
        .find("name = \"Big politistasjon\"")
        .expect("the big station");
    let next_station = big
        + toml[big..]
            .find("\n[[stations]]")
            .expect("a station after big");
    toml.insert_str(
        next_station,
        "\n[stations.services.booking]\nslot_min = 15\nbookable_desks = 2\n",
    );
    toml.push_str("\n[limits]\nbooking_pow_bits = 4\n");
    let path = dir.join("lobbywatch.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// Books passport at `station` of `district` on the public page — the first free time of the day
/// it offers first, for a party of 2 — and returns the booking page's code (spaces removed) once
/// the browser is there.
pub(super) async fn book_on_the_public_page(
    c: &Client,
    base: &str,
    district: &str,
    station: &str,
) -> String {
    c.goto(&format!(
        "{base}/#district={district}&station={station}&service=passport"
    ))
    .await
    .unwrap();
    let next = eventually(
        "the next free time is shown",
        Duration::from_secs(10),
        || async {
            text(c, "#next-slots li[data-service='passport']")
                .await
                .filter(|t| t.contains("kl."))
        },
    )
    .await;
    assert!(next.starts_with("Pass: første ledige tid"), "{next}");
    click(c, "#book-start").await;
    click(c, "#book-time-list .choice input").await;
    c.find(Locator::Css("#book-party"))
        .await
        .unwrap()
        .select_by_value("2")
        .await
        .unwrap();
    c.execute(
        "document.getElementById('booking').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    let png = c.screenshot().await.unwrap();
    super::keep_screenshot("booking-public.png", &png);
    click(c, "#book-submit").await;
    let code = eventually(
        "the booking page shows its code",
        Duration::from_secs(30),
        || async { text(c, "#code").await.filter(|t| !t.is_empty()) },
    )
    .await;
    let path = c.current_url().await.unwrap().path().to_owned();
    let code: String = code.split_whitespace().collect();
    assert_eq!(path, format!("/b/{code}"), "the page is the booking's own");
    code
}

#[tokio::test]
async fn a_visitor_books_on_the_public_page_and_the_desk_checks_the_typed_code_in() {
    let Some(browser) = Browser::start("booking: public page to the front desk").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&booking_config(dir.path()), &dir.path().join("data"));
    let base = server.base.clone();

    let c = browser.session(PHONE.0, PHONE.1).await;
    let code = book_on_the_public_page(&c, &base, "oslo", "big").await;
    assert_eq!(code.len(), 24, "{code}");
    assert_eq!(text(&c, "#party").await.unwrap(), "2 personer");
    assert_eq!(text(&c, "#service").await.unwrap(), "Pass");
    let qr = attr(&c, "#qr", "src").await.unwrap();
    assert!(qr.ends_with(&format!("/b/{code}/qr.svg")), "{qr}");
    // The code is shown in groups of four, to be read aloud at the desk.
    let shown = text(&c, "#code").await.unwrap();
    assert_eq!(shown.split(' ').count(), 6, "{shown}");
    let png = c.screenshot().await.unwrap();
    super::keep_screenshot("booking-page.png", &png);

    // The slot is within the hold time: the guards see room held for the party of 2.
    let d = browser.session(1280, 900).await;
    d.goto(&format!("{base}/dashboard")).await.unwrap();
    sign_in(&d, "oslo-guard-token").await;
    let card = "article[data-station='big']";
    let held = eventually(
        "the gauge holds room for the booking",
        Duration::from_secs(20),
        || async {
            text(&d, &format!("{card} .gauge-legend [data-field='held']"))
                .await
                .filter(|t| t.starts_with('2'))
        },
    )
    .await;
    assert_eq!(held, "2 holdt av for bestillinger");
    assert!(exists(&d, &format!("{card} .gauge-held")).await);
    let due = text(&d, &format!("{card} .bookings-list")).await.unwrap();
    assert!(
        due.contains("Pass") && due.contains("2 personer") && due.contains("plass holdt av"),
        "{due}"
    );
    let png = d
        .find(Locator::Css(card))
        .await
        .unwrap()
        .screenshot()
        .await
        .unwrap();
    super::keep_screenshot("booking-dashboard-held.png", &png);

    // The lobby display tells booked visitors where to go, on both its lines.
    let screen = browser.session(1280, 720).await;
    screen.goto(&format!("{base}/display/big")).await.unwrap();
    let hint = eventually(
        "the display tells booked visitors where to go",
        Duration::from_secs(10),
        || async {
            text(&screen, "#booked-hint")
                .await
                .filter(|t| !t.is_empty())
        },
    )
    .await;
    assert!(
        hint.contains("Bestilt time? Vis bestillingskoden i skranken"),
        "{hint}"
    );
    assert!(
        hint.contains("Booked? Show your booking code at the desk"),
        "{hint}"
    );
    let png = screen.screenshot().await.unwrap();
    super::keep_screenshot("booking-display.png", &png);

    // At the desk the clerk types the code as the visitor reads it out, in its groups.
    let t = terminal(&browser, &base, "big", "big-desk-token").await;
    type_into(&t, "#booking-field", &shown).await;
    click(&t, "#booking-submit").await;
    let ticket = eventually(
        "the terminal shows the booking's ticket",
        Duration::from_secs(10),
        || async {
            attr(&t, "#booking-result", "data-ticket")
                .await
                .filter(|t| !t.is_empty())
        },
    )
    .await;
    assert!(ticket.starts_with('P'), "{ticket}");
    let answer = text(&t, "#booking-result").await.unwrap();
    assert!(
        answer.contains("Bestilling sjekket inn · Pass · 2 personer"),
        "{answer}"
    );
    assert!(
        answer.contains("min tidlig") || answer.contains("presis"),
        "the slot is ahead: {answer}"
    );
    eventually(
        "the party is marked booked in the lists",
        Duration::from_secs(10),
        || async {
            exists(&t, &format!("[data-ticket='{ticket}'] .booked-badge"))
                .await
                .then_some(())
        },
    )
    .await;
    // The code never shows in the desk's results.
    let results = text(&t, "#results").await.unwrap_or_default();
    assert!(!results.contains(&code[..8]), "{results}");

    // The visitor's page now says the party is checked in.
    c.refresh().await.unwrap();
    eventually(
        "the booking page says checked in",
        Duration::from_secs(10),
        || async { (attr(&c, "#state", "data-status").await? == "arrived").then_some(()) },
    )
    .await;
    for client in [c, d, t, screen] {
        client.close().await.unwrap();
    }
}

#[tokio::test]
async fn the_booking_parts_of_the_pages_pass_their_unit_tests() {
    let Some(browser) = Browser::start("booking unit tests").await else {
        return;
    };
    let (passed, failed, report) = super::page_unit_tests(&browser, "booking.test.html").await;
    assert_eq!(failed, 0, "failing booking tests:\n{report}");
    // Every test of the file ran (a module that failed to load would run none).
    assert!(passed >= 9, "only {passed} booking tests ran:\n{report}");
}

#[tokio::test]
async fn the_visitor_moves_the_booking_to_another_time_and_cancels_it() {
    let Some(browser) = Browser::start("booking page: move and cancel").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&booking_config(dir.path()), &dir.path().join("data"));
    let c = browser.session(PHONE.0, PHONE.1).await;
    book_on_the_public_page(&c, &server.base, "oslo", "big").await;
    let before = text(&c, "#time").await.unwrap();

    // Another time: the form offers the free ones but the booking's own.
    click(&c, "#move").await;
    click(&c, "#move-time-list .choice input").await;
    click(&c, "#move-confirm").await;
    eventually(
        "the page says the booking moved",
        Duration::from_secs(10),
        || async {
            text(&c, "#message")
                .await
                .filter(|m| m == "Bestillingen er flyttet.")
        },
    )
    .await;
    let after = text(&c, "#time").await.unwrap();
    assert_ne!(after, before, "the time changed");
    let status = attr(&c, "#state", "data-status").await.unwrap();
    assert!(
        status == "booked" || status == "due",
        "still open: {status}"
    );

    // Cancelling asks first; then the code is gone from the page and the status says cancelled.
    click(&c, "#cancel").await;
    click(&c, "#cancel-yes").await;
    eventually(
        "the booking is cancelled",
        Duration::from_secs(10),
        || async { (attr(&c, "#state", "data-status").await? == "cancelled").then_some(()) },
    )
    .await;
    assert_eq!(
        text(&c, "#headline").await.unwrap(),
        "Bestillingen er avbestilt"
    );
    assert!(
        attr(&c, "#code-card", "hidden").await.is_some(),
        "a cancelled booking shows no code to take to the desk"
    );
    c.close().await.unwrap();
}
