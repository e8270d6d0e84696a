//! The language catalogue, `web/lang/{code}.json`, as a translator leaves it: every language has
//! every text of every section it claims (same keys as bokmål, the same `{placeholders}`, a plural
//! text with every form its language needs), and every key a page asks for exists.
//!
//! A missing key fails here, naming the language, the key and what is wrong — before any page
//! falls back to bokmål in front of a visitor.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// The sections every language must carry (the visitors' pages) and those of the staff pages,
/// which bokmål, nynorsk and English must carry.
const VISITOR_SECTIONS: [&str; 3] = ["common", "public", "display"];
const STAFF_SECTIONS: [&str; 3] = ["terminal", "dashboard", "messages"];
const STAFF_LANGUAGES: [&str; 3] = ["nb", "nn", "en"];
const VISITOR_LANGUAGES: [&str; 3] = ["pl", "uk", "ar"];

/// CLDR's plural categories of a language (for counting), the forms a plural text must have.
fn plural_forms(language: &str) -> &'static [&'static str] {
    match language {
        "pl" | "uk" | "ru" => &["one", "few", "many", "other"],
        "ar" => &["zero", "one", "two", "few", "many", "other"],
        "nb" | "nn" | "en" | "de" | "sv" | "da" => &["one", "other"],
        _ => &["other"],
    }
}

const PLURAL_KEYS: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

fn lang_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web/lang")
}

fn catalogue() -> BTreeMap<String, Value> {
    std::fs::read_dir(lang_dir())
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            let code = path.file_stem()?.to_str()?.to_owned();
            (path.extension()? == "json").then_some((path, code))
        })
        .map(|(path, code)| {
            let text = std::fs::read_to_string(&path).unwrap();
            let value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not valid JSON: {e}", path.display()));
            (code, value)
        })
        .collect()
}

fn is_plural(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.contains_key("other") && o.keys().all(|k| PLURAL_KEYS.contains(&k.as_str()))
    })
}

/// The `{names}` a text (or every form of a plural text) fills in.
fn placeholders(v: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut scan = |s: &str| {
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close)
                    if after[..close]
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_') =>
                {
                    names.insert(after[..close].to_owned());
                    rest = &after[close + 1..];
                }
                _ => rest = after,
            }
        }
    };
    match v {
        Value::String(s) => scan(s),
        Value::Object(o) => o.values().filter_map(Value::as_str).for_each(&mut scan),
        _ => {}
    }
    names
}

/// Every problem of `text` (language `language`) against the reference `reference`, at `path`.
fn compare(
    language: &str,
    path: &str,
    reference: &Value,
    text: Option<&Value>,
    problems: &mut Vec<String>,
) {
    let Some(text) = text else {
        problems.push(format!("{language}: {path} is missing"));
        return;
    };
    let leaf = |v: &Value| v.is_string() || is_plural(v);
    match (reference, text) {
        (r, t) if leaf(r) && leaf(t) => {
            // A plural text may stand where the reference has a plain one: languages count
            // differently ("ca. {n} min" in Norwegian, six forms of it in Arabic).
            let (want, have) = (placeholders(r), placeholders(t));
            if want != have {
                problems.push(format!(
                    "{language}: {path} fills in {have:?}, bokmål fills in {want:?}"
                ));
            }
            if let Some(forms) = t.as_object() {
                for form in plural_forms(language) {
                    if !forms.contains_key(*form) {
                        problems.push(format!(
                            "{language}: {path} lacks the plural form \"{form}\""
                        ));
                    }
                }
            }
        }
        (Value::Array(r), Value::Array(t)) => {
            if r.len() != t.len() {
                problems.push(format!(
                    "{language}: {path} has {} entries, bokmål {}",
                    t.len(),
                    r.len()
                ));
            }
        }
        (Value::Object(r), Value::Object(t)) => {
            for (key, value) in r {
                compare(
                    language,
                    &format!("{path}.{key}"),
                    value,
                    t.get(key),
                    problems,
                );
            }
            for key in t.keys().filter(|k| !r.contains_key(*k)) {
                problems.push(format!(
                    "{language}: {path}.{key} is not in bokmål (a typo, or a text bokmål lacks)"
                ));
            }
        }
        _ => problems.push(format!(
            "{language}: {path} is a different kind of value than in bokmål"
        )),
    }
}

/// Every problem of the whole catalogue: meta, sections claimed and required, and each section's
/// texts against bokmål's.
fn problems_of(catalogue: &BTreeMap<String, Value>) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(reference) = catalogue.get("nb") else {
        return vec!["nb.json (bokmål, the reference and fallback) is missing".into()];
    };
    for (language, file) in catalogue {
        let meta = &file["meta"];
        for field in ["name", "locale", "names"] {
            if !meta[field].is_string() {
                problems.push(format!("{language}: meta.{field} must be a string"));
            }
        }
        if meta["dir"] != "ltr" && meta["dir"] != "rtl" {
            problems.push(format!("{language}: meta.dir must be \"ltr\" or \"rtl\""));
        }
        let sections: Vec<&str> = meta["sections"]
            .as_array()
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut required: Vec<&str> = VISITOR_SECTIONS.to_vec();
        if STAFF_LANGUAGES.contains(&language.as_str()) {
            required.extend(STAFF_SECTIONS);
        }
        for section in required.iter().filter(|s| !sections.contains(s)) {
            problems.push(format!(
                "{language}: meta.sections must include \"{section}\""
            ));
        }
        for section in sections {
            compare(
                language,
                section,
                &reference[section],
                file.get(section),
                &mut problems,
            );
        }
    }
    problems
}

#[test]
fn every_language_has_every_text_of_its_sections() {
    let catalogue = catalogue();
    for language in STAFF_LANGUAGES.iter().chain(&VISITOR_LANGUAGES) {
        assert!(
            catalogue.contains_key(*language),
            "web/lang/{language}.json is missing"
        );
    }
    let problems = problems_of(&catalogue);
    assert!(
        problems.is_empty(),
        "the catalogue is incomplete:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_names_a_missing_key_a_lost_placeholder_and_a_missing_plural_form() {
    let meta = |sections: Value| json!({"name": "x", "dir": "ltr", "locale": "x", "names": "en", "sections": sections});
    let all = json!([
        "common",
        "public",
        "display",
        "terminal",
        "dashboard",
        "messages"
    ]);
    let nb = json!({"meta": meta(all), "common": {}, "display": {}, "terminal": {}, "dashboard": {}, "messages": {},
        "public": {"title": "Tittel", "rule": "Avstand {d} m", "days": ["a", "b"]}});
    let pl = json!({"meta": meta(json!(["common", "public", "display"])), "common": {}, "display": {},
        "public": {"rule": "Odstęp m", "days": ["a"], "extra": "x",
            "title": {"one": "{n} tytuł", "other": "{n} tytuły"}}});
    let catalogue = BTreeMap::from([("nb".to_owned(), nb), ("pl".to_owned(), pl)]);
    let problems = problems_of(&catalogue).join("\n");
    for expected in [
        "pl: public.rule fills in {}, bokmål fills in {\"d\"}",
        "pl: public.days has 1 entries, bokmål 2",
        "pl: public.extra is not in bokmål",
        "pl: public.title lacks the plural form \"few\"",
        "pl: public.title fills in {\"n\"}",
    ] {
        assert!(
            problems.contains(expected),
            "expected {expected:?} in:\n{problems}"
        );
    }
}

/// Every `"section.key"` a page names — `data-i18n…="…"` in its HTML, `tr("…")` in its scripts —
/// must be in bokmål, so a typo shows here rather than as a raw key on a screen.
#[test]
fn every_key_a_page_asks_for_exists() {
    let reference = &catalogue()["nb"];
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let mut missing = Vec::new();
    for file in files_under(&web) {
        let text = std::fs::read_to_string(&file).unwrap();
        for key in keys_named(&text) {
            let found = key
                .split('.')
                .try_fold(reference, |node, part| node.get(part));
            if found.is_none() {
                missing.push(format!(
                    "{}: {key}",
                    file.strip_prefix(&web).unwrap().display()
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys not in web/lang/nb.json:\n{}",
        missing.join("\n")
    );
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name() != Some("tests".as_ref()) {
            files.extend(files_under(&path));
        } else if path.extension().is_some_and(|e| e == "js" || e == "html") {
            files.push(path);
        }
    }
    files
}

/// The literal keys in `data-i18n="…"`, `data-i18n-label="…"`, `data-i18n-placeholder="…"` and
/// `tr("…"` — those with a section prefix (pages not yet on the catalogue use bare keys).
fn keys_named(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for opener in [
        "data-i18n=\"",
        "data-i18n-label=\"",
        "data-i18n-placeholder=\"",
        "tr(\"",
    ] {
        let mut rest = text;
        while let Some(at) = rest.find(opener) {
            let after = &rest[at + opener.len()..];
            let end = after.find('"').unwrap_or(0);
            let key = &after[..end];
            if key.contains('.')
                && key
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '.' || c == '_')
            {
                keys.push(key.to_owned());
            }
            rest = &after[end..];
        }
    }
    keys
}
