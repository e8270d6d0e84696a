//! Checkpoints: copying the WAL back into the database file, so the WAL stays small and start-up
//! reads one file.
//!
//! SQLite's own automatic checkpoint runs inside a commit, on the committing connection, so an
//! event would now and then wait milliseconds for it. The writer turns that off
//! ([`take_over_checkpoints`]) and this module does the work instead: a [`Checkpointer`] thread
//! with a connection of its own copies committed frames every [`CHECKPOINT_AFTER`] records, and
//! the writer restarts the WAL itself ([`restart_wal`]) when sustained load keeps it from ever
//! starting over. A checkpoint that fails or cannot finish loses nothing: the frames stay in the
//! WAL, and SQLite replays them on the next open.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use rusqlite::Connection;

use super::schema;
use super::writer::Position;

/// Records committed between two requests to the checkpointer thread. Each record dirties a few
/// pages; a checkpoint copies each page once, its newest version, however often it changed.
pub const CHECKPOINT_AFTER: u64 = 1024;
/// Frames (pages) the WAL may hold before the writer checkpoints it by itself (see
/// [`Checkpointer`]): 8 MiB.
pub const WAL_FRAMES_LIMIT: u64 = 2048;
/// How long the writer's statements wait for a lock another connection holds (only the
/// checkpointer's, briefly) before failing; its own RESTART checkpoints do not wait at all.
const WRITER_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Copies committed WAL frames into the database file on a thread and connection of its own, so
/// that at ordinary load no commit ever waits for a checkpoint (one takes milliseconds).
///
/// The WAL starts over from its beginning only when a write transaction begins with every
/// frame already copied. Under sustained load the writer always has new frames by then, so a
/// checkpoint on another connection alone would let the WAL grow without end (measured: 1.6 GB
/// in ten seconds). So the writer watches the WAL's size as the checkpointer last saw it, and
/// past [`WAL_FRAMES_LIMIT`] it checkpoints by itself (RESTART: it copies the few frames left
/// and the next commit starts the WAL over) — between two groups, after the acknowledgements.
pub(super) struct Checkpointer {
    due: std::sync::mpsc::SyncSender<()>,
    /// Frames in the WAL at the end of the last checkpoint.
    wal_frames: Arc<AtomicU64>,
    thread: thread::JoinHandle<()>,
}

impl Checkpointer {
    /// Starts the thread on the log at `path`. After each round it records in the marker the
    /// events committed before the round began, all of which are durable by then.
    pub(super) fn start(path: &Path, position: &Position) -> anyhow::Result<Checkpointer> {
        let conn = schema::open_for_checkpoints(path)?;
        // Only ever synced, never written through: SQLite writes the pages.
        let database = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        let (due, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let wal_frames = Arc::new(AtomicU64::new(0));
        let frames = wal_frames.clone();
        let (marker, committed) = (position.marker.clone(), position.committed.clone());
        let thread = thread::Builder::new()
            .name("lobbywatch-log-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    let events = committed.load(Ordering::Acquire);
                    if let Some(log) = checkpoint(&conn, "PASSIVE") {
                        // Under load a PASSIVE checkpoint never reaches the WAL's end, and
                        // SQLite then leaves the pages it copied unsynced: the next sync of the
                        // database file — the writer's RESTART, while events wait — would flush
                        // all of them (measured: 4 ms). Flushed here, that sync finds only the
                        // few pages copied since.
                        if let Err(e) = database.sync_data() {
                            tracing::warn!(cause = %e, "syncing the database file after a checkpoint failed");
                        }
                        frames.store(log, Ordering::Release);
                        // A marker behind the log only protects a little less; the next round
                        // tries again.
                        if let Err(e) = marker.advance(events) {
                            tracing::warn!(cause = %e, "updating the data directory's marker failed");
                        }
                    }
                }
            })?;
        Ok(Checkpointer {
            due,
            wal_frames,
            thread,
        })
    }

    /// Asks for a checkpoint; a request already waiting covers this one too.
    pub(super) fn request(&self) {
        let _ = self.due.try_send(());
    }

    pub(super) fn wal_frames(&self) -> u64 {
        self.wal_frames.load(Ordering::Acquire)
    }

    pub(super) fn wal_restarted(&self) {
        self.wal_frames.store(0, Ordering::Release);
    }

    /// Lets a running checkpoint finish and stops the thread.
    pub(super) fn stop(self) {
        drop(self.due);
        let _ = self.thread.join();
    }
}

/// Makes checkpoints the business of the writer and its [`Checkpointer`] alone on the writer's
/// `conn`: no automatic checkpoint inside a commit, and a bounded wait for the checkpointer's
/// brief locks.
pub(super) fn take_over_checkpoints(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("PRAGMA wal_autocheckpoint=0;")?;
    conn.busy_timeout(WRITER_BUSY_TIMEOUT)
}

/// One checkpoint of `mode`: PASSIVE never blocks the writer; RESTART (the writer's own) waits
/// for a running checkpoint and readers, then makes the next commit start the WAL over. Returns
/// the frames the WAL held, or `None` if the checkpoint failed or could not finish (that loses
/// nothing: the frames stay in the WAL).
fn checkpoint(conn: &Connection, mode: &str) -> Option<u64> {
    match conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    }) {
        Ok((0, log)) => u64::try_from(log).ok(),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(cause = %e, "WAL checkpoint failed");
            None
        }
    }
}

/// The writer's RESTART checkpoint, without waiting: if the checkpointer is copying just now,
/// SQLite's busy handler would sleep the writer for milliseconds (1, 2, 5 ms …) while events
/// queue; instead the writer tries again after its next group. Returns whether the WAL will
/// start over.
pub(super) fn restart_wal(conn: &Connection) -> bool {
    let _ = conn.busy_timeout(Duration::ZERO);
    let restarted = checkpoint(conn, "RESTART").is_some();
    let _ = conn.busy_timeout(WRITER_BUSY_TIMEOUT);
    restarted
}

/// Copies the whole WAL into the database file and empties it (TRUNCATE), so the database file
/// alone is current; waits for a running checkpoint and readers. Returns whether it did.
pub(super) fn empty_wal(conn: &Connection) -> bool {
    checkpoint(conn, "TRUNCATE").is_some()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use crate::domain::{DeviceId, Event, Recorded, StationId};
    use crate::idempotency::IdempotencyRecord;
    use crate::store::{DB_FILE, OpenLog, Record, StoreOptions};

    /// Without checkpoints the WAL would hold every page version ever written (over 60 MiB
    /// here); with them it starts over again and again and stays near [`WAL_FRAMES_LIMIT`]
    /// pages however long the log grows — also under this sustained load, where the
    /// checkpointer thread alone would never let it start over.
    #[test]
    fn the_wal_is_checkpointed_and_reused_so_it_does_not_grow_with_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let store = OpenLog::open(dir.path(), StoreOptions::default())
            .unwrap()
            .start_writer()
            .unwrap();
        let wal = dir.path().join(format!("{DB_FILE}-wal"));
        let stations: Vec<StationId> = (0..64)
            .map(|i| StationId::parse(&format!("s{i}")).unwrap())
            .collect();
        let device = DeviceId::parse("desk").unwrap();
        let event: Event =
            serde_json::from_str(r#"{"kind":"cleaned","surface":"counter"}"#).unwrap();
        let mut largest_wal = 0;
        let mut n = 0u64;
        for _ in 0..80 {
            let acks: Vec<_> = (0..256)
                .map(|_| {
                    n += 1;
                    let station = stations[(n % 64) as usize].clone();
                    store.submit(Record {
                        event: Some(Recorded {
                            station,
                            seq: n / 64 + 1,
                            at: Utc::now(),
                            device: device.clone(),
                            event: event.clone(),
                        }),
                        idempotency: Some(IdempotencyRecord {
                            device: device.clone(),
                            key: format!("key-{n}"),
                            fingerprint: [7; 32],
                            status: 201,
                            body: bytes::Bytes::from(vec![b'x'; 300]),
                            at: Utc::now(),
                        }),
                        snapshot: None,
                        webhooks: Vec::new(),
                    })
                })
                .collect();
            for ack in acks {
                ack.blocking_recv().unwrap().unwrap();
            }
            largest_wal = largest_wal.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        assert!(
            largest_wal < 16 << 20,
            "the WAL grew to {} MiB",
            largest_wal >> 20
        );
    }
}
