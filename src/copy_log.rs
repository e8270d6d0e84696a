//! `lobbywatch copy-log --from SRC --to DST`: moves an office's event log between backends — an
//! SQLite data directory and a PostgreSQL database, either way (and directory to directory, or
//! database to database) — and shows that the copy is the same log.
//!
//! Not a dump and restore: the two schemas differ in their types and names, and what matters is
//! not that the tables look alike but that the copy serves the same office. So the copy is all
//! or nothing, and checked before it counts:
//!
//! - the source is read from one consistent view and never written (`store::rows::ReadRows`);
//! - the destination must hold nothing — no event, answer, revocation or snapshot — or the copy
//!   is refused; it is filled in **one transaction** (`WriteRows`), which holds the destination's
//!   write lock from the moment it is found empty;
//! - inside that transaction, before the commit ([`verify`]): every table read back holds the
//!   rows sent, byte for byte, and every row of the source was sent; and every station of the
//!   config, replayed from its first event through the engine as start-up replays it, ends at
//!   the same seq in the same state on both sides.
//!
//! Anything that fails or differs rolls the transaction back, so a failed copy leaves the
//! destination as empty as it was (an SQLite destination keeps the empty log and marker that
//! opening it created; a database keeps its tables).
//!
//! Snapshots are copied, but only the valid ones: a stored snapshot is copied, as it is, when it
//! equals the state the replay reaches at its seq. A copied snapshot is then exactly as good as
//! on the source, and start-up on the destination is as quick; a snapshot that does not match
//! (one of an older layout, which start-up would refuse anyway, or a wrong one) is left out
//! with a warning, and start-up replays that station in full and stores a new one.

mod verify;

use std::fmt;

use anyhow::Context;

use crate::config::Config;
use crate::state::ensure_known;
use crate::store::rows::{BATCH, Counts, ReadRows, SnapshotRow, WriteRows};
use crate::store::{DB_FILE, Storage, postgres, sqlite};
use verify::{Replayed, Sent, Tally};

/// What was copied.
#[derive(Debug, Clone)]
pub struct Copied {
    /// Where from and where to, as shown (a database without its password).
    pub from: String,
    pub to: String,
    pub events: u64,
    /// Stations with events.
    pub stations: usize,
    pub answers: u64,
    pub revoked: u64,
    pub snapshots: u64,
    /// Stations whose stored snapshot did not match their replay and was left out.
    pub snapshots_left_out: Vec<String>,
}

/// Copies the log at `from` into the empty log at `to` and checks the copy against `config`'s
/// stations (see the module's documentation). Nothing is copied unless all of it is.
pub async fn copy_log(from: &Storage, to: &Storage, config: &Config) -> anyhow::Result<Copied> {
    copy_from(from, to, config)
        .await
        .with_context(|| format!("nothing was copied from {from} to {to}"))
}

async fn copy_from(from: &Storage, to: &Storage, config: &Config) -> anyhow::Result<Copied> {
    anyhow::ensure!(!same_log(from, to), "--from and --to name the same log");
    let route = (from, to);
    match from {
        Storage::Dir(dir) => copy_into(&sqlite::CopyView::open(dir)?, route, config).await,
        Storage::Postgres(url) => {
            copy_into(&postgres::CopyView::open(url).await?, route, config).await
        }
    }
}

/// Where from and where to, for what is printed.
type Route<'a> = (&'a Storage, &'a Storage);

/// Refuses a source with stations the config lacks before the destination is even opened, then
/// copies into the destination.
async fn copy_into(
    source: &impl ReadRows,
    route: Route<'_>,
    config: &Config,
) -> anyhow::Result<Copied> {
    ensure_known(config, source.stations().await?).context(
        "copy-log checks the copy by replaying it under the office's config: give it with --config (without it, the built-in sample)",
    )?;
    match route.1 {
        Storage::Dir(dir) => {
            // A directory that holds a log is looked at read-only first and refused untouched:
            // opening it for writing would write its marker, under a service still running there.
            if dir.join(DB_FILE).exists() {
                refuse_unless_empty(&sqlite::CopyView::open(dir)?.counts().await?)?;
            }
            copy(source, sqlite::CopyTarget::open(dir)?, route, config).await
        }
        Storage::Postgres(url) => {
            copy(
                source,
                postgres::CopyTarget::open(url).await?,
                route,
                config,
            )
            .await
        }
    }
}

/// The copy itself, inside the destination's transaction; committed only once it checks out.
async fn copy(
    source: &impl ReadRows,
    mut target: impl WriteRows,
    (from, to): Route<'_>,
    config: &Config,
) -> anyhow::Result<Copied> {
    refuse_unless_empty(&target.rows().counts().await?)?;
    let stored = read_table(async |after| source.snapshots_after(after, BATCH).await).await?;
    let replayed = Replayed::replay(source, config, &stored).await?;
    let (snapshots, left_out) = replayed.valid_snapshots(stored);
    let sent = send(source, &mut target, &snapshots).await?;
    sent.is_all_of(&source.counts().await?)?;
    sent.landed_in(target.rows()).await?;
    replayed.same_as(&Replayed::replay(target.rows(), config, &[]).await?)?;
    target.commit().await?;
    Ok(Copied {
        from: from.to_string(),
        to: to.to_string(),
        events: sent.events.rows,
        stations: source.stations().await?.len(),
        answers: sent.answers.rows,
        revoked: sent.revoked.rows,
        snapshots: sent.snapshots.rows,
        snapshots_left_out: left_out,
    })
}

/// Refuses a destination that `holds` anything, saying what.
fn refuse_unless_empty(holds: &Counts) -> anyhow::Result<()> {
    anyhow::ensure!(
        holds.is_empty(),
        "the destination already holds a log ({}, {}, {}, {}); copy-log copies only into an empty log",
        counted(holds.events, "event"),
        counted(holds.answers, "idempotency answer"),
        counted(holds.revoked, "revoked token"),
        counted(holds.snapshots, "snapshot"),
    );
    Ok(())
}

/// Sends every event, answer and revoked token of `source`, and `snapshots`, to `target`.
async fn send(
    source: &impl ReadRows,
    target: &mut impl WriteRows,
    snapshots: &[SnapshotRow],
) -> anyhow::Result<Sent> {
    let events = copy_table(
        async |after| source.events_after(after, BATCH).await,
        async |rows| target.put_events(rows).await,
    )
    .await?;
    let answers = copy_table(
        async |after| source.answers_after(after, BATCH).await,
        async |rows| target.put_answers(rows).await,
    )
    .await?;
    let revoked = copy_table(
        async |after| source.revoked_after(after, BATCH).await,
        async |rows| target.put_revoked(rows).await,
    )
    .await?;
    target.put_snapshots(snapshots).await?;
    Ok(Sent {
        events,
        answers,
        revoked,
        snapshots: Tally::of(snapshots),
    })
}

/// Copies one table in batches, each read after the last row of the batch before and written
/// as one statement; returns what was sent.
async fn copy_table<R: verify::Digest>(
    read: impl AsyncFn(Option<&R>) -> anyhow::Result<Vec<R>>,
    mut write: impl AsyncFnMut(&[R]) -> anyhow::Result<()>,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    let mut batch = read(None).await?;
    while !batch.is_empty() {
        write(&batch).await?;
        tally.add(&batch);
        batch = read(batch.last()).await?;
    }
    Ok(tally)
}

/// Every row of a (small) table, in batches as [`copy_table`].
async fn read_table<R>(
    read: impl AsyncFn(Option<&R>) -> anyhow::Result<Vec<R>>,
) -> anyhow::Result<Vec<R>> {
    let mut all: Vec<R> = Vec::new();
    loop {
        let batch = read(all.last()).await?;
        if batch.is_empty() {
            return Ok(all);
        }
        all.extend(batch);
    }
}

/// Whether `from` and `to` are plainly the same place (the emptiness check would refuse such a
/// copy too, but with a less helpful message).
fn same_log(from: &Storage, to: &Storage) -> bool {
    let canonical = |dir: &std::path::Path| std::fs::canonicalize(dir).ok();
    match (from, to) {
        (Storage::Dir(a), Storage::Dir(b)) => {
            a == b || canonical(a).is_some_and(|a| Some(a) == canonical(b))
        }
        (Storage::Postgres(a), Storage::Postgres(b)) => a == b,
        _ => false,
    }
}

/// `copied 12,345 events of 8 stations, … from A to B — both replay to the same state`.
impl fmt::Display for Copied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "copied {} of {}, {}, {} and {}",
            counted(self.events, "event"),
            counted(self.stations as u64, "station"),
            counted(self.answers, "answer"),
            counted(self.revoked, "revoked token"),
            counted(self.snapshots, "snapshot"),
        )?;
        if !self.snapshots_left_out.is_empty() {
            let left_out = self.snapshots_left_out.len() as u64;
            write!(f, " ({} left out)", counted(left_out, "invalid snapshot"))?;
        }
        write!(
            f,
            " from {} to {} — both replay to the same state",
            self.from, self.to
        )
    }
}

/// `1 event`, `12,345 events`.
fn counted(n: u64, noun: &str) -> String {
    let plural = if n == 1 { "" } else { "s" };
    format!("{} {noun}{plural}", thousands(n))
}

/// `n` with a comma between thousands: `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests;
