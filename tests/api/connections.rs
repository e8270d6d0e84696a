//! Connections that hold a file descriptor without doing anything are closed, whatever their
//! protocol; connections are capped apart from live sockets; a failed `accept` is counted and
//! backed off.

use std::time::{Duration, Instant};

use lobbywatch::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::connect_async;

use crate::helpers::{ServerProcess, TestApp, check_in, next_doc, test_config_toml};

async fn app_with_limits(limits: &str) -> TestApp {
    let toml = format!("{}\n[limits]\n{limits}\n", test_config_toml());
    TestApp::spawn_with_config(Config::parse(&toml, "limits.toml").expect("valid")).await
}

/// Reads from `tcp` until the server closes it; how long that took (panics after `within`).
async fn closed_by_server(tcp: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        let read = tokio::time::timeout_at((started + within).into(), tcp.read(&mut buf))
            .await
            .expect("the server closes the connection in time");
        match read {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => continue,
        }
    }
}

/// Whether the server has closed `tcp` (nothing more than `wait` is spent finding out).
async fn is_closed(tcp: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(wait, tcp.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn a_connection_that_never_sends_a_byte_is_closed_after_the_header_read_timeout() {
    let app = app_with_limits("header_read_timeout_s = 1").await;
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    let after = closed_by_server(&mut tcp, Duration::from_secs(5)).await;
    assert!(
        after >= Duration::from_millis(900),
        "not before the timeout: {after:?}"
    );
}

#[tokio::test]
async fn an_http2_preface_with_nothing_after_it_is_closed_after_the_header_read_timeout() {
    let app = app_with_limits("header_read_timeout_s = 1").await;
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    // The HTTP/2 connection preface and an empty SETTINGS frame, then silence.
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let after = closed_by_server(&mut tcp, Duration::from_secs(5)).await;
    assert!(
        after >= Duration::from_millis(900),
        "not before the timeout: {after:?}"
    );
}

#[tokio::test]
async fn a_keep_alive_connection_idle_past_the_idle_timeout_is_closed() {
    let app = app_with_limits("header_read_timeout_s = 10\nidle_timeout_s = 1").await;
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tcp.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    // Kept alive for another request, then closed well before the header-read timeout.
    let after = closed_by_server(&mut tcp, Duration::from_secs(5)).await;
    assert!(
        after >= Duration::from_millis(900),
        "not before the timeout: {after:?}"
    );
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_at_once_and_live_sockets_are_not_counted() {
    let app = app_with_limits("max_connections = 3\nheader_read_timeout_s = 2").await;
    // Two displays: once upgraded, their sockets are counted by the socket caps, not here.
    let mut displays = Vec::new();
    for _ in 0..2 {
        let url = app.ws_url("/api/v1/stations/small/public/live");
        let (mut ws, _) = connect_async(url).await.unwrap();
        next_doc(&mut ws).await;
        displays.push(ws);
    }
    // Three silent connections fill the cap — all three get in beside the two sockets …
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(TcpStream::connect(app.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    for tcp in &mut silent {
        assert!(
            !is_closed(tcp, Duration::from_millis(100)).await,
            "admitted"
        );
    }
    // … and a fourth is closed at once, long before any timeout.
    let mut fourth = TcpStream::connect(app.addr).await.unwrap();
    let after = closed_by_server(&mut fourth, Duration::from_secs(1)).await;
    assert!(after < Duration::from_secs(1));
    // Once the silent ones are closed by the header-read timeout, the door opens again, and the
    // displays, which held on meanwhile, see the next change.
    for tcp in &mut silent {
        closed_by_server(tcp, Duration::from_secs(5)).await;
    }
    let (status, _) = app
        .post_event_json("small-desk", "small", "after-cap", &check_in("passport"))
        .await;
    assert_eq!(status, 201);
    for ws in &mut displays {
        assert_eq!(next_doc(ws).await["seq"], 1);
    }
    let (_, health) = app.get_as("/healthz", None).await;
    assert!(
        health["connections"]["refused"].as_u64().unwrap() >= 1,
        "{health}"
    );
}

/// CPU time used by process `pid` so far (user + system, in 10 ms ticks).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[tokio::test]
async fn out_of_file_descriptors_the_accept_loop_backs_off_and_counts_its_errors() {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED out-of-descriptors test: no prlimit (util-linux) on this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = crate::helpers::write_config(dir.path());
    // A process allowed 64 descriptors, a few dozen of them its own (log, sockets, runtime).
    let mut command = std::process::Command::new("prlimit");
    command
        .arg("--nofile=64:64")
        .arg(env!("CARGO_BIN_EXE_lobbywatch"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(dir.path().join("data"))
        .args(crate::backend::database_args(&dir.path().join("data")));
    let server = ServerProcess::spawn(command);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..80 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    // The connections past its descriptors wait in the backlog while `accept` fails: a loop
    // retrying at once would burn a core for the whole second.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_ticks(server.child.id());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let used = cpu_ticks(server.child.id()) - before;
    assert!(
        used < 30,
        "the accept loop spun: {used} ticks of CPU in a second"
    );
    drop(held);
    let client = reqwest::Client::new();
    let health: serde_json::Value = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", server.base)).send().await {
                break r.json().await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the service answers again once the descriptors are back");
    assert!(
        health["connections"]["accept_errors"].as_u64().unwrap() > 0,
        "{health}"
    );
}
