//! Every code the service can write to a page, gathered from the tables that live beside each
//! concept (refusals, problems, alerts and their parts, preset reasons, the common parts), each
//! with its English template: what the pages' catalogue (`web/lang/*.json`, section `messages`)
//! must cover in bokmål, nynorsk and English, as `tests/api/messages.rs` checks.
//!
//! A code missing from these tables cannot reach a page unnoticed either: rendering a message
//! whose code has no English template fails a debug assertion, so any test that meets it fails.

use super::problem::PROBLEMS;
use crate::domain::{alert, message, reasons};
use crate::engine::REFUSALS;

/// Every code with its English template, table by table.
pub fn every_code() -> Vec<(&'static str, &'static str)> {
    [
        REFUSALS,
        PROBLEMS,
        alert::ALERTS,
        alert::PARTS,
        reasons::REASONS,
        message::COMMON,
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::Condition;

    #[test]
    fn each_code_is_listed_once_and_none_is_a_prefix_of_another() {
        let codes = every_code();
        let mut seen = BTreeSet::new();
        for (code, _) in &codes {
            assert!(seen.insert(*code), "{code} twice");
            assert!(
                code.split('.').all(|part| !part.is_empty()
                    && part.chars().all(|c| c.is_ascii_lowercase() || c == '_')),
                "{code} is not dotted snake_case"
            );
        }
        // The catalogue nests codes by their dots: a code cannot also be a branch.
        for (code, _) in &codes {
            let branch = format!("{code}.");
            assert!(
                !codes.iter().any(|(other, _)| other.starts_with(&branch)),
                "{code} is both a text and a branch"
            );
        }
    }

    /// The API's description says what a page needs: an alert's code, params and settle
    /// deadline, every schema a `$ref` names present.
    #[test]
    fn the_openapi_document_describes_alert_codes_and_params() {
        let doc = serde_json::to_value(crate::http::openapi::document()).unwrap();
        let schemas = &doc["components"]["schemas"];
        let alert = serde_json::to_string(&schemas["Alert"]).unwrap();
        for part in ["#/components/schemas/Message", "\"settles_at\""] {
            assert!(alert.contains(part), "Alert lacks {part}: {alert}");
        }
        let message = &schemas["Message"]["properties"];
        assert!(
            message["code"].is_object() && message["params"].is_object(),
            "{message}"
        );
        let problem = &schemas["Problem"]["properties"];
        assert!(
            problem["code"].is_object() && problem["params"].is_object(),
            "{problem}"
        );
        let text = doc.to_string();
        for reference in text.split("\"#/components/schemas/").skip(1) {
            let name = &reference[..reference.find('"').unwrap()];
            assert!(
                schemas[name].is_object(),
                "{name} is referenced but not described"
            );
        }
    }

    #[test]
    fn every_alert_kind_has_its_code() {
        let codes: BTreeSet<&str> = alert::ALERTS.iter().map(|(c, _)| *c).collect();
        for kind in Condition::KINDS {
            assert!(codes.contains(format!("alert.{kind}").as_str()), "{kind}");
        }
        assert_eq!(codes.len(), Condition::KINDS.len());
    }
}
