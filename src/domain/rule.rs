//! The distancing rule's vocabulary, shared by the capacity math, the config, the events and the
//! documents: the range of distances accepted, the model of floor area per person, and which term
//! binds a cap. Plain data and one check; the math that uses them is `capacity`'s.

use serde::{Deserialize, Serialize};

/// How much floor area one person needs under a distancing rule of `d` metres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AreaModel {
    /// `d²` per person: a square of side `d` around everyone. This is the
    /// usual regulatory convention (4 m² per person at 2 m).
    #[default]
    Grid,
    /// `(√3/2)·d²` per person: the densest possible packing (people on a
    /// triangular lattice). Gives about 15% more people than [`Grid`](Self::Grid).
    Hex,
}

/// Smallest distancing rule accepted; below this the model (people as points)
/// stops meaning anything, and a typo such as `0.15` for `1.5` is caught.
pub const MIN_DISTANCING_M: f64 = 0.5;
/// Largest distancing rule accepted; anything above is almost surely a unit
/// mistake (centimetres, feet) rather than a real rule.
pub const MAX_DISTANCING_M: f64 = 5.0;
/// Whether `distancing_m` is a rule the service accepts: finite, and within
/// [`MIN_DISTANCING_M`]–[`MAX_DISTANCING_M`]. The error says what to fix.
pub fn check_distancing(distancing_m: f64) -> Result<(), String> {
    if !distancing_m.is_finite() {
        return Err("is not a finite number".to_owned());
    }
    if !(MIN_DISTANCING_M..=MAX_DISTANCING_M).contains(&distancing_m) {
        return Err(format!(
            "must be between {MIN_DISTANCING_M:.1} and {MAX_DISTANCING_M:.1} metres, got {distancing_m}"
        ));
    }
    Ok(())
}

/// The term that binds the cap. On ties the most deliberate term is named:
/// an explicit ceiling first, then the seat plan, then the raw area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    Area,
    Seats,
    MaxVisitors,
}
