//! Rate limits: a token bucket per key. Posted events are limited per device, keyed by the
//! device the token belongs to — never by IP address, which behind a proxy is everyone's; the
//! anonymous capacity calculator, which has no device, per source address.
//!
//! A bucket holds up to a window's allowance (a minute's, or for the public's joins an hour's)
//! and refills evenly, so a desk may burst (a queue of events sent after a network drop) but not
//! sustain more than its rate.

use std::net::IpAddr;

use std::hash::Hash;
use std::time::Duration;

use dashmap::DashMap;
use tokio::time::Instant;

/// Buckets kept before the first sweep of idle ones; each sweep sets the next at twice what
/// remains, so sweeping costs O(1) per `take` on average however many keys come and go.
const FIRST_SWEEP_AT: usize = 4096;

#[derive(Debug)]
pub struct RateLimiter<K: Hash + Eq> {
    /// Tokens a full bucket holds: the allowance per window.
    allowance: u32,
    /// The window the allowance refills over, in seconds.
    window_s: f64,
    buckets: DashMap<K, Bucket>,
    /// The bucket count at which the next `take` drops every full bucket. Keys such as source
    /// addresses are not a fixed set: without this, a caller with many addresses would grow
    /// the map without bound.
    sweep_at: std::sync::atomic::AtomicUsize,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(per_minute: u32) -> Self {
        Self::per_window(per_minute, Duration::from_secs(60))
    }

    /// `allowance` takes per `window`, refilled evenly over it.
    pub fn per_window(allowance: u32, window: Duration) -> Self {
        Self {
            allowance: allowance.max(1),
            window_s: window.as_secs_f64().max(1.0),
            buckets: DashMap::new(),
            sweep_at: std::sync::atomic::AtomicUsize::new(FIRST_SWEEP_AT),
        }
    }

    /// The allowance per window (per minute, for a limiter made by [`RateLimiter::new`]).
    pub fn per_minute(&self) -> u32 {
        self.allowance
    }

    /// Takes one token for `key` at `now`, or says how long until one is free.
    pub fn take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        self.sweep_if_large(now);
        let capacity = f64::from(self.allowance);
        let per_second = capacity / self.window_s;
        let mut bucket = self.buckets.entry(key.clone()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }

    /// Buckets held now (idle ones are swept once there are many).
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Drops every bucket that has refilled to full by `now` once the map has grown past the
    /// sweep mark: a full bucket is the same as none, so no limit is loosened.
    fn sweep_if_large(&self, now: Instant) {
        use std::sync::atomic::Ordering;
        if self.buckets.len() < self.sweep_at.load(Ordering::Relaxed) {
            return;
        }
        let capacity = f64::from(self.allowance);
        let per_second = capacity / self.window_s;
        self.buckets.retain(|_, b| {
            let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
            b.tokens + elapsed * per_second < capacity
        });
        let next = (self.buckets.len() * 2).max(FIRST_SWEEP_AT);
        self.sweep_at.store(next, Ordering::Relaxed);
    }
}

/// The key a source address is limited by: IPv4 as is (also when mapped into IPv6), IPv6 by
/// its /64, the block one subscriber usually holds.
pub fn address_key(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DeviceId;

    #[test]
    fn a_device_may_burst_a_minutes_allowance_then_waits_for_refill() {
        let limiter: RateLimiter<DeviceId> = RateLimiter::new(60);
        let desk = DeviceId::parse("desk-1").unwrap();
        let other = DeviceId::parse("desk-2").unwrap();
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(limiter.take(&desk, t0).is_ok());
        }
        let wait = limiter.take(&desk, t0).unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::from_millis(900),
            "{wait:?}"
        );
        assert!(
            limiter.take(&other, t0).is_ok(),
            "each device has its own bucket"
        );
        assert!(
            limiter.take(&desk, t0 + Duration::from_secs(1)).is_ok(),
            "one per second refills"
        );
        assert!(limiter.take(&desk, t0 + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn full_buckets_are_swept_once_there_are_many_and_the_others_are_kept() {
        let limiter: RateLimiter<u32> = RateLimiter::new(60);
        let t0 = Instant::now();
        for _ in 0..60 {
            limiter.take(&0, t0).unwrap(); // key 0 is now empty
        }
        for key in 1..FIRST_SWEEP_AT as u32 {
            limiter.take(&key, t0).unwrap();
        }
        assert_eq!(limiter.len(), FIRST_SWEEP_AT);
        // Half a minute on, every other key has refilled and may go; key 0 holds 30 tokens.
        let later = t0 + Duration::from_secs(30);
        limiter.take(&u32::MAX, later).unwrap();
        assert_eq!(limiter.len(), 2, "key 0 and the new key remain");
        for _ in 0..30 {
            limiter.take(&0, later).unwrap();
        }
        assert!(
            limiter.take(&0, later).is_err(),
            "the sweep did not refill key 0"
        );
    }
}
