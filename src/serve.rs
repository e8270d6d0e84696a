//! Serving connections: the accept loop, the cap on open connections, each connection's
//! watchdog, and graceful shutdown.
//!
//! Connections are served by hyper directly (not `axum::serve`) for what axum does not expose:
//! a header-read timeout, and closing a connection that is silent or idle whatever its protocol.
//! Each connection is served by the router wrapped with its peer's address (axum's
//! `ConnectInfo`, for limits by source address) and with its [`Activity`], which its watchdog
//! reads: a connection that has not sent a request within the header-read timeout, or has
//! idled longer than the idle timeout between requests, is closed. A failed `accept` (out of
//! file descriptors, say) is counted and backed off, never retried in a tight loop.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower_layer::Layer;
use tower_service::Service;

use crate::connections::{Activity, ConnectionPermit, Connections};

/// How long the accept loop waits after a failed `accept` before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The timeouts every connection is held to.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From opening until a request's head has arrived.
    pub first_request: Duration,
    /// From the end of an answer until the next request arrives.
    pub idle: Duration,
}

/// Accepts connections on `listener` and serves `router` on each until `shutdown` completes;
/// returns the graceful-shutdown handle of the connections still open.
pub async fn accept_until(
    listener: TcpListener,
    router: Router,
    connections: Arc<Connections>,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()>,
) -> GracefulShutdown {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.first_request);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of descriptors this repeats every backoff: logged on the 1st, 2nd,
                    // 4th, 8th … failure, so the log says it goes on without being flooded.
                    let failures = connections.accept_failed();
                    if failures.is_power_of_two() {
                        tracing::warn!(cause = %e, failures, "accept failed (counted in /healthz)");
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(permit) = connections.admit() else {
            tracing::warn!("connection refused: [limits] max_connections are open");
            continue;
        };
        serve_one(&builder, &graceful, &router, tcp, peer, permit, timeouts);
    }
    graceful
}

/// Serves one connection in a task of its own, under its watchdog.
fn serve_one(
    builder: &auto::Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    router: &Router,
    tcp: TcpStream,
    peer: std::net::SocketAddr,
    permit: ConnectionPermit,
    timeouts: Timeouts,
) {
    // Status documents are small and latency matters more than packet count.
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::warn!(cause = %e, "could not set TCP_NODELAY");
    }
    let activity = Activity::new();
    let service = Tracked {
        inner: Extension(ConnectInfo(peer)).layer(router.clone()),
        activity: activity.clone(),
    };
    let conn = builder
        .serve_connection_with_upgrades(TokioIo::new(tcp), TowerToHyperService::new(service))
        .into_owned();
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        // The place is held until the connection ends — or turns into a live socket, whose
        // upgrade ends the HTTP connection and which `sockets` counts from then on.
        let _permit = permit;
        match watched(conn, &activity, timeouts).await {
            Some(Err(e)) => tracing::debug!(cause = %e, "connection ended with an error"),
            Some(Ok(())) => {}
            None => tracing::debug!("silent or idle connection closed"),
        }
    });
}

/// Runs `conn` until it ends (`Some`), or until it has been silent or idle past its deadline
/// (`None`: the connection is dropped, which closes it).
async fn watched<F: Future>(conn: F, activity: &Activity, timeouts: Timeouts) -> Option<F::Output> {
    tokio::pin!(conn);
    loop {
        let changed = activity.changed();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let deadline = activity.deadline(timeouts.first_request, timeouts.idle);
        tokio::select! {
            ended = &mut conn => return Some(ended),
            () = &mut changed => {}
            () = sleep_until(deadline) => {
                if activity.deadline(timeouts.first_request, timeouts.idle) == deadline {
                    return None;
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The router with a connection's activity noted: each request is in flight from its arrival
/// until its answer is ready.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S, B> Service<Request<B>> for Tracked<S>
where
    S: Service<Request<B>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let in_flight = self.activity.begin();
        let answer = self.inner.call(req);
        Box::pin(async move {
            let response = answer.await;
            drop(in_flight);
            response
        })
    }
}
