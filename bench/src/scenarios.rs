//! The scenarios S1–S7, each beside the baseline it is divided by, in the order they run:
//! B2 (disk), B1 and S1 (throughput), B1 and S2 (latency at half S1's rate), S3 and B3 at each
//! subscriber count (check-in → dashboard), S4 (slow consumers), S5 and B5 (idle memory), S6
//! (restart with a large log), S7 (kill -9 under load).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use hdrhistogram::Histogram;

use super::baselines::{self, Kind, SETTLE, ms};
use super::client::Conn;
use super::fixture::{GUARD_TOKEN, KEEP_INSIDE};
use super::idle::Holders;
use super::load::{self, Desks};
use super::process::Served;
use super::subscribers::{Stalled, Target, Watchers, delivery_latency};
use super::{Plan, Report, Workspace, crash, restart};
use lobbywatch::http::live::MAX_BUFFERED_OUTPUT;

/// Documents per second a delivery measurement may ask for across all its subscribers, so the
/// load driver's own reading never becomes the bottleneck it measures.
const DELIVERIES_PER_SECOND: f64 = 50_000.0;
/// Fastest pace of events in a delivery measurement.
const MAX_DELIVERY_RATE: f64 = 50.0;
/// The station whose documents dashboards watch in S3/S4.
const WATCHED: usize = 0;
/// Slow consumers in S4.
const SLOW_CONSUMERS: usize = 10;
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
    // The service as it runs after its first day: its log already holds answers older than
    // start-up loads, so every new Idempotency-Key is also looked up in the log.
    let data = generated_log(ws, "main", HISTORY_EVENTS, chrono::TimeDelta::days(2)).await?;
    let service = ws.service.start(&data, "127.0.0.1:0")?;
    if plan.runs("s1") || plan.runs("s2") {
        ingest(plan, ws, &service, b2_p99, report).await?;
    }
    let watched = Desks::new(&ws.site.terminals[WATCHED..=WATCHED], "s3");
    let target = Target {
        addr: service.addr,
        path: format!("/api/v1/stations/{}/live", ws.site.terminals[WATCHED].0),
        token: Some(GUARD_TOKEN.to_owned()),
    };
    if plan.runs("s3") {
        dashboards(plan, ws, &service, &target, &watched, report).await?;
    }
    if plan.runs("s4") {
        slow_consumers(plan, &service, &target, &watched, report).await?;
    }
    if plan.runs("s8") {
        crate::calculator::under_attack(plan, ws, &service, report).await?;
    }
    drop(service);
    if plan.runs("s5") {
        idle_memory(plan, ws, fd_limit, report).await?;
    }
    if plan.runs("s6") {
        restart_time(plan, ws, report).await?;
    }
    if plan.runs("s7") {
        crash_under_load(plan, ws, report).await?;
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

/// B1 and S1 (closed-loop throughput, each after a warm-up of its own), then B1 and S2
/// (open-loop latency at half S1's rate).
async fn ingest(
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
    let Throughput {
        run: b1,
        cpu_us: b1_cpu,
        ..
    } = throughput(&bare, &b1_desks, plan.connections, run).await?;
    progress(&format!("B1 bare handler: {:.0} req/s", b1.rate()));
    // B4: the same, plus the service's log records for each event, durable before the answer.
    let durable = Served::baseline(Kind::Durable, None, Some(&ws.data("b4")), &ws.log_file)?;
    let b4_desks = Desks::new(&ws.site.terminals, "b4");
    let b4 = {
        let Throughput {
            run: b4,
            cpu_us: cpu,
            written_per_request: per_request,
        } = throughput(&durable, &b4_desks, plan.connections, run).await?;
        anyhow::ensure!(b4.failed == 0, "B4: {} requests failed", b4.failed);
        progress(&format!(
            "B4 bare handler + the service's log: {:.0} req/s = {:.2} × B1; per request {cpu:.0} µs of CPU and {:.1} KiB written to storage",
            b4.rate(),
            b4.rate() / b1.rate(),
            per_request / 1024.0
        ));
        report.figure("b4_requests_per_s", b4.rate());
        report.figure("b4_ratio_b1", b4.rate() / b1.rate());
        report.figure("b4_cpu_us_per_request", cpu);
        report.figure("b4_storage_bytes_per_request", per_request.round());
        b4
    };
    let desks = Desks::new(&ws.site.terminals, "s1");
    let Throughput {
        run: s1,
        cpu_us: s1_cpu,
        written_per_request: per_event,
    } = throughput(service, &desks, plan.connections, run).await?;
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
    report.figure("s1_cpu_us_per_event", s1_cpu);
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

    if !plan.runs("s2") {
        return Ok(());
    }
    // B1 and S2: open-loop latency at half S1's rate.
    let rate = s1.rate() / 2.0;
    let b1_open = load::open_loop(bare.addr, b1_desks, rate, run, plan.connections).await;
    drop(bare);
    let b4_open = load::open_loop(durable.addr, b4_desks, rate, run, plan.connections).await;
    drop(durable);
    let s2 = load::open_loop(service.addr, desks, rate, run, plan.connections).await;
    anyhow::ensure!(s2.failed == 0, "S2: {} requests failed", s2.failed);
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

    Ok(())
}

/// S3 and B3 at each subscriber count: check-in → dashboard, at the same pace and document
/// size on both sides.
async fn dashboards(
    plan: &Plan,
    ws: &Workspace,
    service: &Served,
    service_target: &Target,
    watched: &Arc<Desks>,
    report: &mut Report,
) -> anyhow::Result<()> {
    // A room with people in it, so the document has its usual size.
    let mut poke = Poke::Service(watched.clone());
    pace_events(
        &mut poke,
        service.addr,
        2 * KEEP_INSIDE as u64,
        MAX_DELIVERY_RATE,
    )
    .await?;
    let station = &ws.site.terminals[WATCHED].0;
    let document = fetch(
        service.addr,
        &format!("/api/v1/stations/{station}"),
        Some(GUARD_TOKEN),
    )
    .await?;
    let document_path = ws.path().join("document.json");
    std::fs::write(&document_path, &document)?;
    report.figure("document_bytes", document.len() as u64);
    for (&n, &events) in plan.subscriber_counts.iter().zip(&plan.delivery_events) {
        let pace = pace_for(n);
        let mut poke = Poke::Service(watched.clone());
        let s3 = delivery(service_target, n, &mut poke, service.addr, events, pace).await?;
        let bare_ws = Served::baseline(Kind::Ws, Some(&document_path), None, &ws.log_file)?;
        let bare_target = Target {
            addr: bare_ws.addr,
            path: "/ws".into(),
            token: None,
        };
        let mut poke = Poke::Bare { next: 0 };
        let b3 = delivery(&bare_target, n, &mut poke, bare_ws.addr, events, pace).await?;
        drop(bare_ws);

        let (s3_p50, s3_p99, b3_p99) = (ms(&s3, 0.5), ms(&s3, 0.99), ms(&b3, 0.99));
        let ratio = s3_p99 / b3_p99.max(0.001);
        progress(&format!(
            "S3 {n} subscribers at {pace:.0} events/s: p50 {s3_p50:.2} ms, p99 {s3_p99:.2} ms; B3 p99 {b3_p99:.2} ms; ratio {ratio:.2}"
        ));
        report.figure(&format!("s3_p50_ms_{n}"), s3_p50);
        report.figure(&format!("s3_p99_ms_{n}"), s3_p99);
        report.figure(&format!("b3_p50_ms_{n}"), ms(&b3, 0.5));
        report.figure(&format!("b3_p99_ms_{n}"), b3_p99);
        report.figure(&format!("s3_p99_ratio_b3_{n}"), ratio);
        report.row(
            &format!("S3 check-in → dashboard, {n} subscribers"),
            format!("p50 {s3_p50:.2} ms, p99 {s3_p99:.2} ms ({ratio:.2} × B3)"),
            format!(
                "B3 bare broadcast p50 {:.2} ms, p99 {b3_p99:.2} ms",
                ms(&b3, 0.5)
            ),
            "p99 ≤ 1.5 × B3",
            Some(ratio <= 1.5),
        );
    }

    Ok(())
}

/// S7: kill -9 under S1's load, then the log read back.
async fn crash_under_load(plan: &Plan, ws: &Workspace, report: &mut Report) -> anyhow::Result<()> {
    let s7 = crash::under_load(
        ws,
        &ws.data("s7"),
        plan.connections,
        Duration::from_secs_f64(plan.crash_secs),
        plan.crash_kills,
    )
    .await?;
    progress(&format!(
        "S7 {} kills under load: {} acknowledged, {} lost, {} in the log unacknowledged, {} retries",
        s7.kills, s7.acked, s7.acked_lost, s7.unacknowledged_in_log, s7.retries
    ));
    report.figure("s7_kills", s7.kills);
    report.figure("s7_acked", s7.acked);
    report.figure("s7_acked_lost", s7.acked_lost);
    report.figure("s7_unacknowledged_in_log", s7.unacknowledged_in_log);
    report.figure("s7_unanswered", s7.unanswered);
    report.row(
        &format!("S7 kill -9 ×{} under S1 load", s7.kills),
        format!(
            "{} acknowledged: {} lost, {} logged twice or unacknowledged",
            s7.acked, s7.acked_lost, s7.unacknowledged_in_log
        ),
        "—".into(),
        "0 lost, 0 extra",
        Some(
            s7.acked_lost == 0
                && s7.unacknowledged_in_log == 0
                && s7.unanswered == 0
                && s7.acked > 0,
        ),
    );
    Ok(())
}

/// What a delivery measurement pokes: the service (one desk's real events) or the bare
/// broadcast server (`POST /publish/{seq}`).
enum Poke {
    Service(Arc<Desks>),
    Bare { next: u64 },
}

impl Poke {
    /// Sends one change over `conn` to `addr`; returns the seq its document carries.
    async fn once(&mut self, addr: SocketAddr, conn: &mut Option<Conn>) -> anyhow::Result<u64> {
        match self {
            Poke::Service(desks) => {
                let planned = desks.plan(0);
                let mut retries = 0;
                let answer = desks
                    .send_until_answered(addr, conn, &planned, &mut retries)
                    .await
                    .context("the service did not answer")?;
                let acked = desks
                    .absorb(&planned, &answer)
                    .with_context(|| format!("the service answered {}", answer.status))?;
                Ok(acked.seq)
            }
            Poke::Bare { next } => {
                *next += 1;
                if conn.is_none() {
                    *conn = Some(Conn::open(addr).await?);
                }
                let c = conn.as_mut().expect("opened");
                let answer = c
                    .post_event(&format!("/publish/{next}"), "-", "-", Bytes::new())
                    .await?;
                anyhow::ensure!(
                    answer.status == 204,
                    "the bare server answered {}",
                    answer.status
                );
                Ok(*next)
            }
        }
    }
}

/// Sends `events` changes at `pace` per second; returns each document's seq with the moment
/// its change was sent.
async fn pace_events(
    poke: &mut Poke,
    addr: SocketAddr,
    events: u64,
    pace: f64,
) -> anyhow::Result<HashMap<u64, Instant>> {
    let mut conn = None;
    let mut sent = HashMap::new();
    let interval = Duration::from_secs_f64(1.0 / pace);
    let started = Instant::now();
    for i in 0..events {
        tokio::time::sleep_until((started + interval.mul_f64(i as f64)).into()).await;
        let at = Instant::now();
        let seq = poke.once(addr, &mut conn).await?;
        sent.insert(seq, at);
    }
    Ok(sent)
}

/// Waits for every subscriber to see the last change, then joins arrivals with send times.
async fn settle_and_join(watchers: Watchers, sent: &HashMap<u64, Instant>) -> Histogram<u64> {
    let last = sent.keys().copied().max().unwrap_or(0);
    if !watchers.wait_for(last, Duration::from_secs(10)).await {
        progress("  (some subscribers never saw the last document within 10 s)");
    }
    delivery_latency(sent, &watchers.finish().await)
}

/// One delivery measurement: `n` fresh subscribers of `target`, `events` changes poked at `addr`.
async fn delivery(
    target: &Target,
    n: usize,
    poke: &mut Poke,
    addr: SocketAddr,
    events: u64,
    pace: f64,
) -> anyhow::Result<Histogram<u64>> {
    let watchers = Watchers::connect(target, n).await?;
    let sent = pace_events(poke, addr, events, pace).await?;
    Ok(settle_and_join(watchers, &sent).await)
}

/// The pace of a delivery measurement with `n` subscribers.
fn pace_for(n: usize) -> f64 {
    (DELIVERIES_PER_SECOND / n as f64).min(MAX_DELIVERY_RATE)
}

/// Microseconds of CPU per request.
/// What one closed-loop measurement found.
struct Throughput {
    run: load::Run,
    /// The server's CPU time per answered request, µs.
    cpu_us: f64,
    /// Bytes the server wrote to storage per answered request.
    written_per_request: f64,
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

fn per_request_us(cpu: Duration, requests: u64) -> f64 {
    cpu.as_secs_f64() * 1e6 / requests.max(1) as f64
}

/// What `GET path` answers (200 expected).
async fn fetch(addr: SocketAddr, path: &str, token: Option<&str>) -> anyhow::Result<Bytes> {
    let mut conn = Conn::open(addr).await?;
    let answer = conn.get(path, token).await?;
    anyhow::ensure!(answer.status == 200, "GET {path}: {}", answer.status);
    Ok(answer.body)
}

/// S4: healthy dashboards' p99 with and without [`SLOW_CONSUMERS`] that stop reading, in
/// alternating rounds on the same healthy subscribers; and the server's memory meanwhile.
async fn slow_consumers(
    plan: &Plan,
    service: &Served,
    target: &Target,
    watched: &Arc<Desks>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let n = plan.s4_healthy;
    let pace = pace_for(n);
    let events = plan.delivery_events[1.min(plan.delivery_events.len() - 1)];
    let watchers = Watchers::connect(target, n).await?;
    tokio::time::sleep(SETTLE).await;
    let mut rss_before = None;
    let mut rss_peak = 0;
    let (mut without, mut with) = (HashMap::new(), HashMap::new());
    let mut poke = Poke::Service(watched.clone());
    for _ in 0..plan.s4_rounds {
        without.extend(pace_events(&mut poke, service.addr, events, pace).await?);
        // Memory is measured from a service warmed up by a round without stalled consumers:
        // what the healthy subscribers' first documents cost (4.7 MB on a fresh process) is not
        // the stalled ones' doing.
        if rss_before.is_none() {
            let rss = service.rss_bytes()?;
            rss_before = Some(rss);
            rss_peak = rss;
        }
        let stalled = Stalled::connect(target, SLOW_CONSUMERS).await?;
        with.extend(pace_events(&mut poke, service.addr, events, pace).await?);
        rss_peak = rss_peak.max(service.rss_bytes()?);
        drop(stalled);
    }
    let last = with
        .keys()
        .chain(without.keys())
        .copied()
        .max()
        .unwrap_or(0);
    watchers.wait_for(last, Duration::from_secs(10)).await;
    let arrivals = watchers.finish().await;
    let (healthy, slowed) = (
        delivery_latency(&without, &arrivals),
        delivery_latency(&with, &arrivals),
    );
    let (p99_without, p99_with) = (ms(&healthy, 0.99), ms(&slowed, 0.99));
    let change = p99_with / p99_without.max(0.001) - 1.0;
    let growth = rss_peak.saturating_sub(rss_before.unwrap_or(rss_peak));
    let bound = (SLOW_CONSUMERS * MAX_BUFFERED_OUTPUT + (1 << 20)) as u64;
    progress(&format!(
        "S4 {n} healthy + {SLOW_CONSUMERS} stalled: p99 {p99_without:.2} → {p99_with:.2} ms ({:+.1} %), memory +{} KiB",
        change * 100.0,
        growth / 1024
    ));
    report.figure("s4_healthy_p99_ms_without", p99_without);
    report.figure("s4_healthy_p99_ms_with", p99_with);
    report.figure("s4_healthy_p99_change", change);
    report.figure("s4_rss_growth_bytes", growth);
    report.row(
        &format!("S4 {SLOW_CONSUMERS} stalled consumers beside {n} healthy"),
        format!(
            "healthy p99 {p99_without:.2} → {p99_with:.2} ms ({:+.1} %)",
            change * 100.0
        ),
        "the same subscribers without stalled ones".into(),
        "≤ +10 %",
        Some(change <= 0.10),
    );
    report.row(
        "S4 server memory with stalled consumers",
        format!("+{} KiB", growth / 1024),
        format!(
            "bound {} KiB ({SLOW_CONSUMERS} × 256 KiB output cap + 1 MiB)",
            bound / 1024
        ),
        "bounded",
        Some(growth <= bound),
    );
    Ok(())
}

/// S5 and B5: resident memory per idle WebSocket, each server fresh so no earlier phase's freed
/// memory is reused.
async fn idle_memory(
    plan: &Plan,
    ws: &Workspace,
    fd_limit: u64,
    report: &mut Report,
) -> anyhow::Result<()> {
    let n = plan.idle_connections;
    let per_connection = |server: &Served, path: &str| -> anyhow::Result<(f64, usize)> {
        std::thread::sleep(SETTLE);
        let before = server.rss_bytes()?;
        let holders = Holders::open(server.addr, path, n, fd_limit)?;
        std::thread::sleep(SETTLE);
        let after = server.rss_bytes()?;
        let processes = holders.processes();
        drop(holders);
        Ok((after.saturating_sub(before) as f64 / n as f64, processes))
    };
    let service = ws.service.start(&ws.data("s5"), "127.0.0.1:0")?;
    let station = &ws.site.terminals[1 % ws.site.terminals.len()].0;
    let path = format!("/api/v1/stations/{station}/public/live");
    let (s5, processes) = tokio::task::block_in_place(|| per_connection(&service, &path))?;
    // The bare server sends what these sockets got: the station's public document.
    let public = fetch(
        service.addr,
        &format!("/api/v1/stations/{station}/public"),
        None,
    )
    .await?;
    let public_path = ws.path().join("public.json");
    std::fs::write(&public_path, &public)?;
    drop(service);
    let bare = Served::baseline(Kind::Ws, Some(&public_path), None, &ws.log_file)?;
    let (b5, _) = tokio::task::block_in_place(|| per_connection(&bare, "/ws"))?;
    drop(bare);
    progress(&format!(
        "S5 {n} idle sockets ({processes} holder processes): {s5:.0} B each; B5 bare: {b5:.0} B each"
    ));
    report.figure("s5_bytes_per_conn", s5.round());
    report.figure("b5_bytes_per_conn", b5.round());
    report.figure("s5_ratio_b5", s5 / b5.max(1.0));
    report.row(
        &format!("S5 idle memory at {n} sockets"),
        format!(
            "{:.1} KiB per socket ({:.2} × B5)",
            s5 / 1024.0,
            s5 / b5.max(1.0)
        ),
        format!("B5 bare WebSocket {:.1} KiB", b5 / 1024.0),
        "≤ 8 KiB",
        Some(s5 <= 8192.0),
    );
    Ok(())
}

/// Starts timed per S6 variant; the median is reported.
const RESTARTS: usize = 3;

/// S6: from spawning the service to a 200 from `/healthz`, with a log of
/// [`Plan::restart_events`] events written as the service writes it (a snapshot every
/// [`lobbywatch::store::DEFAULT_SNAPSHOT_EVERY`] events of a station); then the same log with its
/// snapshots deleted, replayed in full (as after an upgrade that invalidates snapshots).
async fn restart_time(plan: &Plan, ws: &Workspace, report: &mut Report) -> anyhow::Result<()> {
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
        Some(restart <= 1.0),
    );
    report.row(
        "S6 restart, the same log without snapshots",
        format!("ready in {replay:.3} s (median of {RESTARTS})"),
        "—".into(),
        "≤ 1 s",
        Some(replay <= 1.0),
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
    Ok(ready)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
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
