//! P4: S7's kill -9 check on the shared log. Three instances serve one database; S1's
//! closed-loop clients start each event at an instance of their own and, when an attempt fails
//! (refused, broken, a 5xx, or no answer within [`ATTEMPT_TIMEOUT`]), retry the same
//! Idempotency-Key at the next instance — as terminals given a list of instances would. One
//! instance at a time, in turn, is killed with SIGKILL and restarted on its address while the
//! others carry on. Afterwards every station's log is read from the database and audited
//! against every acknowledgement (`lobbywatch::audit`, the crash test's check).

use std::net::SocketAddr;
use std::time::Duration;

use super::progress;
use super::shared_log::instance;
use crate::load::{self, Desks, Instances};
use crate::pg::{self, Postgres};
use crate::process::Served;
use crate::{Plan, Report, Workspace};
use lobbywatch::audit::{Acknowledged, audit};

/// Instances on the one database.
const INSTANCES: usize = 3;
/// How long a terminal waits for an answer before it tries the next instance.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// What P4 found.
struct Found {
    kills: u32,
    acked: u64,
    lost: u64,
    /// Logged but never acknowledged, logged twice, acknowledged twice, or a hole in a station.
    extra: u64,
    unanswered: u64,
    retries: u64,
    /// 503 answers (each retried at the next instance), and of those "contended".
    unavailable: (u64, u64),
}

/// P4: kills under load, then the audit.
pub(super) async fn instance_killed(
    plan: &Plan,
    ws: &Workspace,
    pg: &Postgres,
    report: &mut Report,
) -> anyhow::Result<()> {
    let url = pg.database();
    let names: Vec<String> = (0..INSTANCES).map(|i| format!("p4-{i}")).collect();
    let mut servers = Vec::with_capacity(INSTANCES);
    for name in &names {
        servers.push(Some(instance(ws, &url, name)?));
    }
    let instances = Instances {
        addrs: servers.iter().flatten().map(|s| s.addr).collect(),
        failover: Some(ATTEMPT_TIMEOUT),
        split_stations: false,
    };
    let desks = Desks::new(&ws.site.terminals, "p4");
    let (duration, connections) = (
        Duration::from_secs_f64(plan.shared_crash_secs),
        plan.connections,
    );
    let load = tokio::spawn({
        let (instances, desks) = (instances.clone(), desks.clone());
        async move { load::closed_loop_on(&instances, desks, connections, duration).await }
    });
    let pause = duration / (plan.shared_crash_kills + 1);
    for kill in 0..plan.shared_crash_kills {
        tokio::time::sleep(pause).await;
        let victim = kill as usize % INSTANCES;
        if let Some(s) = servers[victim].take() {
            s.kill9()?;
        }
        let addr = instances.addrs[victim];
        servers[victim] = Some(restart(ws, &url, &names[victim], addr).await?);
    }
    let run = load.await?;
    drop(servers);
    let found = check(ws, &url, &run, plan.shared_crash_kills, desks.unavailable()).await?;
    report_p4(&found, report);
    Ok(())
}

/// Starts instance `name` again on `addr`, off the async threads (start-up reads the database).
async fn restart(
    ws: &Workspace,
    url: &str,
    name: &str,
    addr: SocketAddr,
) -> anyhow::Result<Served> {
    let (service, url, name) = (ws.service.clone(), url.to_owned(), name.to_owned());
    tokio::task::spawn_blocking(move || service.start_on_database(&url, &name, &addr.to_string()))
        .await?
}

/// Reads every station's log from the database and audits it against the acknowledgements.
async fn check(
    ws: &Workspace,
    url: &str,
    run: &load::Run,
    kills: u32,
    unavailable: (u64, u64),
) -> anyhow::Result<Found> {
    let terminals = &ws.site.terminals;
    let stations = terminals.iter().map(|(s, _)| s.as_str());
    let log = pg::read_log(url, stations.clone()).await?;
    let acknowledged: Vec<Acknowledged<'_>> = run
        .acked
        .iter()
        .map(|a| Acknowledged {
            station: terminals[a.desk].0.as_str(),
            seq: a.seq,
            kind: a.kind,
        })
        .collect();
    let found = audit(&log, stations, &acknowledged)?;
    for problem in found.lost.iter().chain(&found.unacknowledged).take(5) {
        eprintln!("P4: {problem}");
    }
    Ok(Found {
        kills,
        acked: run.accepted,
        lost: found.lost.len() as u64,
        extra: (found.unacknowledged.len() + found.doubled.len() + found.gaps.len()) as u64,
        unanswered: run.failed,
        retries: run.retries,
        unavailable,
    })
}

/// P4's figures and row.
fn report_p4(f: &Found, report: &mut Report) {
    progress(&format!(
        "P4 {} kills of one instance of {INSTANCES} under load: {} acknowledged, {} lost, {} in the log unacknowledged or doubled, {} unanswered, {} retries ({} × 503, {} of them contended)",
        f.kills,
        f.acked,
        f.lost,
        f.extra,
        f.unanswered,
        f.retries,
        f.unavailable.0,
        f.unavailable.1
    ));
    report.figure("p4_kills", f.kills);
    report.figure("p4_acked", f.acked);
    report.figure("p4_acked_lost", f.lost);
    report.figure("p4_unacknowledged_in_log", f.extra);
    report.figure("p4_unanswered", f.unanswered);
    report.figure("p4_retries", f.retries);
    report.figure("p4_unavailable", f.unavailable.0);
    report.figure("p4_contended", f.unavailable.1);
    report.row(
        &format!(
            "P4 kill -9 ×{} of one of {INSTANCES} instances on one database, under S1 load",
            f.kills
        ),
        format!(
            "{} acknowledged: {} lost, {} logged twice or unacknowledged",
            f.acked, f.lost, f.extra
        ),
        "—".into(),
        "0 lost, 0 extra",
        Some(f.lost == 0 && f.extra == 0 && f.unanswered == 0 && f.acked > 0),
    );
}
