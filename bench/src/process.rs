//! The processes a benchmark measures: the real service (the `lobbywatch` binary users run,
//! `lobbywatch serve`) and the bare baselines (`lobbywatch-bench baseline`, this binary), each as
//! a child process, so that the service and its baselines run the same way on the same machine
//! and their memory can be read from `/proc` without the load driver's own.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::ValueEnum;

use super::baselines::Kind;

/// A child process that serves HTTP on the address it printed.
pub struct Served {
    child: Child,
    pub addr: SocketAddr,
    /// From spawning the process to its "listening on" line.
    pub listening_after: Duration,
}

/// How to start the service under measurement: its binary, the site's config, and the file its
/// log goes to. Cloned into the tasks that restart it (S7).
#[derive(Debug, Clone)]
pub struct ServiceCommand {
    pub binary: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
}

impl ServiceCommand {
    /// Starts `lobbywatch serve` on `data`, listening on `listen` (port 0 for any).
    pub fn start(&self, data: &Path, listen: &str) -> anyhow::Result<Served> {
        let mut command = Command::new(&self.binary);
        command
            .args(["serve", "--listen", listen, "--config"])
            .arg(&self.config)
            .arg("--data")
            .arg(data);
        Served::spawn(command, &self.log)
    }

    /// Starts `lobbywatch serve` as instance `instance` on the PostgreSQL database `url` (which
    /// other instances may share), listening on `listen` (port 0 for any).
    pub fn start_on_database(
        &self,
        url: &str,
        instance: &str,
        listen: &str,
    ) -> anyhow::Result<Served> {
        let mut command = Command::new(&self.binary);
        command
            .args(["serve", "--listen", listen, "--config"])
            .arg(&self.config)
            .args(["--database", url, "--instance", instance]);
        Served::spawn(command, &self.log)
    }
}

/// The service binary to measure: `explicit` if given, else `lobbywatch` beside this binary (the
/// same target directory and profile). Under `cargo run` (which sets `CARGO`) that one is first
/// built, so the bench never measures a stale service.
pub fn service_binary(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path);
    }
    let beside = std::env::current_exe()?
        .with_file_name(format!("lobbywatch{}", std::env::consts::EXE_SUFFIX));
    if let Some(cargo) = std::env::var_os("CARGO") {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let mut build = Command::new(cargo);
        build
            .args([
                "build",
                "--quiet",
                "-p",
                "lobbywatch",
                "--bin",
                "lobbywatch",
                "--manifest-path",
            ])
            .arg(&manifest);
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let status = build
            .status()
            .context("running cargo to build the service")?;
        if !status.success() {
            bail!("building the service binary failed ({status})");
        }
    }
    if !beside.is_file() {
        bail!(
            "no service binary at {}: build it first (`cargo build --release`), or name one with --service",
            beside.display()
        );
    }
    Ok(beside)
}

impl Served {
    /// Starts a bare baseline server of `kind` (see `lobbywatch-bench baseline --help`): the WebSocket one
    /// with a `document` to imitate, the durable one with a `data` directory.
    pub fn baseline(
        kind: Kind,
        document: Option<&Path>,
        data: Option<&Path>,
        log: &Path,
    ) -> anyhow::Result<Served> {
        let kind = kind.to_possible_value().context("a named baseline")?;
        let mut command = Command::new(std::env::current_exe()?);
        command.args(["baseline", kind.get_name(), "--listen", "127.0.0.1:0"]);
        if let Some(doc) = document {
            command.arg("--document").arg(doc);
        }
        if let Some(data) = data {
            command.arg("--data").arg(data);
        }
        Served::spawn(command, log)
    }

    /// Starts the bare baseline `kind` that writes to the PostgreSQL database `url` (B7).
    pub fn baseline_on_database(kind: Kind, url: &str, log: &Path) -> anyhow::Result<Served> {
        let kind = kind.to_possible_value().context("a named baseline")?;
        let mut command = Command::new(std::env::current_exe()?);
        command.args(["baseline", kind.get_name(), "--listen", "127.0.0.1:0"]);
        command.args(["--database", url]);
        Served::spawn(command, log)
    }

    fn spawn(mut command: Command, log: &Path) -> anyhow::Result<Served> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let started = Instant::now();
        let mut child = command
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("starting a child process")?;
        let stdout = child.stdout.take().context("child stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let Some(line) = lines.next() else {
                let status = child.wait()?;
                bail!("the child process ended ({status}) before it listened; see its log");
            };
            if let Some(url) = line?.strip_prefix("listening on http://") {
                break url.trim().parse::<SocketAddr>()?;
            }
        };
        let listening_after = started.elapsed();
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Served {
            child,
            addr,
            listening_after,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's resident memory now.
    pub fn rss_bytes(&self) -> anyhow::Result<u64> {
        rss_bytes(self.pid())
    }

    /// CPU time the process has used so far, user and system ([`cpu_time`]).
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        cpu_time(self.pid(), false)
    }

    /// Bytes the process has caused to be written to storage so far ([`storage_written`]).
    pub fn storage_written(&self) -> anyhow::Result<u64> {
        storage_written(self.pid())
    }

    /// SIGTERM, and waits for the graceful shutdown (the log's WAL emptied into its file): what
    /// a scenario that touches the log's files afterwards needs, since the data directory
    /// refuses a log whose WAL went missing behind its back.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .context("running kill -TERM")?;
        anyhow::ensure!(status.success(), "kill -TERM failed ({status})");
        let exited = self.child.wait()?;
        anyhow::ensure!(
            exited.success(),
            "the service exited with {exited} on SIGTERM"
        );
        Ok(())
    }

    /// SIGKILL: no shutdown hook runs; only what was committed survives.
    pub fn kill9(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time process `pid` has used so far, user and system (`/proc/<pid>/stat`, in the kernel's
/// USER_HZ ticks of 10 ms — so measure over seconds, not milliseconds); with
/// `with_reaped_children`, also that of its children that have exited and been waited for (a
/// database server's finished backends).
pub fn cpu_time(pid: u32, with_reaped_children: bool) -> anyhow::Result<Duration> {
    let stat =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).context("reading /proc/<pid>/stat")?;
    // Fields after the command name (which may hold spaces, hence the last ')').
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("a /proc/<pid>/stat line")?
        .1
        .split_whitespace()
        .collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields.get(i).context("a short /proc/<pid>/stat")?.parse()?)
    };
    // utime, stime, cutime and cstime are fields 14–17 of the line, 12–15 after the name.
    let mut total = ticks(11)? + ticks(12)?;
    if with_reaped_children {
        total += ticks(13)? + ticks(14)?;
    }
    Ok(Duration::from_millis(10 * total))
}

/// Bytes process `pid` has caused to be written to storage so far (`/proc/<pid>/io`, which
/// includes its children that have exited and been waited for).
pub fn storage_written(pid: u32) -> anyhow::Result<u64> {
    let io =
        std::fs::read_to_string(format!("/proc/{pid}/io")).context("reading /proc/<pid>/io")?;
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes:"))
        .and_then(|v| v.trim().parse().ok())
        .context("no write_bytes in /proc/<pid>/io")
}

/// Resident set size of process `pid` (Linux: `VmRSS` in `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("reading /proc (memory figures need Linux)")?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .context("no VmRSS in /proc/<pid>/status")?;
    Ok(kib * 1024)
}
