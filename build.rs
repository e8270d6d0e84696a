//! Embeds the language catalogue: every `web/lang/*.json` becomes an entry of `LANGUAGE_FILES`
//! (in `$OUT_DIR/languages.rs`, included by `src/http/web/languages.rs`), so a translator adds a
//! language by adding one file — no list in the code to keep in step.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/lang");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("web/lang is part of the source tree")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let code = path.file_stem()?.to_str()?.to_owned();
            let is_json = path.extension().is_some_and(|e| e == "json");
            (is_json && !code.starts_with('.')).then(|| (code, path.display().to_string()))
        })
        .collect();
    files.sort();
    let mut out = String::from(
        "/// Every language file of `web/lang/`, by code, sorted.\npub const LANGUAGE_FILES: &[(&str, &str)] = &[\n",
    );
    for (code, path) in &files {
        println!("cargo:rerun-if-changed={path}");
        writeln!(out, "    ({code:?}, include_str!({path:?})),").unwrap();
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("languages.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
