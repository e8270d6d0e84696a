//! The bench's bare journal (`StoreOptions::bare_journal`, baseline B6): what durability alone
//! costs on this disk. The writer thread runs exactly as for the log — same channel, same group
//! commit, same `synchronous=FULL`, same WAL and checkpoints — but a group becomes one row per
//! event, its JSON, appended to an index-free table, and nothing else: no answers, snapshots or
//! revocations, no `events` index. A store so opened is not a log the service can reopen.

use rusqlite::{Connection, params};

use super::Record;
use super::writer::{Job, Work};
use crate::domain::{Event, Recorded};

/// The journal: a rowid table (appending is a write at the B-tree's right edge) and no index.
const CREATE: &str =
    "CREATE TABLE IF NOT EXISTS bare_journal(pos INTEGER PRIMARY KEY, event BLOB NOT NULL)";
const APPEND: &str = "INSERT INTO bare_journal(event) VALUES (?1)";

/// Creates the journal's table (before the writer starts).
pub(super) fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(CREATE)
}

/// The writer's group commit in bare-journal mode: each record's event, as JSON, one row, in one
/// transaction committed with one fsync.
pub(super) fn write_group(conn: &mut Connection, group: &[Job]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut append = tx.prepare_cached(APPEND)?;
        for job in group {
            if let Work::Record(Record {
                event: Some(recorded),
                ..
            }) = &job.work
            {
                append.execute(params![json(recorded)?])?;
            }
        }
    }
    tx.commit()
}

/// A journal row: the event as the log keeps it — station, seq, time, device, the event.
#[derive(serde::Serialize)]
struct Row<'a> {
    station: &'a str,
    seq: u64,
    at_us: i64,
    device: &'a str,
    event: &'a Event,
}

fn json(e: &Recorded) -> rusqlite::Result<Vec<u8>> {
    serde_json::to_vec(&Row {
        station: e.station.as_str(),
        seq: e.seq,
        at_us: e.at.timestamp_micros(),
        device: e.device.as_str(),
        event: &e.event,
    })
    .map_err(|err| rusqlite::Error::ToSqlConversionFailure(Box::new(err)))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::{DeviceId, StationId};
    use crate::idempotency::IdempotencyRecord;
    use crate::store::StoreOptions;
    use crate::store::sqlite::{DB_FILE, OpenLog};

    fn record(n: u64, device: &DeviceId) -> Record {
        let event: Event =
            serde_json::from_str(r#"{"kind":"cleaned","surface":"counter"}"#).unwrap();
        Record {
            event: Some(Recorded {
                station: StationId::parse("s1").unwrap(),
                seq: n,
                at: Utc::now(),
                device: device.clone(),
                event,
            }),
            idempotency: Some(IdempotencyRecord {
                device: device.clone(),
                key: format!("key-{n}"),
                fingerprint: [7; 32],
                status: 201,
                body: bytes::Bytes::from_static(b"{}"),
                at: Utc::now(),
            }),
            snapshot: None,
            webhooks: Vec::new(),
        }
    }

    /// B6 measures durability alone: each event is one row of its JSON in an index-free table,
    /// committed before the acknowledgement, and nothing else is written.
    #[tokio::test]
    async fn a_bare_journal_store_appends_one_row_per_event_and_writes_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            bare_journal: true,
            ..StoreOptions::default()
        };
        let store = OpenLog::open(dir.path(), options)
            .unwrap()
            .start_writer()
            .unwrap();
        let device = DeviceId::parse("desk").unwrap();
        let acks: Vec<_> = (1..=3).map(|n| store.submit(record(n, &device))).collect();
        for ack in acks {
            ack.await.unwrap().unwrap();
        }

        let db = Connection::open(dir.path().join(DB_FILE)).unwrap();
        let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(count("SELECT COUNT(*) FROM events"), 0);
        assert_eq!(count("SELECT COUNT(*) FROM idempotency"), 0);
        assert_eq!(
            count(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'bare_journal'"
            ),
            0
        );
        let mut rows = db
            .prepare("SELECT pos, event FROM bare_journal ORDER BY pos")
            .unwrap();
        let rows: Vec<(i64, serde_json::Value)> = rows
            .query_map([], |r| {
                let event: Vec<u8> = r.get(1)?;
                Ok((r.get(0)?, serde_json::from_slice(&event).unwrap()))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 3);
        for (i, (pos, event)) in rows.iter().enumerate() {
            assert_eq!(*pos, i as i64 + 1);
            assert_eq!(event["seq"], i + 1);
            assert_eq!(event["station"], "s1");
            assert_eq!(event["event"]["kind"], "cleaned");
        }
    }
}
