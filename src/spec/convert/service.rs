//! One service: every key of the Compose schema either lands in a typed field of [`Service`]
//! or, when berth does not model it yet, in `other` with a warning naming the service and key.

use super::super::diag::Diagnostics;
use super::super::model::{NetworkMode, PullPolicy, RestartPolicy, Service};
use super::super::yaml::Node;
use super::scalar::{self, boolean, bytes, duration, float, int, string, string_map, strings};
use super::{env, fields, refs, resources, ConvertContext};

/// Convert `services.<name>`.
pub(super) fn service(name: &str, node: &Node, ctx: &ConvertContext, diags: &mut Diagnostics) -> Service {
    let path = format!("services.{name}");
    let mut s = Service::default();
    let Some(map) = node.as_map() else {
        if !node.is_null() {
            diags.error(Some(&node.pos), &path, format!("expected a mapping, found {}", node.type_name()));
        }
        s.networks.insert("default".into(), Default::default());
        return s;
    };
    for (k, v) in map.iter() {
        let p = format!("{path}.{}", k.name);
        if k.name == "label_file" {
            continue;
        }
        if !simple(&mut s, &k.name, v, &p, diags) && !structured(&mut s, &k.name, v, &p, ctx, diags) {
            let honoured = HONOURED_AS_WRITTEN.contains(&k.name.as_str());
            if k.name == "post_start" || k.name == "pre_stop" || k.name == "pre_start" {
                check_hooks(&k.name, v, &p, diags);
            }
            if !k.name.starts_with("x-") && k.name != "extends" && !honoured {
                let msg = format!("`{}` is accepted but not honoured by berth yet", k.name);
                diags.warning(Some(&k.pos), &path, msg);
            }
            if k.name != "extends" {
                let value = match k.name.as_str() {
                    // compose-go models these as text maps and device requests.
                    "annotations" | "storage_opt" => serde_json::json!(scalar::string_map(v, &p, diags)),
                    "gpus" => resources::gpus(v, &p, diags),
                    _ => v.to_json(),
                };
                s.other.insert(k.name.clone(), value);
            }
        }
    }
    s.environment = env::environment(map, &path, ctx, diags);
    if let Some(node) = map.get("label_file") {
        let (files, from_files) = env::label_files(node, &format!("{path}.label_file"), ctx, diags);
        let mut labels = from_files;
        labels.extend(std::mem::take(&mut s.labels));
        s.labels = labels;
        s.other.insert("label_file".into(), serde_json::json!(files));
    }
    normalize_other(&mut s);
    if s.network_mode.is_none() && s.networks.is_empty() {
        s.networks.insert("default".into(), Default::default());
    }
    resources::check_scale(&s, map, &path, diags);
    resources::restart_policy(&mut s, map, &path, diags);
    s
}

/// Keys kept as written in `other` that berth acts on, so no "not honoured" warning: the
/// lifecycle hooks (`spec::hooks`, run by the reconciler) and `attach` (attached `up`).
const HONOURED_AS_WRITTEN: &[&str] = &["post_start", "pre_stop", "pre_start", "attach"];

/// A hook list that could not be run is an error at load time, at the key.
fn check_hooks(key: &str, v: &Node, p: &str, diags: &mut Diagnostics) {
    use crate::spec::hooks::{hooks, HookKind};
    let kind = match key {
        "post_start" => HookKind::PostStart,
        "pre_start" => HookKind::PreStart,
        _ => HookKind::PreStop,
    };
    let value = v.to_json();
    let e = match hooks(kind, |_| Some(&value)) {
        Ok(list) => {
            if list.iter().any(|h| h.per_replica) {
                let msg = "`per_replica: true` is not supported (nor by docker compose): the service will not start";
                diags.warning(Some(&v.pos), p, msg);
            }
            return;
        }
        Err(e) => e,
    };
    // `pre_stop[0]: cannot split …` → at `services.a.pre_stop[0]`.
    let (at, msg) = match e.split_once(": ") {
        Some((at, msg)) if at.starts_with(key) => (format!("{}{}", p, &at[key.len()..]), msg.to_string()),
        _ => (p.to_string(), e.clone()),
    };
    diags.error(Some(&v.pos), &at, msg);
}

/// Scalar and list keys. Returns false when `key` is not one of them.
fn simple(s: &mut Service, key: &str, v: &Node, p: &str, d: &mut Diagnostics) -> bool {
    match key {
        "image" => s.image = string(v, p, d),
        "container_name" => s.container_name = string(v, p, d),
        "user" => s.user = string(v, p, d),
        "working_dir" => s.working_dir = string(v, p, d),
        "hostname" => s.hostname = string(v, p, d),
        "domainname" => s.domainname = string(v, p, d),
        "stop_signal" => s.stop_signal = string(v, p, d),
        "stop_grace_period" => s.stop_grace_period = duration(v, p, d),
        "init" => s.init = boolean(v, p, d),
        "privileged" => s.privileged = boolean(v, p, d).unwrap_or(false),
        "read_only" => s.read_only = boolean(v, p, d).unwrap_or(false),
        "tty" => s.tty = boolean(v, p, d).unwrap_or(false),
        "stdin_open" => s.stdin_open = boolean(v, p, d).unwrap_or(false),
        "scale" => s.scale = int(v, p, d),
        "mem_limit" => s.mem_limit = bytes(v, p, d),
        "mem_reservation" => s.mem_reservation = bytes(v, p, d),
        "memswap_limit" => s.memswap_limit = resources::memswap(v, p, d),
        "shm_size" => s.shm_size = bytes(v, p, d),
        "cpus" => s.cpus = float(v, p, d),
        "cpu_shares" => s.cpu_shares = int(v, p, d),
        "cpu_quota" => s.cpu_quota = int(v, p, d),
        "cpu_period" => s.cpu_period = int(v, p, d),
        "cpuset" => s.cpuset = string(v, p, d),
        "pids_limit" => s.pids_limit = int(v, p, d),
        "oom_score_adj" => s.oom_score_adj = int(v, p, d),
        "ipc" => s.ipc = string(v, p, d),
        "pid" => s.pid = string(v, p, d),
        "uts" => s.uts = string(v, p, d),
        "platform" => s.platform = string(v, p, d),
        "mac_address" => s.mac_address = string(v, p, d),
        "command" => s.command = (!v.is_null()).then(|| strings(v, p, d)),
        "entrypoint" => s.entrypoint = (!v.is_null()).then(|| strings(v, p, d)),
        "expose" => s.expose = strings(v, p, d),
        "tmpfs" => s.tmpfs = strings(v, p, d),
        "profiles" => s.profiles = strings(v, p, d),
        "cap_add" => s.cap_add = strings(v, p, d),
        "cap_drop" => s.cap_drop = strings(v, p, d),
        "security_opt" => s.security_opt = strings(v, p, d),
        "dns" => s.dns = strings(v, p, d),
        "dns_search" => s.dns_search = strings(v, p, d),
        "dns_opt" => s.dns_opt = strings(v, p, d),
        "links" => s.links = strings(v, p, d),
        "external_links" => s.external_links = strings(v, p, d),
        "volumes_from" => s.volumes_from = strings(v, p, d),
        "group_add" => s.group_add = strings(v, p, d),
        "labels" => s.labels = string_map(v, p, d),
        "sysctls" => s.sysctls = string_map(v, p, d),
        "restart" => s.restart = restart(v, p, d),
        "network_mode" => s.network_mode = parse_with(v, p, d, NetworkMode::try_from),
        "pull_policy" => s.pull_policy = parse_with(v, p, d, pull_policy),
        _ => return false,
    }
    true
}

/// Keys with structure of their own. `environment`/`env_file` are combined afterwards.
fn structured(s: &mut Service, key: &str, v: &Node, p: &str, ctx: &ConvertContext, d: &mut Diagnostics) -> bool {
    match key {
        "environment" => {}
        "env_file" => s.env_file = env::env_files(v, p, ctx, d),
        "build" => s.build = fields::build(v, p, ctx, d),
        "ports" => s.ports = fields::ports(v, p, d),
        "volumes" => s.volumes = fields::volumes(v, p, ctx, d),
        "networks" => s.networks = refs::networks(v, p, d),
        "depends_on" => s.depends_on = refs::depends_on(v, p, d),
        "healthcheck" => s.healthcheck = refs::healthcheck(v, p, d),
        "extra_hosts" => s.extra_hosts = refs::extra_hosts(v, p, d),
        "devices" => {
            s.devices = refs::devices(v, p, d);
            // Modeled (config, convert) but not yet mapped into containers: say so.
            if !s.devices.is_empty() {
                d.warning(
                    Some(&v.pos),
                    p,
                    "`devices` is accepted but not honoured by berth yet (no host device is mapped)",
                );
            }
        }
        "secrets" => s.secrets = refs::file_refs(v, p, d),
        "configs" => s.configs = refs::file_refs(v, p, d),
        "logging" => s.logging = refs::logging(v, p, d),
        "develop" => s.develop = fields::develop(v, p, ctx, d),
        "ulimits" => s.ulimits = resources::ulimits(v, p, d),
        "blkio_config" => s.blkio_config = resources::blkio(v, p, d),
        "deploy" => s.deploy = resources::deploy(v, p, d),
        _ => return false,
    }
    true
}

/// What compose-go's Normalize adds to keys berth keeps as written: a `pre_start` hook without
/// an image runs the service's image.
fn normalize_other(s: &mut Service) {
    let (Some(image), Some(serde_json::Value::Array(hooks))) = (&s.image, s.other.get_mut("pre_start")) else { return };
    for hook in hooks.iter_mut().filter_map(serde_json::Value::as_object_mut) {
        hook.entry("image").or_insert_with(|| serde_json::Value::String(image.clone()));
    }
}

/// Parse a string-valued enum, reporting its error at the node.
fn parse_with<T>(v: &Node, p: &str, d: &mut Diagnostics, f: impl Fn(String) -> Result<T, String>) -> Option<T> {
    let text = string(v, p, d)?;
    match f(text) {
        Ok(t) => Some(t),
        Err(e) => {
            d.error(Some(&v.pos), p, e);
            None
        }
    }
}

/// `restart`: the Compose schema takes any string (docker then refuses an unknown one when it
/// creates the container); berth says so and does not restart.
fn restart(v: &Node, p: &str, d: &mut Diagnostics) -> RestartPolicy {
    let Some(text) = string(v, p, d) else { return RestartPolicy::No };
    RestartPolicy::try_from(text).unwrap_or_else(|e| {
        d.warning(Some(&v.pos), p, format!("{e}; the service is not restarted"));
        RestartPolicy::No
    })
}

fn pull_policy(text: String) -> Result<PullPolicy, String> {
    PullPolicy::try_from(text)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{load, load_ok};
    use super::*;

    #[test]
    fn scalars_and_lists() {
        let st = load_ok(
            "services:\n  a:\n    image: nginx\n    init: true\n    stop_grace_period: 1m30s\n    mem_limit: 512m\n    cpus: '0.5'\n    \
             oom_score_adj: -500\n    memswap_limit: -1\n    cap_add: [NET_ADMIN]\n    restart: on-failure:3\n    pull_policy: if_not_present\n",
        );
        let a = &st.services["a"];
        assert_eq!(a.image.as_deref(), Some("nginx"));
        assert_eq!(a.init, Some(true));
        assert_eq!(a.stop_grace_period.map(|d| d.0.as_secs()), Some(90));
        assert_eq!(a.mem_limit.map(|b| b.0), Some(512 << 20));
        assert_eq!(a.cpus, Some(0.5));
        assert_eq!(a.oom_score_adj, Some(-500));
        assert_eq!(a.memswap_limit, Some(-1));
        assert_eq!(a.cap_add, ["NET_ADMIN"]);
        assert_eq!(a.restart, RestartPolicy::OnFailure(Some(3)));
        assert_eq!(a.pull_policy, Some(PullPolicy::Missing));
    }

    #[test]
    fn restart_policies() {
        for (text, want) in [
            ("'no'", RestartPolicy::No),
            ("always", RestartPolicy::Always),
            ("on-failure", RestartPolicy::OnFailure(None)),
            ("unless-stopped", RestartPolicy::UnlessStopped),
        ] {
            let st = load_ok(&format!("services:\n  a:\n    restart: {text}\n"));
            assert_eq!(st.services["a"].restart, want, "{text}");
        }
        let (_, d) = load("services:\n  a:\n    restart: sometimes\n");
        assert_eq!(
            d.to_string(),
            "c.yaml:3:14: warning: services.a.restart: invalid restart policy `sometimes`; expected no, always, on-failure[:N] or unless-stopped; the service is not restarted"
        );
    }

    #[test]
    fn network_modes() {
        let st = load_ok("services:\n  a: {network_mode: 'service:b'}\n  b: {network_mode: none}\n");
        assert_eq!(st.services["a"].network_mode, Some(NetworkMode::Service("b".into())));
        assert_eq!(st.services["b"].network_mode, Some(NetworkMode::None));
        let (_, d) = load("services:\n  a: {network_mode: 'weird'}\n");
        assert!(d.to_string().starts_with("c.yaml:2:21: services.a.network_mode: unknown network_mode `weird`"), "{d}");
    }

    #[test]
    fn unmodelled_keys_warn_once_and_are_kept() {
        let (st, d) =
            load("services:\n  web:\n    image: x\n    isolation: hyperv\n    x-meta: 1\n    runtime: runc\n");
        assert_eq!(
            d.to_string(),
            "c.yaml:4:5: warning: services.web: `isolation` is accepted but not honoured by berth yet\n\
             c.yaml:6:5: warning: services.web: `runtime` is accepted but not honoured by berth yet"
        );
        let web = &st.services["web"];
        assert_eq!(web.other["isolation"], "hyperv");
        assert_eq!(web.other["x-meta"], 1);
    }

    #[test]
    fn modelled_keys_do_not_warn() {
        let src = "services:\n  a:\n    image: x\n    command: echo hi\n    environment: [A=1]\n    env_file: {path: nope.env, required: false}\n    \
                   ports: ['80']\n    volumes: [/x]\n    healthcheck: {test: 'true'}\n    deploy: {replicas: 2}\n    logging: {driver: json-file}\n    \
                   extra_hosts: ['h:1.2.3.4']\n    ulimits: {nofile: 10}\n    working_dir: /w\n    tty: true\n    profiles: [dev]\n";
        let st = load_ok(src);
        assert_eq!(st.services["a"].command.as_deref(), Some(&["echo".to_string(), "hi".to_string()][..]));
        assert_eq!(st.services["a"].replicas(), 2);
    }

    #[test]
    fn lifecycle_hooks_are_honoured_and_checked() {
        let st = load_ok(
            "services:\n  a:\n    image: x\n    post_start: [{command: echo hi}]\n    pre_stop: [{command: [x]}]\n",
        );
        assert_eq!(st.services["a"].other["post_start"][0]["command"], "echo hi");
        let (_, d) = load("services:\n  a:\n    image: x\n    pre_stop: [{command: \"echo 'x\"}]\n");
        assert!(d.to_string().starts_with("c.yaml:4:15: services.a.pre_stop[0]: cannot split"), "{d}");
    }
}
