//! B1, B4 and S1 (closed-loop throughput, each after a warm-up of its own), then B1, B4 and S2
//! (open-loop latency at half S1's rate): how fast the service makes events durable, beside a
//! bare HTTP handler (B1) and the same handler writing the service's log (B4).

use std::sync::Arc;
use std::time::Duration;

use super::progress;
use crate::baselines::{Kind, ms};
use crate::load::{self, Desks};
use crate::process::Served;
use crate::{Plan, Report, Workspace};

/// What one closed-loop measurement found.
struct Throughput {
    run: load::Run,
    /// The server's CPU time per answered request, µs.
    cpu_us: f64,
    /// Bytes the server wrote to storage per answered request.
    written_per_request: f64,
}

/// B1, B4 and S1, then (when `plan` runs S2) B1, B4 and S2 at half S1's rate.
pub(super) async fn ingest(
    plan: &Plan,
    ws: &Workspace,
    service: &Served,
    b2_p99: f64,
    report: &mut Report,
) -> anyhow::Result<()> {
    let bare = Served::baseline(Kind::Http, None, None, &ws.log_file)?;
    let run = Duration::from_secs_f64(plan.run_secs);
    // B1, B4 and S1: closed-loop throughput, each after a warm-up of its own.
    let b1_desks = Desks::new(&ws.site.terminals, "b1");
    let b1 = throughput(&bare, &b1_desks, plan.connections, run).await?;
    progress(&format!("B1 bare handler: {:.0} req/s", b1.run.rate()));
    // B4: the same, plus the service's log records for each event, durable before the answer.
    let durable = Served::baseline(Kind::Durable, None, Some(&ws.data("b4")), &ws.log_file)?;
    let b4_desks = Desks::new(&ws.site.terminals, "b4");
    let b4 = throughput(&durable, &b4_desks, plan.connections, run).await?;
    report_b4(&b4, &b1, report)?;
    let desks = Desks::new(&ws.site.terminals, "s1");
    let s1 = throughput(service, &desks, plan.connections, run).await?;
    report_s1(&s1, &b1, &b4, report)?;

    if !plan.runs("s2") {
        return Ok(());
    }
    // B1 and S2: open-loop latency at half S1's rate.
    let rate = s1.run.rate() / 2.0;
    let b1_open = load::open_loop(bare.addr, b1_desks, rate, run, plan.connections).await;
    drop(bare);
    let b4_open = load::open_loop(durable.addr, b4_desks, rate, run, plan.connections).await;
    drop(durable);
    let s2 = load::open_loop(service.addr, desks, rate, run, plan.connections).await;
    anyhow::ensure!(s2.failed == 0, "S2: {} requests failed", s2.failed);
    report_s2(rate, &s2, &b1_open, &b4_open, b2_p99, report);
    Ok(())
}

/// B4's figures, relative to B1; fails if any of its requests failed.
fn report_b4(b4: &Throughput, b1: &Throughput, report: &mut Report) -> anyhow::Result<()> {
    let Throughput {
        run: b4,
        cpu_us: cpu,
        written_per_request: per_request,
    } = b4;
    let b1 = &b1.run;
    anyhow::ensure!(b4.failed == 0, "B4: {} requests failed", b4.failed);
    progress(&format!(
        "B4 bare handler + the service's log: {:.0} req/s = {:.2} × B1; per request {cpu:.0} µs of CPU and {:.1} KiB written to storage",
        b4.rate(),
        b4.rate() / b1.rate(),
        per_request / 1024.0
    ));
    report.figure("b4_requests_per_s", b4.rate());
    report.figure("b4_ratio_b1", b4.rate() / b1.rate());
    report.figure("b4_cpu_us_per_request", *cpu);
    report.figure("b4_storage_bytes_per_request", per_request.round());
    Ok(())
}

/// S1's figures and the B4 and S1 rows; fails if any S1 or B1 request failed.
fn report_s1(
    s1: &Throughput,
    b1: &Throughput,
    b4: &Throughput,
    report: &mut Report,
) -> anyhow::Result<()> {
    let Throughput {
        run: s1,
        cpu_us: s1_cpu,
        written_per_request: per_event,
    } = s1;
    let (b1, b1_cpu, b4) = (&b1.run, b1.cpu_us, &b4.run);
    anyhow::ensure!(
        s1.failed == 0 && b1.failed == 0,
        "S1/B1: {} and {} requests failed",
        s1.failed,
        b1.failed
    );
    let s1_ratio = s1.rate() / b1.rate();
    progress(&format!(
        "S1 durable ingest: {:.0} events/s = {s1_ratio:.2} × B1; per event {s1_cpu:.0} µs of server CPU (B1: {b1_cpu:.0} µs) and {:.1} KiB written to storage",
        s1.rate(),
        per_event / 1024.0
    ));
    report.figure("b1_requests_per_s", b1.rate());
    report.figure("s1_events_per_s", s1.rate());
    report.figure("s1_ratio_b1", s1_ratio);
    report.figure("s1_ratio_b4", s1.rate() / b4.rate());
    report.figure("s1_storage_bytes_per_event", per_event.round());
    report.figure("s1_cpu_us_per_event", *s1_cpu);
    report.figure("b1_cpu_us_per_request", b1_cpu);
    report.row(
        "B4 bare handler + the service's log (not a target)",
        format!(
            "{:.0} req/s ({:.2} × B1; S1 = {:.2} × B4)",
            b4.rate(),
            b4.rate() / b1.rate(),
            s1.rate() / b4.rate()
        ),
        format!("B1 bare handler {:.0} req/s", b1.rate()),
        "—",
        None,
    );
    report.row(
        "S1 durable ingest, no subscribers",
        format!("{:.0} events/s ({:.2} × B1)", s1.rate(), s1_ratio),
        format!("B1 bare handler {:.0} req/s", b1.rate()),
        "≥ 0.6 × B1",
        Some(s1_ratio >= 0.6),
    );
    Ok(())
}

/// S2's figures and row: its p99 against B1's at the same `rate` plus two of B2's fsyncs.
fn report_s2(
    rate: f64,
    s2: &load::Run,
    b1_open: &load::Run,
    b4_open: &load::Run,
    b2_p99: f64,
    report: &mut Report,
) {
    let (s2_p50, s2_p99, b1_p99, b4_p99) = (
        ms(&s2.latency, 0.5),
        ms(&s2.latency, 0.99),
        ms(&b1_open.latency, 0.99),
        ms(&b4_open.latency, 0.99),
    );
    let s2_bound = b1_p99 + 2.0 * b2_p99;
    progress(&format!(
        "S2 ingest latency at {rate:.0}/s: p50 {s2_p50:.2} ms, p99 {s2_p99:.2} ms (bound {s2_bound:.2} ms; B4 p99 {b4_p99:.2} ms)"
    ));
    report.figure("s2_rate_per_s", rate);
    report.figure("s2_p50_ms", s2_p50);
    report.figure("s2_p99_ms", s2_p99);
    report.figure("b1_p99_ms_at_s2_rate", b1_p99);
    report.figure("b4_p99_ms_at_s2_rate", b4_p99);
    report.figure("s2_p99_bound_ms", s2_bound);
    report.row(
        &format!("S2 ingest latency at {rate:.0}/s (½ S1)"),
        format!("p50 {s2_p50:.2} ms, p99 {s2_p99:.2} ms"),
        format!("B1 p99 {b1_p99:.2} ms, B2 p99 {b2_p99:.2} ms (B4 p99 {b4_p99:.2} ms)"),
        "p99 ≤ B1 p99 + 2 × B2 p99",
        Some(s2_p99 <= s2_bound),
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
