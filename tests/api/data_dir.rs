//! The data directory knows what it held: with the real binary, a log that lost its WAL or its
//! database file after `kill -9` is refused (exit code and message), `--new-log` starts afresh
//! keeping the old files, and a backup taken while the service runs — or the database file
//! alone after a graceful stop — restores every acknowledged event.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{ServerProcess, check_in, event_request, status_at, write_config};

const DB: &str = "lobbywatch.sqlite3";
const WAL: &str = "lobbywatch.sqlite3-wal";

fn serve(config: &Path, data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lobbywatch"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .arg("--data")
        .arg(data);
    command
}

/// Starts `lobbywatch serve` expecting a refusal: it must exit non-zero within 20 s (else it is
/// killed and the test fails). Returns what it wrote to stderr.
fn refused_start(config: &Path, data: &Path) -> String {
    let mut child = serve(config, data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the service started on a log that lost a file");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert!(!status.success(), "exit status {status}; stderr: {stderr}");
    stderr
}

/// Posts `n` passport check-ins to `small` with keys `{prefix}0…`; returns their answers.
async fn post(server: &ServerProcess, prefix: &str, n: usize) -> Vec<(String, Value)> {
    let client = reqwest::Client::new();
    let mut answers = Vec::new();
    for i in 0..n {
        let key = format!("{prefix}{i}");
        let r = event_request(
            &client,
            &server.base,
            "small-desk-token",
            "small",
            &key,
            &check_in("passport"),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
        answers.push((key, r.json().await.unwrap()));
    }
    answers
}

/// Asserts that the server at `base` holds exactly `answers` for `small`: its seq is the last
/// one's, and each key is answered again from the log, never applied anew.
async fn assert_holds(server: &ServerProcess, answers: &[(String, Value)]) {
    let client = reqwest::Client::new();
    let status = status_at(&client, &server.base, "small").await;
    assert_eq!(status["seq"], answers.last().unwrap().1["seq"]);
    for (key, body) in answers {
        let r = event_request(
            &client,
            &server.base,
            "small-desk-token",
            "small",
            key,
            &check_in("passport"),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(r.headers()["idempotent-replayed"], "true", "{key} was lost");
        assert_eq!(&r.json::<Value>().await.unwrap(), body);
    }
}

#[tokio::test]
async fn a_wal_removed_after_kill_9_is_refused_and_new_log_starts_afresh_keeping_the_old_files() {
    if crate::backend::sqlite_only(
        "a_wal_removed_after_kill_9_is_refused_and_new_log_starts_afresh_keeping_the_old_files",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let server = ServerProcess::start(&config, &data);
    post(&server, "before-", 3).await;
    server.kill9();
    std::fs::remove_file(data.join(WAL)).unwrap();

    let stderr = refused_start(&config, &data);
    assert!(stderr.contains(&format!("{WAL} is missing")), "{stderr}");
    assert!(stderr.contains("--new-log"), "{stderr}");
    assert!(stderr.contains("restore"), "{stderr}");
    // Refusing changes nothing: it refuses again.
    refused_start(&config, &data);

    let mut fresh = serve(&config, &data);
    fresh.arg("--new-log");
    let server = ServerProcess::spawn(fresh);
    let answers = post(&server, "before-", 1).await;
    assert_eq!(answers[0].1["seq"], 1, "a new, empty log");
    let aside: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(aside[0].join(DB).exists() && aside[0].join("lobbywatch.marker").exists());
}

#[tokio::test]
async fn a_database_file_removed_after_kill_9_is_refused_even_with_its_wal_kept() {
    if crate::backend::sqlite_only(
        "a_database_file_removed_after_kill_9_is_refused_even_with_its_wal_kept",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let server = ServerProcess::start(&config, &data);
    post(&server, "k", 2).await;
    server.kill9();
    std::fs::remove_file(data.join(DB)).unwrap();
    let stderr = refused_start(&config, &data);
    assert!(stderr.contains(&format!("{DB} is missing")), "{stderr}");
    assert!(
        !data.join(DB).exists(),
        "no empty log was made in its place"
    );
}

#[tokio::test]
async fn a_restart_after_kill_9_with_every_file_in_place_keeps_every_event() {
    if crate::backend::sqlite_only(
        "a_restart_after_kill_9_with_every_file_in_place_keeps_every_event",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    // Killed once before it committed anything, then once after.
    ServerProcess::start(&config, &data).kill9();
    let server = ServerProcess::start(&config, &data);
    let answers = post(&server, "k", 4).await;
    server.kill9();
    assert_holds(&ServerProcess::start(&config, &data), &answers).await;
}

#[tokio::test]
async fn a_backup_taken_while_the_service_runs_restores_every_acknowledged_event() {
    if crate::backend::sqlite_only(
        "a_backup_taken_while_the_service_runs_restores_every_acknowledged_event",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let server = ServerProcess::start(&config, &data);
    let answers = post(&server, "k", 5).await;
    let file = dir.path().join("backup.sqlite3");
    let backup = Command::new(env!("CARGO_BIN_EXE_lobbywatch"))
        .arg("backup")
        .arg(&data)
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&backup.stdout);
    assert!(backup.status.success(), "{backup:?}");
    assert!(stdout.contains("(5 events)"), "{stdout}");
    post(&server, "after-", 2).await;
    server.kill9();

    // Restore: the file as lobbywatch.sqlite3 in an empty data directory.
    let restored = dir.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    std::fs::copy(&file, restored.join(DB)).unwrap();
    assert_holds(&ServerProcess::start(&config, &restored), &answers).await;
}

#[tokio::test]
async fn after_a_graceful_stop_the_database_file_alone_restores_every_event() {
    if crate::backend::sqlite_only(
        "after_a_graceful_stop_the_database_file_alone_restores_every_event",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let mut server = ServerProcess::start(&config, &data);
    let answers = post(&server, "k", 4).await;
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(server.child.wait().unwrap().success());

    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(data.join(DB), copy.join(DB)).unwrap();
    assert_holds(&ServerProcess::start(&config, &copy), &answers).await;
    // The original directory starts too, with its marker.
    drop(server);
    assert_holds(&ServerProcess::start(&config, &data), &answers).await;
}
