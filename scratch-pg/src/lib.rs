//! A throwaway PostgreSQL cluster, started from the system's own binaries.
//!
//! lobbywatch's PostgreSQL tests and the benchmark's PostgreSQL scenarios need a real server, and
//! neither a developer's machine nor CI can be expected to run one for them. This crate owns that:
//! it finds `initdb`, `pg_ctl` and `postgres` (on `PATH`, else in the newest
//! `/usr/lib/postgresql/<version>/bin`, where Debian's `postgresql` package puts them), initialises
//! a cluster in a temporary directory, serves it on a free port of 127.0.0.1 with `trust`
//! authentication for the user `postgres`, and removes it again. Databases are created with the
//! cluster's own `psql`, so the crate needs no PostgreSQL client library: its one dependency is
//! `tempfile`.
//!
//! The server runs with `fsync=on`, as a real deployment would, so that what the bench measures
//! against it means something.
//!
//! As root (containers, CI) `initdb` and `pg_ctl` refuse to run, so they run as the user
//! `postgres` through `runuser` (or `su`), and the temporary directory is handed to that user.
//!
//! [`shared`] starts one cluster for a whole test binary and makes sure its server dies with the
//! process; [`require_or_skip`] turns a missing PostgreSQL into a skipped test — or into a failure
//! when `LOBBYWATCH_REQUIRE_POSTGRES=1`, which `.ci/run` sets.

use std::fmt;
use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use tempfile::TempDir;

/// Where Debian's `postgresql` package installs each major version's programs.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// Set to `1` (by `.ci/run`) to make a missing PostgreSQL a test failure instead of a skip.
const REQUIRE_VAR: &str = "LOBBYWATCH_REQUIRE_POSTGRES";

/// Why no cluster could be started, worded for whoever runs the tests.
#[derive(Clone, Debug)]
pub struct Unavailable {
    reason: String,
}

impl Unavailable {
    fn new(reason: impl Into<String>) -> Unavailable {
        Unavailable {
            reason: reason.into(),
        }
    }

    /// The reason, as [`Display`](fmt::Display) shows it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Unavailable {}

/// A PostgreSQL server of its own: data directory, log and Unix socket in one temporary
/// directory, listening on 127.0.0.1 at [`Cluster::port`] for the user `postgres`, no password.
///
/// Dropping it stops the server and removes the directory.
#[derive(Debug)]
pub struct Cluster {
    bin_dir: PathBuf,
    /// Holds `data/` (the cluster itself), `log` (the server's output) and the socket.
    dir: PathBuf,
    port: u16,
    run_as: RunAs,
    /// Removes `dir` when dropped; `None` once [`shared`] has left removal to its watcher.
    temp: Option<TempDir>,
}

impl Cluster {
    /// Initialises a cluster in a new temporary directory and starts its server on a free port.
    /// Takes a few seconds (mostly `initdb`).
    pub fn start() -> Result<Cluster, Unavailable> {
        let bin_dir = find_bin_dir()?;
        let run_as = RunAs::detect()?;
        let temp = tempfile::Builder::new()
            .prefix("scratch-pg-")
            .tempdir()
            .map_err(|e| {
                Unavailable::new(format!("could not create a temporary directory: {e}"))
            })?;
        run_as.hand_over(temp.path())?;
        let mut cluster = Cluster {
            bin_dir,
            dir: temp.path().to_path_buf(),
            port: 0,
            run_as,
            temp: Some(temp),
        };
        cluster.initdb()?;
        cluster.serve_on_a_free_port()?;
        Ok(cluster)
    }

    /// The URL of `database` on this cluster, as the user `postgres`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The TCP port the server listens on (127.0.0.1 only); it stays the same across
    /// [`stop`](Cluster::stop) and [`start_again`](Cluster::start_again).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory of the PostgreSQL programs this cluster runs on (`psql` is usually there).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Creates a database nothing else uses (`t_<counter>_<pid>`) and returns its URL.
    ///
    /// # Panics
    ///
    /// If `psql` (or `createdb`) fails: a running cluster does not refuse, so that is a bug in
    /// the caller (a stopped cluster) or in this crate.
    pub fn create_database(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "t_{}_{}",
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::process::id()
        );
        if let Err(why) = self.run_create_database(&name) {
            panic!("could not create database {name}: {why}");
        }
        self.url(&name)
    }

    /// Stops the server (`pg_ctl stop -m fast`), to see how its clients cope without it.
    ///
    /// # Panics
    ///
    /// If `pg_ctl` fails, e.g. because the server is not running.
    pub fn stop(&self) {
        if let Err(why) = self.pg_ctl(&["-w", "stop", "-m", "fast"]) {
            panic!("could not stop the cluster: {why}");
        }
    }

    /// Starts the server again after [`stop`](Cluster::stop), on the same port, and returns once
    /// it accepts connections.
    ///
    /// # Panics
    ///
    /// If the server does not start, e.g. because something else took the port meanwhile.
    pub fn start_again(&self) {
        if let Err(why) = self.serve() {
            panic!("could not start the cluster again: {why}");
        }
    }

    fn initdb(&self) -> Result<(), Unavailable> {
        let data = self.path_in_dir("data");
        // --no-sync only skips flushing the files initdb writes (they are thrown away with the
        // directory anyway); the server itself runs with fsync=on.
        let args = [
            "-D",
            &data,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ];
        run(&mut self.command("initdb", &args), "initdb")
    }

    fn serve_on_a_free_port(&mut self) -> Result<(), Unavailable> {
        // Something else may bind the port between our probe and the server's bind: then a new
        // port, rather than a failed test run.
        let mut attempts_left = 3;
        loop {
            self.port = free_port()?;
            attempts_left -= 1;
            match self.serve() {
                Err(why) if attempts_left > 0 && why.reason.contains("already in use") => {}
                result => return result,
            }
        }
    }

    /// `pg_ctl start` on `self.port`, waiting (up to 60 s) until the server accepts connections.
    fn serve(&self) -> Result<(), Unavailable> {
        let log = self.path_in_dir("log");
        // pg_ctl hands these options to the server through sh, hence the quoted socket directory.
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on",
            self.port,
            sh_quote(&self.dir.to_string_lossy())
        );
        let args = ["-w", "-t", "60", "-l", &log, "-o", &options, "start"];
        self.pg_ctl(&args)
            .map_err(|why| Unavailable::new(format!("{why}; server log: {}", self.log_tail())))
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), Unavailable> {
        let data = self.path_in_dir("data");
        let all: Vec<&str> = ["-D", data.as_str()]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        run(&mut self.command("pg_ctl", &all), "pg_ctl")
    }

    /// `CREATE DATABASE` through `psql`, or `createdb` where there is no `psql`. Both are
    /// clients over TCP with `trust`, so they run as whoever we are.
    fn run_create_database(&self, name: &str) -> Result<(), Unavailable> {
        let port = self.port.to_string();
        let server = ["-h", "127.0.0.1", "-p", &port, "-U", "postgres"];
        let psql = self.bin_dir.join("psql");
        let mut cmd = if is_executable(&psql) {
            let mut cmd = Command::new(psql);
            cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
                .args(server)
                .args(["-d", "postgres", "-c", &format!("CREATE DATABASE {name}")]);
            cmd
        } else {
            let mut cmd = Command::new(self.bin_dir.join("createdb"));
            cmd.args(server).arg(name);
            cmd
        };
        run(&mut cmd, "CREATE DATABASE")
    }

    /// `program` from the bin directory, as the right user, from inside our directory: as
    /// `postgres` it may not be allowed into the caller's working directory.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = self.run_as.command(&self.bin_dir.join(program), args);
        cmd.current_dir(&self.dir);
        cmd
    }

    fn path_in_dir(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// The server log's last lines, which say why a start failed.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(8)..].join(" | ")
    }

    /// Starts a process that stops the server and removes its directory once this process has
    /// exited, however it exits: a test binary never drops its statics, so [`Drop`] cannot.
    fn watch_over(&self) -> Result<(), Unavailable> {
        let data = self.path_in_dir("data");
        let pg_ctl = self.bin_dir.join("pg_ctl");
        let stop = self
            .run_as
            .argv(&pg_ctl, &["-D", &data, "-w", "stop", "-m", "immediate"]);
        // `kill -0` rather than GNU `tail --pid`: any sh has it, where a `tail` without `--pid`
        // would fail at once and stop the server at once.
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            stop = shell_line(&stop),
            dir = sh_quote(&self.dir.to_string_lossy()),
        );
        Command::new("/bin/sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .current_dir("/")
            // A process group of its own: Ctrl-C on the test run must not take the watcher along.
            .process_group(0)
            .spawn()
            .map(drop)
            .map_err(|e| Unavailable::new(format!("could not start the cluster's watcher: {e}")))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Immediate: nothing in a throwaway cluster is worth a clean shutdown. A server that is
        // not running (a test stopped it) makes pg_ctl fail, which is fine here. `temp`, dropped
        // after this, removes the directory.
        let _ = self.pg_ctl(&["-w", "stop", "-m", "immediate"]);
    }
}

/// One cluster for the whole process (a test binary), started on first use; the same answer
/// every time, including the reason it could not start.
///
/// Its server is stopped and its directory removed by a watcher process once this process has
/// exited. Tests that [`stop`](Cluster::stop) it take it away from every other test of the
/// binary, so such a test belongs in a test binary of its own.
pub fn shared() -> Result<&'static Cluster, Unavailable> {
    static SHARED: OnceLock<Result<Cluster, Unavailable>> = OnceLock::new();
    SHARED
        .get_or_init(start_shared)
        .as_ref()
        .map_err(Unavailable::clone)
}

fn start_shared() -> Result<Cluster, Unavailable> {
    let mut cluster = Cluster::start()?;
    // Should the watcher not start, `cluster` is dropped here: stopped and removed.
    cluster.watch_over()?;
    // From here on the watcher removes the directory.
    if let Some(temp) = cluster.temp.take() {
        let _ = temp.keep();
    }
    Ok(cluster)
}

/// The [`shared`] cluster for `test`; or `None` after saying on the terminal why `test` is
/// skipped.
///
/// # Panics
///
/// If there is no cluster and `LOBBYWATCH_REQUIRE_POSTGRES=1` (as in CI).
pub fn require_or_skip(test: &str) -> Option<&'static Cluster> {
    shared().map_err(|why| skip(test, &why)).ok()
}

/// Panics if PostgreSQL is required, else says on the terminal why `test` is skipped.
fn skip(test: &str, why: &Unavailable) {
    if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
        panic!("{REQUIRE_VAR}=1 but {why}");
    }
    // Written to the terminal itself: the test harness captures `eprint!`.
    let _ = writeln!(std::io::stderr(), "SKIPPED postgres test {test}: {why}");
}

/// How the PostgreSQL programs are run: as root, initdb and pg_ctl refuse, so as `postgres`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunAs {
    Myself,
    /// `runuser -u postgres -- program args…`
    PostgresViaRunuser,
    /// `su postgres -s /bin/sh -c 'program args…'`, where there is no `runuser`.
    PostgresViaSu,
}

impl RunAs {
    fn detect() -> Result<RunAs, Unavailable> {
        if id(&["-u"])? != 0 {
            return Ok(RunAs::Myself);
        }
        if id(&["-u", "postgres"]).is_err() {
            return Err(Unavailable::new(
                "running as root, where initdb and pg_ctl refuse to run, and there is no user \
                 `postgres` to run them as (install Debian's postgresql package, or run as an \
                 ordinary user)",
            ));
        }
        Ok(if on_path("runuser").is_some() {
            RunAs::PostgresViaRunuser
        } else {
            RunAs::PostgresViaSu
        })
    }

    /// The whole command line that runs `program args` as the right user.
    fn argv(self, program: &Path, args: &[&str]) -> Vec<String> {
        let direct: Vec<String> = std::iter::once(program.to_string_lossy().into_owned())
            .chain(args.iter().map(|a| a.to_string()))
            .collect();
        let prefix: &[&str] = match self {
            RunAs::Myself => return direct,
            RunAs::PostgresViaRunuser => &["runuser", "-u", "postgres", "--"],
            RunAs::PostgresViaSu => {
                return ["su", "postgres", "-s", "/bin/sh", "-c"]
                    .map(String::from)
                    .into_iter()
                    .chain([shell_line(&direct)])
                    .collect();
            }
        };
        prefix.iter().map(|p| p.to_string()).chain(direct).collect()
    }

    fn command(self, program: &Path, args: &[&str]) -> Command {
        let argv = self.argv(program, args);
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        cmd
    }

    /// Gives `dir` to the user the programs run as, so that initdb may create `data/` in it.
    fn hand_over(self, dir: &Path) -> Result<(), Unavailable> {
        if self == RunAs::Myself {
            return Ok(());
        }
        let (uid, gid) = (id(&["-u", "postgres"])?, id(&["-g", "postgres"])?);
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|e| {
            Unavailable::new(format!(
                "could not hand {} to the user postgres: {e}",
                dir.display()
            ))
        })
    }
}

/// `id ARGS` as a number: our own uid for `-u`, a user's uid or gid for `-u NAME` or `-g NAME`
/// (std has no user lookup, and libc would be a dependency for two numbers).
fn id(args: &[&str]) -> Result<u32, Unavailable> {
    let out = Command::new("id")
        .args(args)
        .stderr(Stdio::null())
        .output()
        .map_err(|e| Unavailable::new(format!("could not run `id`: {e}")))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .ok()
        .filter(|_| out.status.success())
        .ok_or_else(|| Unavailable::new(format!("`id {}` gave no number", args.join(" "))))
}

/// The directory with `initdb`, `pg_ctl` and `postgres` side by side (pg_ctl starts the
/// `postgres` beside itself, so all three must come from one installation): that of `initdb` on
/// `PATH`, through any symlink, else Debian's newest.
fn find_bin_dir() -> Result<PathBuf, Unavailable> {
    let from_path = on_path("initdb")
        .and_then(|p| p.canonicalize().ok())
        .and_then(|p| p.parent().map(Path::to_path_buf));
    from_path
        .into_iter()
        .chain(debian_bin_dirs())
        .find(|dir| {
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|program| is_executable(&dir.join(program)))
        })
        .ok_or_else(|| {
            Unavailable::new(format!(
                "no initdb (with pg_ctl and postgres beside it) on PATH or in {DEBIAN_ROOT}/*/bin \
                 (install Debian's postgresql package)"
            ))
        })
}

/// Debian's `/usr/lib/postgresql/<version>/bin`, newest version first.
fn debian_bin_dirs() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(DEBIAN_ROOT) else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let version = version(entry.file_name().to_str()?)?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// `"15"` → `[15]`, `"9.6"` → `[9, 6]`, so that 15 sorts above 9.6; other names are no version.
fn version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| is_executable(path))
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A port nothing listens on right now: the kernel picks one for a listener we close again.
fn free_port() -> Result<u16, Unavailable> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| Unavailable::new(format!("could not find a free port on 127.0.0.1: {e}")))
}

/// Runs `cmd` to completion; what it said on stderr (or stdout) is the reason when it fails.
fn run(cmd: &mut Command, what: &str) -> Result<(), Unavailable> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
        Unavailable::new(format!(
            "could not run {:?} for {what}: {e}",
            cmd.get_program()
        ))
    })?;
    if out.status.success() {
        return Ok(());
    }
    let said = if out.stderr.iter().all(u8::is_ascii_whitespace) {
        &out.stdout
    } else {
        &out.stderr
    };
    Err(Unavailable::new(format!(
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(said).trim()
    )))
}

/// `words` as one line for `sh -c`, each quoted.
fn shell_line(words: &[String]) -> String {
    words
        .iter()
        .map(|word| sh_quote(word))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word` in single quotes for sh, where only a single quote itself needs care.
fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpStream;

    #[test]
    fn newer_versions_sort_first_numerically() {
        let mut versions = vec![version("9.6"), version("15"), version("16"), version("10")];
        versions.sort_by(|a, b| b.cmp(a));
        let expected = [vec![16], vec![15], vec![10], vec![9, 6]];
        assert_eq!(versions, expected.map(Some));
        assert_eq!(version("main"), None);
        assert_eq!(version(""), None);
    }

    #[test]
    fn quoted_words_reach_the_program_unchanged() {
        let words = ["it's", "a b", "$HOME", "\"x\"", ""].map(String::from);
        let script = format!("printf '%s|' {}", shell_line(&words));
        let out = Command::new("/bin/sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "it's|a b|$HOME|\"x\"||"
        );
    }

    #[test]
    fn su_runs_one_quoted_line() {
        let argv = RunAs::PostgresViaSu.argv(Path::new("/p g/pg_ctl"), &["-D", "/d"]);
        assert_eq!(
            argv,
            [
                "su",
                "postgres",
                "-s",
                "/bin/sh",
                "-c",
                "'/p g/pg_ctl' '-D' '/d'"
            ]
        );
        let argv = RunAs::PostgresViaRunuser.argv(Path::new("/bin/initdb"), &["-D", "/d"]);
        assert_eq!(
            argv,
            ["runuser", "-u", "postgres", "--", "/bin/initdb", "-D", "/d"]
        );
    }

    #[test]
    fn dropping_a_cluster_stops_its_server_and_removes_its_directory() {
        let cluster = match Cluster::start() {
            Ok(cluster) => cluster,
            Err(why) => return skip("dropping_a_cluster_stops_its_server", &why),
        };
        let (dir, port) = (cluster.dir.clone(), cluster.port());
        assert!(dir.join("data").is_dir());
        assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
        drop(cluster);
        assert!(!dir.exists(), "{} is left behind", dir.display());
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    }
}
