//! The service's log as an operator's collector reads it: `--log-format json` writes one JSON
//! object per line with the request's span, and still never a token or personal data; text
//! lines through a pipe carry no colour codes.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::helpers::{LogFormat, ServerProcess, check_in, event_request, sha256_hex, write_config};

#[tokio::test]
async fn json_log_lines_are_objects_with_span_fields_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let (server, log_path) =
        ServerProcess::spawn_logging_to_file(dir.path(), &config, "debug", LogFormat::Json);
    let client = reqwest::Client::new();
    // A walk-in and a booked visitor (an appointment reference is personal data), then a
    // wrong token: each request runs inside the `http` span the collector must see.
    let booked =
        json!({"kind": "check_in", "service": "passport", "appointment": "APPT-9182-PRIVATE"});
    for (token, key, body) in [
        ("small-desk-token", "walk-in", check_in("passport")),
        ("small-desk-token", "booked", booked),
        ("not-a-real-token-5c1e", "wrong", check_in("passport")),
    ] {
        let _ = event_request(&client, &server.base, token, "small", key, &body)
            .send()
            .await
            .unwrap();
    }
    server.stop();

    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        !text.contains('\u{1b}'),
        "an ANSI escape in the log: {text}"
    );
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(!lines.is_empty(), "the log is empty");
    for line in &lines {
        for key in ["timestamp", "level", "fields"] {
            assert!(line.get(key).is_some(), "no '{key}' in {line}");
        }
    }
    let events_route = "/api/v1/stations/{station}/events";
    assert!(
        lines.iter().any(|line| line["span"]["route"] == events_route
            && line["spans"][0]["name"] == "http"),
        "no line carries the request's span: {text}"
    );
    for secret in [
        "small-desk-token",
        "not-a-real-token-5c1e",
        "APPT-9182-PRIVATE",
    ] {
        assert!(!text.contains(secret), "the log holds '{secret}'");
    }
}

#[tokio::test]
async fn text_log_lines_through_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    // The admin accepts its public demo token, so start-up also logs a warning.
    let toml = std::fs::read_to_string(&config).unwrap().replacen(
        &sha256_hex("admin-token"),
        &sha256_hex("demo-admin"),
        1,
    );
    std::fs::write(&config, toml).unwrap();
    let data = dir.path().join("data");
    let mut command = Command::new(env!("CARGO_BIN_EXE_lobbywatch"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(&data)
        .args(crate::backend::database_args(&data))
        .env_remove("NO_COLOR");
    let mut server = ServerProcess::spawn_logging(command, "info", Stdio::piped());
    let mut stderr = server.child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
        text
    });
    let client = reqwest::Client::new();
    let _ = event_request(
        &client,
        &server.base,
        "wrong-token",
        "small",
        "k",
        &check_in("passport"),
    )
    .send()
    .await
    .unwrap();
    server.stop();

    let text = log.join().unwrap();
    assert!(
        text.contains("lobbywatch listening"),
        "the log is not there: {text}"
    );
    assert!(
        text.contains("WARN") && text.contains("1 device accepts a public demo token"),
        "serve warns about the demo token at start-up: {text}"
    );
    assert!(
        !text.contains("\u{1b}["),
        "an ANSI escape in the piped log: {text:?}"
    );
}

#[tokio::test]
async fn a_ticket_links_code_never_reaches_the_log_only_its_route_template() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    // At `trace`, the most any operator could turn on.
    let (server, log_path) =
        ServerProcess::spawn_logging_to_file(dir.path(), &config, "trace", LogFormat::Json);
    let client = reqwest::Client::new();
    let answer: Value = event_request(
        &client,
        &server.base,
        "small-desk-token",
        "small",
        "linked",
        &check_in("passport"),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let code = answer["ticket_link"]["code"]
        .as_str()
        .expect("a check-in answer carries its ticket link")
        .to_owned();
    let qr = client
        .get(format!("{}/t/{code}/qr.svg", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(qr.status(), 200);
    server.stop();

    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        text.contains(r#""route":"/t/{code}/qr.svg""#),
        "the QR request is logged by its route template: {text}"
    );
    assert!(
        !text.contains(&code),
        "the log holds the ticket link's code"
    );
}
