//! One closed-loop measurement on the shared PostgreSQL log (B1, B7, B7n, P1, P2): S1's load
//! spread over one or more servers, after a warm-up of its own, with what the servers and the
//! database server used over the measured part — CPU per request on both sides, WAL bytes and
//! requests per WAL flush — and how many 503s the clients met on the way.

use std::time::Duration;

use super::shared_log::instance;
use crate::baselines::Kind;
use crate::load::{self, Desks, Instances};
use crate::pg::{Postgres, Usage};
use crate::process::Served;
use crate::{Report, Workspace};

/// One closed-loop measurement and what it cost.
pub(super) struct Measured {
    pub run: load::Run,
    /// The measured processes' CPU time per answered request (all instances together), µs.
    pub cpu_us: f64,
    /// What the database server did over the measurement.
    pub db: Usage,
    /// 503 answers during the measurement (each retried), and of those "contended".
    pub unavailable: u64,
    pub contended: u64,
}

impl Measured {
    fn per_request(&self, x: f64) -> f64 {
        x / self.run.accepted.max(1) as f64
    }

    /// The database server's CPU time per answered request, µs.
    pub fn db_cpu_us(&self) -> Option<f64> {
        Some(self.per_request(self.db.cpu?.as_secs_f64() * 1e6))
    }

    /// WAL bytes per answered request.
    pub fn wal_bytes(&self) -> Option<f64> {
        Some(self.per_request(self.db.wal_bytes? as f64))
    }

    /// Answered requests per WAL flush: how many commits each `fdatasync` carried.
    pub fn per_wal_sync(&self) -> Option<f64> {
        let syncs = self.db.wal_syncs.filter(|&s| s > 0)?;
        Some(self.run.accepted as f64 / syncs as f64)
    }

    /// "CPU µs (process + database), WAL bytes and commits per WAL flush", for the progress line.
    pub fn costs(&self) -> String {
        format!(
            "{:.0} + {} µs of CPU (process + database), {} bytes of WAL, {} requests per WAL flush",
            self.cpu_us,
            shown(self.db_cpu_us(), 0),
            shown(self.wal_bytes(), 0),
            shown(self.per_wal_sync(), 1)
        )
    }

    /// The figures `<prefix>_cpu_us_per_<unit>`, `<prefix>_db_cpu_us_per_<unit>`,
    /// `<prefix>_wal_bytes_per_<unit>`, `<prefix>_<unit>s_per_wal_sync`.
    pub fn figures(&self, prefix: &str, unit: &str, report: &mut Report) {
        report.figure(&format!("{prefix}_cpu_us_per_{unit}"), self.cpu_us);
        let optional = [
            (format!("{prefix}_db_cpu_us_per_{unit}"), self.db_cpu_us()),
            (format!("{prefix}_wal_bytes_per_{unit}"), self.wal_bytes()),
            (
                format!("{prefix}_{unit}s_per_wal_sync"),
                self.per_wal_sync(),
            ),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                report.figure(&name, value);
            }
        }
    }
}

/// `value` with `decimals`, or "?" where it could not be measured.
pub(super) fn shown(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "?".into(), |v| format!("{v:.decimals$}"))
}

/// How every measurement here loads its servers: S1's closed loop, on the bench's site.
pub(super) struct ClosedLoop<'a> {
    pub ws: &'a Workspace,
    pub pg: &'a Postgres,
    pub connections: usize,
    pub run: Duration,
}

impl ClosedLoop<'_> {
    /// The shared-log baseline `kind` on a fresh database.
    pub async fn baseline(&self, kind: Kind, name: &str) -> anyhow::Result<Measured> {
        let url = self.pg.database();
        let server = Served::baseline_on_database(kind, &url, &self.ws.log_file)?;
        self.measure(&[&server], name, false).await
    }

    /// `count` instances of the service on a fresh database, named `name-0`, `name-1`, …
    pub async fn instances(
        &self,
        count: usize,
        name: &str,
        split: bool,
    ) -> anyhow::Result<Measured> {
        let url = self.pg.database();
        let servers = (0..count)
            .map(|i| instance(self.ws, &url, &format!("{name}-{i}")))
            .collect::<anyhow::Result<Vec<Served>>>()?;
        let servers: Vec<&Served> = servers.iter().collect();
        self.measure(&servers, name, split).await
    }

    /// The load spread over `servers` (each station through one of them when `split`) for
    /// `run` after a warm-up of a third of it, with what the servers and the database used
    /// over the measured part.
    pub async fn measure(
        &self,
        servers: &[&Served],
        name: &str,
        split: bool,
    ) -> anyhow::Result<Measured> {
        let instances = Instances {
            addrs: servers.iter().map(|s| s.addr).collect(),
            failover: None,
            split_stations: split,
        };
        let desks = Desks::new(&self.ws.site.terminals, name);
        let (connections, run) = (self.connections, self.run);
        load::closed_loop_on(&instances, desks.clone(), connections, run / 3).await;
        let (cpu_before, db_before, refused_before) =
            (cpu_of(servers)?, self.pg.usage().await, desks.unavailable());
        let measured = load::closed_loop_on(&instances, desks.clone(), connections, run).await;
        let cpu = cpu_of(servers)? - cpu_before;
        let db = self.pg.usage().await.since(db_before);
        let (unavailable, contended) = desks.unavailable();
        Ok(Measured {
            cpu_us: cpu.as_secs_f64() * 1e6 / measured.accepted.max(1) as f64,
            db,
            unavailable: unavailable - refused_before.0,
            contended: contended - refused_before.1,
            run: measured,
        })
    }
}

fn cpu_of(servers: &[&Served]) -> anyhow::Result<Duration> {
    servers.iter().map(|s| s.cpu_time()).sum()
}
