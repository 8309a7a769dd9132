//! A service's final environment: the entries of its env files in order, then `environment:`
//! over them; `KEY` without a value takes the loader's environment (and stays unset when that
//! has none), as Compose does.

use indexmap::IndexMap;

use super::super::diag::Diagnostics;
use super::super::envfile;
use super::super::model::EnvFile;
use super::super::yaml::{Map, Node};
use super::scalar::{boolean, opt_string_map, string};
use super::ConvertContext;

/// `env_file:` entries (canonical: a list of `{path, required, format}`), paths resolved.
pub(super) fn env_files(node: &Node, path: &str, ctx: &ConvertContext, diags: &mut Diagnostics) -> Vec<EnvFile> {
    let items = node.as_seq().unwrap_or_default();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ipath = format!("{path}[{i}]");
        let Some(m) = item.as_map() else { continue };
        let Some(p) = m.get("path").and_then(|n| string(n, &format!("{ipath}.path"), diags)) else {
            diags.error(Some(&item.pos), &ipath, "an env_file entry needs a `path`");
            continue;
        };
        let required = m.get("required").and_then(|n| boolean(n, &format!("{ipath}.required"), diags));
        let format = m.get("format").and_then(|n| string(n, &format!("{ipath}.format"), diags));
        out.push(EnvFile { path: ctx.resolve_path(&p), required: required.unwrap_or(true), format });
    }
    out
}

/// Read the env files and merge `environment:` over them. As compose-go
/// (types/project.go WithServicesEnvironmentResolved), `${VAR}` in an env file sees the
/// project's variables, then the service's `environment:`, then the env files read so far.
pub(super) fn environment(
    svc: &Map,
    path: &str,
    ctx: &ConvertContext,
    diags: &mut Diagnostics,
) -> IndexMap<String, Option<String>> {
    let mut own: IndexMap<String, Option<String>> = IndexMap::new();
    if let Some(node) = svc.get("environment") {
        for (k, v) in opt_string_map(node, &format!("{path}.environment"), diags) {
            let v = v.or_else(|| (ctx.lookup)(&k));
            own.insert(k, v);
        }
    }
    let mut from_files: IndexMap<String, String> = IndexMap::new();
    if let Some(node) = svc.get("env_file").filter(|_| ctx.read_env_files) {
        let mut scratch = Diagnostics::new();
        let mut files = env_files(node, &format!("{path}.env_file"), ctx, &mut scratch);
        // Read from where they are, also when the model keeps the paths as written.
        files.iter_mut().for_each(|f| f.path = ctx.locate(&f.path));
        let lookup = |k: &str| (ctx.lookup)(k).or_else(|| own.get(k).cloned().flatten());
        for (i, file) in files.iter().enumerate() {
            let at = node.as_seq().and_then(|s| s.get(i)).unwrap_or(node);
            let p = format!("{path}.env_file[{i}]");
            from_files = read_env_file(file, at, &p, &lookup, std::mem::take(&mut from_files), diags);
        }
    }
    let mut env: IndexMap<String, Option<String>> = from_files.into_iter().map(|(k, v)| (k, Some(v))).collect();
    env.extend(own);
    env
}

/// `label_file:` (canonical: a list of paths): the files' labels, read as env files, each over
/// the ones before it; `labels:` goes over them (compose-go WithServicesLabelsResolved). The
/// paths come back resolved, for the model.
pub(super) fn label_files(
    node: &Node,
    path: &str,
    ctx: &ConvertContext,
    diags: &mut Diagnostics,
) -> (Vec<String>, IndexMap<String, String>) {
    let files: Vec<String> = super::scalar::strings(node, path, diags).iter().map(|f| ctx.resolve_path(f)).collect();
    let mut labels = IndexMap::new();
    for (i, file) in files.iter().enumerate() {
        let at = node.as_seq().and_then(|s| s.get(i)).unwrap_or(node);
        let text = match envfile::read(std::path::Path::new(&ctx.locate(file))) {
            Ok(t) => t,
            Err(e) => {
                diags.error(Some(&at.pos), format!("{path}[{i}]"), format!("cannot read label file {file}: {e}"));
                continue;
            }
        };
        let earlier = labels.clone();
        let lookup = |k: &str| earlier.get(k).cloned();
        match envfile::parse_over(&text, file, &lookup, std::mem::take(&mut labels), diags) {
            Ok(all) => labels = all,
            Err(e) => {
                diags.extend(e);
                labels = earlier;
            }
        }
    }
    (files, labels)
}

/// One env file read over the values of the files before it.
fn read_env_file(
    file: &EnvFile,
    at: &Node,
    path: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    mut vars: IndexMap<String, String>,
    diags: &mut Diagnostics,
) -> IndexMap<String, String> {
    let text = match envfile::read(std::path::Path::new(&file.path)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !file.required => return vars,
        Err(e) => {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                "; create it or mark the entry `required: false`"
            } else {
                ""
            };
            diags.error(Some(&at.pos), path, format!("cannot read env file {}: {e}{hint}", file.path));
            return vars;
        }
    };
    if file.format.as_deref() == Some("raw") {
        for line in text.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
            let (k, v) = line.split_once('=').unwrap_or((line, ""));
            vars.insert(k.trim().to_string(), v.to_string());
        }
        return vars;
    }
    match envfile::parse_over(&text, &file.path, lookup, vars.clone(), diags) {
        Ok(all) => all,
        Err(e) => {
            diags.extend(e);
            vars
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{load, load_in};
    use std::fs;

    #[test]
    fn environment_map_list_and_lookup() {
        let (st, d) =
            load("services:\n  a:\n    environment: [A=1, FOO, UNSET]\n  b:\n    environment: {X: 2, FOO: null}\n");
        assert!(d.is_empty(), "{d}");
        let a = &st.services["a"].environment;
        assert_eq!(a["A"].as_deref(), Some("1"));
        assert_eq!(a["FOO"].as_deref(), Some("bar"));
        assert_eq!(a["UNSET"], None);
        assert_eq!(st.services["b"].environment["X"].as_deref(), Some("2"));
        assert_eq!(st.services["b"].environment["FOO"].as_deref(), Some("bar"));
    }

    #[test]
    fn env_files_are_read_and_environment_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("a.env"), "A=from_file\nB=\"two words\"\n").expect("write");
        fs::write(dir.path().join("raw.env"), "R='kept quotes'\n").expect("write");
        let src = "services:\n  s:\n    env_file: [a.env, {path: raw.env, format: raw}, {path: none.env, required: false}]\n    environment: {A: override}\n";
        let (st, d) = load_in(src, dir.path());
        assert!(d.is_empty(), "{d}");
        let s = &st.services["s"];
        assert_eq!(s.env_file[0].path, dir.path().join("a.env").to_string_lossy());
        assert!(!s.env_file[2].required);
        let env: Vec<(&str, Option<&str>)> = s.environment.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
        assert_eq!(env, [("A", Some("override")), ("B", Some("two words")), ("R", Some("'kept quotes'"))]);
    }

    #[test]
    fn missing_required_env_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, d) = load_in("services:\n  s:\n    env_file: missing.env\n", dir.path());
        let msg = d.to_string();
        assert!(msg.starts_with("c.yaml:3:15: services.s.env_file[0]: cannot read env file "), "{msg}");
        assert!(msg.ends_with("; create it or mark the entry `required: false`"), "{msg}");
    }
}
