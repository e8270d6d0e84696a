//! What a reload would change: the running config compared with the new file, section by
//! section, as a [`Plan`] — pure, so every difference is easy to test and the admin endpoint can
//! answer with exactly what was applied.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::config::{Config, Device};
use crate::domain::{DeviceId, StationId};

/// The differences between the running config and the new one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = ReloadPlan)]
pub struct Plan {
    #[schema(value_type = Vec<String>)]
    pub devices_added: Vec<DeviceId>,
    /// Gone from the file: their tokens stop working and their sockets close with 4401.
    #[schema(value_type = Vec<String>)]
    pub devices_removed: Vec<DeviceId>,
    /// Another role or scope, or none of their tokens kept: their sockets close with 4401.
    #[schema(value_type = Vec<String>)]
    pub devices_changed: Vec<DeviceId>,
    /// A token added or removed while another is kept: their sockets stay open.
    #[schema(value_type = Vec<String>)]
    pub devices_rotated: Vec<DeviceId>,
    #[schema(value_type = Vec<String>)]
    pub stations_added: Vec<StationId>,
    #[schema(value_type = Vec<String>)]
    pub stations_removed: Vec<StationId>,
    /// Stations with any setting changed — name, address, timezone, services, hours,
    /// exceptions, operations or room: their engines get it and their documents are pushed.
    #[schema(value_type = Vec<String>)]
    pub stations_changed: Vec<StationId>,
    /// Stations whose room (geometry, queue line) or area model changed: their cap is derived
    /// again and a `rule_changed` event logged.
    #[schema(value_type = Vec<String>)]
    pub rooms_changed: Vec<StationId>,
    /// `[rules] distancing_m`, when it changed.
    pub distancing_m: Option<RuleChange>,
    /// Sections that changed but apply only at the next start.
    pub needs_restart: Vec<String>,
}

impl Plan {
    /// Compares `old` (running) with `new` (the file just read).
    pub fn between(old: &Config, new: &Config) -> Plan {
        let mut plan = Plan::default();
        plan.compare_devices(old, new);
        plan.compare_stations(old, new);
        if old.rules.distancing_m != new.rules.distancing_m {
            plan.distancing_m = Some(RuleChange {
                from: old.rules.distancing_m,
                to: new.rules.distancing_m,
            });
        }
        if old.limits != new.limits {
            plan.needs_restart.push("limits".into());
        }
        if old.database != new.database {
            plan.needs_restart.push("storage.database".into());
        }
        // The answers table is built with its policy at start-up.
        if old.idempotency != new.idempotency {
            plan.needs_restart.push("storage.idempotency".into());
        }
        plan
    }

    /// Whether a station's room or the area model changed, so its cap must be derived again.
    pub fn room_changed(&self, station: &StationId) -> bool {
        self.rooms_changed.contains(station)
    }

    /// Devices whose sockets must close.
    pub fn devices_to_close(&self) -> impl Iterator<Item = &DeviceId> {
        self.devices_removed.iter().chain(&self.devices_changed)
    }

    fn compare_devices(&mut self, old: &Config, new: &Config) {
        for device in &new.devices {
            match old.devices.iter().find(|d| d.id == device.id) {
                None => self.devices_added.push(device.id.clone()),
                Some(before) => match device_change(before, device) {
                    DeviceChange::None => {}
                    DeviceChange::Rotated => self.devices_rotated.push(device.id.clone()),
                    DeviceChange::Changed => self.devices_changed.push(device.id.clone()),
                },
            }
        }
        self.devices_removed = gone(&old.devices, &new.devices, |d| &d.id);
    }

    fn compare_stations(&mut self, old: &Config, new: &Config) {
        let area_model_changed = old.rules.area_model != new.rules.area_model;
        for station in &new.stations {
            let Some(before) = old.station(&station.id) else {
                self.stations_added.push(station.id.clone());
                continue;
            };
            let room =
                before.geometry != station.geometry || before.queue_line_m != station.queue_line_m;
            if room || area_model_changed {
                self.rooms_changed.push(station.id.clone());
            }
            if before != station {
                self.stations_changed.push(station.id.clone());
            }
        }
        self.stations_removed = gone(&old.stations, &new.stations, |s| &s.id);
    }
}

/// The configured distancing rule before and after a reload.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = ReloadedRule)]
pub struct RuleChange {
    pub from: f64,
    pub to: f64,
}

enum DeviceChange {
    None,
    Rotated,
    Changed,
}

/// A device keeps its sockets when its role and scope are the same and it keeps a token: a
/// socket opened with the token kept stays authorised, and one opened with the token removed
/// cannot be told apart from it (tokens are not kept, only hashes) — rotation is done by adding
/// the new token first, so its sockets move over before the old one is removed.
fn device_change(before: &Device, after: &Device) -> DeviceChange {
    if before == after {
        return DeviceChange::None;
    }
    let kept = before
        .tokens_sha256
        .iter()
        .any(|h| after.tokens_sha256.contains(h));
    if before.role == after.role && before.scope == after.scope && kept {
        DeviceChange::Rotated
    } else {
        DeviceChange::Changed
    }
}

/// The ids in `old` that `new` no longer has.
fn gone<T, Id: Ord + Clone>(old: &[T], new: &[T], id: impl Fn(&T) -> &Id) -> Vec<Id> {
    let kept: BTreeSet<&Id> = new.iter().map(&id).collect();
    old.iter()
        .map(id)
        .filter(|i| !kept.contains(i))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Config {
        Config::sample()
    }

    #[test]
    fn the_same_config_changes_nothing() {
        assert_eq!(Plan::between(&sample(), &sample()), Plan::default());
    }

    #[test]
    fn a_device_that_keeps_a_token_is_rotated_and_one_with_another_scope_is_changed() {
        let old = sample();
        let mut new = sample();
        new.devices[0].tokens_sha256.push([7; 32]);
        new.devices[1].scope = crate::config::Scope::Nothing;
        let removed = new.devices.remove(2).id;
        let plan = Plan::between(&old, &new);
        assert_eq!(plan.devices_rotated, vec![old.devices[0].id.clone()]);
        assert_eq!(plan.devices_changed, vec![old.devices[1].id.clone()]);
        assert_eq!(plan.devices_removed, vec![removed]);
    }

    #[test]
    fn a_device_whose_every_token_is_replaced_is_changed() {
        let old = sample();
        let mut new = sample();
        new.devices[0].tokens_sha256 = vec![[9; 32]];
        let plan = Plan::between(&old, &new);
        assert_eq!(plan.devices_changed, vec![old.devices[0].id.clone()]);
    }

    #[test]
    fn geometry_hours_and_limits_are_told_apart() {
        let old = sample();
        let mut new = sample();
        new.stations[0].geometry.area_m2 += 10.0;
        new.stations[1].name.push_str(" (new)");
        new.limits.max_sockets += 1;
        new.rules.distancing_m = 1.5;
        let plan = Plan::between(&old, &new);
        assert_eq!(plan.rooms_changed, vec![old.stations[0].id.clone()]);
        assert_eq!(
            plan.stations_changed,
            vec![old.stations[0].id.clone(), old.stations[1].id.clone()]
        );
        assert_eq!(plan.needs_restart, vec!["limits".to_owned()]);
        assert_eq!(
            plan.distancing_m,
            Some(RuleChange {
                from: old.rules.distancing_m,
                to: 1.5
            })
        );
    }
}
