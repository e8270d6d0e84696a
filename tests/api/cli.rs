//! The `lobbywatch` command itself: `check-config` and `serve` refuse a config they cannot run,
//! `check-config` lists every error of a file, tells each cap in words in aligned columns, and
//! warns about the public demo tokens.

use std::process::Command;

use crate::helpers::{sha256_hex, test_config_toml};

/// Runs the real binary with `args`; its exit success and its stderr.
fn lobbywatch(args: &[&str]) -> (bool, String) {
    let (ok, _stdout, stderr) = lobbywatch_out(args);
    (ok, stderr)
}

/// Runs the real binary with `args`; its exit success, its stdout and its stderr.
fn lobbywatch_out(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lobbywatch"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `check-config` on `toml` written to a file named `name`: exit success, stdout, stderr.
fn check_config(name: &str, toml: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, toml).unwrap();
    lobbywatch_out(&["check-config", file.to_str().unwrap()])
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

#[test]
fn check_config_lists_every_independent_error_of_a_file() {
    // Three mistakes in three places: a bad ticket prefix, an unknown district, a token written
    // where its hash belongs. Each is listed, in file order, with its key.
    let toml = test_config_toml()
        .replacen("district = \"vest\"", "district = \"bergen-vest\"", 1)
        .replacen("prefix = \"P\"", "prefix = \"pp\"", 1)
        .replacen(&sha256_hex("admin-token"), "admin-token", 1);
    let (ok, _, stderr) = check_config("three.toml", &toml);
    assert!(!ok, "check-config accepts a file with three errors");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("three.toml: "))
        .collect();
    assert_eq!(errors.len(), 3, "one line per error: {stderr}");
    for (error, key) in errors.iter().zip([
        "stations[0].services[0].prefix: 'pp' must be one uppercase letter",
        "stations[3].district: unknown district 'bergen-vest'",
        "devices[8].token_sha256: must be 64 hex characters",
    ]) {
        assert!(error.contains(key), "{error:?} lacks {key:?}: {stderr}");
    }
    assert!(stderr.contains("3 errors"), "{stderr}");
}

#[test]
fn check_config_tells_what_limits_each_cap_in_words_in_aligned_columns() {
    // The sample has caps limited by each term.
    let (ok, stdout, stderr) =
        check_config("sample.toml", include_str!("../../config/sample.toml"));
    assert!(ok, "{stderr}");
    for words in [
        "each person needs a 2 m × 2 m square of floor (4 m²)",
        "the room's area",
        "the chairs",
        "the configured maximum",
    ] {
        assert!(stdout.contains(words), "no {words:?} in:\n{stdout}");
    }
    for enum_name in [
        "Grid",
        "Hex",
        "Area",
        "Seats",
        "MaxVisitors",
        "Some(",
        "None",
    ] {
        assert!(!stdout.contains(enum_name), "{enum_name:?} in:\n{stdout}");
    }
    assert!(!stdout.contains('\t'), "a tab in:\n{stdout}");
    for line in stdout.lines() {
        assert!(
            line.chars().count() <= 80,
            "wider than 80 columns: {line:?}"
        );
    }
    // Every row of the table starts its cells where the header's columns start.
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("station "))
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(table.len(), 18, "a header and the 17 stations:\n{stdout}");
    let column = |line: &str, text: &str| line.find(text).map(|i| line[..i].chars().count());
    let limited_by = column(table[0], "limited by").unwrap();
    let cap_end = column(table[0], "cap").unwrap() + 3;
    for row in &table[1..] {
        let words = ["the room's area", "the chairs", "the configured maximum"]
            .iter()
            .find_map(|w| column(row, w));
        assert_eq!(words, Some(limited_by), "misaligned: {row:?}\n{stdout}");
        let cap_digit = row.chars().nth(cap_end - 1).unwrap();
        assert!(
            cap_digit.is_ascii_digit(),
            "caps right-aligned under 'cap': {row:?}"
        );
    }
    assert!(
        stderr.contains("devices accept a public demo token"),
        "the sample's devices are the demo's: {stderr}"
    );
}

#[test]
fn check_config_warns_when_a_device_accepts_a_public_demo_token() {
    let toml =
        test_config_toml().replacen(&sha256_hex("admin-token"), &sha256_hex("demo-admin"), 1);
    let (ok, stdout, stderr) = check_config("demo.toml", &toml);
    assert!(ok, "a demo token is a warning, not an error: {stderr}");
    assert!(
        stdout.contains("limited by"),
        "the report is printed: {stdout}"
    );
    assert!(
        stderr.contains("warning: 1 device accepts a public demo token")
            && stderr.contains(": admin."),
        "{stderr}"
    );
    // Every device with a token of its own: no warning.
    let (ok, _, stderr) = check_config("own.toml", &test_config_toml());
    assert!(ok, "{stderr}");
    assert!(!stderr.contains("demo token"), "{stderr}");
}
