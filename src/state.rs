//! The shared application state every handler gets through axum's `State`.
//!
//! Built once at start-up by [`AppState::open`]: the config is validated, the log replayed through
//! the engine (each station from its latest snapshot; from SQLite stations in parallel), and the
//! recent idempotent answers loaded — only then does the service listen. A reload of the config
//! (`crate::reload`) swaps the config, the station map and the token table while it runs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::StationId;
use crate::engine::{self, Mode};
use crate::hub::{Docs, Live};
use crate::idempotency::IdempotencyTable;
use crate::store::{Log, LogReader, OpenLog, Storage, StoreOptions, postgres};
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
    /// On a shared log, the right to write the station's next event: held across the commit
    /// (an async lock), so this instance has one attempt at a time per station and catching up
    /// with other instances never interleaves with it. Unused on a local log, whose order is
    /// decided under `engine` alone.
    pub turn: tokio::sync::Mutex<()>,
    /// Set, under `engine`'s lock, when a reload removes the station: a request that found the
    /// slot before the station map was swapped, and locks it after, is refused instead of
    /// logging an event for a station the config no longer has (a restart would refuse the log).
    pub retired: std::sync::atomic::AtomicBool,
}

impl StationSlot {
    /// Whether a reload removed the station; read under `engine`'s lock.
    pub fn is_retired(&self) -> bool {
        self.retired.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn new(engine: engine::Station, now: chrono::DateTime<chrono::Utc>) -> StationSlot {
        StationSlot {
            live: Live::new(Docs::render(&engine, now)),
            engine: Mutex::new(engine),
            turn: tokio::sync::Mutex::new(()),
            retired: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

/// Stations by id.
pub type Stations = BTreeMap<StationId, Arc<StationSlot>>;

/// Everything the handlers share. Cloning is cheap (reference counts).
#[derive(Clone)]
pub struct AppState {
    /// The validated configuration. An `ArcSwap` because a reload replaces it whole while every
    /// request reads it: a reader takes a snapshot ([`AppState::config`]) without a lock and keeps
    /// one consistent config for the whole request.
    pub config: Arc<ArcSwap<Config>>,
    /// Stations by id. Swapped whole by a reload that adds or removes stations (rare); finding a
    /// station is a lock-free snapshot ([`AppState::station`]), changing one takes its own lock.
    pub stations: Arc<ArcSwap<Stations>>,
    /// Token hash → device; a reload replaces the devices inside it, keeping the revoked hashes.
    pub tokens: Arc<Tokens>,
    /// When the config was loaded, the last reload's outcome, and the lock that runs one reload
    /// at a time.
    pub reloads: Arc<crate::reload_status::Reloads>,
    /// Idempotency keys in flight and answered. A DashMap because every event request touches
    /// it, from any station, and its check-and-insert must be one atomic step per key.
    pub idempotency: Arc<IdempotencyTable>,
    /// The event log, local or shared.
    pub store: Log,
    /// This instance's name, as `/healthz` gives it.
    pub instance: Arc<str>,
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
    /// What is counted where it happens (requests, events, commits); its own atomics, no lock.
    pub metrics: Arc<crate::metrics::Metrics>,
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
    /// This instance's name ([`default_instance_name`] when `None`).
    pub instance: Option<String>,
}

/// `host-pid`: unique among instances on one database unless two hosts share a name.
pub fn default_instance_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "lobbywatch".to_owned());
    format!("{host}-{}", std::process::id())
}

/// One station to bring back at start-up: its config and its latest snapshot, if any.
struct Restore {
    config: Arc<crate::config::Station>,
    snapshot: Option<engine::Snapshot>,
}

/// Restores every station — from its snapshot when that fits the config, else from nothing — and
/// replays its events after that. Stations are independent, so they are dealt out to one thread
/// per core, each with a read connection of its own. Returns each station with the number of
/// events replayed, in the order given.
fn restore_stations(
    log: &OpenLog,
    rules: &crate::config::Rules,
    jobs: Vec<Restore>,
) -> anyhow::Result<Vec<(engine::Station, u64)>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, jobs.len().max(1));
    let mut groups: Vec<Vec<(usize, Restore)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, job) in jobs.into_iter().enumerate() {
        groups[i % threads].push((i, job));
    }
    let readers = (0..threads)
        .map(|_| log.reader())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let done = std::thread::scope(|scope| {
        let workers: Vec<_> = readers
            .into_iter()
            .zip(groups)
            .map(|(reader, group)| scope.spawn(move || restore_group(&reader, rules, group)))
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

/// A station's tail from which one pass over the journal beats reading its events one by one
/// through the index: the journal interleaves stations, so a pass reads everyone's events, but
/// sequentially and without decoding the others', where the index costs a page read per event.
const SCANNED_TAIL: u64 = 2_000;

/// Restores one thread's stations: those with long tails by one pass over the journal together,
/// the rest each by its own index range.
fn restore_group(
    reader: &LogReader,
    rules: &crate::config::Rules,
    group: Vec<(usize, Restore)>,
) -> anyhow::Result<Vec<(usize, (engine::Station, u64))>> {
    let mut long = Vec::new();
    let mut done = Vec::new();
    for (i, job) in group {
        let mut station = start_from(rules, job);
        let id = station.config().id.clone();
        if reader.last_seq(id.as_str())? >= station.seq() + SCANNED_TAIL {
            long.push((i, station));
        } else {
            let tail =
                reader.replay(id.as_str(), station.seq(), |r| replay_one(&mut station, &r))?;
            done.push((i, (station, tail)));
        }
    }
    let ids: Vec<StationId> = long.iter().map(|(_, s)| s.config().id.clone()).collect();
    let heads: Vec<(&str, u64)> = ids
        .iter()
        .zip(&long)
        .map(|(id, (_, s))| (id.as_str(), s.seq()))
        .collect();
    let mut tails = vec![0u64; long.len()];
    reader.replay_scan(&heads, |k, r| {
        tails[k] += 1;
        replay_one(&mut long[k].1, &r)
    })?;
    done.extend(long.into_iter().zip(tails).map(|((i, s), t)| (i, (s, t))));
    Ok(done)
}

/// A station from its snapshot when that fits the config, else empty.
fn start_from(rules: &crate::config::Rules, job: Restore) -> engine::Station {
    let id = job.config.id.clone();
    job.snapshot
        .and_then(|snap| {
            let restored = engine::Station::restore(job.config.clone(), rules, snap);
            if restored.is_none() {
                tracing::warn!(station = %id, "snapshot does not fit this config; replaying the station in full");
            }
            restored
        })
        .unwrap_or_else(|| engine::Station::new(job.config, rules))
}

/// Applies one logged event to `station`, which must be exactly one event behind it.
pub fn replay_one(
    station: &mut engine::Station,
    r: &crate::domain::Recorded,
) -> anyhow::Result<()> {
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
}

/// Refuses a log with events of a station the config does not have.
pub fn ensure_known(config: &Config, logged: Vec<String>) -> anyhow::Result<()> {
    for station in logged {
        let known = StationId::parse(&station)
            .ok()
            .is_some_and(|id| config.station(&id).is_some());
        anyhow::ensure!(
            known,
            "the log has events for station '{station}', which is not in the config; add it back or use another data directory or database"
        );
    }
    Ok(())
}

/// Each configured station with its latest snapshot, if the log has one.
fn restore_jobs(config: &Config, snapshots: Vec<(StationId, engine::Snapshot)>) -> Vec<Restore> {
    let mut snapshots: BTreeMap<StationId, engine::Snapshot> = snapshots.into_iter().collect();
    config
        .stations
        .iter()
        .map(|station| Restore {
            config: Arc::new(station.clone()),
            snapshot: snapshots.remove(&station.id),
        })
        .collect()
}

/// What start-up read from the log, whichever backend.
struct Restored {
    engines: BTreeMap<StationId, engine::Station>,
    /// Events replayed after the snapshots.
    replayed: u64,
    idempotency: IdempotencyTable,
    revoked: std::collections::HashSet<[u8; 32]>,
}

/// Every station of the config restored from the SQLite log, stations in parallel. A station
/// replayed far past its latest snapshot gets a new one, so the next start is quick.
fn restore_local(log: &OpenLog, config: &Config, clock: &Clock) -> anyhow::Result<Restored> {
    ensure_known(config, log.stations()?)?;
    let jobs = restore_jobs(config, log.snapshots()?);
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
    let recent = clock.now() - crate::idempotency::LOADED_AT_START;
    Ok(Restored {
        engines,
        replayed,
        idempotency: IdempotencyTable::from_records(
            config.idempotency,
            log.idempotency_records(recent)?,
            Some((recent, log.answer_hashes_before(recent)?)),
        ),
        revoked: log.revoked_tokens()?,
    })
}

/// Every station of the config restored from the PostgreSQL log, as [`restore_local`].
async fn restore_shared(
    log: &postgres::OpenLog,
    config: &Config,
    clock: &Clock,
) -> anyhow::Result<Restored> {
    ensure_known(config, log.stations().await?)?;
    let mut engines = BTreeMap::new();
    let mut replayed = 0;
    for job in restore_jobs(config, log.snapshots().await?) {
        let mut station = start_from(&config.rules, job);
        let id = station.config().id.clone();
        let tail = log.events_after(id.as_str(), station.seq()).await?;
        for r in &tail {
            replay_one(&mut station, r)?;
        }
        if tail.len() as u64 >= log.snapshot_every() {
            log.save_snapshot(&id, &station.snapshot()).await?;
        }
        replayed += tail.len() as u64;
        engines.insert(id, station);
    }
    let recent = clock.now() - crate::idempotency::LOADED_AT_START;
    Ok(Restored {
        engines,
        replayed,
        idempotency: IdempotencyTable::from_records(
            config.idempotency,
            log.idempotency_records(recent).await?,
            // A shared log's collisions answer old keys (`ingest/shared.rs`): nothing to list.
            if log.has_idempotency_before(recent).await? {
                None
            } else {
                Some((recent, Vec::new()))
            },
        ),
        revoked: log.revoked_tokens().await?,
    })
}

impl AppState {
    /// Opens the log at `storage`, replays it, and builds the state.
    pub async fn open(
        config: Config,
        storage: &Storage,
        mut options: StartOptions,
    ) -> anyhow::Result<AppState> {
        let started = std::time::Instant::now();
        let metrics = Arc::new(crate::metrics::Metrics::new());
        options.store.commit_observer = Some(metrics.commit_observer());
        let (restored, store) = match storage {
            Storage::Dir(dir) => {
                let log = OpenLog::open(dir, options.store.clone())?;
                let restored = restore_local(&log, &config, &options.clock)?;
                (restored, Log::Local(log.start_writer()?))
            }
            Storage::Postgres(url) => {
                let log = postgres::OpenLog::open(url, options.store.clone()).await?;
                let restored = restore_shared(&log, &config, &options.clock).await?;
                (restored, Log::Shared(log.start()))
            }
        };
        // Checked on the stations just restored (their lists left out), not on new ones: a
        // station's cap is solved once at start-up, not twice.
        for engine in restored.engines.values() {
            engine::check_config_part(engine, options.clock.now()).map_err(anyhow::Error::msg)?;
        }
        tracing::info!(
            events = restored.replayed,
            idempotency_keys = restored.idempotency.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "event log replayed"
        );
        Ok(AppState::assemble(
            config, restored, store, options, metrics,
        ))
    }

    fn assemble(
        config: Config,
        restored: Restored,
        store: Log,
        options: StartOptions,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> AppState {
        let now = options.clock.now();
        let stations: Stations = restored
            .engines
            .into_iter()
            .map(|(id, engine)| (id, Arc::new(StationSlot::new(engine, now))))
            .collect();
        AppState {
            tokens: Arc::new(Tokens::new(&config, restored.revoked)),
            rate: Arc::new(crate::rate_limit::RateLimiter::new(
                config.limits.events_per_minute_per_device,
            )),
            connections: crate::connections::Connections::new(config.limits.max_connections),
            sockets: crate::sockets::SocketCounts::new(&config.limits),
            reloads: Arc::new(crate::reload_status::Reloads::new(now)),
            config: Arc::new(ArcSwap::from_pointee(config)),
            stations: Arc::new(ArcSwap::from_pointee(stations)),
            idempotency: Arc::new(restored.idempotency),
            store,
            instance: options
                .instance
                .unwrap_or_else(default_instance_name)
                .into(),
            clock: options.clock,
            shutdown: CancellationToken::new(),
            web_dir: options.web_dir.map(Arc::new),
            metrics,
        }
    }

    /// The config in force now; hold it for the whole request, not re-read in between.
    pub fn config(&self) -> Arc<Config> {
        self.config.load_full()
    }

    /// The stations served now.
    pub fn stations(&self) -> Arc<Stations> {
        self.stations.load_full()
    }

    pub fn station(&self, id: &StationId) -> Option<Arc<StationSlot>> {
        self.stations.load().get(id).cloned()
    }
}
