//! `lobbywatch-bench`: the service measured against the physical limits of the machine it runs
//! on, in the same run. A crate of its own, so the service binary carries none of it.
//!
//! Every figure is divided by a baseline measured minutes before or after it on the same
//! machine ([`baselines`]), because absolute figures drift on shared machines while ratios hold.
//! The scenarios run in order from [`scenarios`], one file per concern beside it (S1/S2, S3/S4,
//! S5, S6, S7).
//! The service runs as a child process — the real `lobbywatch` binary ([`process`]) — on a generated
//! site of many stations ([`fixture`]); real clients drive it over loopback: front desks posting
//! events ([`load`]), dashboards timing each document's arrival ([`subscribers`]), idle displays
//! held by helper processes ([`idle`]). S6 writes a large log ([`restart`]); S7 kills the
//! service under load and reads the log back ([`crash`]). P1–P4 run the service on a shared
//! PostgreSQL log, several instances on one database, in a private cluster ([`pg`]). The result
//! is a Markdown table and a
//! final JSON line ([`report`]); `BENCHMARKS.md` explains the method and keeps the latest run.

pub mod baselines;
pub mod calculator;
pub mod client;
pub mod crash;
pub mod fixture;
pub mod idle;
pub mod load;
pub mod pg;
pub mod process;
pub mod report;
pub mod restart;
pub mod scenarios;
pub mod subscribers;

use std::path::{Path, PathBuf};

use anyhow::Context;

use fixture::Site;
use lobbywatch::config::Config;
use process::ServiceCommand;
pub use report::Report;

/// How much of everything to do, and to what.
#[derive(Debug, Clone)]
pub struct Plan {
    pub quick: bool,
    /// The `lobbywatch` binary to measure ([`process::service_binary`]).
    pub service: PathBuf,
    /// Stations in the generated site (load is spread over all of them).
    pub stations: usize,
    /// Concurrent connections of the closed-loop load (S1, B1, S7).
    pub connections: usize,
    /// Length of each throughput and latency run (S1, B1, S2).
    pub run_secs: f64,
    /// Subscriber counts of S3/B3.
    pub subscriber_counts: Vec<usize>,
    /// Events per S3/B3 measurement, at each subscriber count.
    pub delivery_events: Vec<u64>,
    /// Healthy subscribers in S4, and the rounds of with/without slow consumers.
    pub s4_healthy: usize,
    pub s4_rounds: u32,
    /// Idle connections in S5/B5.
    pub idle_connections: usize,
    /// Events in the S6 log.
    pub restart_events: u64,
    /// S7: load duration and kills.
    pub crash_secs: f64,
    pub crash_kills: u32,
    /// P3: how long check-ins are posted to one instance while dashboards watch both.
    pub cross_instance_secs: f64,
    /// P4: load duration and kills (of one instance of three each time).
    pub shared_crash_secs: f64,
    pub shared_crash_kills: u32,
    /// Only these scenarios (`s1` … `s8`, `p1` … `p4`; S2 runs S1 for its rate, P2 runs P1 for
    /// its ratio); all when empty. B2 is always measured.
    pub only: Vec<String>,
}

impl Plan {
    /// The full run, or the `--quick` one (same scenarios, shorter runs; under two minutes).
    pub fn new(quick: bool, service: PathBuf) -> Plan {
        Plan {
            quick,
            service,
            stations: 64,
            connections: 128,
            run_secs: if quick { 3.0 } else { 10.0 },
            subscriber_counts: vec![100, 1_000, 10_000],
            delivery_events: if quick {
                vec![60, 40, 15]
            } else {
                vec![300, 200, 60]
            },
            s4_healthy: 1_000,
            s4_rounds: if quick { 1 } else { 3 },
            idle_connections: 10_000,
            restart_events: 1_000_000,
            crash_secs: if quick { 3.0 } else { 8.0 },
            crash_kills: if quick { 2 } else { 4 },
            cross_instance_secs: if quick { 5.0 } else { 30.0 },
            shared_crash_secs: if quick { 4.0 } else { 12.0 },
            shared_crash_kills: if quick { 3 } else { 6 },
            only: Vec::new(),
        }
    }

    /// Whether scenario `name` (`s1` … `s8`, `p1` … `p4`) is to run.
    pub fn runs(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o.eq_ignore_ascii_case(name))
    }
}

/// The benchmark's scratch space: the site's config file, the child processes' log, and a data
/// directory per service instance — all removed when the run ends.
pub struct Workspace {
    dir: tempfile::TempDir,
    /// How to start the service on the site.
    pub service: ServiceCommand,
    pub log_file: PathBuf,
    pub site: Site,
    pub config: Config,
}

impl Workspace {
    /// A new workspace under `parent` (its disk is the one B2 and every log write measure).
    pub fn new(parent: &Path, stations: usize, binary: &Path) -> anyhow::Result<Workspace> {
        std::fs::create_dir_all(parent)?;
        let dir = tempfile::Builder::new()
            .prefix("lobbywatch-bench-")
            .tempdir_in(parent)
            .with_context(|| format!("creating a scratch directory in {}", parent.display()))?;
        let site = fixture::site(stations);
        let config_path = dir.path().join("bench.toml");
        std::fs::write(&config_path, &site.toml)?;
        let config = Config::parse(&site.toml, "bench.toml")?;
        let log_file = dir.path().join("service.log");
        Ok(Workspace {
            service: ServiceCommand {
                binary: binary.to_owned(),
                config: config_path,
                log: log_file.clone(),
            },
            log_file,
            site,
            config,
            dir,
        })
    }

    /// A fresh data directory named `name`.
    pub fn data(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Runs every scenario per `plan` with scratch space under `parent`; progress goes to stderr.
pub async fn run(plan: &Plan, parent: &Path) -> anyhow::Result<Report> {
    let fd_limit = lobbywatch::sockets::raise_open_file_limit();
    let workspace = Workspace::new(parent, plan.stations, &plan.service)?;
    let mut report = Report {
        context: context(plan, parent, fd_limit),
        ..Report::default()
    };
    scenarios::all(plan, &workspace, fd_limit, &mut report).await?;
    Ok(report)
}

/// Where and how this run happened.
fn context(plan: &Plan, parent: &Path, fd_limit: u64) -> Vec<(String, String)> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or_else(
            || "unknown".into(),
            |kib| format!("{:.1} GiB", kib as f64 / 1048576.0),
        );
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    vec![
        (
            "date".into(),
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        ),
        (
            "machine".into(),
            format!("{cores} cores ({cpu}), {memory}, open-file limit {fd_limit}"),
        ),
        (
            "build".into(),
            if cfg!(debug_assertions) {
                "debug (figures are not representative: use --release)".into()
            } else {
                "release".into()
            },
        ),
        (
            "mode".into(),
            if plan.quick { "--quick" } else { "full" }.into(),
        ),
        ("data directory".into(), parent.display().to_string()),
    ]
}
