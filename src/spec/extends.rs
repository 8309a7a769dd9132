//! Service `extends:` — `extends: web` (same file) or `extends: {file, service}` — resolved on
//! canonical trees, recursively, before the files are merged.
//!
//! The extending service's keys merge over the base service by the merge rules ([`merge`]).
//! Every key is inherited, `depends_on`, `volumes_from` and `links` included, as compose-go
//! does (loader/extends.go; its TestExtendsWithServiceRef): a dependency on a service the
//! extending file lacks is then an "undefined service" error there. A base file is checked
//! only where it is used: the problems of its other services (or top-level keys) are not
//! reported, as compose-go loads it with validation skipped and validates the result.
//! Relative paths of a base taken from another file are made absolute against that file's
//! directory, as Compose resolves them relative to the file that names them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::diag::{did_you_mean, Diagnostic, Diagnostics, Pos};
use super::merge::merge_service;
use super::relpath;
use super::yaml::{Node, Value};

/// Where `extends` finds other files' trees.
pub trait Source {
    /// The canonical tree of `path` (parsed, interpolated, validated, canonicalized); `None`
    /// when it cannot be loaded, with the reason pushed to `diags` at `at`.
    fn tree(&mut self, path: &Path, at: &Pos, diags: &mut Diagnostics) -> Option<Node>;

    /// Service `service` of `path` (a file loaded by [`Source::tree`]) is used as a base:
    /// report the problems found in it.
    fn used(&mut self, _path: &Path, _service: &str, _diags: &mut Diagnostics) {}

    /// Keep relative paths relative (`config --no-path-resolution`): a base's paths from
    /// another file are rebased onto the extending file's directory instead of made absolute.
    fn keep_relative_paths(&self) -> bool {
        false
    }
}

/// Resolve every `extends` in `root` (the canonical tree of `file`), in place. `workdir` is the
/// directory `extends.file` of `file`'s services is relative to (the project directory, as
/// compose-go's resource loader has it); a base file's own `extends.file` is relative to the
/// base file's directory.
pub fn resolve(root: &mut Node, file: &Path, workdir: &Path, source: &mut dyn Source, diags: &mut Diagnostics) {
    let names: Vec<String> = services(root).map(|m| m.keys().map(str::to_string).collect()).unwrap_or_default();
    if names.is_empty() {
        return;
    }
    let mut r = Resolver {
        source,
        root: file.to_path_buf(),
        workdir: workdir.to_path_buf(),
        files: HashMap::new(),
        done: HashMap::new(),
        failed: HashSet::new(),
    };
    r.files.insert(file.to_path_buf(), Some(root.clone()));
    for name in names {
        let resolved = r.service(file, &name, &mut Vec::new(), None, diags);
        if let (Some(node), Some(slot)) = (resolved, service_mut(root, &name)) {
            *slot = node;
        }
    }
}

type Link = (PathBuf, String);

struct Resolver<'a> {
    source: &'a mut dyn Source,
    /// The file being resolved (already checked as a whole).
    root: PathBuf,
    /// Where the root file's `extends.file` paths start.
    workdir: PathBuf,
    files: HashMap<PathBuf, Option<Node>>,
    done: HashMap<Link, Node>,
    /// Services whose resolution failed (already reported): not reported again.
    failed: HashSet<Link>,
}

/// The `extends` reference of a service: base file (absolute) and base service name.
struct Reference {
    file: PathBuf,
    service: String,
    pos: Pos,
}

impl Resolver<'_> {
    /// The resolved tree of service `name` of `file`. `from` is the `extends` node that asked
    /// for it, for the "not found" error.
    fn service(
        &mut self,
        file: &Path,
        name: &str,
        chain: &mut Vec<Link>,
        from: Option<&Pos>,
        diags: &mut Diagnostics,
    ) -> Option<Node> {
        let link = (file.to_path_buf(), name.to_string());
        if let Some(done) = self.done.get(&link) {
            return Some(done.clone());
        }
        if self.failed.contains(&link) {
            return None;
        }
        if chain.contains(&link) {
            chain.push(link);
            diags.push(cycle_error(chain, from));
            chain.pop();
            return None;
        }
        let mut node = self.lookup(file, name, from, diags)?;
        let dir = if file == self.root {
            self.workdir.clone()
        } else {
            file.parent().unwrap_or(Path::new("/")).to_path_buf()
        };
        let reference =
            node.as_map_mut().and_then(|m| m.remove("extends")).and_then(|e| reference(&e, file, &dir, name, diags));
        if let Some(r) = reference {
            chain.push(link.clone());
            let base = self.service(&r.file, &r.service, chain, Some(&r.pos), diags);
            chain.pop();
            let Some(mut base) = base else {
                self.failed.insert(link);
                return None;
            };
            if r.file != file {
                if let Some(base_dir) = r.file.parent() {
                    let to = if self.source.keep_relative_paths() {
                        relpath::relative(base_dir, &dir)
                    } else {
                        base_dir.into()
                    };
                    absolutize_service_paths(&mut base, &to);
                }
            }
            merge_service(&mut base, node);
            node = base;
        }
        self.done.insert(link, node.clone());
        Some(node)
    }

    /// The unresolved tree of a service, loading its file when needed.
    fn lookup(&mut self, file: &Path, name: &str, from: Option<&Pos>, diags: &mut Diagnostics) -> Option<Node> {
        if !self.files.contains_key(file) {
            let at = from.cloned().unwrap_or_else(|| Pos::synthetic(&file.display().to_string()));
            let tree = self.source.tree(file, &at, diags);
            self.files.insert(file.to_path_buf(), tree);
        }
        let tree = self.files.get(file)?.as_ref()?;
        let found = services(tree).and_then(|m| m.get(name)).cloned();
        if found.is_some() && file != self.root {
            self.source.used(file, name, diags);
        }
        if found.is_none() {
            let known: Vec<&str> = services(tree).map(|m| m.keys().collect()).unwrap_or_default();
            let mut d =
                Diagnostic::error(from, "", format!("extends: service `{name}` is not defined in {}", file.display()));
            if let Some(s) = did_you_mean(name, known) {
                d = d.with_hint(format!("did you mean `{s}`?"));
            }
            diags.push(d);
        }
        found
    }
}

/// Read `extends: NAME` or `extends: {service, file?}`; `file` is relative to `dir`.
fn reference(node: &Node, file: &Path, dir: &Path, name: &str, diags: &mut Diagnostics) -> Option<Reference> {
    let path = format!("services.{name}.extends");
    let (service, other) = match &node.value {
        Value::Str(s) => (Some(s.clone()), None),
        Value::Map(m) => (m.get("service").and_then(Node::scalar_string), m.get("file").and_then(Node::scalar_string)),
        _ => (None, None),
    };
    let Some(service) = service.filter(|s| !s.is_empty()) else {
        diags.error(Some(&node.pos), path, "expected a service name or a mapping with `service` (and optional `file`)");
        return None;
    };
    let base_file = match other {
        Some(f) => relpath::join(dir, Path::new(&f)),
        None => file.to_path_buf(),
    };
    Some(Reference { file: base_file, service, pos: node.pos.clone() })
}

fn cycle_error(chain: &[Link], at: Option<&Pos>) -> Diagnostic {
    let several_files = chain.iter().any(|(f, _)| *f != chain[0].0);
    let names: Vec<String> =
        chain.iter().map(|(f, s)| if several_files { format!("{}:{s}", f.display()) } else { s.clone() }).collect();
    Diagnostic::error(at, "", format!("extends cycle: {}", names.join(" -> ")))
        .with_hint("a service cannot extend itself, directly or through others")
}

fn services(root: &Node) -> Option<&super::yaml::Map> {
    root.as_map()?.get("services")?.as_map()
}

fn service_mut<'a>(root: &'a mut Node, name: &str) -> Option<&'a mut Node> {
    root.as_map_mut()?.get_mut("services")?.as_map_mut()?.get_mut(name)
}

/// Whether a path in a stack file is relative to its directory (not absolute, not `~`, not a URL).
fn is_relative(s: &str) -> bool {
    !(s.is_empty() || s.starts_with('/') || s.starts_with('~') || s.contains("://") || s.starts_with("git@"))
}

fn absolutize(node: &mut Node, dir: &Path) {
    if let Value::Str(s) = &node.value {
        if is_relative(s) {
            node.value = Value::Str(relpath::join(dir, Path::new(s)).display().to_string());
        }
    }
}

/// Make a canonical service's relative paths absolute against `dir`: build context, env files,
/// bind mount sources and develop.watch paths.
pub fn absolutize_service_paths(service: &mut Node, dir: &Path) {
    let Some(m) = service.as_map_mut() else { return };
    if let Some(build) = m.get_mut("build") {
        match build.as_map_mut() {
            Some(b) => b.get_mut("context").into_iter().for_each(|c| absolutize(c, dir)),
            None => absolutize(build, dir),
        }
    }
    for (list, field) in [("env_file", "path"), ("volumes", "source")] {
        let Some(Value::Seq(items)) = m.get_mut(list).map(|n| &mut n.value) else { continue };
        for item in items.iter_mut() {
            match item.as_map_mut() {
                Some(e) if list == "volumes" && e.get("type").and_then(Node::as_str) != Some("bind") => {}
                Some(e) => e.get_mut(field).into_iter().for_each(|p| absolutize(p, dir)),
                None if list == "env_file" => absolutize(item, dir),
                None => {}
            }
        }
    }
    let watch = m.get_mut("develop").and_then(|d| d.as_map_mut()).and_then(|d| d.get_mut("watch"));
    if let Some(Value::Seq(rules)) = watch.map(|w| &mut w.value) {
        for rule in rules.iter_mut().filter_map(Node::as_map_mut) {
            rule.get_mut("path").into_iter().for_each(|p| absolutize(p, dir));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::yaml::parse;

    struct Files(HashMap<PathBuf, String>);

    impl Source for Files {
        fn tree(&mut self, path: &Path, at: &Pos, diags: &mut Diagnostics) -> Option<Node> {
            match self.0.get(path) {
                Some(text) => parse(text, &path.display().to_string()).ok(),
                None => {
                    diags.error(Some(at), "", format!("cannot read {}", path.display()));
                    None
                }
            }
        }
    }

    fn run(main: &str, others: &[(&str, &str)]) -> (serde_json::Value, Diagnostics) {
        let mut root = parse(main, "/p/compose.yaml").unwrap();
        let mut files = Files(others.iter().map(|(p, t)| (PathBuf::from(p), t.to_string())).collect());
        let mut diags = Diagnostics::new();
        resolve(&mut root, Path::new("/p/compose.yaml"), Path::new("/p"), &mut files, &mut diags);
        (root.to_json()["services"].clone(), diags)
    }

    #[test]
    fn short_form_same_file_merges_over_base() {
        let (s, d) = run(
            "services:\n  base: {image: busybox, environment: {A: '1'}, depends_on: {db: {condition: service_started}}}\n  web:\n    extends: base\n    environment: {B: '2'}\n  db: {image: x}\n",
            &[],
        );
        assert!(d.is_empty(), "{d}");
        assert_eq!(s["web"]["image"], "busybox");
        assert_eq!(s["web"]["environment"], serde_json::json!({"A": "1", "B": "2"}));
        assert_eq!(s["web"]["depends_on"]["db"]["condition"], "service_started", "depends_on is inherited");
        assert!(s["web"].get("extends").is_none());
    }

    #[test]
    fn other_file_recursive_with_paths_relative_to_that_file() {
        let (s, d) = run(
            "services:\n  web:\n    extends: {file: lib/common.yaml, service: app}\n    command: [run]\n",
            &[(
                "/p/lib/common.yaml",
                "services:\n  root: {image: busybox, env_file: [{path: ./app.env, required: true}]}\n  app:\n    extends: root\n    build: {context: ../src}\n",
            )],
        );
        assert!(d.is_empty(), "{d}");
        assert_eq!(s["web"]["image"], "busybox");
        assert_eq!(s["web"]["build"]["context"], "/p/src");
        assert_eq!(s["web"]["env_file"][0]["path"], "/p/lib/app.env");
        assert_eq!(s["web"]["command"], serde_json::json!(["run"]));
    }

    #[test]
    fn cycle_is_an_error_naming_the_chain() {
        let (_, d) = run("services:\n  a: {extends: b}\n  b: {extends: c}\n  c:\n    extends: a\n", &[]);
        let msgs: Vec<String> = d.items.iter().map(|x| x.to_string()).collect();
        assert_eq!(
            msgs,
            vec!["/p/compose.yaml:5:14: extends cycle: a -> b -> c -> a (a service cannot extend itself, directly or through others)"]
        );
    }

    #[test]
    fn unknown_base_has_did_you_mean_and_position() {
        let (_, d) = run("services:\n  base: {image: x}\n  web:\n    extends: bsae\n", &[]);
        assert_eq!(
            d.to_string(),
            "/p/compose.yaml:4:14: extends: service `bsae` is not defined in /p/compose.yaml (did you mean `base`?)"
        );
    }

    #[test]
    fn missing_file_is_reported_at_the_reference() {
        let (_, d) = run("services:\n  web:\n    extends: {file: nope.yaml, service: x}\n", &[]);
        assert_eq!(d.to_string(), "/p/compose.yaml:3:14: cannot read /p/nope.yaml");
    }
}
