//! Several identical instances on one PostgreSQL database, and what they promise together:
//!
//! * each names itself and its backend in `/healthz`;
//! * the cap holds, and no ticket is called twice, whichever instance each desk talks to; a
//!   station's log runs forward in time even when the instances' clocks disagree;
//! * what one instance commits reaches the sockets of every other: events, revocations (the
//!   device's sockets close everywhere), rule changes;
//! * an Idempotency-Key has one effect across instances, and its answer is the same bytes;
//! * what the clock alone brings about (the day's close-out) is written once, however many
//!   instances decide it;
//! * instances starting together migrate an empty database once; a newer schema is refused;
//! * instances killed at random, or the database stopped under load, lose no acknowledged event
//!   and invent none.
//!
//! Every test runs against a real PostgreSQL (`scratch_pg`: the suite's throwaway cluster, or a
//! private one for the test that stops it) on a database of its own, whatever
//! `LOBBYWATCH_TEST_BACKEND` says; without PostgreSQL each is skipped with a line saying so (a
//! failure when `LOBBYWATCH_REQUIRE_POSTGRES=1`). Timings are printed, never asserted: timing
//! targets belong to the bench.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use futures_util::future::join_all;
use lobbywatch::AppState;
use lobbywatch::audit::{Acknowledged, audit};
use lobbywatch::clock::Clock;
use lobbywatch::config::{Config, DatabaseUrl};
use lobbywatch::domain::Recorded;
use lobbywatch::state::StartOptions;
use lobbywatch::store::postgres::{OpenLog, SCHEMA_VERSION};
use lobbywatch::store::{Storage, StoreOptions};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;

use crate::backend::psql;
use crate::crash::{Acked, TERMINALS, assert_shows_replay, crash_config_toml, replayed, terminal};
use crate::helpers::{
    ServerProcess, TestApp, Ws, check_in, close_code, event_request, find, fresh_data, next_doc,
    oslo_time, status_at, test_config, write_config,
};
use crate::operations::wednesday_config;

/// How long instances may take to agree after a change: a notification and a read, normally
/// milliseconds; generous for a loaded machine.
const CONVERGE_WITHIN: Duration = Duration::from_secs(10);

// ---- helpers ------------------------------------------------------------------------------------

/// `url` as the service's storage.
fn postgres(url: &str) -> Storage {
    Storage::Postgres(DatabaseUrl::parse(url).expect("the cluster's URL parses"))
}

/// In-process instances named `names`, on the database at `url`, with the test config.
async fn instances(url: &str, names: &[&str]) -> Vec<TestApp> {
    instances_with(url, names, &test_config(), &Clock::system()).await
}

/// In-process instances named `names`, on the database at `url`, with `config`, all reading
/// `clock` (one clock: moving it moves every instance's time).
async fn instances_with(url: &str, names: &[&str], config: &Config, clock: &Clock) -> Vec<TestApp> {
    let mut apps = Vec::new();
    for name in names {
        let start = StartOptions {
            store: StoreOptions::default(),
            clock: clock.clone(),
            web_dir: None,
            instance: Some((*name).to_owned()),
        };
        apps.push(TestApp::spawn_started(config.clone(), postgres(url), fresh_data(), start).await);
    }
    apps
}

fn bases(apps: &[TestApp]) -> Vec<String> {
    apps.iter().map(|app| app.base.clone()).collect()
}

/// Polls `station`'s status on every instance at `bases` until each shows `seq`: their
/// documents. Panics, naming the laggards, after [`CONVERGE_WITHIN`].
async fn converged(bases: &[String], station: &str, seq: u64) -> Vec<Value> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + CONVERGE_WITHIN;
    loop {
        let docs = join_all(bases.iter().map(|base| status_at(&client, base, station))).await;
        if docs.iter().all(|doc| doc["seq"] == seq) {
            return docs;
        }
        let seen: Vec<&Value> = docs.iter().map(|doc| &doc["seq"]).collect();
        assert!(
            Instant::now() < deadline,
            "{station}: the instances show seqs {seen:?}, not all {seq}, after {CONVERGE_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A live socket on `station` at `app`, its token passed as browsers do; the first document
/// (the snapshot) is read and returned with it.
async fn live_socket(app: &TestApp, station: &str, token: &str) -> (Ws, Value) {
    let path = format!("/api/v1/stations/{station}/live?access_token={token}");
    let (mut ws, _) = connect_async(app.ws_url(&path)).await.unwrap();
    let first = next_doc(&mut ws).await;
    (ws, first)
}

/// Reads documents from `ws` until one is `wanted`; panics after `within`.
async fn doc_where(ws: &mut Ws, within: Duration, wanted: impl Fn(&Value) -> bool) -> Value {
    tokio::time::timeout(within, async {
        loop {
            let doc = next_doc(ws).await;
            if wanted(&doc) {
                return doc;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no such document within {within:?}"))
}

/// `PUT /api/v1/rules` at `app` as the admin.
async fn put_rules(app: &TestApp, body: &Value) -> (u16, Value) {
    let r = app
        .client
        .put(app.url("/api/v1/rules"))
        .bearer_auth("admin-token")
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// `stations`' events in the log at `url`, read as start-up reads them.
async fn read_log<'a>(
    url: &str,
    stations: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<String, Vec<Recorded>> {
    let log = OpenLog::open(&DatabaseUrl::parse(url).unwrap(), StoreOptions::default())
        .await
        .expect("the log opens");
    let mut events = BTreeMap::new();
    for station in stations {
        events.insert(
            station.to_owned(),
            log.events_after(station, 0).await.unwrap(),
        );
    }
    events
}

/// The number of `kind` events of `station` in the log at `url`.
fn count_events(url: &str, station: &str, kind: &str) -> usize {
    let sql =
        format!("SELECT count(*) FROM events WHERE station = '{station}' AND kind = '{kind}'");
    psql(url, &sql)[0][0].parse().unwrap()
}

/// After load: waits until every instance at `bases` shows each of the terminals' stations at
/// its last logged seq, then proves the log against `acked` (every acknowledged event exactly
/// once at its seq, no holes, nothing unacknowledged) and each instance's documents against a
/// pure replay of the log.
async fn assert_log_and_instances_agree(
    url: &str,
    config: &Config,
    bases: &[String],
    acked: &[Acked],
) {
    let stations = TERMINALS.map(|(station, _)| station);
    // Read after the instances agree: the clock may log a service event meanwhile.
    let (log, shown) = loop {
        let log = read_log(url, stations).await;
        let mut shown = BTreeMap::new();
        for station in stations {
            let head = log[station].last().map_or(0, |r| r.seq);
            shown.insert(station, converged(bases, station, head).await);
        }
        if read_log(url, stations).await == log {
            break (log, shown);
        }
    };
    let acknowledged: Vec<Acknowledged<'_>> = acked.iter().map(Acked::acknowledged).collect();
    let found = audit(&log, stations, &acknowledged).unwrap();
    assert!(
        found.is_clean(),
        "the log disagrees with the acknowledgements: {found:#?}"
    );
    for station in stations {
        let replay = replayed(config, station, &log[station]);
        for doc in &shown[station] {
            assert_shows_replay(doc, &replay, station);
        }
    }
}

/// `lobbywatch serve` for the instance `name` on `listen`, with the config file `config` and the
/// data directory `data`; where its log is, the caller says.
fn serve_command(config: &Path, data: &Path, name: &str, listen: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lobbywatch"));
    command
        .args(["serve", "--listen", listen, "--instance", name, "--config"])
        .arg(config)
        .arg("--data")
        .arg(data);
    command
}

/// The instance `name`, a child process, on the database at `url`.
fn start_instance(
    config: &Path,
    data: &Path,
    url: &str,
    name: &str,
    listen: &str,
) -> ServerProcess {
    let mut command = serve_command(config, data, name, listen);
    // Frequent snapshots: a restarted instance starts from one another instance wrote.
    command.args(["--database", url, "--snapshot-every", "25"]);
    ServerProcess::spawn(command)
}

// ---- health -------------------------------------------------------------------------------------

#[tokio::test]
async fn several_instances_report_their_backend_and_name() {
    let Some(cluster) =
        scratch_pg::require_or_skip("several_instances_report_their_backend_and_name")
    else {
        return;
    };
    let url = cluster.create_database();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    // One told of its database by --database, the other by the environment.
    let a = start_instance(&config, &dir.path().join("a"), &url, "a", "127.0.0.1:0");
    let mut command = serve_command(&config, &dir.path().join("b"), "b", "127.0.0.1:0");
    command.env("LOBBYWATCH_DATABASE_URL", &url);
    let b = ServerProcess::spawn(command);

    let client = reqwest::Client::new();
    for (name, server) in [("a", &a), ("b", &b)] {
        let r = client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let health: Value = r.json().await.unwrap();
        assert_eq!(health["status"], "ok", "{health}");
        assert_eq!(health["instance"], name, "{health}");
        assert_eq!(health["backend"], "postgres", "{health}");
        assert_eq!(health["database"], "reachable", "{health}");
    }
    // One database: a check-in through a is counted by b.
    let r = event_request(
        &client,
        &a.base,
        "small-desk-token",
        "small",
        "h-1",
        &check_in("passport"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    converged(&[a.base.clone(), b.base.clone()], "small", 1).await;
}

/// A password in the database URL goes to PostgreSQL and nowhere else: not into the log at
/// `debug`, not into the start-up line, not into the error of a start that cannot connect.
#[tokio::test]
async fn the_database_password_never_reaches_the_log() {
    let Some(cluster) = scratch_pg::require_or_skip("the_database_password_never_reaches_the_log")
    else {
        return;
    };
    const SECRET: &str = "s3cret-pw-4f9a";
    let url = cluster.create_database();
    let with_password = url.replacen("postgres@", &format!("postgres:{SECRET}@"), 1);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let log_path = dir.path().join("server.log");
    let mut command = serve_command(&config, &dir.path().join("a"), "a", "127.0.0.1:0");
    command.args(["--database", &with_password]);
    let log = std::fs::File::create(&log_path).unwrap();
    let server = ServerProcess::spawn_logging(command, "debug", std::process::Stdio::from(log));
    let r = event_request(
        &reqwest::Client::new(),
        &server.base,
        "small-desk-token",
        "small",
        "pw-1",
        &check_in("passport"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    server.stop();
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        !logged.contains(SECRET),
        "the password was logged:\n{logged}"
    );
    assert!(
        logged.contains(&url),
        "the start-up line names the database, redacted:\n{logged}"
    );

    // Nothing listens on port 1: the start fails, and says where without the password.
    let out = serve_command(&config, &dir.path().join("b"), "b", "127.0.0.1:0")
        .args([
            "--database",
            &format!("postgres://clerk:{SECRET}@127.0.0.1:1/lobby"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!said.contains(SECRET), "{said}");
    assert!(
        said.contains("postgres://clerk@127.0.0.1:1/lobby"),
        "{said}"
    );
}

// ---- the station's order across instances -------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_ins_at_the_cap_spread_over_instances_never_exceed_it() {
    let Some(cluster) =
        scratch_pg::require_or_skip("check_ins_at_the_cap_spread_over_instances_never_exceed_it")
    else {
        return;
    };
    let apps = instances(&cluster.create_database(), &["a", "b", "c"]).await;
    let cap = apps[0].status("small").await["cap"].as_u64().unwrap();
    assert_eq!(cap, 3);
    let n = 10 * cap;
    // All at once, round-robin over the instances.
    let answers = join_all((0..n).map(|i| {
        let app = &apps[i as usize % apps.len()];
        async move {
            app.post_event_json(
                "small-desk",
                "small",
                &format!("c-{i}"),
                &check_in("passport"),
            )
            .await
        }
    }))
    .await;

    let mut inside = 0;
    let mut positions = Vec::new();
    let mut tickets = Vec::new();
    let mut seqs = Vec::new();
    for (status, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        assert!(body["headcount"].as_u64().unwrap() <= cap, "{body}");
        tickets.push(body["ticket"].as_str().unwrap().to_owned());
        seqs.push(body["seq"].as_u64().unwrap());
        match body["state"].as_str().unwrap() {
            "inside" => inside += 1,
            "outside" => positions.push(body["position"].as_u64().unwrap()),
            other => panic!("state {other}"),
        }
    }
    assert_eq!(inside, cap, "exactly the cap got in");
    positions.sort_unstable();
    assert_eq!(
        positions,
        (1..=n - cap).collect::<Vec<_>>(),
        "each queue position once"
    );
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "each seq once");
    tickets.sort();
    tickets.dedup();
    assert_eq!(tickets.len(), n as usize, "every ticket is unique");
    for doc in converged(&bases(&apps), "small", n).await {
        assert_eq!(doc["headcount"], cap);
        assert_eq!(doc["outside_total"], n - cap);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_spread_over_instances_never_share_a_ticket() {
    let Some(cluster) =
        scratch_pg::require_or_skip("calls_spread_over_instances_never_share_a_ticket")
    else {
        return;
    };
    let apps = instances(&cluster.create_database(), &["a", "b", "c"]).await;
    let waiting = 12;
    apps[0]
        .check_in_passports("big-desk", "big", "in-", waiting)
        .await;
    // More desks than tickets, each through the next instance, all at once.
    let desks = waiting + 3;
    let answers = join_all((0..desks).map(|desk| {
        let app = &apps[desk % apps.len()];
        async move {
            let call = json!({"kind": "call", "desk": format!("d{desk}")});
            app.post_event_json("big-desk", "big", &format!("call-{desk}"), &call)
                .await
        }
    }))
    .await;

    let mut called: Vec<String> = Vec::new();
    let mut nobody = 0;
    for (status, body) in &answers {
        match status {
            201 => called.push(body["ticket"].as_str().unwrap().to_owned()),
            409 if body["type"] == "/problems/nothing-to-call" => nobody += 1,
            _ => panic!("{status}: {body}"),
        }
    }
    called.sort();
    let expected: Vec<String> = (1..=waiting).map(|i| format!("P{i:03}")).collect();
    assert_eq!(called, expected, "every waiting ticket called exactly once");
    assert_eq!(nobody, desks - waiting, "the other desks found nobody");
    converged(&bases(&apps), "big", (2 * waiting) as u64).await;
}

#[tokio::test]
async fn a_station_log_runs_forward_in_time_though_the_instances_clocks_disagree() {
    let Some(cluster) = scratch_pg::require_or_skip(
        "a_station_log_runs_forward_in_time_though_the_instances_clocks_disagree",
    ) else {
        return;
    };
    let url = cluster.create_database();
    let ahead = Clock::starting_at(chrono::Utc::now() + TimeDelta::minutes(10));
    let mut apps = instances_with(&url, &["ahead"], &test_config(), &ahead).await;
    apps.extend(instances_with(&url, &["behind"], &test_config(), &Clock::system()).await);
    for i in 0..6 {
        let app = &apps[i % apps.len()];
        let (status, _) = app
            .post_event_json(
                "small-desk",
                "small",
                &format!("t-{i}"),
                &check_in("passport"),
            )
            .await;
        assert_eq!(status, 201);
    }
    // Through the instance behind too, the service's own events.
    let (status, answer) = put_rules(&apps[1], &json!({"distancing_m": 3.0})).await;
    assert_eq!(status, 200, "{answer}");
    let stamps: Vec<i64> = psql(
        &url,
        "SELECT at_us FROM events WHERE station = 'small' ORDER BY seq",
    )
    .into_iter()
    .map(|row| row[0].parse().unwrap())
    .collect();
    assert_eq!(stamps.len(), 7);
    assert!(
        stamps.is_sorted(),
        "each event is stamped no earlier than the one before it: {stamps:?}"
    );
}

// ---- changes reach every instance's sockets -----------------------------------------------------

#[tokio::test]
async fn a_check_in_on_one_instance_reaches_a_socket_on_another() {
    let Some(cluster) =
        scratch_pg::require_or_skip("a_check_in_on_one_instance_reaches_a_socket_on_another")
    else {
        return;
    };
    let apps = instances(&cluster.create_database(), &["a", "b"]).await;
    let (mut on_b, first) = live_socket(&apps[1], "small", "oslo-guard-token").await;
    assert_eq!(first["seq"], 0);
    let mut latencies = Vec::new();
    for seq in 1..=3u64 {
        let sent = Instant::now();
        let (status, _) = apps[0]
            .post_event_json(
                "small-desk",
                "small",
                &format!("l-{seq}"),
                &check_in("passport"),
            )
            .await;
        assert_eq!(status, 201);
        let doc = doc_where(&mut on_b, Duration::from_secs(5), |d| d["seq"] == seq).await;
        latencies.push(sent.elapsed());
        assert_eq!(doc["headcount"], seq);
        assert_eq!(doc["inside_total"], seq);
    }
    eprintln!("a check-in posted to instance a reached a socket on b after {latencies:?}");
}

/// An event committed by an instance that died before announcing it (here: written straight into
/// the log, as such an instance would have left it) still reaches the others: they read every
/// station's head once a second.
#[tokio::test]
async fn an_event_whose_announcement_was_lost_reaches_every_instance_within_seconds() {
    let Some(cluster) = scratch_pg::require_or_skip(
        "an_event_whose_announcement_was_lost_reaches_every_instance_within_seconds",
    ) else {
        return;
    };
    let url = cluster.create_database();
    let apps = instances(&url, &["a", "b"]).await;
    let (mut on_b, first) = live_socket(&apps[1], "small", "oslo-guard-token").await;
    assert_eq!(first["seq"], 0);
    psql(
        &url,
        r#"INSERT INTO events(station, seq, at_us, device, kind, body)
           VALUES ('small', 1, (extract(epoch FROM now()) * 1000000)::bigint, 'small-desk',
                   'check_in', '{"kind":"check_in","service":"passport","party_size":1}')"#,
    );
    let doc = doc_where(&mut on_b, Duration::from_secs(5), |d| d["seq"] == 1).await;
    assert_eq!(doc["headcount"], 1);
    converged(&bases(&apps), "small", 1).await;
}

#[tokio::test]
async fn a_revocation_closes_the_device_socket_on_every_instance() {
    let Some(cluster) =
        scratch_pg::require_or_skip("a_revocation_closes_the_device_socket_on_every_instance")
    else {
        return;
    };
    let apps = instances(&cluster.create_database(), &["a", "b", "c"]).await;
    let mut revoked = Vec::new();
    for app in &apps {
        revoked.push(live_socket(app, "small", "oslo-guard-token").await.0);
    }
    let (mut other_device, _) = live_socket(&apps[1], "small", "all-guard-token").await;

    let r = apps[0]
        .client
        .post(apps[0].url("/api/v1/devices/oslo-guard/revoke"))
        .bearer_auth("admin-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["revoked_tokens"], 1, "{answer}");
    assert_eq!(answer["closed_sockets"], 1, "a counts its own: {answer}");

    for (ws, app) in revoked.iter_mut().zip(&apps) {
        assert_eq!(close_code(ws).await, Some(4401), "{}", app.state.instance);
        // The socket closes after the tokens stop working there.
        let (status, _) = app
            .get_as("/api/v1/stations/small", Some("oslo-guard-token"))
            .await;
        assert_eq!(status, 401, "{}", app.state.instance);
        let (status, _) = app
            .post_event_json("oslo-guard", "small", "after", &check_in("passport"))
            .await;
        assert_eq!(status, 401, "{}", app.state.instance);
    }
    // Another device's socket stays open and current.
    let (status, _) = apps[2]
        .post_event_json("small-desk", "small", "k", &check_in("passport"))
        .await;
    assert_eq!(status, 201);
    doc_where(&mut other_device, Duration::from_secs(5), |d| d["seq"] == 1).await;
}

#[tokio::test]
async fn a_rule_change_is_pushed_by_every_instance() {
    let Some(cluster) = scratch_pg::require_or_skip("a_rule_change_is_pushed_by_every_instance")
    else {
        return;
    };
    let apps = instances(&cluster.create_database(), &["a", "b", "c"]).await;
    let mut sockets = Vec::new();
    for app in &apps[1..] {
        let (ws, first) = live_socket(app, "small", "oslo-guard-token").await;
        assert_eq!(first["cap"], 3);
        sockets.push(ws);
    }
    // 3 m in Oslo: the small room (12 m²) holds one person.
    let (status, answer) =
        put_rules(&apps[0], &json!({"distancing_m": 3.0, "district": "oslo"})).await;
    assert_eq!(status, 200, "{answer}");
    let seq = find(&answer["stations"], "station", "small")["seq"].clone();
    assert_eq!(seq, 1, "{answer}");
    for (ws, app) in sockets.iter_mut().zip(&apps[1..]) {
        let doc = doc_where(ws, Duration::from_secs(5), |d| d["seq"] == seq).await;
        assert_eq!(doc["cap"], 1, "{}", app.state.instance);
        assert_eq!(
            doc["cap_basis"]["distancing_m"], 3.0,
            "{}",
            app.state.instance
        );
    }
    // Bergen, in another district, keeps its rule everywhere.
    for doc in converged(&bases(&apps), "bergen", 0).await {
        assert_eq!(doc["cap_basis"]["distancing_m"], 2.0);
    }
}

// ---- idempotency across instances ---------------------------------------------------------------

#[tokio::test]
async fn a_retry_to_another_instance_replays_byte_for_byte() {
    let Some(cluster) =
        scratch_pg::require_or_skip("a_retry_to_another_instance_replays_byte_for_byte")
    else {
        return;
    };
    let apps = instances(&cluster.create_database(), &["a", "b"]).await;
    // Answered by a: a check-in, and a check-out of a ticket that does not exist yet.
    let check_out = json!({"kind": "check_out", "ticket": "P002"});
    let mut first = Vec::new();
    for (key, body, expected) in [
        ("retry-in", check_in("passport"), 201),
        ("retry-out", check_out.clone(), 404),
    ] {
        let r = apps[0].post_event("small-desk", "small", key, &body).await;
        assert_eq!(r.status(), expected, "{key}");
        assert!(r.headers().get("idempotent-replayed").is_none());
        first.push((key, body, expected, r.bytes().await.unwrap()));
    }
    // P002 exists now; the refusal stands all the same.
    apps[0]
        .post_events("small-desk", "small", [("p002", check_in("passport"))])
        .await;
    // Retried at b: the same answers, byte for byte, and no second effect.
    for (key, body, expected, bytes) in first {
        let again = apps[1].post_event("small-desk", "small", key, &body).await;
        assert_eq!(again.status(), expected, "{key}");
        assert_eq!(again.headers()["idempotent-replayed"], "true", "{key}");
        assert_eq!(again.bytes().await.unwrap(), bytes, "{key}");
    }
    // Another request under a key answered elsewhere is refused, as on one instance.
    let (status, problem) = apps[1]
        .post_event_json("small-desk", "small", "retry-in", &check_in("residence"))
        .await;
    assert_eq!(status, 422);
    assert_eq!(problem["type"], "/problems/idempotency-key-reused");
    // One effect each: P001 and P002 inside.
    for doc in converged(&bases(&apps), "small", 2).await {
        assert_eq!(doc["headcount"], 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_sent_to_two_instances_at_once_has_one_effect() {
    let Some(cluster) =
        scratch_pg::require_or_skip("the_same_key_sent_to_two_instances_at_once_has_one_effect")
    else {
        return;
    };
    let url = cluster.create_database();
    let apps = instances(&url, &["a", "b"]).await;
    let rounds = 10u64;
    for round in 0..rounds {
        let key = format!("twice-{round}");
        let body = check_in("passport");
        let (a, b) = tokio::join!(
            apps[0].post_event("small-desk", "small", &key, &body),
            apps[1].post_event("small-desk", "small", &key, &body),
        );
        // One instance commits; the other finds the key taken and replays the stored answer.
        assert_eq!(
            (a.status().as_u16(), b.status().as_u16()),
            (201, 201),
            "{key}"
        );
        let replayed = [&a, &b].map(|r| r.headers().get("idempotent-replayed").is_some());
        assert_eq!(
            replayed.iter().filter(|r| !**r).count(),
            1,
            "{key}: exactly one answer is the original ({replayed:?})"
        );
        let (a, b) = (a.bytes().await.unwrap(), b.bytes().await.unwrap());
        assert_eq!(a, b, "{key}");
        let answer: Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(answer["seq"], round + 1, "{key}");
    }
    converged(&bases(&apps), "small", rounds).await;
    assert_eq!(count_events(&url, "small", "check_in"), rounds as usize);
    let stored = psql(&url, "SELECT count(*) FROM idempotency");
    assert_eq!(stored[0][0], rounds.to_string());
}

// ---- the clock's events -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_events_are_written_once_whatever_the_number_of_instances() {
    let Some(cluster) = scratch_pg::require_or_skip(
        "service_events_are_written_once_whatever_the_number_of_instances",
    ) else {
        return;
    };
    let url = cluster.create_database();
    // Wednesday 25 November 2026, 14:00 in Oslo; "wed" closes at 15:00.
    let clock = Clock::starting_at(oslo_time(2026, 11, 25, 14));
    let apps = instances_with(&url, &["a", "b", "c"], &wednesday_config(), &clock).await;
    apps[0].check_in_passports("wed-desk", "wed", "c", 2).await;
    converged(&bases(&apps), "wed", 2).await;
    // 15:31: closed, grace period over; every instance decides the close-out at once, twice.
    clock.advance(TimeDelta::minutes(91));
    for _ in 0..2 {
        join_all(
            apps.iter()
                .map(|app| lobbywatch::ticker::log_due_events(&app.state)),
        )
        .await;
    }
    assert_eq!(
        count_events(&url, "wed", "close_out"),
        1,
        "three instances decided the close-out; one wrote it"
    );
    let kinds: Vec<String> = psql(
        &url,
        "SELECT kind FROM events WHERE station = 'wed' ORDER BY seq",
    )
    .into_iter()
    .map(|row| row[0].clone())
    .collect();
    assert_eq!(kinds, ["check_in", "check_in", "close_out"]);
    for doc in converged(&bases(&apps), "wed", 3).await {
        assert_eq!(doc["headcount"], 0);
    }
}

// ---- the schema ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_newer_schema_is_refused_with_a_clear_error() {
    let Some(cluster) = scratch_pg::require_or_skip("a_newer_schema_is_refused_with_a_clear_error")
    else {
        return;
    };
    let url = cluster.create_database();
    OpenLog::open(&DatabaseUrl::parse(&url).unwrap(), StoreOptions::default())
        .await
        .expect("an empty database is migrated");
    psql(
        &url,
        "INSERT INTO lobbywatch_schema(version, applied_us) VALUES (99, 0)",
    );
    let opened = AppState::open(test_config(), &postgres(&url), StartOptions::default()).await;
    let Err(refused) = opened else {
        panic!("a database at schema version 99 was opened");
    };
    let message = format!("{refused:#}");
    assert!(
        message.contains("schema is version 99")
            && message.contains(&format!("(version {SCHEMA_VERSION})")),
        "{message}"
    );
    // Nothing was changed by the refusal.
    let versions = psql(&url, "SELECT max(version) FROM lobbywatch_schema");
    assert_eq!(versions[0][0], "99");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_on_an_empty_database_migrate_it_once() {
    let Some(cluster) = scratch_pg::require_or_skip(
        "instances_starting_together_on_an_empty_database_migrate_it_once",
    ) else {
        return;
    };
    // A few empty databases, three instances racing on each.
    for _ in 0..3 {
        let url = cluster.create_database();
        let storage = postgres(&url);
        let opened = join_all(
            (0..3).map(|_| AppState::open(test_config(), &storage, StartOptions::default())),
        )
        .await;
        for state in opened {
            if let Err(e) = state {
                panic!("an instance starting with others failed: {e:#}");
            }
        }
        let versions: Vec<String> = psql(&url, "SELECT version FROM lobbywatch_schema ORDER BY 1")
            .into_iter()
            .map(|row| row[0].clone())
            .collect();
        let expected: Vec<String> = (1..=SCHEMA_VERSION).map(|v| v.to_string()).collect();
        assert_eq!(versions, expected);
        assert_eq!(psql(&url, "SELECT count(*) FROM meta")[0][0], "1");
    }
}

// ---- failures under load ------------------------------------------------------------------------

/// The config file of the crash tests (a rate limit no terminal reaches), in `dir`.
fn crash_config_file(dir: &Path) -> PathBuf {
    let path = dir.join("crash.toml");
    std::fs::write(&path, crash_config_toml()).unwrap();
    path
}

/// Two terminals per station, each sending its events round-robin over `bases` and retrying
/// an unanswered one, under the same key, at the next instance.
fn start_terminals(
    bases: &[String],
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<Acked>>> {
    let bases: Arc<[String]> = bases.into();
    (0..2 * TERMINALS.len())
        .map(|i| {
            let (station, token) = TERMINALS[i % TERMINALS.len()];
            tokio::spawn(terminal(
                bases.clone(),
                station,
                token,
                i as u64,
                stop.clone(),
            ))
        })
        .collect()
}

/// Stops the terminals once each has its current event answered: every acknowledgement given.
async fn stop_terminals(
    stop: &AtomicBool,
    terminals: Vec<tokio::task::JoinHandle<Vec<Acked>>>,
) -> Vec<Acked> {
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for t in terminals {
        acked.extend(t.await.unwrap());
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_killed_at_random_lose_nothing_and_invent_nothing() {
    let Some(cluster) = scratch_pg::require_or_skip(
        "three_instances_killed_at_random_lose_nothing_and_invent_nothing",
    ) else {
        return;
    };
    let kills: usize = std::env::var("LOBBYWATCH_INSTANCE_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(8);
    let url = cluster.create_database();
    let dir = tempfile::tempdir().unwrap();
    let config_path = crash_config_file(dir.path());
    let names = ["n1", "n2", "n3"];
    let data = |name: &str| dir.path().join(name);
    let mut servers: Vec<Option<ServerProcess>> = names
        .iter()
        .map(|name| {
            Some(start_instance(
                &config_path,
                &data(name),
                &url,
                name,
                "127.0.0.1:0",
            ))
        })
        .collect();
    // A restarted instance listens where it did, so the terminals find it again.
    let bases: Vec<String> = servers.iter().flatten().map(|s| s.base.clone()).collect();

    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let terminals = start_terminals(&bases, &stop);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed_0003);
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(rng.random_range(800..2500))).await;
        let victim = rng.random_range(0..names.len());
        let listen = bases[victim].trim_start_matches("http://").to_owned();
        tokio::task::block_in_place(|| {
            servers[victim].take().unwrap().kill9();
            servers[victim] = Some(start_instance(
                &config_path,
                &data(names[victim]),
                &url,
                names[victim],
                &listen,
            ));
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let acked = stop_terminals(&stop, terminals).await;
    let loaded = started.elapsed();
    assert!(
        acked.len() > 10 * kills,
        "the terminals worked ({} acknowledged)",
        acked.len()
    );

    let config = Config::load(&config_path).unwrap();
    assert_log_and_instances_agree(&url, &config, &bases, &acked).await;
    // Restarts started from snapshots (every 25 events), not only from the first event.
    let snapshots = psql(&url, "SELECT count(*) FROM snapshots WHERE seq > 0");
    assert_eq!(snapshots[0][0], TERMINALS.len().to_string());
    eprintln!(
        "three instances, {kills} kills in {loaded:.1?}: {} acknowledged events, all in the log exactly once; every instance shows the replay",
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_under_load_recovers_by_itself() {
    let test = "postgres_stopped_and_started_under_load_recovers_by_itself";
    if scratch_pg::require_or_skip(test).is_none() {
        return;
    }
    // A cluster of its own: stopping the suite's would stop every other test's database.
    let cluster = scratch_pg::Cluster::start().expect("a private cluster starts");
    let url = cluster.create_database();
    let config = Config::parse(&crash_config_toml(), "crash.toml").unwrap();
    let apps = instances_with(&url, &["a", "b"], &config, &Clock::system()).await;
    let stop = Arc::new(AtomicBool::new(false));
    let terminals = start_terminals(&bases(&apps), &stop);
    tokio::time::sleep(Duration::from_millis(1000)).await;

    tokio::task::block_in_place(|| cluster.stop());
    let stopped = Instant::now();
    // Events are refused, and say why; nothing is recorded.
    for (i, app) in apps.iter().enumerate() {
        let r = app
            .post_event(
                "small-desk",
                "small",
                &format!("down-{i}"),
                &check_in("passport"),
            )
            .await;
        assert_eq!(r.status(), 503, "{}", app.state.instance);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/unavailable", "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("database"),
            "{problem}"
        );
    }
    // Reads answer with the last known state, which stands still.
    for app in &apps {
        let (status, before) = app
            .get_as("/api/v1/stations/big", Some("all-guard-token"))
            .await;
        assert_eq!(status, 200);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (status, after) = app
            .get_as("/api/v1/stations/big", Some("all-guard-token"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(before["seq"], after["seq"]);
        assert!(before["seq"].as_u64().unwrap() > 0, "the load ran");
    }
    // The health check says so, for the load balancer.
    for app in &apps {
        let deadline = Instant::now() + Duration::from_secs(5);
        let health = loop {
            let (status, health) = app.get_as("/healthz", None).await;
            if status == 503 {
                break health;
            }
            assert!(
                Instant::now() < deadline,
                "{}: {health}",
                app.state.instance
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(health["database"], "unreachable", "{health}");
        assert_eq!(health["status"], "failing", "{health}");
    }
    // Down long enough for every terminal to be refused again and again meanwhile.
    tokio::time::sleep(Duration::from_secs(2).saturating_sub(stopped.elapsed())).await;
    let down_for = stopped.elapsed();

    tokio::task::block_in_place(|| cluster.start_again());
    let restarted = Instant::now();
    // Both instances take events again, without a restart.
    let mut acked = Vec::new();
    let mut recovered = Vec::new();
    for (i, app) in apps.iter().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(10);
        let key = format!("up-{i}");
        let answer = loop {
            let (status, answer) = app
                .post_event_json("big-desk", "big", &key, &check_in("passport"))
                .await;
            if status == 201 {
                break answer;
            }
            assert_eq!(status, 503, "{answer}");
            assert!(
                Instant::now() < deadline,
                "{}: {answer}",
                app.state.instance
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        recovered.push(restarted.elapsed());
        acked.push(Acked {
            station: "big",
            kind: "check_in".to_owned(),
            seq: answer["seq"].as_u64().unwrap(),
        });
        let (status, health) = app.get_as("/healthz", None).await;
        assert_eq!(status, 200, "{health}");
        assert_eq!(health["database"], "reachable", "{health}");
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    acked.extend(stop_terminals(&stop, terminals).await);

    assert_log_and_instances_agree(&url, &config, &bases(&apps), &acked).await;
    eprintln!(
        "database down for {down_for:.1?}; instances a, b took events again {recovered:.1?} after it restarted; {} acknowledged events, none lost or doubled",
        acked.len()
    );
}
