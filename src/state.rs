//! The shared application state every handler gets through axum's `State`.
//!
//! Built once at start-up by [`AppState::open`]: the config is validated, the log replayed through
//! the engine (each station from its latest snapshot, stations in parallel), and the recent
//! idempotent answers loaded — only then does the service listen.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::StationId;
use crate::engine::{self, Mode};
use crate::hub::{Docs, Live};
use crate::idempotency::IdempotencyTable;
use crate::store::{LogReader, OpenLog, Store, StoreOptions};
use crate::tokens::Tokens;

/// One station's engine and live channel.
#[derive(Debug)]
pub struct StationSlot {
    /// The station's state. A std mutex, not an async one: it is held only for the short,
    /// synchronous apply-and-enqueue section and never across an `.await`, so a capacity check
    /// and its increment can never interleave with another desk's.
    pub engine: Mutex<engine::Station>,
    /// The latest committed documents, shared by readers and sockets.
    pub live: Live,
}

/// Everything the handlers share. Cloning is cheap (reference counts).
#[derive(Clone)]
pub struct AppState {
    /// The validated configuration; immutable while running.
    pub config: Arc<Config>,
    /// Stations by id. The set of stations is fixed at start-up, so a plain map behind an `Arc`
    /// suffices: no lock is needed to find a station, only to change one.
    pub stations: Arc<BTreeMap<StationId, Arc<StationSlot>>>,
    /// Token hash → device.
    pub tokens: Arc<Tokens>,
    /// Idempotency keys in flight and answered. A DashMap because every event request touches
    /// it, from any station, and its check-and-insert must be one atomic step per key.
    pub idempotency: Arc<IdempotencyTable>,
    /// The event log's writer handle.
    pub store: Store,
    /// The time source for stamping events and judging opening hours.
    pub clock: Clock,
    /// Events per device per minute.
    pub rate: Arc<crate::rate_limit::RateLimiter<crate::domain::DeviceId>>,
    /// Open HTTP connections, their cap, and what was refused at the door (shared by the accept
    /// loop and `/healthz`).
    pub connections: Arc<crate::connections::Connections>,
    /// Open live sockets and their caps.
    pub sockets: Arc<crate::sockets::SocketCounts>,
    /// When set, web pages are read from this directory on every request (page development).
    pub web_dir: Option<Arc<std::path::PathBuf>>,
    /// Cancelled at shutdown: every socket loop watches it (axum does not track upgraded sockets).
    pub shutdown: CancellationToken,
}

/// How to open the state, beyond the config and the data directory.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// The log's quota and snapshot interval.
    pub store: StoreOptions,
    /// The time source (shifted for the demo, moved by hand in tests).
    pub clock: Clock,
    /// Serve the web pages from this directory instead of the embedded copies (page development).
    pub web_dir: Option<std::path::PathBuf>,
}

/// One station to bring back at start-up: its config and its latest snapshot, if any.
struct Restore {
    config: Arc<crate::config::Station>,
    snapshot: Option<engine::Snapshot>,
}

/// Restores every station — from its snapshot when that fits the config, else from nothing — and
/// replays its events after that. Stations are independent, so they are replayed in parallel, one
/// thread per core, each with a read connection of its own, taking the next station when done
/// (a national log's stations differ in size). Returns each station with the number of events
/// replayed, in the order given.
fn restore_stations(
    log: &OpenLog,
    rules: &crate::config::Rules,
    jobs: Vec<Restore>,
) -> anyhow::Result<Vec<(engine::Station, u64)>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, jobs.len().max(1));
    let readers = (0..threads)
        .map(|_| log.reader())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let queue = Mutex::new(jobs.into_iter().enumerate());
    let done = std::thread::scope(|scope| {
        let workers: Vec<_> = readers
            .into_iter()
            .map(|reader| {
                let queue = &queue;
                scope.spawn(move || -> anyhow::Result<Vec<_>> {
                    let mut done = Vec::new();
                    loop {
                        let next = queue.lock().expect("the queue is never poisoned").next();
                        let Some((i, job)) = next else {
                            return Ok(done);
                        };
                        done.push((i, restore_station(&reader, rules, job)?));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a replay thread panicked"))
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let mut done: Vec<_> = done.into_iter().flatten().collect();
    done.sort_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, restored)| restored).collect())
}

fn restore_station(
    reader: &LogReader,
    rules: &crate::config::Rules,
    job: Restore,
) -> anyhow::Result<(engine::Station, u64)> {
    let id = job.config.id.clone();
    let mut station = job
        .snapshot
        .and_then(|snap| {
            let restored = engine::Station::restore(job.config.clone(), rules, snap);
            if restored.is_none() {
                tracing::warn!(station = %id, "snapshot does not fit this config; replaying the station in full");
            }
            restored
        })
        .unwrap_or_else(|| engine::Station::new(job.config, rules));
    let tail = reader.replay(id.as_str(), station.seq(), |r| {
        anyhow::ensure!(
            r.seq == station.seq() + 1,
            "the log skips from {}/{} to {}/{}",
            r.station,
            station.seq(),
            r.station,
            r.seq
        );
        station
            .apply(&r.event, r.at, Mode::Replay)
            .map_err(|refusal| {
                anyhow::anyhow!(
                    "event {}/{} ({}) no longer applies under this config: {refusal}",
                    r.station,
                    r.seq,
                    r.event.kind()
                )
            })?;
        Ok(())
    })?;
    Ok((station, tail))
}

/// Every station of the config restored from the log, and how many events were replayed. A
/// station replayed far past its latest snapshot gets a new one, so the next start is quick.
fn restore_all(
    log: &OpenLog,
    config: &Config,
) -> anyhow::Result<(BTreeMap<StationId, engine::Station>, u64)> {
    for station in log.stations()? {
        let known = StationId::parse(&station)
            .ok()
            .is_some_and(|id| config.station(&id).is_some());
        anyhow::ensure!(
            known,
            "the log has events for station '{station}', which is not in the config; add it back or use another data directory"
        );
    }
    let mut snapshots: BTreeMap<StationId, engine::Snapshot> =
        log.snapshots()?.into_iter().collect();
    let jobs: Vec<Restore> = config
        .stations
        .iter()
        .map(|station| Restore {
            config: Arc::new(station.clone()),
            snapshot: snapshots.remove(&station.id),
        })
        .collect();
    let mut engines = BTreeMap::new();
    let mut replayed = 0;
    for (station, tail) in restore_stations(log, &config.rules, jobs)? {
        let id = station.config().id.clone();
        if tail >= log.snapshot_every() {
            log.save_snapshot(&id, &station.snapshot())?;
        }
        replayed += tail;
        engines.insert(id, station);
    }
    Ok((engines, replayed))
}

impl AppState {
    /// Opens the log in `data_dir`, replays it, and builds the state.
    pub fn open(
        config: Config,
        data_dir: &Path,
        options: StartOptions,
    ) -> anyhow::Result<AppState> {
        let StartOptions {
            store,
            clock,
            web_dir,
        } = options;
        let config = Arc::new(config);
        let log = OpenLog::open(data_dir, store)?;
        let started = std::time::Instant::now();
        let (engines, replayed) = restore_all(&log, &config)?;
        // Checked on the stations just restored (their lists left out), not on new ones: a
        // station's cap is solved once at start-up, not twice.
        for engine in engines.values() {
            engine::check_config_part(engine, clock.now()).map_err(anyhow::Error::msg)?;
        }
        let recent = clock.now() - crate::idempotency::LOADED_AT_START;
        let idempotency = IdempotencyTable::from_records(
            log.idempotency_records(recent)?,
            log.has_idempotency_before(recent)?,
        );
        tracing::info!(
            events = replayed,
            idempotency_keys = idempotency.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "event log replayed"
        );
        let now = clock.now();
        let stations = engines
            .into_iter()
            .map(|(id, engine)| {
                let live = Live::new(Docs::render(&engine, now));
                let engine = Mutex::new(engine);
                (id, Arc::new(StationSlot { engine, live }))
            })
            .collect();
        Ok(AppState {
            tokens: Arc::new(Tokens::new(&config, log.revoked_tokens()?)),
            rate: Arc::new(crate::rate_limit::RateLimiter::new(
                config.limits.events_per_minute_per_device,
            )),
            connections: crate::connections::Connections::new(config.limits.max_connections),
            sockets: crate::sockets::SocketCounts::new(&config.limits),
            config,
            stations: Arc::new(stations),
            idempotency: Arc::new(idempotency),
            store: log.start_writer()?,
            clock,
            shutdown: CancellationToken::new(),
            web_dir: web_dir.map(Arc::new),
        })
    }

    pub fn station(&self, id: &StationId) -> Option<&Arc<StationSlot>> {
        self.stations.get(id)
    }
}
