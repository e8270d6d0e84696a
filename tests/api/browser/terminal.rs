//! The front-desk terminal protecting the clerk from slips, in a real Chromium: "Call next" asks
//! while the desk has a called ticket, a recall shows on the display again, a transfer moves the
//! ticket, a no-show can be undone before anything is sent, a revoked token signs the page out,
//! a closed service is disabled before anyone taps it, "Call next" stays on a tablet screen, and
//! parties waiting elsewhere are shown apart and marked "Arrived" at the door.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use super::{
    Browser, attr, click, eventually, exists, issued_ticket, terminal, test_service, text,
    type_into,
};
use lobbywatch::domain::event::Event;
use lobbywatch::domain::{DeviceId, StationId, Ticket};
use lobbywatch::ingest;

use crate::helpers::{ServerProcess, TestApp, status_at, test_config_toml};

const WAIT: Duration = Duration::from_secs(10);

/// The full status document of `station`, read as the all-stations guard.
async fn status(base: &str, station: &str) -> Value {
    status_at(&reqwest::Client::new(), base, station).await
}

/// Checks in `n` passport parties on the terminal, waiting for each ticket.
async fn check_in_passports(desk: &Client, n: usize) {
    let mut previous: Option<String> = None;
    for _ in 0..n {
        click(desk, "button[data-service='passport']").await;
        previous = Some(issued_ticket(desk, previous.as_deref()).await);
    }
}

/// Waits until the desk's current-visitor box shows `ticket`.
async fn desk_serves(desk: &Client, ticket: &str) {
    eventually(
        &format!("the desk shows {ticket} as current"),
        WAIT,
        || async {
            (attr(desk, "#current", "data-ticket").await.as_deref() == Some(ticket)).then_some(())
        },
    )
    .await;
}

async fn dialog_open(c: &Client, id: &str) -> bool {
    c.execute(
        &format!("return document.getElementById('{id}').open"),
        vec![],
    )
    .await
    .unwrap()
        == Value::Bool(true)
}

#[tokio::test]
async fn call_next_asks_first_while_the_desk_has_a_ticket_and_a_recall_is_announced_again() {
    let Some(browser) = Browser::start("terminal: confirm call next, recall").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let display = browser.session(1600, 900).await;
    display
        .goto(&format!("{base}/display/small"))
        .await
        .unwrap();
    let desk = terminal(&browser, &base, "small", "small-desk-token").await;
    check_in_passports(&desk, 3).await;

    // Desk 1 calls P001 (nobody at the desk yet: no question), desk 2 then calls P002.
    type_into(&desk, "#desk", "1").await;
    click(&desk, "#call-next").await;
    desk_serves(&desk, "P001").await;
    assert!(!dialog_open(&desk, "call-dialog").await);
    let served = text(&desk, "#current-served").await.unwrap();
    assert!(
        served.contains("0:0"),
        "the served-for timer runs: {served}"
    );
    type_into(&desk, "#desk", "2").await;
    click(&desk, "#call-next").await;
    desk_serves(&desk, "P002").await;
    eventually("the display shows P002", WAIT, || async {
        (attr(&display, "#current-call", "data-ticket").await? == "P002").then_some(())
    })
    .await;

    // Back at desk 1, "Call next" asks first; Recall announces P001 again.
    type_into(&desk, "#desk", "1").await;
    desk_serves(&desk, "P001").await;
    click(&desk, "#call-next").await;
    assert!(
        dialog_open(&desk, "call-dialog").await,
        "call next asks first"
    );
    let question = text(&desk, "#call-dialog-title").await.unwrap();
    assert!(question.contains("P001"), "{question}");
    click(&desk, "#call-dialog-recall").await;
    eventually(
        "the display shows P001 again, highlighted",
        WAIT,
        || async {
            let current = attr(&display, "#current-call", "data-ticket").await?;
            let class = attr(&display, "#current-call", "class").await?;
            (current == "P001" && class.contains("fresh")).then_some(())
        },
    )
    .await;
    let doc = status(&base, "small").await;
    assert_eq!(
        doc["calls"].as_array().unwrap().len(),
        2,
        "a recall is no new call"
    );
    assert_eq!(doc["calls"][0]["recalls"], 1);

    // "Call next anyway" calls P003 and leaves P001 as it was.
    click(&desk, "#call-next").await;
    assert!(dialog_open(&desk, "call-dialog").await);
    click(&desk, "#call-dialog-next").await;
    desk_serves(&desk, "P003").await;
    let doc = status(&base, "small").await;
    let called: Vec<(&str, &str)> = doc["inside"]["passport"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| Some((p["ticket"].as_str()?, p["desk"].as_str()?)))
        .collect();
    assert_eq!(called, [("P001", "1"), ("P002", "2"), ("P003", "1")]);
    for c in [display, desk] {
        c.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_transfer_moves_the_waiting_ticket_to_the_other_service() {
    let Some(browser) = Browser::start("terminal: transfer").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let desk = terminal(&browser, &base, "small", "small-desk-token").await;
    check_in_passports(&desk, 1).await;
    click(
        &desk,
        "#inside-list [data-ticket='P001'] [data-action='transfer']",
    )
    .await;
    assert!(dialog_open(&desk, "transfer-dialog").await);
    // The service it waits for now is not offered.
    assert!(exists(&desk, "#transfer-to-passport[disabled]").await);
    click(&desk, "#transfer-to-residence").await;
    click(&desk, "#transfer-confirm").await;
    eventually(
        "the status has P001 waiting for residence",
        WAIT,
        || async {
            let doc = status(&base, "small").await;
            let moved = doc["inside"]["residence"]
                .as_array()?
                .iter()
                .any(|p| p["ticket"] == "P001");
            moved.then_some(())
        },
    )
    .await;
    eventually("the terminal lists P001 under residence", WAIT, || async {
        exists(
            &desk,
            "#inside-list [data-ticket='P001'][data-service='residence']",
        )
        .await
        .then_some(())
    })
    .await;
    desk.close().await.unwrap();
}

#[tokio::test]
async fn an_undone_no_show_sends_nothing_and_one_not_undone_is_sent() {
    let Some(browser) = Browser::start("terminal: no-show undo").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let desk = terminal(&browser, &base, "small", "small-desk-token").await;
    check_in_passports(&desk, 1).await;
    let seq = status(&base, "small").await["seq"].clone();

    click(
        &desk,
        "#inside-list [data-ticket='P001'] [data-action='no_show']",
    )
    .await;
    click(&desk, "#undo-bar [data-undo='P001']").await;
    assert_eq!(
        text(&desk, "#undo-note")
            .await
            .as_deref()
            .map(|t| t.contains("P001")),
        Some(true)
    );
    // Longer than the undo window: had it been queued, it would have been sent by now.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let outbox = desk
        .execute(
            "return localStorage.getItem('lobbywatch.outbox.small')",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        outbox.is_null() || outbox == "[]",
        "nothing was stored: {outbox}"
    );
    let doc = status(&base, "small").await;
    assert_eq!(doc["seq"], seq, "nothing was sent");
    assert!(
        exists(
            &desk,
            "#inside-list [data-ticket='P001'] [data-action='no_show']"
        )
        .await
    );

    // Not undone, it goes out once the window has passed.
    click(
        &desk,
        "#inside-list [data-ticket='P001'] [data-action='no_show']",
    )
    .await;
    eventually("the no-show reaches the service", WAIT, || async {
        let doc = status(&base, "small").await;
        (doc["inside_total"] == 0).then_some(())
    })
    .await;
    desk.close().await.unwrap();
}

#[tokio::test]
async fn a_revoked_token_signs_the_terminal_out_with_a_message_and_no_reconnecting() {
    let Some(browser) = Browser::start("terminal: revoked token").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let desk = terminal(&browser, &base, "small", "small-desk-token").await;
    eventually("the terminal is live", WAIT, || async {
        attr(&desk, "#conn", "class")
            .await?
            .contains("open")
            .then_some(())
    })
    .await;
    let revoked = reqwest::Client::new()
        .post(format!("{base}/api/v1/devices/small-desk/revoke"))
        .bearer_auth("admin-token")
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    eventually("the terminal signs out with the reason", WAIT, || async {
        let signed_out = attr(&desk, "#app", "hidden").await.is_some()
            && attr(&desk, "#sign-in-section", "hidden").await.is_none();
        let message = text(&desk, "#sign-in-error").await?;
        (signed_out && !message.is_empty()).then_some(())
    })
    .await;
    // It stays signed out: no socket reconnecting in the background.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(attr(&desk, "#conn", "hidden").await.is_some());
    assert!(attr(&desk, "#app", "hidden").await.is_some());

    // A token the service does not know, stored in the tab, is refused at once as well.
    desk.execute(
        "sessionStorage.setItem('lobbywatch.token.terminal.small', 'no-such-token'); location.reload()",
        vec![],
    )
    .await
    .unwrap();
    eventually("an unknown token is signed out", WAIT, || async {
        let message = text(&desk, "#sign-in-error").await?;
        (attr(&desk, "#app", "hidden").await.is_some() && !message.is_empty()).then_some(())
    })
    .await;
    desk.close().await.unwrap();
}

/// The tests' config with `small`'s residence service open `hours` ("HH:MM-HH:MM") every day, or
/// never open when `hours` is `None`.
fn with_residence_hours(hours: Option<&str>) -> String {
    let toml = test_config_toml();
    let residence = toml.find("prefix = \"U\"\n").unwrap() + "prefix = \"U\"\n".len();
    let line_end = residence + toml[residence..].find('\n').unwrap() + 1;
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let line = hours.map_or_else(String::new, |h| {
        let each: Vec<String> = days.iter().map(|d| format!("{d} = \"{h}\"")).collect();
        format!("hours = {{ {} }}\n", each.join(", "))
    });
    format!("{}{line}{}", &toml[..residence], &toml[line_end..])
}

/// The terminal of `small` served from `toml`, signed in.
async fn terminal_on(browser: &Browser, toml: &str) -> (ServerProcess, Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lobbywatch.toml");
    std::fs::write(&config, toml).unwrap();
    let process = ServerProcess::start(&config, &dir.path().join("data"));
    let desk = terminal(browser, &process.base, "small", "small-desk-token").await;
    (process, desk, dir)
}

#[tokio::test]
async fn a_closed_service_is_disabled_with_its_reason_before_anyone_taps_it() {
    let Some(browser) = Browser::start("terminal: closed service").await else {
        return;
    };
    let (_process, desk, _dir) = terminal_on(&browser, &with_residence_hours(None)).await;
    let button = "button[data-service='residence']";
    eventually("the residence button is disabled", WAIT, || async {
        exists(&desk, &format!("{button}[disabled]"))
            .await
            .then_some(())
    })
    .await;
    let shown = text(&desk, button).await.unwrap();
    assert!(
        shown.contains("Stengt"),
        "the reason is on the button: {shown}"
    );
    assert!(!exists(&desk, "button[data-service='passport'][disabled]").await);
    // Nor is it offered as a transfer target.
    check_in_passports(&desk, 1).await;
    click(
        &desk,
        "#inside-list [data-ticket='P001'] [data-action='transfer']",
    )
    .await;
    assert!(exists(&desk, "#transfer-to-residence[disabled]").await);
    assert!(exists(&desk, "#transfer-confirm[disabled]").await);
    desk.close().await.unwrap();
}

#[tokio::test]
async fn a_service_past_its_last_check_in_is_disabled_with_the_time_before_anyone_taps_it() {
    let Some(browser) = Browser::start("terminal: past the last check-in").await else {
        return;
    };
    // Open until ten minutes from now: the last check-in (15 minutes before closing) has passed.
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Oslo);
    let closing = (now + chrono::Duration::minutes(10))
        .format("%H:%M")
        .to_string();
    let closing = if closing < now.format("%H:%M").to_string() {
        "23:59".to_owned()
    } else {
        closing
    };
    let (_process, desk, _dir) = terminal_on(
        &browser,
        &with_residence_hours(Some(&format!("00:00-{closing}"))),
    )
    .await;
    let button = "button[data-service='residence']";
    eventually("the residence button is disabled", WAIT, || async {
        exists(&desk, &format!("{button}[disabled]"))
            .await
            .then_some(())
    })
    .await;
    let shown = text(&desk, button).await.unwrap();
    assert!(
        shown.contains("siste innsjekk var"),
        "the reason is on the button: {shown}"
    );
    // The service open around the clock stays available.
    assert!(!exists(&desk, "button[data-service='passport'][disabled]").await);
    desk.close().await.unwrap();
}

#[tokio::test]
async fn call_next_is_on_screen_at_tablet_sizes_without_scrolling() {
    let Some(browser) = Browser::start("terminal: tablet layout").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    for (width, height) in [(768, 1024), (1024, 768), (1280, 800)] {
        let c = browser.session(width, height).await;
        c.goto(&format!("{base}/terminal/big")).await.unwrap();
        super::sign_in(&c, "big-desk-token").await;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("button[data-service='passport']"))
            .await
            .unwrap();
        // The button is inside the window and nothing covers its middle.
        let visible = c
            .execute(
                "const b = document.getElementById('call-next'); const r = b.getBoundingClientRect();
                 const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                 return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth
                   && window.scrollY === 0 && b.contains(hit);",
                vec![],
            )
            .await
            .unwrap();
        if let Ok(dir) = std::env::var("LOBBYWATCH_SHOTS") {
            let png = c.screenshot().await.unwrap();
            std::fs::write(format!("{dir}/terminal-{width}x{height}.png"), png).unwrap();
        }
        assert_eq!(
            visible,
            Value::Bool(true),
            "call next visible at {width}×{height}"
        );
        c.close().await.unwrap();
    }
}

/// What a visitor's ticket page says for `ticket` ("I'm not at the door"), applied the way the
/// service applies a visitor's event: under the station's lock, as the device `public`.
async fn visitor_waits_elsewhere(app: &TestApp, ticket: &str) {
    let ticket = Ticket::parse(ticket).unwrap();
    let station = StationId::parse("small").unwrap();
    let public = DeviceId::parse("public").unwrap();
    ingest::apply_system(&app.state, &station, &public, move |_, _| {
        Some(Event::Away { ticket })
    })
    .await
    .expect("the away event applies")
    .expect("the away event is decided");
}

#[tokio::test]
async fn parties_waiting_elsewhere_show_apart_and_the_desk_marks_them_arrived() {
    let Some(browser) = Browser::start("terminal: remote parties, arrived").await else {
        return;
    };
    // In process, so the test can say what a visitor's page says; the browser talks to it over HTTP.
    let app = TestApp::spawn().await;
    let base = app.base.clone();
    let desk = terminal(&browser, &base, "small", "small-desk-token").await;
    // The room holds 3: P004 and P005 wait outside, and say they will wait elsewhere.
    check_in_passports(&desk, 5).await;
    visitor_waits_elsewhere(&app, "P004").await;
    visitor_waits_elsewhere(&app, "P005").await;
    eventually("both are shown waiting elsewhere", WAIT, || async {
        let remote = text(&desk, "#remote-count").await?;
        let at_door = text(&desk, "#outside-count").await?;
        let marked = exists(
            &desk,
            "#outside-list .is-remote[data-ticket='P005'] [data-action='arrived']",
        )
        .await;
        (remote == "2" && at_door == "0" && marked).then_some(())
    })
    .await;

    // P005 is at the door after all.
    click(
        &desk,
        "#outside-list [data-ticket='P005'] [data-action='arrived']",
    )
    .await;
    eventually("P005 counts at the door again", WAIT, || async {
        let remote = text(&desk, "#remote-count").await?;
        let at_door = text(&desk, "#outside-count").await?;
        (remote == "1" && at_door == "1").then_some(())
    })
    .await;

    // Room frees up: P004, still elsewhere, is asked in and listed as on its way.
    click(
        &desk,
        "#inside-list [data-ticket='P001'] [data-action='check_out']",
    )
    .await;
    eventually("P004 is listed as coming", WAIT, || async {
        let shown = attr(&desk, "#coming-box", "hidden").await.is_none();
        (shown && exists(&desk, "#coming-list [data-ticket='P004']").await).then_some(())
    })
    .await;
    click(
        &desk,
        "#coming-list [data-ticket='P004'] [data-action='arrived']",
    )
    .await;
    eventually("P004 has arrived", WAIT, || async {
        let doc = status(&base, "small").await;
        let p004 = doc["inside"]["passport"]
            .as_array()?
            .iter()
            .find(|p| p["ticket"] == "P004")?
            .clone();
        (p004["remote"] == false && doc["coming"] == json!([])).then_some(())
    })
    .await;
    eventually("the list of those coming is gone", WAIT, || async {
        attr(&desk, "#coming-box", "hidden").await.map(|_| ())
    })
    .await;
    desk.close().await.unwrap();
}
