//! Service keys that refer to other things (services, networks, secrets, devices, hosts) and
//! the health check and logging settings.

use indexmap::IndexMap;

use super::super::diag::Diagnostics;
use super::super::model::{
    Dependency, DependsCondition, Device, FileRef, HealthTest, Healthcheck, Logging, ServiceNetwork,
};
use super::super::yaml::Node;
use super::fields::{extensions, field, kept, map_items};
use super::scalar::{boolean, duration, int, mode, string, string_map_at, strings};

const NETWORK_KEYS: [&str; 5] = ["aliases", "ipv4_address", "ipv6_address", "mac_address", "priority"];

pub(super) fn networks(node: &Node, path: &str, d: &mut Diagnostics) -> IndexMap<String, ServiceNetwork> {
    let mut out = IndexMap::new();
    for (k, v) in node.as_map().map(|m| m.entries()).unwrap_or_default() {
        let p = format!("{path}.{}", k.name);
        let mut net = ServiceNetwork::default();
        if let Some(m) = v.as_map() {
            net.aliases = m.get("aliases").map(|n| strings(n, &format!("{p}.aliases"), d)).unwrap_or_default();
            net.ipv4_address = field(m, "ipv4_address", &p, d, string);
            net.ipv6_address = field(m, "ipv6_address", &p, d, string);
            net.mac_address = field(m, "mac_address", &p, d, string);
            net.priority = field(m, "priority", &p, d, int);
            net.other = kept(m, &NETWORK_KEYS, &p, d);
        }
        out.insert(k.name.clone(), net);
    }
    out
}

pub(super) fn depends_on(node: &Node, path: &str, d: &mut Diagnostics) -> IndexMap<String, Dependency> {
    let mut out = IndexMap::new();
    for (k, v) in node.as_map().map(|m| m.entries()).unwrap_or_default() {
        let p = format!("{path}.{}", k.name);
        let Some(m) = v.as_map() else { continue };
        let condition = match field(m, "condition", &p, d, string).as_deref() {
            // Checked on the merged files, as compose-go validates them (an override may
            // give only `required:`).
            None => {
                d.error(Some(&v.pos), &p, "missing required key `condition`");
                continue;
            }
            Some("service_started") => DependsCondition::ServiceStarted,
            Some("service_healthy") => DependsCondition::ServiceHealthy,
            Some("service_completed_successfully") => DependsCondition::ServiceCompletedSuccessfully,
            Some(other) => {
                let msg = format!(
                    "unknown condition `{other}`; expected service_started, service_healthy or service_completed_successfully"
                );
                d.error(m.get("condition").map(|n| &n.pos), format!("{p}.condition"), msg);
                continue;
            }
        };
        let restart = field(m, "restart", &p, d, boolean).unwrap_or(false);
        let required = field(m, "required", &p, d, boolean).unwrap_or(true);
        out.insert(k.name.clone(), Dependency { condition, restart, required, other: extensions(m) });
    }
    out
}

pub(super) fn healthcheck(node: &Node, path: &str, d: &mut Diagnostics) -> Option<Healthcheck> {
    let m = node.as_map()?;
    let mut h = Healthcheck {
        test: m.get("test").and_then(|t| health_test(t, &format!("{path}.test"), d)),
        interval: field(m, "interval", path, d, duration),
        timeout: field(m, "timeout", path, d, duration),
        retries: field(m, "retries", path, d, int),
        start_period: field(m, "start_period", path, d, duration),
        start_interval: field(m, "start_interval", path, d, duration),
        disable: field(m, "disable", path, d, boolean).unwrap_or(false),
        other: extensions(m),
    };
    if h.disable {
        h.test = Some(HealthTest::None);
    }
    Some(h)
}

/// `[NONE]`, `[CMD, argv…]` or `[CMD-SHELL, command]` (a string was made CMD-SHELL by canonical).
fn health_test(node: &Node, path: &str, d: &mut Diagnostics) -> Option<HealthTest> {
    let words = strings(node, path, d);
    let (first, rest) = words.split_first()?;
    match first.as_str() {
        "NONE" => Some(HealthTest::None),
        "CMD" if !rest.is_empty() => Some(HealthTest::Cmd(rest.to_vec())),
        "CMD-SHELL" if !rest.is_empty() => Some(HealthTest::Shell(rest.join(" "))),
        "CMD" | "CMD-SHELL" => {
            d.error(Some(&node.pos), path, format!("`{first}` needs a command after it"));
            None
        }
        _ => {
            let msg = format!("a test list starts with CMD, CMD-SHELL or NONE, not `{first}`");
            d.push(super::super::diag::Diagnostic::error(Some(&node.pos), path, msg).with_hint(format!(
                "write [\"CMD\", \"{first}\", …] to run it directly, or a plain string to run it with /bin/sh -c"
            )));
            None
        }
    }
}

pub(super) fn extra_hosts(node: &Node, path: &str, d: &mut Diagnostics) -> IndexMap<String, Vec<String>> {
    let mut out = IndexMap::new();
    for (k, v) in node.as_map().map(|m| m.entries()).unwrap_or_default() {
        out.insert(k.name.clone(), strings(v, &format!("{path}.{}", k.name), d));
    }
    out
}

pub(super) fn devices(node: &Node, path: &str, d: &mut Diagnostics) -> Vec<Device> {
    let mut out = Vec::new();
    for (p, _, m) in map_items(node, path) {
        let Some(source) = field(m, "source", &p, d, string) else { continue };
        out.push(Device {
            target: field(m, "target", &p, d, string).unwrap_or_else(|| source.clone()),
            permissions: field(m, "permissions", &p, d, string).unwrap_or_else(|| "rwm".into()),
            source,
        });
    }
    out
}

pub(super) fn file_refs(node: &Node, path: &str, d: &mut Diagnostics) -> Vec<FileRef> {
    let mut out = Vec::new();
    for (p, item, m) in map_items(node, path) {
        let Some(source) = field(m, "source", &p, d, string) else {
            d.error(Some(&item.pos), &p, "a reference needs a `source`");
            continue;
        };
        out.push(FileRef {
            source,
            target: field(m, "target", &p, d, string),
            uid: field(m, "uid", &p, d, string),
            gid: field(m, "gid", &p, d, string),
            mode: field(m, "mode", &p, d, mode),
        });
    }
    out
}

pub(super) fn logging(node: &Node, path: &str, d: &mut Diagnostics) -> Option<Logging> {
    let m = node.as_map()?;
    let l = Logging { driver: field(m, "driver", path, d, string), options: string_map_at(m, "options", path, d) };
    // berth writes json-file logs itself: max-size and max-file are honoured (as many as two
    // files are kept); the rest is said, not silently dropped.
    let at = format!("{path}.options");
    if let Some(size) = l.options.get("max-size") {
        if let Err(e) = crate::spec::units::parse_bytes(size) {
            d.warning(Some(&node.pos), format!("{at}.max-size"), format!("{e}; the default of 10m applies"));
        }
    }
    match l.options.get("max-file").map(|n| n.parse::<u32>()) {
        Some(Ok(n)) if n > 2 => {
            d.warning(Some(&node.pos), format!("{at}.max-file"), format!("berth keeps at most 2 log files, not {n}"))
        }
        Some(Err(_)) => d.warning(Some(&node.pos), format!("{at}.max-file"), "not a number; the default of 2 applies"),
        _ => {}
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{load, load_ok};
    use super::*;

    #[test]
    fn networks_list_and_map() {
        let st = load_ok(
            "services:\n  a: {networks: [front]}\n  b:\n    networks:\n      front: {aliases: [db], ipv4_address: 10.0.0.5}\n      back:\nnetworks: {front: {}, back: {}}\n",
        );
        assert_eq!(st.services["a"].networks.keys().collect::<Vec<_>>(), ["front"]);
        let b = &st.services["b"].networks;
        assert_eq!(b["front"].aliases, ["db"]);
        assert_eq!(b["front"].ipv4_address.as_deref(), Some("10.0.0.5"));
        assert_eq!(b["back"], ServiceNetwork::default());
    }

    #[test]
    fn depends_on_list_and_map() {
        let st = load_ok(
            "services:\n  a: {depends_on: [b]}\n  b:\n    depends_on:\n      c: {condition: service_healthy, restart: true, required: false}\n  c: {}\n",
        );
        assert_eq!(
            st.services["a"].depends_on["b"],
            Dependency {
                condition: DependsCondition::ServiceStarted,
                restart: false,
                required: true,
                other: Default::default()
            }
        );
        assert_eq!(
            st.services["b"].depends_on["c"],
            Dependency {
                condition: DependsCondition::ServiceHealthy,
                restart: true,
                required: false,
                other: Default::default()
            }
        );
    }

    fn test_of(yaml: &str) -> (Option<HealthTest>, Diagnostics) {
        let (st, d) = load(&format!("services:\n  a:\n    healthcheck: {yaml}\n"));
        (st.services["a"].healthcheck.as_ref().and_then(|h| h.test.clone()), d)
    }

    #[test]
    fn healthcheck_tests() {
        assert_eq!(test_of("{test: curl -f x}").0, Some(HealthTest::Shell("curl -f x".into())));
        assert_eq!(
            test_of("{test: [CMD, curl, -f, x]}").0,
            Some(HealthTest::Cmd(vec!["curl".into(), "-f".into(), "x".into()]))
        );
        assert_eq!(test_of("{test: [CMD-SHELL, exit 0]}").0, Some(HealthTest::Shell("exit 0".into())));
        assert_eq!(test_of("{test: [NONE]}").0, Some(HealthTest::None));
        assert_eq!(test_of("{disable: true}").0, Some(HealthTest::None));
        let (t, d) = test_of("{test: [curl, x]}");
        assert_eq!(t, None);
        assert_eq!(
            d.to_string(),
            "c.yaml:3:25: services.a.healthcheck.test: a test list starts with CMD, CMD-SHELL or NONE, not `curl` \
             (write [\"CMD\", \"curl\", …] to run it directly, or a plain string to run it with /bin/sh -c)"
        );
    }

    #[test]
    fn healthcheck_timings() {
        let st = load_ok("services:\n  a:\n    healthcheck: {test: 'true', interval: 10s, timeout: 500ms, retries: 5, start_period: 1m, start_interval: 1s}\n");
        let h = st.services["a"].healthcheck.clone().expect("healthcheck");
        assert_eq!(h.interval.map(|d| d.0.as_secs()), Some(10));
        assert_eq!(h.timeout.map(|d| d.0.as_millis()), Some(500));
        assert_eq!(h.retries, Some(5));
        assert_eq!(h.start_period.map(|d| d.0.as_secs()), Some(60));
    }

    #[test]
    fn hosts_devices_refs_logging() {
        let (st, d) = load(
            "services:\n  a:\n    extra_hosts: ['db:10.0.0.2', 'db=10.0.0.3']\n    devices: ['/dev/fuse']\n    \
             secrets: [s, {source: t, target: /run/t, mode: '0440'}]\n    configs: [c]\n    logging: {driver: json-file, options: {max-size: 10m}}\n\
             secrets: {s: {file: ./s}, t: {environment: T}}\nconfigs: {c: {content: x}}\n",
        );
        assert_eq!(d.items.len(), 1, "{d}");
        assert!(d.to_string().contains("`devices` is accepted but not honoured"), "{d}");
        let a = &st.services["a"];
        assert_eq!(a.extra_hosts["db"], ["10.0.0.2", "10.0.0.3"]);
        assert_eq!(
            a.devices[0],
            Device { source: "/dev/fuse".into(), target: "/dev/fuse".into(), permissions: "rwm".into() }
        );
        assert_eq!(a.secrets[1].mode, Some(0o440));
        assert_eq!(a.configs[0].source, "c");
        assert_eq!(a.logging.as_ref().map(|l| l.options["max-size"].as_str()), Some("10m"));
    }
}
