//! Compares a log with what its clients were told: every acknowledged event is in the log, at
//! the seq it was acknowledged with and of the kind that was sent, and every event a client sent
//! that the log holds was acknowledged to someone. The crash test and the benchmark's S7 both
//! ask this of the log after killing the service again and again under load.
//!
//! Events the service logs on its own account (close-outs, clock reviews) are logged under
//! [`crate::domain::SERVICE_DEVICE`]; no client is told of them, so they are not counted as
//! unacknowledged. Everything else — a rule change too — was sent by a device and answered to
//! it, so it must be among the acknowledgements given.

use std::collections::BTreeMap;

use crate::domain::{Recorded, SERVICE_DEVICE};
use crate::store::OpenLog;

/// A log as the audit reads it: a station's events in order, whichever backend holds them.
pub trait LoggedEvents {
    fn events_of(&self, station: &str) -> anyhow::Result<Vec<Recorded>>;
}

/// The SQLite log, read as start-up reads it.
impl LoggedEvents for OpenLog {
    fn events_of(&self, station: &str) -> anyhow::Result<Vec<Recorded>> {
        let mut events = Vec::new();
        self.replay(station, 0, |r| {
            events.push(r);
            Ok(())
        })?;
        Ok(events)
    }
}

/// Events already read, by station (from PostgreSQL, whose reads are async).
impl LoggedEvents for BTreeMap<String, Vec<Recorded>> {
    fn events_of(&self, station: &str) -> anyhow::Result<Vec<Recorded>> {
        Ok(self.get(station).cloned().unwrap_or_default())
    }
}

/// An event a client was told was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acknowledged<'a> {
    pub station: &'a str,
    pub seq: u64,
    /// The event's kind as the log names it (`check_in`, …).
    pub kind: &'a str,
}

/// Everything that does not match, each with what a person needs to find it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Audit {
    /// Acknowledged events missing from the log, or logged as another kind at their seq.
    pub lost: Vec<String>,
    /// Client events in the log that no client was told of (a retry applied twice would be one).
    pub unacknowledged: Vec<String>,
    /// Two acknowledgements of one station with the same seq.
    pub doubled: Vec<String>,
    /// Sequence numbers missing before a station's last logged event (a station's log starts
    /// at 1 and has no holes).
    pub gaps: Vec<String>,
}

impl Audit {
    /// Whether the log and the acknowledgements agree.
    pub fn is_clean(&self) -> bool {
        self.lost.is_empty()
            && self.unacknowledged.is_empty()
            && self.doubled.is_empty()
            && self.gaps.is_empty()
    }
}

/// Audits `stations`' events in `log` against `acknowledged`.
pub fn audit<'a>(
    log: &impl LoggedEvents,
    stations: impl IntoIterator<Item = &'a str>,
    acknowledged: &[Acknowledged<'_>],
) -> anyhow::Result<Audit> {
    let mut found = Audit::default();
    for station in stations {
        // seq → (kind, logged by a client)
        let mut logged: BTreeMap<u64, (String, bool)> = BTreeMap::new();
        let mut expected = 1;
        for r in log.events_of(station)? {
            if r.seq != expected {
                found.gaps.push(format!(
                    "{station}: seq {expected} is missing before {}",
                    r.seq
                ));
            }
            expected = r.seq + 1;
            let by_client = r.device.as_str() != SERVICE_DEVICE;
            logged.insert(r.seq, (r.event.kind().to_owned(), by_client));
        }
        let mut told: BTreeMap<u64, &str> = BTreeMap::new();
        for a in acknowledged.iter().filter(|a| a.station == station) {
            if let Some(first) = told.insert(a.seq, a.kind) {
                found.doubled.push(format!(
                    "{station}: seq {} was acknowledged twice ({first}, {})",
                    a.seq, a.kind
                ));
            }
            match logged.get(&a.seq) {
                Some((kind, _)) if kind == a.kind => {}
                Some((kind, _)) => found.lost.push(format!(
                    "{station}: {} acknowledged at seq {} but the log has {kind} there",
                    a.kind, a.seq
                )),
                None => found.lost.push(format!(
                    "{station}: {} acknowledged at seq {} is not in the log",
                    a.kind, a.seq
                )),
            }
        }
        for (seq, (kind, by_client)) in &logged {
            if *by_client && !told.contains_key(seq) {
                found.unacknowledged.push(format!(
                    "{station}: the log has {kind} at seq {seq}, which no client was told of"
                ));
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DeviceId, Event, Recorded, StationId};
    use crate::store::{Record, StoreOptions};
    use chrono::Utc;

    fn check_in() -> Event {
        serde_json::from_str(r#"{"kind":"check_in","service":"passport","party_size":1}"#).unwrap()
    }

    /// A log with `s1` seq 1–3 (3 by the service itself) and `s2` seq 1 and 3.
    async fn log() -> (tempfile::TempDir, OpenLog) {
        let dir = tempfile::tempdir().unwrap();
        let store = OpenLog::open(dir.path(), StoreOptions::default())
            .unwrap()
            .start_writer()
            .unwrap();
        let desk = DeviceId::parse("desk").unwrap();
        let service = DeviceId::service();
        for (station, seq, device) in [
            ("s1", 1, &desk),
            ("s1", 2, &desk),
            ("s1", 3, &service),
            ("s2", 1, &desk),
            ("s2", 3, &desk),
        ] {
            let ack = store.submit(Record {
                event: Some(Recorded {
                    station: StationId::parse(station).unwrap(),
                    seq,
                    at: Utc::now(),
                    device: device.clone(),
                    event: check_in(),
                }),
                idempotency: None,
                snapshot: None,
                webhooks: Vec::new(),
            });
            ack.await.unwrap().unwrap();
        }
        drop(store);
        let log = OpenLog::open(dir.path(), StoreOptions::default()).unwrap();
        (dir, log)
    }

    fn told(station: &'static str, seq: u64, kind: &'static str) -> Acknowledged<'static> {
        Acknowledged { station, seq, kind }
    }

    #[tokio::test]
    async fn a_log_that_holds_exactly_what_was_acknowledged_is_clean() {
        let (_dir, log) = log().await;
        let acked = [told("s1", 1, "check_in"), told("s1", 2, "check_in")];
        let audit = audit(&log, ["s1"], &acked).unwrap();
        assert!(audit.is_clean(), "{audit:?}");
    }

    #[tokio::test]
    async fn every_kind_of_disagreement_is_named() {
        let (_dir, log) = log().await;
        let acked = [
            told("s1", 1, "check_in"),
            told("s1", 1, "check_in"),
            told("s1", 2, "check_out"),
            told("s1", 4, "check_in"),
            told("s2", 1, "check_in"),
        ];
        let audit = audit(&log, ["s1", "s2"], &acked).unwrap();
        assert_eq!(
            audit.doubled,
            ["s1: seq 1 was acknowledged twice (check_in, check_in)"]
        );
        assert_eq!(
            audit.lost,
            [
                "s1: check_out acknowledged at seq 2 but the log has check_in there",
                "s1: check_in acknowledged at seq 4 is not in the log",
            ]
        );
        // s1's seq 3 is the service's own and needs no acknowledgement; s2's is a client's.
        assert_eq!(
            audit.unacknowledged,
            ["s2: the log has check_in at seq 3, which no client was told of"]
        );
        assert_eq!(audit.gaps, ["s2: seq 2 is missing before 3"]);
        assert!(!audit.is_clean());
    }
}
