//! Reading the SQLite log: replay, range reads, snapshots, stored answers and revocations — and
//! the rows as stored, which `copy-log` copies.
//!
//! Every query the service runs against the log, other than the writer's, is here. Start-up
//! reads on the connection it opened (and, to replay stations in parallel, on [`LogReader`]s of
//! its own, one per thread). Reads that serve a request — an old idempotency key's answer, the
//! events behind a report — run in a blocking task on a [`LogReader`] taken from a
//! [`ReaderPool`], never on an async worker thread and never on a connection shared behind a
//! lock, so a long report cannot hold up an event's idempotency look-up. In WAL mode no read
//! waits for the writer, nor the writer for a read.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::schema;
use crate::domain::{DeviceId, Recorded, StationId};
use crate::engine::Snapshot;
use crate::idempotency::IdempotencyRecord;
use crate::idempotency::key_hash as answer_key_hash;
use crate::store::decode;
use crate::store::rows::{AnswerRow, Counts, EventRow, RevokedRow, SnapshotRow};

/// Read-only connections kept open between requests. Reads that serve requests are rare and
/// short (an idempotency key older than memory, a report); a few idle connections cover them,
/// and a burst beyond that opens more, closed again after use.
const MAX_IDLE_READERS: usize = 4;

/// A read-only connection to the log, used by one thread at a time (see `ReaderPool` and
/// [`OpenLog::reader`](super::OpenLog::reader)).
pub struct LogReader {
    conn: Connection,
}

impl LogReader {
    pub(super) fn open(path: &Path) -> anyhow::Result<LogReader> {
        Ok(LogReader {
            conn: schema::open_read_only(path)?,
        })
    }

    /// The connection itself, for the reads kept beside what they read (`outbox.rs`).
    pub(super) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Calls `f` with `station`'s logged events after `after_seq`, in sequence order.
    pub fn replay(
        &self,
        station: &str,
        after_seq: u64,
        f: impl FnMut(Recorded) -> anyhow::Result<()>,
    ) -> anyhow::Result<u64> {
        replay(&self.conn, station, after_seq, f)
    }

    /// The highest seq `station` has in the log (0 for none): one index probe.
    pub fn last_seq(&self, station: &str) -> anyhow::Result<u64> {
        let seq: i64 = self.conn.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM events WHERE station = ?1",
            [station],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(seq)?)
    }

    /// Calls `f(i, event)` for each event of `stations[i].0` after seq `stations[i].1`, reading
    /// the journal once, in order, from the first of them; each station's events come in seq
    /// order (the journal holds a station's events in the order they were applied). For long
    /// tails: one sequential pass instead of a page read per event through `events_station`.
    /// Rows of other stations are skipped without being decoded.
    pub fn replay_scan(
        &self,
        stations: &[(&str, u64)],
        mut f: impl FnMut(usize, Recorded) -> anyhow::Result<()>,
    ) -> anyhow::Result<u64> {
        let wanted: std::collections::HashMap<&str, (usize, i64)> = stations
            .iter()
            .enumerate()
            .map(|(i, (station, after))| Ok((*station, (i, i64::try_from(*after)?))))
            .collect::<anyhow::Result<_>>()?;
        let mut first = self
            .conn
            .prepare_cached("SELECT MIN(pos) FROM events WHERE station = ?1 AND seq > ?2")?;
        let mut start: Option<i64> = None;
        for (station, (_, after)) in &wanted {
            let pos: Option<i64> = first.query_row(params![station, after], |r| r.get(0))?;
            start = match (start, pos) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let Some(start) = start else { return Ok(0) };
        let mut stmt = self.conn.prepare_cached(
            "SELECT station, seq, at_us, device, body FROM events WHERE pos >= ?1 ORDER BY pos",
        )?;
        let mut rows = stmt.query([start])?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            let station = row.get_ref(0)?.as_str()?;
            let Some(&(i, after)) = wanted.get(station) else {
                continue;
            };
            if row.get::<_, i64>(1)? > after {
                f(i, recorded(row)?)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The stored answer for `(device, key)`, if the log has one: one probe of `idempotency_key`,
    /// the rows under that hash compared in full.
    fn find_answer(
        &self,
        device: &DeviceId,
        key: &str,
    ) -> anyhow::Result<Option<IdempotencyRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT device, key, fingerprint, status, response, at_us FROM idempotency
             WHERE key_hash = ?1 AND device = ?2 AND key = ?3",
        )?;
        let hash = answer_key_hash(device.as_str(), key);
        let mut rows = stmt.query(params![hash, device.as_str(), key])?;
        rows.next()?.map(idempotency_record).transpose()
    }

    /// `station`'s events accepted in `[from, to)`, in sequence order.
    fn events_between(
        &self,
        station: &StationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Recorded>> {
        let first = self.first_seq_at_or_after(station, from)?;
        let end = self.first_seq_at_or_after(station, to)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT station, seq, at_us, device, body FROM events
             WHERE station = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![station.as_str(), first, end])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(recorded(row)?);
        }
        Ok(out)
    }

    /// The first seq of `station` whose event was accepted at or after `at` (one past its last
    /// event when none was): a binary search over seqs, each step one probe of
    /// `events_station`. Valid because a station's events are stamped in seq order with times
    /// that never run backwards (`ingest`), so a time range is a seq range — which spares the
    /// log an index on time that every event would pay for.
    fn first_seq_at_or_after(&self, station: &StationId, at: DateTime<Utc>) -> anyhow::Result<i64> {
        let mut last = self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events WHERE station = ?1")?;
        let mut at_seq = self
            .conn
            .prepare_cached("SELECT at_us FROM events WHERE station = ?1 AND seq = ?2")?;
        let (mut low, mut high) = (
            1_i64,
            last.query_row([station.as_str()], |r| r.get::<_, i64>(0))? + 1,
        );
        let at = at.timestamp_micros();
        while low < high {
            let mid = low + (high - low) / 2;
            let mid_at: Option<i64> = at_seq
                .query_row(params![station.as_str(), mid], |r| r.get(0))
                .optional()?;
            match mid_at {
                Some(t) if t >= at => high = mid,
                _ => low = mid + 1,
            }
        }
        Ok(low)
    }

    /// The last `rule_changed` event of `station` before `at`, if any.
    fn rule_change_before(
        &self,
        station: &StationId,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<Recorded>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT station, seq, at_us, device, body FROM events INDEXED BY events_rule_changes
             WHERE station = ?1 AND kind = 'rule_changed' AND at_us < ?2
             ORDER BY at_us DESC LIMIT 1",
        )?;
        let mut rows = stmt.query(params![station.as_str(), at.timestamp_micros()])?;
        rows.next()?.map(recorded).transpose()
    }
}

/// Read-only connections for the reads that serve requests, each lent to one task at a time.
///
/// A pool rather than a connection opened per read: opening one costs a file open, mapping the
/// WAL index and parsing the schema on its first statement, and its prepared statements die
/// with it; a pooled connection keeps them (`prepare_cached`), so an idempotency look-up stays
/// one B-tree probe. Not one shared connection behind a lock: a week-long history read would
/// then make every look-up wait. The lock here is held only to take or return a connection,
/// never during a query.
pub(super) struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<LogReader>>,
}

impl ReaderPool {
    /// A pool for the log at `path`, with one connection open already, so a log that cannot
    /// be read fails at start-up rather than at the first request.
    pub(super) fn open(path: PathBuf) -> anyhow::Result<ReaderPool> {
        let mut idle = Vec::with_capacity(MAX_IDLE_READERS);
        idle.push(LogReader::open(&path)?);
        Ok(ReaderPool {
            path,
            idle: Mutex::new(idle),
        })
    }

    /// Runs `f` on a connection of its own, here on the calling thread: call it only where
    /// blocking is allowed (a blocking task).
    fn with_reader<T>(&self, f: impl FnOnce(&LogReader) -> anyhow::Result<T>) -> anyhow::Result<T> {
        // The Vec is only pushed to and popped from, so a poisoned lock still holds a valid one.
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let reader = match pooled {
            Some(reader) => reader,
            None => LogReader::open(&self.path)?,
        };
        let result = f(&reader);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(reader);
        }
        result
    }

    /// Runs `f` on a pooled connection in a blocking task (reads kept in other files).
    pub(super) async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&LogReader) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        self.read_in_blocking_task(f).await
    }

    /// Runs `f` on a connection of its own in a blocking task, off the async worker threads.
    async fn read_in_blocking_task<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&LogReader) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || pool.with_reader(f))
            .await
            .map_err(|e| anyhow::anyhow!("a log read task failed: {e}"))?
    }

    /// See `Store::find_answer`.
    pub(super) async fn find_answer(
        self: &Arc<Self>,
        device: &DeviceId,
        key: &str,
    ) -> anyhow::Result<Option<IdempotencyRecord>> {
        let (device, key) = (device.clone(), key.to_owned());
        self.read_in_blocking_task(move |reader| reader.find_answer(&device, &key))
            .await
    }

    /// See `Store::events_between`.
    pub(super) fn events_between(
        &self,
        station: &StationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Recorded>> {
        self.with_reader(|reader| reader.events_between(station, from, to))
    }

    /// See `Store::rule_change_before`.
    pub(super) fn rule_change_before(
        &self,
        station: &StationId,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<Recorded>> {
        self.with_reader(|reader| reader.rule_change_before(station, at))
    }
}

/// Calls `f` with `station`'s logged events after `after_seq`, in sequence order; returns how
/// many there were.
pub(super) fn replay(
    conn: &Connection,
    station: &str,
    after_seq: u64,
    mut f: impl FnMut(Recorded) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut stmt = conn.prepare_cached(
        "SELECT station, seq, at_us, device, body FROM events WHERE station = ?1 AND seq > ?2 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![station, i64::try_from(after_seq)?])?;
    let mut n = 0;
    while let Some(row) = rows.next()? {
        f(recorded(row)?)?;
        n += 1;
    }
    Ok(n)
}

/// The stations that have events in the log. A skip-scan over the primary key: one index
/// probe per station, however long the log.
pub(super) fn stations(conn: &Connection) -> anyhow::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "WITH RECURSIVE s(station) AS (
             SELECT MIN(station) FROM events
             UNION ALL
             SELECT (SELECT MIN(station) FROM events WHERE events.station > s.station)
             FROM s WHERE s.station IS NOT NULL)
         SELECT station FROM s WHERE station IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The latest snapshot of each station. One that cannot be read is skipped with a warning:
/// the log still holds every event, so the station is then rebuilt by a full replay.
pub(super) fn snapshots(conn: &Connection) -> anyhow::Result<Vec<(StationId, Snapshot)>> {
    let mut stmt = conn.prepare("SELECT station, seq, state FROM snapshots")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (station, seq, state) = row?;
        out.extend(decode::snapshot(&station, seq, &state));
    }
    Ok(out)
}

/// The token hashes revoked so far.
pub(super) fn revoked_tokens(conn: &Connection) -> anyhow::Result<HashSet<[u8; 32]>> {
    let mut stmt = conn.prepare("SELECT token_sha256 FROM revoked_tokens")?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = HashSet::new();
    for row in rows {
        let bytes = row?;
        out.insert(
            bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("a revoked token hash of the wrong length"))?,
        );
    }
    Ok(out)
}

/// The stored idempotent answers given at or after `since`.
pub(super) fn idempotency_records(
    conn: &Connection,
    since: DateTime<Utc>,
) -> anyhow::Result<Vec<IdempotencyRecord>> {
    let mut stmt = conn.prepare(
        "SELECT device, key, fingerprint, status, response, at_us FROM idempotency WHERE at_us >= ?1 ORDER BY at_us",
    )?;
    let mut rows = stmt.query([since.timestamp_micros()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(idempotency_record(row)?);
    }
    Ok(out)
}

/// The key hashes of the answers given before `since`: a scan of `idempotency_at`, which
/// covers them.
pub(super) fn answer_hashes_before(
    conn: &Connection,
    since: DateTime<Utc>,
) -> anyhow::Result<Vec<i64>> {
    let mut stmt =
        conn.prepare("SELECT key_hash FROM idempotency WHERE at_us < ?1 ORDER BY at_us")?;
    let rows = stmt.query_map([since.timestamp_micros()], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Up to `limit` `events` rows after `after` in key order, every column as stored (`copy-log`).
/// The first batch starts after `('', MIN)`, before every row: a station id is never empty.
pub(super) fn event_rows(
    conn: &Connection,
    after: Option<&EventRow>,
    limit: usize,
) -> anyhow::Result<Vec<EventRow>> {
    let (station, seq) = after.map_or(("", i64::MIN), |r| (r.station.as_str(), r.seq));
    let mut stmt = conn.prepare_cached(
        "SELECT station, seq, at_us, device, kind, body FROM events
         WHERE (station, seq) > (?1, ?2) ORDER BY station, seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![station, seq, i64::try_from(limit)?], |r| {
        Ok(EventRow {
            station: r.get(0)?,
            seq: r.get(1)?,
            at_us: r.get(2)?,
            device: r.get(3)?,
            kind: r.get(4)?,
            body: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Up to `limit` stored answers after `after` in the order they were stored, as [`event_rows`]
/// (`after` is found again by its key's hash: one probe).
pub(super) fn answer_rows(
    conn: &Connection,
    after: Option<&AnswerRow>,
    limit: usize,
) -> anyhow::Result<Vec<AnswerRow>> {
    let after_pos: i64 = match after {
        None => 0,
        Some(r) => conn.query_row(
            "SELECT pos FROM idempotency WHERE key_hash = ?1 AND device = ?2 AND key = ?3",
            params![answer_key_hash(&r.device, &r.key), r.device, r.key],
            |row| row.get(0),
        )?,
    };
    let mut stmt = conn.prepare_cached(
        "SELECT device, key, fingerprint, status, response, at_us FROM idempotency
         WHERE pos > ?1 ORDER BY pos LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after_pos, i64::try_from(limit)?], |r| {
        Ok(AnswerRow {
            device: r.get(0)?,
            key: r.get(1)?,
            fingerprint: r.get(2)?,
            status: r.get(3)?,
            response: r.get(4)?,
            at_us: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Up to `limit` revoked tokens after `after` in key order, as [`event_rows`] (a hash is never
/// empty).
pub(super) fn revoked_rows(
    conn: &Connection,
    after: Option<&RevokedRow>,
    limit: usize,
) -> anyhow::Result<Vec<RevokedRow>> {
    let hash = after.map_or(&[][..], |r| r.token_sha256.as_slice());
    let mut stmt = conn.prepare_cached(
        "SELECT token_sha256, device, at_us, by FROM revoked_tokens
         WHERE token_sha256 > ?1 ORDER BY token_sha256 LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![hash, i64::try_from(limit)?], |r| {
        Ok(RevokedRow {
            token_sha256: r.get(0)?,
            device: r.get(1)?,
            at_us: r.get(2)?,
            by: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Up to `limit` snapshots after `after` in key order, as [`event_rows`].
pub(super) fn snapshot_rows(
    conn: &Connection,
    after: Option<&SnapshotRow>,
    limit: usize,
) -> anyhow::Result<Vec<SnapshotRow>> {
    let station = after.map_or("", |r| r.station.as_str());
    let mut stmt = conn.prepare_cached(
        "SELECT station, seq, state FROM snapshots WHERE station > ?1 ORDER BY station LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![station, i64::try_from(limit)?], |r| {
        Ok(SnapshotRow {
            station: r.get(0)?,
            seq: r.get(1)?,
            state: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many rows each table holds.
pub(super) fn counts(conn: &Connection) -> anyhow::Result<Counts> {
    let count = |n: i64| u64::try_from(n).unwrap_or_default();
    Ok(conn.query_row(
        "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM idempotency),
                (SELECT COUNT(*) FROM revoked_tokens), (SELECT COUNT(*) FROM snapshots)",
        [],
        |r| {
            Ok(Counts {
                events: count(r.get(0)?),
                answers: count(r.get(1)?),
                revoked: count(r.get(2)?),
                snapshots: count(r.get(3)?),
            })
        },
    )?)
}

/// A `journal` row (`station, seq, at_us, device, body`) as a [`Recorded`] event.
fn recorded(row: &rusqlite::Row<'_>) -> anyhow::Result<Recorded> {
    let (station, device, body): (String, String, String) = (row.get(0)?, row.get(3)?, row.get(4)?);
    decode::recorded(&station, row.get(1)?, row.get(2)?, &device, &body)
}

/// An `answers` row (`device, key, fingerprint, status, response, at_us`) as the
/// [`IdempotencyRecord`] it stores.
fn idempotency_record(row: &rusqlite::Row<'_>) -> anyhow::Result<IdempotencyRecord> {
    let device: String = row.get(0)?;
    decode::answer(
        &device,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use crate::domain::DeviceId;
    use crate::idempotency::IdempotencyRecord;
    use crate::store::{OpenLog, Record, StoreOptions};

    /// With one connection shared behind a lock, the look-up would wait for the read that
    /// holds it (here: forever); with a connection of its own it does not.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_old_key_is_looked_up_while_another_read_is_in_progress() {
        let dir = tempfile::tempdir().unwrap();
        let store = OpenLog::open(dir.path(), StoreOptions::default())
            .unwrap()
            .start_writer()
            .unwrap();
        let device = DeviceId::parse("desk").unwrap();
        let answer = IdempotencyRecord {
            device: device.clone(),
            key: "old-key".into(),
            fingerprint: [3; 32],
            status: 201,
            body: bytes::Bytes::from_static(b"{\"seq\":1}"),
            at: chrono::DateTime::from_timestamp_micros(1_700_000_000_000_000).unwrap(),
        };
        store
            .submit(Record {
                event: None,
                idempotency: Some(answer.clone()),
                snapshot: None,
                webhooks: Vec::new(),
            })
            .await
            .unwrap()
            .unwrap();

        let (reading, read_started) = mpsc::channel();
        let (finish_read, read_may_finish) = mpsc::channel::<()>();
        let readers = store.readers.clone();
        let long_read = std::thread::spawn(move || {
            readers.with_reader(|_| {
                reading.send(()).unwrap();
                read_may_finish.recv().unwrap();
                Ok(())
            })
        });
        read_started.recv().unwrap();
        let found = tokio::time::timeout(
            Duration::from_secs(10),
            store.find_answer(&device, "old-key"),
        )
        .await
        .expect("the look-up waited for another read");
        assert_eq!(found.unwrap(), Some(answer));
        assert_eq!(store.find_answer(&device, "unknown").await.unwrap(), None);
        finish_read.send(()).unwrap();
        long_read.join().unwrap().unwrap();
    }
}
