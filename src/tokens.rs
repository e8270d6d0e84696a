//! The token table: bearer tokens → devices, with rotation and run-time revocation.
//!
//! Tokens are never stored: the config holds their SHA-256, and a presented token is hashed and
//! its hash looked up. The look-up's timing can at most say how close the *hash* of a guess came
//! to a known hash, which says nothing about a token that hashes to it (SHA-256 is preimage
//! resistant) — the reasoning behind any token store keyed by hash. A linear constant-time scan
//! would cost every request time in proportion to the number of devices: thousands in a national
//! deployment. A device may hold two tokens while one replaces the other (rotation), and an admin
//! may revoke a device's tokens at run time (kept in the log, so a restart does not bring them
//! back). A reload of the config replaces the devices ([`Tokens::replace`]) and keeps the revoked
//! hashes, so a token revoked at run time stays revoked whatever the file says. What a device may
//! do with its token is decided in `http/auth.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};

use crate::config::{Config, Device};
use crate::domain::DeviceId;

/// Token hashes → devices, and the hashes revoked at run time.
#[derive(Debug, Default)]
pub struct Tokens {
    /// Swapped whole by a reload; every look-up reads it without a lock.
    known: ArcSwap<HashMap<[u8; 32], Arc<Device>>>,
    revoked: RwLock<HashSet<[u8; 32]>>,
}

/// Why a presented token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// No token was presented.
    Missing,
    /// No device holds this token.
    Unknown,
    /// An admin revoked this token.
    Revoked,
}

impl Tokens {
    /// The config's devices; `revoked` are the hashes the log says were revoked.
    pub fn new(config: &Config, revoked: HashSet<[u8; 32]>) -> Self {
        Self {
            known: ArcSwap::from_pointee(by_hash(config)),
            revoked: RwLock::new(revoked),
        }
    }

    /// Serves `config`'s devices from now on (a reload); the revoked hashes stay revoked.
    pub fn replace(&self, config: &Config) {
        self.known.store(Arc::new(by_hash(config)));
    }

    /// The device holding `token`: one hash and one look-up, however many devices there are.
    pub fn authenticate(&self, token: &str) -> Result<Arc<Device>, Rejected> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let device = self
            .known
            .load()
            .get(&hash)
            .cloned()
            .ok_or(Rejected::Unknown)?;
        if self.revoked.read().is_ok_and(|r| r.contains(&hash)) {
            return Err(Rejected::Revoked);
        }
        Ok(device)
    }

    /// Resolves a presented token, if one was presented at all.
    pub fn require(&self, token: Option<&str>) -> Result<Arc<Device>, Rejected> {
        self.authenticate(token.ok_or(Rejected::Missing)?)
    }

    /// The hashes of `device`'s tokens that are not yet revoked.
    pub fn unrevoked_of(&self, device: &DeviceId) -> Vec<[u8; 32]> {
        self.tokens_of(device)
            .into_iter()
            .filter(|(_, revoked)| !revoked)
            .map(|(h, _)| h)
            .collect()
    }

    /// `device`'s token hashes, each with whether it is revoked.
    fn tokens_of(&self, device: &DeviceId) -> Vec<([u8; 32], bool)> {
        let revoked = self.revoked.read().ok();
        self.known
            .load()
            .iter()
            .filter(|(_, d)| d.id == *device)
            .map(|(h, _)| (*h, revoked.as_ref().is_some_and(|r| r.contains(h))))
            .collect()
    }

    /// Marks `hashes` revoked (after the log has recorded it).
    pub fn revoke(&self, hashes: &[[u8; 32]]) {
        if let Ok(mut r) = self.revoked.write() {
            r.extend(hashes.iter().copied());
        }
    }

    /// How many of `device`'s tokens are revoked.
    pub fn revoked_count(&self, device: &DeviceId) -> usize {
        self.tokens_of(device)
            .into_iter()
            .filter(|(_, revoked)| *revoked)
            .count()
    }
}

/// Each token hash of `config`'s devices → its device.
fn by_hash(config: &Config) -> HashMap<[u8; 32], Arc<Device>> {
    config
        .devices
        .iter()
        .flat_map(|d| {
            let device = Arc::new(d.clone());
            d.tokens_sha256.iter().map(move |h| (*h, device.clone()))
        })
        .collect()
}
