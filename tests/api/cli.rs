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

/// `serve` with `config` on `data`, on any port: whether it ran to a clean exit, and its stderr.
fn serve(config: &str, data: &std::path::Path) -> (bool, String) {
    let data = data.to_str().unwrap();
    lobbywatch(&[
        "serve",
        "--config",
        config,
        "--data",
        data,
        "--listen",
        "127.0.0.1:0",
    ])
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
    let (ok, stderr) = serve(file, &dir.path().join("data"));
    assert!(!ok, "serve starts with no stations");
    assert!(stderr.contains("[[stations]]"), "{stderr}");
}

/// A station whose 26 services each open in 60 short slots a day, every day: a valid config whose
/// every status document would carry over 100 KiB of weekly hours.
fn config_with_a_huge_week() -> String {
    let slots: Vec<String> = (0..60)
        .map(|i| {
            let start = i * 20;
            let end = start + 10;
            format!(
                "{:02}:{:02}-{:02}:{:02}",
                start / 60,
                start % 60,
                end / 60,
                end % 60
            )
        })
        .collect();
    let day = slots.join(",");
    let week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .map(|d| format!("{d} = \"{day}\""))
        .join(", ");
    let mut toml = String::from(
        "[[districts]]\nid = \"oslo\"\nname = \"Oslo\"\n\n[[stations]]\nid = \"busy\"\n\
         district = \"oslo\"\nname = \"Busy\"\narea_m2 = 40.0\n",
    );
    for letter in 'A'..='Z' {
        toml.push_str(&format!(
            "\n[[stations.services]]\nid = \"service-{}\"\nname = \"Service {letter}\"\n\
             prefix = \"{letter}\"\nhours = {{ {week} }}\n",
            letter.to_ascii_lowercase()
        ));
    }
    toml
}

#[test]
fn a_config_whose_documents_could_not_be_sent_is_refused_by_check_config_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.toml");
    std::fs::write(&file, config_with_a_huge_week()).unwrap();
    let file = file.to_str().unwrap();
    let (ok, stderr) = lobbywatch(&["check-config", file]);
    assert!(
        !ok,
        "check-config accepts a station whose documents outgrow the sockets"
    );
    assert!(
        stderr.contains("station 'busy'") && stderr.contains("65536"),
        "{stderr}"
    );
    let (ok, stderr) = serve(file, &dir.path().join("data"));
    assert!(!ok, "serve starts with documents no socket could carry");
    assert!(stderr.contains("station 'busy'"), "{stderr}");
    // The built-in sample is far within the bound.
    let sample = dir.path().join("sample.toml");
    std::fs::write(&sample, include_str!("../../config/sample.toml")).unwrap();
    let (ok, stderr) = lobbywatch(&["check-config", sample.to_str().unwrap()]);
    assert!(ok, "{stderr}");
}
