//! An alert as the status documents carry it: what it is about, where it stands, who
//! acknowledged it.
//!
//! Plain data, so that the documents in [`super::status`] can name it without depending on the
//! engine; raising, acknowledging and clearing alerts is the engine's (`engine/alerts.rs`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{DeviceId, ServiceId, Ticket};
use super::message::Message;

/// What an alert is about. Two alerts are the same alert when their conditions are equal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// The room is full: new arrivals wait outside.
    AtCap,
    /// More people inside than the cap allows.
    OverCap,
    /// At least this many people are queued outside: a gathering risk.
    Gathering,
    /// Surfaces are due for cleaning: one alert per station, its `params.surfaces` listing
    /// them.
    CleaningDue,
    /// A ticket has been inside long enough that it probably left without checking out.
    LongInside { ticket: Ticket },
    /// A service's estimated wait is above the threshold.
    LongWait { service: ServiceId },
}

impl Condition {
    /// Every kind of condition, as [`Condition::kind`] names it.
    pub const KINDS: [&'static str; 6] = [
        "at_cap",
        "over_cap",
        "gathering",
        "cleaning_due",
        "long_inside",
        "long_wait",
    ];

    /// The kind alone, without what it is about (the documents' `kind`; a metrics label).
    pub fn kind(&self) -> &'static str {
        match self {
            Condition::AtCap => "at_cap",
            Condition::OverCap => "over_cap",
            Condition::Gathering => "gathering",
            Condition::CleaningDue => "cleaning_due",
            Condition::LongInside { .. } => "long_inside",
            Condition::LongWait { .. } => "long_wait",
        }
    }

    /// Whether an alert of this kind, once its condition stops holding, waits out the settle
    /// period before it clears (a full room that empties by one and fills again is one alert).
    /// Over cap never waits: the guard must see at once that the room is back under.
    pub fn is_damped(&self) -> bool {
        matches!(
            self,
            Condition::AtCap | Condition::Gathering | Condition::LongWait { .. }
        )
    }

    /// The alert code of this condition (`alert.<kind>`).
    pub fn code(&self) -> String {
        format!("alert.{}", self.kind())
    }
}

/// Every alert code with its English template.
pub const ALERTS: &[(&str, &str)] = &[
    (
        "alert.at_cap",
        "{headcount} / {cap}: new arrivals wait outside",
    ),
    (
        "alert.over_cap",
        "{headcount} inside, cap {cap}, after {cause}; admissions stop until the headcount is under the cap",
    ),
    (
        "alert.gathering",
        "{people} people queued outside (alert at {threshold}); keep 2 m along the queue",
    ),
    (
        "alert.cleaning_due",
        "due for cleaning: {surfaces} (clean every {every_min} min or {every_visitors} visitors)",
    ),
    (
        "alert.long_inside",
        "{ticket} inside since {since}: check it out if the party has left",
    ),
    (
        "alert.long_wait",
        "{service_name_en}: about {minutes} min for {waiting} waiting at {desks} desk(s) (alert above {threshold} min)",
    ),
];

/// The parts of alert messages: an over-cap alert's `cause`, and each item of a cleaning
/// alert's `surfaces` (an item of a list param `p` is rendered with the code `p.item`).
pub const PARTS: &[(&str, &str)] = &[
    ("cause.override", "a guard's override ({reason})"),
    ("cause.correction", "a guard's correction ({reason})"),
    (
        "cause.rule_change",
        "the rule change to {distancing_m} m ({scope}), which lowered the cap to {cap}",
    ),
    ("cause.unrecorded", "an unrecorded cause"),
    (
        "surfaces.item",
        "{surface} (in use since {since} by {visitors} visitors)",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Active,
    Acknowledged,
    Cleared,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alert {
    /// Numbered per station in the order raised; what a guard acknowledges.
    pub id: u64,
    /// The station's `seq` of the event that raised it.
    pub raised_by_seq: u64,
    #[serde(flatten)]
    pub condition: Condition,
    pub state: AlertState,
    #[serde(serialize_with = "crate::domain::timestamp::serialize")]
    pub since: DateTime<Utc>,
    /// What the alert says, as a code (`alert.at_cap`, …) and params, for a page to render in
    /// its language (`messages.<code>`); `params.cause` of an over-cap alert is itself a
    /// message (`cause.override`, `cause.correction`, `cause.rule_change`, `cause.unrecorded`).
    #[serde(flatten)]
    pub message: Message,
    /// The same in English: the numbers and, for over cap, why.
    pub detail: String,
    /// Set while the alert is settling: its condition has stopped holding, and unless it holds
    /// again before this moment (then it is the same alert, same id and acknowledgement), the
    /// alert clears then (`[operations] alert_settle_min`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::domain::timestamp::serialize_option")]
    pub settles_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<DeviceId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::domain::timestamp::serialize_option")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::domain::timestamp::serialize_option")]
    pub cleared_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conditions_kind_is_its_serialized_tag_and_listed() {
        let conditions = [
            Condition::AtCap,
            Condition::OverCap,
            Condition::Gathering,
            Condition::CleaningDue,
            Condition::LongInside {
                ticket: Ticket::parse("P007").unwrap(),
            },
            Condition::LongWait {
                service: ServiceId::parse("passport").unwrap(),
            },
        ];
        for (condition, listed) in conditions.iter().zip(Condition::KINDS) {
            let tag = serde_json::to_value(condition).unwrap()["kind"].clone();
            assert_eq!(tag, condition.kind());
            assert_eq!(listed, condition.kind());
        }
    }
}
