//! How many live sockets are open — overall, per device, without a token and per source
//! address — and the caps on each.
//!
//! Opening a socket takes a [`SocketPermit`]; dropping it (the socket ended) gives it back. A
//! device that opens socket after socket — a broken page reloading in a loop, a hostile client —
//! reaches its own cap and cannot starve the others; the overall cap bounds the service's memory.
//! Sockets without a token (the public page, anyone on the internet) share a smaller allowance
//! inside the overall cap, and each source address only a few of those: however many anonymous
//! connections arrive, `max_sockets - max_public_sockets` places stay free for the guards,
//! terminals and displays that keep order.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use dashmap::DashMap;
use tokio_util::sync::CancellationToken;

use crate::config::Limits;
use crate::domain::DeviceId;

/// Raises this process's open-file limit to the hard limit and returns the limit now in force:
/// every socket is a file descriptor, and the usual soft limit of 1,024 is far below the
/// thousands of sockets a service (or the benchmark's clients) hold.
pub fn raise_open_file_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX)
        .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
        .unwrap_or(1024)
}

/// Who holds a socket: a device (by its token), or nobody in particular from an address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Holder {
    Device(DeviceId),
    Public(IpAddr),
}

/// What a socket streams, for the metrics: a station's full document, its public document, or a
/// guard's several stations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    Full,
    Public,
    MultiStation,
}

impl SocketKind {
    pub const ALL: [SocketKind; 3] = [
        SocketKind::Full,
        SocketKind::Public,
        SocketKind::MultiStation,
    ];

    /// The metrics' label value.
    pub fn as_str(self) -> &'static str {
        match self {
            SocketKind::Full => "full",
            SocketKind::Public => "public",
            SocketKind::MultiStation => "multi_station",
        }
    }
}

/// The counts and caps as a scrape reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketGauges {
    /// Open sockets by [`SocketKind`], in the order of [`SocketKind::ALL`].
    pub by_kind: [usize; 3],
    /// Open sockets without a token (inside the public allowance).
    pub anonymous: usize,
    pub max_total: usize,
    pub max_anonymous: usize,
}

/// Which cap refused a socket; its text is the close frame's reason, which the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Overall,
    Device,
    Public,
    Address,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Overall => "too many live connections; try again later",
            Refusal::Device => "this device has too many live connections open; close one",
            Refusal::Public => "too many public live connections; try again later",
            Refusal::Address => "too many public live connections from this address",
        }
    }
}

/// The counts, all behind one lock: a socket is checked against every cap and counted in one
/// step, so two opening at once can never both take the last place.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    public: usize,
    /// By [`SocketKind`], in the order of [`SocketKind::ALL`] (for the metrics).
    by_kind: [usize; 3],
    /// Entries are removed at zero, so the maps do not grow with every client that ever came.
    per_holder: HashMap<Holder, usize>,
}

#[derive(Debug)]
pub struct SocketCounts {
    max_total: usize,
    max_per_device: usize,
    max_public: usize,
    max_per_address: usize,
    open: Mutex<Open>,
    /// Fired when a device's tokens are revoked: every socket of that device closes.
    revoked: DashMap<DeviceId, CancellationToken>,
}

/// One open socket's place; given back on drop.
#[derive(Debug)]
pub struct SocketPermit {
    counts: Arc<SocketCounts>,
    holder: Holder,
    kind: SocketKind,
    /// Cancelled when the device's tokens are revoked (never, for a public socket).
    pub revoked: CancellationToken,
}

impl SocketCounts {
    pub fn new(limits: &Limits) -> Arc<Self> {
        Arc::new(Self {
            max_total: limits.max_sockets,
            max_per_device: limits.max_sockets_per_device,
            max_public: limits.max_public_sockets,
            max_per_address: limits.max_public_sockets_per_address,
            open: Mutex::default(),
            revoked: DashMap::new(),
        })
    }

    /// A place for one more socket of `holder`, or the cap that refuses it.
    pub fn try_open(
        self: &Arc<Self>,
        holder: Holder,
        kind: SocketKind,
    ) -> Result<SocketPermit, Refusal> {
        {
            let mut open = self.lock();
            let mine = open.per_holder.get(&holder).copied().unwrap_or(0);
            let public = matches!(holder, Holder::Public(_));
            if public && mine >= self.max_per_address {
                return Err(Refusal::Address);
            }
            if public && open.public >= self.max_public {
                return Err(Refusal::Public);
            }
            if !public && mine >= self.max_per_device {
                return Err(Refusal::Device);
            }
            if open.total >= self.max_total {
                return Err(Refusal::Overall);
            }
            open.total += 1;
            open.public += usize::from(public);
            open.by_kind[kind as usize] += 1;
            open.per_holder.insert(holder.clone(), mine + 1);
        }
        let revoked = match &holder {
            Holder::Device(d) => self.revoked.entry(d.clone()).or_default().child_token(),
            Holder::Public(_) => CancellationToken::new(),
        };
        Ok(SocketPermit {
            counts: self.clone(),
            holder,
            kind,
            revoked,
        })
    }

    /// Closes every open socket of `device`; returns how many there were.
    pub fn revoke(&self, device: &DeviceId) -> usize {
        let holder = Holder::Device(device.clone());
        let open = self.lock().per_holder.get(&holder).copied().unwrap_or(0);
        if let Some((_, signal)) = self.revoked.remove(device) {
            signal.cancel();
        }
        open
    }

    pub fn open(&self) -> usize {
        self.lock().total
    }

    /// The counts and caps now (a scrape).
    pub fn gauges(&self) -> SocketGauges {
        let open = self.lock();
        SocketGauges {
            by_kind: open.by_kind,
            anonymous: open.public,
            max_total: self.max_total,
            max_anonymous: self.max_public,
        }
    }

    /// The counts stay consistent even if a holder of the lock panicked: every update is a
    /// few integer steps with nothing that can panic between them.
    fn lock(&self) -> MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let mut open = self.counts.lock();
        open.total -= 1;
        open.by_kind[self.kind as usize] -= 1;
        if matches!(self.holder, Holder::Public(_)) {
            open.public -= 1;
        }
        if let Some(n) = open.per_holder.get_mut(&self.holder) {
            *n -= 1;
            if *n == 0 {
                open.per_holder.remove(&self.holder);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, device: usize, public: usize, address: usize) -> Limits {
        Limits {
            max_sockets: total,
            max_sockets_per_device: device,
            max_public_sockets: public,
            max_public_sockets_per_address: address,
            ..Limits::default()
        }
    }

    fn device(id: &str) -> Holder {
        Holder::Device(DeviceId::parse(id).unwrap())
    }

    fn address(last: u8) -> Holder {
        Holder::Public(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn caps_hold_overall_and_per_device_and_places_come_back() {
        let counts = SocketCounts::new(&limits(3, 2, 2, 20));
        let a = counts
            .try_open(device("oslo-guard"), SocketKind::Full)
            .unwrap();
        let _b = counts
            .try_open(device("oslo-guard"), SocketKind::Full)
            .unwrap();
        assert_eq!(
            counts
                .try_open(device("oslo-guard"), SocketKind::Full)
                .unwrap_err(),
            Refusal::Device
        );
        let _public = counts.try_open(address(1), SocketKind::Public).unwrap();
        assert_eq!(
            counts
                .try_open(device("other"), SocketKind::Full)
                .unwrap_err(),
            Refusal::Overall
        );
        assert_eq!(counts.open(), 3);
        drop(a);
        assert_eq!(counts.open(), 2);
        assert!(
            counts
                .try_open(device("oslo-guard"), SocketKind::Full)
                .is_ok()
        );
    }

    #[test]
    fn public_sockets_never_take_the_places_kept_for_devices() {
        let counts = SocketCounts::new(&limits(5, 8, 3, 2));
        let _held: Vec<_> = [1, 1, 2]
            .into_iter()
            .map(|a| counts.try_open(address(a), SocketKind::Public).unwrap())
            .collect();
        assert_eq!(
            counts.try_open(address(3), SocketKind::Public).unwrap_err(),
            Refusal::Public
        );
        let _guard = counts
            .try_open(device("oslo-guard"), SocketKind::Full)
            .unwrap();
        let _display = counts
            .try_open(device("small-display"), SocketKind::Full)
            .unwrap();
        assert_eq!(counts.open(), 5);
    }

    #[test]
    fn one_address_gets_only_its_own_share_of_public_sockets() {
        let counts = SocketCounts::new(&limits(10, 8, 8, 2));
        let first = counts.try_open(address(1), SocketKind::Public).unwrap();
        let _second = counts.try_open(address(1), SocketKind::Public).unwrap();
        assert_eq!(
            counts.try_open(address(1), SocketKind::Public).unwrap_err(),
            Refusal::Address
        );
        assert!(
            counts.try_open(address(2), SocketKind::Public).is_ok(),
            "another address"
        );
        drop(first);
        assert!(
            counts.try_open(address(1), SocketKind::Public).is_ok(),
            "a place came back"
        );
    }

    #[test]
    fn sockets_are_counted_by_kind_until_they_close() {
        let counts = SocketCounts::new(&limits(10, 8, 8, 4));
        let full = counts
            .try_open(device("oslo-guard"), SocketKind::Full)
            .unwrap();
        let _multi = counts
            .try_open(device("oslo-guard"), SocketKind::MultiStation)
            .unwrap();
        let _public = counts.try_open(address(1), SocketKind::Public).unwrap();
        let _display = counts
            .try_open(device("small-display"), SocketKind::Public)
            .unwrap();
        let gauges = counts.gauges();
        assert_eq!(gauges.by_kind, [1, 2, 1], "full, public, multi_station");
        assert_eq!(gauges.anonymous, 1, "the display's socket has a token");
        assert_eq!((gauges.max_total, gauges.max_anonymous), (10, 8));
        drop(full);
        assert_eq!(counts.gauges().by_kind, [0, 2, 1]);
    }
}
