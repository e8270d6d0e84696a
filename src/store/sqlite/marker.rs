//! The data directory's own record of the log it holds: `lobbywatch.marker`.
//!
//! SQLite cannot tell a log that lost its WAL, or a database file swapped for an older one, from
//! a log that is simply shorter: it opens either and reports nothing. So the directory keeps a
//! small JSON file beside the log — the log's identity, how many events it held when the marker
//! was last written, and whether the WAL may hold commits the database file does not — and
//! start-up compares the log with it (`datadir.rs`). Writing it costs a file fsync and a
//! directory fsync, so it is written at the log's own milestones, never per commit: at start-up,
//! with the checkpointer's rounds, at a graceful shutdown, and when the writer first commits
//! after a checkpoint that emptied the WAL. Every count it records was committed before it was
//! written, so a log that holds fewer events than its marker has lost some.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The marker file inside the data directory.
pub const MARKER_FILE: &str = "lobbywatch.marker";

/// What the marker says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct MarkerState {
    /// The identity stored in the log's `meta` table.
    pub(super) log_id: String,
    /// Events the log held (at least) when this was written.
    pub(super) events: u64,
    /// `true` while the WAL may hold commits the database file does not: from the writer's first
    /// commit until a checkpoint empties the WAL at shutdown. Then the WAL file must exist.
    pub(super) wal_in_use: bool,
    pub(super) written_at: DateTime<Utc>,
    /// Which opening of the log wrote this: a handle whose log was opened again since (tests
    /// reopen a directory in one process while the old writer thread is still closing) must
    /// not overwrite what the newer one recorded.
    pub(super) opened: String,
}

/// Serializes marker writes within the process, so a late write of a closing log's handle and
/// the write of the handle opened after it never interleave.
static WRITING: Mutex<()> = Mutex::new(());

/// Reads the marker in `dir`, `None` if there is none.
pub(super) fn read(dir: &Path) -> anyhow::Result<Option<MarkerState>> {
    let path = dir.join(MARKER_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            anyhow::anyhow!(
                "{} cannot be read ({e}); restore it from a backup, or delete it to accept the log as it is",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// Replaces the marker in `dir` atomically: a crash leaves the old marker or the new one, never
/// a torn one (write a temporary file, sync it, rename it over, sync the directory).
fn write(dir: &Path, state: &MarkerState) -> std::io::Result<()> {
    let temp = dir.join(format!("{MARKER_FILE}.tmp"));
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(&serde_json::to_vec_pretty(state)?)?;
    file.sync_all()?;
    std::fs::rename(&temp, dir.join(MARKER_FILE))?;
    sync_dir(dir)
}

/// Makes a rename or a new file in `dir` durable.
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// The marker of an open log, shared by the writer and the checkpointer; its lock orders their
/// writes, so the file always says what the last of them knew.
#[derive(Debug)]
pub(super) struct Marker {
    dir: PathBuf,
    state: Mutex<MarkerState>,
}

impl Marker {
    /// Writes the marker of a log just opened: `events` events, everything in the database file
    /// (the opening checkpoint emptied the WAL) unless `wal_in_use`.
    pub(super) fn write_new(
        dir: &Path,
        log_id: String,
        events: u64,
        wal_in_use: bool,
    ) -> std::io::Result<Marker> {
        let state = MarkerState {
            log_id,
            events,
            wal_in_use,
            written_at: Utc::now(),
            opened: format!("{:016x}", rand::random::<u64>()),
        };
        let _writing = WRITING.lock().unwrap_or_else(|e| e.into_inner());
        write(dir, &state)?;
        Ok(Marker {
            dir: dir.to_owned(),
            state: Mutex::new(state),
        })
    }

    /// Whether the marker already says the WAL is in use.
    pub(super) fn wal_in_use(&self) -> bool {
        self.state.lock().map_or(true, |s| s.wal_in_use)
    }

    /// Records that the WAL is in use, before the commit that will put something there.
    pub(super) fn wal_in_use_from_now(&self) -> std::io::Result<()> {
        self.update(|s| s.wal_in_use = true)
    }

    /// Records that the log held at least `events` events (the checkpointer's rounds).
    pub(super) fn advance(&self, events: u64) -> std::io::Result<()> {
        self.update(|s| s.events = s.events.max(events))
    }

    /// Records that a checkpoint emptied the WAL with `events` events committed: the database
    /// file alone is current.
    pub(super) fn wal_emptied(&self, events: u64) -> std::io::Result<()> {
        self.update(|s| {
            s.events = s.events.max(events);
            s.wal_in_use = false;
        })
    }

    fn update(&self, change: impl FnOnce(&mut MarkerState)) -> std::io::Result<()> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| std::io::Error::other("the marker's lock is poisoned"))?;
        let mut next = state.clone();
        change(&mut next);
        next.written_at = Utc::now();
        let _writing = WRITING.lock().unwrap_or_else(|e| e.into_inner());
        let superseded = read(&self.dir)
            .ok()
            .flatten()
            .is_some_and(|on_disk| on_disk.opened != next.opened);
        if superseded {
            return Ok(());
        }
        write(&self.dir, &next)?;
        *state = next;
        Ok(())
    }
}
