//! The scenarios S1–S8 and P1–P4 in the order they run, and what they share. Each scenario
//! lives beside the baseline it is divided by, one file per concern under `scenarios/`: B2
//! (disk) here; B1/B4 with S1 and S2 in `ingest.rs`; S3/B3 and S4 in `delivery.rs`; S5/B5 in
//! `idle_memory.rs`; S6 in `restart_time.rs`; S7 in `crash_under_load.rs`. The shared
//! PostgreSQL log's scenarios run last, from `shared_log.rs`: B7 with P1 and P2 in
//! `shared_ingest.rs` (measured by `shared_closed_loop.rs`), P3 in `cross_instance.rs`, P4 in
//! `instance_killed.rs`.

mod crash_under_load;
mod cross_instance;
mod delivery;
mod idle_memory;
mod ingest;
mod instance_killed;
mod restart_time;
mod shared_closed_loop;
mod shared_ingest;
mod shared_log;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::baselines::{self, ms};
use super::client::Conn;
use super::fixture::GUARD_TOKEN;
use super::load::Desks;
use super::subscribers::Target;
use super::{Plan, Report, Workspace, restart};

/// The station whose documents dashboards watch in S3/S4.
const WATCHED: usize = 0;
/// Events of two days ago in the log the service of S1–S4 starts on.
const HISTORY_EVENTS: u64 = 20_000;

/// Runs the scenarios `plan` selects and fills `report`.
pub async fn all(
    plan: &Plan,
    ws: &Workspace,
    fd_limit: u64,
    report: &mut Report,
) -> anyhow::Result<()> {
    let b2_p99 = disk(plan, ws, report)?;
    if ["s1", "s2", "s3", "s4", "s8"]
        .iter()
        .any(|id| plan.runs(id))
    {
        on_one_service(plan, ws, b2_p99, report).await?;
    }
    if plan.runs("s5") {
        idle_memory::idle_memory(plan, ws, fd_limit, report).await?;
    }
    if plan.runs("s6") {
        restart_time::restart_time(plan, ws, report).await?;
    }
    if plan.runs("s7") {
        crash_under_load::crash_under_load(plan, ws, report).await?;
    }
    if shared_log::IDS.iter().any(|id| plan.runs(id)) {
        shared_log::shared_log(plan, ws, report).await?;
    }
    Ok(())
}

/// S1–S4 and S8, on one service started on a log with a history.
async fn on_one_service(
    plan: &Plan,
    ws: &Workspace,
    b2_p99: f64,
    report: &mut Report,
) -> anyhow::Result<()> {
    // The service as it runs after its first day: its log already holds answers older than
    // start-up loads, so every new Idempotency-Key is also looked up in the log.
    let data = generated_log(ws, "main", HISTORY_EVENTS, chrono::TimeDelta::days(2)).await?;
    let service = ws.service.start(&data, "127.0.0.1:0")?;
    if plan.runs("s1") || plan.runs("s2") {
        ingest::ingest(plan, ws, &service, b2_p99, report).await?;
    }
    let watched = Desks::new(&ws.site.terminals[WATCHED..=WATCHED], "s3");
    let target = Target {
        addr: service.addr,
        path: format!("/api/v1/stations/{}/live", ws.site.terminals[WATCHED].0),
        token: Some(GUARD_TOKEN.to_owned()),
    };
    if plan.runs("s3") {
        delivery::dashboards(plan, ws, &service, &target, &watched, report).await?;
    }
    if plan.runs("s4") {
        delivery::slow_consumers(plan, &service, &target, &watched, report).await?;
    }
    if plan.runs("s8") {
        crate::calculator::under_attack(plan, ws, &service, report).await?;
    }
    Ok(())
}

/// B2: the fsync rate of the disk the log lives on; returns its p99 in milliseconds.
fn disk(plan: &Plan, ws: &Workspace, report: &mut Report) -> anyhow::Result<f64> {
    let (fsync, fsync_rate) =
        baselines::fsync_rate(ws.path(), if plan.quick { 300 } else { 2000 })?;
    let b2_p99 = ms(&fsync, 0.99);
    progress(&format!(
        "B2 fsync: {fsync_rate:.0}/s, p50 {:.2} ms, p99 {b2_p99:.2} ms",
        ms(&fsync, 0.5)
    ));
    report.figure("b2_fsyncs_per_s", fsync_rate);
    report.figure("b2_fsync_p50_ms", ms(&fsync, 0.5));
    report.figure("b2_fsync_p99_ms", b2_p99);
    report.row(
        "B2 fsync",
        format!("{fsync_rate:.0}/s, p99 {b2_p99:.2} ms"),
        "—".into(),
        "—",
        None,
    );
    Ok(b2_p99)
}

/// What `GET path` answers (200 expected).
async fn fetch(addr: SocketAddr, path: &str, token: Option<&str>) -> anyhow::Result<Bytes> {
    let mut conn = Conn::open(addr).await?;
    let answer = conn.get(path, token).await?;
    anyhow::ensure!(answer.status == 200, "GET {path}: {}", answer.status);
    Ok(answer.body)
}

/// A data directory `name` holding a log of `events` written as the service writes it (snapshots
/// as by default), ending `ago` before now, its WAL checkpointed.
async fn generated_log(
    ws: &Workspace,
    name: &str,
    events: u64,
    ago: chrono::TimeDelta,
) -> anyhow::Result<std::path::PathBuf> {
    let data = ws.data(name);
    tokio::task::block_in_place(|| {
        restart::write_log(
            &ws.config,
            &data,
            events,
            Some(lobbywatch::store::DEFAULT_SNAPSHOT_EVERY),
            ago,
        )
    })?;
    wait_for_checkpoint(&data).await;
    Ok(data)
}

/// Waits until the log writer's closing checkpoint has emptied the WAL, so the timed start
/// does not include a checkpoint the generator left behind.
async fn wait_for_checkpoint(data: &std::path::Path) {
    let wal = data.join(format!("{}-wal", lobbywatch::store::DB_FILE));
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match std::fs::metadata(&wal) {
            Ok(m) if m.len() > 0 => tokio::time::sleep(Duration::from_millis(20)).await,
            _ => return,
        }
    }
}

/// A line of progress on stderr (stdout carries the report).
fn progress(line: &str) {
    eprintln!("{line}");
}
