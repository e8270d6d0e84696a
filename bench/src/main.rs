//! `lobbywatch-bench`: measures the `lobbywatch` service against baselines taken in the same run
//! (see BENCHMARKS.md) and prints a Markdown table and, as its last line, every figure as JSON.
//! Its hidden sub-commands are the child processes it starts itself: the bare baseline servers
//! and the holders of idle connections.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use lobbywatch_bench::{Plan, baselines, idle, process};

#[derive(Parser)]
#[command(
    name = "lobbywatch-bench",
    version,
    about = "Measures lobbywatch against baselines taken in the same run"
)]
struct Cli {
    /// Shorter runs of every scenario (under two minutes); for CI and a first look.
    #[arg(long)]
    quick: bool,
    /// Where the scratch data directories go: the disk being measured.
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    dir: PathBuf,
    /// Also write the Markdown table to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only these scenarios, e.g. `--only s1,s6` (S2 brings S1 along for its rate).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Concurrent connections of the closed-loop load (S1, B1, S7); default 128.
    #[arg(long)]
    connections: Option<usize>,
    /// The `lobbywatch` binary to measure (default: the one beside this binary, built first
    /// when run through `cargo run`).
    #[arg(long)]
    service: Option<PathBuf>,
    #[command(subcommand)]
    child: Option<Child>,
}

/// The child processes the benchmark starts from this binary.
#[derive(Subcommand)]
enum Child {
    /// A bare baseline server (B1, B3, B4, B5, B7).
    #[command(hide = true)]
    Baseline {
        kind: baselines::Kind,
        #[arg(long)]
        listen: SocketAddr,
        /// The status document whose size the WebSocket baseline broadcasts.
        #[arg(long)]
        document: Option<PathBuf>,
        /// The data directory of the durable baseline's log.
        #[arg(long)]
        data: Option<PathBuf>,
        /// The PostgreSQL database of the shared-log baseline (B7).
        #[arg(long)]
        database: Option<String>,
    },
    /// Holds idle WebSocket connections for the memory figures.
    #[command(hide = true)]
    Hold {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long)]
        path: String,
        #[arg(long)]
        count: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.child {
        Some(Child::Baseline {
            kind,
            listen,
            document,
            data,
            database,
        }) => runtime.block_on(baselines::serve(
            kind,
            listen,
            document.as_deref(),
            data.as_deref(),
            database.as_deref(),
        )),
        Some(Child::Hold { addr, path, count }) => runtime.block_on(idle::hold(addr, path, count)),
        None => {
            let defaults = Plan::new(cli.quick, process::service_binary(cli.service)?);
            let plan = Plan {
                only: cli.only,
                connections: cli.connections.unwrap_or(defaults.connections),
                ..defaults
            };
            let report = runtime.block_on(lobbywatch_bench::run(&plan, &cli.dir))?;
            let table = report.markdown();
            if let Some(out) = cli.out {
                std::fs::write(&out, &table)
                    .with_context(|| format!("writing {}", out.display()))?;
            }
            println!("{table}");
            println!("{}", report.json_line());
            Ok(())
        }
    }
}
