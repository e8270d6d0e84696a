//! The reasons a guard picks from a list rather than types: stored in the event's `reason` as
//! their code (`wheelchair_user`), so each page shows them in its own language
//! (`messages.reason.<code>`), while free text is stored and shown as typed.
//!
//! The dashboard offers exactly these codes (override reasons as choices, correction reasons as
//! suggestions); the English words here are what the English `detail` of an alert says.

use super::message::Message;

/// Preset override reasons (letting a party in past the cap): code, English words.
pub const OVERRIDE: &[(&str, &str)] = &[
    ("wheelchair_user", "wheelchair user"),
    ("urgent_travel_document", "urgent travel document"),
    ("elderly_or_unwell", "elderly or unwell"),
];

/// Preset correction reasons (people counted in or out without a ticket): code, English words.
pub const CORRECTION: &[(&str, &str)] = &[
    ("counted_at_door", "counted at the door"),
    ("companion_without_ticket", "companion without a ticket"),
    ("interpreter", "interpreter"),
    ("untracked_left", "someone without a ticket left"),
];

/// Every preset reason as a message code (`reason.<code>`) with its English words: the table
/// [`Message::english`] renders them from.
pub const REASONS: &[(&str, &str)] = &[
    ("reason.wheelchair_user", "wheelchair user"),
    ("reason.urgent_travel_document", "urgent travel document"),
    ("reason.elderly_or_unwell", "elderly or unwell"),
    ("reason.counted_at_door", "counted at the door"),
    (
        "reason.companion_without_ticket",
        "companion without a ticket",
    ),
    ("reason.interpreter", "interpreter"),
    ("reason.untracked_left", "someone without a ticket left"),
];

/// Whether `reason` is one of the preset codes.
pub fn is_preset(reason: &str) -> bool {
    OVERRIDE
        .iter()
        .chain(CORRECTION)
        .any(|(code, _)| *code == reason)
}

/// A stored reason as a param: a preset code as its message (`reason.<code>`), free text as
/// typed.
pub fn param(reason: &str) -> serde_json::Value {
    if is_preset(reason) {
        Message::new(format!("reason.{reason}")).to_value()
    } else {
        reason.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_listed_once_as_a_message_with_the_same_words() {
        let presets: Vec<_> = OVERRIDE.iter().chain(CORRECTION).collect();
        assert_eq!(presets.len(), REASONS.len());
        for (code, words) in presets {
            let listed = super::super::message::lookup(REASONS, &format!("reason.{code}"));
            assert_eq!(listed, Some(*words), "{code}");
        }
    }

    /// The API's description of the `reason` fields names every preset, so a client can offer
    /// them.
    #[test]
    fn the_event_schema_names_every_preset() {
        let source = include_str!("event.rs");
        for (code, _) in OVERRIDE.iter().chain(CORRECTION) {
            assert!(source.contains(&format!("`{code}`")), "{code}");
        }
    }

    #[test]
    fn a_preset_renders_as_its_words_and_free_text_as_typed() {
        let m = |reason: &str| Message::new("x").with("reason", param(reason));
        let table = [("x", "because: {reason}")];
        assert_eq!(
            m("wheelchair_user").english(&table),
            "because: wheelchair user"
        );
        assert_eq!(
            m("tent by the door").english(&table),
            "because: tent by the door"
        );
        assert!(param("tent by the door").is_string());
    }
}
