//! Checks across the whole stack that no single key can make: references to services,
//! networks, volumes, secrets and configs that do not exist, addresses outside their subnet,
//! settings that contradict each other. Each diagnostic points at the offending node, found by
//! walking the (merged, canonical) tree along the key path.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use super::diag::{did_you_mean, Diagnostic, Diagnostics, Pos};
use super::model::{MountKind, NetworkMode, Service, Stack};
use super::yaml::Node;

/// One step of a key path: a map key or a list index.
#[derive(Debug, Clone, Copy)]
pub enum Seg<'a> {
    Key(&'a str),
    Idx(usize),
}

/// The node at `path` under `root`.
pub fn node_at<'a>(root: &'a Node, path: &[Seg]) -> Option<&'a Node> {
    path.iter().try_fold(root, |n, seg| match seg {
        Seg::Key(k) => n.as_map()?.get(k),
        Seg::Idx(i) => n.as_seq()?.get(*i),
    })
}

/// The position of the last key of `path` (the key itself, e.g. a dependency's name), falling
/// back to the nearest node that exists.
pub fn pos_at<'a>(root: &'a Node, path: &[Seg]) -> Option<&'a Pos> {
    if let Some((Seg::Key(last), parent)) = path.split_last() {
        if let Some((k, _)) = node_at(root, parent).and_then(Node::as_map).and_then(|m| m.get_entry(last)) {
            return Some(&k.pos);
        }
    }
    (0..=path.len()).rev().find_map(|n| node_at(root, &path[..n])).map(|n| &n.pos)
}

/// Run every cross-reference check on `stack`, reporting positions from `root`.
pub fn check(stack: &Stack, root: &Node, diags: &mut Diagnostics) {
    let mut c = Checker { stack, root, diags, names: stack.services.keys().map(String::as_str).collect() };
    let mut container_names: HashMap<&str, &str> = HashMap::new();
    for (name, svc) in &stack.services {
        c.depends_on(name, svc);
        c.networks(name, svc);
        c.network_mode(name, svc);
        c.shared_namespaces(name, svc);
        c.volumes(name, svc);
        c.links(name, svc);
        c.file_refs(name, svc);
        c.other_refs(name, svc);
        if let Some(cn) = svc.container_name.as_deref() {
            c.container_name(name, svc, cn, &mut container_names);
        }
    }
}

struct Checker<'a, 'd> {
    stack: &'a Stack,
    root: &'a Node,
    diags: &'d mut Diagnostics,
    names: HashSet<&'a str>,
}

impl Checker<'_, '_> {
    fn report(&mut self, severity_error: bool, path: &[Seg], message: String, hint: Option<String>) {
        let pos = pos_at(self.root, path);
        let text = render(path);
        let mut d = if severity_error {
            Diagnostic::error(pos, text, message)
        } else {
            Diagnostic::warning(pos, text, message)
        };
        d.hint = hint;
        self.diags.push(d);
    }

    fn error(&mut self, path: &[Seg], message: String, hint: impl Into<String>) {
        self.report(true, path, message, Some(hint.into()));
    }

    /// "did you mean `x`?" among the service names, else `otherwise`.
    fn service_hint(&self, word: &str, otherwise: &str) -> String {
        match did_you_mean(word, self.names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => otherwise.to_string(),
        }
    }

    fn depends_on(&mut self, name: &str, svc: &Service) {
        for dep in svc.depends_on.keys() {
            if self.names.contains(dep.as_str()) {
                continue;
            }
            let path = [Seg::Key("services"), Seg::Key(name), Seg::Key("depends_on"), Seg::Key(dep)];
            let msg = format!("service `{name}` depends on undefined service `{dep}`");
            let hint = self.service_hint(dep, "define it under `services:` or remove the dependency");
            // `required: false` excuses a service disabled by a profile (dropped later, in
            // load::apply_profiles), never one that is defined nowhere: compose-go refuses
            // that too.
            self.error(&path, msg, hint);
        }
    }

    fn networks(&mut self, name: &str, svc: &Service) {
        let declared = &self.stack.networks;
        for (net, sn) in &svc.networks {
            let base = [Seg::Key("services"), Seg::Key(name), Seg::Key("networks"), Seg::Key(net)];
            let Some(network) = declared.get(net) else {
                let msg =
                    format!("service `{name}` uses network `{net}`, which is not declared under top-level `networks:`");
                let hint = match did_you_mean(net, declared.keys().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("declare it: `networks: {{{net}: {{}}}}`"),
                };
                self.error(&base, msg, hint);
                continue;
            };
            if let Some(addr) = sn.ipv4_address.as_deref() {
                let path = [base[0], base[1], base[2], base[3], Seg::Key("ipv4_address")];
                self.ipv4(name, net, addr, network, &path);
            }
            if let Some(addr) = sn.ipv6_address.as_deref() {
                let path = [base[0], base[1], base[2], base[3], Seg::Key("ipv6_address")];
                self.ipv6(name, net, addr, network, &path);
            }
        }
    }

    fn ipv6(&mut self, svc: &str, net: &str, addr: &str, network: &super::model::Network, path: &[Seg]) {
        let Ok(ip) = addr.parse::<std::net::Ipv6Addr>() else {
            self.error(path, format!("service `{svc}`: `{addr}` is not an IPv6 address"), "e.g. fd00:1::10");
            return;
        };
        let subnets: Vec<ipnet::Ipv6Net> = network
            .ipam
            .iter()
            .flat_map(|i| i.config.iter())
            .filter_map(|p| p.subnet.as_deref()?.parse().ok())
            .collect();
        if subnets.is_empty() && !network.enable_ipv6 && !network.external {
            // Compose passes it on and the engine refuses it when the container is created;
            // so does berth, naming it: a warning here says so before anything is made.
            let msg = format!("service `{svc}` sets ipv6_address {addr} on network `{net}`, which has no IPv6");
            self.report(false, path, msg, Some(format!("set `enable_ipv6: true` on network `{net}`")));
        } else if !subnets.is_empty() && !subnets.iter().any(|s| s.contains(&ip)) {
            let list: Vec<String> = subnets.iter().map(ToString::to_string).collect();
            let msg = format!(
                "service `{svc}`: ipv6_address {addr} is outside the IPv6 subnet of network `{net}` ({})",
                list.join(", ")
            );
            self.error(path, msg, "pick an address inside the subnet");
        }
    }

    fn ipv4(&mut self, svc: &str, net: &str, addr: &str, network: &super::model::Network, path: &[Seg]) {
        let Ok(ip) = addr.parse::<Ipv4Addr>() else {
            self.error(
                path,
                format!("service `{svc}`: `{addr}` is not an IPv4 address"),
                "write it as four numbers, e.g. 172.28.0.10",
            );
            return;
        };
        let subnets: Vec<&str> = network
            .ipam
            .iter()
            .flat_map(|i| i.config.iter())
            .filter_map(|p| p.subnet.as_deref())
            .filter(|s| !s.contains(':'))
            .collect();
        if subnets.is_empty() {
            if !network.external {
                // Compose accepts it (the engine checks it against the subnet it allocates);
                // berth wants a declared subnet to reserve the address, so it warns.
                let msg = format!(
                    "service `{svc}` sets ipv4_address {addr} on network `{net}`, which declares no ipam subnet; \
                     berth may not be able to give it that address"
                );
                let hint = format!("add `ipam: {{config: [{{subnet: …}}]}}` to network `{net}`");
                self.report(false, path, msg, Some(hint));
            }
            return;
        }
        if !subnets.iter().any(|s| in_subnet(ip, s)) {
            let msg = format!(
                "service `{svc}`: ipv4_address {addr} is outside the subnet of network `{net}` ({})",
                subnets.join(", ")
            );
            self.error(path, msg, "pick an address inside the subnet");
        }
    }

    fn network_mode(&mut self, name: &str, svc: &Service) {
        let Some(mode) = &svc.network_mode else { return };
        let mode_path = [Seg::Key("services"), Seg::Key(name), Seg::Key("network_mode")];
        if !svc.networks.is_empty() {
            let path = [Seg::Key("services"), Seg::Key(name), Seg::Key("networks")];
            let msg = format!("service `{name}` sets both `network_mode` and `networks`");
            self.error(&path, msg, "use one of them: network_mode replaces the service's networks");
        }
        if let NetworkMode::Service(other) = mode {
            if other == name {
                self.error(
                    &mode_path,
                    format!("service `{name}` cannot share its own network namespace"),
                    "name another service",
                );
            } else if !self.names.contains(other.as_str()) {
                let msg = format!("service `{name}` uses the network of undefined service `{other}`");
                let hint = self.service_hint(other, "define it under `services:` or use bridge, host or none");
                self.error(&mode_path, msg, hint);
            }
        }
    }

    /// `ipc`, `pid`, `uts`: `service:X` must name a service (compose-go makes it a dependency).
    fn shared_namespaces(&mut self, name: &str, svc: &Service) {
        for (key, value) in [("ipc", &svc.ipc), ("pid", &svc.pid), ("uts", &svc.uts)] {
            let Some(other) = value.as_deref().and_then(|v| v.strip_prefix("service:")) else { continue };
            if self.names.contains(other) {
                continue;
            }
            let path = [Seg::Key("services"), Seg::Key(name), Seg::Key(key)];
            let msg = format!("service `{name}` shares the {key} namespace of undefined service `{other}`");
            let hint = self.service_hint(other, "define it under `services:`");
            self.error(&path, msg, hint);
        }
    }

    fn volumes(&mut self, name: &str, svc: &Service) {
        for (i, v) in svc.volumes.iter().enumerate() {
            let Some(src) = v.source.as_deref().filter(|_| v.kind == MountKind::Volume) else { continue };
            if self.stack.volumes.contains_key(src) {
                continue;
            }
            let path = [Seg::Key("services"), Seg::Key(name), Seg::Key("volumes"), Seg::Idx(i)];
            let msg =
                format!("service `{name}` mounts volume `{src}`, which is not declared under top-level `volumes:`");
            let hint = match did_you_mean(src, self.stack.volumes.keys().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => {
                    format!("declare it (`volumes: {{{src}: {{}}}}`), or write ./{src} for a bind mount of a host path")
                }
            };
            self.error(&path, msg, hint);
        }
    }

    /// `build.secrets` and `models` name top-level secrets and models (compose-go
    /// checkConsistency).
    fn other_refs(&mut self, name: &str, svc: &Service) {
        let build_secrets = svc.build.as_ref().and_then(|b| b.other.get("secrets")).and_then(|v| v.as_array());
        for (i, r) in build_secrets.into_iter().flatten().enumerate() {
            let source = r.as_str().or_else(|| r.get("source").and_then(|s| s.as_str())).unwrap_or_default();
            if !self.stack.secrets.contains_key(source) {
                let path = [Seg::Key("services"), Seg::Key(name), Seg::Key("build"), Seg::Key("secrets"), Seg::Idx(i)];
                let msg = format!(
                    "service `{name}` builds with secret `{source}`, which is not declared under top-level `secrets:`"
                );
                self.error(&path, msg, format!("declare it, e.g. `secrets: {{{source}: {{file: ./{source}}}}}`"));
            }
        }
        let models: Vec<String> = match svc.other.get("models") {
            Some(serde_json::Value::Array(list)) => {
                list.iter().filter_map(|m| m.as_str().map(str::to_string)).collect()
            }
            Some(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        for model in models.iter().filter(|m| !self.stack.models.contains_key(*m)) {
            let path = [Seg::Key("services"), Seg::Key(name), Seg::Key("models")];
            let msg = format!("service `{name}` uses model `{model}`, which is not declared under top-level `models:`");
            self.error(&path, msg, format!("declare it: `models: {{{model}: {{model: …}}}}`"));
        }
    }

    fn file_refs(&mut self, name: &str, svc: &Service) {
        for (kind, refs, declared) in
            [("secret", &svc.secrets, &self.stack.secrets), ("config", &svc.configs, &self.stack.configs)]
        {
            let key = if kind == "secret" { "secrets" } else { "configs" };
            for (i, r) in refs.iter().enumerate() {
                if declared.contains_key(&r.source) {
                    continue;
                }
                let path = [Seg::Key("services"), Seg::Key(name), Seg::Key(key), Seg::Idx(i)];
                let msg = format!(
                    "service `{name}` uses {kind} `{}`, which is not declared under top-level `{key}:`",
                    r.source
                );
                self.error(&path, msg, format!("declare it, e.g. `{key}: {{{}: {{file: ./{}}}}}`", r.source, r.source));
            }
        }
    }

    fn links(&mut self, name: &str, svc: &Service) {
        for (key, list, verb) in
            [("links", &svc.links, "links to"), ("volumes_from", &svc.volumes_from, "takes volumes from")]
        {
            for (i, entry) in list.iter().enumerate() {
                if entry.starts_with("container:") {
                    continue;
                }
                let target = entry.split(':').next().unwrap_or(entry);
                if self.names.contains(target) {
                    continue;
                }
                let path = [Seg::Key("services"), Seg::Key(name), Seg::Key(key), Seg::Idx(i)];
                let msg = format!("service `{name}` {verb} undefined service `{target}`");
                let hint = self.service_hint(target, "define it under `services:` or remove the entry");
                self.error(&path, msg, hint);
            }
        }
    }

    fn container_name<'s>(&mut self, name: &'s str, svc: &Service, cn: &'s str, seen: &mut HashMap<&'s str, &'s str>) {
        let path = [Seg::Key("services"), Seg::Key(name), Seg::Key("container_name")];
        if let Some(first) = seen.get(cn) {
            let msg = format!("container name `{cn}` of service `{name}` is already used by service `{first}`");
            self.error(&path, msg, "container names must be unique; change or remove one");
        } else {
            seen.insert(cn, name);
        }
        let n = svc.replicas();
        if n > 1 {
            let msg = format!("service `{name}` sets container_name `{cn}` but wants {n} replicas");
            self.error(&path, msg, "one name fits one container; remove container_name or use one replica");
        }
    }
}

/// `a.b[2].c` from path segments.
pub(super) fn render(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Idx(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Whether `ip` lies in the IPv4 CIDR `subnet` ("172.28.0.0/16"); a malformed subnet matches
/// nothing (the network layer reports it).
fn in_subnet(ip: Ipv4Addr, subnet: &str) -> bool {
    let Some((base, len)) = subnet.split_once('/') else { return false };
    let (Ok(base), Ok(len)) = (base.parse::<Ipv4Addr>(), len.parse::<u32>()) else { return false };
    if len > 32 {
        return false;
    }
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    (u32::from(ip) & mask) == (u32::from(base) & mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::canonical::canonicalize;
    use crate::spec::convert::{stack, ConvertContext};
    use crate::spec::yaml::parse;

    /// All diagnostics (convert's and semantic's) for `src`, one per line.
    fn check_src(src: &str) -> String {
        let mut root = parse(src, "s.yaml").expect("yaml");
        let mut d = Diagnostics::new();
        canonicalize(&mut root, &mut d);
        let lookup = |_: &str| None;
        let ctx = ConvertContext {
            project_name: "p".into(),
            project_dir: "/p".into(),
            lookup: &lookup,
            read_env_files: true,
            resolve_paths: true,
        };
        let st = stack(&root, &ctx, &mut d);
        check(&st, &root, &mut d);
        d.to_string()
    }

    #[test]
    fn clean_stack_has_no_findings() {
        let src = "services:\n  web:\n    depends_on: [db]\n    networks: [front]\n    volumes: [data:/d, ./x:/x]\n    secrets: [s]\n    links: ['db:database']\n  \
                   db:\n    volumes_from: ['web:ro']\n    container_name: the-db\nnetworks: {front: {}}\nvolumes: {data: {}}\nsecrets: {s: {file: ./s}}\n";
        assert_eq!(check_src(src), "");
    }

    #[test]
    fn unknown_dependency_with_did_you_mean() {
        let out = check_src("services:\n  web:\n    depends_on: [dbb]\n  db: {}\n");
        assert_eq!(out, "s.yaml:3:18: services.web.depends_on.dbb: service `web` depends on undefined service `dbb` (did you mean `db`?)");
        let out =
            check_src("services:\n  web:\n    depends_on:\n      zzz: {condition: service_started, required: false}\n");
        // `required: false` excuses only a service a profile disables, as in compose-go.
        assert_eq!(out, "s.yaml:4:7: services.web.depends_on.zzz: service `web` depends on undefined service `zzz` (define it under `services:` or remove the dependency)");
    }

    #[test]
    fn undeclared_network_and_volume() {
        let out = check_src("services:\n  web:\n    networks: [frnt]\n    volumes: ['dta:/d', '/host:/h']\nnetworks: {front: {}}\nvolumes: {data: {}}\n");
        assert_eq!(
            out,
            "s.yaml:3:16: services.web.networks.frnt: service `web` uses network `frnt`, which is not declared under top-level `networks:` (did you mean `front`?)\n\
             s.yaml:4:15: services.web.volumes[0]: service `web` mounts volume `dta`, which is not declared under top-level `volumes:` (did you mean `data`?)"
        );
    }

    #[test]
    fn ipv6_address_and_subnet() {
        let base = "networks:\n  back:\n    enable_ipv6: true\n    ipam: {config: [{subnet: 'fd00:5::/64'}]}\n";
        assert_eq!(
            check_src(&format!("services:\n  a:\n    networks: {{back: {{ipv6_address: 'fd00:5::9'}}}}\n{base}")),
            ""
        );
        let out = check_src(&format!("services:\n  a:\n    networks: {{back: {{ipv6_address: 'fd00:6::9'}}}}\n{base}"));
        assert!(out.contains("outside the IPv6 subnet"), "{out}");
        let bad = check_src(&format!("services:\n  a:\n    networks: {{back: {{ipv6_address: 10.0.0.1}}}}\n{base}"));
        assert!(bad.contains("not an IPv6 address"), "{bad}");
    }

    #[test]
    fn ipv4_address_and_subnet() {
        let base = "networks:\n  back:\n    ipam: {config: [{subnet: 172.28.0.0/16}]}\n  plain: {}\n";
        assert_eq!(
            check_src(&format!("services:\n  a:\n    networks: {{back: {{ipv4_address: 172.28.5.1}}}}\n{base}")),
            ""
        );
        let out = check_src(&format!("services:\n  a:\n    networks: {{back: {{ipv4_address: 10.0.0.1}}}}\n{base}"));
        assert_eq!(out, "s.yaml:3:23: services.a.networks.back.ipv4_address: service `a`: ipv4_address 10.0.0.1 is outside the subnet of network `back` (172.28.0.0/16) (pick an address inside the subnet)");
        let out = check_src(&format!("services:\n  a:\n    networks: {{plain: {{ipv4_address: 10.0.0.1}}}}\n{base}"));
        assert!(out.contains("which declares no ipam subnet"), "{out}");
        assert!(in_subnet("10.1.2.3".parse().expect("ip"), "10.0.0.0/8"));
        assert!(!in_subnet("11.1.2.3".parse().expect("ip"), "10.0.0.0/8"));
        assert!(in_subnet("1.2.3.4".parse().expect("ip"), "0.0.0.0/0"));
    }

    #[test]
    fn network_mode_conflicts() {
        let out = check_src("services:\n  a:\n    network_mode: host\n    networks: [x]\nnetworks: {x: {}}\n");
        assert_eq!(out, "s.yaml:4:5: services.a.networks: service `a` sets both `network_mode` and `networks` (use one of them: network_mode replaces the service's networks)");
        let out = check_src("services:\n  app:\n    network_mode: 'service:vpm'\n  vpn: {}\n");
        assert_eq!(out, "s.yaml:3:5: services.app.network_mode: service `app` uses the network of undefined service `vpm` (did you mean `vpn`?)");
    }

    #[test]
    fn container_names() {
        let out = check_src("services:\n  a: {container_name: x}\n  b: {container_name: x}\n  c: {container_name: y, deploy: {replicas: 2}}\n");
        assert_eq!(
            out,
            "s.yaml:3:7: services.b.container_name: container name `x` of service `b` is already used by service `a` (container names must be unique; change or remove one)\n\
             s.yaml:4:7: services.c.container_name: service `c` sets container_name `y` but wants 2 replicas (one name fits one container; remove container_name or use one replica)"
        );
    }

    #[test]
    fn links_volumes_from_secrets_configs() {
        let out = check_src("services:\n  a:\n    links: [ghost]\n    volumes_from: ['container:ok', 'gone:ro']\n    secrets: [s]\n    configs: [{source: c}]\n");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out}");
        assert_eq!(lines[0], "s.yaml:3:13: services.a.links[0]: service `a` links to undefined service `ghost` (define it under `services:` or remove the entry)");
        assert_eq!(lines[1], "s.yaml:4:36: services.a.volumes_from[1]: service `a` takes volumes from undefined service `gone` (define it under `services:` or remove the entry)");
        assert!(
            lines[2]
                .starts_with("s.yaml:5:15: services.a.secrets[0]: service `a` uses secret `s`, which is not declared"),
            "{}",
            lines[2]
        );
        assert!(
            lines[3].starts_with("s.yaml:6:15: services.a.configs[0]: service `a` uses config `c`"),
            "{}",
            lines[3]
        );
    }

    #[test]
    fn large_stack_is_fast() {
        let mut src = String::from("services:\n");
        for i in 0..500u32 {
            src.push_str(&format!(
                "  s{i}:\n    image: busybox\n    depends_on: [s{}]\n    ports: ['{}:80']\n    volumes: [data:/d, ./x:/x]\n    environment: [A=1, B=2]\n    command: sh -c 'sleep 1'\n",
                i.saturating_sub(1),
                10000 + i
            ));
        }
        src.push_str("volumes: {data: {}}\n");
        let t = std::time::Instant::now();
        assert_eq!(check_src(&src), "");
        // Debug build; the release budget is far below this.
        eprintln!("500 services: canonical+convert+semantic in {:?}", t.elapsed());
        assert!(t.elapsed().as_millis() < 2000, "took {:?}", t.elapsed());
    }
}
