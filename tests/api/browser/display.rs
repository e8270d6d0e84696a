//! The lobby display as the waiting room reads it: WAIT OUTSIDE explained when there is room,
//! "please enter" in the order people were asked in with any "+N" last, the service's clock from
//! the first paint, sound that stays on across a reload, and a second line in the screen's
//! chosen language; and parties waiting elsewhere counted apart, with the tickets on their way.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;

use super::public::{post, quiet_demo};
use super::{Browser, attr, click, eventually, exists, test_service, text};

/// The display of `station`, once it shows a document.
async fn display(browser: &Browser, base: &str, station: &str, size: (u32, u32)) -> Client {
    let c = browser.session(size.0, size.1).await;
    c.goto(&format!("{base}/display/{station}")).await.unwrap();
    eventually(
        "the display shows the room",
        Duration::from_secs(10),
        || async {
            text(&c, "#occupancy")
                .await
                .filter(|t| t.contains('/') && !t.contains('–'))
        },
    )
    .await;
    c
}

#[tokio::test]
async fn wait_outside_is_explained_when_there_is_room_but_the_next_party_is_larger() {
    let Some(browser) = Browser::start("display, WAIT OUTSIDE explained").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let c = display(&browser, &base, "small", (1600, 900)).await;
    assert!(
        !exists(&c, "#sign-why").await,
        "nothing to explain in an empty room"
    );

    // Cap 3: two inside leave room for one; the next party is three.
    let desk = "small-desk-token";
    let party = |n: u32| json!({"kind": "check_in", "service": "passport", "party_size": n});
    post(&base, desk, "small", "a", party(2)).await;
    post(&base, desk, "small", "b", party(3)).await;
    let why = eventually(
        "the sign explains WAIT OUTSIDE",
        Duration::from_secs(5),
        || async {
            (attr(&c, "#sign", "data-sign").await? == "wait_outside").then_some(())?;
            text(&c, "#sign-why").await
        },
    )
    .await;
    assert!(why.contains("Plass til 1, neste gruppe er 3"), "{why}");
    assert!(why.contains("Room for 1, next party is 3"), "{why}");
    c.close().await.unwrap();
}

#[tokio::test]
async fn please_enter_lists_the_tickets_asked_in_in_order_with_the_overflow_last() {
    let Some(browser) = Browser::start("display, please enter").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    // A small screen, so the list cannot hold every ticket.
    let c = display(&browser, &base, "big", (800, 600)).await;

    // Cap 25: five parties of five fill the room, twelve more wait outside; two parties leave
    // and ten are asked in, P006 to P015 in that order.
    let desk = "big-desk-token";
    for i in 0..5 {
        let event = json!({"kind": "check_in", "service": "passport", "party_size": 5});
        post(&base, desk, "big", &format!("full-{i}"), event).await;
    }
    for i in 0..12 {
        let event = json!({"kind": "check_in", "service": "passport"});
        post(&base, desk, "big", &format!("queue-{i}"), event).await;
    }
    for ticket in ["P001", "P002"] {
        let event = json!({"kind": "check_out", "ticket": ticket});
        post(&base, desk, "big", &format!("out-{ticket}"), event).await;
    }
    // Desks call the longest-waiting inside (P003 to P005), then the first one asked in: P006 is
    // at a desk now, no longer to come in.
    for n in 1..=4 {
        let event = json!({"kind": "call", "desk": n.to_string()});
        post(&base, desk, "big", &format!("call-{n}"), event).await;
    }
    let expected: Vec<String> = (7..=15).map(|n| format!("P{n:03}")).collect();

    let (shown, more) = eventually(
        "the display lists the tickets asked in",
        Duration::from_secs(5),
        || async {
            let items = c.find_all(Locator::Css("#please-enter > li")).await.ok()?;
            let mut shown = Vec::new();
            let mut more = None;
            for (i, item) in items.iter().enumerate() {
                if item.attr("hidden").await.ok()?.is_some() {
                    continue;
                }
                let label = item.text().await.ok()?;
                match item.attr("data-ticket").await.ok()? {
                    Some(ticket) => shown.push(ticket),
                    None => {
                        // The "+N" marker, and it is the last item.
                        (i == items.len() - 1).then_some(())?;
                        more = Some(label);
                    }
                }
            }
            let listed = shown.len() + more.as_ref().map_or(0, |m| m[1..].parse().unwrap_or(0));
            (listed == expected.len()).then_some((shown, more))
        },
    )
    .await;
    assert!(
        !shown.contains(&"P006".to_owned()),
        "the called ticket is listed"
    );
    assert_eq!(
        shown,
        expected[..shown.len()],
        "in the order they were asked in"
    );
    let more = more.expect("the small screen needs a +N marker");
    assert_eq!(more, format!("+{}", expected.len() - shown.len()));
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_display_clock_is_the_services_clock_from_the_first_paint() {
    let Some(browser) = Browser::start("display clock").await else {
        return;
    };
    // The demo's clock is shifted to 09:30 in Oslo, whatever the time is here; with no simulated
    // terminals no change arrives that could correct a wrong clock later.
    let data = tempfile::tempdir().unwrap();
    let demo = quiet_demo(data.path());
    let c = browser.session(1600, 900).await;
    c.goto(&format!("{}/display/oslo-gronland", demo.base))
        .await
        .unwrap();
    let first = eventually("the clock shows", Duration::from_secs(10), || async {
        text(&c, "#clock").await.filter(|t| !t.is_empty())
    })
    .await;
    assert!(
        first.starts_with("09:3") || first.starts_with("09:4"),
        "the display's first clock reads {first}, not the service's 09:3x"
    );
    c.close().await.unwrap();
}

#[tokio::test]
async fn sound_once_enabled_stays_enabled_after_a_reload() {
    let Some(browser) = Browser::start("display sound").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let c = display(&browser, &base, "small", (1600, 900)).await;
    eventually("sound is offered", Duration::from_secs(5), || async {
        (attr(&c, "body", "data-sound").await? == "off").then_some(())
    })
    .await;
    click(&c, "#sound").await;
    eventually("sound is on", Duration::from_secs(5), || async {
        (attr(&c, "body", "data-sound").await? == "on").then_some(())
    })
    .await;

    c.refresh().await.unwrap();
    // The test browser allows autoplay, as a kiosk started for it does: on again at once.
    eventually(
        "sound is on again after the reload",
        Duration::from_secs(5),
        || async { (attr(&c, "body", "data-sound").await? == "on").then_some(()) },
    )
    .await;
    assert!(attr(&c, "#sound", "hidden").await.is_some());
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_second_line_is_the_screens_chosen_language_and_arabic_reads_right_to_left() {
    let Some(browser) = Browser::start("display second language").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let c = browser.session(1600, 900).await;
    c.goto(&format!("{base}/display/small?second=ar"))
        .await
        .unwrap();
    let second = "#sign .sign-text > .en";
    eventually(
        "the sign's second line is Arabic",
        Duration::from_secs(10),
        || async { (text(&c, second).await? == "ادخل").then_some(()) },
    )
    .await;
    assert_eq!(attr(&c, second, "dir").await.as_deref(), Some("rtl"));
    assert_eq!(attr(&c, second, "lang").await.as_deref(), Some("ar"));
    // The first line stays bokmål.
    assert_eq!(
        text(&c, "#sign .sign-text > .nb").await.as_deref(),
        Some("KOM INN")
    );

    // Remembered by this screen: the plain address keeps Arabic after a restart of the browser
    // page; another choice replaces it.
    c.goto(&format!("{base}/display/small")).await.unwrap();
    eventually("Arabic is remembered", Duration::from_secs(10), || async {
        (text(&c, second).await? == "ادخل").then_some(())
    })
    .await;
    c.goto(&format!("{base}/display/small?second=pl"))
        .await
        .unwrap();
    eventually("Polish replaces it", Duration::from_secs(10), || async {
        (text(&c, second).await? == "WEJDŹ").then_some(())
    })
    .await;
    assert_eq!(attr(&c, second, "dir").await.as_deref(), Some("ltr"));
    c.close().await.unwrap();
}

/// A browser that, like an ordinary one, plays sound only after a touch or a key on the page.
async fn browser_blocking_autoplay(browser: &Browser) -> Client {
    let caps = json!({
        "goog:chromeOptions": {
            "binary": browser.chrome,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1600,900", "--autoplay-policy=document-user-activation-required",
            ],
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&browser.url)
        .await
        .expect("chromedriver opens a Chromium session")
}

#[tokio::test]
async fn where_the_browser_blocks_sound_after_a_reload_the_display_says_so_and_a_touch_restores_it()
{
    let Some(browser) = Browser::start("display sound, autoplay blocked").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();
    let c = browser_blocking_autoplay(&browser).await;
    c.goto(&format!("{base}/display/small")).await.unwrap();
    eventually("sound is offered", Duration::from_secs(5), || async {
        (attr(&c, "body", "data-sound").await? == "off").then_some(())
    })
    .await;
    click(&c, "#sound").await;
    eventually("sound is on", Duration::from_secs(5), || async {
        (attr(&c, "body", "data-sound").await? == "on").then_some(())
    })
    .await;

    c.refresh().await.unwrap();
    let said = eventually(
        "the display says sound waits for a touch",
        Duration::from_secs(5),
        || async {
            (attr(&c, "body", "data-sound").await? == "blocked").then_some(())?;
            text(&c, "#sound").await
        },
    )
    .await;
    assert!(said.contains("waiting for a touch"), "{said}");
    click(&c, "#occupancy").await;
    eventually("a touch turns it on", Duration::from_secs(5), || async {
        (attr(&c, "body", "data-sound").await? == "on").then_some(())
    })
    .await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_display_counts_parties_waiting_elsewhere_apart_and_lists_those_on_the_way() {
    let Some(browser) = Browser::start("display, waiting elsewhere").await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    // The demo's Grønland (cap 20) takes joins; its clock stands at 09:30 on a weekday.
    let demo = quiet_demo(data.path());
    let base = demo.base.clone();
    let station = "oslo-gronland";
    let c = display(&browser, &base, station, (1600, 900)).await;
    assert!(
        attr(&c, "#remote-figure", "hidden").await.is_some(),
        "nobody waits elsewhere yet"
    );

    // P001 joins an empty room: asked in from afar, on its way. Two parties of ten fill the
    // rest (one waits at the door), and P004 joins behind it, waiting elsewhere.
    join(&base, station).await;
    let desk = "demo-oslo-gronland-desk-1";
    for key in ["ten-a", "ten-b"] {
        let event = json!({"kind": "check_in", "service": "passport", "party_size": 10});
        post(&base, desk, station, key, event).await;
    }
    join(&base, station).await;
    let (at_door, elsewhere, coming) = eventually(
        "the display shows who waits where",
        Duration::from_secs(5),
        || async {
            attr(&c, "#remote-figure", "hidden")
                .await
                .is_none()
                .then_some(())?;
            let coming = text(&c, "#coming").await.filter(|t| t.contains("P001"))?;
            Some((
                text(&c, "#outside-count").await?,
                text(&c, "#remote-count").await?,
                coming,
            ))
        },
    )
    .await;
    assert_eq!((at_door.as_str(), elsewhere.as_str()), ("1", "1"));
    assert!(coming.contains("På vei"), "{coming}");
    assert!(coming.contains("On the way"), "{coming}");
    assert!(
        !coming.contains("P004"),
        "P004 waits, it is not asked in: {coming}"
    );
    c.close().await.unwrap();
}

/// Joins the demo station's passport queue from afar, which must be accepted.
async fn join(base: &str, station: &str) {
    let answer = reqwest::Client::new()
        .post(format!("{base}/api/v1/stations/{station}/join"))
        .json(&json!({"service": "passport"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
}
