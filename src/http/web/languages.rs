//! The language catalogue the pages read: `web/lang/{code}.json`, one file per language, embedded
//! by `build.rs` (so adding a language is adding a file), and `index.json`, the list of languages
//! with what each covers, made from the files' own `meta` sections.
//!
//! With `serve --web-dir`, both are read from `<web-dir>/lang/` on every request instead, so a
//! translator sees a new or edited file on reload.

use std::path::Path;
use std::sync::LazyLock;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::problem::ApiError;
use crate::state::AppState;

include!(concat!(env!("OUT_DIR"), "/languages.rs"));

/// `index.json` of the embedded files, made once.
static EMBEDDED_INDEX: LazyLock<String> = LazyLock::new(|| {
    index(
        LANGUAGE_FILES
            .iter()
            .map(|(code, body)| ((*code).to_owned(), (*body).to_owned())),
    )
});

/// `{"languages": [{code, name, dir, locale, sections}, …]}`, bokmål first (the pages' fallback),
/// then by code. A file whose JSON or `meta` is unreadable is left out (the catalogue test fails on
/// it long before a page would).
fn index(files: impl Iterator<Item = (String, String)>) -> String {
    let mut languages: Vec<Value> = files
        .filter_map(|(code, body)| {
            let meta = serde_json::from_str::<Value>(&body)
                .ok()?
                .get("meta")?
                .clone();
            Some(json!({
                "code": code,
                "name": meta.get("name")?,
                "dir": meta.get("dir")?,
                "locale": meta.get("locale")?,
                "sections": meta.get("sections")?,
            }))
        })
        .collect();
    languages.sort_by_key(|l| {
        (
            l["code"] != "nb",
            l["code"].as_str().unwrap_or("").to_owned(),
        )
    });
    json!({ "languages": languages }).to_string()
}

fn json_answer(body: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /assets/lang/{file}`: `index.json` or one language's `{code}.json`.
pub async fn file(
    State(state): State<AppState>,
    UrlPath(file): UrlPath<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound(format!("no language file {file}"));
    if let Some(dir) = state.web_dir.as_deref() {
        return from_disk(&dir.join("lang"), &file)
            .await
            .map(json_answer)
            .ok_or_else(not_found);
    }
    if file == "index.json" {
        return Ok(json_answer(EMBEDDED_INDEX.clone()));
    }
    let code = file.strip_suffix(".json").ok_or_else(not_found)?;
    LANGUAGE_FILES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, body)| json_answer((*body).to_owned()))
        .ok_or_else(not_found)
}

/// The same from `<web-dir>/lang/`: only plain `{code}.json` names, so nothing outside it is read.
async fn from_disk(dir: &Path, file: &str) -> Option<String> {
    if file == "index.json" {
        let mut files = Vec::new();
        let mut entries = tokio::fs::read_dir(dir).await.ok()?;
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(code) = name.strip_suffix(".json").filter(|c| plain(c)) {
                let body = tokio::fs::read_to_string(entry.path()).await.ok()?;
                files.push((code.to_owned(), body));
            }
        }
        return Some(index(files.into_iter()));
    }
    let code = file.strip_suffix(".json").filter(|c| plain(c))?;
    tokio::fs::read_to_string(dir.join(format!("{code}.json")))
        .await
        .ok()
}

/// A language code as a file name: letters, digits and `-`, not empty.
fn plain(code: &str) -> bool {
    !code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_web_lang_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/lang");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.ok()?.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".json").map(str::to_owned)
            })
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = LANGUAGE_FILES.iter().map(|(c, _)| *c).collect();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn the_index_lists_bokmal_first_with_each_files_meta() {
        let index: Value = serde_json::from_str(&EMBEDDED_INDEX).unwrap();
        let languages = index["languages"].as_array().unwrap();
        assert_eq!(languages[0]["code"], "nb");
        assert_eq!(languages.len(), LANGUAGE_FILES.len());
        let arabic = languages.iter().find(|l| l["code"] == "ar").unwrap();
        assert_eq!(arabic["dir"], "rtl");
        assert!(
            arabic["sections"]
                .as_array()
                .unwrap()
                .contains(&json!("public"))
        );
    }
}
