//! Telling the other instances what was committed: after the commit, in batches.
//!
//! Not a `NOTIFY` inside each event's transaction: PostgreSQL commits notifying transactions one
//! at a time (a cluster-wide lock taken before the commit record and held until it is flushed),
//! so every event would wait for a WAL flush of its own, one after the other — measured by the
//! bench, half the throughput of the same rows written without it (B7n against B7). Sent after
//! the commit instead, one notifying transaction carries every event committed meanwhile, and the
//! events' own transactions share their flushes again.
//!
//! A notification can now be lost with the instance (killed between a commit and its
//! announcement) or with a failed send; the listener's once-a-second look at every station's
//! head (`listen.rs`) makes up for it, so another instance learns of such an event within about
//! a second instead of at once. Nothing is lost either way: the log holds the event.

use deadpool_postgres::Pool;
use tokio::sync::mpsc;

use super::CHANNEL;
use crate::domain::StationId;

/// PostgreSQL refuses a payload of 8,000 bytes or more; a batch stays below this.
const MAX_PAYLOAD: usize = 7_900;

/// The handle the writers use: cheap to clone.
#[derive(Debug, Clone)]
pub(super) struct Announcer {
    lines: mpsc::UnboundedSender<String>,
}

impl Announcer {
    /// Starts the task that sends the announcements through `pool`; it ends with the last handle.
    pub(super) fn start(pool: Pool) -> Announcer {
        let (lines, queued) = mpsc::unbounded_channel();
        tokio::spawn(send_batches(pool, queued));
        Announcer { lines }
    }

    /// Announces that `station` has events up to `seq`.
    pub(super) fn event(&self, station: &StationId, seq: u64) {
        let _ = self.lines.send(format!("e {station} {seq}"));
    }
}

/// Sends everything queued as one notification (several when it would not fit), then waits for
/// more: under load a batch is whatever committed while the previous one was being sent.
async fn send_batches(pool: Pool, mut queued: mpsc::UnboundedReceiver<String>) {
    let mut payload = String::new();
    while let Some(first) = queued.recv().await {
        payload.clear();
        payload.push_str(&first);
        while payload.len() < MAX_PAYLOAD - 200 {
            let Ok(line) = queued.try_recv() else {
                break;
            };
            payload.push('\n');
            payload.push_str(&line);
        }
        if let Err(e) = send(&pool, &payload).await {
            tracing::warn!(cause = %e, "announcing commits to the other instances failed; they find them within a second");
        }
    }
}

async fn send(pool: &Pool, payload: &str) -> anyhow::Result<()> {
    let client = pool.get().await?;
    let stmt = client.prepare_cached("SELECT pg_notify($1, $2)").await?;
    client.execute(&stmt, &[&CHANNEL, &payload]).await?;
    Ok(())
}
