//! The `check-config` command: a config file checked as `serve` would check it, with every
//! error found rather than the first — the file's own (each naming the key), then, for a valid
//! file, every station whose status documents could not be sent — or else the report of what
//! the file means at each door, with a warning when it accepts the public demo tokens.
//!
//! It returns text; printing it and the exit code are `main`'s.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::engine;

/// The console's width that the warning is wrapped to.
const CONSOLE_COLUMNS: usize = 80;

/// A file that passed: its report (for stdout) and a warning, if any (for stderr).
pub struct Checked {
    pub report: String,
    pub warning: Option<String>,
}

/// Checks `file` at `now` (opening hours are judged at `now`): the report, or every error, one
/// line each.
pub fn check(file: &Path, now: DateTime<Utc>) -> Result<Checked, Vec<String>> {
    let config = Config::load(file)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    let unsendable: Vec<String> = config
        .stations
        .iter()
        .filter_map(|station| {
            let station = engine::Station::new(Arc::new(station.clone()), &config.rules);
            engine::check_config_part(&station, now).err()
        })
        .map(|e| format!("{}: {e}", config.source))
        .collect();
    if !unsendable.is_empty() {
        return Err(unsendable);
    }
    Ok(Checked {
        report: config.describe_caps(),
        warning: config
            .demo_token_warning()
            .map(|w| wrap(&format!("warning: {w}"), CONSOLE_COLUMNS)),
    })
}

/// The last line of a refused file's errors.
pub fn refused(errors: &[String]) -> String {
    match errors.len() {
        1 => "1 error; the config was not accepted".to_owned(),
        n => format!("{n} errors; the config was not accepted"),
    }
}

/// `text` broken between words into lines of at most `width` characters (a longer word keeps
/// a line of its own); the lines after the first are indented by two spaces.
fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("there is always a line");
        let used = line.chars().count();
        if used > 0 && used + 1 + word.chars().count() > width {
            lines.push(format!("  {word}"));
        } else {
            if used > 0 {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_is_wrapped_between_words_to_the_console() {
        let text = "warning: ".to_owned() + &"word ".repeat(40);
        let wrapped = wrap(&text, 20);
        assert!(wrapped.lines().count() > 1);
        for line in wrapped.lines() {
            assert!(line.chars().count() <= 20, "{line:?}");
            assert!(!line.ends_with(' '), "{line:?}");
        }
        assert_eq!(wrapped.split_whitespace().count(), 41, "no word lost");
    }
}
