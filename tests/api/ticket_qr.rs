//! `GET /t/{code}/qr.svg`: the ticket link's QR code, drawn for any well-formed code (never an
//! answer to "does this ticket exist"), pointing at the configured public origin or the request's
//! host, never kept by a cache, and a 404 problem for anything that is not a code.

use lobbywatch::http::qr;
use serde_json::Value;

use crate::helpers::{TestApp, test_config};

/// A well-formed code no check-in ever issued.
const CODE: &str = "AbCdEfGhIjKlMnOpQrStUv-_";

async fn get_qr(app: &TestApp, code: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/t/{code}/qr.svg")))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_qr_code_of_a_well_formed_code_is_an_uncached_svg_of_the_link_on_this_host() {
    let app = TestApp::spawn().await;
    let answer = get_qr(&app, CODE).await;
    assert_eq!(answer.status(), 200);
    let header = |name: &str| answer.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "image/svg+xml");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("referrer-policy"), "no-referrer");
    let svg = answer.text().await.unwrap();
    // The same drawing as the link's own: the code holds this host's ticket page, exactly.
    let link = format!("http://{}/t/{CODE}", app.addr);
    assert_eq!(svg, qr::render(&link), "the QR code holds {link}");
}

#[tokio::test]
async fn the_configured_public_url_is_the_qr_codes_origin() {
    let mut config = test_config();
    config.web.public_url = Some("https://ko.politiet.no".into());
    let app = TestApp::spawn_with_config(config).await;
    let svg = get_qr(&app, CODE).await.text().await.unwrap();
    assert_eq!(svg, qr::render(&format!("https://ko.politiet.no/t/{CODE}")));
}

#[tokio::test]
async fn a_malformed_code_is_a_404_problem_that_does_not_repeat_it() {
    let app = TestApp::spawn().await;
    for code in [
        "short",
        "AbCdEfGhIjKlMnOpQrStUv-_x",
        "AbCdEfGhIjKlMnOpQrStUv+!",
    ] {
        let answer = get_qr(&app, code).await;
        assert_eq!(answer.status(), 404, "{code}");
        assert_eq!(
            answer.headers()["content-type"],
            "application/problem+json",
            "{code}"
        );
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["type"], "/problems/not-found", "{body}");
        assert!(!body.to_string().contains(code), "{body}");
    }
}
