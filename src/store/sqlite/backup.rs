//! `lobbywatch backup DIR FILE`: a consistent copy of the live log in one file, taken while the
//! service runs.
//!
//! Copying `lobbywatch.sqlite3` with `cp` while the service runs is not a backup: the newest
//! commits are in the WAL, and the file may be mid-checkpoint. SQLite's online backup reads
//! every page inside one read transaction — in WAL mode a snapshot that the writer never waits
//! for — so the copy is exactly the log as of one commit. It is written under a temporary name,
//! synced, and renamed, so a backup that exists is complete. The copy keeps the log's identity;
//! restoring it is putting it as `lobbywatch.sqlite3` into an empty data directory, which then
//! has no marker and adopts it (`datadir.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use super::{DB_FILE, marker, schema};

/// What a backup holds.
#[derive(Debug, Clone)]
pub struct Backup {
    /// The log's identity (`None` for a log written before identities, until its next start).
    pub log_id: Option<String>,
    /// How many events the copy holds.
    pub events: u64,
    pub file: PathBuf,
}

/// Copies the log in the data directory `dir` into `file`, which must not exist yet.
pub fn backup(dir: &Path, file: &Path) -> anyhow::Result<Backup> {
    let source = dir.join(DB_FILE);
    anyhow::ensure!(
        source.exists(),
        "there is no event log {} to back up",
        source.display()
    );
    anyhow::ensure!(
        !file.exists(),
        "{} exists already; a backup never overwrites a file",
        file.display()
    );
    let partial = partial_name(file)?;
    let _ = std::fs::remove_file(&partial);
    // Read-only: the copy must never checkpoint or change the live log.
    let from = schema::open_read_only(&source)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", source.display()))?;
    let mut to = Connection::open(&partial)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", partial.display()))?;
    copy_all(&from, &mut to)?;
    let backup = Backup {
        log_id: schema::log_id(&to).ok().flatten(),
        events: schema::event_count(&to)?,
        file: file.to_owned(),
    };
    // The copy carries the log's WAL mode: fold its own WAL in, so the file alone is the copy.
    to.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    to.close().map_err(|(_, e)| e)?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, file)?;
    marker::sync_dir(
        file.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
    )?;
    Ok(backup)
}

/// Copies every page of `from` into `to` in one step: one read transaction, so one consistent
/// snapshot, which the writer never waits for (WAL). In steps of a few pages, each commit of the
/// service in between would restart the copy, and under steady load it might never finish.
fn copy_all(from: &Connection, to: &mut Connection) -> anyhow::Result<()> {
    use rusqlite::backup::StepResult;
    let copy = rusqlite::backup::Backup::new(from, to)?;
    // BUSY or LOCKED: another connection holds a lock for a moment (a checkpoint); try again.
    for _ in 0..500 {
        match copy.step(-1)? {
            StepResult::Done => return Ok(()),
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    anyhow::bail!("the log stayed locked for 5 s; try the backup again")
}

/// The name the copy is written under until it is complete.
fn partial_name(file: &Path) -> anyhow::Result<PathBuf> {
    let name = file
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("{} is not a file name", file.display()))?;
    let mut partial = name.to_owned();
    partial.push(".partial");
    Ok(file.with_file_name(partial))
}
