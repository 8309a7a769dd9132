//! Canonical node tree → typed [`Stack`]. Runs after canonicalize/extends/merge, so every key
//! is in its long form here. Relative paths are made absolute against the project directory
//! (`~` expanded), env files are read and folded into `environment`, and keys berth does not
//! model are kept in `other` with one warning each, so nothing is silently dropped.

mod env;
mod fields;
mod network;
mod refs;
mod resources;
mod scalar;
mod service;

pub use fields::volume_flag;

use std::path::{Path, PathBuf};

use super::diag::Diagnostics;
use super::model::{Network, Stack};
use super::yaml::Node;

/// What convert needs to know besides the tree.
pub struct ConvertContext<'a> {
    /// The normalized project name (prefix of network and volume names).
    pub project_name: String,
    /// Relative paths resolve against this directory.
    pub project_dir: PathBuf,
    /// The loader's environment (for `environment: [FOO]`, env files and `~`).
    pub lookup: &'a dyn Fn(&str) -> Option<String>,
    /// Merge the `env_file:` contents into `environment` (false: `config --no-env-resolution`,
    /// the files are listed and not read).
    pub read_env_files: bool,
    /// Make relative paths absolute (false: `config --no-path-resolution`, they are kept as
    /// written; files the loader reads are still found through [`ConvertContext::locate`]).
    pub resolve_paths: bool,
}

impl ConvertContext<'_> {
    /// A path of the stack file as the model keeps it: [`ConvertContext::locate`]d, or as
    /// written under `config --no-path-resolution`.
    pub fn resolve_path(&self, raw: &str) -> String {
        if self.resolve_paths {
            self.locate(raw)
        } else {
            raw.to_string()
        }
    }

    /// `raw` as an absolute, lexically cleaned path: `~` is the user's home, relative paths are
    /// relative to the project directory.
    pub fn locate(&self, raw: &str) -> String {
        // Left uninterpolated (`config --no-interpolate`): only interpolation knows the path.
        if raw.starts_with("${") {
            return raw.to_string();
        }
        let home = || (self.lookup)("HOME").or_else(|| std::env::var("HOME").ok()).unwrap_or_else(|| "/".into());
        let expanded = if raw == "~" {
            PathBuf::from(home())
        } else if let Some(rest) = raw.strip_prefix("~/") {
            Path::new(&home()).join(rest)
        } else {
            PathBuf::from(raw)
        };
        let joined = if expanded.is_absolute() { expanded } else { self.project_dir.join(expanded) };
        super::relpath::clean(&joined).to_string_lossy().into_owned()
    }
}

/// Build the typed stack from a canonical, merged tree.
pub fn stack(root: &Node, ctx: &ConvertContext, diags: &mut Diagnostics) -> Stack {
    let mut st = Stack { name: ctx.project_name.clone(), project_dir: ctx.project_dir.clone(), ..Stack::default() };
    let Some(top) = root.as_map() else { return st };
    for (k, v) in top.iter() {
        match k.name.as_str() {
            "services" => {
                for (name, svc) in v.as_map().map(|m| m.entries()).unwrap_or_default() {
                    let s = service::service(&name.name, svc, ctx, diags);
                    st.services.insert(name.name.clone(), s);
                }
            }
            "networks" => st.networks = network::networks(v, ctx, diags),
            "volumes" => st.volumes = network::volumes(v, ctx, diags),
            "configs" => st.configs = network::file_objects("configs", v, ctx, diags),
            "secrets" => st.secrets = network::file_objects("secrets", v, ctx, diags),
            "models" => {
                let models = v.as_map().map(|m| m.entries()).unwrap_or_default();
                st.models = models.iter().map(|(k, m)| (k.name.clone(), m.to_json())).collect();
            }
            x if x.starts_with("x-") => {
                st.extensions.insert(x.to_string(), v.to_json());
            }
            // name, version, include: handled by the project loader before convert.
            _ => {}
        }
    }
    add_default_network(&mut st);
    st
}

/// Compose creates `<project>_default` for the services that name no network.
fn add_default_network(st: &mut Stack) {
    let used = st.services.values().any(|s| s.networks.contains_key("default"));
    if used && !st.networks.contains_key("default") {
        let net = Network { name: format!("{}_default", st.name), ..Network::default() };
        st.networks.insert("default".into(), net);
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;
    use crate::spec::canonical::canonicalize;
    use crate::spec::yaml::parse;

    /// Parse, canonicalize and convert `src` as project `proj` in /proj (HOME=/home/u, FOO=bar).
    pub fn load(src: &str) -> (Stack, Diagnostics) {
        load_in(src, Path::new("/proj"))
    }

    pub fn load_in(src: &str, dir: &Path) -> (Stack, Diagnostics) {
        let mut root = parse(src, "c.yaml").expect("yaml");
        let mut diags = Diagnostics::new();
        canonicalize(&mut root, &mut diags);
        let lookup = |k: &str| match k {
            "HOME" => Some("/home/u".to_string()),
            "FOO" => Some("bar".to_string()),
            _ => None,
        };
        let ctx = ConvertContext {
            project_name: "proj".into(),
            project_dir: dir.to_path_buf(),
            lookup: &lookup,
            read_env_files: true,
            resolve_paths: true,
        };
        let st = stack(&root, &ctx, &mut diags);
        (st, diags)
    }

    /// Like [`load`], asserting there were no diagnostics at all.
    pub fn load_ok(src: &str) -> Stack {
        let (st, d) = load(src);
        assert!(d.is_empty(), "unexpected diagnostics:\n{d}");
        st
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn paths_resolve_against_project_dir_and_home() {
        let lookup = |k: &str| (k == "HOME").then(|| "/home/u".to_string());
        let ctx = ConvertContext {
            project_name: "p".into(),
            project_dir: "/proj/app".into(),
            lookup: &lookup,
            read_env_files: true,
            resolve_paths: true,
        };
        assert_eq!(ctx.resolve_path("./data"), "/proj/app/data");
        assert_eq!(ctx.resolve_path("../x/./y"), "/proj/x/y");
        assert_eq!(ctx.resolve_path("~/x"), "/home/u/x");
        assert_eq!(ctx.resolve_path("~"), "/home/u");
        assert_eq!(ctx.resolve_path("/abs/../b"), "/b");
    }

    #[test]
    fn implicit_default_network() {
        let st = load_ok("services:\n  a: {image: x}\n  b: {image: x, network_mode: host}\n");
        assert_eq!(st.services["a"].networks.keys().collect::<Vec<_>>(), ["default"]);
        assert!(st.services["b"].networks.is_empty());
        assert_eq!(st.networks["default"].name, "proj_default");
    }

    #[test]
    fn no_default_network_when_unused() {
        let st = load_ok("services:\n  a: {image: x, networks: [front]}\nnetworks:\n  front: {}\n");
        assert!(!st.networks.contains_key("default"));
        assert_eq!(st.networks["front"].name, "proj_front");
    }

    #[test]
    fn extensions_are_kept() {
        let st = load_ok("x-common: {a: 1}\nservices: {}\n");
        assert_eq!(st.extensions["x-common"], serde_json::json!({"a": 1}));
    }
}
