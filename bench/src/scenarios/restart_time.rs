//! S6: from spawning the service to a 200 from `/healthz` with a large log, with its snapshots
//! and with them deleted (a full replay). The log itself is written by [`crate::restart`].

use std::time::Instant;

use super::{generated_log, progress};
use crate::client::Conn;
use crate::report::targets;
use crate::{Plan, Report, Workspace};

/// Starts timed per S6 variant; the median is reported.
const RESTARTS: usize = 3;

/// S6: from spawning the service to a 200 from `/healthz`, with a log of
/// [`Plan::restart_events`] events written as the service writes it (a snapshot every
/// [`lobbywatch::store::DEFAULT_SNAPSHOT_EVERY`] events of a station); then the same log with its
/// snapshots deleted, replayed in full (as after an upgrade that invalidates snapshots).
pub(super) async fn restart_time(
    plan: &Plan,
    ws: &Workspace,
    report: &mut Report,
) -> anyhow::Result<()> {
    let events = plan.restart_events;
    let written = Instant::now();
    let data = generated_log(ws, "s6", events, chrono::TimeDelta::zero()).await?;
    let write_secs = written.elapsed().as_secs_f64();
    let mut with_snapshots = Vec::new();
    for _ in 0..RESTARTS {
        with_snapshots.push(time_to_ready(ws, &data).await?);
    }
    let mut full_replay = Vec::new();
    for _ in 0..RESTARTS {
        let db = rusqlite::Connection::open(data.join(lobbywatch::store::DB_FILE))?;
        db.execute("DELETE FROM snapshots", [])?;
        drop(db);
        full_replay.push(time_to_ready(ws, &data).await?);
    }
    let _ = std::fs::remove_dir_all(&data);
    let (restart, replay) = (median(&mut with_snapshots), median(&mut full_replay));
    progress(&format!(
        "S6 {events} events (log written in {write_secs:.1} s): ready in {restart:.3} s; without snapshots {replay:.3} s"
    ));
    report.figure("s6_events", events);
    report.figure("s6_restart_s", restart);
    report.figure("s6_full_replay_s", replay);
    report.row(
        &format!("S6 restart with a {events}-event log"),
        format!("ready in {restart:.3} s (median of {RESTARTS})"),
        "—".into(),
        "≤ 1 s",
        Some(restart <= targets::S6_MAX_READY_S),
    );
    report.row(
        "S6 restart, the same log without snapshots",
        format!("ready in {replay:.3} s (median of {RESTARTS})"),
        "—".into(),
        "≤ 1 s",
        Some(replay <= targets::S6_MAX_READY_S),
    );
    Ok(())
}

/// Seconds from spawning the service on `data` to its first 200 from `/healthz`.
async fn time_to_ready(ws: &Workspace, data: &std::path::Path) -> anyhow::Result<f64> {
    let started = Instant::now();
    let service = tokio::task::block_in_place(|| ws.service.start(data, "127.0.0.1:0"))?;
    let mut conn = Conn::open(service.addr).await?;
    let status = conn.get("/healthz", None).await?.status;
    let ready = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        status == 200,
        "/healthz answered {status} after the restart"
    );
    // Stopped gracefully: the next round edits the log's file directly.
    tokio::task::block_in_place(|| service.stop())?;
    Ok(ready)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
