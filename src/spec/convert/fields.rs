//! The service keys that carry mounts, ports and builds: each reads its canonical long form.

use indexmap::IndexMap;

use super::super::diag::Diagnostics;
use super::super::model::{
    BindOptions, Build, Develop, ImageMountOptions, MountKind, Port, Protocol, ServiceVolume, TmpfsOptions,
    VolumeOptions, WatchAction, WatchRule,
};
use super::super::yaml::{Map, Node};
use super::scalar::{boolean, bytes, int, mode, opt_string_map, string, string_map_at, strings};
use super::ConvertContext;

/// Record a key berth keeps but does not act on, once, at the key.
pub(super) fn unhonoured(m: &Map, name: &str, path: &str, diags: &mut Diagnostics) {
    if let Some((k, _)) = m.get_entry(name) {
        if !name.starts_with("x-") {
            diags.warning(Some(&k.pos), path, format!("`{name}` is accepted but not honoured by berth yet"));
        }
    }
}

/// The keys of `m` other than `known`, kept as written: an unknown key is warned about (once,
/// at the key) unless it is an `x-*` extension.
pub(super) fn kept(m: &Map, known: &[&str], path: &str, d: &mut Diagnostics) -> IndexMap<String, serde_json::Value> {
    let mut out = IndexMap::new();
    for (k, v) in m.iter().filter(|(k, _)| !known.contains(&k.name.as_str())) {
        unhonoured(m, &k.name, path, d);
        out.insert(k.name.clone(), v.to_json());
    }
    out
}

/// The `x-*` keys of `m`, as written.
pub(super) fn extensions(m: &Map) -> IndexMap<String, serde_json::Value> {
    m.iter().filter(|(k, _)| k.name.starts_with("x-")).map(|(k, v)| (k.name.clone(), v.to_json())).collect()
}

/// Iterate the items of a list that are maps, with their paths.
pub(super) fn map_items<'a>(node: &'a Node, path: &'a str) -> impl Iterator<Item = (String, &'a Node, &'a Map)> + 'a {
    let items = node.as_seq().unwrap_or_default();
    items.iter().enumerate().filter_map(move |(i, n)| n.as_map().map(|m| (format!("{path}[{i}]"), n, m)))
}

/// `m.<key>` read with `f`, its path being `<path>.<key>`.
pub(super) fn field<T>(
    m: &Map,
    key: &str,
    path: &str,
    d: &mut Diagnostics,
    f: impl FnOnce(&Node, &str, &mut Diagnostics) -> Option<T>,
) -> Option<T> {
    m.get(key).and_then(|n| f(n, &format!("{path}.{key}"), d))
}

pub(super) fn ports(node: &Node, path: &str, d: &mut Diagnostics) -> Vec<Port> {
    let mut out = Vec::new();
    for (i, item) in node.as_seq().unwrap_or_default().iter().enumerate() {
        if let Some(text) = item.as_str() {
            let msg = format!("port `{text}` is not interpolated (--no-interpolate) and is left out of the model");
            d.warning(Some(&item.pos), format!("{path}[{i}]"), msg);
        }
    }
    for (p, _, m) in map_items(node, path) {
        let Some(target) = field(m, "target", &p, d, int::<u16>) else { continue };
        let protocol = match field(m, "protocol", &p, d, string).as_deref() {
            None | Some("tcp") => Protocol::Tcp,
            Some("udp") => Protocol::Udp,
            Some("sctp") => Protocol::Sctp,
            Some(other) => {
                let n = m.get("protocol").unwrap_or(node);
                d.error(
                    Some(&n.pos),
                    format!("{p}.protocol"),
                    format!("unknown protocol `{other}`; expected tcp, udp or sctp"),
                );
                continue;
            }
        };
        out.push(Port {
            name: field(m, "name", &p, d, string),
            target,
            published: field(m, "published", &p, d, string).filter(|s| !s.is_empty()),
            host_ip: field(m, "host_ip", &p, d, string),
            protocol,
            mode: field(m, "mode", &p, d, string).unwrap_or_else(|| "ingress".into()),
            app_protocol: field(m, "app_protocol", &p, d, string),
            other: extensions(m),
        });
    }
    out
}

fn mount_kind(text: &str) -> Option<MountKind> {
    Some(match text {
        "bind" => MountKind::Bind,
        "volume" => MountKind::Volume,
        "tmpfs" => MountKind::Tmpfs,
        "npipe" => MountKind::Npipe,
        "image" => MountKind::Image,
        "cluster" => MountKind::Cluster,
        _ => return None,
    })
}

pub(super) fn volumes(node: &Node, path: &str, ctx: &ConvertContext, d: &mut Diagnostics) -> Vec<ServiceVolume> {
    let mut out = Vec::new();
    for (p, item, m) in map_items(node, path) {
        let kind_text = field(m, "type", &p, d, string).unwrap_or_else(|| "volume".into());
        if kind_text == "npipe" {
            let msg =
                "a Windows named pipe (`type: npipe`) cannot be mounted on Linux: creating the container will fail";
            d.warning(Some(&item.pos), &p, msg);
        }
        let Some(kind) = mount_kind(&kind_text) else {
            let msg =
                format!("unknown mount type `{kind_text}`; expected bind, volume, tmpfs, image, npipe or cluster");
            d.error(Some(&m.get("type").unwrap_or(item).pos), format!("{p}.type"), msg);
            continue;
        };
        let Some(target) = field(m, "target", &p, d, string) else {
            d.error(Some(&item.pos), &p, "a mount needs a `target` path in the container");
            continue;
        };
        let mut source = field(m, "source", &p, d, string).filter(|s| !s.is_empty());
        if kind == MountKind::Bind {
            source = source.map(|s| ctx.resolve_path(&s));
        }
        let bind_map = m.get("bind").and_then(Node::as_map);
        let bind = (kind == MountKind::Bind || bind_map.is_some()).then(|| {
            let bp = format!("{p}.bind");
            let empty = Map::default();
            let b = bind_map.unwrap_or(&empty);
            BindOptions {
                propagation: field(b, "propagation", &bp, d, string),
                create_host_path: field(b, "create_host_path", &bp, d, boolean).unwrap_or(false),
                selinux: field(b, "selinux", &bp, d, string),
            }
        });
        let volume = m.get("volume").and_then(Node::as_map).map(|v| {
            let vp = format!("{p}.volume");
            VolumeOptions {
                nocopy: field(v, "nocopy", &vp, d, boolean).unwrap_or(false),
                subpath: field(v, "subpath", &vp, d, string),
            }
        });
        let tmpfs = m.get("tmpfs").and_then(Node::as_map).map(|t| {
            let tp = format!("{p}.tmpfs");
            TmpfsOptions { size: field(t, "size", &tp, d, bytes), mode: field(t, "mode", &tp, d, mode) }
        });
        let image = m
            .get("image")
            .and_then(Node::as_map)
            .map(|i| ImageMountOptions { subpath: field(i, "subpath", &format!("{p}.image"), d, string) });
        out.push(ServiceVolume {
            image,
            kind,
            source,
            target,
            read_only: field(m, "read_only", &p, d, boolean).unwrap_or(false),
            bind,
            volume,
            tmpfs,
            consistency: field(m, "consistency", &p, d, string),
        });
    }
    out
}

/// A volume given on a command line (`run -v [SOURCE:]TARGET[:MODE]`), read by the stack
/// file's one short-syntax rule ([`crate::spec::canonical::parse_volume`]) into the form a
/// file's entry converts to, a bind source resolved as `ctx` resolves the file's (relative to
/// its directory, `~` expanded). Also the options the rule ignores (the caller warns).
pub fn volume_flag(text: &str, ctx: &ConvertContext) -> Result<(ServiceVolume, Vec<String>), String> {
    let spec = crate::spec::canonical::parse_volume(text)?;
    let bind_kind = spec.kind == "bind";
    let source = spec.source.map(|s| if bind_kind { ctx.resolve_path(&s) } else { s });
    let bind = (bind_kind || spec.propagation.is_some() || spec.selinux.is_some()).then_some(BindOptions {
        propagation: spec.propagation,
        // The short syntax creates a missing host path, as in a file.
        create_host_path: bind_kind,
        selinux: spec.selinux,
    });
    let volume = spec.nocopy.then_some(VolumeOptions { nocopy: true, subpath: None });
    let kind = if bind_kind { MountKind::Bind } else { MountKind::Volume };
    let v = ServiceVolume {
        kind,
        source,
        target: spec.target,
        read_only: spec.read_only,
        bind,
        volume,
        tmpfs: None,
        image: None,
        consistency: spec.consistency,
    };
    Ok((v, spec.ignored))
}

/// A build context that is a URL (git repository, tarball) is kept as written.
fn is_remote(ctx: &str) -> bool {
    ctx.contains("://") || ctx.starts_with("git@") || ctx.starts_with("github.com/")
}

const BUILD_KEYS: [&str; 8] =
    ["context", "dockerfile", "dockerfile_inline", "args", "target", "labels", "tags", "network"];

pub(super) fn build(node: &Node, path: &str, ctx: &ConvertContext, d: &mut Diagnostics) -> Option<Build> {
    let m = node.as_map()?;
    let context = field(m, "context", path, d, string).unwrap_or_else(|| ".".into());
    let context = if is_remote(&context) { context } else { ctx.resolve_path(&context) };
    let dockerfile_inline = field(m, "dockerfile_inline", path, d, string);
    // compose-go Normalize: `Dockerfile` unless the Dockerfile is inline; an argument without a
    // value takes the project's variable, and is left out when that is unset.
    let dockerfile =
        field(m, "dockerfile", path, d, string).or_else(|| dockerfile_inline.is_none().then(|| "Dockerfile".into()));
    let args = m.get("args").map(|n| opt_string_map(n, &format!("{path}.args"), d)).unwrap_or_default();
    let args = args.into_iter().filter_map(|(k, v)| v.or_else(|| (ctx.lookup)(&k)).map(|v| (k, Some(v)))).collect();
    let mut b = Build {
        context,
        dockerfile,
        dockerfile_inline,
        args,
        target: field(m, "target", path, d, string),
        labels: string_map_at(m, "labels", path, d),
        tags: m.get("tags").map(|n| strings(n, &format!("{path}.tags"), d)).unwrap_or_default(),
        network: field(m, "network", path, d, string),
        other: Default::default(),
    };
    for (k, v) in m.iter().filter(|(k, _)| !BUILD_KEYS.contains(&k.name.as_str())) {
        unhonoured(m, &k.name, path, d);
        let value = match k.name.as_str() {
            // In bytes, as compose-go's model has it (UnitBytes).
            "shm_size" => field(m, "shm_size", path, d, bytes).map_or_else(|| v.to_json(), |b| serde_json::json!(b.0)),
            // Text (compose-go transformStringOrX): `sbom: true` is "true".
            "sbom" | "provenance" => v.scalar_string().map_or_else(|| v.to_json(), serde_json::Value::String),
            "no_cache_filter" => serde_json::json!(strings(v, &format!("{path}.{}", k.name), d)),
            "ssh" => ssh(v, ctx),
            "additional_contexts" => additional_contexts(v, ctx),
            _ => v.to_json(),
        };
        b.other.insert(k.name.clone(), value);
    }
    Some(b)
}

/// A mapping, or a list of `key=value` / bare `key` entries, as (key, value) pairs in order.
fn key_values(node: &Node) -> Vec<(String, Option<String>)> {
    match node.as_map() {
        Some(m) => m.iter().map(|(k, v)| (k.name.clone(), v.scalar_string())).collect(),
        None => node
            .as_seq()
            .unwrap_or_default()
            .iter()
            .filter_map(Node::scalar_string)
            .map(|s| match s.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (s, None),
            })
            .collect(),
    }
}

/// `build.ssh` as compose-go prints it: `["default", "id=/abs/path"]`, paths made absolute.
fn ssh(node: &Node, ctx: &ConvertContext) -> serde_json::Value {
    let items: Vec<String> = key_values(node)
        .into_iter()
        .map(|(id, path)| match path {
            Some(p) => format!("{id}={}", ctx.resolve_path(&p)),
            None => id,
        })
        .collect();
    serde_json::json!(items)
}

/// `build.additional_contexts` as a mapping (compose-go transformKeyValue), local paths made
/// absolute; images (`docker-image://`), other URLs, `service:` and git references are kept.
fn additional_contexts(node: &Node, ctx: &ConvertContext) -> serde_json::Value {
    let pairs = key_values(node);
    let resolve = |v: String| {
        if is_remote(&v) || v.starts_with("service:") || v.starts_with("http://") || v.starts_with("https://") {
            v
        } else {
            ctx.resolve_path(&v)
        }
    };
    let map: serde_json::Map<String, serde_json::Value> =
        pairs.into_iter().map(|(k, v)| (k, v.map(resolve).map_or(serde_json::Value::Null, Into::into))).collect();
    serde_json::Value::Object(map)
}

fn watch_action(text: &str) -> Option<WatchAction> {
    Some(match text {
        "sync" => WatchAction::Sync,
        "rebuild" => WatchAction::Rebuild,
        "sync+restart" => WatchAction::SyncRestart,
        "restart" => WatchAction::Restart,
        "sync+exec" => WatchAction::SyncExec,
        _ => return None,
    })
}

pub(super) fn develop(node: &Node, path: &str, ctx: &ConvertContext, d: &mut Diagnostics) -> Option<Develop> {
    let m = node.as_map()?;
    let mut dev = Develop { other: extensions(m), ..Develop::default() };
    let Some(watch) = m.get("watch") else { return Some(dev) };
    for (p, item, r) in map_items(watch, &format!("{path}.watch")) {
        let Some(raw) = field(r, "path", &p, d, string) else {
            d.error(Some(&item.pos), &p, "a watch rule needs a `path`");
            continue;
        };
        let action_text = field(r, "action", &p, d, string).unwrap_or_default();
        let Some(action) = watch_action(&action_text) else {
            let msg = format!(
                "unknown watch action `{action_text}`; expected sync, rebuild, sync+restart, restart or sync+exec"
            );
            d.error(Some(&r.get("action").unwrap_or(item).pos), format!("{p}.action"), msg);
            continue;
        };
        dev.watch.push(WatchRule {
            path: ctx.resolve_path(&raw),
            action,
            target: field(r, "target", &p, d, string),
            ignore: r.get("ignore").map(|n| strings(n, &format!("{p}.ignore"), d)).unwrap_or_default(),
            include: r.get("include").map(|n| strings(n, &format!("{p}.include"), d)).unwrap_or_default(),
            initial_sync: field(r, "initial_sync", &p, d, boolean).unwrap_or(false),
            exec: r.get("exec").map(Node::to_json),
        });
    }
    Some(dev)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{load, load_ok};
    use super::*;

    #[test]
    fn ports_long_form_typed() {
        let st = load_ok("services:\n  a:\n    ports: ['127.0.0.1:8001:8001', '6060:6060/udp', 3000, {target: 80, published: 8080, mode: host}]\n");
        let p = &st.services["a"].ports;
        assert_eq!(
            (p[0].target, p[0].published.as_deref(), p[0].host_ip.as_deref()),
            (8001, Some("8001"), Some("127.0.0.1"))
        );
        assert_eq!(p[1].protocol, Protocol::Udp);
        assert_eq!((p[2].target, p[2].published.as_deref()), (3000, None));
        assert_eq!((p[3].published.as_deref(), p[3].mode.as_str()), (Some("8080"), "host"));
    }

    #[test]
    fn volumes_short_and_long() {
        let src = "services:\n  a:\n    volumes:\n      - ./rel:/ctr:ro,z\n      - ~/x:/y\n      - named:/data\n      - /anon\n      \
                   - {type: bind, source: ./b, target: /b, bind: {create_host_path: true, propagation: rslave}}\n      \
                   - {type: volume, source: v, target: /v, volume: {nocopy: true, subpath: sub}}\n      \
                   - {type: tmpfs, target: /t, tmpfs: {size: 64m, mode: 1777}}\n      - {type: tmpfs, target: /u, tmpfs: {size: 1024}}\n      \
                   - {type: image, source: 'alpine:3', target: /img}\nvolumes: {named: {}, v: {}}\n";
        let st = load_ok(src);
        let v = &st.services["a"].volumes;
        assert_eq!((v[0].kind, v[0].source.as_deref(), v[0].read_only), (MountKind::Bind, Some("/proj/rel"), true));
        let b0 = v[0].bind.as_ref().expect("bind");
        assert!(b0.create_host_path);
        assert_eq!(b0.selinux.as_deref(), Some("z"));
        assert_eq!(v[1].source.as_deref(), Some("/home/u/x"));
        assert_eq!((v[2].kind, v[2].source.as_deref()), (MountKind::Volume, Some("named")));
        assert_eq!((v[3].kind, v[3].source.as_deref(), v[3].target.as_str()), (MountKind::Volume, None, "/anon"));
        let b4 = v[4].bind.as_ref().expect("bind");
        assert_eq!(
            (v[4].source.as_deref(), b4.create_host_path, b4.propagation.as_deref()),
            (Some("/proj/b"), true, Some("rslave"))
        );
        assert_eq!(v[5].volume, Some(VolumeOptions { nocopy: true, subpath: Some("sub".into()) }));
        let t = v[6].tmpfs.as_ref().expect("tmpfs");
        assert_eq!((t.size.map(|s| s.0), t.mode), (Some(64 << 20), Some(1777)));
        assert_eq!(v[7].tmpfs.as_ref().and_then(|t| t.size).map(|s| s.0), Some(1024));
        assert_eq!((v[8].kind, v[8].source.as_deref()), (MountKind::Image, Some("alpine:3")));
    }

    #[test]
    fn a_volume_flag_reads_as_the_same_entry_in_a_file() {
        let lookup = |k: &str| (k == "HOME").then(|| "/home/u".to_string());
        let ctx = ConvertContext {
            project_name: "p".into(),
            project_dir: "/cwd".into(),
            lookup: &lookup,
            read_env_files: true,
            resolve_paths: true,
        };
        let src = "services:\n  a:\n    volumes: ['./rel:/ctr:ro,z', '~/x:/y', 'named:/data:nocopy', '/anon', '/abs:/m:rslave']\n";
        let st = super::super::testutil::load_in(src, std::path::Path::new("/cwd")).0;
        for (i, text) in
            ["./rel:/ctr:ro,z", "~/x:/y", "named:/data:nocopy", "/anon", "/abs:/m:rslave"].iter().enumerate()
        {
            let (v, ignored) = volume_flag(text, &ctx).unwrap();
            assert_eq!(v, st.services["a"].volumes[i], "{text}");
            assert!(ignored.is_empty());
        }
        assert_eq!(volume_flag("/a:/b:ro,bogus", &ctx).unwrap().1, ["bogus"]);
        assert!(volume_flag("a:b:c:d", &ctx).is_err());
        assert!(volume_flag("", &ctx).is_err());
    }

    #[test]
    fn long_bind_without_options_does_not_create_host_path() {
        let st = load_ok("services:\n  a:\n    volumes: [{type: bind, source: /x, target: /x}]\n");
        assert_eq!(st.services["a"].volumes[0].bind.as_ref().map(|b| b.create_host_path), Some(false));
    }

    #[test]
    fn build_string_and_map() {
        let st = load_ok("services:\n  a: {build: ./app}\n  b:\n    build: {context: ../ctx, dockerfile: Dockerfile.dev, args: [A=1, B], target: dev}\n  c: {build: 'https://github.com/x/y.git#main'}\n");
        assert_eq!(st.services["a"].build.as_ref().map(|b| b.context.as_str()), Some("/proj/app"));
        let b = st.services["b"].build.as_ref().expect("build");
        assert_eq!(
            (b.context.as_str(), b.dockerfile.as_deref(), b.target.as_deref()),
            ("/ctx", Some("Dockerfile.dev"), Some("dev"))
        );
        // B has no value and no variable: left out, as compose-go's Normalize does.
        assert_eq!((b.args["A"].as_deref(), b.args.get("B")), (Some("1"), None));
        assert_eq!(b.dockerfile.as_deref(), Some("Dockerfile.dev"));
        assert_eq!(st.services["a"].build.as_ref().and_then(|b| b.dockerfile.as_deref()), Some("Dockerfile"));
        assert_eq!(
            st.services["c"].build.as_ref().map(|b| b.context.as_str()),
            Some("https://github.com/x/y.git#main")
        );
    }

    #[test]
    fn build_extra_keys_warn() {
        let (st, d) = load("services:\n  a:\n    build: {context: ., cache_from: [x]}\n");
        assert_eq!(
            d.to_string(),
            "c.yaml:3:25: warning: services.a.build: `cache_from` is accepted but not honoured by berth yet"
        );
        assert!(st.services["a"].build.as_ref().is_some_and(|b| b.other.contains_key("cache_from")));
    }

    #[test]
    fn develop_watch_rules() {
        let src = "services:\n  a:\n    develop:\n      watch:\n        - {path: ./src, action: sync, target: /app/src, ignore: node_modules/}\n        \
                   - {path: package.json, action: rebuild}\n        - {path: ./cfg, action: sync+restart, target: /etc/app}\n        \
                   - {path: ./x, action: restart}\n        - {path: ./y, action: sync+exec, target: /y, exec: {command: [kill, '-HUP', '1']}}\n";
        let st = load_ok(src);
        let w = &st.services["a"].develop.as_ref().expect("develop").watch;
        let got: Vec<(&str, WatchAction)> = w.iter().map(|r| (r.path.as_str(), r.action)).collect();
        assert_eq!(
            got,
            [
                ("/proj/src", WatchAction::Sync),
                ("/proj/package.json", WatchAction::Rebuild),
                ("/proj/cfg", WatchAction::SyncRestart),
                ("/proj/x", WatchAction::Restart),
                ("/proj/y", WatchAction::SyncExec)
            ]
        );
        assert_eq!(w[0].ignore, ["node_modules/"]);
        assert!(w[4].exec.is_some());
        let (_, d) = load("services:\n  a:\n    develop:\n      watch: [{path: ., action: teleport}]\n");
        assert_eq!(
            d.to_string(),
            "c.yaml:4:33: services.a.develop.watch[0].action: unknown watch action `teleport`; expected sync, rebuild, sync+restart, restart or sync+exec"
        );
    }
}
