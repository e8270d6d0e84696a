//! The `lobbywatch` command itself: `check-config` and `serve` refuse a config they cannot run.

use std::process::Command;

/// Runs the real binary with `args`; its exit success and its stderr.
fn lobbywatch(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lobbywatch"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_config_without_stations_is_refused_by_check_config_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.toml");
    std::fs::write(
        &file,
        "[rules]\ndistancing_m = 2.0\n\n[[districts]]\nid = \"oslo\"\nname = \"Oslo\"\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let (ok, stderr) = lobbywatch(&["check-config", file]);
    assert!(!ok, "check-config accepts a config without stations");
    assert!(
        stderr.contains("empty.toml") && stderr.contains("[[stations]]"),
        "{stderr}"
    );
    let data = dir.path().join("data");
    let (ok, stderr) = lobbywatch(&[
        "serve",
        "--config",
        file,
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(!ok, "serve starts with no stations");
    assert!(stderr.contains("[[stations]]"), "{stderr}");
}
