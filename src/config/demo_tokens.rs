//! The demo's public tokens: every device of the built-in sample signs in with
//! `demo-<device id>`, which the demo's banner, the README and the sample file print for anyone
//! to read. The tokens are made here ([`demo_token`], which the simulator and the banner use)
//! and recognised here, so that a config carrying one is warned about (`check-config` prints
//! it, `serve` logs it at start-up): whoever read the README could sign in as that device.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use super::Config;
use crate::domain::DeviceId;

/// How many devices a warning names before it says "and N more".
const NAMED_IN_WARNING: usize = 5;

/// The public demo token of `device`.
pub fn demo_token(device: &DeviceId) -> String {
    format!("demo-{device}")
}

fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Config {
    /// The devices of this config that accept a token the demo publishes: the demo token of any
    /// device of the built-in sample, or of the device's own id (the pattern is published too).
    pub fn devices_with_demo_tokens(&self) -> Vec<&DeviceId> {
        let sample = Config::sample();
        let published: HashSet<[u8; 32]> = sample
            .devices
            .iter()
            .chain(&self.devices)
            .map(|d| sha256(&demo_token(&d.id)))
            .collect();
        self.devices
            .iter()
            .filter(|d| d.tokens_sha256.iter().any(|h| published.contains(h)))
            .map(|d| &d.id)
            .collect()
    }

    /// What to tell the operator when devices of this config accept public demo tokens, in
    /// one line (it is also a log line); `None` when none does.
    pub fn demo_token_warning(&self) -> Option<String> {
        let devices = self.devices_with_demo_tokens();
        let (first, rest) = devices
            .split_at_checked(NAMED_IN_WARNING)
            .unwrap_or((&devices, &[]));
        let names = first
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let more = match rest.len() {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        let (count, them) = match devices.len() {
            0 => return None,
            1 => ("1 device accepts".to_owned(), "this device"),
            n => (format!("{n} devices accept"), "these devices"),
        };
        Some(format!(
            "{count} a public demo token (demo-<device id>, printed in the README and the \
             built-in sample): {names}{more}. Anyone who has read the README can sign in as \
             {them}; give each device a token of its own and put its SHA-256 in token_sha256 \
             (the README's config reference shows how)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_device_accepts_its_demo_token() {
        let sample = Config::sample();
        for device in &sample.devices {
            assert!(
                device
                    .tokens_sha256
                    .contains(&sha256(&demo_token(&device.id))),
                "{} does not accept {}",
                device.id,
                demo_token(&device.id)
            );
        }
        assert_eq!(
            sample.devices_with_demo_tokens().len(),
            sample.devices.len()
        );
    }

    #[test]
    fn a_device_with_a_token_of_its_own_is_not_named() {
        let mut config = Config::sample();
        config.devices.truncate(2);
        config.devices[0].tokens_sha256 = vec![sha256("a-real-secret")];
        let named = config.devices_with_demo_tokens();
        assert_eq!(named, vec![&config.devices[1].id]);
        let warning = config.demo_token_warning().unwrap();
        assert!(warning.starts_with("1 device accepts"), "{warning}");
        assert!(warning.contains(config.devices[1].id.as_str()), "{warning}");
        assert!(
            !warning.contains(config.devices[0].id.as_str()),
            "{warning}"
        );
        config.devices.truncate(1);
        assert_eq!(config.demo_token_warning(), None);
    }
}
