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
//! | identifiers, events, status documents | [`domain`] |
//! | distancing rule → cap (area, exact seat set, queue line) | [`capacity`] |
//! | weekly opening hours | [`hours`] |
//! | the per-station state machine (pure) | [`engine`] |
//! | configuration file and built-in sample | [`config`] |
//! | the durable event log (SQLite, one writer, group commit) | [`store`] |
//! | idempotency keys | [`idempotency`] |
//! | the flow of one event: claim, apply, log, publish | [`ingest`] |
//! | latest documents per station, serialized once | [`hub`] |
//! | the WebSocket protocol loop | [`live`] |
//! | clock-driven document refresh | [`ticker`] |
//! | the time source (shifted for the demo) | [`clock`] |
//! | shared state and start-up replay | [`state`] |
//! | HTTP routes, auth, problem+json | [`http`] |
//! | the demo's simulated terminals | [`sim`] |

pub mod capacity;
pub mod clock;
pub mod config;
pub mod domain;
pub mod engine;
pub mod holidays;
pub mod hours;
pub mod http;
pub mod hub;
pub mod idempotency;
pub mod ingest;
pub mod live;
pub mod reports;
pub mod sim;
pub mod state;
pub mod store;
pub mod ticker;

use std::future::Future;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

pub use http::app;
pub use state::AppState;

/// Serves `state` on `listener` until `shutdown` completes, then closes every live socket with
/// 1001, lets in-flight requests finish and waits for the log to commit what it was given.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let cancel = state.shutdown.clone();
    let store = state.store.clone();
    let ticker = tokio::spawn(ticker::keep_time(state.clone()));
    // Status documents are small and latency matters more than packet count.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(cause = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: closing live sockets, finishing requests");
            cancel.cancel();
        })
        .await?;
    let _ = ticker.await;
    store.flush().await;
    tracing::info!("event log flushed; bye");
    Ok(())
}
