//! The layering, checked: each top-level module of `src/` may only name (through `crate::…`
//! paths, `use` groups included) the modules its layer allows. The compiler cannot say "the
//! runtime never reaches up into the reconciler"; this test does, and fails naming the file,
//! the line and the forbidden arrow. The layers (README "Architecture"):
//!
//! - ground floor: `common` (shared vocabulary: mount, port request, ids, loopback) and the
//!   helpers `fsutil`, `fsat`, `timefmt`, `paths`, `rootid`, `errchain`, `term`, `timing`;
//!   they name only each other;
//! - `spec` (the stack file) names nothing above the ground floor; `planner` only `spec`;
//! - the kernel-facing layers `runtime`, `network`, `volumes`, `image` name none of each other
//!   nor anything above (network and volumes take plain data, never `spec` types);
//! - `copy` (tar streams in and out of containers) uses `image`'s path rules;
//! - `builder` drives the runtime, network and image store for a Dockerfile; `convert` reads
//!   only `spec`; the `reconciler` may use every layer below it; `watch` the reconciler and
//!   the builder; `cli` and the binaries everything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const GROUND: &[&str] = &["common", "fsutil", "fsat", "timefmt", "paths", "rootid", "errchain", "term", "timing"];

/// Module → the non-ground modules it may name.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    const ALL: &[&str] = &[
        "spec",
        "planner",
        "runtime",
        "network",
        "volumes",
        "image",
        "copy",
        "builder",
        "convert",
        "reconciler",
        "watch",
        "cli",
    ];
    BTreeMap::from([
        ("spec", &[][..]),
        ("planner", &["spec"][..]),
        ("runtime", &[][..]),
        ("network", &[][..]),
        ("volumes", &[][..]),
        ("image", &[][..]),
        ("copy", &["image"][..]),
        ("builder", &["spec", "image", "runtime", "network", "copy"][..]),
        ("convert", &["spec"][..]),
        ("reconciler", &["spec", "planner", "runtime", "network", "volumes", "image", "builder", "copy"][..]),
        ("watch", &["spec", "planner", "reconciler", "builder", "image", "runtime"][..]),
        ("cli", ALL),
        ("bin", ALL),
        ("lib", ALL),
        ("main", ALL),
    ])
}

/// One forbidden arrow: `file:line: from -> to`.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    file: String,
    line: usize,
    from: String,
    to: String,
}

/// The top-level module a source file belongs to (`src/runtime/x.rs` → runtime,
/// `src/fsutil.rs` → fsutil, `src/bin/…` → bin).
fn module_of(rel: &Path) -> String {
    let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy().to_string());
    let first = parts.next().unwrap_or_default();
    first.strip_suffix(".rs").unwrap_or(&first).to_string()
}

/// Source text without comments (line and block) and without the contents of string
/// literals, so prose that mentions `crate::x` does not count.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                if b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' && (i == 0 || b[i - 1] != b'\'') {
            // A string (raw strings' `#`s are rare in paths that matter; treated the same).
            out.push('"');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                } else if b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            out.push('"');
            i += 1;
        } else {
            let ch = src[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// The top-level modules named through `prefix` (`crate::` or `berth::`): `crate::x::…` gives
/// x, `crate::{x, y::z}` gives x and y. With the line each appears on.
fn named_modules(code: &str, prefix: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        if at > 0 && (code.as_bytes()[at - 1].is_ascii_alphanumeric() || code.as_bytes()[at - 1] == b'_') {
            continue;
        }
        let line = code[..at].matches('\n').count() + 1;
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group: split on commas at brace depth 0.
            let mut depth = 0;
            let mut item = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push((line, ident(&item)));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(ch);
                }
            }
            out.push((line, ident(&item)));
        } else {
            out.push((line, ident(rest)));
        }
    }
    out.retain(|(_, m)| !m.is_empty() && m != "self");
    out
}

fn ident(s: &str) -> String {
    s.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// Every forbidden arrow in the files under `src` (pairs of path relative to src, text).
fn violations(files: &[(PathBuf, String)]) -> Vec<Violation> {
    let allowed = allowed();
    let mut out = Vec::new();
    for (rel, text) in files {
        let from = module_of(rel);
        let code = code_only(text);
        let prefix = if from == "bin" { "berth::" } else { "crate::" };
        for (line, to) in named_modules(&code, prefix) {
            if to == from {
                continue;
            }
            let ok = if GROUND.contains(&from.as_str()) {
                GROUND.contains(&to.as_str())
            } else {
                GROUND.contains(&to.as_str())
                    || allowed.get(from.as_str()).is_some_and(|list| list.contains(&to.as_str()))
            };
            if !ok {
                out.push(Violation { file: rel.display().to_string(), line, from: from.clone(), to });
            }
        }
    }
    out.sort();
    out
}

fn sources(dir: &Path, base: &Path, out: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read src").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            sources(&p, base, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).expect("read source");
            out.push((p.strip_prefix(base).expect("under src").to_path_buf(), text));
        }
    }
}

#[test]
fn no_layer_reaches_where_it_may_not() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &src, &mut files);
    assert!(files.len() > 100, "expected berth's sources under {}", src.display());
    // Every top-level module has a rule (a new module must be placed in a layer).
    let allowed = allowed();
    let modules: BTreeSet<String> = files.iter().map(|(rel, _)| module_of(rel)).collect();
    let unplaced: Vec<&String> =
        modules.iter().filter(|m| !GROUND.contains(&m.as_str()) && !allowed.contains_key(m.as_str())).collect();
    assert!(unplaced.is_empty(), "modules in no layer (add them to tests/arch_layers.rs): {unplaced:?}");
    let bad = violations(&files);
    let text: Vec<String> =
        bad.iter().map(|v| format!("src/{}:{}: {} -> {} is not allowed", v.file, v.line, v.from, v.to)).collect();
    assert!(bad.is_empty(), "layering violations:\n{}", text.join("\n"));
}

#[test]
fn the_checker_sees_forbidden_arrows_in_every_form() {
    let file = |path: &str, text: &str| (PathBuf::from(path), text.to_string());
    let files = vec![
        file("runtime/x.rs", "use crate::reconciler::Thing;\n"),
        file("network/y.rs", "use crate::{fsutil, spec::model::Port};\nfn f() { crate::common::Mount; }\n"),
        file("volumes/z.rs", "fn f() {\n    let _ = crate::planner::VolumeState::default();\n}\n"),
        file("fsutil.rs", "use crate::runtime::Mount;\n"),
        file(
            "spec/ok.rs",
            "// crate::cli in a comment\nconst S: &str = \"crate::cli in a string\";\nuse crate::common;\n",
        ),
        file("planner/ok.rs", "use crate::spec::model::Stack;\nuse super::x;\n"),
        file("bin/helper.rs", "fn main() { berth::runtime::helper::main(&[]); }\n"),
    ];
    let got: Vec<(String, usize, String)> = violations(&files).into_iter().map(|v| (v.file, v.line, v.to)).collect();
    assert_eq!(
        got,
        vec![
            ("fsutil.rs".to_string(), 1, "runtime".to_string()),
            ("network/y.rs".to_string(), 1, "spec".to_string()),
            ("runtime/x.rs".to_string(), 1, "reconciler".to_string()),
            ("volumes/z.rs".to_string(), 2, "planner".to_string()),
        ]
    );
}
