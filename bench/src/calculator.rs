//! S8: ingest latency while the anonymous capacity calculator is under attack.
//!
//! `POST /api/v1/capacity` needs no token, and a dense 500-chair plan is the most CPU one
//! request can ask for. S8 measures S2's open-loop ingest latency (events at half the rate a
//! short closed loop reaches) alone, then while [`ATTACKERS`] clients post such plans, in
//! alternating rounds on the same service, and reports the attacked p99 as a ratio to the p99
//! alone. The service's per-address limit is opened up in the bench's site (the attackers all
//! come from loopback), so what is measured is what stands when an attacker has many
//! addresses: the per-request node budget, the fixed number of solvers (one more is answered
//! 503 at once) and the solver's lowest scheduling priority.
//!
//! The attackers offer [`ATTACK_RATE`] plans a second in all — several times what one solver
//! can finish, so a solver is busy the whole time — rather than a new one the instant a 503
//! comes back: an unpaced loop of refusals is a flood of 20 KiB requests that any route would
//! suffer alike (BENCHMARKS.md has its figure), not the solver work this scenario is about.
//! They run on a thread and runtime of their own, so they do not delay the ingest driver's
//! clock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hdrhistogram::Histogram;

use super::baselines::{SETTLE, ms};
use super::client::Conn;
use super::load::{self, Desks};
use super::process::Served;
use super::{Plan, Report, Workspace};

/// Clients posting dense plans at once.
pub const ATTACKERS: usize = 8;

/// Dense plans offered per second by all attackers together (each waits for its answer, so
/// fewer are sent when answers are slow).
pub const ATTACK_RATE: f64 = 200.0;

/// The attacked p99 may be at most this many times the p99 alone.
const TARGET_RATIO: f64 = 1.2;

/// 25 rows of 20 chairs, 0.55 m apart in rows 1 m apart, at 2.5 m: an exact search took 6.4 s
/// of CPU in a release build; a request's budget stops it after ~50 ms.
fn dense_plan() -> Bytes {
    let seats: Vec<[f64; 2]> = (0..25)
        .flat_map(|r| (0..20).map(move |c| [f64::from(c) * 0.55, f64::from(r)]))
        .collect();
    serde_json::json!({"distancing_m": 2.5, "area_m2": 500, "seats": seats})
        .to_string()
        .into()
}

/// What the attackers were answered.
#[derive(Debug, Default)]
struct Tally {
    solved: AtomicU64,
    refused: AtomicU64,
    other: AtomicU64,
}

/// Attackers posting dense plans until stopped, on a thread and runtime of their own.
struct Attack {
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
    thread: std::thread::JoinHandle<()>,
}

impl Attack {
    fn start(addr: SocketAddr) -> anyhow::Result<Attack> {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Tally::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop_here, tally_here) = (stop.clone(), tally.clone());
        let thread = std::thread::Builder::new()
            .name("s8-attackers".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let body = dense_plan();
                    let attackers: Vec<_> = (0..ATTACKERS)
                        .map(|_| {
                            attacker(addr, body.clone(), stop_here.clone(), tally_here.clone())
                        })
                        .map(tokio::spawn)
                        .collect();
                    for a in attackers {
                        let _ = a.await;
                    }
                });
            })?;
        Ok(Attack {
            stop,
            tally,
            thread,
        })
    }

    fn stop(self) -> Arc<Tally> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.tally
    }
}

/// One attacker: a plan every `ATTACKERS / ATTACK_RATE` seconds on its keep-alive connection,
/// each once the last is answered.
async fn attacker(addr: SocketAddr, body: Bytes, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let mut pace = tokio::time::interval(Duration::from_secs_f64(ATTACKERS as f64 / ATTACK_RATE));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut conn = None;
    while !stop.load(Ordering::Relaxed) {
        pace.tick().await;
        if conn.is_none() {
            conn = Conn::open(addr).await.ok();
        }
        let Some(c) = conn.as_mut() else {
            continue;
        };
        let counter = match c.post_json("/api/v1/capacity", body.clone()).await {
            Ok(a) if a.status == 200 => &tally.solved,
            Ok(a) if a.status == 503 || a.status == 429 => &tally.refused,
            Ok(_) => &tally.other,
            Err(_) => {
                conn = None;
                &tally.other
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// S8 on `service`: rounds of ingest alone and ingest under attack, alternating.
pub async fn under_attack(
    plan: &Plan,
    ws: &Workspace,
    service: &Served,
    report: &mut Report,
) -> anyhow::Result<()> {
    let run = Duration::from_secs_f64(plan.run_secs);
    let desks = Desks::new(&ws.site.terminals, "s8");
    load::closed_loop(service.addr, desks.clone(), plan.connections, run / 3).await;
    let closed = load::closed_loop(service.addr, desks.clone(), plan.connections, run).await;
    let rate = closed.rate() / 2.0;
    let rounds = if plan.quick { 1 } else { 3 };
    let (mut alone, mut attacked) = (load::latency_histogram(), load::latency_histogram());
    let (mut solved, mut refused, mut other, mut failed) = (0, 0, 0, 0);
    for _ in 0..rounds {
        let quiet = load::open_loop(service.addr, desks.clone(), rate, run, plan.connections).await;
        alone.add(&quiet.latency)?;
        let attack = Attack::start(service.addr)?;
        tokio::time::sleep(SETTLE).await;
        let loud = load::open_loop(service.addr, desks.clone(), rate, run, plan.connections).await;
        let tally = attack.stop();
        attacked.add(&loud.latency)?;
        solved += tally.solved.load(Ordering::Relaxed);
        refused += tally.refused.load(Ordering::Relaxed);
        other += tally.other.load(Ordering::Relaxed);
        failed += quiet.failed + loud.failed;
        tokio::time::sleep(SETTLE).await;
    }
    anyhow::ensure!(failed == 0, "S8: {failed} events failed");
    record(report, rate, &alone, &attacked, [solved, refused, other]);
    Ok(())
}

fn record(
    report: &mut Report,
    rate: f64,
    alone: &Histogram<u64>,
    attacked: &Histogram<u64>,
    [solved, refused, other]: [u64; 3],
) {
    let (p99_alone, p99_attacked) = (ms(alone, 0.99), ms(attacked, 0.99));
    let ratio = p99_attacked / p99_alone.max(1e-9);
    eprintln!(
        "S8 ingest at {rate:.0}/s: p99 {p99_alone:.2} ms alone, {p99_attacked:.2} ms with the calculator under attack ({ratio:.2} ×); calculator answered {solved}, refused {refused}, other {other}"
    );
    report.figure("s8_rate_per_s", rate);
    report.figure("s8_p50_ms_alone", ms(alone, 0.5));
    report.figure("s8_p50_ms_attacked", ms(attacked, 0.5));
    report.figure("s8_p99_ms_alone", p99_alone);
    report.figure("s8_p99_ms_attacked", p99_attacked);
    report.figure("s8_p99_ratio", ratio);
    report.figure("s8_calculator_solved", solved);
    report.figure("s8_calculator_refused", refused);
    report.row(
        &format!(
            "S8 ingest at {rate:.0}/s, calculator under attack ({ATTACK_RATE:.0} dense plans/s)"
        ),
        format!(
            "p99 {p99_attacked:.2} ms ({ratio:.2} × alone); {solved} plans solved, {refused} refused at once"
        ),
        format!("the same ingest alone: p99 {p99_alone:.2} ms"),
        "p99 ≤ 1.2 × alone",
        Some(ratio <= TARGET_RATIO),
    );
}
