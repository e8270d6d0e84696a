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

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::config::Config;
    use crate::domain::{Event, PartySize};
    use crate::engine::Mode;

    /// The sample's first station with one party of its first service inside.
    fn occupied() -> (Station, config::Station, Rules) {
        let sample = Config::sample();
        let config = sample.stations[0].clone();
        let mut station = Station::new(Arc::new(config.clone()), &sample.rules);
        let check_in = Event::CheckIn {
            service: config.services[0].id.clone(),
            party_size: PartySize::ONE,
            appointment: None,
            link: None,
        };
        // Replayed, so that the sample's opening hours do not depend on when the test runs.
        station.apply(&check_in, Utc::now(), Mode::Replay).unwrap();
        (station, config, sample.rules)
    }

    #[test]
    fn a_larger_room_raises_the_cap_and_keeps_who_is_inside() {
        let (mut station, mut config, rules) = occupied();
        let before = station.cap();
        config.geometry.area_m2 *= 2.0;
        config.geometry.max_visitors = None;
        station.reconfigure(Arc::new(config), &rules).unwrap();
        assert!(station.cap() > before, "{} → {}", before, station.cap());
        assert_eq!(station.occupants(), (1, 0));
        assert_eq!(station.seq(), 1, "no event: the config is not in the log");
    }

    #[test]
    fn a_service_removed_while_its_ticket_is_inside_is_refused_and_changes_nothing() {
        let (mut station, mut config, rules) = occupied();
        let removed = config.services.remove(0).id;
        let unchanged = station.clone();
        let why = station.reconfigure(Arc::new(config), &rules).unwrap_err();
        assert!(why.contains(removed.as_str()), "{why}");
        assert_eq!(station.config(), unchanged.config());
        assert_eq!(station.snapshot(), unchanged.snapshot());
    }
}
