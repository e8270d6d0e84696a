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
//! | `check-config`: every error of a file, or what it means at each door | [`check_config`] |
//! | the durable event log: SQLite (one writer, group commit) or PostgreSQL (shared) | [`store`] |
//! | keeping up with other instances on a shared log | [`follow`] |
//! | idempotency keys | [`idempotency`] |
//! | the token table: token hashes → devices, rotation, revocation | [`tokens`] |
//! | a log compared with its acknowledgements (crash test, S7) | [`audit`] |
//! | `copy-log`: a log moved between backends, checked by replaying both | [`copy_log`] |
//! | the flow of one event: claim, apply, log, publish | [`ingest`] |
//! | latest documents per station, serialized once | [`hub`] |
//! | the WebSocket protocol loop | [`live`] |
//! | the service's own log: format, filter, privacy caps | [`logging`] |
//! | caps on open sockets | [`sockets`] |
//! | open HTTP connections: their cap, counts, each one's activity | [`connections`] |
//! | serving connections: accept loop, silent and idle connections closed | [`serve`] |
//! | entry points for fuzzing decoding and the engine | [`fuzzing`] |
//! | Prometheus metrics: counted where it happens, state read at scrape time | [`metrics`] |
//! | per-device event rate limits | [`rate_limit`] |
//! | reports and history from the log | [`reports`] |
//! | Norway's public holidays | [`holidays`] |
//! | what the clock brings: close-out, alert reviews, document refresh | [`ticker`] |
//! | the time source (shifted for the demo) | [`clock`] |
//! | shared state and start-up replay | [`state`] |
//! | reloading the config while running: what changed, what applies, what is refused | [`reload`] |
//! | when the config was loaded, the last reload's outcome | [`reload_status`] |
//! | HTTP routes, auth, problem+json | [`http`] |
//! | the demo's simulated terminals | [`sim`] |
//! | signed webhooks from a durable outbox: payloads, signatures, the deliverer | [`webhooks`] |

pub mod audit;
pub mod capacity;
pub mod check_config;
pub mod clock;
pub mod config;
pub mod connections;
pub mod copy_log;
pub mod domain;
pub mod engine;
pub mod follow;
pub mod fuzzing;
pub mod holidays;
pub mod hours;
pub mod http;
pub mod hub;
pub mod idempotency;
pub mod ingest;
pub mod live;
pub mod logging;
pub mod metrics;
pub mod rate_limit;
pub mod reload;
pub mod reload_status;
pub mod reports;
pub mod serve;
pub mod sim;
pub mod sockets;
pub mod state;
pub mod store;
pub mod ticker;
pub mod tokens;
pub mod webhooks;

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;

pub use http::app;
pub use state::AppState;

/// How long shutdown waits for in-flight requests before closing their connections anyway.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `state` on `listener` until `shutdown` completes, then stops accepting, closes every
/// live socket with 1001, lets in-flight requests finish and waits for the log to commit what it
/// was given.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let cancel = state.shutdown.clone();
    let store = state.store.clone();
    let connections = state.connections.clone();
    let sockets = state.sockets.clone();
    let limits = state.config().limits.clone();
    let timeouts = serve::Timeouts {
        first_request: Duration::from_secs(limits.header_read_timeout_s),
        idle: Duration::from_secs(limits.idle_timeout_s),
    };
    let ticker = tokio::spawn(ticker::keep_time(state.clone()));
    let follower = tokio::spawn(follow::follow(state.clone()));
    let deliverer = tokio::spawn(webhooks::deliver::deliver(state.clone()));
    let graceful = serve::accept_until(listener, app(state), connections, timeouts, shutdown).await;
    tracing::info!("shutting down: closing live sockets, finishing requests");
    cancel.cancel();
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within the drain timeout");
    }
    // Upgraded sockets are not the graceful handle's: wait (briefly) until each has sent its
    // 1001. On SQLite the log's flush used to give them that time by chance; on PostgreSQL there
    // is nothing to flush, and the process would exit under them.
    let closed = async {
        while sockets.open() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), closed).await;
    let _ = ticker.await;
    let _ = follower.await;
    let _ = deliverer.await;
    store.flush().await;
    tracing::info!("event log flushed; bye");
    Ok(())
}
