//! The public page as a visitor meets it: it never shows an old ENTER as current when its live
//! connection is lost, never promises "about 0 min", names the station's address, follows the
//! chosen language (its tab title too, and Arabic right to left); and the small things every page
//! shares: the favicon, and the page for a mistyped station. Where a station takes joins, the page
//! joins the queue from afar and leads to the new ticket's page.

use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use super::{Browser, attr, click, eventually, exists, test_service, text};
use crate::helpers::{ServerProcess, event_request, test_config_toml};

/// The demo's sample stations (with their addresses) on the demo's shifted clock, quiet: no
/// simulated terminals, so the tests decide every event.
pub(super) fn quiet_demo(data: &std::path::Path) -> ServerProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lobbywatch"));
    command
        .args(["demo", "--no-sim", "--listen", "127.0.0.1:0", "--data"])
        .arg(data);
    ServerProcess::spawn(command)
}

/// Posts one event, which must be accepted.
pub(super) async fn post(base: &str, token: &str, station: &str, key: &str, event: Value) {
    let answer = event_request(&reqwest::Client::new(), base, token, station, key, &event)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    assert_eq!(status, 201, "{key}: {}", answer.text().await.unwrap());
}

/// Opens the public page on `station`/`passport` in `lang` (the choice every page shares,
/// as the language picker stores it).
async fn public_page(c: &Client, base: &str, district: &str, station: &str, lang: &str) {
    c.goto(&format!("{base}/")).await.unwrap();
    c.execute(
        "localStorage.setItem('lang', arguments[0])",
        vec![json!(lang)],
    )
    .await
    .unwrap();
    c.goto(&format!(
        "{base}/#district={district}&station={station}&service=passport"
    ))
    .await
    .unwrap();
    c.refresh().await.unwrap();
    eventually(
        "the public page shows the sign",
        Duration::from_secs(10),
        || async {
            attr(c, "#sign", "data-sign")
                .await
                .filter(|s| !s.is_empty())
        },
    )
    .await;
}

#[tokio::test]
async fn the_public_page_says_the_connection_is_lost_where_the_sign_is_and_stops_showing_enter() {
    let Some(browser) = Browser::start("public page, connection lost").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let c = browser.session(1280, 900).await;
    public_page(&c, &base, "oslo", "small", "en").await;
    eventually("the sign says ENTER", Duration::from_secs(5), || async {
        (attr(&c, "#sign", "data-sign").await? == "enter").then_some(())
    })
    .await;
    assert!(
        attr(&c, "#stale", "hidden").await.is_some(),
        "no banner while live"
    );

    service.process.stop();
    let banner = eventually(
        "the page says the connection is lost",
        Duration::from_secs(10),
        || async {
            attr(&c, "#stale", "hidden").await.is_none().then_some(())?;
            text(&c, "#stale").await.filter(|t| !t.is_empty())
        },
    )
    .await;
    assert!(banner.contains("Connection lost"), "{banner}");
    assert_eq!(
        attr(&c, "#sign", "data-sign").await.as_deref(),
        Some("unknown")
    );
    let sign = text(&c, "#sign").await.unwrap();
    assert!(!sign.contains("Enter"), "the sign still says {sign}");
    // The banner is where the sign is: in the result, above the sign, not in the footer.
    assert!(exists(&c, "#result > #stale").await);
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_public_page_in_english_has_an_english_title_the_address_and_less_than_a_minute() {
    let Some(browser) = Browser::start("public page, English").await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let demo = quiet_demo(data.path());
    let base = demo.base.clone();
    // A visitor served at once: the desk time is measured (a second), nobody else waits, so the
    // estimate is 0 minutes — which a visitor must read as "less than a minute".
    let desk = "demo-oslo-gronland-desk-1";
    let station = "oslo-gronland";
    post(
        &base,
        desk,
        station,
        "in",
        json!({"kind": "check_in", "service": "passport"}),
    )
    .await;
    post(
        &base,
        desk,
        station,
        "call",
        json!({"kind": "call", "desk": "1", "service": "passport"}),
    )
    .await;
    let ticket = reqwest::get(format!("{base}/api/v1/stations/{station}/public"))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["calls"][0]["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    post(
        &base,
        desk,
        station,
        "out",
        json!({"kind": "check_out", "ticket": ticket}),
    )
    .await;

    let c = browser.session(1280, 900).await;
    public_page(&c, &base, "oslo", station, "en").await;
    eventually(
        "the tab title is English",
        Duration::from_secs(5),
        || async {
            let title = c.title().await.ok()?;
            (title == "Opening hours and queue — lobbywatch").then_some(())
        },
    )
    .await;
    let address = text(&c, "#address").await.unwrap_or_default();
    assert!(
        address.contains("Grønlandsleiret 44, 0190 Oslo"),
        "{address}"
    );
    assert!(address.starts_with("Address"), "{address}");
    let estimate = eventually(
        "the estimate is measured",
        Duration::from_secs(5),
        || async {
            let shown = text(&c, "#estimate").await?;
            (shown != "No estimate yet" && !shown.is_empty()).then_some(shown)
        },
    )
    .await;
    assert_eq!(estimate, "less than a minute");
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_public_page_in_arabic_reads_right_to_left_with_figures_and_times_kept_left_to_right() {
    let Some(browser) = Browser::start("public page, Arabic").await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let demo = quiet_demo(data.path());
    let c = browser.session(1280, 900).await;
    public_page(&c, &demo.base, "oslo", "oslo-gronland", "ar").await;
    eventually("the page is in Arabic", Duration::from_secs(5), || async {
        (attr(&c, "html", "lang").await? == "ar").then_some(())
    })
    .await;
    assert_eq!(attr(&c, "html", "dir").await.as_deref(), Some("rtl"));
    let is_arabic = |t: &str| t.chars().any(|ch| ('\u{0600}'..='\u{06FF}').contains(&ch));
    let heading = text(&c, "h1").await.unwrap();
    assert!(is_arabic(&heading), "the heading is {heading}");
    let sign = text(&c, "#sign").await.unwrap();
    assert!(is_arabic(&sign), "the sign is {sign}");
    let title = c.title().await.unwrap();
    assert!(is_arabic(&title), "the tab title is {title}");
    // Figures and times keep their own order inside the right-to-left page.
    assert_eq!(attr(&c, "#occupancy", "dir").await.as_deref(), Some("ltr"));
    let monday = c
        .execute(
            "return document.querySelector(\"#hours tr[data-day='mon'] td\").textContent",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(monday, json!("\u{2066}08:00–15:30\u{2069}"));
    // The picker offers the visitors' languages, each named in itself.
    for (code, name) in [("pl", "Polski"), ("uk", "Українська"), ("ar", "العربية")]
    {
        let option = text(&c, &format!("#lang option[value='{code}']")).await;
        assert_eq!(option.as_deref(), Some(name));
    }
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_service_past_its_last_check_in_is_shown_unavailable_with_the_time() {
    let Some(browser) = Browser::start("public page, last check-in").await else {
        return;
    };
    // Open from 00:00 to 23:59, but check-ins stop 1438 minutes before closing: the last one is
    // at 00:01.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lobbywatch.toml");
    let toml = format!(
        "{}\n[operations]\nlast_admission_min = 1438\n",
        test_config_toml().replace("00:00-24:00", "00:00-23:59")
    );
    std::fs::write(&config, toml).unwrap();
    let server = ServerProcess::start(&config, &dir.path().join("data"));
    let doc: Value = reqwest::get(format!("{}/api/v1/stations/small/public", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["services"][0]["last_check_in"], "00:01", "{doc}");
    if doc["services"][0]["taking_check_ins"] == true {
        return; // the first minute of the day in Oslo: nothing is past yet
    }

    let c = browser.session(1280, 900).await;
    public_page(&c, &server.base, "oslo", "small", "en").await;
    let said = eventually(
        "the page says check-ins are over",
        Duration::from_secs(5),
        || async { text(&c, "#last-check-in").await.filter(|t| !t.is_empty()) },
    )
    .await;
    assert_eq!(said, "Last check-in today: 00:01 — No more check-ins today");
    assert_eq!(
        attr(&c, "#sign", "data-sign").await.as_deref(),
        Some("no_more")
    );
    assert_eq!(text(&c, "#sign").await.as_deref(), Some("× None today"));
    c.close().await.unwrap();
}

#[tokio::test]
async fn every_page_links_the_favicon_and_it_is_served() {
    let Some(browser) = Browser::start("favicon").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let answer = reqwest::get(format!("{base}/favicon.ico")).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "image/svg+xml");
    assert!(answer.text().await.unwrap().starts_with("<svg"));

    let c = browser.session(1024, 768).await;
    for page in [
        "/",
        "/dashboard",
        "/display/small",
        "/terminal/small",
        "/display/nope",
    ] {
        c.goto(&format!("{base}{page}")).await.unwrap();
        // What the browser fetches for the tab: the page's own icon link, answered as an SVG.
        let fetched = c
            .execute_async(
                "const done = arguments[0];
                 const link = document.querySelector(\"link[rel='icon']\");
                 if (!link) return done('no icon link');
                 fetch(link.href).then((r) => done(`${r.status} ${r.headers.get('content-type')}`),
                                       (e) => done(String(e)));",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(fetched, json!("200 image/svg+xml"), "{page}");
    }
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_mistyped_station_gets_a_page_that_says_so_in_the_pages_language() {
    let Some(browser) = Browser::start("mistyped station").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    for page in ["display", "terminal"] {
        let answer = reqwest::get(format!("{base}/{page}/smal")).await.unwrap();
        assert_eq!(answer.status(), 404, "/{page}/smal");
        assert!(
            answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "/{page}/smal is a page, not JSON"
        );
    }

    let c = browser.session(1024, 768).await;
    c.goto(&format!("{base}/")).await.unwrap();
    c.execute("localStorage.setItem('lang', 'en')", vec![])
        .await
        .unwrap();
    c.goto(&format!("{base}/terminal/smal")).await.unwrap();
    let said = eventually(
        "the page names the mistyped station",
        Duration::from_secs(5),
        || async {
            text(&c, "#missing-what")
                .await
                .filter(|t| t.contains("smal"))
        },
    )
    .await;
    assert!(said.starts_with("There is no station"), "{said}");
    assert_eq!(text(&c, "h1").await.as_deref(), Some("Station not found"));
    assert_eq!(
        attr(&c, "#missing-home", "href").await.as_deref(),
        Some("/")
    );

    c.execute("localStorage.setItem('lang', 'nb')", vec![])
        .await
        .unwrap();
    c.goto(&format!("{base}/display/smal")).await.unwrap();
    eventually("the page is in bokmål", Duration::from_secs(5), || async {
        (text(&c, "h1").await? == "Fant ikke stedet").then_some(())
    })
    .await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_public_page_joins_the_queue_from_afar_and_lands_on_the_ticket_page() {
    let Some(browser) = Browser::start("public page, join from afar").await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    // The demo's Grønland takes joins 08:00–14:00; its clock stands at 09:30 on a weekday.
    let demo = quiet_demo(data.path());
    let base = demo.base.clone();
    let c = browser.session(420, 900).await;
    public_page(&c, &base, "oslo", "oslo-gronland", "en").await;
    click(&c, "#join-start").await;
    c.find(Locator::Css("#join-party option[value='2']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, "#join-submit").await;
    let shown = eventually(
        "the page shows the new ticket",
        Duration::from_secs(10),
        || async { attr(&c, "#join-done .join-ticket", "data-ticket").await },
    )
    .await;
    assert_eq!(shown, "P001");
    let done = text(&c, "#join-done").await.unwrap();
    assert!(done.contains("Your ticket: P001"), "{done}");
    let href = attr(&c, "#join-link", "href").await.unwrap();
    let code = href.rsplit("/t/").next().unwrap().to_owned();
    assert_eq!(code.len(), 24, "{href}");
    // Kept for today in this browser only, so the page can offer "my ticket" again.
    let kept = c
        .execute("return localStorage.getItem('lobbywatch.myTicket')", vec![])
        .await
        .unwrap();
    assert!(kept.as_str().unwrap().contains(&code), "{kept}");
    let status = reqwest::get(format!("{base}/api/v1/stations/oslo-gronland/public"))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        status["coming"],
        json!(["P001"]),
        "asked in at once, from afar"
    );
    click(&c, "#join-link").await;
    eventually(
        "the browser is on the ticket's page",
        Duration::from_secs(5),
        || async {
            let url = c.current_url().await.ok()?;
            (url.path() == format!("/t/{code}")).then_some(())
        },
    )
    .await;
    c.close().await.unwrap();
}
