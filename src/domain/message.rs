//! A sentence the service writes to a page, as data: a stable `code` and the `params` the
//! sentence needs, so that each page renders it in its own language from its catalogue
//! (`web/lang/*.json`, section `messages`), and the English `detail` beside it is rendered here
//! from the very same code and params (so the two cannot drift).
//!
//! A param is a string, a number, a list, or itself a message (`{"code", "params"}`: an
//! over-cap alert's cause, a weekday, a preset reason), which is rendered in place. English
//! templates use `{name}` placeholders, as the catalogue does; each table of codes lives next to
//! the concept it belongs to ([`COMMON`] here, alerts and causes in [`super::alert`], reasons
//! in [`super::reasons`], refusals in `engine/outcome.rs`, problems in `http/problem.rs`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A message's parameters: a JSON object.
pub type Params = Map<String, Value>;

/// A code and the values its sentence needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    /// Stable, dotted snake_case (`ticket_unknown`, `alert.at_cap`); a page looks it up as
    /// `messages.<code>` in its language.
    #[schema(example = "ticket_unknown")]
    pub code: String,
    /// The values the sentence needs; a value that is an object with a `code` is a message
    /// itself, rendered in place.
    #[schema(value_type = Object, example = json!({"ticket": "P123"}))]
    #[serde(default)]
    pub params: Params,
}

/// Codes whose sentences are parts of others: weekdays, when a service opens again, why it is
/// closed today.
pub const COMMON: &[(&str, &str)] = &[
    ("weekday.monday", "Monday"),
    ("weekday.tuesday", "Tuesday"),
    ("weekday.wednesday", "Wednesday"),
    ("weekday.thursday", "Thursday"),
    ("weekday.friday", "Friday"),
    ("weekday.saturday", "Saturday"),
    ("weekday.sunday", "Sunday"),
    ("opens.today", "it opens again at {time}"),
    ("opens.on_day", "it opens {weekday} at {time}"),
    (
        "opens.not_soon",
        "it has no opening hours in the coming month",
    ),
    ("closed_basis.weekly", ""),
    ("closed_basis.holiday", ", {name_en} ({name})"),
    ("closed_basis.exception", ", {reason}"),
];

impl Message {
    /// A message with no params yet.
    pub fn new(code: impl Into<String>) -> Self {
        Message {
            code: code.into(),
            params: Params::new(),
        }
    }

    /// This message with `key` set to `value`.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.params.insert(key.to_owned(), value.into());
        self
    }

    /// This message as a param value of another.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("messages serialize")
    }

    /// The English sentence, from the template `table` gives for this code (or, for a code
    /// that is not there, the parts' tables). A code no table has is a bug every test that meets
    /// it reports; a release build shows the code itself rather than nothing.
    pub fn english(&self, table: &[(&str, &'static str)]) -> String {
        let template = lookup(table, &self.code).or_else(|| part_template(&self.code));
        debug_assert!(template.is_some(), "no English template for {}", self.code);
        fill(template.unwrap_or(&self.code), &self.params)
    }
}

/// The template `table` gives `code`.
pub fn lookup<'a>(table: &[(&str, &'a str)], code: &str) -> Option<&'a str> {
    table.iter().find(|(c, _)| *c == code).map(|(_, t)| *t)
}

/// The English template of a code that may appear inside another message's params.
fn part_template(code: &str) -> Option<&'static str> {
    [COMMON, super::alert::PARTS, super::reasons::REASONS]
        .into_iter()
        .find_map(|table| lookup(table, code))
}

/// `template` with each `{name}` replaced by the param `name`, rendered in English.
pub fn fill(template: &str, params: &Params) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        match params.get(name) {
            Some(value) => out.push_str(&english_value(name, value)),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Param `name` in English: a nested message rendered, a list joined with commas (an item
/// that is a plain object rendered with the template `name.item`).
fn english_value(name: &str, value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(fields) => match serde_json::from_value::<Message>(value.clone()) {
            Ok(m) => m.english(&[]),
            Err(_) => Message {
                code: format!("{name}.item"),
                params: fields.clone(),
            }
            .english(&[]),
        },
        Value::Array(items) => items
            .iter()
            .map(|item| english_value(name, item))
            .collect::<Vec<_>>()
            .join(", "),
        // 2.0 m reads "2 m", as Rust prints a float.
        Value::Number(n) if n.is_f64() => {
            n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string())
        }
        other => other.to_string(),
    }
}

/// The placeholders a template names, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        names.push(&after[..close]);
        rest = &after[close + 1..];
    }
    names
}

/// The weekday as a message (`weekday.monday`), for a page to name in its language.
pub fn weekday(w: chrono::Weekday) -> Message {
    use chrono::Weekday::*;
    Message::new(match w {
        Mon => "weekday.monday",
        Tue => "weekday.tuesday",
        Wed => "weekday.wednesday",
        Thu => "weekday.thursday",
        Fri => "weekday.friday",
        Sat => "weekday.saturday",
        Sun => "weekday.sunday",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_filled_from_params_and_nested_messages_render_in_place() {
        let opens = Message::new("opens.on_day")
            .with("weekday", weekday(chrono::Weekday::Mon).to_value())
            .with("time", "08:00");
        assert_eq!(opens.english(&[]), "it opens Monday at 08:00");
        let m = Message::new("x")
            .with("n", 3)
            .with("list", vec!["a", "b"])
            .with("then", opens.to_value());
        assert_eq!(
            m.english(&[("x", "{n} of {list}; {then}")]),
            "3 of a, b; it opens Monday at 08:00"
        );
    }

    #[test]
    fn a_missing_param_shows_rather_than_vanishes() {
        assert_eq!(
            fill("{a} and {b}", &Message::new("x").with("a", 1).params),
            "1 and {b}"
        );
        assert_eq!(placeholders("{a} and {b} {"), ["a", "b"]);
    }

    #[test]
    fn every_common_template_names_only_the_params_its_builders_give() {
        for (code, template) in COMMON {
            for name in placeholders(template) {
                assert!(
                    ["time", "weekday", "name", "name_en", "reason"].contains(&name),
                    "{code}: {name}"
                );
            }
        }
    }
}
