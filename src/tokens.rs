//! The token table: bearer tokens → devices, with rotation and run-time revocation.
//!
//! Tokens are never stored: the config holds their SHA-256, and a presented token is hashed and
//! its hash looked up. The look-up's timing can at most say how close the *hash* of a guess came
//! to a known hash, which says nothing about a token that hashes to it (SHA-256 is preimage
//! resistant) — the reasoning behind any token store keyed by hash. A linear constant-time scan
//! would cost every request time in proportion to the number of devices: thousands in a national
//! deployment. A device may hold two tokens while one replaces the other (rotation), and an admin
//! may revoke a device's tokens at run time (kept in the log, so a restart does not bring them
//! back). What a device may do with its token is decided in `http/auth.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

use crate::config::{Config, Device};
use crate::domain::DeviceId;

/// Token hashes → devices, and the hashes revoked at run time.
#[derive(Debug, Default)]
pub struct Tokens {
    known: HashMap<[u8; 32], Arc<Device>>,
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
            known: config
                .devices
                .iter()
                .flat_map(|d| {
                    let device = Arc::new(d.clone());
                    d.tokens_sha256.iter().map(move |h| (*h, device.clone()))
                })
                .collect(),
            revoked: RwLock::new(revoked),
        }
    }

    /// The device holding `token`: one hash and one look-up, however many devices there are.
    pub fn authenticate(&self, token: &str) -> Result<Arc<Device>, Rejected> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let device = self.known.get(&hash).ok_or(Rejected::Unknown)?;
        if self.revoked.read().is_ok_and(|r| r.contains(&hash)) {
            return Err(Rejected::Revoked);
        }
        Ok(device.clone())
    }

    /// Resolves a presented token, if one was presented at all.
    pub fn require(&self, token: Option<&str>) -> Result<Arc<Device>, Rejected> {
        self.authenticate(token.ok_or(Rejected::Missing)?)
    }

    /// The hashes of `device`'s tokens that are not yet revoked.
    pub fn unrevoked_of(&self, device: &DeviceId) -> Vec<[u8; 32]> {
        self.tokens_of(device)
            .filter(|(_, revoked)| !revoked)
            .map(|(h, _)| h)
            .collect()
    }

    /// `device`'s token hashes, each with whether it is revoked.
    fn tokens_of<'a>(
        &'a self,
        device: &'a DeviceId,
    ) -> impl Iterator<Item = ([u8; 32], bool)> + 'a {
        let revoked = self.revoked.read().ok();
        self.known
            .iter()
            .filter(move |(_, d)| d.id == *device)
            .map(move |(h, _)| (*h, revoked.as_ref().is_some_and(|r| r.contains(h))))
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
            .filter(|(_, revoked)| *revoked)
            .count()
    }
}
