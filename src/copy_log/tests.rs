//! `copy-log` between two data directories (the PostgreSQL directions run against the real
//! binary in `tests/api/copy_log.rs`): every row arrives, the destination starts as the source
//! does, a snapshot that does not match is left out, and a refused copy copies nothing.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::domain::{DeviceId, Event, Recorded};
use crate::engine::{Mode, Station};
use crate::idempotency::IdempotencyRecord;
use crate::state::{AppState, StartOptions};
use crate::store::rows::{AnswerRow, EventRow, RevokedRow, SnapshotRow};
use crate::store::sqlite::CopyView;
use crate::store::{DB_FILE, MARKER_FILE, OpenLog, Record, Revocation, StoreOptions};

/// Two stations, always open.
fn config(stations: &[&str]) -> Config {
    let always = r#"hours = { mon = "00:00-24:00", tue = "00:00-24:00", wed = "00:00-24:00", thu = "00:00-24:00", fri = "00:00-24:00", sat = "00:00-24:00", sun = "00:00-24:00" }"#;
    let mut toml = String::from(
        "[rules]\ndistancing_m = 2.0\n\n[calendar]\nnorwegian_holidays = false\n\n\
         [[districts]]\nid = \"oslo\"\nname = \"Oslo\"\ntimezone = \"Europe/Oslo\"\n",
    );
    for id in stations {
        toml.push_str(&format!(
            "\n[[stations]]\nid = \"{id}\"\ndistrict = \"oslo\"\nname = \"{id}\"\narea_m2 = 20.0\n\n\
             [[stations.services]]\nid = \"passport\"\nname = \"Pass\"\nprefix = \"P\"\n{always}\n"
        ));
    }
    Config::parse(&toml, "copy.toml").expect("a valid config")
}

/// Writes a log into `dir` as the service would: `events` check-ins and check-outs over the
/// stations of `config` within the last hour, each with its answer, a refusal's answer now and
/// then, snapshots every 50 events of a station, and one revocation.
async fn write_log(config: &Config, dir: &Path, events: u64) {
    let options = StoreOptions {
        max_pages: None,
        snapshot_every: Some(50),
        ..StoreOptions::default()
    };
    let store = OpenLog::open(dir, options).unwrap().start_writer().unwrap();
    let mut engines: Vec<Station> = config
        .stations
        .iter()
        .map(|s| Station::new(Arc::new(s.clone()), &config.rules))
        .collect();
    // To the microsecond, as the service's clock stamps events: the log stores microseconds.
    let mut acks = Vec::new();
    let start =
        DateTime::from_timestamp_micros((Utc::now() - TimeDelta::hours(1)).timestamp_micros())
            .unwrap();
    for i in 0..events {
        let n = engines.len();
        let engine = &mut engines[i as usize % n];
        let at = start + TimeDelta::milliseconds(i as i64);
        let body = match engine.inside_tickets().first() {
            Some(ticket) if engine.headcount() >= 3 => {
                serde_json::json!({"kind": "check_out", "ticket": ticket.to_string()})
            }
            _ => serde_json::json!({"kind": "check_in", "service": "passport", "party_size": 1}),
        };
        let event: Event = serde_json::from_value(body).unwrap();
        let outcome = engine.apply(&event, at, Mode::Live).expect("accepted");
        let station = engine.config().id.clone();
        let record = Record {
            idempotency: Some(answer(&format!("k{i}"), 201, at)),
            snapshot: store
                .snapshot_due(outcome.seq)
                .then(|| (station.clone(), Box::new(engine.snapshot()))),
            webhooks: Vec::new(),
            event: Some(Recorded {
                station,
                seq: outcome.seq,
                at,
                device: desk(),
                event,
            }),
        };
        acks.push(store.submit(record));
        if i % 97 == 0 {
            let refusal = Record {
                event: None,
                idempotency: Some(answer(&format!("refused-{i}"), 409, at)),
                snapshot: None,
                webhooks: Vec::new(),
            };
            acks.push(store.submit(refusal));
        }
        // Handed over in groups, as many terminals would: one commit for each.
        if acks.len() >= 1_000 {
            for ack in acks.drain(..) {
                ack.await.unwrap().unwrap();
            }
        }
    }
    for ack in acks {
        ack.await.unwrap().unwrap();
    }
    let revocation = Revocation {
        device: desk(),
        hashes: vec![[7; 32], [9; 32]],
        by: DeviceId::parse("admin").unwrap(),
        at: Utc::now(),
    };
    store.revoke(revocation).await.unwrap().unwrap();
    drop(store);
    wait_until_closed(dir).await;
}

fn desk() -> DeviceId {
    DeviceId::parse("desk").unwrap()
}

fn answer(key: &str, status: u16, at: DateTime<Utc>) -> IdempotencyRecord {
    IdempotencyRecord {
        device: desk(),
        key: key.into(),
        fingerprint: [status as u8; 32],
        status,
        body: bytes::Bytes::from(format!(
            "{{\"answer\":\"{key}\",\"bytes\":\"\u{e6}\u{f8}\u{e5}\"}}"
        )),
        at,
    }
}

/// The writer thread closes the log after its last handle is gone; it is closed once its WAL
/// is folded in and removed.
async fn wait_until_closed(dir: &Path) {
    let wal = dir.join(format!("{DB_FILE}-wal"));
    for _ in 0..500 {
        if !wal.exists() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the log in {} was not closed", dir.display());
}

/// Every row of every table of the log in `dir`, in key order.
async fn rows_of(
    dir: &Path,
) -> (
    Vec<EventRow>,
    Vec<AnswerRow>,
    Vec<RevokedRow>,
    Vec<SnapshotRow>,
) {
    let view = CopyView::open(dir).unwrap();
    let mut answers = read_table(async |after| view.answers_after(after, 7).await)
        .await
        .unwrap();
    // Listed in the order they were stored; compared in key order, as the database lists them.
    answers.sort_by(|a, b| (&a.device, &a.key).cmp(&(&b.device, &b.key)));
    (
        read_table(async |after| view.events_after(after, 7).await)
            .await
            .unwrap(),
        answers,
        read_table(async |after| view.revoked_after(after, 7).await)
            .await
            .unwrap(),
        read_table(async |after| view.snapshots_after(after, 7).await)
            .await
            .unwrap(),
    )
}

/// Each station's state as start-up restores it from the log at `storage`.
async fn started(config: &Config, storage: &Storage) -> Vec<String> {
    let state = AppState::open(config.clone(), storage, StartOptions::default())
        .await
        .unwrap();
    let states = state
        .stations()
        .values()
        .map(|slot| serde_json::to_string(&slot.engine.lock().unwrap().snapshot()).unwrap())
        .collect();
    state.store.flush().await;
    states
}

#[tokio::test]
async fn a_log_copied_to_another_directory_holds_every_row_byte_for_byte_and_starts_the_same() {
    let (config, temp) = (config(&["a", "b"]), tempfile::tempdir().unwrap());
    let (from, to) = (temp.path().join("from"), temp.path().join("new/to"));
    write_log(&config, &from, 1_000).await;
    let marker = std::fs::read(from.join(MARKER_FILE)).unwrap();
    let db = std::fs::read(from.join(DB_FILE)).unwrap();

    let (from_log, to_log) = (Storage::Dir(from.clone()), Storage::Dir(to.clone()));
    let copied = copy_log(&from_log, &to_log, &config).await.unwrap();

    assert_eq!(
        (
            copied.events,
            copied.stations,
            copied.answers,
            copied.revoked
        ),
        (1_000, 2, 1_011, 2)
    );
    assert_eq!(copied.snapshots, 2);
    assert!(copied.snapshots_left_out.is_empty());
    let summary = copied.to_string();
    assert!(
        summary.starts_with("copied 1,000 events of 2 stations, 1,011 answers, 2 revoked tokens")
            && summary.ends_with("— both replay to the same state"),
        "{summary}"
    );
    // Batches of 7 rows: every boundary of the keyset is crossed many times.
    assert_eq!(rows_of(&to).await, rows_of(&from).await);
    // The source was only read.
    assert_eq!(std::fs::read(from.join(MARKER_FILE)).unwrap(), marker);
    assert_eq!(std::fs::read(from.join(DB_FILE)).unwrap(), db);
    assert_eq!(
        started(&config, &to_log).await,
        started(&config, &from_log).await
    );
}

#[tokio::test]
async fn a_copy_into_a_log_that_holds_anything_is_refused_and_nothing_is_copied() {
    let (config, temp) = (config(&["a", "b"]), tempfile::tempdir().unwrap());
    let (from, to) = (temp.path().join("from"), temp.path().join("to"));
    write_log(&config, &from, 100).await;
    write_log(&config, &to, 3).await;
    let (before, marker) = (
        rows_of(&to).await,
        std::fs::read(to.join(MARKER_FILE)).unwrap(),
    );

    let err = copy_log(
        &Storage::Dir(from.clone()),
        &Storage::Dir(to.clone()),
        &config,
    )
    .await
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("nothing was copied"), "{message}");
    assert!(
        message.contains(
            "already holds a log (3 events, 4 idempotency answers, 2 revoked tokens, 0 snapshots)"
        ),
        "{message}"
    );
    assert_eq!(rows_of(&to).await, before);
    assert_eq!(std::fs::read(to.join(MARKER_FILE)).unwrap(), marker);

    let err = copy_log(&Storage::Dir(from.clone()), &Storage::Dir(from), &config)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("the same log"), "{err:#}");
}

#[tokio::test]
async fn a_snapshot_that_does_not_match_its_replay_is_left_out_and_start_up_rebuilds_it() {
    let (config, temp) = (config(&["a", "b"]), tempfile::tempdir().unwrap());
    let (from, to) = (temp.path().join("from"), temp.path().join("to"));
    write_log(&config, &from, 400).await;
    // Station a's snapshot now claims to be the state one event earlier than it is.
    rusqlite::Connection::open(from.join(DB_FILE))
        .unwrap()
        .execute("UPDATE snapshots SET seq = seq - 1 WHERE station = 'a'", [])
        .unwrap();

    let (from_log, to_log) = (Storage::Dir(from), Storage::Dir(to.clone()));
    let copied = copy_log(&from_log, &to_log, &config).await.unwrap();

    assert_eq!(copied.snapshots_left_out, ["a"]);
    assert_eq!(copied.snapshots, 1);
    assert!(copied.to_string().contains("(1 invalid snapshot left out)"));
    let snapshots = rows_of(&to).await.3;
    assert_eq!(
        snapshots
            .iter()
            .map(|s| s.station.as_str())
            .collect::<Vec<_>>(),
        ["b"]
    );
    // The copy starts as the source's events say, not as the wrong snapshot says.
    let full_replay = {
        let mut engine = Station::new(Arc::new(config.stations[0].clone()), &config.rules);
        CopyView::open(temp.path().join("from").as_path())
            .unwrap()
            .replay("a", |r| crate::state::replay_one(&mut engine, &r))
            .await
            .unwrap();
        serde_json::to_string(&engine.snapshot()).unwrap()
    };
    assert_eq!(started(&config, &to_log).await[0], full_replay);
}

#[tokio::test]
async fn a_log_with_a_station_the_config_lacks_is_refused_before_anything_is_copied() {
    let temp = tempfile::tempdir().unwrap();
    let (from, to) = (temp.path().join("from"), temp.path().join("to"));
    write_log(&config(&["a", "b"]), &from, 10).await;

    let err = copy_log(
        &Storage::Dir(from),
        &Storage::Dir(to.clone()),
        &config(&["a"]),
    )
    .await
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("station 'b'") && message.contains("--config"),
        "{message}"
    );
    assert!(!to.exists(), "refused before the destination was opened");
}

#[tokio::test]
async fn a_directory_without_a_log_is_not_a_source() {
    let temp = tempfile::tempdir().unwrap();
    let err = copy_log(
        &Storage::Dir(temp.path().join("nothing")),
        &Storage::Dir(temp.path().join("to")),
        &config(&["a"]),
    )
    .await
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("there is no event log in"),
        "{err:#}"
    );
    assert!(
        !temp.path().join("to").exists(),
        "the destination is opened only after the source"
    );
}

#[test]
fn counts_are_written_with_commas_and_plurals() {
    let shown: Vec<String> = [0, 999, 1_000, 12_345, 1_234_567]
        .into_iter()
        .map(thousands)
        .collect();
    assert_eq!(shown, ["0", "999", "1,000", "12,345", "1,234,567"]);
    assert_eq!(counted(1, "event"), "1 event");
    assert_eq!(counted(12_345, "revoked token"), "12,345 revoked tokens");
}

#[test]
fn a_url_names_a_database_and_anything_else_a_directory() {
    assert!(matches!(
        Storage::parse("postgres://clerk:secret@db:5433/lobby"),
        Ok(Storage::Postgres(url)) if url.to_string() == "postgres://clerk@db:5433/lobby"
    ));
    assert!(matches!(Storage::parse("./data"), Ok(Storage::Dir(d)) if d == Path::new("./data")));
    assert!(Storage::parse("mysql://db/lobby").is_err());
}

/// Every row of the database at `url`, each table sorted as SQLite lists it (byte order): the
/// database lists text in its collation's order.
async fn rows_in_database(
    url: &crate::config::DatabaseUrl,
) -> (
    Vec<EventRow>,
    Vec<AnswerRow>,
    Vec<RevokedRow>,
    Vec<SnapshotRow>,
) {
    let view = crate::store::postgres::CopyView::open(url).await.unwrap();
    let mut rows = (
        read_table(async |after| view.events_after(after, 7).await)
            .await
            .unwrap(),
        read_table(async |after| view.answers_after(after, 7).await)
            .await
            .unwrap(),
        read_table(async |after| view.revoked_after(after, 7).await)
            .await
            .unwrap(),
        read_table(async |after| view.snapshots_after(after, 7).await)
            .await
            .unwrap(),
    );
    rows.0
        .sort_by(|a, b| (&a.station, a.seq).cmp(&(&b.station, b.seq)));
    rows.1
        .sort_by(|a, b| (&a.device, &a.key).cmp(&(&b.device, &b.key)));
    rows.2.sort_by(|a, b| a.token_sha256.cmp(&b.token_sha256));
    rows.3.sort_by(|a, b| a.station.cmp(&b.station));
    rows
}

fn database(test: &str) -> Option<Storage> {
    let url = scratch_pg::require_or_skip(test)?.create_database();
    Some(Storage::Postgres(
        crate::config::DatabaseUrl::parse(&url).unwrap(),
    ))
}

#[tokio::test]
async fn a_log_moved_to_postgresql_and_back_is_the_same_log_byte_for_byte() {
    let Some(db) = database("a_log_moved_to_postgresql_and_back_is_the_same_log_byte_for_byte")
    else {
        return;
    };
    let Storage::Postgres(url) = &db else {
        unreachable!()
    };
    // Station ids that sort differently by byte and by a language's collation.
    let (config, temp) = (config(&["a-b", "ab", "a"]), tempfile::tempdir().unwrap());
    let (from, back) = (temp.path().join("from"), temp.path().join("back"));
    write_log(&config, &from, 1_500).await;
    let (from_log, back_log) = (Storage::Dir(from.clone()), Storage::Dir(back.clone()));

    let there = copy_log(&from_log, &db, &config).await.unwrap();
    assert_eq!(
        (there.events, there.stations, there.snapshots),
        (1_500, 3, 3)
    );
    assert_eq!(rows_in_database(url).await, rows_of(&from).await);
    let back_again = copy_log(&db, &back_log, &config).await.unwrap();
    assert_eq!(
        (back_again.events, back_again.answers, back_again.revoked),
        (there.events, there.answers, there.revoked)
    );
    assert_eq!(rows_of(&back).await, rows_of(&from).await);
    assert_eq!(
        started(&config, &db).await,
        started(&config, &from_log).await
    );

    // Into a database that holds a log, nothing is copied.
    let err = copy_log(&back_log, &db, &config).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("already holds a log (1,500 events"),
        "{err:#}"
    );
}

/// An office's log of 100,000 events to PostgreSQL and back, timed (run by hand:
/// `cargo test -p lobbywatch --lib copy_log -- --ignored --nocapture`).
#[tokio::test]
#[ignore = "a measurement at office scale, run by hand"]
async fn an_office_log_of_100_000_events_moves_to_postgresql_and_back() {
    let Some(db) = database("an_office_log_of_100_000_events_moves_to_postgresql_and_back") else {
        return;
    };
    let (config, temp) = (
        config(&["a", "b", "c", "d", "e", "f", "g", "h"]),
        tempfile::tempdir().unwrap(),
    );
    let (from, back) = (temp.path().join("from"), temp.path().join("back"));
    let started_at = std::time::Instant::now();
    write_log(&config, &from, 100_000).await;
    eprintln!("log written in {:?}", started_at.elapsed());
    for (a, b) in [
        (Storage::Dir(from.clone()), db.clone()),
        (db.clone(), Storage::Dir(back.clone())),
        (
            Storage::Dir(from.clone()),
            Storage::Dir(temp.path().join("dir")),
        ),
    ] {
        let started_at = std::time::Instant::now();
        let copied = copy_log(&a, &b, &config).await.unwrap();
        eprintln!("{copied} in {:?}", started_at.elapsed());
        assert_eq!(copied.events, 100_000);
    }
}
