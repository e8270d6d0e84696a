//! A station given a new configuration while it runs (a reload of the config file): new hours,
//! exceptions, services, operations thresholds, geometry or area model take effect at once,
//! without an event — the config is not in the log, and a restart reads the same file.
//!
//! What the log must show of it — a changed rule or room, so that the cap's history and replay
//! agree — is logged by the caller as a `rule_changed` event after this. A configuration that
//! would orphan visitors (a service removed while its tickets are inside or outside) is refused
//! and changes nothing.

use std::sync::Arc;

use super::Station;
use super::state::tracked_surfaces;
use crate::config::{self, Rules};

impl Station {
    /// Serves `config` under `rules` from now on; the distancing in force stays the state's.
    /// `Err` (nothing changed) says why the configuration cannot apply to this station now.
    pub fn reconfigure(
        &mut self,
        config: Arc<config::Station>,
        rules: &Rules,
    ) -> Result<(), String> {
        if let Some(service) = self.orphaned_service(&config) {
            return Err(format!(
                "station '{}': service '{service}' is removed while it has tickets inside or outside; remove it once they are served",
                config.id
            ));
        }
        let used = std::mem::take(&mut self.state.surfaces);
        self.state.surfaces = tracked_surfaces(&config, used);
        self.config = config;
        self.rules = *rules;
        self.derive_room();
        Ok(())
    }

    /// A service of a party inside or outside that `config` no longer has.
    fn orphaned_service(&self, config: &config::Station) -> Option<String> {
        self.state
            .inside
            .iter()
            .chain(&self.state.outside)
            .map(|p| &p.service)
            .find(|s| !config.services.iter().any(|x| &x.id == *s))
            .map(ToString::to_string)
    }

    /// People inside (on tickets and corrected in) and parties queued outside.
    pub fn occupants(&self) -> (u32, usize) {
        (self.headcount(), self.state.outside.len())
    }
}
