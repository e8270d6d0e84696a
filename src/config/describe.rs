//! The `check-config` report: one header line for the file, then one line per station with its
//! derived cap and the terms it rests on.
//!
//! Caps are never written in the file, so this report is how an operator sees what a file (or a
//! change of rule) will mean at each door before the service starts with it.

use super::{Config, Rules, Station};

impl Config {
    /// One line per station: its derived cap and what it rests on (for `check-config`).
    pub fn describe_caps(&self) -> String {
        let mut out = format!(
            "{}: {} districts, {} stations, {} devices ({}); distancing {} m ({:?} area model)\n",
            self.source,
            self.districts.len(),
            self.stations.len(),
            self.devices.len(),
            self.roles(),
            self.rules.distancing_m,
            self.rules.area_model
        );
        for s in &self.stations {
            out.push_str(&cap_line(s, &self.rules));
        }
        out
    }
}

impl Config {
    /// How many devices of each role, e.g. `4 terminal, 2 guard, 1 admin, 1 metrics` (a role
    /// without a device left out), so an operator sees who may read what — a `metrics`
    /// device reads `GET /metrics` only.
    fn roles(&self) -> String {
        use super::Role;
        [
            (Role::Terminal, "terminal"),
            (Role::Guard, "guard"),
            (Role::Display, "display"),
            (Role::Admin, "admin"),
            (Role::Metrics, "metrics"),
        ]
        .iter()
        .map(|(role, name)| {
            (
                self.devices.iter().filter(|d| d.role == *role).count(),
                name,
            )
        })
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// `  <station> cap N  (area A m² → n[, seats k of m][, legal max x]; limited by <term>)`.
fn cap_line(s: &Station, rules: &Rules) -> String {
    let cap = s.capacity(rules);
    let seats = match (cap.seat_cap, &s.geometry.seats) {
        (Some(n), Some(all)) => format!(
            ", seats {n} of {}{}",
            all.len(),
            if cap.exact {
                ""
            } else {
                " (best found, not proven)"
            }
        ),
        _ => String::new(),
    };
    let max = cap
        .max_visitors
        .map(|m| format!(", legal max {m}"))
        .unwrap_or_default();
    format!(
        "  {:<24} cap {:>3}  (area {} m² → {}{seats}{max}; limited by {:?})\n",
        s.id, cap.cap, s.geometry.area_m2, cap.area_cap, cap.limited_by
    )
}
