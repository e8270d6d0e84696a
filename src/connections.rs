//! HTTP connections: how many are open and the cap on them, what was refused, and each
//! connection's activity, by which an idle or silent one is closed.
//!
//! Every accepted TCP connection takes a [`ConnectionPermit`] until it ends — or until it becomes
//! a live socket, which is counted by `sockets` instead. So connections that never send a request
//! (or that idle between requests) are bounded by `[limits] max_connections`, below the process's
//! open-file limit, and can never take the file descriptors live sockets need. A connection that
//! has not sent a whole request within the header-read timeout, whatever its protocol (a silent
//! TCP peer, an HTTP/2 preface and nothing more), or that idles longer than the idle timeout
//! between requests, is closed: [`Activity::deadline`] says when.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::futures::Notified;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The open HTTP connections and what happened at the door.
#[derive(Debug)]
pub struct Connections {
    max: usize,
    permits: Arc<Semaphore>,
    refused: AtomicU64,
    accept_errors: AtomicU64,
}

/// One connection's place under the cap; given back on drop.
#[derive(Debug)]
pub struct ConnectionPermit {
    _place: OwnedSemaphorePermit,
}

/// What `/healthz` reports of the connections.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ConnectionCounts {
    pub open: usize,
    pub max: usize,
    /// Connections closed at once because `max` were open.
    pub refused: u64,
    /// Failed `accept` calls (e.g. out of file descriptors); each backs off before the next.
    pub accept_errors: u64,
}

impl Connections {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            permits: Arc::new(Semaphore::new(max)),
            refused: AtomicU64::new(0),
            accept_errors: AtomicU64::new(0),
        })
    }

    /// A place for a newly accepted connection, or `None` (counted) when the cap is reached.
    pub fn admit(&self) -> Option<ConnectionPermit> {
        let permit = self.permits.clone().try_acquire_owned().ok();
        if permit.is_none() {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        permit.map(|place| ConnectionPermit { _place: place })
    }

    /// Counts a failed `accept`; returns how many there have been.
    pub fn accept_failed(&self) -> u64 {
        self.accept_errors.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn counts(&self) -> ConnectionCounts {
        ConnectionCounts {
            open: self.max - self.permits.available_permits(),
            max: self.max,
            refused: self.refused.load(Ordering::Relaxed),
            accept_errors: self.accept_errors.load(Ordering::Relaxed),
        }
    }
}

/// One connection's requests: how many are in flight, how many there were, and when the last
/// one ended. The connection's watchdog waits on it.
#[derive(Debug)]
pub struct Activity {
    state: Mutex<Seen>,
    changed: Notify,
}

#[derive(Debug)]
struct Seen {
    in_flight: usize,
    requests: u64,
    since: Instant,
}

/// Held while a request is being answered; its drop marks the connection active until now.
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(Seen {
                in_flight: 0,
                requests: 0,
                since: Instant::now(),
            }),
            changed: Notify::new(),
        })
    }

    /// A request has arrived (its head is read).
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.update(|seen| {
            seen.in_flight += 1;
            seen.requests += 1;
        });
        InFlight(self.clone())
    }

    /// When the connection is to be closed if nothing changes: `first` after it opened while
    /// no request has come, `idle` after the last answer; never while a request is in flight.
    pub fn deadline(&self, first: Duration, idle: Duration) -> Option<Instant> {
        let seen = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match (seen.in_flight, seen.requests) {
            (0, 0) => Some(seen.since + first),
            (0, _) => Some(seen.since + idle),
            _ => None,
        }
    }

    /// Completes when a request begins or ends after this call (take it before reading the
    /// deadline, so that no change in between is missed).
    pub fn changed(&self) -> Notified<'_> {
        self.changed.notified()
    }

    fn update(&self, change: impl FnOnce(&mut Seen)) {
        {
            let mut seen = self.state.lock().unwrap_or_else(|e| e.into_inner());
            change(&mut seen);
            seen.since = Instant::now();
        }
        self.changed.notify_waiters();
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.update(|seen| seen.in_flight -= 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Duration = Duration::from_secs(10);
    const IDLE: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_is_due_after_the_first_request_timeout_and_an_idle_one_after_idling()
     {
        let activity = Activity::new();
        let opened = Instant::now();
        assert_eq!(activity.deadline(FIRST, IDLE), Some(opened + FIRST));
        tokio::time::advance(Duration::from_secs(3)).await;
        let request = activity.begin();
        assert_eq!(
            activity.deadline(FIRST, IDLE),
            None,
            "never while answering"
        );
        tokio::time::advance(Duration::from_secs(100)).await;
        drop(request);
        let answered = Instant::now();
        assert_eq!(activity.deadline(FIRST, IDLE), Some(answered + IDLE));
    }

    #[test]
    fn the_cap_refuses_and_counts_and_a_place_comes_back_on_drop() {
        let connections = Connections::new(2);
        let a = connections.admit().expect("a place");
        let _b = connections.admit().expect("a place");
        assert!(connections.admit().is_none());
        assert_eq!(connections.counts().refused, 1);
        assert_eq!(connections.counts().open, 2);
        drop(a);
        assert!(connections.admit().is_some());
    }
}
