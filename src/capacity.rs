//! Visitor caps for a waiting room, derived from the distancing rule and the
//! room's geometry.
//!
//! This module owns the whole path from "the rule says `d` metres" plus "the
//! room is this big and has these chairs" to "at most N visitors". Caps are
//! always *derived* here and never typed in by hand: a hand-typed number
//! silently goes stale when the rule changes from 1.5 m to 2 m, or when a
//! planner moves the chairs, while a derived one follows automatically and can
//! explain itself (which term bound it, which chairs are usable).
//!
//! Three terms bound the cap, and the smallest wins:
//! * the floor area divided by the area each person needs ([`AreaModel`]),
//! * the largest set of chairs that are pairwise at least `d` apart (only
//!   when a seat plan is given),
//! * an explicit `max_visitors` ceiling (fire code, staffing), if configured.
//!
//! The seat term is computed *exactly* (a maximum independent set in the
//! "too close" graph). The familiar shortcut, "every other chair", is only
//! about right at 1 m: at 2 m with chairs 0.55 m apart, every other chair is
//! still just 1.1 m from the next and neighbouring rows interact as well, so
//! three rows of eight would be signed for 12 visitors where only 4 chairs
//! are usable. It overstates the cap badly exactly when the rule is
//! strictest. A distance-checking greedy pass errs the other way, wasting
//! chairs. Real rooms have at most a few hundred chairs, mostly in rows that
//! split into independent groups, so an exact branch and bound under a
//! deterministic work budget is affordable.
//!
//! The seat search lives in `capacity/seats.rs` (on the bit-set graph of
//! `capacity/bitgraph.rs`); this file derives the area and queue-line terms,
//! validates the input and combines the terms into the cap.
//!
//! Everything here is pure: no I/O, no clock, no randomness. The same input
//! always yields the same answer, including the same chosen chairs.

mod bitgraph;
mod seats;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use seats::{
    REQUEST_NODE_BUDGET, SearchBudget, SeatSet, greedy_seat_set, max_seat_set, seat_set_within,
};
// The rule's vocabulary is plain data that the documents carry too, so it lives in `domain`.
pub use crate::domain::rule::{
    AreaModel, Limit, MAX_DISTANCING_M, MIN_DISTANCING_M, check_distancing,
};

/// Largest seat plan accepted. Waiting rooms have tens of chairs; the limit
/// keeps the exact seat search (and its `n²` conflict matrix) bounded.
pub const MAX_SEATS: usize = 500;

/// Relative slack before taking a floor of a ratio, so that `48 / 4` or
/// `2.4 / 1.2` land on the integer they mean rather than one below it.
const RATIO_EPS: f64 = 1e-9;

/// What a planner or the config gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomGeometry {
    /// Floor area available to waiting visitors, in square metres.
    pub area_m2: f64,
    /// Chair positions `[x, y]` in metres, in the planner's order; the order
    /// only matters for tie-breaking among equally large seat sets.
    #[serde(default)]
    pub seats: Option<Vec<[f64; 2]>>,
    /// An explicit ceiling on top of the derived terms (e.g. fire code).
    #[serde(default)]
    pub max_visitors: Option<u32>,
}

/// The derived cap and everything needed to explain it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Capacity {
    /// `min(area_cap, seat_cap if seats given, max_visitors if given)`.
    pub cap: u32,
    /// People the floor area allows under the chosen [`AreaModel`].
    pub area_cap: u32,
    /// Largest number of chairs usable at once; `None` when no seats given.
    pub seat_cap: Option<u32>,
    /// The configured ceiling, echoed so the explanation is self-contained.
    pub max_visitors: Option<u32>,
    /// Indices into the seat list, ascending; empty when no seats given.
    pub usable_seats: Vec<usize>,
    /// `false` only if the seat search hit its work budget; `usable_seats`
    /// is then the best set found, still valid, but maybe not the largest.
    pub exact: bool,
    /// The distancing rule the cap was derived for.
    pub distancing_m: f64,
    /// The area model the cap was derived for.
    pub area_model: AreaModel,
    /// Which term is binding.
    pub limited_by: Limit,
}

/// A rejected input, naming the field a person must fix, e.g. field
/// `"seats[3][1]"`, reason `"is not a finite number"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeometryError {
    pub field: String,
    pub reason: String,
}

impl GeometryError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for GeometryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for GeometryError {}

/// Floor area one person needs, in m², under `model` at `distancing_m`.
pub fn area_per_person_m2(model: AreaModel, distancing_m: f64) -> f64 {
    let d2 = distancing_m * distancing_m;
    match model {
        AreaModel::Grid => d2,
        AreaModel::Hex => 3.0_f64.sqrt() / 2.0 * d2,
    }
}

/// `floor(x)` that forgives a tiny downward rounding error, so a ratio that is
/// mathematically an integer is not truncated to the one below.
fn tolerant_floor(x: f64) -> f64 {
    (x + x.abs().max(1.0) * RATIO_EPS).floor()
}

/// People the floor area allows: `floor(area / a(d))`.
///
/// Meant for validated input. Anything else (non-finite or non-positive area
/// or per-person area) yields 0 rather than a huge number: a broken input
/// must never open the doors wider.
pub fn area_cap(area_m2: f64, distancing_m: f64, model: AreaModel) -> u32 {
    let per_person = area_per_person_m2(model, distancing_m);
    let usable = area_m2.is_finite() && area_m2 > 0.0;
    if !usable || !per_person.is_finite() || per_person <= 0.0 {
        return 0;
    }
    // `as` saturates at u32::MAX, which only an absurd area could reach.
    tolerant_floor(area_m2 / per_person) as u32
}

/// People who can stand in a straight queue line of `length_m` metres, each
/// `distancing_m` apart: `floor(L / d) + 1` (one person at each end of every
/// gap). A zero-length line still holds one person.
///
/// Meant for validated input; a negative or non-finite length, or a
/// non-positive distance, yields 0 rather than a misleading number.
pub fn queue_line_places(length_m: f64, distancing_m: f64) -> u32 {
    let length_ok = length_m.is_finite() && length_m >= 0.0;
    let distance_ok = distancing_m.is_finite() && distancing_m > 0.0;
    if !length_ok || !distance_ok {
        return 0;
    }
    (tolerant_floor(length_m / distancing_m) as u32).saturating_add(1)
}

/// Checks the distancing rule: finite and within
/// [[`MIN_DISTANCING_M`], [`MAX_DISTANCING_M`]].
pub fn validate_distancing(distancing_m: f64) -> Result<(), GeometryError> {
    check_distancing(distancing_m).map_err(|reason| GeometryError::new("distancing_m", reason))
}

/// Checks a room: finite positive area, at most [`MAX_SEATS`] seats, every
/// seat coordinate finite. Any `max_visitors` is allowed, including 0 (a
/// room closed to visitors).
pub fn validate_geometry(g: &RoomGeometry) -> Result<(), GeometryError> {
    if !g.area_m2.is_finite() {
        return Err(GeometryError::new("area_m2", "is not a finite number"));
    }
    if g.area_m2 <= 0.0 {
        return Err(GeometryError::new(
            "area_m2",
            format!("must be greater than 0, got {}", g.area_m2),
        ));
    }
    if let Some(seats) = &g.seats {
        if seats.len() > MAX_SEATS {
            return Err(GeometryError::new(
                "seats",
                format!(
                    "has {} entries, at most {MAX_SEATS} are allowed",
                    seats.len()
                ),
            ));
        }
        for (i, seat) in seats.iter().enumerate() {
            for (j, coordinate) in seat.iter().enumerate() {
                if !coordinate.is_finite() {
                    return Err(GeometryError::new(
                        format!("seats[{i}][{j}]"),
                        "is not a finite number",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Validates the rule and the room, then derives the cap, with the seat
/// search budget for the operator's own rooms ([`SearchBudget::CONFIG`]).
pub fn derive(
    g: &RoomGeometry,
    distancing_m: f64,
    model: AreaModel,
) -> Result<Capacity, GeometryError> {
    derive_within(g, distancing_m, model, SearchBudget::CONFIG)
}

/// [`derive`] with the seat search held to `budget` (an anonymous request's).
pub fn derive_within(
    g: &RoomGeometry,
    distancing_m: f64,
    model: AreaModel,
    budget: SearchBudget<'_>,
) -> Result<Capacity, GeometryError> {
    validate_distancing(distancing_m)?;
    validate_geometry(g)?;

    let area = area_cap(g.area_m2, distancing_m, model);
    let (seat_cap, usable_seats, exact) = match &g.seats {
        Some(seats) => {
            let set = seat_set_within(seats, distancing_m, budget);
            // At most MAX_SEATS after validation, so this always fits.
            let count = u32::try_from(set.seats.len()).unwrap_or(u32::MAX);
            (Some(count), set.seats, set.exact)
        }
        None => (None, Vec::new(), true),
    };

    let cap = [seat_cap, g.max_visitors]
        .into_iter()
        .flatten()
        .fold(area, u32::min);
    // Tie order: an explicit ceiling, then the seat plan, then the area.
    let limited_by = if g.max_visitors == Some(cap) {
        Limit::MaxVisitors
    } else if seat_cap == Some(cap) {
        Limit::Seats
    } else {
        Limit::Area
    };

    Ok(Capacity {
        cap,
        area_cap: area,
        seat_cap,
        max_visitors: g.max_visitors,
        usable_seats,
        exact,
        distancing_m,
        area_model: model,
        limited_by,
    })
}

#[cfg(test)]
mod tests {
    use super::seats::tests::rows;
    use super::*;

    fn room(area_m2: f64, seats: Option<Vec<[f64; 2]>>, max_visitors: Option<u32>) -> RoomGeometry {
        RoomGeometry {
            area_m2,
            seats,
            max_visitors,
        }
    }

    #[test]
    fn area_cap_follows_the_model_and_the_rule() {
        assert_eq!(area_cap(48.0, 2.0, AreaModel::Grid), 12);
        assert_eq!(area_cap(60.0, 2.0, AreaModel::Grid), 15);
        assert_eq!(area_cap(60.0, 2.0, AreaModel::Hex), 17);
        assert_eq!(area_cap(60.0, 1.0, AreaModel::Grid), 60);
        assert!((area_per_person_m2(AreaModel::Hex, 2.0) - 3.4641).abs() < 1e-4);
        // Products of "round" decimals must not lose one to rounding.
        assert_eq!(area_cap(0.36 * 7.0, 0.6, AreaModel::Grid), 7);
    }

    #[test]
    fn area_cap_is_zero_rather_than_huge_for_broken_input() {
        assert_eq!(area_cap(f64::NAN, 2.0, AreaModel::Grid), 0);
        assert_eq!(area_cap(-4.0, 2.0, AreaModel::Grid), 0);
        assert_eq!(area_cap(40.0, 0.0, AreaModel::Grid), 0);
    }

    #[test]
    fn queue_line_holds_one_person_per_gap_plus_one() {
        assert_eq!(queue_line_places(0.0, 2.0), 1);
        assert_eq!(queue_line_places(1.9, 2.0), 1);
        assert_eq!(queue_line_places(6.0, 2.0), 4);
        assert_eq!(queue_line_places(3.0 * 1.1, 1.1), 4);
        assert_eq!(queue_line_places(-1.0, 2.0), 0);
    }

    #[test]
    fn the_cap_is_the_smallest_term_and_names_it() {
        let seats = rows(3, 8, 0.55, 1.0); // 4 usable at 2 m
        let c = derive(&room(60.0, Some(seats.clone()), None), 2.0, AreaModel::Grid).unwrap();
        assert_eq!((c.cap, c.area_cap, c.seat_cap), (4, 15, Some(4)));
        assert_eq!(c.limited_by, Limit::Seats);
        assert_eq!(c.usable_seats.len(), 4);
        assert!(c.exact);

        let c = derive(&room(8.0, Some(seats.clone()), None), 2.0, AreaModel::Grid).unwrap();
        assert_eq!((c.cap, c.limited_by), (2, Limit::Area));

        let c = derive(&room(60.0, Some(seats), Some(3)), 2.0, AreaModel::Grid).unwrap();
        assert_eq!((c.cap, c.limited_by), (3, Limit::MaxVisitors));
    }

    #[test]
    fn without_seats_there_is_no_seat_cap() {
        let c = derive(&room(60.0, None, None), 2.0, AreaModel::Hex).unwrap();
        assert_eq!((c.cap, c.seat_cap, c.limited_by), (17, None, Limit::Area));
        assert!(c.usable_seats.is_empty() && c.exact);
        assert_eq!(c.area_model, AreaModel::Hex);
    }

    #[test]
    fn ties_prefer_max_visitors_then_seats() {
        let seats = rows(3, 8, 0.55, 1.0); // 4 usable at 2 m
        let c = derive(
            &room(16.0, Some(seats.clone()), Some(4)),
            2.0,
            AreaModel::Grid,
        )
        .unwrap();
        assert_eq!((c.cap, c.limited_by), (4, Limit::MaxVisitors));
        let c = derive(&room(16.0, Some(seats), None), 2.0, AreaModel::Grid).unwrap();
        assert_eq!((c.cap, c.limited_by), (4, Limit::Seats));
    }

    #[test]
    fn max_visitors_zero_closes_the_room() {
        let c = derive(&room(60.0, None, Some(0)), 2.0, AreaModel::Grid).unwrap();
        assert_eq!((c.cap, c.limited_by), (0, Limit::MaxVisitors));
    }

    #[test]
    fn validation_errors_name_the_field_to_fix() {
        let field = |g: RoomGeometry, d: f64| derive(&g, d, AreaModel::Grid).unwrap_err().field;
        assert_eq!(field(room(f64::NAN, None, None), 2.0), "area_m2");
        assert_eq!(field(room(-3.0, None, None), 2.0), "area_m2");
        assert_eq!(field(room(0.0, None, None), 2.0), "area_m2");
        assert_eq!(
            field(room(60.0, Some(vec![[0.0, 0.0]; 501]), None), 2.0),
            "seats"
        );
        let mut seats = rows(1, 4, 1.0, 1.0);
        seats[2][0] = f64::NAN;
        assert_eq!(field(room(60.0, Some(seats), None), 2.0), "seats[2][0]");
        for d in [0.4, 5.1, f64::NAN, f64::INFINITY] {
            assert_eq!(field(room(60.0, None, None), d), "distancing_m");
        }
        assert!(validate_distancing(0.5).is_ok() && validate_distancing(5.0).is_ok());
        assert!(validate_geometry(&room(1.0, Some(vec![[0.0, 0.0]; 500]), Some(0))).is_ok());
    }

    #[test]
    fn errors_display_as_field_then_reason() {
        let mut seats = rows(1, 4, 1.0, 1.0);
        seats[3][1] = f64::INFINITY;
        let err = validate_geometry(&room(60.0, Some(seats), None)).unwrap_err();
        assert_eq!(err.to_string(), "seats[3][1]: is not a finite number");
        let d_err = validate_distancing(0.4).unwrap_err();
        assert_eq!(
            d_err.to_string(),
            "distancing_m: must be between 0.5 and 5.0 metres, got 0.4"
        );
        let err: Box<dyn std::error::Error> = Box::new(err);
        assert!(err.to_string().starts_with("seats[3][1]"));
    }
}
