//! `berth config --variables` and `berth config --environment`: what the stack files are
//! interpolated with, read from the files as written (so a file with errors elsewhere still
//! answers), as docker compose prints it. `--variables` reads the `-f` files and the files
//! they include and extend from.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use super::config::{ConfigArgs, Format};
use super::load::load_options;
use super::GlobalOpts;
use crate::spec::relpath;
use crate::spec::variables::{extract, Variable};
use crate::spec::yaml::{Node, Value};

pub fn run(g: &GlobalOpts, a: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let opts = load_options(g, &a.only)?;
    let (files, vars) = crate::spec::load::interpolation_inputs(&opts)?;
    let text = if a.environment {
        let mut lines: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        lines.sort();
        lines.concat()
    } else {
        if !a.only.is_empty() {
            eprintln!("warning: service filtering is not applied with --variables: the variables of every service are printed");
        }
        let mut found = BTreeMap::new();
        let mut seen = Vec::new();
        for (path, text) in &files {
            walk_file(path, text, 0, &mut seen, &mut found)?;
        }
        render(&found, a.format)?
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Include and extends nesting deeper than this is a cycle or a mistake (as `load`'s limit).
const MAX_DEPTH: usize = 16;

/// The variables of one file, then of the files it includes (`include:`) and extends from
/// (`extends.file`), as compose-go's model holds them all. A referenced file that cannot be
/// read is skipped here: loading the stack reports it.
fn walk_file(
    path: &Path,
    text: &str,
    depth: usize,
    seen: &mut Vec<PathBuf>,
    found: &mut BTreeMap<String, Variable>,
) -> anyhow::Result<()> {
    if depth > MAX_DEPTH || seen.iter().any(|p| p == path) {
        return Ok(());
    }
    seen.push(path.to_path_buf());
    let shown = path.display().to_string();
    let docs = crate::spec::yaml::parse_all(text, &shown)
        .map_err(|d| anyhow::anyhow!("{d}"))
        .with_context(|| format!("read the variables of {shown}"))?;
    extract(&docs, found);
    let dir = path.parent().unwrap_or(Path::new("."));
    for file in docs.iter().flat_map(|d| referenced(d, dir)) {
        if let Ok(text) = crate::fsutil::read_string_limited(&file, crate::spec::load::MAX_STACK_FILE, "stack file") {
            walk_file(&file, &text, depth + 1, seen, found)?;
        }
    }
    Ok(())
}

/// The files a document includes and extends from, relative to `dir` (its directory).
fn referenced(doc: &Node, dir: &Path) -> Vec<PathBuf> {
    let Some(map) = doc.as_map() else { return Vec::new() };
    let mut names: Vec<String> = Vec::new();
    let texts = |n: Option<&Node>| -> Vec<String> {
        match n.map(|n| &n.value) {
            Some(Value::Str(s)) => vec![s.clone()],
            Some(Value::Seq(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        }
    };
    if let Some(Value::Seq(entries)) = map.get("include").map(|n| &n.value) {
        for e in entries {
            names.extend(if e.as_str().is_some() {
                texts(Some(e))
            } else {
                texts(e.as_map().and_then(|m| m.get("path")))
            });
        }
    }
    if let Some(services) = map.get("services").and_then(Node::as_map) {
        for (_, svc) in services.iter() {
            let extends = svc.as_map().and_then(|m| m.get("extends")).and_then(Node::as_map);
            names.extend(texts(extends.and_then(|e| e.get("file"))));
        }
    }
    names.iter().map(|n| relpath::join(dir, Path::new(n))).collect()
}

/// A table (NAME REQUIRED DEFAULT VALUE ALTERNATE VALUE), or the map by name in JSON (with
/// compose-go's field names) or YAML (with the lower-cased names Go's YAML gives them).
fn render(found: &BTreeMap<String, Variable>, format: Option<Format>) -> anyhow::Result<String> {
    Ok(match format {
        None => {
            let rows: Vec<Vec<String>> = found
                .values()
                .map(|v| {
                    vec![v.name.clone(), v.required.to_string(), v.default_value.clone(), v.presence_value.clone()]
                })
                .collect();
            crate::reconciler::ops::table::render(&["NAME", "REQUIRED", "DEFAULT VALUE", "ALTERNATE VALUE"], &rows)
        }
        Some(Format::Json) => serde_json::to_string_pretty(found)? + "\n",
        Some(Format::Yaml) => {
            let lower: BTreeMap<&String, serde_json::Value> = found
                .iter()
                .map(|(k, v)| {
                    let fields = serde_json::json!({
                        "name": v.name, "defaultvalue": v.default_value,
                        "presencevalue": v.presence_value, "required": v.required,
                    });
                    (k, fields)
                })
                .collect();
            serde_yaml::to_string(&lower)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_each_variable_once_sorted() {
        let mut found = BTreeMap::new();
        let docs = crate::spec::yaml::parse_all("a: ${B:-x}\nb: $A ${C:?}\n", "c.yaml").unwrap();
        extract(&docs, &mut found);
        let table = render(&found, None).unwrap();
        assert_eq!(
            table,
            "NAME   REQUIRED   DEFAULT VALUE   ALTERNATE VALUE\nA      false\nB      false      x\nC      true\n"
        );
        let json: serde_json::Value = serde_json::from_str(&render(&found, Some(Format::Json)).unwrap()).unwrap();
        assert_eq!(json["B"]["DefaultValue"], "x");
        let yaml: serde_json::Value = serde_yaml::from_str(&render(&found, Some(Format::Yaml)).unwrap()).unwrap();
        assert_eq!(yaml["C"]["required"], true);
    }
}
