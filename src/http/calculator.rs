//! The capacity calculator's work for anonymous callers, bounded so that it cannot be used to
//! burn the CPU that ingest needs.
//!
//! `POST /api/v1/capacity` needs no token, and a dense 500-chair plan could once take seconds
//! of solver time, which went on after the request had timed out. Four bounds, each cheap:
//! * a **deterministic node budget** per request (`[limits] capacity_search_nodes`): the
//!   densest plan answers in well under a second with the best valid set found and
//!   `exact: false`;
//! * a **fixed number of solvers** at once (`[limits] capacity_solvers`): one more request is
//!   refused at once ([`Refused::Busy`]), never queued — a queue would only turn an attack into
//!   minutes of CPU owed;
//! * **cancellation**: the solver stops at its next check once the caller is gone (the request
//!   timed out, or the client hung up), so no CPU is spent on an answer nobody reads;
//! * a **per-address rate limit** (`[limits] capacity_per_minute_per_address`), since there is no
//!   device to limit. IPv6 callers are limited per /64, the block one subscriber usually holds.
//!
//! The solver runs on a thread of its own at the lowest scheduling priority (nice 19 on
//! Linux): what CPU it gets is what ingest and the sockets leave over.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::time::Instant;

use crate::capacity::{self, AreaModel, Capacity, GeometryError, RoomGeometry, SearchBudget};
use crate::config::Limits;
use crate::rate_limit::{RateLimiter, address_key as rate_key};

/// The calculator's limits, shared by every request to it.
#[derive(Debug)]
pub struct Calculator {
    /// One permit per solver allowed at once; a permit lives as long as its solver thread, not
    /// as long as the request, so a caller that hangs up frees it only when the work stops.
    solvers: Arc<Semaphore>,
    /// Requests per source address (a /64 for IPv6).
    per_address: RateLimiter<IpAddr>,
    /// Search nodes per request.
    search_nodes: u64,
}

/// Why a request was not given a solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This address asked too often; a token is free after the duration.
    RateLimited { per_minute: u32, wait: Duration },
    /// Every solver is busy.
    Busy,
}

/// A solver slot, taken by [`Calculator::admit`] and used by [`Calculator::derive`]; the slot
/// is free again when this is dropped.
#[derive(Debug)]
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
}

/// How long a solver rests after a search, as a multiple of the search's time: with 3 it
/// searches at most a quarter of the time, on at most `capacity_solvers` threads.
const REST_PER_SEARCH: u32 = 3;

/// Sets the stop flag when dropped: the handler holds it while it waits, so a handler future
/// that is dropped (a timeout, a client gone) stops its solver.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Calculator {
    pub fn new(limits: &Limits) -> Self {
        Self {
            solvers: Arc::new(Semaphore::new(limits.capacity_solvers)),
            per_address: RateLimiter::new(limits.capacity_per_minute_per_address),
            search_nodes: limits.capacity_search_nodes,
        }
    }

    /// Admits a request from `peer` at `now`: its address's rate first (a refused request costs
    /// nothing more), then a free solver.
    pub fn admit(&self, peer: IpAddr, now: Instant) -> Result<Admitted, Refused> {
        self.per_address
            .take(&rate_key(peer), now)
            .map_err(|wait| Refused::RateLimited {
                per_minute: self.per_address.per_minute(),
                wait,
            })?;
        let permit = self
            .solvers
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refused::Busy)?;
        Ok(Admitted { _permit: permit })
    }

    /// Derives the cap of `room` on a low-priority thread within a request's budget. Dropping
    /// the returned future stops the search; the solver's permit is returned when its thread
    /// ends. [`SolverGone`] means the thread could not be started or died.
    pub async fn derive(
        &self,
        admitted: Admitted,
        room: RoomGeometry,
        distancing_m: f64,
        model: AreaModel,
    ) -> Result<Result<Capacity, GeometryError>, SolverGone> {
        let stop = Arc::new(AtomicBool::new(false));
        let _stop_on_drop = StopOnDrop(stop.clone());
        let (done, answer) = oneshot::channel();
        let nodes = self.search_nodes;
        std::thread::Builder::new()
            .name("seat-solver".into())
            .spawn(move || {
                lower_this_threads_priority();
                let started = std::time::Instant::now();
                let budget = SearchBudget::request(nodes, &stop);
                let answer = capacity::derive_within(&room, distancing_m, model, budget);
                let searched = started.elapsed();
                // The solver rests in proportion to what it worked before it takes the next
                // request, so however hard it is pushed it searches at most 1 / (1 + REST) of
                // the time: nice 19 alone still let a busy solver double ingest's p99 (bench S8).
                // The rest is taken before answering, so the caller's next request finds the
                // solver free again; a small room's rest is microseconds.
                std::thread::sleep(searched * REST_PER_SEARCH);
                drop(admitted);
                let _ = done.send(answer);
            })
            .map_err(|e| {
                tracing::error!(cause = %e, "could not start a seat solver thread");
                SolverGone
            })?;
        answer.await.map_err(|_| SolverGone)
    }
}

/// The solver thread could not be started, or ended without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SolverGone;

/// Nice 19 for the calling thread only (Linux sets niceness per thread). Raising one's own
/// niceness needs no privilege; if it fails anyway the search runs at normal priority, still
/// bounded by its budget, so it is logged and not refused.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19) {
        tracing::warn!(cause = %e, "could not lower the seat solver's priority");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn limits(per_minute: u32, solvers: usize) -> Limits {
        Limits {
            capacity_per_minute_per_address: per_minute,
            capacity_solvers: solvers,
            ..Limits::default()
        }
    }

    #[test]
    fn ipv6_callers_share_a_limit_per_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(rate_key(a), rate_key(b));
        assert_ne!(rate_key(a), rate_key(other));
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 7).to_ipv6_mapped());
        assert_eq!(rate_key(mapped), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
        assert_eq!(
            rate_key(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            "::".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_request_over_the_solver_limit_is_refused_at_once_and_admitted_once_one_is_free() {
        let calc = Calculator::new(&limits(100, 1));
        let now = Instant::now();
        let first = calc.admit(Ipv4Addr::LOCALHOST.into(), now).unwrap();
        assert_eq!(
            calc.admit(Ipv4Addr::new(10, 0, 0, 2).into(), now)
                .unwrap_err(),
            Refused::Busy
        );
        drop(first);
        assert!(calc.admit(Ipv4Addr::new(10, 0, 0, 2).into(), now).is_ok());
    }

    #[test]
    fn an_address_over_its_rate_is_refused_while_another_is_not() {
        let calc = Calculator::new(&limits(2, 8));
        let now = Instant::now();
        let me: IpAddr = Ipv4Addr::new(10, 0, 0, 1).into();
        let _a = calc.admit(me, now).unwrap();
        let _b = calc.admit(me, now).unwrap();
        assert!(matches!(
            calc.admit(me, now),
            Err(Refused::RateLimited { per_minute: 2, wait }) if wait > Duration::from_secs(20)
        ));
        assert!(calc.admit(Ipv4Addr::new(10, 0, 0, 2).into(), now).is_ok());
    }
}
