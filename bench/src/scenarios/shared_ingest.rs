//! B1, B7, B7n, P1 and P2: S1's closed-loop load on the shared PostgreSQL log — through one
//! instance (P1) and split over two instances of one database (P2) — beside the bare handler
//! (B1), the bare handler writing the service's two rows to PostgreSQL (B7) and the same with the
//! service's `NOTIFY` (B7n), all in the same run, each after a warm-up of its own and on a fresh
//! database.
//!
//! In P2 client `i` sends to instance `(i + i / stations) % 2`: the two clients of each desk
//! (S1 has two per station) stick to different instances, so every station is written through
//! both at once, and each instance keeps losing races to the other and catching up. Every 503
//! an instance answers is counted, as is "contended" — a request that lost the race too often.
//! Beside it, informative, the same two instances with the stations split between them (both
//! clients of a desk on one instance): no races, so what is left of the difference to P1 is the
//! cost of two instances on one database and two cores.

use std::time::Duration;

use super::progress;
use super::shared_closed_loop::{ClosedLoop, Measured, shown};
use crate::baselines::Kind;
use crate::pg::Postgres;
use crate::process::Served;
use crate::{Plan, Report, Workspace};

/// B1, B7, B7n and P1, then (when `plan` runs P2) P2 and its split variant.
pub(super) async fn ingest(
    plan: &Plan,
    ws: &Workspace,
    pg: &Postgres,
    report: &mut Report,
) -> anyhow::Result<()> {
    let closed = ClosedLoop {
        ws,
        pg,
        connections: plan.connections,
        run: Duration::from_secs_f64(plan.run_secs),
    };
    let bare = Served::baseline(Kind::Http, None, None, &ws.log_file)?;
    let b1 = closed.measure(&[&bare], "p-b1", false).await?;
    drop(bare);
    progress(&format!("B1 bare handler: {:.0} req/s", b1.run.rate()));
    let b7 = closed.baseline(Kind::SharedLog, "b7").await?;
    report_b7(&b7, &b1, report)?;
    let b7n = closed.baseline(Kind::SharedLogNotify, "b7n").await?;
    report_b7n(&b7n, &b7, report)?;
    let p1 = closed.instances(1, "p1", false).await?;
    report_p1(&p1, &[&b7, &b7n, &b1], report)?;
    if plan.runs("p2") {
        let p2 = closed.instances(2, "p2", false).await?;
        report_p2(&p2, &p1, &b7, report);
        let split = closed.instances(2, "p2-split", true).await?;
        report_p2_split(&split, &p2, &p1, report);
    }
    Ok(())
}

/// B7's figures and row, relative to B1; fails if any B1 or B7 request failed.
fn report_b7(b7: &Measured, b1: &Measured, report: &mut Report) -> anyhow::Result<()> {
    anyhow::ensure!(
        b7.run.failed == 0 && b1.run.failed == 0,
        "B7/B1: {} and {} requests failed",
        b7.run.failed,
        b1.run.failed
    );
    let ratio = b7.run.rate() / b1.run.rate();
    progress(&format!(
        "B7 bare handler + two rows in PostgreSQL: {:.0} req/s = {ratio:.2} × B1; per request {}",
        b7.run.rate(),
        b7.costs()
    ));
    report.figure("p_b1_requests_per_s", b1.run.rate());
    report.figure("p_b1_cpu_us_per_request", b1.cpu_us);
    report.figure("b7_requests_per_s", b7.run.rate());
    report.figure("b7_ratio_b1", ratio);
    b7.figures("b7", "request", report);
    report.row(
        "B7 bare handler + the service's two rows in PostgreSQL (not a target)",
        format!(
            "{:.0} req/s ({ratio:.2} × B1); {:.0} + {} µs CPU (handler + database)",
            b7.run.rate(),
            b7.cpu_us,
            shown(b7.db_cpu_us(), 0)
        ),
        format!("B1 bare handler {:.0} req/s", b1.run.rate()),
        "—",
        None,
    );
    Ok(())
}

/// B7n's figures and row, relative to B7; fails if any B7n request failed.
fn report_b7n(b7n: &Measured, b7: &Measured, report: &mut Report) -> anyhow::Result<()> {
    anyhow::ensure!(
        b7n.run.failed == 0,
        "B7n: {} requests failed",
        b7n.run.failed
    );
    let ratio = b7n.run.rate() / b7.run.rate();
    progress(&format!(
        "B7n B7 + the service's NOTIFY: {:.0} req/s = {ratio:.2} × B7; per request {}",
        b7n.run.rate(),
        b7n.costs()
    ));
    report.figure("b7n_requests_per_s", b7n.run.rate());
    report.figure("b7n_ratio_b7", ratio);
    b7n.figures("b7n", "request", report);
    report.row(
        "B7n B7 + the service's NOTIFY in each transaction (not a target)",
        format!(
            "{:.0} req/s ({ratio:.2} × B7); {} requests per WAL flush (B7 {})",
            b7n.run.rate(),
            shown(b7n.per_wal_sync(), 1),
            shown(b7.per_wal_sync(), 1)
        ),
        format!("B7 {:.0} req/s", b7.run.rate()),
        "—",
        None,
    );
    Ok(())
}

/// P1's figures and row, relative to B7, B7n and B1 (in that order in `baselines`); fails if
/// any P1 request failed.
fn report_p1(p1: &Measured, baselines: &[&Measured; 3], report: &mut Report) -> anyhow::Result<()> {
    let [b7, b7n, b1] = *baselines;
    anyhow::ensure!(p1.run.failed == 0, "P1: {} requests failed", p1.run.failed);
    let (to_b7, to_b1) = (p1.run.rate() / b7.run.rate(), p1.run.rate() / b1.run.rate());
    let to_b7n = p1.run.rate() / b7n.run.rate();
    progress(&format!(
        "P1 one instance on PostgreSQL: {:.0} events/s = {to_b7:.2} × B7 = {to_b7n:.2} × B7n = {to_b1:.2} × B1; per event {}; {} × 503",
        p1.run.rate(),
        p1.costs(),
        p1.unavailable
    ));
    report.figure("p1_events_per_s", p1.run.rate());
    report.figure("p1_ratio_b7", to_b7);
    report.figure("p1_ratio_b7n", to_b7n);
    report.figure("p1_ratio_b1", to_b1);
    p1.figures("p1", "event", report);
    report.figure("p1_unavailable", p1.unavailable);
    report.row(
        "P1 S1's load through one instance on PostgreSQL",
        format!(
            "{:.0} events/s ({to_b7:.2} × B7, {to_b7n:.2} × B7n, {to_b1:.2} × B1); {:.0} + {} µs CPU per event (service + database)",
            p1.run.rate(),
            p1.cpu_us,
            shown(p1.db_cpu_us(), 0)
        ),
        format!(
            "B7 {:.0} req/s, {:.0} + {} µs; B7n {:.0} req/s; B1 {:.0} req/s",
            b7.run.rate(),
            b7.cpu_us,
            shown(b7.db_cpu_us(), 0),
            b7n.run.rate(),
            b1.run.rate()
        ),
        "—",
        None,
    );
    Ok(())
}

/// P2's figures and row, relative to P1 and B7: throughput, CPU, and whether every request
/// was accepted without a 503 on the way.
fn report_p2(p2: &Measured, p1: &Measured, b7: &Measured, report: &mut Report) {
    let (to_p1, to_b7) = (p2.run.rate() / p1.run.rate(), p2.run.rate() / b7.run.rate());
    progress(&format!(
        "P2 two instances on one database: {:.0} events/s = {to_p1:.2} × P1 = {to_b7:.2} × B7; per event {} (both instances); {} failed, {} × 503 ({} contended), {} retries",
        p2.run.rate(),
        p2.costs(),
        p2.run.failed,
        p2.unavailable,
        p2.contended,
        p2.run.retries
    ));
    report.figure("p2_events_per_s", p2.run.rate());
    report.figure("p2_ratio_p1", to_p1);
    report.figure("p2_ratio_b7", to_b7);
    p2.figures("p2", "event", report);
    report.figure("p2_failed", p2.run.failed);
    report.figure("p2_unavailable", p2.unavailable);
    report.figure("p2_contended", p2.contended);
    report.figure("p2_retries", p2.run.retries);
    report.row(
        "P2 the same load through two instances of one database, every station through both",
        format!(
            "{:.0} events/s ({to_p1:.2} × P1, {to_b7:.2} × B7); {:.0} + {} µs CPU per event (both instances + database); {} failed, {} × 503 ({} contended)",
            p2.run.rate(),
            p2.cpu_us,
            shown(p2.db_cpu_us(), 0),
            p2.run.failed,
            p2.unavailable,
            p2.contended
        ),
        format!("P1 {:.0} events/s, B7 {:.0} req/s", p1.run.rate(), b7.run.rate()),
        "no request fails or is answered 503",
        Some(p2.run.failed == 0 && p2.unavailable == 0 && p2.run.accepted > 0),
    );
}

/// The split variant's figures and row (informative): the same two instances with each station
/// written through one of them only, beside P2 — what the races between instances cost, apart
/// from what two instances on one database cost.
fn report_p2_split(split: &Measured, p2: &Measured, p1: &Measured, report: &mut Report) {
    let (to_p1, to_p2) = (
        split.run.rate() / p1.run.rate(),
        split.run.rate() / p2.run.rate(),
    );
    progress(&format!(
        "P2 split, each station through one instance: {:.0} events/s = {to_p1:.2} × P1 = {to_p2:.2} × P2; per event {}; {} failed, {} × 503",
        split.run.rate(),
        split.costs(),
        split.run.failed,
        split.unavailable
    ));
    report.figure("p2_split_events_per_s", split.run.rate());
    report.figure("p2_split_ratio_p1", to_p1);
    report.figure("p2_split_ratio_p2", to_p2);
    split.figures("p2_split", "event", report);
    report.figure("p2_split_unavailable", split.unavailable);
    report.row(
        "P2 split: the same, each station through one of the two instances (not a target)",
        format!(
            "{:.0} events/s ({to_p1:.2} × P1, {to_p2:.2} × P2); {:.0} + {} µs CPU per event; {} failed, {} × 503",
            split.run.rate(),
            split.cpu_us,
            shown(split.db_cpu_us(), 0),
            split.run.failed,
            split.unavailable
        ),
        format!("P1 {:.0}, P2 {:.0} events/s", p1.run.rate(), p2.run.rate()),
        "—",
        None,
    );
}
