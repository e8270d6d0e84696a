//! The layers import one way, read from the source: `domain` below everything, the pure
//! `capacity` and `config` above it, `http/` on top, and no two modules of the service naming
//! each other in a circle. A `use` that turns an arrow around fails here, before the README's map
//! misleads a reader.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module of the service crate (`src/x.rs` with `src/x/`) → the other top-level
/// modules it names as `crate::…` in code (comments aside, doc links too).
fn module_imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src) {
        let relative = file.strip_prefix(&src).expect("under src/");
        let first = relative.components().next().expect("a path");
        let module = Path::new(first.as_os_str())
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        if module == "lib" || module == "main" {
            continue; // the crate root declares every module; the binary uses the library
        }
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        let named = imports.entry(module.clone()).or_default();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            named.extend(crate_paths(line).filter(|m| *m != module));
        }
    }
    imports
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a readable directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The module after each `crate::` in `line`.
fn crate_paths(line: &str) -> impl Iterator<Item = String> + '_ {
    line.match_indices("crate::").map(move |(at, prefix)| {
        line[at + prefix.len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    })
}

/// A circle of modules that import each other, if any (depth-first search for a back edge).
fn a_circle(imports: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        imports: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == module) {
            return Some(path[start..].to_vec());
        }
        if !done.insert(module.to_owned()) {
            return None;
        }
        path.push(module.to_owned());
        for next in imports.get(module).into_iter().flatten() {
            if let Some(circle) = visit(next, imports, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    imports
        .keys()
        .find_map(|m| visit(m, imports, &mut Vec::new(), &mut done))
}

#[test]
fn no_two_modules_of_the_service_import_each_other_in_a_circle() {
    let imports = module_imports();
    assert!(imports.len() > 15, "the modules were found: {imports:?}");
    assert_eq!(a_circle(&imports), None, "{imports:#?}");
}

#[test]
fn nothing_below_http_names_http_and_the_lower_layers_name_only_what_is_below_them() {
    let imports = module_imports();
    for (module, named) in &imports {
        assert!(
            module == "http" || !named.contains("http"),
            "{module} imports crate::http"
        );
    }
    let allowed: [(&str, &[&str]); 5] = [
        ("domain", &[]),
        ("holidays", &[]),
        ("hours", &["domain", "holidays"]),
        ("capacity", &["domain"]),
        ("config", &["domain", "capacity", "hours", "holidays"]),
    ];
    for (module, below) in allowed {
        let named = &imports[module];
        let above: Vec<_> = named
            .iter()
            .filter(|m| !below.contains(&m.as_str()))
            .collect();
        assert!(above.is_empty(), "{module} imports {above:?} from above it");
    }
}

#[test]
fn a_circle_is_found_when_there_is_one() {
    // The check above must be able to fail: a → b → c → a is a circle, a → b → c is not.
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            g.entry((*from).to_owned())
                .or_default()
                .insert((*to).to_owned());
        }
        g
    };
    let circle = a_circle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")]));
    assert_eq!(circle.map(|c| c.len()), Some(3));
    assert_eq!(
        a_circle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])),
        None
    );
    assert_eq!(
        crate_paths("use crate::store::{Record}; crate::domain::X").collect::<Vec<_>>(),
        ["store", "domain"]
    );
}
