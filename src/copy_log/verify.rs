//! Checking a copy inside its transaction, before it is committed: the rows, byte for byte, and
//! the state they replay to.
//!
//! Rows are compared by a [`Tally`] per table — how many, and a digest of all of them — taken of
//! what was sent and of what the destination reads back. The digest is the XOR of each row's
//! SHA-256: the two backends list rows in different orders (PostgreSQL compares text by its
//! collation, SQLite byte by byte), so it must not depend on the order, and since a table's
//! rows are distinct (each has a primary key) a changed, lost or extra row changes it.
//!
//! State is compared by replaying every station of the config from its first event, snapshots
//! ignored, with the function start-up replays with (`state::replay_one` on a new
//! `engine::Station`): the copy must end at the same seq with the same `snapshot()`
//! serialization, byte for byte.

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use crate::config::Config;
use crate::engine::Station;
use crate::state::replay_one;
use crate::store::rows::{AnswerRow, BATCH, Counts, EventRow, ReadRows, RevokedRow, SnapshotRow};

/// A row's SHA-256 over its columns, each preceded by its length (so that no two different rows
/// feed the hash the same bytes).
pub trait Digest {
    fn digest(&self) -> [u8; 32];
}

fn digest_of(columns: &[&[u8]]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for column in columns {
        hash.update((column.len() as u64).to_le_bytes());
        hash.update(column);
    }
    hash.finalize().into()
}

impl Digest for EventRow {
    fn digest(&self) -> [u8; 32] {
        digest_of(&[
            self.station.as_bytes(),
            &self.seq.to_le_bytes(),
            &self.at_us.to_le_bytes(),
            self.device.as_bytes(),
            self.kind.as_bytes(),
            self.body.as_bytes(),
        ])
    }
}

impl Digest for AnswerRow {
    fn digest(&self) -> [u8; 32] {
        digest_of(&[
            self.device.as_bytes(),
            self.key.as_bytes(),
            &self.fingerprint,
            &self.status.to_le_bytes(),
            &self.response,
            &self.at_us.to_le_bytes(),
        ])
    }
}

impl Digest for RevokedRow {
    fn digest(&self) -> [u8; 32] {
        digest_of(&[
            &self.token_sha256,
            self.device.as_bytes(),
            &self.at_us.to_le_bytes(),
            self.by.as_bytes(),
        ])
    }
}

impl Digest for SnapshotRow {
    fn digest(&self) -> [u8; 32] {
        digest_of(&[
            self.station.as_bytes(),
            &self.seq.to_le_bytes(),
            self.state.as_bytes(),
        ])
    }
}

/// How many rows, and the XOR of their digests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub rows: u64,
    digest: [u8; 32],
}

impl Tally {
    pub fn of<R: Digest>(rows: &[R]) -> Tally {
        let mut tally = Tally::default();
        tally.add(rows);
        tally
    }

    pub fn add<R: Digest>(&mut self, rows: &[R]) {
        for row in rows {
            self.rows += 1;
            for (byte, other) in self.digest.iter_mut().zip(row.digest()) {
                *byte ^= other;
            }
        }
    }
}

/// What was sent to the destination, table by table.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub events: Tally,
    pub answers: Tally,
    pub revoked: Tally,
    /// The valid snapshots only (see `copy_log.rs`).
    pub snapshots: Tally,
}

impl Sent {
    /// Every row the source holds was sent: a batch that skipped rows would show here.
    pub fn is_all_of(&self, source: &Counts) -> anyhow::Result<()> {
        let sent = [self.events.rows, self.answers.rows, self.revoked.rows];
        let held = [source.events, source.answers, source.revoked];
        anyhow::ensure!(
            sent == held,
            "the source holds {held:?} events, answers and revoked tokens, but {sent:?} were read"
        );
        Ok(())
    }

    /// The destination, read back inside its transaction, holds exactly the rows sent.
    pub async fn landed_in(&self, copy: &impl ReadRows) -> anyhow::Result<()> {
        let landed = Sent {
            events: tally(async |after| copy.events_after(after, BATCH).await).await?,
            answers: tally(async |after| copy.answers_after(after, BATCH).await).await?,
            revoked: tally(async |after| copy.revoked_after(after, BATCH).await).await?,
            snapshots: tally(async |after| copy.snapshots_after(after, BATCH).await).await?,
        };
        let tables = [
            ("events", self.events, landed.events),
            ("idempotency answers", self.answers, landed.answers),
            ("revoked tokens", self.revoked, landed.revoked),
            ("snapshots", self.snapshots, landed.snapshots),
        ];
        for (table, sent, read_back) in tables {
            anyhow::ensure!(
                sent == read_back,
                "the copy's {table} are not the rows sent: {} rows sent, {} read back{}",
                sent.rows,
                read_back.rows,
                if sent.rows == read_back.rows {
                    ", and their bytes differ"
                } else {
                    ""
                }
            );
        }
        Ok(())
    }
}

/// A whole table's tally, read in batches.
async fn tally<R: Digest>(
    read: impl AsyncFn(Option<&R>) -> anyhow::Result<Vec<R>>,
) -> anyhow::Result<Tally> {
    super::copy_table(read, async |_| Ok(())).await
}

/// Each configured station after its whole log, replayed from its first event.
#[derive(Debug)]
pub struct Replayed {
    stations: BTreeMap<String, Replay>,
}

#[derive(Debug)]
struct Replay {
    seq: u64,
    /// `snapshot()` serialized after the last event.
    state: String,
    /// `snapshot()` serialized at the seq of the station's stored snapshot, if it got there.
    at_stored: Option<String>,
}

impl Replayed {
    /// Replays every station of `config` from `log`, noting each station's state at the seq of
    /// its snapshot in `stored`.
    pub async fn replay(
        log: &impl ReadRows,
        config: &Config,
        stored: &[SnapshotRow],
    ) -> anyhow::Result<Replayed> {
        let mut stations = BTreeMap::new();
        for station in &config.stations {
            let id = station.id.as_str().to_owned();
            let stored_at = stored.iter().find(|s| s.station == id).map(|s| s.seq);
            let mut engine = Station::new(Arc::new(station.clone()), &config.rules);
            let mut at_stored = None;
            log.replay(&id, |event| {
                replay_one(&mut engine, &event)?;
                if i64::try_from(engine.seq()).ok() == stored_at {
                    at_stored = Some(serde_json::to_string(&engine.snapshot())?);
                }
                Ok(())
            })
            .await?;
            let state = serde_json::to_string(&engine.snapshot())?;
            let replay = Replay {
                seq: engine.seq(),
                state,
                at_stored,
            };
            stations.insert(id, replay);
        }
        Ok(Replayed { stations })
    }

    /// The stored snapshots that equal the state the replay reached at their seq, and the
    /// stations whose snapshot does not (left out, with a warning).
    pub fn valid_snapshots(&self, stored: Vec<SnapshotRow>) -> (Vec<SnapshotRow>, Vec<String>) {
        let (valid, invalid): (Vec<_>, Vec<_>) = stored.into_iter().partition(|row| {
            self.stations
                .get(&row.station)
                .and_then(|replay| replay.at_stored.as_ref())
                .is_some_and(|state| *state == row.state)
        });
        let left_out = invalid
            .into_iter()
            .map(|row| {
                tracing::warn!(station = %row.station, seq = row.seq, "the stored snapshot does not match the station's replay; left out (start-up replays the station in full and stores a new one)");
                row.station
            })
            .collect();
        (valid, left_out)
    }

    /// Refuses unless every station of `copy` ended where it did here, in the same state.
    pub fn same_as(&self, copy: &Replayed) -> anyhow::Result<()> {
        let mut differences = Vec::new();
        for (station, here) in &self.stations {
            match copy.stations.get(station) {
                None => differences.push(format!("station {station} was not replayed")),
                Some(there) if there.seq != here.seq => differences.push(format!(
                    "station {station} replays to seq {} from the source but to seq {} from the copy",
                    here.seq, there.seq
                )),
                Some(there) if there.state != here.state => differences.push(format!(
                    "station {station} replays to another state from the copy than from the source (seq {})",
                    here.seq
                )),
                Some(_) => {}
            }
        }
        anyhow::ensure!(
            differences.is_empty(),
            "the copy does not replay to the source's state: {}",
            differences.join("; ")
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(station: &str, seq: i64, body: &str) -> EventRow {
        EventRow {
            station: station.into(),
            seq,
            at_us: 1,
            device: "desk".into(),
            kind: "check_in".into(),
            body: body.into(),
        }
    }

    #[test]
    fn a_tally_ignores_the_order_but_not_a_byte() {
        let rows = [
            event("a-b", 1, "{}"),
            event("ab", 1, "{}"),
            event("a", 2, "{}"),
        ];
        let mut reversed = rows.clone();
        reversed.reverse();
        assert_eq!(Tally::of(&rows), Tally::of(&reversed));
        let mut changed = rows.clone();
        changed[1].body = "{} ".into();
        assert_ne!(Tally::of(&rows), Tally::of(&changed));
        // Bytes that move from one column into the next are noticed: "ab" + "desk" is not
        // "a" + "bdesk".
        let mut shifted = event("ab", 1, "{}");
        (shifted.station, shifted.device) = ("a".into(), "bdesk".into());
        assert_ne!(event("ab", 1, "{}").digest(), shifted.digest());
    }

    fn replayed(stations: &[(&str, u64, &str)]) -> Replayed {
        Replayed {
            stations: stations
                .iter()
                .map(|(id, seq, state)| {
                    let replay = Replay {
                        seq: *seq,
                        state: (*state).into(),
                        at_stored: None,
                    };
                    ((*id).into(), replay)
                })
                .collect(),
        }
    }

    #[test]
    fn a_copy_that_replays_to_another_seq_or_state_is_named_station_by_station() {
        let source = replayed(&[("a", 3, "x"), ("b", 5, "y"), ("c", 0, "z")]);
        assert!(
            source
                .same_as(&replayed(&[("a", 3, "x"), ("b", 5, "y"), ("c", 0, "z")]))
                .is_ok()
        );
        let err = source
            .same_as(&replayed(&[("a", 2, "x"), ("b", 5, "y!"), ("c", 0, "z")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("station a replays to seq 3 from the source but to seq 2 from the copy")
                && err.contains("station b replays to another state"),
            "{err}"
        );
    }
}
