//! The four pages in a real headless Chromium, driven over WebDriver (chromedriver + fantoccini)
//! against the real `lobbywatch` binary — the way a visitor, a guard and a clerk use them.
//!
//! They need Debian's `chromium` and `chromium-driver` (or `CHROME` / `CHROMEDRIVER` pointing at a
//! browser and its driver). Without them each test writes why it was skipped straight to the
//! terminal and passes — unless `LOBBYWATCH_REQUIRE_BROWSER=1` (set by `.ci/run`), which makes a
//! missing browser a failure.
//!
//! `cargo test --test api browser::screenshots -- --ignored` drives the pages against the demo and
//! writes the README's screenshots to `docs/screenshots/`.
//!
//! This file holds the harness (the browser, the server, the small page helpers) and the tests
//! that cross pages; each page's own tests live beside it, one file per page.

mod messages;

use std::future::Future;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use lobbywatch::config::Config;
use serde_json::{Value, json};

use crate::helpers::{ServerProcess, status_at, write_config};

mod booking;
mod dashboard;
mod display;
mod public;
mod slip;
mod ticket;

/// A chromedriver process; each [`Browser::session`] is a fresh headless Chromium.
struct Browser {
    driver: Child,
    url: String,
    chrome: PathBuf,
}

/// The browser and its driver, from the environment or Debian's paths.
fn find_browser() -> Result<(PathBuf, PathBuf), String> {
    let pick = |var: &str, candidates: &[&str]| -> Option<PathBuf> {
        std::env::var_os(var)
            .map(PathBuf::from)
            .into_iter()
            .chain(candidates.iter().map(PathBuf::from))
            .find(|p| p.is_file())
    };
    let chrome = pick(
        "CHROME",
        &[
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
        ],
    )
    .ok_or("no Chromium found (install Debian's `chromium`, or set CHROME)")?;
    let driver = pick(
        "CHROMEDRIVER",
        &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
    )
    .ok_or("no chromedriver found (install Debian's `chromium-driver`, or set CHROMEDRIVER)")?;
    Ok((chrome, driver))
}

impl Browser {
    /// Starts chromedriver, or returns `None` after saying on the terminal why `test` is skipped.
    async fn start(test: &str) -> Option<Browser> {
        let (chrome, driver) = match find_browser() {
            Ok(found) => found,
            Err(why) => {
                if std::env::var("LOBBYWATCH_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                    panic!("LOBBYWATCH_REQUIRE_BROWSER=1 but {why}");
                }
                // Written to the terminal itself: the test harness only captures `print!`.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED browser test {test}: {why}. `apt-get install chromium chromium-driver` to run it."
                );
                return None;
            }
        };
        let port = free_port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        eventually(
            "chromedriver accepts connections",
            Duration::from_secs(15),
            || async { std::net::TcpStream::connect(("127.0.0.1", port)).ok() },
        )
        .await;
        Some(Browser {
            driver,
            url,
            chrome,
        })
    }

    /// A new headless browser window of the given size.
    async fn session(&self, width: u32, height: u32) -> Client {
        let caps = json!({
            "goog:chromeOptions": {
                "binary": self.chrome,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    format!("--window-size={width},{height}"), "--hide-scrollbars",
                    "--lang=nb-NO", "--autoplay-policy=no-user-gesture-required",
                ],
            }
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("chromedriver opens a Chromium session")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `probe` every 50 ms until it yields a value, failing the test after `within`.
async fn eventually<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of the first element matching `css`, if there is one.
async fn text(c: &Client, css: &str) -> Option<String> {
    c.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

async fn attr(c: &Client, css: &str, name: &str) -> Option<String> {
    c.find(Locator::Css(css))
        .await
        .ok()?
        .attr(name)
        .await
        .ok()?
}

async fn exists(c: &Client, css: &str) -> bool {
    c.find(Locator::Css(css)).await.is_ok()
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} appears: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{css} clicks: {e}"));
}

async fn type_into(c: &Client, css: &str, value: &str) {
    let field = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} appears: {e}"));
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

/// Signs a page in with `token` and waits for its signed-in view.
async fn sign_in(c: &Client, token: &str) {
    type_into(c, "#token", token).await;
    click(c, "#sign-in").await;
    eventually("the page is signed in", Duration::from_secs(10), || async {
        (attr(c, "#app", "hidden").await.is_none() && exists(c, "#app").await).then_some(())
    })
    .await;
}

/// The terminal page of `station`, signed in and showing its service buttons.
async fn terminal(browser: &Browser, base: &str, station: &str, token: &str) -> Client {
    let c = browser.session(1280, 900).await;
    c.goto(&format!("{base}/terminal/{station}")).await.unwrap();
    sign_in(&c, token).await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("button[data-service='passport']"))
        .await
        .expect("the terminal shows its services");
    c
}

async fn check_in_on_terminal(c: &Client, appointment: Option<&str>) {
    if let Some(reference) = appointment {
        type_into(c, "#appointment", reference).await;
    }
    click(c, "button[data-service='passport']").await;
}

/// Waits until the terminal shows the ticket it was issued, and returns it.
async fn issued_ticket(c: &Client, previous: Option<&str>) -> String {
    eventually(
        "the terminal shows the issued ticket",
        Duration::from_secs(5),
        || async {
            attr(c, "#issued", "data-ticket")
                .await
                .filter(|t| !t.is_empty() && Some(t.as_str()) != previous)
        },
    )
    .await
}

struct Service {
    process: ServerProcess,
    _dir: tempfile::TempDir,
    config: PathBuf,
    data: PathBuf,
}

/// The real binary on the tests' config (small rooms, always open).
fn test_service() -> Service {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    Service {
        process: ServerProcess::start(&config, &data),
        _dir: dir,
        config,
        data,
    }
}

/// Every ticket of a status document, inside and outside.
fn tickets(doc: &Value) -> Vec<String> {
    let inside = doc["inside"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .flat_map(|v| v.as_array().cloned().unwrap_or_default());
    let outside = doc["outside"].as_array().cloned().unwrap_or_default();
    let mut all: Vec<String> = inside
        .chain(outside)
        .map(|p| p["ticket"].as_str().unwrap().to_owned())
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn the_public_page_shows_the_hours_of_the_chosen_station_and_service() {
    let Some(browser) = Browser::start("public page").await else {
        return;
    };
    // The built-in sample, as the public sees it.
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_lobbywatch"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .args(crate::backend::database_args(data.path()));
    let server = ServerProcess::spawn(command);
    let sample = Config::sample();
    let week_of = |station: &str, service: &str| -> Vec<(String, String)> {
        let station = sample
            .stations
            .iter()
            .find(|s| s.id.as_str() == station)
            .unwrap();
        let service = station
            .services
            .iter()
            .find(|s| s.id.as_str() == service)
            .unwrap();
        service
            .hours
            .week()
            .into_iter()
            .map(|d| {
                let hours = if d.ranges.is_empty() {
                    "Stengt".to_owned()
                } else {
                    d.ranges.join(", ").replace('-', "–")
                };
                (d.day.to_owned(), hours)
            })
            .collect()
    };
    let choices = [
        ("vest", "bergen-sentrum", "residence"),
        ("oslo", "oslo-gronland", "passport"),
    ];
    // The two choices differ, so the page must really follow the drop-downs.
    assert_ne!(
        week_of(choices[0].1, choices[0].2),
        week_of(choices[1].1, choices[1].2)
    );

    let c = browser.session(1280, 900).await;
    c.goto(&format!("{}/", server.base)).await.unwrap();
    for (district, station, service) in choices {
        for (select, value) in [
            ("#district", district),
            ("#station", station),
            ("#service", service),
        ] {
            let css = format!("{select} option[value='{value}']");
            c.wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css(&css))
                .await
                .unwrap_or_else(|e| panic!("{css} is offered: {e}"));
            c.find(Locator::Css(select))
                .await
                .unwrap()
                .select_by_value(value)
                .await
                .unwrap();
        }
        let expected = week_of(station, service);
        eventually(
            &format!("the page shows the week of {station}/{service}"),
            Duration::from_secs(5),
            || async {
                for (day, hours) in &expected {
                    let shown = text(&c, &format!("#hours tr[data-day='{day}'] td")).await?;
                    if &shown != hours {
                        return None;
                    }
                }
                Some(())
            },
        )
        .await;
        // And it is live: the sign is showing for the chosen station; the coming 14 days are
        // listed (their changes from the week, or that there are none).
        eventually(
            "the sign and the coming days are shown",
            Duration::from_secs(5),
            || async {
                text(&c, "#sign").await.filter(|t| !t.is_empty())?;
                text(&c, "#changes li").await.filter(|t| !t.is_empty())
            },
        )
        .await;
    }
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_check_in_on_the_terminal_reaches_the_dashboard_and_the_display_within_two_seconds() {
    let Some(browser) = Browser::start("terminal → dashboard and display").await else {
        return;
    };
    let service = test_service();
    let base = service.process.base.clone();

    let dashboard = browser.session(1600, 1000).await;
    dashboard.goto(&format!("{base}/dashboard")).await.unwrap();
    sign_in(&dashboard, "oslo-guard-token").await;
    let card = "article.station-card[data-station='small']";
    dashboard
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(card))
        .await
        .expect("the dashboard shows the station");

    let display = browser.session(1600, 900).await;
    display
        .goto(&format!("{base}/display/small"))
        .await
        .unwrap();
    eventually(
        "the display shows the empty room",
        Duration::from_secs(10),
        || async { (text(&display, "#occupancy").await?.replace(' ', "") == "0/3").then_some(()) },
    )
    .await;

    let desk = terminal(&browser, &base, "small", "small-desk-token").await;
    check_in_on_terminal(&desk, None).await;
    let clicked = Instant::now();
    let ticket = issued_ticket(&desk, None).await;
    assert_eq!(ticket, "P001");
    assert_eq!(
        attr(&desk, "#issued", "data-state").await.as_deref(),
        Some("inside")
    );

    let within = Duration::from_secs(2).saturating_sub(clicked.elapsed());
    eventually("the dashboard shows the check-in", within, || async {
        let headcount = text(&dashboard, &format!("{card} [data-field='headcount']")).await?;
        (headcount == "1" && exists(&dashboard, &format!("{card} [data-ticket='P001']")).await)
            .then_some(())
    })
    .await;
    let within = Duration::from_secs(2).saturating_sub(clicked.elapsed());
    eventually("the display shows the check-in", within, || async {
        (text(&display, "#occupancy").await?.replace(' ', "") == "1/3").then_some(())
    })
    .await;

    // The desk calls it: the display names the ticket and the desk.
    type_into(&desk, "#desk", "4").await;
    click(&desk, "#call-next").await;
    let called = Instant::now();
    eventually(
        "the display shows the call",
        Duration::from_secs(2),
        || async {
            let current = attr(&display, "#current-call", "data-ticket").await?;
            let shown = text(&display, "#current-call").await?;
            (current == "P001" && shown.contains('4')).then_some(())
        },
    )
    .await;
    assert!(called.elapsed() < Duration::from_secs(2));
    for c in [dashboard, display, desk] {
        c.close().await.unwrap();
    }
}

#[tokio::test]
async fn the_display_never_shows_an_appointment_reference() {
    let Some(browser) = Browser::start("display privacy").await else {
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

    const SECRET: &str = "BK-4711-PRIVATE";
    // Fill the room (cap 3) so the party with the appointment waits outside, is asked in when
    // room frees up, and is then called — every place the display shows a ticket.
    desk.find(Locator::Css("#party-size"))
        .await
        .unwrap()
        .select_by_value("3")
        .await
        .unwrap();
    check_in_on_terminal(&desk, None).await;
    let first = issued_ticket(&desk, None).await;
    check_in_on_terminal(&desk, Some(SECRET)).await;
    let second = issued_ticket(&desk, Some(&first)).await;
    assert_eq!(
        attr(&desk, "#issued", "data-state").await.as_deref(),
        Some("outside")
    );

    // The service did receive the reference (so its absence below means something).
    let doc = status_at(&reqwest::Client::new(), &base, "small").await;
    assert_eq!(doc["outside"][0]["appointment"], SECRET, "{doc}");

    let shows_no_secret = |stage: &'static str| {
        let display = &display;
        async move {
            let html = display.source().await.unwrap();
            let visible = text(display, "body").await.unwrap_or_default();
            assert!(
                !html.contains(SECRET),
                "{stage}: the display's page holds the reference"
            );
            assert!(
                !visible.contains(SECRET),
                "{stage}: the display shows the reference"
            );
        }
    };
    eventually(
        "the display counts the outside queue",
        Duration::from_secs(5),
        || async { (text(&display, "#occupancy").await?.replace(' ', "") == "3/3").then_some(()) },
    )
    .await;
    shows_no_secret("queued outside").await;

    // The first party leaves: the second is asked in.
    let row = format!("#inside-list [data-ticket='{first}'] button[data-action='check_out']");
    click(&desk, &row).await;
    eventually(
        "the display asks the second party in",
        Duration::from_secs(5),
        || async {
            exists(&display, &format!("#please-enter [data-ticket='{second}']"))
                .await
                .then_some(())
        },
    )
    .await;
    shows_no_secret("asked in").await;

    click(&desk, "#call-next").await;
    eventually(
        "the display shows the call",
        Duration::from_secs(5),
        || async {
            (attr(&display, "#current-call", "data-ticket").await? == second).then_some(())
        },
    )
    .await;
    shows_no_secret("called").await;
    for c in [display, desk] {
        c.close().await.unwrap();
    }
}

#[tokio::test]
async fn check_ins_made_while_the_service_is_down_are_applied_once_after_it_returns() {
    let Some(browser) = Browser::start("terminal offline outbox").await else {
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
    let desk = terminal(&browser, &base, "big", "big-desk-token").await;

    // The service goes away (hard) while the page stays open.
    process.kill9();
    for _ in 0..3 {
        check_in_on_terminal(&desk, None).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eventually(
        "the page holds three events",
        Duration::from_secs(10),
        || async { (text(&desk, "#outbox-count").await? == "3").then_some(()) },
    )
    .await;
    assert_eq!(
        attr(&desk, "#issued", "data-state").await.as_deref(),
        Some("queued")
    );

    // Back on the same address with the same log.
    let process = ServerProcess::start_on(&config, &data, &listen);
    eventually(
        "the page has sent them",
        Duration::from_secs(30),
        || async { (text(&desk, "#outbox-count").await? == "0").then_some(()) },
    )
    .await;
    let doc = status_at(&reqwest::Client::new(), &process.base, "big").await;
    assert_eq!(doc["seq"], 3, "exactly three events were applied: {doc}");
    assert_eq!(tickets(&doc), ["P001", "P002", "P003"]);

    // A reload sends nothing again.
    desk.refresh().await.unwrap();
    eventually(
        "the reloaded page is live",
        Duration::from_secs(10),
        || async { (text(&desk, "#outbox-count").await? == "0").then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        status_at(&reqwest::Client::new(), &process.base, "big").await["seq"],
        3
    );
    desk.close().await.unwrap();
}

/// Runs a page's unit tests, `web/tests/{page}`, in the browser and returns how many passed, how
/// many failed, and the page's report. The test pages are served only with `--web-dir` (never
/// embedded), so the service reads the pages, the modules under test and their tests from this
/// checkout.
async fn page_unit_tests(browser: &Browser, page: &str) -> (usize, usize, String) {
    let data = tempfile::tempdir().unwrap();
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let mut command = Command::new(env!("CARGO_BIN_EXE_lobbywatch"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .args(crate::backend::database_args(data.path()))
        .arg("--web-dir")
        .arg(&web);
    let server = ServerProcess::spawn(command);

    let c = browser.session(1280, 900).await;
    c.goto(&format!("{}/tests/{page}", server.base))
        .await
        .unwrap();
    eventually(
        &format!("the unit tests of {page} have run"),
        Duration::from_secs(20),
        || async { attr(&c, "body", "data-done").await },
    )
    .await;
    let count = |field: &'static str| {
        let c = &c;
        async move {
            attr(c, "#summary", field)
                .await
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or_else(|| panic!("#summary has {field}"))
        }
    };
    let (passed, failed) = (count("data-passed").await, count("data-failed").await);
    let report = text(&c, "#results").await.unwrap_or_default();
    c.close().await.unwrap();
    (passed, failed, report)
}

#[tokio::test]
async fn the_terminal_outbox_passes_its_unit_tests_in_the_browser() {
    let Some(browser) = Browser::start("outbox unit tests").await else {
        return;
    };
    let (passed, failed, report) = page_unit_tests(&browser, "outbox.test.html").await;
    assert_eq!(failed, 0, "failing outbox tests:\n{report}");
    // Every test of the file ran (a module that failed to load would run none).
    assert!(passed >= 12, "only {passed} outbox tests ran:\n{report}");
}

/// Keeps a screenshot a test took on its way: in `docs/screenshots/` (the README's) when
/// `LOBBYWATCH_SCREENSHOTS` is set, else in the tests' scratch directory — so an ordinary
/// `cargo test` never changes a tracked file.
pub(super) fn keep_screenshot(name: &str, png: &[u8]) {
    let dir = if std::env::var_os("LOBBYWATCH_SCREENSHOTS").is_some() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
    };
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

/// Not a check: produces the README's screenshots from the running demo.
#[tokio::test]
#[ignore = "writes docs/screenshots/*.png from the demo; run on purpose"]
async fn screenshots() {
    let Some(browser) = Browser::start("screenshots").await else {
        return;
    };
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_lobbywatch"));
    command
        .args(["demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path());
    let demo = ServerProcess::spawn(command);
    let base = demo.base.clone();
    // Let the simulated terminals fill the rooms and form queues.
    tokio::time::sleep(Duration::from_secs(45)).await;
    let station = "oslo-gronland";

    let shot = |name: &'static str, c: Client| {
        let path = out.join(format!("{name}.png"));
        async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            std::fs::write(&path, c.screenshot().await.unwrap()).unwrap();
            c.close().await.unwrap();
        }
    };

    let c = browser.session(1280, 900).await;
    c.goto(&format!(
        "{base}/#district=oslo&station={station}&service=passport"
    ))
    .await
    .unwrap();
    shot("public", c).await;

    let c = browser.session(1920, 1080).await;
    c.goto(&format!("{base}/dashboard")).await.unwrap();
    sign_in(&c, "demo-national-guard").await;
    shot("dashboard", c).await;

    // Trøndelag's one station has a seat plan: its card opens with the chart and the seat map.
    let c = browser.session(1024, 1366).await;
    c.goto(&format!("{base}/dashboard")).await.unwrap();
    sign_in(&c, "demo-trondelag-guard").await;
    shot("dashboard-tablet", c).await;

    let c = browser.session(1920, 1080).await;
    c.goto(&format!("{base}/display/{station}")).await.unwrap();
    shot("display", c).await;

    let c = terminal(&browser, &base, station, &format!("demo-{station}-desk-1")).await;
    check_in_on_terminal(&c, None).await;
    issued_ticket(&c, None).await;
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    shot("terminal", c).await;

    // The same desk on a tablet: "Call next" and the current visitor stay on screen.
    let c = browser.session(768, 1024).await;
    c.goto(&format!("{base}/terminal/{station}")).await.unwrap();
    sign_in(&c, &format!("demo-{station}-desk-2")).await;
    shot("terminal-tablet", c).await;

    // A guard on a phone: the stations that need a guard, not a page 8,000 px tall.
    let c = browser.session(390, 844).await;
    c.goto(&format!("{base}/dashboard")).await.unwrap();
    sign_in(&c, "demo-national-guard").await;
    shot("dashboard-phone", c).await;

    // A visitor on a phone, in Arabic: right to left, figures and times left to right.
    let c = browser.session(390, 844).await;
    c.goto(&format!(
        "{base}/?lang=ar#district=oslo&station={station}&service=passport"
    ))
    .await
    .unwrap();
    shot("public-phone-ar", c).await;

    // A visitor books passport at the station on the public page and lands on the booking's page.
    let c = browser.session(390, 844).await;
    booking::book_on_the_public_page(&c, &base, "oslo", station).await;
    shot("booking-page", c).await;
}

mod terminal;
