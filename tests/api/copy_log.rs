//! `copy-log` with the real binary and a real PostgreSQL: an office served on SQLite is moved
//! into a database and served from there exactly as before — documents, stored answers byte for
//! byte, revocations — then moved back into a new data directory and served from that; a
//! destination that holds anything is refused and left as it was; and a copy whose bytes do not
//! arrive as sent is rolled back, leaving the database empty. Without PostgreSQL these tests
//! print `SKIPPED` and why.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::Client;
use serde_json::{Value, json};

use crate::backend::psql;
use crate::helpers::{ServerProcess, check_in, event_request, status_at, write_config};

const STATIONS: [&str; 4] = ["small", "big", "closed", "bergen"];

/// `lobbywatch serve` with the test config on the SQLite log in `data`, or on the database at
/// `database`; every third event of a station is snapshotted, so the copy has snapshots to copy.
fn serve(config: &Path, data: &Path, database: Option<&str>) -> ServerProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lobbywatch"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--snapshot-every", "3"])
        .arg("--config")
        .arg(config)
        .arg("--data")
        .arg(data)
        .env_remove("LOBBYWATCH_DATABASE_URL");
    if let Some(url) = database {
        command.args(["--database", url]);
    }
    ServerProcess::spawn(command)
}

/// `lobbywatch copy-log --from FROM --to TO --config CONFIG`: whether it succeeded, its stdout
/// and its stderr.
fn copy_log(config: &Path, from: &str, to: &str) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lobbywatch"))
        .args(["copy-log", "--from", from, "--to", to, "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A request the office sent, and the answer it got: its status and its bytes.
struct Sent {
    token: &'static str,
    station: &'static str,
    key: String,
    body: Value,
    status: u16,
    answer: bytes::Bytes,
}

/// A morning at the office: check-ins past the cap of `small`, a call and a check-out that lets
/// the queue in, check-ins at `big`, two refusals (an unknown ticket, a service that is never
/// open), and the revocation of the Oslo guard's token.
async fn a_morning(server: &ServerProcess) -> Vec<Sent> {
    let client = Client::new();
    let mut requests: Vec<(&'static str, &'static str, Value)> = Vec::new();
    for _ in 0..5 {
        requests.push(("small-desk-token", "small", check_in("passport")));
    }
    requests.push((
        "small-desk-token",
        "small",
        json!({"kind": "call", "desk": "1"}),
    ));
    requests.push((
        "small-desk-token",
        "small",
        json!({"kind": "check_out", "ticket": "P001"}),
    ));
    for _ in 0..3 {
        requests.push(("big-desk-token", "big", check_in("passport")));
    }
    requests.push((
        "small-desk-token",
        "small",
        json!({"kind": "check_out", "ticket": "P099"}),
    ));
    requests.push(("closed-desk-token", "closed", check_in("passport")));
    let mut sent = Vec::new();
    for (i, (token, station, body)) in requests.into_iter().enumerate() {
        let key = format!("morning-{i}");
        let r = event_request(&client, &server.base, token, station, &key, &body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let answer = r.bytes().await.unwrap();
        sent.push(Sent {
            token,
            station,
            key,
            body,
            status,
            answer,
        });
    }
    let refused: Vec<u16> = sent
        .iter()
        .map(|s| s.status)
        .filter(|s| *s != 201)
        .collect();
    assert_eq!(refused.len(), 2, "two refusals: {refused:?}");
    let r = client
        .post(format!("{}/api/v1/devices/oslo-guard/revoke", server.base))
        .bearer_auth("admin-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    sent
}

/// Every station's full document, without the instant it was rendered at.
async fn documents(server: &ServerProcess) -> Vec<Value> {
    let client = Client::new();
    let mut docs = Vec::new();
    for station in STATIONS {
        let mut doc = status_at(&client, &server.base, station).await;
        doc.as_object_mut().unwrap().remove("as_of");
        docs.push(doc);
    }
    docs
}

/// The office served from another log is the office that was served: the same documents, every
/// request answered again with the stored bytes (a replay, not a second effect), and the revoked
/// token still refused.
async fn assert_same_office(server: &ServerProcess, before: &[Value], sent: &[Sent]) {
    assert_eq!(documents(server).await, before);
    let client = Client::new();
    for s in sent {
        let r = event_request(&client, &server.base, s.token, s.station, &s.key, &s.body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), s.status, "{}", s.key);
        assert_eq!(r.headers()["idempotent-replayed"], "true", "{}", s.key);
        assert_eq!(r.bytes().await.unwrap(), s.answer, "{}", s.key);
    }
    assert_eq!(
        documents(server).await,
        before,
        "the retries changed nothing"
    );
    let r = client
        .get(format!("{}/api/v1/stations/small", server.base))
        .bearer_auth("oslo-guard-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the revoked token is refused");
}

/// Rows in the database at `url`: events, answers, revoked tokens, snapshots.
fn database_rows(url: &str) -> Vec<Vec<String>> {
    psql(
        url,
        "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM idempotency),
                (SELECT COUNT(*) FROM revoked_tokens), (SELECT COUNT(*) FROM snapshots)",
    )
}

/// The SQLite log in `data`, every row as text (a stopped server's).
fn directory_rows(data: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(data.join(lobbywatch::store::DB_FILE)).unwrap();
    let mut rows = Vec::new();
    for sql in [
        "SELECT station || seq || at_us || device || kind || body FROM events ORDER BY 1",
        "SELECT device || key || hex(fingerprint) || status || hex(response) || at_us FROM idempotency ORDER BY 1",
        "SELECT hex(token_sha256) || device || at_us || by FROM revoked_tokens ORDER BY 1",
        "SELECT station || seq || state FROM snapshots ORDER BY 1",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let table = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.extend(table.map(Result::unwrap));
    }
    rows
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test]
async fn an_office_moved_to_postgresql_and_back_serves_the_same_documents_answers_and_revocations()
{
    let Some(cluster) = scratch_pg::require_or_skip(
        "an_office_moved_to_postgresql_and_back_serves_the_same_documents_answers_and_revocations",
    ) else {
        return;
    };
    let url = cluster.create_database();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let (office, back): (PathBuf, PathBuf) = (dir.path().join("office"), dir.path().join("back"));

    let server = serve(&config, &office, None);
    let sent = a_morning(&server).await;
    let before = documents(&server).await;
    server.stop();

    let (ok, stdout, stderr) = copy_log(&config, text(&office), &url);
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with(
            "copied 10 events of 2 stations, 12 answers, 1 revoked token and 2 snapshots from "
        ) && stdout.contains(&format!("from {} to {url} — both replay", office.display()))
            && !stdout.contains("left out"),
        "{stdout}"
    );
    let server = serve(&config, &office, Some(&url));
    assert_same_office(&server, &before, &sent).await;
    server.stop();

    let (ok, stdout, stderr) = copy_log(&config, &url, text(&back));
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with("copied 10 events of 2 stations"),
        "{stdout}"
    );
    let server = serve(&config, &back, None);
    assert_same_office(&server, &before, &sent).await;
    server.stop();
}

#[tokio::test]
async fn a_copy_into_a_log_that_holds_anything_is_refused_and_changes_nothing() {
    let Some(cluster) = scratch_pg::require_or_skip(
        "a_copy_into_a_log_that_holds_anything_is_refused_and_changes_nothing",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let (office, other) = (dir.path().join("office"), dir.path().join("other"));
    let url = cluster.create_database();
    // A source whose server was killed: its last commits are in its WAL.
    let server = serve(&config, &office, None);
    a_morning(&server).await;
    server.kill9();
    // Two destinations that each hold a single check-in.
    for database in [None, Some(url.as_str())] {
        let server = serve(&config, &other, database);
        let r = event_request(
            &Client::new(),
            &server.base,
            "big-desk-token",
            "big",
            "only",
            &check_in("passport"),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
        server.stop();
    }
    let (rows_there, rows_here) = (database_rows(&url), directory_rows(&other));
    let marker = std::fs::read(other.join("lobbywatch.marker")).unwrap();

    for to in [url.as_str(), text(&other)] {
        let (ok, stdout, stderr) = copy_log(&config, text(&office), to);
        assert!(!ok && stdout.is_empty(), "{stdout}");
        assert!(
            stderr.contains(&format!("nothing was copied from {} to", office.display()))
                && stderr.contains("the destination already holds a log (1 event, 1 idempotency answer, 0 revoked tokens, 0 snapshots)"),
            "{stderr}"
        );
    }
    assert_eq!(database_rows(&url), rows_there);
    assert_eq!(directory_rows(&other), rows_here);
    assert_eq!(
        std::fs::read(other.join("lobbywatch.marker")).unwrap(),
        marker,
        "the directory was only looked at"
    );
    // Into an empty database the killed server's log copies whole, its WAL's commits too.
    let (ok, stdout, stderr) = copy_log(&config, text(&office), &cluster.create_database());
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with("copied 10 events of 2 stations, 12 answers, 1 revoked token"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_copy_whose_rows_do_not_arrive_as_sent_is_rolled_back_leaving_the_database_empty() {
    let Some(cluster) = scratch_pg::require_or_skip(
        "a_copy_whose_rows_do_not_arrive_as_sent_is_rolled_back_leaving_the_database_empty",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let office = dir.path().join("office");
    let server = serve(&config, &office, None);
    a_morning(&server).await;
    server.stop();
    // The database's tables, as a first start makes them, and a trigger that adds a space to
    // every event's body on its way in: still the same JSON, so the same replay — only the
    // bytes tell.
    let url = cluster.create_database();
    let server = serve(&config, &dir.path().join("unused"), Some(&url));
    documents(&server).await; // serving: it has its SIGTERM handler by now
    server.stop();
    psql(
        &url,
        "CREATE FUNCTION pad_body() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN NEW.body := NEW.body || ' '; RETURN NEW; END $$;
         CREATE TRIGGER pad_body BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION pad_body();",
    );

    let (ok, stdout, stderr) = copy_log(&config, text(&office), &url);
    assert!(!ok && stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("nothing was copied")
            && stderr.contains("the copy's events are not the rows sent: 10 rows sent, 10 read back, and their bytes differ"),
        "{stderr}"
    );
    assert_eq!(database_rows(&url), [["0", "0", "0", "0"]]);
}
