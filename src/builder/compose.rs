//! A stack service's `build:` section as a build [`Request`]: `context` (already resolved
//! against the project directory by the loader), `dockerfile` (relative to the context),
//! `dockerfile_inline`, `args` (a bare name takes its value from berth's environment, and is
//! left out when unset, as Compose does), `target`, `labels`, `tags`, `network` (`host`, or
//! none/default). The image is tagged with the service's image name (`image:`, else
//! `<project>-<service>`, as the planner names it) plus `tags`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::{BuildError, Result};
use super::{build, BuildLog, Outcome, Request};
use crate::paths::Roots;
use crate::spec::model::{Service, Stack};

/// The request for `service`, with `extra_args` (`--build-arg`) over the file's args.
pub fn request(
    stack: &Stack,
    service_name: &str,
    service: &Service,
    extra_args: &BTreeMap<String, String>,
) -> Result<Request> {
    let b = service
        .build
        .as_ref()
        .ok_or_else(|| BuildError::Invalid(format!("service `{service_name}` has no build section")))?;
    if b.context.contains("://") || b.context.starts_with("git@") {
        return Err(BuildError::Invalid(format!(
            "service `{service_name}`: remote build context `{}` is not supported (no network); clone it and use a local context",
            b.context
        )));
    }
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in &b.args {
        if let Some(v) = v.clone().or_else(|| std::env::var(k).ok()) {
            args.insert(k.clone(), v);
        }
    }
    args.extend(extra_args.clone());
    let network = b.network.as_deref().unwrap_or("default");
    let network = match super::BuildNetwork::parse(network) {
        Some(n) => n,
        None => {
            let other = network;
            return Err(BuildError::Invalid(format!(
                "service `{service_name}`: build.network `{other}` is not supported (use host, none or default)"
            )));
        }
    };
    let mut tags = vec![stack.service_image(service_name, service)];
    tags.extend(b.tags.iter().filter(|t| !tags.contains(t)).cloned().collect::<Vec<_>>());
    Ok(Request {
        context: PathBuf::from(&b.context),
        dockerfile: b.dockerfile.as_ref().map(PathBuf::from),
        dockerfile_inline: b.dockerfile_inline.clone(),
        args,
        target: b.target.clone(),
        labels: b.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        tags,
        network,
        no_cache: false,
        pull: false,
        memory: None,
        helper: None,
    })
}

/// Keys of the service's `build:` that berth ignores (the loader keeps every key it does not
/// model in `other`; extension keys `x-*` are nobody's business).
pub fn unsupported_keys(service: &Service) -> Vec<String> {
    service
        .build
        .as_ref()
        .map(|b| b.other.keys().filter(|k| !k.starts_with("x-")).cloned().collect())
        .unwrap_or_default()
}

/// Build the image of stack service `service_name` (used by `berth build` and by `up`).
/// `berth build`'s switches for one service's build.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--pull`: FROM images pulled first.
    pub pull: bool,
    /// `-m`: each RUN container's memory limit, in bytes.
    pub memory: Option<i64>,
}

pub fn build_service(
    roots: &Roots,
    stack: &Stack,
    service_name: &str,
    flags: Flags,
    extra_args: &BTreeMap<String, String>,
    log: &dyn BuildLog,
) -> Result<Outcome> {
    let service = stack
        .services
        .get(service_name)
        .ok_or_else(|| BuildError::Invalid(format!("no such service: `{service_name}`")))?;
    let mut req = request(stack, service_name, service, extra_args)?;
    req.no_cache = flags.no_cache;
    req.pull = flags.pull;
    req.memory = flags.memory;
    build(roots, &req, log)
}

/// `up --build`: build every selected service that has a `build:` section, before planning
/// (so the planner sees the new image ids and recreates what changed), then mark them
/// `pull_policy: missing` on this copy of the stack so the plan does not build them again.
/// `services` are `up`'s targets (with their dependencies unless `no_deps`); empty = all.
pub fn build_before_plan(
    roots: &Roots,
    stack: &mut Stack,
    services: &[String],
    no_deps: bool,
    quiet: bool,
) -> Result<()> {
    let selected = crate::spec::deps::select(stack, services, no_deps);
    let names: Vec<String> =
        selected.into_iter().filter(|n| stack.services.get(n).is_some_and(|s| s.build.is_some())).collect();
    for name in &names {
        let log = super::StderrLog { quiet, label: format!("{name} ") };
        build_service(roots, stack, name, Flags::default(), &BTreeMap::new(), &log).map_err(|e| match e {
            e @ BuildError::Interrupted { .. } => e,
            e => BuildError::Invalid(format!("service `{name}`: {}", chain(&e))),
        })?;
        if let Some(svc) = stack.services.get_mut(name) {
            svc.pull_policy = Some(crate::spec::model::PullPolicy::Missing);
        }
    }
    Ok(())
}

pub use crate::errchain::chain;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::load::{load, LoadOptions};

    fn loaded(yaml: &str) -> crate::spec::load::Loaded {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("compose.yaml"), yaml).unwrap();
        let opts = LoadOptions {
            files: vec![t.path().join("compose.yaml")],
            project_name: Some("p".into()),
            working_dir: t.path().to_path_buf(),
            ..Default::default()
        };
        load(&opts).unwrap()
    }

    #[test]
    fn honoured_build_keys_are_not_warned_about() {
        let l = loaded(
            "services:\n  web:\n    build:\n      context: ./app\n      dockerfile: D\n      args: {A: '1'}\n      \
             target: t\n      labels: {l: v}\n      tags: [web:extra]\n      network: host\n      cache_from: [x]\n",
        );
        let texts: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
        assert!(texts.iter().all(|w| !w.contains("`network`")), "{texts:?}");
        assert!(texts.iter().any(|w| w.contains("`cache_from`")), "{texts:?}");
        let svc = &l.stack.services["web"];
        assert_eq!(unsupported_keys(svc), ["cache_from"]);
        let req = request(&l.stack, "web", svc, &BTreeMap::from([("B".into(), "2".into())])).unwrap();
        assert_eq!(req.network, crate::builder::BuildNetwork::Host);
        assert_eq!(req.tags, ["p-web", "web:extra"]);
        assert_eq!(req.target.as_deref(), Some("t"));
        assert_eq!(req.args.len(), 2);
        assert!(req.context.ends_with("app") && req.dockerfile == Some(PathBuf::from("D")));
    }

    #[test]
    fn bad_build_network_is_refused() {
        let l = loaded("services:\n  web:\n    build:\n      context: .\n      network: mynet\n");
        let e = request(&l.stack, "web", &l.stack.services["web"], &BTreeMap::new()).unwrap_err();
        assert!(e.to_string().contains("build.network `mynet` is not supported"), "{e}");
    }
}
