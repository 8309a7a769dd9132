//! Settings Compose refuses because they contradict each other or leave a service without
//! something it needs (compose-go's `checkConsistency` and its loader's checks): berth refuses
//! them too, with the same reasons, so a file that fails with `docker compose` fails here and
//! the other way round. Each check reports at the offending node.

use std::collections::HashMap;

use super::diag::{Diagnostic, Diagnostics};
use super::model::{MountKind, Service, Stack, WatchAction};
use super::semantic::{pos_at, render, Seg};
use super::yaml::Node;

/// Run every check on `stack`, reporting positions from `root`.
pub fn check(stack: &Stack, root: &Node, diags: &mut Diagnostics) {
    let mut c = Checker { root, diags };
    for (name, svc) in &stack.services {
        c.image_or_build(name, svc);
        c.dockerfile(name, svc);
        c.platform(name, svc);
        c.additional_contexts(name, stack);
        c.mounts(name, svc);
        c.resources(name, svc);
        c.watch(name, svc);
    }
    for (key, v) in &stack.volumes {
        let extra = [
            ("driver", v.driver.is_some()),
            ("driver_opts", !v.driver_opts.is_empty()),
            ("labels", !v.labels.is_empty()),
        ];
        c.external("volumes", key, v.external, &extra);
    }
    for (key, n) in &stack.networks {
        let extra = [
            ("driver", n.driver.is_some()),
            ("driver_opts", !n.driver_opts.is_empty()),
            ("labels", !n.labels.is_empty()),
        ];
        c.external("networks", key, n.external, &extra);
    }
}

struct Checker<'a, 'd> {
    root: &'a Node,
    diags: &'d mut Diagnostics,
}

impl<'a> Checker<'a, '_> {
    fn error(&mut self, path: &[Seg], message: String, hint: &str) {
        let mut d = Diagnostic::error(pos_at(self.root, path), render(path), message);
        d.hint = Some(hint.to_string());
        self.diags.push(d);
    }

    fn has_key(&self, service: &str, key: &str) -> bool {
        super::semantic::node_at(self.root, &[Seg::Key("services"), Seg::Key(service), Seg::Key(key)]).is_some()
    }

    fn image_or_build(&mut self, name: &str, svc: &Service) {
        // A `provider:` service (Compose's extension services) runs no image.
        if svc.image.is_none() && svc.build.is_none() && !self.has_key(name, "provider") {
            self.error(
                &[Seg::Key("services"), Seg::Key(name)],
                format!("service `{name}` has neither an image nor a build context specified"),
                "give it `image:` or `build:`",
            );
        }
    }

    fn dockerfile(&mut self, name: &str, svc: &Service) {
        let Some(b) = &svc.build else { return };
        if b.dockerfile.is_some() && b.dockerfile_inline.is_some() {
            self.error(
                &[Seg::Key("services"), Seg::Key(name), Seg::Key("build"), Seg::Key("dockerfile_inline")],
                format!(
                    "service `{name}` declares both `dockerfile` and `dockerfile_inline`, which exclude each other"
                ),
                "keep one of them",
            );
        }
    }

    fn build_node(&self, service: &str, key: &str) -> Option<&'a Node> {
        let path = [Seg::Key("services"), Seg::Key(service), Seg::Key("build"), Seg::Key(key)];
        super::semantic::node_at(self.root, &path)
    }

    /// `platform` must be one of `build.platforms` when both are set (compose-go validate.go).
    fn platform(&mut self, name: &str, svc: &Service) {
        let (Some(platform), Some(list)) = (&svc.platform, self.build_node(name, "platforms")) else { return };
        let platforms: Vec<String> = list.as_seq().unwrap_or_default().iter().filter_map(Node::scalar_string).collect();
        if !platforms.is_empty() && !platforms.contains(platform) {
            self.error(
                &[Seg::Key("services"), Seg::Key(name), Seg::Key("platform")],
                format!("service `{name}`: build.platforms must include its platform `{platform}`"),
                &format!("add {platform} to build.platforms, or change platform to one of {}", platforms.join(", ")),
            );
        }
    }

    /// `build.additional_contexts` entries `service:NAME` must name a buildable service.
    fn additional_contexts(&mut self, name: &str, stack: &Stack) {
        let Some(contexts) = self.build_node(name, "additional_contexts").and_then(Node::as_map) else { return };
        for (key, value) in contexts.iter() {
            let Some(target) = value.as_str().and_then(|v| v.strip_prefix("service:")) else { continue };
            let problem = match stack.services.get(target) {
                None => "unknown",
                Some(t) if t.build.is_none() => "non-buildable",
                Some(_) => continue,
            };
            self.error(
                &[
                    Seg::Key("services"),
                    Seg::Key(name),
                    Seg::Key("build"),
                    Seg::Key("additional_contexts"),
                    Seg::Key(&key.name),
                ],
                format!("service `{name}` declares {problem} service `{target}` as additional context `{}`", key.name),
                "name a service of this stack that has a `build:` section",
            );
        }
    }

    fn mounts(&mut self, name: &str, svc: &Service) {
        // Where each path is mounted first: `tmpfs:` entries, then `volumes:` (compose-go's order).
        let mut targets: HashMap<&str, String> = HashMap::new();
        for (i, t) in svc.tmpfs.iter().enumerate() {
            let target = t.split(':').next().unwrap_or_default().trim_end_matches('/');
            if let Some(first) = targets.insert(if target.is_empty() { "/" } else { target }, format!("tmpfs[{i}]")) {
                self.error(
                    &[Seg::Key("services"), Seg::Key(name), Seg::Key("tmpfs"), Seg::Idx(i)],
                    format!("service `{name}`: target {target} is already mounted as {first}"),
                    "mount one thing on each path",
                );
            }
        }
        for (i, v) in svc.volumes.iter().enumerate() {
            let path = [Seg::Key("services"), Seg::Key(name), Seg::Key("volumes"), Seg::Idx(i)];
            if v.kind == MountKind::Bind && v.source.as_deref().is_none_or(str::is_empty) {
                self.error(
                    &path,
                    format!("service `{name}`: a bind mount on {} has no `source`", v.target),
                    "name the host path to mount with `source:`",
                );
            }
            let target = v.target.trim_end_matches('/');
            if let Some(first) = targets.insert(if target.is_empty() { "/" } else { target }, format!("volumes[{i}]")) {
                self.error(
                    &path,
                    format!("service `{name}`: target {} is already mounted as {first}", v.target),
                    "mount one thing on each path",
                );
            }
        }
    }

    fn resources(&mut self, name: &str, svc: &Service) {
        let Some(res) = svc.deploy.as_ref().and_then(|d| d.resources.as_ref()) else { return };
        let limits = res.limits.clone().unwrap_or_default();
        let reservations = res.reservations.clone().unwrap_or_default();
        let pairs = [
            ("cpus", "limits.cpus", svc.cpus.zip(limits.cpus).is_some_and(|(a, b)| a != b)),
            ("mem_limit", "limits.memory", svc.mem_limit.zip(limits.memory).is_some_and(|(a, b)| a.0 != b.0)),
            (
                "mem_reservation",
                "reservations.memory",
                svc.mem_reservation.zip(reservations.memory).is_some_and(|(a, b)| a.0 != b.0),
            ),
            ("pids_limit", "limits.pids", svc.pids_limit.zip(limits.pids).is_some_and(|(a, b)| a != b)),
        ];
        for (key, deploy_key, differ) in pairs {
            if differ {
                self.error(
                    &[Seg::Key("services"), Seg::Key(name), Seg::Key(key)],
                    format!("service `{name}` sets distinct values on `{key}` and `deploy.resources.{deploy_key}`"),
                    "set it in one place, or to the same value in both",
                );
            }
        }
    }

    fn watch(&mut self, name: &str, svc: &Service) {
        let Some(develop) = &svc.develop else { return };
        for (i, rule) in develop.watch.iter().enumerate() {
            let syncs = matches!(rule.action, WatchAction::Sync | WatchAction::SyncRestart | WatchAction::SyncExec);
            if syncs && rule.target.as_deref().is_none_or(str::is_empty) {
                self.error(
                    &[Seg::Key("services"), Seg::Key(name), Seg::Key("develop"), Seg::Key("watch"), Seg::Idx(i)],
                    format!("service `{name}`: a sync watch rule for {} has no `target`", rule.path),
                    "say where in the container the files go with `target:`",
                );
            }
        }
    }

    fn external(&mut self, section: &'static str, key: &str, external: bool, extra: &[(&'static str, bool)]) {
        if !external {
            return;
        }
        for (what, set) in extra {
            if *set {
                let kind = section.trim_end_matches('s');
                self.error(
                    &[Seg::Key(section), Seg::Key(key), Seg::Key(what)],
                    format!("{kind} `{key}` is external and also sets `{what}`: an external {kind} is made elsewhere"),
                    &format!("remove `{what}` or `external: true`"),
                );
            }
        }
    }
}
