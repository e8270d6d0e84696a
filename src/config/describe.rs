//! The `check-config` report: what the file holds and the rule in force, in words, then a table
//! of every station's derived cap, the terms it rests on and which of them limits it.
//!
//! Caps are never written in the file, so this report is how an operator sees what a file (or a
//! change of rule) will mean at each door before the service starts with it. It is written for
//! a person at an 80-column console: words, not the code's names for the area model and the
//! limiting term, and columns as wide as their contents.

mod table;

use table::Align;

use super::{Config, Role, Rules, Station};
use crate::capacity::{self, AreaModel, Limit};

impl Config {
    /// The file, its devices and rule, and one table row per station (for `check-config`).
    pub fn describe_caps(&self) -> String {
        let mut out = format!(
            "{}: {}, {}, {}\n",
            self.source,
            count(self.districts.len(), "district"),
            count(self.stations.len(), "station"),
            count(self.devices.len(), "device"),
        );
        out.push_str(&format!("devices: {}\n", self.roles()));
        out.push_str(&format!("rule: {}\n\n", rule_in_words(&self.rules)));
        let rows: Vec<Row> = self.stations.iter().map(|s| row(s, &self.rules)).collect();
        out.push_str(&table::render(
            &[
                Align::Left,
                Align::Right,
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Left,
            ],
            &["station", "cap", "area", "chairs", "max", "limited by"],
            &rows.iter().map(|r| r.cells.clone()).collect::<Vec<_>>(),
        ));
        if rows.iter().any(|r| !r.exact) {
            out.push_str(&format!(
                "\n{NOT_PROVEN} the best set of chairs found within the search budget, not proven the largest\n"
            ));
        }
        out.push_str(&self.webhooks());
        out
    }

    /// One line per station with a webhook: where it goes, by scheme and host only (a URL's
    /// path or credentials may hold the gateway's key; the secret is never shown).
    fn webhooks(&self) -> String {
        let lines: Vec<String> = self
            .stations
            .iter()
            .filter_map(|s| {
                let url = &s.webhook.as_ref()?.url;
                let host = url.host_str().unwrap_or_default();
                Some(format!("webhook: {} → {}://{host}\n", s.id, url.scheme()))
            })
            .collect();
        if lines.is_empty() {
            return String::new();
        }
        format!("\n{}", lines.concat())
    }

    /// How many devices of each role, e.g. `4 terminal, 2 guard, 1 admin, 1 metrics` (a role
    /// without a device left out), so an operator sees who may read what — a `metrics`
    /// device reads `GET /metrics` only.
    fn roles(&self) -> String {
        [
            (Role::Terminal, "terminal"),
            (Role::Guard, "guard"),
            (Role::Display, "display"),
            (Role::Admin, "admin"),
            (Role::Metrics, "metrics"),
            (Role::Integration, "integration"),
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

/// `1 station`, `2 stations`.
fn count(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// Marks a seat count that the search budget ran out on.
const NOT_PROVEN: &str = "*";

/// The distance and the floor each person needs under it, e.g. `2 m apart; each person needs a
/// 2 m × 2 m square of floor (4 m²)`.
fn rule_in_words(rules: &Rules) -> String {
    let d = rules.distancing_m;
    let area = number(capacity::area_per_person_m2(rules.area_model, d));
    let d = number(d);
    let floor = match rules.area_model {
        AreaModel::Grid => format!("a {d} m × {d} m square of floor ({area} m²)"),
        AreaModel::Hex => {
            format!(
                "{area} m² of floor, people packed as densely as possible (a triangular lattice)"
            )
        }
    };
    format!("{d} m apart; each person needs {floor}")
}

/// What binds the cap, as the operator would say it.
fn limit_in_words(limit: Limit) -> &'static str {
    match limit {
        Limit::Area => "the room's area",
        Limit::Seats => "the chairs",
        Limit::MaxVisitors => "the configured maximum",
    }
}

/// `x` with at most two decimals and no trailing zeros: `2`, `1.5`, `3.46`.
fn number(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// One station's cells, and whether its seat count is proven.
struct Row {
    cells: Vec<String>,
    exact: bool,
}

/// `station  cap  area A m² → n  chairs k of m  max x  limited by <words>`.
fn row(s: &Station, rules: &Rules) -> Row {
    let cap = s.capacity(rules);
    let none = || "–".to_owned();
    let chairs = match (cap.seat_cap, &s.geometry.seats) {
        (Some(n), Some(all)) => {
            let mark = if cap.exact { "" } else { NOT_PROVEN };
            format!("{n} of {}{mark}", all.len())
        }
        _ => none(),
    };
    Row {
        cells: vec![
            s.id.to_string(),
            cap.cap.to_string(),
            format!("{} m² → {}", number(s.geometry.area_m2), cap.area_cap),
            chairs,
            cap.max_visitors.map_or_else(none, |m| m.to_string()),
            limit_in_words(cap.limited_by).to_owned(),
        ],
        exact: cap.exact,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_at_most_two_decimals_and_no_trailing_zeros() {
        assert_eq!(number(2.0), "2");
        assert_eq!(number(1.5), "1.5");
        assert_eq!(number(3.4641), "3.46");
    }

    #[test]
    fn the_rule_is_told_in_words_for_each_area_model() {
        let grid = Rules {
            distancing_m: 2.0,
            area_model: AreaModel::Grid,
        };
        assert_eq!(
            rule_in_words(&grid),
            "2 m apart; each person needs a 2 m × 2 m square of floor (4 m²)"
        );
        let hex = Rules {
            area_model: AreaModel::Hex,
            ..grid
        };
        assert!(rule_in_words(&hex).contains("3.46 m² of floor"));
    }
}
