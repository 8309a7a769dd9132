//! Top-level `include:` — other stack files loaded as sub-projects, each with its own project
//! directory and env file, whose services, networks, volumes, configs and secrets are added to
//! the including file. A resource defined both in the including file and in an included one
//! (or in two included ones) is an error naming both files, as in Compose, except identical
//! non-service definitions (two files declaring the same network the same way).
//!
//! Forms: `include: [path]` or `include: [{path: a | [a, b], env_file: f | [f], project_directory: d}]`.
//! Paths are relative to the including file's directory.

use std::path::{Path, PathBuf};

use super::diag::{Diagnostics, Pos};
use super::extends::clean_join;
use super::yaml::{Key, Map, Node, Value};

/// Top-level sections whose entries an included file contributes.
const SECTIONS: [&str; 5] = ["services", "networks", "volumes", "configs", "secrets"];

/// One include entry, resolved to absolute paths.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Files merged in order, like several `-f`.
    pub paths: Vec<PathBuf>,
    /// The included project's directory (default: the first path's directory).
    pub project_dir: PathBuf,
    /// Env files for the included project's interpolation (default: `.env` in its directory).
    pub env_files: Vec<PathBuf>,
    /// Where the entry is, for errors.
    pub pos: Pos,
}

/// Loads included projects.
pub trait Source {
    /// The merged, fully resolved tree (its own includes and extends applied) of the request,
    /// with relative paths made absolute; `None` (and diagnostics) when it cannot be loaded.
    fn include(&mut self, req: &Request, diags: &mut Diagnostics) -> Option<Node>;
}

/// Apply the `include:` of `root` (a canonical tree of a file in `file_dir`), removing the key.
pub fn apply(root: &mut Node, file_dir: &Path, source: &mut dyn Source, diags: &mut Diagnostics) {
    let Some(include) = root.as_map_mut().and_then(|m| m.remove("include")) else { return };
    let entries: Vec<Node> = match include.value {
        Value::Seq(items) => items,
        Value::Null => Vec::new(),
        _ => {
            diags.error(
                Some(&include.pos),
                "include",
                "expected a list of paths or of {path, env_file, project_directory}",
            );
            return;
        }
    };
    for (i, entry) in entries.iter().enumerate() {
        let Some(req) = request(entry, file_dir, &format!("include[{i}]"), diags) else { continue };
        if let Some(included) = source.include(&req, diags) {
            add_resources(root, included, diags);
        }
    }
}

fn request(entry: &Node, file_dir: &Path, path: &str, diags: &mut Diagnostics) -> Option<Request> {
    let (paths, env, dir) = match &entry.value {
        Value::Str(_) => (Some(entry), None, None),
        Value::Map(m) => (m.get("path"), m.get("env_file"), m.get("project_directory")),
        _ => (None, None, None),
    };
    let paths = strings(paths).into_iter().map(|p| clean_join(file_dir, Path::new(&p))).collect::<Vec<_>>();
    let Some(first) = paths.first() else {
        diags.error(Some(&entry.pos), path, "an include entry needs a `path`");
        return None;
    };
    let project_dir = match dir.and_then(Node::scalar_string) {
        Some(d) => clean_join(file_dir, Path::new(&d)),
        None => first.parent().map_or_else(|| file_dir.to_path_buf(), Path::to_path_buf),
    };
    let env_files = strings(env).into_iter().map(|p| clean_join(file_dir, Path::new(&p))).collect();
    Some(Request { paths, project_dir, env_files, pos: entry.pos.clone() })
}

/// A string, or a list of strings (other items ignored: the schema reports them).
fn strings(node: Option<&Node>) -> Vec<String> {
    match node.map(|n| &n.value) {
        Some(Value::Str(s)) => vec![s.clone()],
        Some(Value::Seq(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// Add the included tree's resources to `root`; a clash is an error naming both places.
fn add_resources(root: &mut Node, included: Node, diags: &mut Diagnostics) {
    let Value::Map(inc) = included.value else { return };
    let Some(root_map) = root.as_map_mut() else { return };
    for (key, section) in inc {
        if !SECTIONS.contains(&key.name.as_str()) {
            continue;
        }
        let Value::Map(entries) = section.value else { continue };
        if !root_map.contains_key(&key.name) {
            let pos = key.pos.clone();
            root_map.insert(key.clone(), Node::new(Value::Map(Map::default()), pos));
        }
        let Some(target) = root_map.get_mut(&key.name).and_then(Node::as_map_mut) else { continue };
        for (name, value) in entries {
            add_one(target, &key.name, name, value, diags);
        }
    }
}

fn add_one(target: &mut Map, section: &str, name: Key, value: Node, diags: &mut Diagnostics) {
    match target.get_entry(&name.name) {
        None => target.insert(name, value),
        Some((_, existing)) if section != "services" && existing.to_json() == value.to_json() => {}
        Some((existing_key, _)) => {
            let what = if section == "services" { "service" } else { section.trim_end_matches('s') };
            diags.error(
                Some(&existing_key.pos),
                format!("{section}.{}", name.name),
                format!(
                    "{what} `{}` is defined both in {} and in the included file {} (at {})",
                    name.name, existing_key.pos.file, name.pos.file, name.pos
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::yaml::parse;

    struct Fake(Vec<Request>, &'static str);

    impl Source for Fake {
        fn include(&mut self, req: &Request, _: &mut Diagnostics) -> Option<Node> {
            self.0.push(req.clone());
            parse(self.1, &req.paths[0].display().to_string()).ok()
        }
    }

    #[test]
    fn short_and_long_forms_resolve_relative_to_the_file() {
        let mut root = parse(
            "include:\n  - db/compose.yaml\n  - path: [x/a.yaml, x/b.yaml]\n    env_file: x/.env\n    project_directory: ./x\nservices: {}\n",
            "/p/compose.yaml",
        )
        .unwrap();
        let mut src = Fake(Vec::new(), "services: {}\n");
        let mut diags = Diagnostics::new();
        apply(&mut root, Path::new("/p"), &mut src, &mut diags);
        assert!(diags.is_empty(), "{diags}");
        assert_eq!(src.0[0].paths, vec![PathBuf::from("/p/db/compose.yaml")]);
        assert_eq!(src.0[0].project_dir, PathBuf::from("/p/db"));
        assert_eq!(src.0[1].paths.len(), 2);
        assert_eq!(src.0[1].env_files, vec![PathBuf::from("/p/x/.env")]);
        assert_eq!(src.0[1].project_dir, PathBuf::from("/p/x"));
        assert!(root.as_map().unwrap().get("include").is_none());
    }

    #[test]
    fn resources_are_added_and_service_conflicts_name_both_files() {
        let mut root = parse("include: [inc.yaml]\nservices:\n  web: {image: a}\n", "/p/compose.yaml").unwrap();
        let mut src =
            Fake(Vec::new(), "services:\n  web: {image: b}\n  db: {image: c}\nvolumes: {data: {}}\nnetworks: {}\n");
        let mut diags = Diagnostics::new();
        apply(&mut root, Path::new("/p"), &mut src, &mut diags);
        let j = root.to_json();
        assert_eq!(j["services"]["db"]["image"], "c");
        assert_eq!(j["services"]["web"]["image"], "a");
        assert!(j["volumes"]["data"].is_object());
        assert_eq!(
            diags.to_string(),
            "/p/compose.yaml:3:3: services.web: service `web` is defined both in /p/compose.yaml and in the included file /p/inc.yaml (at /p/inc.yaml:2:3)"
        );
    }

    #[test]
    fn identical_networks_do_not_conflict() {
        let mut root = parse("include: [inc.yaml]\nnetworks: {back: {internal: true}}\n", "/p/c.yaml").unwrap();
        let mut src = Fake(Vec::new(), "networks: {back: {internal: true}}\n");
        let mut diags = Diagnostics::new();
        apply(&mut root, Path::new("/p"), &mut src, &mut diags);
        assert!(diags.is_empty(), "{diags}");
    }

    #[test]
    fn entry_without_path_is_an_error() {
        let mut root = parse("include:\n  - env_file: x\n", "/p/c.yaml").unwrap();
        let mut diags = Diagnostics::new();
        apply(&mut root, Path::new("/p"), &mut Fake(Vec::new(), ""), &mut diags);
        let text = diags.to_string();
        assert!(text.starts_with("/p/c.yaml:2:"), "{text}");
        assert!(text.ends_with(": include[0]: an include entry needs a `path`"), "{text}");
    }
}
