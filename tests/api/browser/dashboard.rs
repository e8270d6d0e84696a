//! The guard dashboard in Chromium, as a guard uses it at real load: one cleaning dialog for
//! several surfaces, acknowledging several alerts at once, the header's counts in Norwegian, a
//! −1 the engine would refuse not offered, a filter on a phone, the token field focused, the
//! seat map's legend, and parties waiting elsewhere counted apart from those at the door.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use super::{Browser, attr, click, eventually, page_unit_tests, sign_in, text, type_into};
use crate::helpers::{ServerProcess, check_in, event_request, status_at, test_config_toml};

/// The real binary on the tests' config plus `extra` TOML (e.g. `[operations]`).
struct Dashboard {
    process: ServerProcess,
    _dir: tempfile::TempDir,
    client: reqwest::Client,
}

impl Dashboard {
    fn start(extra: &str) -> Dashboard {
        Self::start_with(&format!("{}\n{extra}\n", test_config_toml()))
    }

    /// The real binary on the config `toml`.
    fn start_with(toml: &str) -> Dashboard {
        let dir = tempfile::tempdir().unwrap();
        let config: PathBuf = dir.path().join("lobbywatch.toml");
        std::fs::write(&config, toml).unwrap();
        let process = ServerProcess::start(&config, &dir.path().join("data"));
        Dashboard {
            process,
            _dir: dir,
            client: reqwest::Client::new(),
        }
    }

    /// Posts one event as `device` (its token is `{device}-token`) and expects it accepted.
    async fn post(&self, device: &str, station: &str, body: Value) {
        let key = format!("{:032x}", rand::random::<u128>());
        let response = event_request(
            &self.client,
            &self.process.base,
            &format!("{device}-token"),
            station,
            &key,
            &body,
        )
        .send()
        .await
        .unwrap();
        assert!(
            response.status().is_success(),
            "{body} at {station}: {}",
            response.text().await.unwrap()
        );
    }

    async fn check_ins(&self, station: &str, n: usize) {
        for _ in 0..n {
            self.post(&format!("{station}-desk"), station, check_in("passport"))
                .await;
        }
    }

    async fn status(&self, station: &str) -> Value {
        status_at(&self.client, &self.process.base, station).await
    }

    /// The dashboard in a window of `width`×`height`, signed in as `guard`.
    async fn open(&self, browser: &Browser, width: u32, height: u32, guard: &str) -> Client {
        let c = browser.session(width, height).await;
        c.goto(&format!("{}/dashboard", self.process.base))
            .await
            .unwrap();
        sign_in(&c, guard).await;
        c
    }
}

/// The surfaces named by a station's open cleaning alerts, grouped (`params.surfaces`) or one
/// alert per surface (`surface`).
fn due_surfaces(doc: &Value) -> Vec<String> {
    let mut due: Vec<String> = doc["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "cleaning_due" && a["state"] != "cleared")
        .flat_map(|a| match a["params"]["surfaces"].as_array() {
            Some(list) => list
                .iter()
                .map(|s| s["surface"].as_str().unwrap().to_owned())
                .collect(),
            None => vec![a["surface"].as_str().unwrap().to_owned()],
        })
        .collect();
    due.sort();
    due
}

fn active_alerts(doc: &Value) -> usize {
    doc["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["state"] == "active")
        .count()
}

async fn run_js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

const SMALL: &str = "article.station-card[data-station='small']";

#[tokio::test]
async fn a_guard_marks_two_due_surfaces_cleaned_in_one_dialog() {
    let Some(browser) = Browser::start("dashboard cleaning dialog").await else {
        return;
    };
    // Every visitor makes every surface due.
    let service = Dashboard::start("[operations]\ncleaning_every_visitors = 1");
    service.check_ins("small", 1).await;
    let due = due_surfaces(&service.status("small").await);
    assert_eq!(
        due,
        ["chairs", "counter", "door handles", "ticket machine"],
        "the visitor made every surface due"
    );

    let c = service.open(&browser, 1280, 900, "oslo-guard-token").await;
    let open_button = format!("{SMALL} li[data-kind='cleaning_due'] button[data-action='cleaned']");
    click(&c, &open_button).await;
    // Every due surface is ticked, named in Norwegian.
    let ticked = eventually("the dialog lists the due surfaces", Duration::from_secs(5), || async {
        let v = run_js(&c, "return [...document.querySelectorAll('#surface-choices input:checked')].map(i => i.value).sort()").await;
        let list: Vec<String> = serde_json::from_value(v).ok()?;
        (!list.is_empty()).then_some(list)
    })
    .await;
    assert_eq!(ticked, due);
    let labels = text(&c, "#surface-choices").await.unwrap();
    assert!(
        labels.contains("dørhåndtak") && labels.contains("billettautomat"),
        "{labels}"
    );

    // The guard cleaned two of them: untick the other two and record.
    for surface in ["chairs", "ticket machine"] {
        click(&c, &format!("#surface-choices input[value='{surface}']")).await;
    }
    click(&c, "#clean-form button[type='submit']").await;
    let result = eventually(
        "the card says what was recorded",
        Duration::from_secs(5),
        || async {
            text(&c, &format!("{SMALL} .card-result"))
                .await
                .filter(|t| t.starts_with('✓'))
        },
    )
    .await;
    assert!(
        result.contains("dørhåndtak og skranke") || result.contains("skranke og dørhåndtak"),
        "{result}"
    );
    assert_eq!(
        attr(&c, "#clean-dialog", "open").await,
        None,
        "the dialog closed"
    );

    // One `cleaned` event per ticked surface reached the service, and only those.
    let doc = service.status("small").await;
    let mut cleaned: Vec<&str> = doc["cleaning"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["surface"].as_str().unwrap())
        .collect();
    cleaned.sort_unstable();
    assert_eq!(cleaned, ["counter", "door handles"], "{doc}");
    assert_eq!(due_surfaces(&doc), ["chairs", "ticket machine"]);
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_guard_acknowledges_several_alerts_in_one_action() {
    let Some(browser) = Browser::start("dashboard bulk acknowledge").await else {
        return;
    };
    let service = Dashboard::start("[operations]\ncleaning_every_visitors = 1");
    // Small is full (at cap) and every surface is due at small and big.
    service.check_ins("small", 3).await;
    service.check_ins("big", 1).await;
    let at_small = active_alerts(&service.status("small").await);
    let at_big = active_alerts(&service.status("big").await);
    assert!(
        at_small >= 2 && at_big >= 1,
        "{at_small} at small, {at_big} at big"
    );

    let c = service.open(&browser, 1280, 900, "oslo-guard-token").await;
    let shown = format!("Kvitter alle viste ({})", at_small + at_big);
    eventually(
        "every active alert is offered",
        Duration::from_secs(10),
        || async { (text(&c, "#ack-shown").await? == shown).then_some(()) },
    )
    .await;
    assert_eq!(
        attr(&c, "#ack-selected", "disabled").await.as_deref(),
        Some("true")
    );

    // First the one ticked alert at big.
    click(
        &c,
        "article.station-card[data-station='big'] li[data-state='active'] input.alert-pick",
    )
    .await;
    assert_eq!(
        text(&c, "#ack-selected").await.as_deref(),
        Some("Kvitter valgte (1)")
    );
    click(&c, "#ack-selected").await;
    eventually(
        "the ticked alert is acknowledged",
        Duration::from_secs(5),
        || async {
            text(&c, "#bulk-result .summary")
                .await
                .filter(|t| t == "1 av 1 varsel kvittert.")
        },
    )
    .await;
    assert_eq!(active_alerts(&service.status("big").await), at_big - 1);
    assert_eq!(active_alerts(&service.status("small").await), at_small);

    // Then all the rest at once, one line per alert.
    let rest = at_small + at_big - 1;
    eventually("the rest are offered", Duration::from_secs(5), || async {
        (text(&c, "#ack-shown").await? == format!("Kvitter alle viste ({rest})")).then_some(())
    })
    .await;
    click(&c, "#ack-shown").await;
    let summary = format!("{rest} av {rest} varsler kvittert.");
    eventually("all are acknowledged", Duration::from_secs(5), || async {
        text(&c, "#bulk-result .summary")
            .await
            .filter(|t| *t == summary)
    })
    .await;
    let lines = run_js(
        &c,
        "return document.querySelectorAll('#bulk-result li.ok').length",
    )
    .await;
    assert_eq!(lines, json!(rest));
    assert_eq!(active_alerts(&service.status("small").await), 0);
    assert_eq!(active_alerts(&service.status("big").await), 0);
    eventually(
        "nothing is left to acknowledge",
        Duration::from_secs(5),
        || async { (text(&c, "#ack-shown").await? == "Kvitter alle viste (0)").then_some(()) },
    )
    .await;
    c.close().await.unwrap();
}

/// The header's count of `field` ("full", "over", "alerts"): the short text and the sentence.
async fn header_count(c: &Client, field: &str) -> Option<(String, String)> {
    let css = format!("#totals li[data-count='{field}']");
    let short = text(c, &format!("{css} > [aria-hidden]")).await?;
    let sentence = attr(c, &css, "title").await?;
    Some((short, sentence))
}

#[tokio::test]
async fn the_header_counts_full_and_over_cap_stations_apart_in_norwegian() {
    let Some(browser) = Browser::start("dashboard header counts").await else {
        return;
    };
    let service = Dashboard::start("");
    // Small (cap 3) and Bergen (cap 2 by its seats) are full.
    let bergen_cap = service.status("bergen").await["cap"].as_u64().unwrap();
    service.check_ins("small", 3).await;
    service.check_ins("bergen", bergen_cap as usize).await;

    let c = service.open(&browser, 1600, 1000, "all-guard-token").await;
    let want = |full: &str, full_s: &str, over: &str, over_s: &str| {
        [
            ("full", full.to_owned(), full_s.to_owned()),
            ("over", over.to_owned(), over_s.to_owned()),
        ]
    };
    let counts = |expected: [(&'static str, String, String); 2]| {
        let c = &c;
        async move {
            eventually(
                "the header shows the counts",
                Duration::from_secs(10),
                || {
                    let expected = expected.clone();
                    async move {
                        for (field, short, sentence) in expected {
                            let (s, t) = header_count(c, field).await?;
                            if s.trim_start_matches(['■', '✖', ' ']) != short || t != sentence {
                                return None;
                            }
                        }
                        Some(())
                    }
                },
            )
            .await;
        }
    };
    counts(want(
        "2 fulle",
        "2 stasjoner er fulle",
        "0 over grensen",
        "0 stasjoner over grensen",
    ))
    .await;

    // A guard counts one more into small: it is over the cap, Bergen alone is full.
    service
        .post(
            "oslo-guard",
            "small",
            json!({"kind": "correction", "delta": 1, "reason": "telt ved døra"}),
        )
        .await;
    counts(want(
        "1 full",
        "1 stasjon er full",
        "1 over grensen",
        "1 stasjon over grensen",
    ))
    .await;

    // Nynorsk and English count the same stations in their own words.
    for (language, full, over) in [
        ("nn", "1 stasjon er full", "1 stasjon over grensa"),
        ("en", "1 station is full", "1 station over cap"),
        ("nb", "1 stasjon er full", "1 stasjon over grensen"),
    ] {
        c.find(Locator::Css("#lang"))
            .await
            .unwrap()
            .select_by_value(language)
            .await
            .unwrap();
        eventually(
            &format!("the header speaks {language}"),
            Duration::from_secs(5),
            || async {
                let (_, f) = header_count(&c, "full").await?;
                let (_, o) = header_count(&c, "over").await?;
                (f == full && o == over).then_some(())
            },
        )
        .await;
    }

    // The alert count is the service's, in Norwegian.
    let mut active = 0;
    for station in ["small", "big", "closed", "bergen"] {
        active += active_alerts(&service.status(station).await);
    }
    let (short, sentence) = header_count(&c, "alerts").await.unwrap();
    let noun = if active == 1 { "varsel" } else { "varsler" };
    assert_eq!(
        short.trim_start_matches(['⚠', ' ']),
        format!("{active} {noun}")
    );
    assert!(
        sentence.starts_with(&format!("{active} aktive")),
        "{sentence}"
    );
    c.close().await.unwrap();
}

#[tokio::test]
async fn minus_one_is_not_offered_while_nobody_uncounted_is_inside() {
    let Some(browser) = Browser::start("dashboard −1").await else {
        return;
    };
    let service = Dashboard::start("");
    service.check_ins("small", 1).await;
    let c = service.open(&browser, 1280, 900, "oslo-guard-token").await;
    let minus = format!("{SMALL} button[data-action='correct-minus']");
    eventually("−1 is disabled", Duration::from_secs(10), || async {
        attr(&c, &minus, "disabled").await
    })
    .await;
    let why = attr(&c, &minus, "title").await.unwrap();
    assert!(why.contains("ingen person uten billett"), "{why}");
    let name = attr(&c, &minus, "aria-label").await.unwrap();
    assert!(name.contains("går ikke"), "{name}");
    // Nor in the correction dialog opened with +1.
    click(&c, &format!("{SMALL} button[data-action='correct-plus']")).await;
    assert_eq!(
        attr(
            &c,
            "#correct-form input[name='delta'][value='-1']",
            "disabled"
        )
        .await
        .as_deref(),
        Some("true")
    );
    assert_eq!(attr(&c, "#minus-hint", "hidden").await, None);
    click(&c, "#correct-form .cancel").await;

    // Once the guard has counted someone in without a ticket, −1 is offered.
    service
        .post(
            "oslo-guard",
            "small",
            json!({"kind": "correction", "delta": 1, "reason": "følgeperson uten billett"}),
        )
        .await;
    eventually("−1 is offered", Duration::from_secs(10), || async {
        attr(&c, &minus, "disabled").await.is_none().then_some(())
    })
    .await;
    assert_eq!(attr(&c, &minus, "title").await.as_deref(), Some(""));
    c.close().await.unwrap();
}

/// The page's height in CSS pixels.
async fn page_height(c: &Client) -> u64 {
    run_js(c, "return document.documentElement.scrollHeight")
        .await
        .as_u64()
        .unwrap()
}

async fn shown_cards(c: &Client) -> Vec<String> {
    let v = run_js(
        c,
        "return [...document.querySelectorAll('article.station-card')].filter(a => !a.hidden).map(a => a.dataset.station).sort()",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn on_a_phone_the_dashboard_shows_the_stations_that_need_a_guard_and_finds_one_by_name() {
    let Some(browser) = Browser::start("dashboard on a phone").await else {
        return;
    };
    let service = Dashboard::start("");
    service.check_ins("small", 3).await;
    let c = service.open(&browser, 390, 844, "all-guard-token").await;
    let full_small = format!("{SMALL}[data-level='full']");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&full_small))
        .await
        .expect("the small station is full");

    // On a phone the filter starts on "only stations with alerts or full".
    assert_eq!(
        run_js(
            &c,
            "return document.getElementById('attention-only').checked"
        )
        .await,
        json!(true)
    );
    eventually(
        "only the full station is shown",
        Duration::from_secs(5),
        || async { (shown_cards(&c).await == ["small"]).then_some(()) },
    )
    .await;
    assert_eq!(
        text(&c, "#filter-count").await.as_deref(),
        Some("Viser 1 av 4 stasjoner")
    );
    let filtered = page_height(&c).await;

    click(&c, "#show-all").await;
    eventually("every station is shown", Duration::from_secs(5), || async {
        (shown_cards(&c).await.len() == 4).then_some(())
    })
    .await;
    let all = page_height(&c).await;
    assert!(
        filtered * 2 < all,
        "the filtered page ({filtered} px) is not much shorter than all stations ({all} px)"
    );

    // Jump to a station by typing its name.
    type_into(&c, "#station-filter", "bergen").await;
    eventually("only Bergen is shown", Duration::from_secs(5), || async {
        (shown_cards(&c).await == ["bergen"]).then_some(())
    })
    .await;
    assert!(page_height(&c).await < all);
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_dashboard_focuses_its_token_field_and_its_seat_legend_is_good_norwegian() {
    let Some(browser) = Browser::start("dashboard focus and legend").await else {
        return;
    };
    let service = Dashboard::start("");
    let c = browser.session(1280, 900).await;
    c.goto(&format!("{}/dashboard", service.process.base))
        .await
        .unwrap();
    eventually(
        "the token field has focus",
        Duration::from_secs(5),
        || async {
            (run_js(
                &c,
                "return document.activeElement && document.activeElement.id",
            )
            .await
                == "token")
                .then_some(())
        },
    )
    .await;

    // Bergen has a seat plan; its guard's one card opens with the room.
    sign_in(&c, "vest-guard-token").await;
    let legend = "article.station-card[data-station='bergen'] .room-box ul.legend li";
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(legend))
        .await
        .expect("the seat map's legend is shown");
    let items = run_js(
        &c,
        &format!(
            "return [...document.querySelectorAll(\"{legend}\")].map(li => li.lastChild.textContent.trim())"
        ),
    )
    .await;
    assert_eq!(
        items,
        json!([
            "stol som kan brukes",
            "stol som ikke kan brukes (under 2 m fra en stol som kan brukes)",
            "2 m rundt hver stol som kan brukes",
        ])
    );
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_dashboard_reads_grouped_and_per_surface_cleaning_alerts_alike_in_its_unit_tests() {
    let Some(browser) = Browser::start("dashboard unit tests").await else {
        return;
    };
    let (passed, failed, report) = page_unit_tests(&browser, "dashboard.test.html").await;
    assert_eq!(failed, 0, "failing dashboard unit tests:\n{report}");
    // Every test of the file ran (a module that failed to load would run none).
    assert_eq!(passed, 6, "not every dashboard unit test ran:\n{report}");
}

#[tokio::test]
async fn parties_waiting_elsewhere_are_counted_apart_from_the_door_and_those_on_the_way_listed() {
    let Some(browser) = Browser::start("dashboard, parties waiting elsewhere").await else {
        return;
    };
    let service = Dashboard::start_with(&crate::join::toml_with_joins());
    let join = || async {
        let answer = service
            .client
            .post(format!(
                "{}/api/v1/stations/small/join",
                service.process.base
            ))
            .json(&json!({"service": "passport"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
    };
    // Cap 3: P001 joins the empty room (asked in, on its way), two fill it, P004 waits at the
    // door and P005 joins behind it, waiting elsewhere.
    join().await;
    service.check_ins("small", 3).await;
    join().await;

    let c = service.open(&browser, 1280, 900, "oslo-guard-token").await;
    let outside = eventually(
        "the card counts the door and elsewhere apart",
        Duration::from_secs(5),
        || async {
            text(&c, &format!("{SMALL} .outside-line"))
                .await
                .filter(|t| t.contains("andre steder"))
        },
    )
    .await;
    assert!(outside.contains("ved døra 1 · andre steder 1"), "{outside}");
    let remote = attr(&c, &format!("{SMALL} li.chip[data-ticket='P005']"), "class")
        .await
        .unwrap();
    assert!(
        remote.contains("remote"),
        "P005 is drawn as waiting elsewhere: {remote}"
    );
    let at_door = attr(&c, &format!("{SMALL} li.chip[data-ticket='P004']"), "class")
        .await
        .unwrap();
    assert!(
        !at_door.contains("remote"),
        "P004 is at the door: {at_door}"
    );
    let coming = text(&c, &format!("{SMALL} .coming-line")).await.unwrap();
    assert!(coming.contains("P001"), "{coming}");
    assert!(
        coming.contains("innen"),
        "with the time its room is held until: {coming}"
    );
    c.close().await.unwrap();
}
