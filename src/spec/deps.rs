//! What a service needs of the others: `depends_on` plus the implicit dependencies
//! (`network_mode`, `ipc` and `pid` of `service:NAME`, `volumes_from`, `links`), and the one
//! "these services plus everything they need" selection every command uses (`up SERVICE`,
//! `config SERVICE`, `pull`, builds before `up`, the planner). The planner orders them
//! (src/planner/graph.rs); this module only says what they are.

use indexmap::IndexSet;

use super::model::{DependsCondition, NetworkMode, Service, Stack};

/// Why one service comes after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// `depends_on` with its condition and `restart` flag.
    DependsOn { condition: DependsCondition, restart: bool },
    /// `network_mode: service:X`: shares X's network namespace (X must be running first).
    NetworkMode,
    /// `ipc`, `pid` or `uts` of `service:X`: shares another namespace of X's container.
    Namespace,
    /// `volumes_from: [X]`: X's container must exist first.
    VolumesFrom,
    /// `links: [X]`: X is started first (as Compose does).
    Link,
}

/// One dependency of a service, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub dependency: String,
    pub kind: EdgeKind,
}

/// One dependency as declared: it may name a service the stack does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared<'a> {
    pub dependency: &'a str,
    pub kind: EdgeKind,
    /// How the service refers to it, for messages ("depends on", "links to" …).
    pub via: &'static str,
    /// False for `depends_on: {x: {required: false}}`: a missing `x` is skipped.
    pub required: bool,
}

/// Every dependency `service` declares, in declaration order (depends_on, network_mode, ipc
/// and pid, volumes_from, links), duplicates included.
pub fn declared(service: &Service) -> Vec<Declared<'_>> {
    let mut out = Vec::new();
    for (dep, d) in &service.depends_on {
        let kind = EdgeKind::DependsOn { condition: d.condition, restart: d.restart };
        out.push(Declared { dependency: dep, kind, via: "depends on", required: d.required });
    }
    if let Some(NetworkMode::Service(dep)) = &service.network_mode {
        out.push(Declared { dependency: dep, kind: EdgeKind::NetworkMode, via: "uses the network of", required: true });
    }
    for ns in [&service.ipc, &service.pid, &service.uts].into_iter().flatten() {
        if let Some(dep) = ns.strip_prefix("service:") {
            out.push(Declared {
                dependency: dep,
                kind: EdgeKind::Namespace,
                via: "shares a namespace of",
                required: true,
            });
        }
    }
    for entry in &service.volumes_from {
        // `service[:ro|:rw]`; `container:NAME[:mode]` names a container outside the stack.
        if !entry.starts_with("container:") {
            let dep = entry.split(':').next().unwrap_or(entry);
            out.push(Declared {
                dependency: dep,
                kind: EdgeKind::VolumesFrom,
                via: "takes volumes_from",
                required: true,
            });
        }
    }
    for link in &service.links {
        let dep = link.split(':').next().unwrap_or(link);
        out.push(Declared { dependency: dep, kind: EdgeKind::Link, via: "links to", required: true });
    }
    out
}

/// `targets` and every service of `stack` they need, transitively, in the stack's service
/// order. Names the stack does not have are kept (callers report them); dependencies the
/// stack does not have are skipped.
pub fn with_dependencies(stack: &Stack, targets: &[String]) -> IndexSet<String> {
    let mut wanted: IndexSet<&str> = IndexSet::new();
    let mut todo: Vec<&str> = targets.iter().map(String::as_str).collect();
    while let Some(name) = todo.pop() {
        if !wanted.insert(name) {
            continue;
        }
        if let Some(svc) = stack.services.get(name) {
            todo.extend(declared(svc).into_iter().map(|d| d.dependency).filter(|d| stack.services.contains_key(*d)));
        }
    }
    let known = stack.services.keys().filter(|s| wanted.contains(s.as_str())).cloned();
    let unknown = targets.iter().filter(|t| !stack.services.contains_key(*t)).cloned();
    known.chain(unknown).collect()
}

/// The services a command acts on: all of `stack`'s when `targets` is empty, else the
/// targets, with what they need unless `no_deps`.
pub fn select(stack: &Stack, targets: &[String], no_deps: bool) -> Vec<String> {
    if targets.is_empty() {
        stack.services.keys().cloned().collect()
    } else if no_deps {
        targets.to_vec()
    } else {
        with_dependencies(stack, targets).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(yaml: &str) -> Stack {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn every_kind_of_dependency_is_followed() {
        let s = stack(
            "name: p\nservices:\n  web: {image: x, depends_on: {api: {condition: service_started}}, links: ['cache:c']}\n  api: {image: x, network_mode: 'service:net', volumes_from: ['data:ro', 'container:ext']}\n  net: {image: x, ipc: 'service:ipc'}\n  ipc: {image: x}\n  data: {image: x}\n  cache: {image: x}\n  lone: {image: x}\n",
        );
        let got: Vec<String> = with_dependencies(&s, &["web".into()]).into_iter().collect();
        assert_eq!(got, ["web", "api", "net", "ipc", "data", "cache"]);
        assert_eq!(select(&s, &["web".into()], true), ["web"]);
        assert_eq!(select(&s, &[], false).len(), 7);
        assert_eq!(with_dependencies(&s, &["nope".into()]).into_iter().collect::<Vec<_>>(), ["nope"]);
    }
}
