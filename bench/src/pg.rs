//! The PostgreSQL the P scenarios run on: one private throwaway cluster per run
//! ([`scratch_pg::Cluster`]: initdb in a temporary directory, `fsync=on`, a port of its own), a
//! fresh database per scenario, the log read back for the audit, and what the cluster did
//! meanwhile: its processes' CPU time from `/proc` (on a shared machine the database server's
//! share of every event is as real as the service's), and the WAL it wrote and synced, by its
//! own count.
//!
//! Not `/proc/<pid>/io`'s `write_bytes`: on this kernel (6.18, ext4 with large folios) a WAL
//! page rewritten at each commit is counted as a whole dirtied folio — 262 KiB per 8 KiB
//! `pwrite` in a probe — so it says nothing about the bytes PostgreSQL writes.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use scratch_pg::{Cluster, Unavailable};
use tokio_postgres::NoTls;

use crate::process;
use lobbywatch::config::DatabaseUrl;
use lobbywatch::domain::Recorded;
use lobbywatch::store::StoreOptions;
use lobbywatch::store::postgres::OpenLog;

/// The run's cluster.
pub struct Postgres {
    cluster: Cluster,
    /// `postgres --version`, for the report's context.
    pub version: String,
    /// The server's main process, whose children are the backends and helpers; `None` when
    /// `/proc` does not show it (then no database figures).
    postmaster: Option<u32>,
}

/// What the cluster has done so far; each figure `None` when it cannot be read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// CPU time of the server's processes.
    pub cpu: Option<Duration>,
    /// WAL written: the current WAL position, in bytes.
    pub wal_bytes: Option<u64>,
    /// WAL flushes to disk (`pg_stat_wal.wal_sync`; PostgreSQL 14 and later). A busy backend
    /// reports its count at most once a second, so over a few seconds of steady load this is
    /// good to a few per cent, not exact.
    pub wal_syncs: Option<u64>,
}

impl Usage {
    /// What was used between `before` and `self`.
    pub fn since(self, before: Usage) -> Usage {
        fn diff<T: std::ops::Sub<Output = T> + PartialOrd>(
            a: Option<T>,
            b: Option<T>,
        ) -> Option<T> {
            a.zip(b).filter(|(a, b)| a >= b).map(|(a, b)| a - b)
        }
        Usage {
            cpu: diff(self.cpu, before.cpu),
            wal_bytes: diff(self.wal_bytes, before.wal_bytes),
            wal_syncs: diff(self.wal_syncs, before.wal_syncs),
        }
    }
}

impl Postgres {
    /// Starts the cluster (blocking: initdb and the server's start take a few seconds).
    pub fn start() -> Result<Postgres, Unavailable> {
        let cluster = Cluster::start()?;
        let version = version(cluster.bin_dir());
        let postmaster = postmaster_on(cluster.port());
        Ok(Postgres {
            cluster,
            version,
            postmaster,
        })
    }

    /// A database nothing else uses; its URL.
    pub fn database(&self) -> String {
        tokio::task::block_in_place(|| self.cluster.create_database())
    }

    pub fn port(&self) -> u16 {
        self.cluster.port()
    }

    /// What the cluster has done so far.
    pub async fn usage(&self) -> Usage {
        let (wal_bytes, wal_syncs) = self.wal().await.unwrap_or_default();
        Usage {
            cpu: self.cpu(),
            wal_bytes,
            wal_syncs,
        }
    }

    /// CPU time of the server's processes: the main process with its exited children, and
    /// every live child (backends, WAL writer, checkpointer, background writer).
    fn cpu(&self) -> Option<Duration> {
        let main = self.postmaster?;
        let mut cpu = process::cpu_time(main, true).ok()?;
        for child in children_of(main) {
            // A child that has just exited is skipped; its share moves to its parent's.
            cpu += process::cpu_time(child, false).unwrap_or_default();
        }
        Some(cpu)
    }

    /// The WAL position and, where PostgreSQL counts them, the WAL syncs so far.
    async fn wal(&self) -> anyhow::Result<(Option<u64>, Option<u64>)> {
        let (client, connection) =
            tokio_postgres::connect(&self.cluster.url("postgres"), NoTls).await?;
        tokio::spawn(connection);
        let position: i64 = client
            .query_one("SELECT (pg_current_wal_lsn() - '0/0')::bigint", &[])
            .await?
            .get(0);
        let syncs: Option<i64> = client
            .query_opt("SELECT wal_sync FROM pg_stat_wal", &[])
            .await
            .ok()
            .flatten()
            .map(|row| row.get(0));
        Ok((
            u64::try_from(position).ok(),
            syncs.and_then(|s| u64::try_from(s).ok()),
        ))
    }
}

/// Every event of `stations` in the database at `url`, read as an instance reads them.
pub async fn read_log<'a>(
    url: &str,
    stations: impl IntoIterator<Item = &'a str>,
) -> anyhow::Result<BTreeMap<String, Vec<Recorded>>> {
    let url = DatabaseUrl::parse(url).map_err(|e| anyhow::anyhow!("{e}"))?;
    let log = OpenLog::open(&url, StoreOptions::default()).await?;
    let mut events = BTreeMap::new();
    for station in stations {
        events.insert(station.to_owned(), log.events_after(station, 0).await?);
    }
    Ok(events)
}

fn version(bin_dir: &Path) -> String {
    Command::new(bin_dir.join("postgres"))
        .arg("--version")
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "PostgreSQL (version unknown)".into())
}

/// The PostgreSQL server process started with `-p port`.
fn postmaster_on(port: u16) -> Option<u32> {
    let port = port.to_string();
    pids().find(|&pid| {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            return false;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        args.first().is_some_and(|a| a.ends_with(b"postgres"))
            && args
                .windows(2)
                .any(|w| w[0] == b"-p" && w[1] == port.as_bytes())
    })
}

/// The processes whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    pids()
        .filter(|&pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // The parent's pid is the second field after the command name.
                    let after_name = stat.rsplit_once(')')?.1;
                    after_name.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

fn pids() -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
}
