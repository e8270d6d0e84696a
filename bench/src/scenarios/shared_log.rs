//! P1–P4: the service on a shared PostgreSQL log, in the order they run — B1, B7, P1 and P2
//! (throughput through one and two instances, `shared_ingest.rs`), P3 (a check-in through one
//! instance reaching a dashboard on another, `cross_instance.rs`), P4 (kill -9 of one instance
//! of three under load, `instance_killed.rs`). One private cluster serves them all, a fresh
//! database each; without PostgreSQL they are skipped with a line saying why — or, with
//! `LOBBYWATCH_REQUIRE_POSTGRES=1` (as in CI), the run fails.

use super::{cross_instance, instance_killed, progress, shared_ingest};
use crate::pg::Postgres;
use crate::process::Served;
use crate::{Plan, Report, Workspace};

/// Set to `1` to make a missing PostgreSQL fail the run instead of skipping P1–P4.
const REQUIRE_VAR: &str = "LOBBYWATCH_REQUIRE_POSTGRES";

/// The scenario ids, for `--only`.
pub(super) const IDS: [&str; 4] = ["p1", "p2", "p3", "p4"];

/// Runs the P scenarios `plan` selects on a cluster of their own.
pub(super) async fn shared_log(
    plan: &Plan,
    ws: &Workspace,
    report: &mut Report,
) -> anyhow::Result<()> {
    let pg = match tokio::task::spawn_blocking(Postgres::start).await? {
        Ok(pg) => pg,
        Err(why) if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") => {
            anyhow::bail!("{REQUIRE_VAR}=1 but P1–P4 cannot run: {why}")
        }
        Err(why) => {
            skipped(why.reason(), report);
            return Ok(());
        }
    };
    progress(&format!(
        "PostgreSQL for P1–P4: {}, a private cluster on port {}",
        pg.version,
        pg.port()
    ));
    report
        .context
        .push(("PostgreSQL".into(), pg.version.clone()));
    if plan.runs("p1") || plan.runs("p2") {
        shared_ingest::ingest(plan, ws, &pg, report).await?;
    }
    if plan.runs("p3") {
        cross_instance::cross_instance(plan, ws, &pg, report).await?;
    }
    if plan.runs("p4") {
        instance_killed::instance_killed(plan, ws, &pg, report).await?;
    }
    Ok(())
}

/// Says why P1–P4 did not run: on stderr, in the table, and in the JSON line.
fn skipped(reason: &str, report: &mut Report) {
    progress(&format!(
        "P1–P4 skipped: no PostgreSQL ({reason}); set {REQUIRE_VAR}=1 to make this an error"
    ));
    report.figure("postgres_skipped", reason);
    report.row(
        "P1–P4 shared PostgreSQL log",
        format!("skipped: {reason}"),
        "—".into(),
        "—",
        None,
    );
}

/// Starts an instance of the service named `name` on the database `url`.
pub(super) fn instance(ws: &Workspace, url: &str, name: &str) -> anyhow::Result<Served> {
    ws.service.start_on_database(url, name, "127.0.0.1:0")
}
