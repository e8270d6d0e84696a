//! How many live sockets are open, overall and per device, and the caps on both.
//!
//! Opening a socket takes a [`SocketPermit`]; dropping it (the socket ended) gives it back. A
//! device that opens socket after socket — a broken page reloading in a loop, a hostile client —
//! reaches its own cap and cannot starve the others; the overall cap bounds the service's memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dashmap::DashMap;
use tokio_util::sync::CancellationToken;

use crate::domain::DeviceId;

/// Raises this process's open-file limit to the hard limit and returns the limit now in force:
/// every socket is a file descriptor, and the usual soft limit of 1,024 is far below the
/// thousands of sockets a service (or the benchmark's clients) hold.
pub fn raise_open_file_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX)
        .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
        .unwrap_or(1024)
}

#[derive(Debug)]
pub struct SocketCounts {
    max_total: usize,
    max_per_device: usize,
    total: AtomicUsize,
    per_device: DashMap<DeviceId, usize>,
    /// Fired when a device's tokens are revoked: every socket of that device closes.
    revoked: DashMap<DeviceId, CancellationToken>,
}

/// One open socket's place; given back on drop.
#[derive(Debug)]
pub struct SocketPermit {
    counts: Arc<SocketCounts>,
    device: Option<DeviceId>,
    /// Cancelled when the device's tokens are revoked (never, for a public socket).
    pub revoked: CancellationToken,
}

impl SocketCounts {
    pub fn new(max_total: usize, max_per_device: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_device,
            total: AtomicUsize::new(0),
            per_device: DashMap::new(),
            revoked: DashMap::new(),
        })
    }

    /// A place for one more socket of `device` (`None`: a public socket), if both caps allow.
    pub fn try_open(self: &Arc<Self>, device: Option<&DeviceId>) -> Option<SocketPermit> {
        let taken = self
            .total
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_total).then_some(n + 1)
            });
        if taken.is_err() {
            return None;
        }
        if let Some(device) = device {
            let mut open = self.per_device.entry(device.clone()).or_insert(0);
            if *open >= self.max_per_device {
                drop(open);
                self.total.fetch_sub(1, Ordering::AcqRel);
                return None;
            }
            *open += 1;
        }
        let revoked = match device {
            Some(d) => self.revoked.entry(d.clone()).or_default().child_token(),
            None => CancellationToken::new(),
        };
        Some(SocketPermit {
            counts: self.clone(),
            device: device.cloned(),
            revoked,
        })
    }

    /// Closes every open socket of `device`; returns how many there were.
    pub fn revoke(&self, device: &DeviceId) -> usize {
        let open = self.per_device.get(device).map_or(0, |n| *n);
        if let Some((_, signal)) = self.revoked.remove(device) {
            signal.cancel();
        }
        open
    }

    pub fn open(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        if let Some(device) = &self.device {
            // Remove the entry when it reaches zero, so the map does not grow with every device
            // that ever connected.
            self.counts.per_device.remove_if_mut(device, |_, open| {
                *open -= 1;
                *open == 0
            });
        }
        self.counts.total.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_overall_and_per_device_and_places_come_back() {
        let counts = SocketCounts::new(3, 2);
        let guard = DeviceId::parse("oslo-guard").unwrap();
        let a = counts.try_open(Some(&guard)).unwrap();
        let _b = counts.try_open(Some(&guard)).unwrap();
        assert!(counts.try_open(Some(&guard)).is_none(), "per-device cap");
        let _public = counts.try_open(None).unwrap();
        assert!(counts.try_open(None).is_none(), "overall cap");
        assert_eq!(counts.open(), 3);
        drop(a);
        assert_eq!(counts.open(), 2);
        assert!(counts.try_open(Some(&guard)).is_some());
    }
}
