//! Idle connections, held by child processes (`lobbywatch-bench hold`), for the memory figures
//! (S5, B5): a lobby display that has its document and waits. Each holder process opens at most
//! what its file-descriptor limit allows, so any number of connections is spread over as many
//! processes as needed; the holders keep reading (answering the server's pings) until the
//! benchmark closes their standard input.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use tokio::io::AsyncReadExt;

use super::subscribers::{Target, open_many};

/// Descriptors a holder keeps for itself (stdio, the runtime, libraries).
const RESERVED_FDS: u64 = 64;

/// Child processes holding idle WebSocket connections.
pub struct Holders {
    children: Vec<Child>,
}

impl Holders {
    /// Opens `count` idle connections to `path` at `addr`, spread over as many holder
    /// processes as the per-process descriptor limit requires; returns once all are open.
    pub fn open(
        addr: SocketAddr,
        path: &str,
        count: usize,
        fd_limit: u64,
    ) -> anyhow::Result<Holders> {
        let per_process = usize::try_from(fd_limit.saturating_sub(RESERVED_FDS).max(1))?;
        let mut children = Vec::new();
        let mut left = count;
        while left > 0 {
            let n = left.min(per_process);
            let mut child = Command::new(std::env::current_exe()?)
                .args(["hold", "--addr", &addr.to_string(), "--path", path])
                .args(["--count", &n.to_string()])
                .env("RUST_LOG", "warn")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .context("starting a connection holder")?;
            let stdout = child.stdout.take().context("holder stdout")?;
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line)?;
            children.push(child);
            if line.trim() != format!("ready {n}") {
                bail!("a connection holder failed to open {n} connections: {line:?}");
            }
            left -= n;
        }
        Ok(Holders { children })
    }

    /// How many holder processes were needed.
    pub fn processes(&self) -> usize {
        self.children.len()
    }
}

impl Drop for Holders {
    fn drop(&mut self) {
        for child in &mut self.children {
            // Closing stdin ends the holder; kill in case it is stuck.
            drop(child.stdin.take());
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The holder process: opens `count` connections, says "ready N", reads from each until stdin
/// closes.
pub async fn hold(addr: SocketAddr, path: String, count: usize) -> anyhow::Result<()> {
    lobbywatch::sockets::raise_open_file_limit();
    let target = Target {
        addr,
        path,
        token: None,
    };
    let sockets = open_many(&target, count, None).await?;
    let mut readers = Vec::with_capacity(sockets.len());
    for mut ws in sockets {
        readers.push(tokio::spawn(async move {
            while let Some(Ok(_)) = ws.next().await {}
        }));
    }
    println!("ready {count}");
    std::io::stdout().flush()?;
    // Hold until the benchmark closes our stdin.
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    for r in readers {
        r.abort();
    }
    Ok(())
}
