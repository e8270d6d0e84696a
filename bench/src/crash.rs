//! S7: the crash test's check under S1's load. The load driver's desks send as fast as they
//! can while the service is killed with SIGKILL and restarted on the same address; every
//! unanswered request is retried with its Idempotency-Key. Afterwards the log itself is read
//! back and compared with what the desks were told.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::Workspace;
use super::load::{self, Desks};
use lobbywatch::audit::{Acknowledged, audit};
use lobbywatch::store::{OpenLog, StoreOptions};

/// What S7 found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub kills: u32,
    pub acked: u64,
    /// Acknowledged events missing from the log, or logged as another kind at their seq.
    pub acked_lost: u64,
    /// Client events in the log that no client was told of (a doubled retry would be one), and
    /// any other disagreement: a seq acknowledged twice, a hole in a station's log.
    pub unacknowledged_in_log: u64,
    /// Requests sent again (through the kills).
    pub retries: u64,
    /// Requests never answered (the driver gave up).
    pub unanswered: u64,
}

/// Runs the load for `duration`, killing and restarting the service `kills` times at even
/// intervals, then checks the log in `data` against the acknowledgements.
pub async fn under_load(
    workspace: &Workspace,
    data: &Path,
    connections: usize,
    duration: Duration,
    kills: u32,
) -> anyhow::Result<Outcome> {
    let terminals = &workspace.site.terminals;
    let desks = Desks::new(terminals, "s7");
    let server = workspace.service.start(data, "127.0.0.1:0")?;
    let addr: SocketAddr = server.addr;
    let load = tokio::spawn(load::closed_loop(addr, desks, connections, duration));
    let mut server = Some(server);
    let pause = duration / (kills + 1);
    for _ in 0..kills {
        tokio::time::sleep(pause).await;
        if let Some(s) = server.take() {
            s.kill9()?;
        }
        let (service, data) = (workspace.service.clone(), data.to_owned());
        server = Some(
            tokio::task::spawn_blocking(move || service.start(&data, &addr.to_string())).await??,
        );
    }
    let run = load.await?;
    if let Some(s) = server.take() {
        s.kill9()?;
    }

    // The log, read the way start-up reads it.
    let log = OpenLog::open(data, StoreOptions::default())?;
    let acknowledged: Vec<Acknowledged<'_>> = run
        .acked
        .iter()
        .map(|a| Acknowledged {
            station: terminals[a.desk].0.as_str(),
            seq: a.seq,
            kind: a.kind,
        })
        .collect();
    let found = audit(
        &log,
        terminals.iter().map(|(s, _)| s.as_str()),
        &acknowledged,
    )?;
    for problem in found.lost.iter().chain(&found.unacknowledged).take(5) {
        eprintln!("S7: {problem}");
    }
    Ok(Outcome {
        kills,
        acked: run.accepted,
        acked_lost: found.lost.len() as u64,
        unacknowledged_in_log: (found.unacknowledged.len() + found.doubled.len() + found.gaps.len())
            as u64,
        retries: run.retries,
        unanswered: run.failed,
    })
}
