//! The data directory's refusals and adoptions, one case each, on the log itself. A "crash
//! image" is a copy of the directory's files taken while the writer is idle: exactly what a
//! `kill -9` at that moment leaves behind.

use std::path::Path;

use chrono::Utc;

use crate::domain::{DeviceId, Event, Recorded, StationId};
use crate::store::sqlite::Store;
use crate::store::{DB_FILE, MARKER_FILE, OpenLog, Record, StoreOptions, set_aside};

use super::marker;

fn open(dir: &Path) -> anyhow::Result<OpenLog> {
    OpenLog::open(dir, StoreOptions::default())
}

/// Opens `dir` and expects a refusal; returns its message.
fn refusal(dir: &Path) -> String {
    match open(dir) {
        Ok(log) => panic!("the log was opened with {} events", log.events),
        Err(e) => format!("{e:#}"),
    }
}

/// Commits `n` events of station `s1` numbered after `after`, and waits for them.
async fn commit(store: &Store, after: u64, n: u64) {
    let device = DeviceId::parse("desk").unwrap();
    let event: Event = serde_json::from_str(r#"{"kind":"cleaned","surface":"counter"}"#).unwrap();
    let acks: Vec<_> = (after + 1..=after + n)
        .map(|seq| {
            store.submit(Record {
                event: Some(Recorded {
                    station: StationId::parse("s1").unwrap(),
                    seq,
                    at: Utc::now(),
                    device: device.clone(),
                    event: event.clone(),
                }),
                idempotency: None,
                snapshot: None,
                webhooks: Vec::new(),
            })
        })
        .collect();
    for ack in acks {
        ack.await.unwrap().unwrap();
    }
}

/// A log in a new directory with `n` events, its writer still running.
async fn running_log(n: u64) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap().start_writer().unwrap();
    commit(&store, 0, n).await;
    (dir, store)
}

const WAL: &str = "lobbywatch.sqlite3-wal";

/// Copies the log's files (not the shared memory, which a crash leaves stale) into a new
/// directory, leaving out those named in `without`.
fn crash_image(dir: &Path, without: &[&str]) -> tempfile::TempDir {
    let image = tempfile::tempdir().unwrap();
    for name in [DB_FILE, WAL, MARKER_FILE] {
        let from = dir.join(name);
        if from.exists() && !without.contains(&name) {
            std::fs::copy(&from, image.path().join(name)).unwrap();
        }
    }
    image
}

fn recorded(dir: &Path) -> marker::MarkerState {
    marker::read(dir).unwrap().expect("a marker")
}

#[tokio::test]
async fn a_new_directory_gets_a_log_with_an_identity_and_a_marker() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path()).unwrap();
    assert!(dir.path().join(DB_FILE).exists());
    let m = recorded(dir.path());
    assert_eq!(m.events, 0);
    assert_eq!(m.log_id.len(), 32);
    assert_eq!(
        super::schema::log_id(&log.conn).unwrap().as_deref(),
        Some(m.log_id.as_str())
    );
    assert!(!m.wal_in_use, "nothing is committed yet");
}

#[tokio::test]
async fn a_log_restarts_after_a_flush_and_after_a_crash_with_every_event() {
    let (dir, store) = running_log(5).await;
    let id = recorded(dir.path()).log_id;
    assert!(recorded(dir.path()).wal_in_use, "the writer committed");
    let crashed = crash_image(dir.path(), &[]);
    assert_eq!(open(crashed.path()).unwrap().events, 5);
    store.flush().await;
    let m = recorded(dir.path());
    assert!(!m.wal_in_use);
    assert_eq!(m.events, 5);
    let reopened = open(dir.path()).unwrap();
    assert_eq!(reopened.events, 5);
    assert_eq!(recorded(dir.path()).log_id, id);
}

#[tokio::test]
async fn a_crash_image_without_its_wal_is_refused_naming_the_wal() {
    let (dir, _store) = running_log(5).await;
    let image = crash_image(dir.path(), &[WAL]);
    let message = refusal(image.path());
    assert!(message.contains(WAL), "{message}");
    assert!(message.contains("--new-log"), "{message}");
}

#[tokio::test]
async fn a_wal_lost_after_a_graceful_restart_and_new_commits_is_refused() {
    // The database file already holds an identity and events from before, so only the marker
    // saying the WAL is in use can tell that the newest commits are gone.
    let (dir, store) = running_log(5).await;
    store.flush().await;
    commit(&store, 5, 3).await;
    let message = refusal(crash_image(dir.path(), &[WAL]).path());
    assert!(message.contains("WAL"), "{message}");
}

#[tokio::test]
async fn a_log_older_than_its_marker_is_refused() {
    let (dir, store) = running_log(5).await;
    store.flush().await;
    let older = std::fs::read(dir.path().join(DB_FILE)).unwrap();
    commit(&store, 5, 3).await;
    store.flush().await;
    drop(store);
    let image = crash_image(dir.path(), &[WAL]);
    std::fs::write(image.path().join(DB_FILE), older).unwrap();
    let message = refusal(image.path());
    assert!(
        message.contains("holds 5 events, fewer than the 8"),
        "{message}"
    );
}

#[tokio::test]
async fn a_missing_database_file_is_refused_even_when_its_wal_is_there() {
    let (dir, _store) = running_log(5).await;
    let image = crash_image(dir.path(), &[DB_FILE]);
    let message = refusal(image.path());
    assert!(
        message.contains("lobbywatch.sqlite3 is missing"),
        "{message}"
    );
    assert!(
        !image.path().join(DB_FILE).exists(),
        "no empty log was made"
    );
    let unmarked = crash_image(dir.path(), &[DB_FILE, MARKER_FILE]);
    let message = refusal(unmarked.path());
    assert!(message.contains("a WAL alone is not a log"), "{message}");
}

#[tokio::test]
async fn the_database_of_another_log_is_refused() {
    let (dir, store) = running_log(5).await;
    store.flush().await;
    let (other, other_store) = running_log(9).await;
    other_store.flush().await;
    let image = crash_image(dir.path(), &[WAL]);
    std::fs::copy(other.path().join(DB_FILE), image.path().join(DB_FILE)).unwrap();
    let message = refusal(image.path());
    assert!(
        message.contains("records that this directory held log"),
        "{message}"
    );
}

#[tokio::test]
async fn a_marker_without_any_log_is_refused() {
    let (dir, _store) = running_log(2).await;
    let image = crash_image(dir.path(), &[DB_FILE, WAL]);
    let message = refusal(image.path());
    assert!(message.contains("is missing"), "{message}");
    assert!(message.contains(MARKER_FILE), "{message}");
    assert!(
        !image.path().join(DB_FILE).exists(),
        "no empty log was made"
    );
}

#[tokio::test]
async fn a_log_set_aside_is_kept_whole_and_the_next_open_starts_empty() {
    let (dir, _store) = running_log(4).await;
    let image = crash_image(dir.path(), &[WAL]);
    refusal(image.path());
    let aside = set_aside(image.path()).unwrap().expect("files were moved");
    assert!(aside.join(DB_FILE).exists() && aside.join(MARKER_FILE).exists());
    let log = open(image.path()).unwrap();
    assert_eq!(log.events, 0);
    assert_ne!(recorded(image.path()).log_id, recorded(&aside).log_id);
    assert_eq!(
        set_aside(tempfile::tempdir().unwrap().path()).unwrap(),
        None
    );
}

#[tokio::test]
async fn a_log_from_before_identities_and_markers_is_adopted_with_its_events() {
    let (dir, store) = running_log(6).await;
    store.flush().await;
    drop(store);
    let image = crash_image(dir.path(), &[MARKER_FILE]);
    // What the previous version left: no `meta` table, no marker.
    rusqlite::Connection::open(image.path().join(DB_FILE))
        .unwrap()
        .execute_batch("DROP TABLE meta")
        .unwrap();
    let log = open(image.path()).unwrap();
    assert_eq!(log.events, 6);
    let m = recorded(image.path());
    assert_eq!(m.events, 6);
    assert_ne!(m.log_id, recorded(dir.path()).log_id, "a new identity");
}

#[tokio::test]
async fn after_a_flush_the_database_file_alone_holds_every_event() {
    let (dir, store) = running_log(7).await;
    store.flush().await;
    assert_eq!(
        std::fs::metadata(dir.path().join(WAL)).map_or(0, |m| m.len()),
        0,
        "the WAL is empty"
    );
    let image = crash_image(dir.path(), &[WAL, MARKER_FILE]);
    assert_eq!(open(image.path()).unwrap().events, 7);
}

#[tokio::test]
async fn the_checkpointer_records_the_committed_events_in_the_marker() {
    let (dir, _store) = running_log(1100).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while recorded(dir.path()).events < 1024 {
        assert!(
            std::time::Instant::now() < deadline,
            "the marker stays at {:?}",
            recorded(dir.path())
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(recorded(dir.path()).events <= 1100);
}

#[tokio::test]
async fn a_backup_taken_while_the_writer_runs_restores_every_committed_event() {
    let (dir, store) = running_log(12).await;
    let target = tempfile::tempdir().unwrap();
    let file = target.path().join("copy.sqlite3");
    let copy = crate::store::backup(dir.path(), &file).unwrap();
    assert_eq!(copy.events, 12);
    assert!(
        crate::store::backup(dir.path(), &file).is_err(),
        "never overwritten"
    );
    commit(&store, 12, 3).await;
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&file, restored.path().join(DB_FILE)).unwrap();
    let log = open(restored.path()).unwrap();
    assert_eq!(log.events, 12);
    assert_eq!(Some(recorded(restored.path()).log_id), copy.log_id);
}

#[tokio::test]
async fn a_log_whose_last_handle_is_dropped_is_closed_with_its_wal_emptied() {
    // As a tool that writes a log and drops it (the benchmark's generator) leaves it: SQLite
    // deletes the WAL when the last connection closes, so the marker must not expect one.
    let (dir, store) = running_log(3).await;
    drop(store);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while recorded(dir.path()).wal_in_use {
        assert!(
            std::time::Instant::now() < deadline,
            "the marker still expects a WAL"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(recorded(dir.path()).events, 3);
    let image = crash_image(dir.path(), &[WAL]);
    assert_eq!(open(image.path()).unwrap().events, 3);
}

#[tokio::test]
async fn a_log_handle_closing_after_its_directory_was_opened_again_leaves_the_newer_marker() {
    let (dir, old) = running_log(3).await;
    old.flush().await;
    let newer = open(dir.path()).unwrap().start_writer().unwrap();
    commit(&newer, 3, 1).await;
    let marker = recorded(dir.path());
    assert!(marker.wal_in_use);
    // The old writer's closing checkpoint would record an empty WAL that the newer one uses.
    drop(old);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(recorded(dir.path()), marker);
}

#[tokio::test]
async fn a_log_that_failed_is_closed_with_every_committed_event_in_the_database_file() {
    // A full log (fail-stop), then the service stops: the restart after the operator made room
    // must not be refused for a WAL that SQLite deleted on close.
    let dir = tempfile::tempdir().unwrap();
    let full = StoreOptions {
        max_pages: Some(12),
        ..StoreOptions::default()
    };
    let store = OpenLog::open(dir.path(), full)
        .unwrap()
        .start_writer()
        .unwrap();
    let mut committed = 0;
    while committed < 10_000 {
        let device = DeviceId::parse("desk").unwrap();
        let event: Event =
            serde_json::from_str(r#"{"kind":"cleaned","surface":"counter"}"#).unwrap();
        let ack = store.submit(Record {
            event: Some(Recorded {
                station: StationId::parse("s1").unwrap(),
                seq: committed + 1,
                at: Utc::now(),
                device,
                event,
            }),
            idempotency: None,
            snapshot: None,
            webhooks: Vec::new(),
        });
        if ack.await.unwrap().is_err() {
            break;
        }
        committed += 1;
    }
    assert!(store.failure().is_some(), "the log filled up");
    drop(store);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while recorded(dir.path()).wal_in_use {
        assert!(
            std::time::Instant::now() < deadline,
            "the marker still expects a WAL"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let image = crash_image(dir.path(), &[WAL]);
    assert_eq!(open(image.path()).unwrap().events, committed);
}
