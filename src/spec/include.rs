//! Top-level `include:` — other stack files loaded as sub-projects, each with its own project
//! directory and env file, whose services, networks, volumes, configs and secrets are added to
//! the including file. A resource defined both in the including file and in an included one
//! is merged, the including file's definition over the included one (compose-go's
//! importResources since late 2025: a local service may override an included one); two
//! included files defining the same resource (the same file included twice, a diamond) merge
//! the same way, the earlier one winning.
//!
//! Forms: `include: [path]` or `include: [{path: a | [a, b], env_file: f | [f], project_directory: d}]`.
//! Paths are relative to the including project's directory (the project directory, or for an
//! included file its include's `project_directory`), as compose-go's resource loader reads them.

use std::path::{Path, PathBuf};

use super::diag::{Diagnostics, Pos};
use super::merge::{merge_resource, merge_service};
use super::relpath;
use super::yaml::{Map, Node, Value};

/// Top-level sections whose entries an included file contributes.
const SECTIONS: [&str; 6] = ["services", "networks", "volumes", "configs", "secrets", "models"];

/// One include entry, resolved to absolute paths.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Files merged in order, like several `-f`.
    pub paths: Vec<PathBuf>,
    /// The included project's directory (default: the first path's directory).
    pub project_dir: PathBuf,
    /// Env files for the included project's interpolation (default: `.env` in its directory).
    pub env_files: Vec<PathBuf>,
    /// The including file's directory (where the entry's relative paths start).
    pub from_dir: PathBuf,
    /// Where the entry is, for errors.
    pub pos: Pos,
}

/// Loads included projects.
pub trait Source {
    /// The merged, fully resolved tree (its own includes and extends applied) of the request,
    /// with relative paths made absolute; `None` (and diagnostics) when it cannot be loaded.
    fn include(&mut self, req: &Request, diags: &mut Diagnostics) -> Option<Node>;
}

/// Apply the `include:` of `root` (a canonical tree of a file whose relative paths start at
/// `file_dir`), removing the key.
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
            add_resources(root, included);
        }
    }
}

fn request(entry: &Node, file_dir: &Path, path: &str, diags: &mut Diagnostics) -> Option<Request> {
    let (paths, env, dir) = match &entry.value {
        Value::Str(_) => (Some(entry), None, None),
        Value::Map(m) => (m.get("path"), m.get("env_file"), m.get("project_directory")),
        _ => (None, None, None),
    };
    let paths = strings(paths).into_iter().map(|p| relpath::join(file_dir, Path::new(&p))).collect::<Vec<_>>();
    let Some(first) = paths.first() else {
        diags.error(Some(&entry.pos), path, "an include entry needs a `path`");
        return None;
    };
    let project_dir = match dir.and_then(Node::scalar_string) {
        Some(d) => relpath::join(file_dir, Path::new(&d)),
        None => first.parent().map_or_else(|| file_dir.to_path_buf(), Path::to_path_buf),
    };
    let env_files = strings(env).into_iter().map(|p| relpath::join(file_dir, Path::new(&p))).collect();
    Some(Request { paths, project_dir, env_files, from_dir: file_dir.to_path_buf(), pos: entry.pos.clone() })
}

/// A string, or a list of strings (other items ignored: the schema reports them).
fn strings(node: Option<&Node>) -> Vec<String> {
    match node.map(|n| &n.value) {
        Some(Value::Str(s)) => vec![s.clone()],
        Some(Value::Seq(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// Add the included tree's resources to `root`; a resource it already has is merged over
/// the included one.
fn add_resources(root: &mut Node, included: Node) {
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
            match target.get_mut(&name.name) {
                None => target.insert(name, value),
                Some(existing) => {
                    let local = std::mem::replace(existing, value);
                    if key.name == "services" {
                        merge_service(existing, local);
                    } else {
                        merge_resource(existing, local);
                    }
                }
            }
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
    fn resources_are_added_and_a_local_service_overrides_an_included_one() {
        let mut root =
            parse("include: [inc.yaml]\nservices:\n  web: {image: a, environment: {L: '1'}}\n", "/p/compose.yaml")
                .unwrap();
        let mut src = Fake(
            Vec::new(),
            "services:\n  web: {image: b, environment: {I: '2'}}\n  db: {image: c}\nvolumes: {data: {}}\nnetworks: {}\n",
        );
        let mut diags = Diagnostics::new();
        apply(&mut root, Path::new("/p"), &mut src, &mut diags);
        let j = root.to_json();
        assert_eq!(j["services"]["db"]["image"], "c");
        assert_eq!(j["services"]["web"]["image"], "a", "the including file's value wins");
        assert_eq!(j["services"]["web"]["environment"], serde_json::json!({"I": "2", "L": "1"}), "merged");
        assert!(j["volumes"]["data"].is_object());
        assert!(diags.is_empty(), "{diags}");
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
