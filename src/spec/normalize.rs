//! What compose-go's Normalize and default values add to a loaded model (loader/normalize.go,
//! transform/defaults.go), on berth's typed stack, after the cross-reference checks:
//!
//! - the services a service needs become its `depends_on` entries unless it names them
//!   already: `links`, `network_mode`/`ipc`/`pid`/`uts`/`cgroup` `service:X` (restarted with
//!   it), `volumes_from` (not restarted);
//! - a service's secret is mounted at `/run/secrets/<source>` unless it says where.
//!
//! Build defaults, resource names and path cleaning happen where those values are read (convert),
//! as does the implicit `default` network, which [`without_implicit_default_network`] takes
//! out again for `config --no-normalize`.

use super::model::{Dependency, DependsCondition, NetworkMode, Stack};
use super::yaml::Node;

/// Normalize `stack` in place.
pub fn normalize(stack: &mut Stack) {
    let names: Vec<String> = stack.services.keys().cloned().collect();
    for svc in stack.services.values_mut() {
        let mut implicit: Vec<(String, bool)> = Vec::new();
        for link in &svc.links {
            implicit.push((link.split(':').next().unwrap_or(link).to_string(), true));
        }
        if let Some(NetworkMode::Service(other)) = &svc.network_mode {
            implicit.push((other.clone(), true));
        }
        let cgroup = svc.other.get("cgroup").and_then(serde_json::Value::as_str).map(str::to_string);
        for shared in [svc.ipc.clone(), svc.pid.clone(), svc.uts.clone(), cgroup].into_iter().flatten() {
            if let Some(other) = shared.strip_prefix("service:") {
                implicit.push((other.to_string(), true));
            }
        }
        for from in svc.volumes_from.iter().filter(|v| !v.starts_with("container:")) {
            implicit.push((from.split(':').next().unwrap_or(from).to_string(), false));
        }
        for (name, restart) in implicit {
            // An undefined one is reported by the cross-reference checks.
            if names.contains(&name) && !svc.depends_on.contains_key(&name) {
                let dep = Dependency {
                    condition: DependsCondition::ServiceStarted,
                    restart,
                    required: true,
                    other: Default::default(),
                };
                svc.depends_on.insert(name, dep);
            }
        }
        for secret in svc.secrets.iter_mut().filter(|s| s.target.is_none()) {
            secret.target = Some(format!("/run/secrets/{}", secret.source));
        }
    }
}

/// `config --no-normalize`: the model as the files wrote it, without the `default` network
/// convert attaches a service to when it names no network (and without the top-level one when
/// no file declares it and no service names it). `root` is the merged tree convert read.
pub fn without_implicit_default_network(stack: &mut Stack, root: &Node) {
    let services = root.as_map().and_then(|m| m.get("services")).and_then(Node::as_map);
    for (name, svc) in stack.services.iter_mut() {
        let node = services.and_then(|s| s.get(name));
        let wrote = node.and_then(Node::as_map).is_some_and(|m| m.get("networks").is_some());
        if !wrote && svc.networks.len() == 1 && svc.networks.contains_key("default") {
            svc.networks.clear();
        }
    }
    let declared = root
        .as_map()
        .and_then(|m| m.get("networks"))
        .and_then(Node::as_map)
        .is_some_and(|n| n.get("default").is_some());
    let used = stack.services.values().any(|s| s.networks.contains_key("default"));
    if !declared && !used {
        stack.networks.shift_remove("default");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::convert::testutil::load_ok;

    #[test]
    fn implicit_dependencies_and_secret_targets() {
        let mut st = load_ok(
            "services:\n  a:\n    image: x\n    links: ['b:alias']\n    ipc: 'service:c'\n    volumes_from: [d, 'container:e']\n    \
             depends_on: {c: {condition: service_healthy}}\n    secrets: [s, {source: t, target: /x}]\n  b: {image: x}\n  c: {image: x}\n  d: {image: x}\n\
             secrets:\n  s: {file: ./s}\n  t: {file: ./t}\n",
        );
        normalize(&mut st);
        let a = &st.services["a"];
        let deps: Vec<(&str, DependsCondition, bool)> =
            a.depends_on.iter().map(|(k, d)| (k.as_str(), d.condition, d.restart)).collect();
        assert_eq!(
            deps,
            [
                ("c", DependsCondition::ServiceHealthy, false),
                ("b", DependsCondition::ServiceStarted, true),
                ("d", DependsCondition::ServiceStarted, false)
            ]
        );
        assert_eq!(a.secrets[0].target.as_deref(), Some("/run/secrets/s"));
        assert_eq!(a.secrets[1].target.as_deref(), Some("/x"));
    }
}
