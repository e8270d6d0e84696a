//! # lobbywatch
//!
//! A waiting-room occupancy and queue monitor for public offices that must keep visitors apart.
//! Front-desk terminals post check-in and check-out events; the service keeps each station's
//! headcount under a cap derived from the distancing rule and the room's geometry, queues the
//! overflow outside in order, logs every event durably, and pushes live status to guard
//! dashboards, lobby displays and the public page over WebSockets.
//!
//! ## Where each concept lives
//! | concept | module |
//! |---|---|
//! | identifiers, events, alerts, status documents | [`domain`] |
//! | distancing rule → cap (area, exact seat set, queue line) | [`capacity`] |
//! | opening hours: week, exceptions, holidays | [`hours`] |
//! | the per-station state machine (pure) | [`engine`] |
//! | configuration file and built-in sample | [`config`] |
//! | the durable event log (SQLite, one writer, group commit) | [`store`] |
//! | idempotency keys | [`idempotency`] |
//! | the token table: token hashes → devices, rotation, revocation | [`tokens`] |
//! | a log compared with its acknowledgements (crash test, S7) | [`audit`] |
//! | the flow of one event: claim, apply, log, publish | [`ingest`] |
//! | latest documents per station, serialized once | [`hub`] |
//! | the WebSocket protocol loop | [`live`] |
//! | caps on open sockets | [`sockets`] |
//! | entry points for fuzzing decoding and the engine | [`fuzzing`] |
//! | per-device event rate limits | [`rate_limit`] |
//! | reports and history from the log | [`reports`] |
//! | Norway's public holidays | [`holidays`] |
//! | what the clock brings: close-out, alert reviews, document refresh | [`ticker`] |
//! | the time source (shifted for the demo) | [`clock`] |
//! | shared state and start-up replay | [`state`] |
//! | HTTP routes, auth, problem+json | [`http`] |
//! | the demo's simulated terminals | [`sim`] |

pub mod audit;
pub mod capacity;
pub mod clock;
pub mod config;
pub mod domain;
pub mod engine;
pub mod fuzzing;
pub mod holidays;
pub mod hours;
pub mod http;
pub mod hub;
pub mod idempotency;
pub mod ingest;
pub mod live;
pub mod rate_limit;
pub mod reports;
pub mod sim;
pub mod sockets;
pub mod state;
pub mod store;
pub mod ticker;
pub mod tokens;

use std::future::Future;
use std::time::Duration;

use axum::Extension;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_layer::Layer;

pub use http::app;
pub use state::AppState;

/// How long shutdown waits for in-flight requests before closing their connections anyway.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `state` on `listener` until `shutdown` completes, then stops accepting, closes every
/// live socket with 1001, lets in-flight requests finish and waits for the log to commit what it
/// was given.
///
/// Connections are served by hyper directly (not `axum::serve`) for the one setting axum does not
/// expose: a header-read timeout, so a client that trickles its headers cannot hold a connection
/// open forever.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let cancel = state.shutdown.clone();
    let store = state.store.clone();
    let ticker = tokio::spawn(ticker::keep_time(state.clone()));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(
            state.config.limits.header_read_timeout_s,
        ));
    let router = app(state);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(cause = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Status documents are small and latency matters more than packet count.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(cause = %e, "could not set TCP_NODELAY");
        }
        // Handlers that limit by source address read it as axum's `ConnectInfo`.
        let service = TowerToHyperService::new(Extension(ConnectInfo(peer)).layer(router.clone()));
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(tcp), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(cause = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: closing live sockets, finishing requests");
    cancel.cancel();
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within the drain timeout");
    }
    let _ = ticker.await;
    store.flush().await;
    tracing::info!("event log flushed; bye");
    Ok(())
}
