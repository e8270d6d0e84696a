//! B1, B4, B6 and S1 (closed-loop throughput, each after a warm-up of its own), then B1, B4, B6
//! and S2 (open-loop latency at half S1's rate): how fast the service makes events durable,
//! beside a bare HTTP handler (B1), the same handler writing the service's log (B4) and the same
//! handler appending each event to an index-free journal through the same writer (B6, what
//! durability itself costs). S1 and S2 are judged against B6 and B1 ([`targets`]).

use std::sync::Arc;
use std::time::Duration;

use super::progress;
use crate::baselines::{Kind, ms};
use crate::load::{self, Desks};
use crate::process::Served;
use crate::report::targets;
use crate::{Plan, Report, Workspace};

/// What one closed-loop measurement found.
struct Throughput {
    run: load::Run,
    /// The server's CPU time per answered request, µs.
    cpu_us: f64,
    /// Bytes the server wrote to storage per answered request.
    written_per_request: f64,
}

/// The same measurement of the three baselines S1 and S2 stand beside.
struct Floors<T> {
    /// B1: the bare handler.
    b1: T,
    /// B4: the bare handler writing the service's log.
    b4: T,
    /// B6: the bare handler appending to the bare journal.
    b6: T,
}

/// B1, B4, B6 and S1, then (when `plan` runs S2) B1, B4, B6 and S2 at half S1's rate.
pub(super) async fn ingest(
    plan: &Plan,
    ws: &Workspace,
    service: &Served,
    b2_p99: f64,
    report: &mut Report,
) -> anyhow::Result<()> {
    let run = Duration::from_secs_f64(plan.run_secs);
    let bare = Served::baseline(Kind::Http, None, None, &ws.log_file)?;
    let durable = Served::baseline(Kind::Durable, None, Some(&ws.data("b4")), &ws.log_file)?;
    let journal = Served::baseline(Kind::BareJournal, None, Some(&ws.data("b6")), &ws.log_file)?;
    let desks = Floors {
        b1: Desks::new(&ws.site.terminals, "b1"),
        b4: Desks::new(&ws.site.terminals, "b4"),
        b6: Desks::new(&ws.site.terminals, "b6"),
    };
    // Closed-loop throughput, each after a warm-up of its own.
    let b1 = throughput(&bare, &desks.b1, plan.connections, run).await?;
    progress(&format!("B1 bare handler: {:.0} req/s", b1.run.rate()));
    let b4 = throughput(&durable, &desks.b4, plan.connections, run).await?;
    report_b4(&b4, &b1, report)?;
    let b6 = throughput(&journal, &desks.b6, plan.connections, run).await?;
    report_b6(&b6, &b1, &b4, report)?;
    let s1_desks = Desks::new(&ws.site.terminals, "s1");
    let s1 = throughput(service, &s1_desks, plan.connections, run).await?;
    report_s1(&s1, &Floors { b1, b4, b6 }, report)?;
    report_memory(service, report)?;

    if !plan.runs("s2") {
        return Ok(());
    }
    // Open-loop latency at half S1's rate, the baselines first, each then stopped.
    let rate = s1.run.rate() / 2.0;
    let open = |server: &Served, desks: &Arc<Desks>| {
        load::open_loop(server.addr, desks.clone(), rate, run, plan.connections)
    };
    let b1_open = open(&bare, &desks.b1).await;
    drop(bare);
    let b4_open = open(&durable, &desks.b4).await;
    drop(durable);
    let b6_open = open(&journal, &desks.b6).await;
    drop(journal);
    let s2 = open(service, &s1_desks).await;
    anyhow::ensure!(s2.failed == 0, "S2: {} requests failed", s2.failed);
    anyhow::ensure!(
        b6_open.failed == 0,
        "B6 at S2's rate: {} requests failed",
        b6_open.failed
    );
    let floors = Floors {
        b1: b1_open,
        b4: b4_open,
        b6: b6_open,
    };
    report_s2(rate, &s2, &floors, b2_p99, report);
    Ok(())
}

/// B4's figures, relative to B1; fails if any of its requests failed.
fn report_b4(b4: &Throughput, b1: &Throughput, report: &mut Report) -> anyhow::Result<()> {
    let (run, b1) = (&b4.run, &b1.run);
    anyhow::ensure!(run.failed == 0, "B4: {} requests failed", run.failed);
    progress(&format!(
        "B4 bare handler + the service's log: {:.0} req/s = {:.2} × B1; per request {:.0} µs of CPU and {:.1} KiB written to storage",
        run.rate(),
        run.rate() / b1.rate(),
        b4.cpu_us,
        b4.written_per_request / 1024.0
    ));
    report.figure("b4_requests_per_s", run.rate());
    report.figure("b4_ratio_b1", run.rate() / b1.rate());
    report.figure("b4_cpu_us_per_request", b4.cpu_us);
    report.figure(
        "b4_storage_bytes_per_request",
        b4.written_per_request.round(),
    );
    Ok(())
}

/// B6's figures, relative to B1 and B4; fails if any of its requests failed.
fn report_b6(
    b6: &Throughput,
    b1: &Throughput,
    b4: &Throughput,
    report: &mut Report,
) -> anyhow::Result<()> {
    let (run, b1, b4) = (&b6.run, &b1.run, &b4.run);
    anyhow::ensure!(run.failed == 0, "B6: {} requests failed", run.failed);
    let to_b1 = run.rate() / b1.rate();
    progress(&format!(
        "B6 bare handler + index-free journal: {:.0} req/s = {to_b1:.2} × B1 (B4 = {:.2} × B6); per request {:.0} µs of CPU and {:.1} KiB written to storage",
        run.rate(),
        b4.rate() / run.rate(),
        b6.cpu_us,
        b6.written_per_request / 1024.0
    ));
    report.figure("b6_requests_per_s", run.rate());
    report.figure("b6_ratio_b1", to_b1);
    report.figure("b6_cpu_us_per_request", b6.cpu_us);
    report.figure(
        "b6_storage_bytes_per_request",
        b6.written_per_request.round(),
    );
    Ok(())
}

/// S1's figures and its rows (B4, throughput, storage); fails if any S1 or B1 request failed.
fn report_s1(
    s1: &Throughput,
    floors: &Floors<Throughput>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let per_event = s1.written_per_request;
    let (b1, b4, b6) = (&floors.b1.run, &floors.b4.run, &floors.b6.run);
    let s1_run = &s1.run;
    anyhow::ensure!(
        s1_run.failed == 0 && b1.failed == 0,
        "S1/B1: {} and {} requests failed",
        s1_run.failed,
        b1.failed
    );
    let (to_b1, to_b6) = (s1_run.rate() / b1.rate(), s1_run.rate() / b6.rate());
    progress(&format!(
        "S1 durable ingest: {:.0} events/s = {to_b6:.2} × B6 = {to_b1:.2} × B1; per event {:.0} µs of server CPU (B1: {:.0} µs, B6: {:.0} µs) and {:.1} KiB written to storage",
        s1_run.rate(),
        s1.cpu_us,
        floors.b1.cpu_us,
        floors.b6.cpu_us,
        per_event / 1024.0
    ));
    report.figure("b1_requests_per_s", b1.rate());
    report.figure("s1_events_per_s", s1_run.rate());
    report.figure("s1_ratio_b1", to_b1);
    report.figure("s1_ratio_b4", s1_run.rate() / b4.rate());
    report.figure("s1_ratio_b6", to_b6);
    report.figure("s1_storage_bytes_per_event", per_event.round());
    report.figure("s1_cpu_us_per_event", s1.cpu_us);
    report.figure("b1_cpu_us_per_request", floors.b1.cpu_us);
    report.row(
        "B4 bare handler + the service's log (not a target)",
        format!(
            "{:.0} req/s ({:.2} × B1; S1 = {:.2} × B4)",
            b4.rate(),
            b4.rate() / b1.rate(),
            s1_run.rate() / b4.rate()
        ),
        format!("B1 bare handler {:.0} req/s", b1.rate()),
        "—",
        None,
    );
    report.row(
        "B6 bare handler + one index-free row per event, same writer (not a target)",
        format!(
            "{:.0} req/s ({:.2} × B1; B4 = {:.2} × B6); {:.1} KiB written per request",
            b6.rate(),
            b6.rate() / b1.rate(),
            b4.rate() / b6.rate(),
            floors.b6.written_per_request / 1024.0
        ),
        format!("B1 bare handler {:.0} req/s", b1.rate()),
        "—",
        None,
    );
    report.row(
        "S1 durable ingest, no subscribers",
        format!(
            "{:.0} events/s ({to_b6:.2} × B6, {to_b1:.2} × B1)",
            s1_run.rate()
        ),
        format!(
            "B6 bare journal {:.0} req/s, B1 bare handler {:.0} req/s",
            b6.rate(),
            b1.rate()
        ),
        "≥ 0.6 × B6 and ≥ 0.35 × B1",
        Some(targets::s1_met(s1_run.rate(), b6.rate(), b1.rate())),
    );
    report.row(
        "S1 storage written per event",
        format!("{:.1} KiB", per_event / 1024.0),
        format!(
            "B6 {:.1} KiB, B4 {:.1} KiB per request",
            floors.b6.written_per_request / 1024.0,
            floors.b4.written_per_request / 1024.0
        ),
        "≤ 4 KiB",
        Some(targets::storage_met(per_event)),
    );
    Ok(())
}

/// The service's resident memory after S1 (informative: beside the memory it is budgeted).
fn report_memory(service: &Served, report: &mut Report) -> anyhow::Result<()> {
    let rss_mib = service.rss_bytes()? as f64 / (1024.0 * 1024.0);
    // The service runs with the default policy: its answers in memory stay within this.
    let budget_mib =
        lobbywatch::config::IdempotencyPolicy::default().memory_budget as f64 / (1024.0 * 1024.0);
    progress(&format!(
        "S1 service memory afterwards: {rss_mib:.1} MiB RSS (answers' budget {budget_mib:.0} MiB)"
    ));
    report.figure("s1_service_rss_mib", rss_mib);
    report.figure("idempotency_memory_budget_mib", budget_mib);
    report.row(
        "S1 service memory after S1 (not a target)",
        format!("{rss_mib:.1} MiB RSS"),
        format!("answers held in memory within `idempotency_memory_mib` = {budget_mib:.0} MiB"),
        "—",
        None,
    );
    Ok(())
}

/// S2's figures and row: its p99 against B6's at the same `rate`.
fn report_s2(
    rate: f64,
    s2: &load::Run,
    floors: &Floors<load::Run>,
    b2_p99: f64,
    report: &mut Report,
) {
    let p99 = |run: &load::Run| ms(&run.latency, 0.99);
    let (s2_p50, s2_p99) = (ms(&s2.latency, 0.5), p99(s2));
    let (b1_p99, b4_p99, b6_p99) = (p99(&floors.b1), p99(&floors.b4), p99(&floors.b6));
    let bound = targets::S2_MAX_P99_RATIO_B6 * b6_p99;
    progress(&format!(
        "S2 ingest latency at {rate:.0}/s: p50 {s2_p50:.2} ms, p99 {s2_p99:.2} ms (bound {bound:.2} ms = 2 × B6 p99; B1 p99 {b1_p99:.2} ms, B4 p99 {b4_p99:.2} ms)"
    ));
    report.figure("s2_rate_per_s", rate);
    report.figure("s2_p50_ms", s2_p50);
    report.figure("s2_p99_ms", s2_p99);
    report.figure("b1_p99_ms_at_s2_rate", b1_p99);
    report.figure("b4_p99_ms_at_s2_rate", b4_p99);
    report.figure("b6_p99_ms_at_s2_rate", b6_p99);
    report.figure("s2_p99_ratio_b6", s2_p99 / b6_p99.max(0.001));
    report.figure("s2_p99_bound_ms", bound);
    report.row(
        &format!("S2 ingest latency at {rate:.0}/s (½ S1)"),
        format!(
            "p50 {s2_p50:.2} ms, p99 {s2_p99:.2} ms ({:.2} × B6)",
            s2_p99 / b6_p99.max(0.001)
        ),
        format!(
            "B6 p99 {b6_p99:.2} ms (B1 p99 {b1_p99:.2} ms, B4 p99 {b4_p99:.2} ms, B2 fsync p99 {b2_p99:.2} ms)"
        ),
        "p99 ≤ 2 × B6 p99",
        Some(targets::s2_met(s2_p99, b6_p99)),
    );
}

/// Closed-loop load on `server` for `run` after a warm-up of a third of it, with the server's CPU
/// time and storage writes over the measured part.
async fn throughput(
    server: &Served,
    desks: &Arc<Desks>,
    connections: usize,
    run: Duration,
) -> anyhow::Result<Throughput> {
    load::closed_loop(server.addr, desks.clone(), connections, run / 3).await;
    let cpu_before = server.cpu_time()?;
    let written_before = server.storage_written()?;
    let measured = load::closed_loop(server.addr, desks.clone(), connections, run).await;
    let cpu_us = per_request_us(server.cpu_time()? - cpu_before, measured.accepted);
    let written = server.storage_written()?.saturating_sub(written_before);
    Ok(Throughput {
        written_per_request: written as f64 / measured.accepted.max(1) as f64,
        cpu_us,
        run: measured,
    })
}

/// Microseconds of CPU per request.
fn per_request_us(cpu: Duration, requests: u64) -> f64 {
    cpu.as_secs_f64() * 1e6 / requests.max(1) as f64
}
