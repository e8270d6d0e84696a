//! The data directory at start-up: refuse a log that is missing pieces or older than the
//! directory recorded, adopt a log that has no record yet, and set a log aside for a deliberate
//! fresh start.
//!
//! SQLite opens whatever it finds: without its WAL a log is silently older, without its database
//! file it is silently empty, and a service on such a log would answer an old Idempotency-Key as
//! new. The marker (`marker.rs`) says what the directory held; [`open_checked`] compares the
//! files and the log with it before anything is served, and refuses with a message that names
//! the file and the ways out. A directory without a marker — a new one, one written by a version
//! before markers, or one an operator restored a backup into — is adopted as it is.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::marker::{self, MARKER_FILE, Marker, MarkerState};
use super::{DB_FILE, schema};

/// What the operator can do about a refused log; every refusal ends with it.
fn ways_out(dir: &Path) -> String {
    format!(
        "Refusing to start, so that no acknowledged event is silently lost or answered twice. \
         Either restore the log from a backup (`lobbywatch backup` makes one; put the file as \
         {DB_FILE} in an empty data directory and start there), or, to accept the log exactly \
         as it is now, delete {}; or, for a deliberately empty log, start once with --new-log \
         (it moves the old files aside into a subdirectory, deleting nothing).",
        dir.join(MARKER_FILE).display()
    )
}

fn refuse(dir: &Path, what: String) -> anyhow::Error {
    anyhow::anyhow!("{what}. {}", ways_out(dir))
}

/// The log's files in `dir`: `(database, WAL, shared memory)`.
fn log_files(dir: &Path) -> [PathBuf; 3] {
    [
        dir.join(DB_FILE),
        dir.join(format!("{DB_FILE}-wal")),
        dir.join(format!("{DB_FILE}-shm")),
    ]
}

/// Opens the log in `dir` for writing once the directory's files agree with its marker, checks
/// the log itself against the marker, and writes the marker anew. Returns the connection, the
/// marker and the number of events in the log.
pub(super) fn open_checked(
    dir: &Path,
    max_pages: Option<u64>,
) -> anyhow::Result<(Connection, Marker, u64)> {
    let recorded = marker::read(dir)?;
    check_files(dir, recorded.as_ref())?;
    let [db, ..] = log_files(dir);
    let conn = schema::open_for_writing(&db, max_pages)?;
    let log_id = match (schema::log_id(&conn)?, &recorded) {
        (Some(id), _) => id,
        (None, Some(m)) => {
            return Err(refuse(
                dir,
                format!(
                    "{} is not the log {} recorded (log {}): it has no identity at all",
                    db.display(),
                    MARKER_FILE,
                    m.log_id
                ),
            ));
        }
        // No marker and no identity: a new log, or one from before identities. Adopt it.
        (None, None) => schema::assign_log_id(&conn)?,
    };
    let events = schema::event_count(&conn)?;
    if let Some(m) = &recorded {
        check_log(dir, m, &log_id, events)?;
    }
    // Fold what the WAL holds into the database file now, while nothing else uses the log: from
    // here until the writer's first commit the database file alone is current, so a start that
    // fails later (a config that no longer fits the log) leaves no WAL the next start needs.
    let emptied = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0)
        })
        .is_ok_and(|busy| busy == 0);
    let marker = Marker::write_new(dir, log_id, events, !emptied)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", dir.join(MARKER_FILE).display()))?;
    Ok((conn, marker, events))
}

/// Opens the log in `dir` read-only, after the checks [`open_checked`] makes — a log missing its
/// WAL or its database file, or older than the marker recorded, is refused, since a copy of it
/// would silently lack acknowledged events. Nothing here writes: no marker, no checkpoint, so
/// reading a log never changes it (`copy-log`'s source).
pub(super) fn open_read_only_checked(dir: &Path) -> anyhow::Result<Connection> {
    let [db, ..] = log_files(dir);
    anyhow::ensure!(
        db.exists(),
        "there is no event log in {} (no {DB_FILE})",
        dir.display()
    );
    let recorded = marker::read(dir)?;
    check_files(dir, recorded.as_ref())?;
    let conn = schema::open_read_only(&db)
        .map_err(|e| anyhow::anyhow!("cannot open the event log {}: {e}", db.display()))?;
    // A log without a marker (never started since markers, or restored from a backup) has
    // nothing to be checked against, and may predate `meta`: it is read as it is.
    if let Some(m) = &recorded {
        let Some(log_id) = schema::log_id(&conn)? else {
            return Err(refuse(
                dir,
                format!(
                    "{} is not the log {MARKER_FILE} recorded (log {}): it has no identity at all",
                    db.display(),
                    m.log_id
                ),
            ));
        };
        check_log(dir, m, &log_id, schema::event_count(&conn)?)?;
    }
    Ok(conn)
}

/// Refuses when a file the marker implies is missing: the database file (SQLite would make an
/// empty one), or the WAL while it may hold commits the database file does not.
fn check_files(dir: &Path, recorded: Option<&MarkerState>) -> anyhow::Result<()> {
    let [db, wal, _] = log_files(dir);
    let Some(m) = recorded else {
        if !db.exists() && wal.exists() {
            return Err(refuse(
                dir,
                format!(
                    "{} is missing but its WAL {} is there; a WAL alone is not a log",
                    db.display(),
                    wal.display()
                ),
            ));
        }
        return Ok(());
    };
    if !db.exists() {
        return Err(refuse(
            dir,
            format!(
                "the event log {} is missing, but {} records that this directory held log {} \
                 with {} events",
                db.display(),
                MARKER_FILE,
                m.log_id,
                m.events
            ),
        ));
    }
    if m.wal_in_use && !wal.exists() {
        return Err(refuse(
            dir,
            format!(
                "the log's WAL {} is missing, but the service did not shut down cleanly ({} \
                 says the WAL was in use), so the latest commits are gone. (If another program, \
                 such as the sqlite3 shell, opened the log since and folded the WAL into the \
                 database file, nothing is lost and deleting the marker is safe.)",
                wal.display(),
                MARKER_FILE
            ),
        ));
    }
    Ok(())
}

/// Refuses a log that is not the one the marker names, or holds fewer events than it recorded.
fn check_log(dir: &Path, m: &MarkerState, log_id: &str, events: u64) -> anyhow::Result<()> {
    let db = dir.join(DB_FILE);
    if m.log_id != log_id {
        return Err(refuse(
            dir,
            format!(
                "{} is log {log_id}, but {} records that this directory held log {}",
                db.display(),
                MARKER_FILE,
                m.log_id
            ),
        ));
    }
    if events < m.events {
        return Err(refuse(
            dir,
            format!(
                "{} holds {events} events, fewer than the {} that {} recorded on {}: it is older \
                 than the log this directory held (a lost WAL, or an older copy)",
                db.display(),
                m.events,
                MARKER_FILE,
                m.written_at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
        ));
    }
    Ok(())
}

/// Moves the log's files and the marker out of the way into a new subdirectory of `dir` named
/// after the time, so that the next open starts an empty log (`serve --new-log`). Returns the
/// subdirectory, or `None` when there was nothing to move. Nothing is deleted.
pub fn set_aside(dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    let [db, wal, shm] = log_files(dir);
    let present: Vec<PathBuf> = [db, wal, shm, dir.join(MARKER_FILE)]
        .into_iter()
        .filter(|p| p.exists())
        .collect();
    if present.is_empty() {
        return Ok(None);
    }
    let aside = dir.join(format!(
        "set-aside-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
    ));
    std::fs::create_dir(&aside)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", aside.display()))?;
    for file in present {
        let to = aside.join(file.file_name().expect("the log's files have names"));
        std::fs::rename(&file, &to).map_err(|e| {
            anyhow::anyhow!("cannot move {} to {}: {e}", file.display(), to.display())
        })?;
    }
    marker::sync_dir(&aside)?;
    marker::sync_dir(dir)?;
    Ok(Some(aside))
}

#[cfg(test)]
mod tests;
