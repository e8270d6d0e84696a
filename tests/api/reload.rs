//! Reloading the config while the service runs: what applies live, which sockets stay open and
//! which close with 4401, rule changes logged per station, and refusals that leave the running
//! config in force — through the admin endpoint (in process) and through SIGHUP (the binary).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use chrono::{Duration as Span, Utc};
use lobbywatch::config::Config;
use lobbywatch::domain::StationId;
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;

use crate::helpers::{
    ServerProcess, TestApp, Ws, check_in, close_code, next_doc, sha256_hex, test_config_toml,
};

/// A server in process whose config came from a file the test rewrites.
struct Reloadable {
    app: TestApp,
    file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Reloadable {
    async fn spawn() -> Reloadable {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lobbywatch.toml");
        std::fs::write(&file, test_config_toml()).unwrap();
        let app = TestApp::spawn_with_config(Config::load(&file).unwrap()).await;
        Reloadable {
            app,
            file,
            _dir: dir,
        }
    }

    /// Writes `toml` as the config file and asks for a reload with `token`.
    async fn reload_to(&self, toml: &str, token: Option<&str>) -> (u16, Value) {
        std::fs::write(&self.file, toml).unwrap();
        let mut request = self.app.client.post(self.app.url("/api/v1/admin/reload"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn reload(&self, toml: &str) -> (u16, Value) {
        self.reload_to(toml, Some("admin-token")).await
    }

    async fn socket(&self, path: &str) -> Ws {
        let (mut ws, _) = connect_async(self.app.ws_url(path)).await.unwrap();
        next_doc(&mut ws).await;
        ws
    }

    async fn check_in(&self, device: &str, station: &str, key: &str) -> Value {
        let (status, body) = self
            .app
            .post_event_json(device, station, key, &check_in("passport"))
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }
}

/// The test config with one more device.
fn with_device(toml: &str, id: &str, role: &str, scope: &str) -> String {
    format!(
        "{toml}\n[[devices]]\nid = \"{id}\"\nrole = \"{role}\"\n{scope}\ntoken_sha256 = \"{}\"\n",
        sha256_hex(&format!("{id}-token"))
    )
}

/// The test config without the device `id` (the block that declares it).
fn without_device(toml: &str, id: &str) -> String {
    let block = toml
        .split("\n[[devices]]")
        .find(|b| b.contains(&format!("id = \"{id}\"")))
        .expect("the device is in the config");
    toml.replace(&format!("\n[[devices]]{block}"), "")
}

/// A document pushed on `ws` after an event, with at least sequence number `seq`.
async fn doc_reaching(ws: &mut Ws, seq: u64) -> Value {
    loop {
        let doc = next_doc(ws).await;
        if doc["seq"].as_u64() >= Some(seq) {
            return doc;
        }
    }
}

#[tokio::test]
async fn sockets_stay_open_across_a_reload_that_adds_a_terminal_and_its_token_works_at_once() {
    let server = Reloadable::spawn().await;
    let mut display = server
        .socket("/api/v1/stations/small/public/live?access_token=small-display-token")
        .await;
    let mut guard = server
        .socket("/api/v1/stations/small/live?access_token=oslo-guard-token")
        .await;
    let (_, before) = server
        .app
        .get_as("/api/v1/me", Some("small-desk-2-token"))
        .await;
    assert_ne!(before["device"], "small-desk-2");

    let toml = with_device(
        &test_config_toml(),
        "small-desk-2",
        "terminal",
        r#"station = "small""#,
    );
    let (status, summary) = server.reload(&toml).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["devices_added"], json!(["small-desk-2"]));
    assert_eq!(summary["closed_sockets"], 0);

    let answer = server.check_in("small-desk-2", "small", "new-desk-1").await;
    let seq = answer["seq"]
        .as_u64()
        .expect("the answer has the event's seq");
    assert_eq!(doc_reaching(&mut display, seq).await["headcount"], 1);
    assert_eq!(doc_reaching(&mut guard, seq).await["headcount"], 1);
}

#[tokio::test]
async fn a_removed_or_rescoped_device_has_its_sockets_closed_with_4401_and_others_stay() {
    let server = Reloadable::spawn().await;
    let mut removed = server
        .socket("/api/v1/stations/big/live?access_token=big-desk-token")
        .await;
    let mut rescoped = server
        .socket("/api/v1/stations/small/live?access_token=oslo-guard-token")
        .await;
    let mut untouched = server
        .socket("/api/v1/stations/small/live?access_token=all-guard-token")
        .await;

    let toml = without_device(&test_config_toml(), "big-desk").replace(
        "id = \"oslo-guard\"\nrole = \"guard\"\ndistricts = [\"oslo\"]",
        "id = \"oslo-guard\"\nrole = \"guard\"\ndistricts = [\"vest\"]",
    );
    let (status, summary) = server.reload(&toml).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["devices_removed"], json!(["big-desk"]));
    assert_eq!(summary["devices_changed"], json!(["oslo-guard"]));
    assert_eq!(summary["closed_sockets"], 2);

    assert_eq!(close_code(&mut removed).await, Some(4401));
    assert_eq!(close_code(&mut rescoped).await, Some(4401));
    let (status, _) = server
        .app
        .get_as("/api/v1/me", Some("big-desk-token"))
        .await;
    assert_eq!(status, 401, "a removed device's token is refused");
    let (status, _) = server
        .app
        .get_as("/api/v1/stations/small", Some("oslo-guard-token"))
        .await;
    assert_eq!(status, 403, "the re-scoped guard no longer covers small");

    let answer = server.check_in("small-desk", "small", "after-1").await;
    let doc = doc_reaching(&mut untouched, answer["seq"].as_u64().unwrap()).await;
    assert_eq!(doc["headcount"], 1, "the other guard's socket stayed open");
}

#[tokio::test]
async fn a_rotated_token_keeps_its_socket_and_both_tokens_work() {
    let server = Reloadable::spawn().await;
    let mut display = server
        .socket("/api/v1/stations/small/public/live?access_token=small-display-token")
        .await;
    let toml = test_config_toml().replace(
        &format!("token_sha256 = \"{}\"", sha256_hex("small-display-token")),
        &format!(
            "token_sha256 = [\"{}\", \"{}\"]",
            sha256_hex("small-display-token"),
            sha256_hex("small-display-next")
        ),
    );
    let (status, summary) = server.reload(&toml).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["devices_rotated"], json!(["small-display"]));
    assert_eq!(summary["closed_sockets"], 0);
    let (status, _) = server
        .app
        .get_as("/api/v1/me", Some("small-display-next"))
        .await;
    assert_eq!(status, 200);
    let answer = server.check_in("small-desk", "small", "rotated-1").await;
    doc_reaching(&mut display, answer["seq"].as_u64().unwrap()).await;
}

#[tokio::test]
async fn changed_hours_show_in_the_public_document_and_are_pushed_live() {
    let server = Reloadable::spawn().await;
    let mut display = server.socket("/api/v1/stations/small/public/live").await;
    let week_of = |doc: &Value| {
        doc["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "residence")
            .unwrap()["week"]
            .clone()
    };
    let (_, before) = server
        .app
        .get_as("/api/v1/stations/small/public", None)
        .await;

    // The second service of `small` (residence) now opens on Mondays only, 08:00–12:00.
    let toml = test_config_toml();
    let always = toml
        .lines()
        .find(|l| l.starts_with("hours = "))
        .unwrap()
        .to_owned();
    let residence = toml.find("id = \"residence\"").unwrap();
    let at = residence + toml[residence..].find(&always).unwrap();
    let toml = format!(
        "{}hours = {{ mon = \"08:00-12:00\" }}{}",
        &toml[..at],
        &toml[at + always.len()..]
    );
    let (status, summary) = server.reload(&toml).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["stations_changed"], json!(["small"]));

    let (_, after) = server
        .app
        .get_as("/api/v1/stations/small/public", None)
        .await;
    assert_ne!(week_of(&after), week_of(&before));
    assert!(
        week_of(&after).to_string().contains("08:00"),
        "{}",
        week_of(&after)
    );
    let pushed = loop {
        let doc = next_doc(&mut display).await;
        if week_of(&doc) == week_of(&after) {
            break doc;
        }
    };
    assert_eq!(pushed["station"], "small");
}

/// The kinds of `station`'s events in the log (the last hour).
async fn logged_kinds(app: &TestApp, station: &str) -> Vec<String> {
    let now = Utc::now();
    app.state
        .store
        .events_between(
            &StationId::parse(station).unwrap(),
            now - Span::hours(1),
            now + Span::hours(1),
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.event.kind().to_string())
        .collect()
}

#[tokio::test]
async fn a_geometry_change_recomputes_the_cap_and_logs_one_rule_change() {
    let server = Reloadable::spawn().await;
    let (_, before) = server
        .app
        .get_as("/api/v1/stations/small/public", None)
        .await;
    assert_eq!(before["cap"], 3);

    let toml = test_config_toml().replacen("area_m2 = 12.0", "area_m2 = 20.0", 1);
    let (status, summary) = server.reload(&toml).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["rooms_changed"], json!(["small"]));
    assert_eq!(summary["rules_logged"], json!(["small"]));
    let (_, after) = server
        .app
        .get_as("/api/v1/stations/small/public", None)
        .await;
    assert_eq!(after["cap"], 5, "20 m² at 2 m");
    assert_eq!(logged_kinds(&server.app, "small").await, ["rule_changed"]);
    assert!(logged_kinds(&server.app, "big").await.is_empty());

    // The same file again changes nothing and logs nothing.
    let (status, again) = server.reload(&toml).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["rules_logged"], json!([]));
    assert_eq!(logged_kinds(&server.app, "small").await.len(), 1);
}

#[tokio::test]
async fn a_new_configured_rule_applies_where_no_admin_set_another() {
    let server = Reloadable::spawn().await;
    let r = server
        .app
        .client
        .put(server.app.url("/api/v1/rules"))
        .bearer_auth("admin-token")
        .json(&json!({"distancing_m": 1.5, "station": "big"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let toml = test_config_toml().replace("distancing_m = 2.0", "distancing_m = 1.0");
    let (status, summary) = server.reload(&toml).await;
    assert_eq!(status, 200, "{summary}");
    let logged = summary["rules_logged"].as_array().unwrap();
    assert!(logged.contains(&json!("small")), "{summary}");
    assert!(
        !logged.contains(&json!("big")),
        "big keeps the admin's rule: {summary}"
    );
    let (_, small) = server
        .app
        .get_as("/api/v1/stations/small/public", None)
        .await;
    assert_eq!(small["distancing_m"], 1.0);
    assert_eq!(small["cap"], 12, "12 m² at 1 m");
    let (_, big) = server.app.get_as("/api/v1/stations/big/public", None).await;
    assert_eq!(big["distancing_m"], 1.5);
}

#[tokio::test]
async fn an_invalid_file_is_refused_whole_named_in_the_answer_and_healthz_until_a_valid_one() {
    let server = Reloadable::spawn().await;
    let broken = with_device(
        &test_config_toml(),
        "new-desk",
        "terminal",
        r#"station = "small""#,
    )
    .replacen("area_m2 = 12.0", "area_m2 = -1.0", 1);
    let (status, problem) = server.reload(&broken).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "/problems/invalid-config");
    assert_eq!(problem["field"], "stations[0].area_m2");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("lobbywatch.toml"),
        "names the file: {detail}"
    );
    assert!(
        detail.contains("stations[0].area_m2"),
        "names the key: {detail}"
    );

    let (_, me) = server
        .app
        .get_as("/api/v1/me", Some("new-desk-token"))
        .await;
    assert_ne!(me["device"], "new-desk", "nothing of the file applied");
    let (_, small) = server
        .app
        .get_as("/api/v1/stations/small/public", None)
        .await;
    assert_eq!(small["cap"], 3, "the old config stays in force");
    let (_, health) = server.app.get_as("/healthz", None).await;
    assert_eq!(health["config"]["last_reload"]["ok"], false, "{health}");
    let error = health["config"]["last_reload"]["error"].as_str().unwrap();
    assert!(error.contains("stations[0].area_m2"), "{error}");

    let (status, _) = server.reload(&test_config_toml()).await;
    assert_eq!(status, 200);
    let (_, health) = server.app.get_as("/healthz", None).await;
    assert_eq!(health["config"]["last_reload"]["ok"], true, "{health}");
    assert!(
        health["config"]["last_reload"].get("error").is_none(),
        "{health}"
    );
}

#[tokio::test]
async fn only_an_admin_may_reload() {
    let server = Reloadable::spawn().await;
    let (status, _) = server.reload_to(&test_config_toml(), None).await;
    assert_eq!(status, 401);
    let (status, problem) = server
        .reload_to(&test_config_toml(), Some("all-guard-token"))
        .await;
    assert_eq!(status, 403, "{problem}");
}

/// The test config without the station `id` and its terminal `<id>-desk`.
fn without_station(toml: &str, id: &str) -> String {
    let toml = without_device(toml, &format!("{id}-desk"));
    let start = toml.find(&format!("[[stations]]\nid = \"{id}\"")).unwrap();
    let end = start + 1 + toml[start + 1..].find("[[stations]]\n").unwrap();
    format!("{}{}", &toml[..start], &toml[end..])
}

#[tokio::test]
async fn removing_a_station_with_people_inside_is_refused_with_why() {
    let server = Reloadable::spawn().await;
    server.check_in("big-desk", "big", "inside-1").await;
    let (status, problem) = server
        .reload(&without_station(&test_config_toml(), "big"))
        .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["type"], "/problems/reload-refused");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("'big'") && detail.contains("1 inside"),
        "{detail}"
    );
    let (status, _) = server.app.get_as("/api/v1/stations/big/public", None).await;
    assert_eq!(status, 200, "the station is still served");
    let (_, health) = server.app.get_as("/healthz", None).await;
    assert!(
        health["config"]["last_reload"]["error"]
            .as_str()
            .unwrap()
            .contains("1 inside"),
        "{health}"
    );
}

#[tokio::test]
async fn a_station_added_by_a_reload_is_served_and_one_without_events_can_be_removed_again() {
    let server = Reloadable::spawn().await;
    let extra = test_config_toml().replacen(
        "[[stations]]\nid = \"big\"",
        "[[stations]]\nid = \"extra\"\ndistrict = \"oslo\"\nname = \"Extra politistasjon\"\narea_m2 = 30.0\n\n[[stations.services]]\nid = \"passport\"\nname = \"Pass\"\nprefix = \"P\"\n\n[[stations]]\nid = \"big\"",
        1,
    );
    let (status, summary) = server.reload(&extra).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["stations_added"], json!(["extra"]));
    let (status, doc) = server
        .app
        .get_as("/api/v1/stations/extra/public", None)
        .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["cap"], 7, "30 m² at 2 m");
    let (_, directory) = server.app.get_as("/api/v1/stations", None).await;
    assert!(
        directory.to_string().contains("\"extra\""),
        "listed publicly"
    );
    let mut watching = server.socket("/api/v1/stations/extra/public/live").await;

    let (status, summary) = server.reload(&test_config_toml()).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["stations_removed"], json!(["extra"]));
    assert_eq!(close_code(&mut watching).await, Some(1001));
    let (status, _) = server
        .app
        .get_as("/api/v1/stations/extra/public", None)
        .await;
    assert_eq!(status, 404);
}

/// Polls `/healthz` until the last reload is the one after `since`.
async fn last_reload_after(base: &str, since: &Value) -> Value {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        let health: Value = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let last = &health["config"]["last_reload"];
        if !last.is_null() && last["at"] != since["at"] {
            return last.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no reload reported in /healthz");
}

fn hang_up(server: &ServerProcess) {
    let pid = server.child.id().to_string();
    let sent = Command::new("kill").args(["-HUP", &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -HUP {pid}");
}

#[tokio::test]
async fn sighup_reloads_the_binarys_config_and_keeps_its_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lobbywatch.toml");
    std::fs::write(&file, test_config_toml()).unwrap();
    let server = ServerProcess::start(&file, &dir.path().join("data"));
    let ws_base = server.base.replacen("http", "ws", 1);
    let (mut guard, _) = connect_async(format!(
        "{ws_base}/api/v1/stations/small/live?access_token=oslo-guard-token"
    ))
    .await
    .unwrap();
    next_doc(&mut guard).await;

    std::fs::write(&file, "[rules]\ndistancing_m = 9.0\n").unwrap();
    hang_up(&server);
    let refused = last_reload_after(&server.base, &Value::Null).await;
    assert_eq!(refused["ok"], false, "{refused}");

    let toml = with_device(
        &test_config_toml(),
        "small-desk-2",
        "terminal",
        r#"station = "small""#,
    );
    std::fs::write(&file, toml).unwrap();
    hang_up(&server);
    let applied = last_reload_after(&server.base, &refused).await;
    assert_eq!(applied["ok"], true, "{applied}");

    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/api/v1/stations/small/events", server.base))
        .bearer_auth("small-desk-2-token")
        .header("Idempotency-Key", "sighup-1")
        .json(&check_in("passport"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "the new terminal's token works at once");
    let seq = r.json::<Value>().await.unwrap()["seq"].as_u64().unwrap();
    assert_eq!(doc_reaching(&mut guard, seq).await["headcount"], 1);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_reloading_the_same_rule_on_a_shared_log_log_it_once_per_station() {
    let Some(cluster) = scratch_pg::require_or_skip(
        "instances_reloading_the_same_rule_on_a_shared_log_log_it_once_per_station",
    ) else {
        return;
    };
    let url = cluster.create_database();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lobbywatch.toml");
    std::fs::write(&file, test_config_toml()).unwrap();
    let mut apps = Vec::new();
    for name in ["a", "b", "c"] {
        let start = lobbywatch::state::StartOptions {
            instance: Some(name.to_owned()),
            ..Default::default()
        };
        let storage = lobbywatch::store::Storage::Postgres(
            lobbywatch::config::DatabaseUrl::parse(&url).unwrap(),
        );
        let config = Config::load(&file).unwrap();
        apps.push(
            TestApp::spawn_started(config, storage, crate::helpers::fresh_data(), start).await,
        );
    }
    std::fs::write(
        &file,
        test_config_toml().replace("distancing_m = 2.0", "distancing_m = 1.0"),
    )
    .unwrap();
    let answers = futures_util::future::join_all(
        apps.iter()
            .map(|app| lobbywatch::reload::reload(&app.state)),
    )
    .await;
    let mut logged = 0;
    for answer in answers {
        logged += answer.expect("every instance reloads").rules_logged.len();
    }
    assert_eq!(
        logged, 4,
        "each of the 4 stations logged once, by one instance"
    );
    let counts = crate::backend::psql(
        &url,
        "SELECT station, count(*) FROM events WHERE kind = 'rule_changed' GROUP BY station ORDER BY station",
    );
    assert_eq!(counts.len(), 4, "{counts:?}");
    assert!(counts.iter().all(|row| row[1] == "1"), "{counts:?}");
    for app in &apps {
        let (_, small) = app.get_as("/api/v1/stations/small/public", None).await;
        assert_eq!(small["cap"], 12, "{}: 12 m² at 1 m", app.state.instance);
    }
}
