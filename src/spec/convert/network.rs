//! Top-level `networks`, `volumes`, `configs` and `secrets`. A project's own networks and
//! volumes are named `<project>_<key>` unless `name:` says otherwise; an external one is
//! looked up by its key (or `name:`), as Compose does.

use indexmap::IndexMap;

use super::super::diag::Diagnostics;
use super::super::model::{FileObject, Ipam, IpamPool, Network, SecretText, Volume};
use super::super::yaml::{Key, Map, Node};
use super::fields::{field, kept, map_items, unhonoured};
use super::scalar::{boolean, string, string_map_at};
use super::ConvertContext;

/// The entries of a top-level section with their (possibly empty) maps.
fn entries(node: &Node) -> impl Iterator<Item = (&Key, Option<&Map>)> {
    node.as_map().map(|m| m.entries()).unwrap_or_default().iter().map(|(k, v)| (k, v.as_map()))
}

/// `external: true`, or the legacy `external: {name: x}` (→ external, named x).
fn external(m: &Map, path: &str, d: &mut Diagnostics) -> (bool, Option<String>) {
    match m.get("external") {
        Some(n) if n.as_map().is_some() => {
            let name = n.as_map().and_then(|e| field(e, "name", &format!("{path}.external"), d, string));
            // compose-go transform/external.go: a different `name:` beside it is a conflict.
            let own = m.get("name").and_then(|n| n.scalar_string());
            if let (Some(legacy), Some(own)) = (&name, &own) {
                if legacy != own {
                    let msg = format!("`name: {own}` and `external.name: {legacy}` conflict; set only `name`");
                    d.error(Some(&n.pos), format!("{path}.external"), msg);
                }
            }
            (true, name)
        }
        Some(n) => (boolean(n, &format!("{path}.external"), d).unwrap_or(false), None),
        None => (false, None),
    }
}

fn real_name(ctx: &ConvertContext, key: &str, explicit: Option<String>, external: bool) -> String {
    match explicit {
        Some(n) => n,
        None if external => key.to_string(),
        None => format!("{}_{key}", ctx.project_name),
    }
}

const NETWORK_KEYS: [&str; 9] =
    ["name", "driver", "driver_opts", "internal", "external", "attachable", "enable_ipv6", "ipam", "labels"];

pub(super) fn networks(node: &Node, ctx: &ConvertContext, d: &mut Diagnostics) -> IndexMap<String, Network> {
    let mut out = IndexMap::new();
    let empty = Map::default();
    for (k, m) in entries(node) {
        let p = format!("networks.{}", k.name);
        let m = m.unwrap_or(&empty);
        let (ext, legacy_name) = external(m, &p, d);
        let mut net = Network {
            name: real_name(ctx, &k.name, field(m, "name", &p, d, string).or(legacy_name), ext),
            driver: field(m, "driver", &p, d, string),
            driver_opts: string_map_at(m, "driver_opts", &p, d),
            internal: field(m, "internal", &p, d, boolean).unwrap_or(false),
            external: ext,
            attachable: field(m, "attachable", &p, d, boolean).unwrap_or(false),
            enable_ipv6: field(m, "enable_ipv6", &p, d, boolean).unwrap_or(false),
            ipam: m.get("ipam").and_then(|n| ipam(n, &format!("{p}.ipam"), d)),
            labels: string_map_at(m, "labels", &p, d),
            other: IndexMap::new(),
        };
        for (ok, v) in m.iter().filter(|(ok, _)| !NETWORK_KEYS.contains(&ok.name.as_str())) {
            unhonoured(m, &ok.name, &p, d);
            net.other.insert(ok.name.clone(), v.to_json());
        }
        out.insert(k.name.clone(), net);
    }
    out
}

fn ipam(node: &Node, path: &str, d: &mut Diagnostics) -> Option<Ipam> {
    let m = node.as_map()?;
    let mut out = Ipam {
        driver: field(m, "driver", path, d, string),
        options: string_map_at(m, "options", path, d),
        config: Vec::new(),
    };
    if let Some(list) = m.get("config") {
        for (p, _, c) in map_items(list, &format!("{path}.config")) {
            out.config.push(IpamPool {
                subnet: field(c, "subnet", &p, d, string),
                gateway: field(c, "gateway", &p, d, string),
                ip_range: field(c, "ip_range", &p, d, string),
                aux_addresses: string_map_at(c, "aux_addresses", &p, d),
            });
        }
    }
    Some(out)
}

const VOLUME_KEYS: [&str; 5] = ["name", "driver", "driver_opts", "external", "labels"];

pub(super) fn volumes(node: &Node, ctx: &ConvertContext, d: &mut Diagnostics) -> IndexMap<String, Volume> {
    let mut out = IndexMap::new();
    let empty = Map::default();
    for (k, m) in entries(node) {
        let p = format!("volumes.{}", k.name);
        let m = m.unwrap_or(&empty);
        let (ext, legacy_name) = external(m, &p, d);
        let driver = field(m, "driver", &p, d, string);
        let mut driver_opts = string_map_at(m, "driver_opts", &p, d);
        // A local volume that is a bind mount of a host directory: its device is a path,
        // relative to the project directory (compose-go paths.volumeDriverOpts).
        if driver.as_deref() == Some("local") && driver_opts.get("o").map(String::as_str) == Some("bind") {
            if let Some(dev) = driver_opts.get_mut("device") {
                *dev = ctx.resolve_path(dev);
            }
        }
        let vol = Volume {
            name: real_name(ctx, &k.name, field(m, "name", &p, d, string).or(legacy_name), ext),
            driver,
            driver_opts,
            external: ext,
            labels: string_map_at(m, "labels", &p, d),
            other: kept(m, &VOLUME_KEYS, &p, d),
        };
        out.insert(k.name.clone(), vol);
    }
    out
}

const FILE_KEYS: [&str; 5] = ["name", "file", "environment", "content", "external"];

/// Top-level `configs` or `secrets` (`kind` names the section in paths).
pub(super) fn file_objects(
    kind: &str,
    node: &Node,
    ctx: &ConvertContext,
    d: &mut Diagnostics,
) -> IndexMap<String, FileObject> {
    let mut out = IndexMap::new();
    let empty = Map::default();
    for (k, m) in entries(node) {
        let p = format!("{kind}.{}", k.name);
        let m = m.unwrap_or(&empty);
        let (ext, legacy_name) = external(m, &p, d);
        let environment = field(m, "environment", &p, d, string);
        let name = field(m, "name", &p, d, string).or(legacy_name);
        let obj = FileObject {
            // Named as compose-go names it (setNameFromKey): the key of an external one,
            // `<project>_<key>` otherwise.
            name: Some(real_name(ctx, &k.name, name, ext)),
            file: field(m, "file", &p, d, string).map(|f| ctx.resolve_path(&f)),
            env_value: environment.as_deref().and_then(ctx.lookup).map(SecretText),
            environment,
            content: field(m, "content", &p, d, string),
            external: ext,
            other: kept(m, &FILE_KEYS, &p, d),
        };
        let pos = node.as_map().and_then(|top| top.get_entry(&k.name)).map(|(key, _)| &key.pos);
        // compose-go validation.checkFileObject: one source (secrets have no `content`).
        let sources: Vec<&str> = [("file", obj.file.is_some()), ("environment", obj.environment.is_some())]
            .into_iter()
            .chain((kind == "configs").then_some(("content", obj.content.is_some())))
            .filter_map(|(n, set)| set.then_some(n))
            .collect();
        if sources.len() > 1 {
            let msg = format!("sets both `{}` and `{}`: give one source", sources[0], sources[1]);
            d.error(pos, &p, msg);
        } else if sources.is_empty() && !ext && !(kind == "configs" && m.contains_key("driver")) {
            let what = if kind == "configs" { "`file`, `environment` or `content`" } else { "`file` or `environment`" };
            d.error(pos, &p, format!("needs one of {what} (or `external: true`)"));
        }
        out.insert(k.name.clone(), obj);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{load, load_ok};

    #[test]
    fn network_names_and_options() {
        let st = load_ok(
            "services: {}\nnetworks:\n  front:\n  back:\n    internal: true\n    ipam: {config: [{subnet: 172.28.0.0/16, gateway: 172.28.0.1}]}\n  \
             shared: {external: true}\n  named: {name: custom, driver: bridge}\n  legacy: {external: {name: old}}\n",
        );
        let n = &st.networks;
        assert_eq!(n["front"].name, "proj_front");
        assert!(n["back"].internal);
        assert_eq!(n["back"].ipam.as_ref().map(|i| i.config[0].subnet.as_deref()), Some(Some("172.28.0.0/16")));
        assert_eq!((n["shared"].name.as_str(), n["shared"].external), ("shared", true));
        assert_eq!((n["named"].name.as_str(), n["named"].driver.as_deref()), ("custom", Some("bridge")));
        assert_eq!((n["legacy"].name.as_str(), n["legacy"].external), ("old", true));
    }

    #[test]
    fn volume_names_and_driver_opts() {
        let st = load_ok(
            "services: {}\nvolumes:\n  data:\n  ext: {external: true}\n  bindish: {driver_opts: {type: none, o: bind, device: /srv/x}}\n",
        );
        assert_eq!(st.volumes["data"].name, "proj_data");
        assert_eq!(st.volumes["ext"].name, "ext");
        assert_eq!(st.volumes["bindish"].driver_opts["device"], "/srv/x");
    }

    #[test]
    fn secrets_and_configs() {
        let st = load_ok("services: {}\nsecrets:\n  s: {file: ./secret.txt}\n  e: {environment: TOKEN}\nconfigs:\n  c: {content: hello}\n");
        assert_eq!(st.secrets["s"].file.as_deref(), Some("/proj/secret.txt"));
        assert_eq!(st.secrets["e"].environment.as_deref(), Some("TOKEN"));
        assert_eq!(st.configs["c"].content.as_deref(), Some("hello"));
        // An `environment` source's value is read at load time, kept out of every serialization.
        let st = load_ok("services: {}\nsecrets:\n  e: {environment: FOO}\n  u: {environment: UNSET}\n");
        assert_eq!(st.secrets["e"].env_value.as_ref().map(|v| v.0.as_str()), Some("bar"));
        assert!(st.secrets["u"].env_value.is_none());
        assert!(!serde_json::to_string(&st).unwrap().contains("bar"));
        assert!(!format!("{st:?}").contains("\"bar\""), "Debug redacts it");
        // Modes as Compose reads them: octal, written as a YAML number or a string.
        let st = load_ok("services:\n  a:\n    secrets: [{source: e, mode: 0440}, {source: e, target: t, mode: '0400'}]\nsecrets:\n  e: {environment: FOO}\n");
        let modes: Vec<_> = st.services["a"].secrets.iter().map(|r| r.mode).collect();
        assert_eq!(modes, [Some(0o440), Some(0o400)]);
        let (_, d) = load("services: {}\nsecrets:\n  s: {}\n");
        assert_eq!(d.to_string(), "c.yaml:3:3: secrets.s: needs one of `file` or `environment` (or `external: true`)");
    }

    #[test]
    fn unmodelled_network_keys_warn() {
        let (st, d) = load("services: {}\nnetworks:\n  n: {enable_ipv4: false}\n");
        assert_eq!(
            d.to_string(),
            "c.yaml:3:7: warning: networks.n: `enable_ipv4` is accepted but not honoured by berth yet"
        );
        assert!(st.networks["n"].other.contains_key("enable_ipv4"));
    }
}
