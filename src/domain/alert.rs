//! An alert as the status documents carry it: what it is about, where it stands, who
//! acknowledged it.
//!
//! Plain data, so that the documents in [`super::status`] can name it without depending on the
//! engine; raising, acknowledging and clearing alerts is the engine's (`engine/alerts.rs`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{DeviceId, ServiceId, Ticket};

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
    /// A surface is due for cleaning.
    CleaningDue { surface: String },
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
            Condition::CleaningDue { .. } => "cleaning_due",
            Condition::LongInside { .. } => "long_inside",
            Condition::LongWait { .. } => "long_wait",
        }
    }
}

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
    /// What a guard reads: the numbers and, for over cap, why.
    pub detail: String,
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
            Condition::CleaningDue {
                surface: "counter".into(),
            },
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
