//! S5 and B5: resident memory per idle WebSocket (a lobby display that only listens), the
//! service's against a bare WebSocket server sending the same document.

use super::{fetch, progress};
use crate::baselines::{Kind, SETTLE};
use crate::idle::Holders;
use crate::process::Served;
use crate::{Plan, Report, Workspace};

/// S5 and B5: resident memory per idle WebSocket, each server fresh so no earlier phase's freed
/// memory is reused.
pub(super) async fn idle_memory(
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
