//! Which backend the suite runs on.
//!
//! By default every test's log is the SQLite log in its data directory. With
//! `LOBBYWATCH_TEST_BACKEND=postgres` the same tests run on PostgreSQL: each data directory stands
//! for a fresh database in one throwaway cluster the suite starts itself (`lobbywatch-scratch-pg`),
//! and the same directory always means the same database — so a test that restarts the service
//! on its log restarts it on its database. `.ci/run` runs the suite both ways. A test of the
//! SQLite file itself (its WAL, its marker, its page quota) says so with [`sqlite_only`] and is
//! left out on PostgreSQL, with a printed line saying why.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lobbywatch::config::DatabaseUrl;
use lobbywatch::store::Storage;

/// Set to `postgres` to run the suite on PostgreSQL.
pub const BACKEND_VAR: &str = "LOBBYWATCH_TEST_BACKEND";

/// Whether this run of the suite is on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(BACKEND_VAR).is_ok_and(|v| v == "postgres")
}

/// Where the log for `data` lives on this run's backend.
pub fn storage_for(data: &Path) -> Storage {
    if on_postgres() {
        Storage::Postgres(
            DatabaseUrl::parse(&database_url(data)).expect("the cluster's URL parses"),
        )
    } else {
        Storage::Dir(data.to_owned())
    }
}

/// The URL of the database standing for `data`, created the first time it is asked for.
pub fn database_url(data: &Path) -> String {
    static DATABASES: Mutex<BTreeMap<PathBuf, String>> = Mutex::new(BTreeMap::new());
    let mut databases = DATABASES.lock().unwrap_or_else(|e| e.into_inner());
    databases
        .entry(data.to_owned())
        .or_insert_with(fresh_database)
        .clone()
}

/// A fresh, empty database in the suite's cluster.
pub fn fresh_database() -> String {
    scratch_pg::shared()
        .unwrap_or_else(|e| panic!("{BACKEND_VAR}=postgres, but no PostgreSQL to run on: {e}"))
        .create_database()
}

/// `--database URL` for a `serve` command on this run's backend, nothing on SQLite (whose
/// `--data` the test passes anyway).
pub fn database_args(data: &Path) -> Vec<String> {
    if on_postgres() {
        vec!["--database".into(), database_url(data)]
    } else {
        Vec::new()
    }
}

/// For a test of the SQLite file itself: `true` — and a line saying why — when this run is on
/// PostgreSQL, where the test does not apply (the caller returns).
pub fn sqlite_only(test: &str) -> bool {
    if on_postgres() {
        eprintln!("not run on postgres: {test} tests the SQLite log's own file");
    }
    on_postgres()
}

/// Runs `sql` on the log standing for `data` (a stopped server's): SQLite's file, or its database.
/// Plain SQL both understand.
pub fn log_execute(data: &Path, sql: &str) {
    log_query(data, sql);
}

/// The rows `sql` reads from the log standing for `data`, each column as text.
pub fn log_query(data: &Path, sql: &str) -> Vec<Vec<String>> {
    if on_postgres() {
        return psql(&database_url(data), sql);
    }
    let conn = rusqlite::Connection::open(data.join(lobbywatch::store::DB_FILE)).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let columns = stmt.column_count();
    stmt.query_map([], |row| {
        (0..columns)
            .map(|i| {
                Ok(match row.get::<_, rusqlite::types::Value>(i)? {
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    other => format!("{other:?}"),
                })
            })
            .collect()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Runs `sql` on the database at `url` with the suite's cluster's `psql`: unaligned rows,
/// columns split on a unit separator.
pub fn psql(url: &str, sql: &str) -> Vec<Vec<String>> {
    let cluster = scratch_pg::shared().expect("the suite's cluster runs");
    let out = std::process::Command::new(cluster.bin_dir().join("psql"))
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-F",
            "\u{1f}",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| line.split('\u{1f}').map(str::to_owned).collect())
        .collect()
}

/// How many events of `kind` the log standing for `data` holds for `station` (a stopped server's).
pub fn logged_count(data: &Path, station: &str, kind: &str) -> u64 {
    let rows = log_query(
        data,
        &format!("SELECT COUNT(*) FROM events WHERE station = '{station}' AND kind = '{kind}'"),
    );
    rows[0][0].parse().expect("a count")
}
