//! Per-device rate limits on posted events: a token bucket per device, keyed by the device the
//! token belongs to — never by IP address, which behind a proxy is everyone's.
//!
//! A bucket holds up to a minute's allowance and refills evenly, so a desk may burst (a queue of
//! events sent after a network drop) but not sustain more than its rate.

use std::time::Duration;

use dashmap::DashMap;
use tokio::time::Instant;

use crate::domain::DeviceId;

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: DashMap<DeviceId, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            buckets: DashMap::new(),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Takes one event's token for `device` at `now`, or says how long until one is free.
    pub fn take(&self, device: &DeviceId, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut bucket = self.buckets.entry(device.clone()).or_insert(Bucket {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_may_burst_a_minutes_allowance_then_waits_for_refill() {
        let limiter = RateLimiter::new(60);
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
}
