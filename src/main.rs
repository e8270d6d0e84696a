//! The `lobbywatch` command: parses the CLI, sets up logging, binds, and hands over to the
//! library (`lobbywatch::run`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveTime;
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use lobbywatch::clock::Clock;
use lobbywatch::config::{Config, DatabaseUrl, SAMPLE_NAME};
use lobbywatch::logging::LogFormat;
use lobbywatch::state::StartOptions;
use lobbywatch::store::{Storage, StoreOptions};
use lobbywatch::{AppState, sim};

#[derive(Parser)]
#[command(
    name = "lobbywatch",
    version,
    about = "Waiting-room occupancy and queue monitor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How the log on stderr is written: `text` for a person, `json` (one object per line) for
    /// a log collector.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service.
    Serve(ServeArgs),
    /// Run the service on the built-in sample with simulated terminals, on a clock shifted to a
    /// weekday morning so the stations are open at any hour.
    Demo(DemoArgs),
    /// Validate a config file and print each station's derived cap and its basis.
    CheckConfig {
        /// The file to check.
        file: PathBuf,
    },
    /// Copy the event log in DIR into FILE — consistent, and safe while the service runs.
    /// Restore: put FILE as lobbywatch.sqlite3 into an empty data directory and start there.
    Backup {
        /// The service's data directory.
        dir: PathBuf,
        /// The backup file to create (never overwritten).
        file: PathBuf,
    },
    /// Copy an office's event log into an empty log elsewhere — from an SQLite data directory
    /// to a PostgreSQL database or back — in one transaction, committed only once both logs
    /// replay to the same state. Stop the service first.
    CopyLog(CopyLogArgs),
}

#[derive(Args)]
struct CopyLogArgs {
    /// The log to copy, which is only read: a data directory (SQLite) or a
    /// postgres://user@host[:port]/db URL.
    #[arg(long)]
    from: String,
    /// Where to copy it: a data directory (created if missing) or a database URL. It must hold
    /// no log yet (no events, answers, revocations or snapshots).
    #[arg(long)]
    to: String,
    /// The office's config file, whose stations both logs are replayed under to check the copy
    /// (default: the built-in sample).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    /// Config file (TOML). Without it the built-in sample is used — with its public demo tokens.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Directory of the event log (SQLite), unless a database is given.
    #[arg(long, default_value = "./lobbywatch-data")]
    data: PathBuf,
    /// Keep the event log in this PostgreSQL database (`postgres://user@host[:port]/db`), which
    /// several instances may share. Also `LOBBYWATCH_DATABASE_URL`, or `[storage] database` in
    /// the config; without any, the SQLite log in --data.
    #[arg(long)]
    database: Option<String>,
    /// This instance's name in /healthz (default: host name and process id).
    #[arg(long)]
    instance: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Also serve GET /metrics here, without a token (keep it on a private interface).
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// Cap the event log at this many 4 KiB pages; writing past it fails like a full disk.
    #[arg(long)]
    max_db_pages: Option<u64>,
    /// Snapshot each station's state every this many of its events (start-up replays only
    /// the events after the latest snapshot).
    #[arg(long, default_value_t = lobbywatch::store::DEFAULT_SNAPSHOT_EVERY)]
    snapshot_every: u64,
    /// Serve the web pages from this directory instead of the embedded copies (page
    /// development: edit, reload, no rebuild).
    #[arg(long)]
    web_dir: Option<PathBuf>,
    /// Start a new, empty event log on purpose: the old log's files are moved aside into a
    /// subdirectory of the data directory (nothing is deleted). Use it for one start only.
    #[arg(long)]
    new_log: bool,
}

#[derive(Args)]
struct DemoArgs {
    /// Directory of the event log (default: a fresh temporary directory).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Also serve GET /metrics here, without a token.
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// Use the real clock instead of the shifted one.
    #[arg(long)]
    real_clock: bool,
    /// Serve the sample without the simulated terminals.
    #[arg(long)]
    no_sim: bool,
    /// Serve the web pages from this directory instead of the embedded copies.
    #[arg(long)]
    web_dir: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    lobbywatch::logging::init(cli.log_format);
    match cli.command {
        Command::CheckConfig { file } => check_config(&file),
        Command::Serve(args) => serve_command(args),
        Command::Demo(args) => demo(args),
        Command::Backup { dir, file } => backup(&dir, &file),
        Command::CopyLog(args) => copy_log(&args),
    }
}

/// `backup`: one line on stdout naming the copy; an error exits non-zero.
fn backup(dir: &Path, file: &Path) -> anyhow::Result<()> {
    let copy = lobbywatch::store::backup(dir, file)?;
    println!(
        "backed up log {} ({} events) to {}",
        copy.log_id.as_deref().unwrap_or("without an id"),
        copy.events,
        copy.file.display()
    );
    Ok(())
}

/// `copy-log`: one line on stdout saying what was copied; an error — nothing copied — exits
/// non-zero.
fn copy_log(args: &CopyLogArgs) -> anyhow::Result<()> {
    let from = Storage::parse(&args.from).map_err(|e| anyhow::anyhow!("--from: {e}"))?;
    let to = Storage::parse(&args.to).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::sample(),
    };
    let started = std::time::Instant::now();
    let copied = runtime()?.block_on(lobbywatch::copy_log::copy_log(&from, &to, &config))?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "event log copied"
    );
    println!("{copied}");
    Ok(())
}

/// `serve --new-log`: moves the old log aside, so the start that follows opens an empty one.
fn start_new_log(data: &Path) -> anyhow::Result<()> {
    match lobbywatch::store::set_aside(data)? {
        Some(aside) => tracing::warn!(
            moved_to = %aside.display(),
            "--new-log: starting an empty event log; the old log's files were moved aside (delete them once you no longer need them)"
        ),
        None => tracing::info!("--new-log: there was no log to move aside"),
    }
    Ok(())
}

/// `check-config`: the report on stdout (and a warning on stderr), or every error on stderr and
/// exit code 1.
fn check_config(file: &Path) -> anyhow::Result<()> {
    match lobbywatch::check_config::check(file, chrono::Utc::now()) {
        Ok(checked) => {
            print!("{}", checked.report);
            if let Some(warning) = checked.warning {
                eprintln!("\n{warning}");
            }
            Ok(())
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{}", lobbywatch::check_config::refused(&errors));
            std::process::exit(1);
        }
    }
}

fn serve_command(args: ServeArgs) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(path) => {
            let config = Config::load(path)?;
            if let Some(warning) = config.demo_token_warning() {
                tracing::warn!("{warning}");
            }
            config
        }
        None => {
            tracing::warn!(
                "no --config given: serving the {SAMPLE_NAME} config, whose device tokens are public demo tokens — not for production"
            );
            Config::sample()
        }
    };
    let storage = storage(&args, &config)?;
    if args.new_log {
        let Storage::Dir(dir) = &storage else {
            anyhow::bail!(
                "--new-log sets aside an SQLite data directory; it does not apply to a database"
            );
        };
        start_new_log(dir)?;
    }
    let start = StartOptions {
        store: StoreOptions {
            max_pages: args.max_db_pages,
            snapshot_every: Some(args.snapshot_every),
            ..StoreOptions::default()
        },
        clock: Clock::system(),
        web_dir: args.web_dir,
        instance: args.instance,
    };
    let listen = Listen {
        api: args.listen,
        metrics: args.metrics_listen,
    };
    runtime()?.block_on(serve(config, storage, listen, start, false))
}

/// Where the log lives: `--database`, else `LOBBYWATCH_DATABASE_URL`, else `[storage] database`,
/// else the SQLite log in `--data`.
fn storage(args: &ServeArgs, config: &Config) -> anyhow::Result<Storage> {
    let given = args
        .database
        .clone()
        .map(|url| ("--database", url))
        .or_else(|| {
            std::env::var(DATABASE_URL_VAR)
                .ok()
                .filter(|url| !url.is_empty())
                .map(|url| (DATABASE_URL_VAR, url))
        });
    let url = match given {
        Some((from, url)) => {
            Some(DatabaseUrl::parse(&url).map_err(|e| anyhow::anyhow!("{from}: {e}"))?)
        }
        None => config.database.clone(),
    };
    Ok(url.map_or_else(|| Storage::Dir(args.data.clone()), Storage::Postgres))
}

/// The environment variable that names the database when `--database` does not.
const DATABASE_URL_VAR: &str = "LOBBYWATCH_DATABASE_URL";

fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let (data, _temp) = match args.data {
        Some(d) => (d, None),
        None => {
            let t = tempfile_dir()?;
            (t.clone(), Some(TempDir(t)))
        }
    };
    let config = Config::sample();
    let clock = if args.real_clock {
        Clock::system()
    } else {
        let tz = config
            .districts
            .first()
            .map_or(chrono_tz::Europe::Oslo, |d| d.timezone);
        Clock::demo(tz, NaiveTime::from_hms_opt(9, 30, 0).expect("valid time"))
    };
    let start = StartOptions {
        store: StoreOptions::default(),
        clock,
        web_dir: args.web_dir,
        instance: None,
    };
    let listen = Listen {
        api: args.listen,
        metrics: args.metrics_listen,
    };
    runtime()?.block_on(serve(
        config,
        Storage::Dir(data),
        listen,
        start,
        !args.no_sim,
    ))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// A demo data directory removed when the demo ends.
struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("lobbywatch-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Where the service listens: the API, and optionally a second address for the metrics alone.
struct Listen {
    api: SocketAddr,
    metrics: Option<SocketAddr>,
}

/// Binds the metrics-only listener, if asked for, and serves it until shutdown. Its line on
/// stdout comes before "listening on", which scripts and tests wait for last.
async fn serve_metrics(state: &AppState, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let Some(listen) = listen else {
        return Ok(());
    };
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding --metrics-listen {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "metrics listening (no token: keep it private)");
    println!("metrics on http://{addr}/metrics");
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = lobbywatch::http::metrics::serve_alone(listener, state).await {
            tracing::error!(cause = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

async fn serve(
    config: Config,
    storage: Storage,
    listen: Listen,
    start: StartOptions,
    simulate: bool,
) -> anyhow::Result<()> {
    // Every live socket is a file descriptor: raise the soft limit to the hard one (often 1,024
    // by default, far below `max_sockets`), and say so when even that is short.
    // Before the log's replay, which may take a while: a SIGHUP's default action ends the
    // process, and one sent meanwhile is kept and acted on once the service runs.
    let hangups = hangup_signals()?;
    let open_files = lobbywatch::sockets::raise_open_file_limit();
    if open_files < config.limits.max_sockets as u64 {
        tracing::warn!(
            open_files,
            max_sockets = config.limits.max_sockets,
            "the open-file limit is below [limits] max_sockets; raise it (ulimit -Hn, LimitNOFILE=) or lower max_sockets"
        );
    }
    let state = AppState::open(config, &storage, start)
        .await
        .with_context(|| format!("opening the event log in {storage}"))?;
    let listener = TcpListener::bind(listen.api)
        .await
        .with_context(|| format!("binding {}", listen.api))?;
    serve_metrics(&state, listen.metrics).await?;
    let addr = listener.local_addr()?;
    let shutdown = shutdown_signal();
    reload_on_hangup(&state, hangups);
    tracing::info!(%addr, log = %storage, instance = %state.instance, "lobbywatch listening");
    // A plain line on stdout for scripts and tests that start the service on port 0.
    println!("listening on http://{addr}");
    if simulate {
        print_demo_banner(&state, addr);
        sim::spawn(
            format!("http://{addr}"),
            state.config(),
            state.shutdown.clone(),
        );
    }
    lobbywatch::run(listener, state, shutdown).await
}

fn print_demo_banner(state: &AppState, addr: SocketAddr) {
    let base = format!("http://{addr}");
    let first = state
        .config()
        .stations
        .first()
        .map(|s| s.id.to_string())
        .unwrap_or_default();
    let clock = state.clock.now().with_timezone(&chrono_tz::Europe::Oslo);
    println!(
        "\nlobbywatch demo — {} stations in {} districts, simulated terminals running",
        state.config().stations.len(),
        state.config().districts.len()
    );
    if state.clock.is_shifted() {
        println!(
            "demo clock: {} Europe/Oslo (shifted to a weekday morning so the stations are open)",
            clock.format("%A %Y-%m-%d %H:%M")
        );
    }
    println!("\n  public page      {base}/");
    println!(
        "  guard dashboard  {base}/dashboard   (sign in with demo-national-guard or demo-oslo-guard)"
    );
    println!("  lobby display    {base}/display/{first}");
    println!("  front desk       {base}/terminal/{first}   (sign in with demo-{first}-desk-1)");
    println!("  stations (JSON)  {base}/api/v1/stations");
    println!("  public status    {base}/api/v1/stations/{first}/public");
    println!("  health           {base}/healthz");
    println!(
        "\ndemo tokens (public! every device's token is `demo-<device id>`, see config/sample.toml):"
    );
    println!("  national guard   demo-national-guard");
    println!("  terminal         demo-{first}-desk-1");
    println!("  admin            demo-admin");
    println!("  metrics          demo-metrics   (GET {base}/metrics)");
    println!("\ntry:");
    println!(
        "  curl -H 'Authorization: Bearer demo-national-guard' {base}/api/v1/stations/{first}"
    );
    println!(
        "  curl -X POST -H 'Authorization: Bearer demo-{first}-desk-1' -H 'Idempotency-Key: try-1' \\\n       -H 'Content-Type: application/json' -d '{{\"kind\":\"check_in\",\"service\":\"passport\"}}' \\\n       {base}/api/v1/stations/{first}/events"
    );
    println!("\nCtrl-C stops the demo.\n");
}

/// SIGHUP, caught from now on (`None` where there are no signals).
#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = Option<()>;

fn hangup_signals() -> anyhow::Result<Hangups> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let hangups = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
        Ok(Some(hangups))
    }
    #[cfg(not(unix))]
    Ok(None)
}

/// Reloads the config on every SIGHUP until shutdown; the reload logs its outcome and keeps it
/// for /healthz.
fn reload_on_hangup(state: &AppState, hangups: Hangups) {
    #[cfg(unix)]
    if let Some(mut hangups) = hangups {
        let state = state.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = state.shutdown.cancelled() => return,
                    got = hangups.recv() => if got.is_none() { return },
                }
                tracing::info!("SIGHUP: reloading the config");
                let _ = lobbywatch::reload::reload(&state).await;
            }
        });
    }
    #[cfg(not(unix))]
    let _ = (state, hangups);
}

/// Completes on SIGTERM or Ctrl-C. The handlers are installed here, when it is called — before
/// the "listening on" line — not when the future is first polled: a SIGTERM sent the moment the
/// service says it listens must stop it gracefully, not kill it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (mut terminate, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let terminate = async {
                match terminate.as_mut() {
                    Some(s) => drop(s.recv().await),
                    None => std::future::pending().await,
                }
            };
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(s) => drop(s.recv().await),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = terminate => {},
                () = interrupt => {},
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
