//! S7: kill -9 under S1's load, then the log read back against what was acknowledged (the
//! killing and the reading are [`crate::crash`]'s; this is the scenario's figures and row).

use std::time::Duration;

use super::progress;
use crate::crash;
use crate::{Plan, Report, Workspace};

/// S7: kill -9 under S1's load, then the log read back.
pub(super) async fn crash_under_load(
    plan: &Plan,
    ws: &Workspace,
    report: &mut Report,
) -> anyhow::Result<()> {
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
