//! S3 and B3 (check-in → dashboard at each subscriber count, at the same pace and document size
//! on both sides) and S4 (healthy dashboards beside stalled ones), with what both share: poking
//! a change at a server at a steady pace and joining each document's arrival with its send time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use hdrhistogram::Histogram;

use super::{WATCHED, fetch, progress};
use crate::baselines::{Kind, SETTLE, ms};
use crate::client::Conn;
use crate::fixture::{GUARD_TOKEN, KEEP_INSIDE};
use crate::load::Desks;
use crate::process::Served;
use crate::report::targets;
use crate::subscribers::{Stalled, Target, Watchers, delivery_latency};
use crate::{Plan, Report, Workspace};
use lobbywatch::http::live::MAX_BUFFERED_OUTPUT;

/// Documents per second a delivery measurement may ask for across all its subscribers, so the
/// load driver's own reading never becomes the bottleneck it measures.
const DELIVERIES_PER_SECOND: f64 = 50_000.0;
/// Fastest pace of events in a delivery measurement.
const MAX_DELIVERY_RATE: f64 = 50.0;
/// Slow consumers in S4.
const SLOW_CONSUMERS: usize = 10;

/// S3 and B3 at each subscriber count: check-in → dashboard, at the same pace and document
/// size on both sides.
pub(super) async fn dashboards(
    plan: &Plan,
    ws: &Workspace,
    service: &Served,
    service_target: &Target,
    watched: &Arc<Desks>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let document_path = usual_document(ws, service, watched, report).await?;
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
        report_s3(n, pace, &s3, &b3, report);
    }
    Ok(())
}

/// Fills the watched room so its document has its usual size, and writes that document to a
/// file for the bare broadcast server (B3) to send; returns the file's path.
async fn usual_document(
    ws: &Workspace,
    service: &Served,
    watched: &Arc<Desks>,
    report: &mut Report,
) -> anyhow::Result<std::path::PathBuf> {
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
    Ok(document_path)
}

/// S3's figures and row at `n` subscribers: its p99 against B3's.
fn report_s3(n: usize, pace: f64, s3: &Histogram<u64>, b3: &Histogram<u64>, report: &mut Report) {
    let (s3_p50, s3_p99, b3_p99) = (ms(s3, 0.5), ms(s3, 0.99), ms(b3, 0.99));
    let ratio = s3_p99 / b3_p99.max(0.001);
    progress(&format!(
        "S3 {n} subscribers at {pace:.0} events/s: p50 {s3_p50:.2} ms, p99 {s3_p99:.2} ms; B3 p99 {b3_p99:.2} ms; ratio {ratio:.2}"
    ));
    report.figure(&format!("s3_p50_ms_{n}"), s3_p50);
    report.figure(&format!("s3_p99_ms_{n}"), s3_p99);
    report.figure(&format!("b3_p50_ms_{n}"), ms(b3, 0.5));
    report.figure(&format!("b3_p99_ms_{n}"), b3_p99);
    report.figure(&format!("s3_p99_ratio_b3_{n}"), ratio);
    report.row(
        &format!("S3 check-in → dashboard, {n} subscribers"),
        format!("p50 {s3_p50:.2} ms, p99 {s3_p99:.2} ms ({ratio:.2} × B3)"),
        format!(
            "B3 bare broadcast p50 {:.2} ms, p99 {b3_p99:.2} ms",
            ms(b3, 0.5)
        ),
        "p99 ≤ 1.5 × B3",
        Some(ratio <= targets::S3_MAX_P99_RATIO_B3),
    );
}

/// What S4 found: delivery latency of the healthy subscribers without and with stalled
/// consumers beside them, and how much the server's memory grew meanwhile.
struct SlowConsumers {
    healthy: Histogram<u64>,
    slowed: Histogram<u64>,
    rss_growth: u64,
}

/// S4: healthy dashboards' p99 with and without [`SLOW_CONSUMERS`] that stop reading, in
/// alternating rounds on the same healthy subscribers; and the server's memory meanwhile.
pub(super) async fn slow_consumers(
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
    let found = SlowConsumers {
        healthy: delivery_latency(&without, &arrivals),
        slowed: delivery_latency(&with, &arrivals),
        rss_growth: rss_peak.saturating_sub(rss_before.unwrap_or(rss_peak)),
    };
    report_s4(n, &found, report);
    Ok(())
}

/// S4's figures and rows at `n` healthy subscribers: the change of their p99, and the memory
/// growth against the stalled consumers' output caps.
fn report_s4(n: usize, found: &SlowConsumers, report: &mut Report) {
    let (p99_without, p99_with) = (ms(&found.healthy, 0.99), ms(&found.slowed, 0.99));
    let change = p99_with / p99_without.max(0.001) - 1.0;
    let growth = found.rss_growth;
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
