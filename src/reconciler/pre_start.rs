//! `pre_start` hooks, as docker compose runs them (pkg/compose/pre_start.go): before a
//! service's containers start, when none of them is running (a first `up`, a recreate after a
//! change of the service, `start` after `stop`; not a scale-up), each hook runs in order as a
//! container of its own, and must exit 0 before the next one (and then the service) starts.
//!
//! A hook's container runs the hook's `image` (the service's image when it names none), its
//! `command` after the image's entrypoint (else the image's command), its `user`,
//! `working_dir` and `privileged`, with the service's environment and the hook's over it. It
//! mounts what the service's lowest-numbered container mounts (Docker's `VolumesFrom`: its
//! volumes and bind mounts, not its tmpfs mounts nor its network files) and joins the
//! service's networks, answering to its own name only.
//!
//! A hook that exits non-zero fails the start: the service's containers stay created, not
//! started, and the error names the service, the hook, its exit status and the last lines it
//! wrote. Every hook container is removed once it has exited (Compose keeps a failed one for
//! `docker logs`; berth's error carries its output instead). The hooks run once per service
//! per command: the other replicas of the service wait for them and share their outcome.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;

use super::container::{self, Ctx};
use super::error::{ReconcileError, Result};
use super::hooks::collect;
use super::observe::project_containers;
use super::state::ContainerRecord;
use super::translate;
use crate::image::ResolvedImage;
use crate::planner::actual::labels;
use crate::planner::ContainerRef;
use crate::runtime::{ContainerConfig, Mount, NetNs, SeccompMode, Status};
use crate::spec::hooks::{hooks, Hook, HookKind};
use crate::spec::model::NetworkMode;

/// The label marking a hook's container (as Compose's `com.docker.compose.hook`).
pub const HOOK_LABEL: &str = "berth.hook";

/// Per service, in one command: the hooks' outcome once they ran (None: they succeeded or were
/// not due). Held while they run, so the other replicas wait.
pub(super) type Gate = Mutex<BTreeMap<String, Option<String>>>;

/// The files the network layer mounts into every container: a hook container gets its own.
const NETWORK_FILES: [&str; 3] = ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"];

/// Run the `pre_start` hooks of `c`'s service if they are due (see the module docs).
pub fn before_start(ctx: &Ctx<'_>, c: &ContainerRef) -> Result<()> {
    let Some(record) = ctx.pd().record(&c.name)? else { return Ok(()) };
    let Some(config) = &record.config else { return Ok(()) };
    let list = hooks(HookKind::PreStart, |k| config.get(k)).map_err(|e| ReconcileError::service(&c.service, e))?;
    if list.is_empty() {
        return Ok(());
    }
    let mut done = ctx.pre_start_gate();
    if let Some(outcome) = done.get(&c.service) {
        return match outcome {
            None => Ok(()),
            Some(e) => Err(ReconcileError::service(&c.service, format!("not started: {e}"))),
        };
    }
    let mut replicas: Vec<_> = project_containers(ctx.roots, ctx.project)?
        .into_iter()
        .filter(|p| p.service == c.service && !p.oneoff)
        .collect();
    if replicas.iter().any(|r| r.is_running()) {
        done.insert(c.service.clone(), None);
        return Ok(());
    }
    replicas.sort_by_key(|r| r.number);
    let target = replicas.first().map_or_else(|| c.name.clone(), |r| r.id.clone());
    let run = |(i, hook): (usize, &Hook)| run_hook(ctx, &record, config, &target, i, hook);
    let result = list.iter().enumerate().try_for_each(run);
    done.insert(c.service.clone(), result.as_ref().err().map(|_| "its pre_start hooks failed".to_string()));
    result
}

/// One hook's container: made, run to its end, removed; an error unless it exited 0.
fn run_hook(
    ctx: &Ctx<'_>,
    record: &ContainerRecord,
    config: &Value,
    target: &str,
    index: usize,
    hook: &Hook,
) -> Result<()> {
    let service = record.service.as_str();
    let fail = |reason: String| ReconcileError::Hook {
        service: service.to_string(),
        container: target.to_string(),
        kind: HookKind::PreStart.key(),
        index,
        command: hook.command.join(" "),
        reason,
    };
    if hook.per_replica {
        return Err(fail("has `per_replica: true`, which is not supported (nor by docker compose)".into()));
    }
    let Some(reference) = hook.image.clone().or_else(|| record.image_id.clone()) else {
        return Err(fail("names no image, and the service's image is not known".into()));
    };
    let image = ctx.resolve_image(service, &reference)?;
    let suffix = crate::common::ids::hex_id(3).map_err(|e| fail(format!("getrandom: {e}")))?;
    let name = format!("{}-{service}-pre_start-{suffix}", ctx.project);
    let shared = ctx.layers.config(target).map_err(|e| ReconcileError::in_container(target, e))?;
    let mut cfg = hook_config(ctx.project, service, &name, hook, &image, config);
    cfg.mounts = volumes_from(&shared);
    let ran = run_container(ctx, service, &mut cfg);
    let (out, err) = output(ctx, &cfg.id, &format!("{service} pre_start[{index}] ->"));
    let removed = container::remove(ctx, &name);
    let code = ran.map_err(|e| fail(format!("could not run: {e}")))?;
    removed?;
    if code == 0 {
        return Ok(());
    }
    let tail = if err.is_empty() { out } else { err };
    let mut reason = format!("exited with status {code}");
    if !tail.is_empty() {
        reason = format!("{reason}: {tail}");
    }
    Err(fail(reason))
}

/// Join the service's networks (with the stack at hand), create, start and wait for the
/// hook's container; its exit code.
fn run_container(ctx: &Ctx<'_>, service: &str, cfg: &mut ContainerConfig) -> Result<i32> {
    let svc = ctx.stack.and_then(|s| s.services.get(service).map(|svc| (s, svc)));
    cfg.namespaces.net = match svc.map(|(_, svc)| &svc.network_mode) {
        Some(Some(NetworkMode::Host)) => NetNs::Host,
        Some(Some(NetworkMode::Bridge) | None) => {
            let (stack, svc) = svc.ok_or_else(|| ReconcileError::Other("internal: no service".into()))?;
            // Discovered under its own name only, as a one-off without --use-aliases.
            let mut svc = svc.clone();
            svc.networks.values_mut().for_each(|n| n.aliases.clear());
            let setup = ctx.layers.prepare_network(stack, &cfg.name, &svc, cfg)?;
            cfg.mounts.extend(setup.mounts);
            setup.net
        }
        // `none`, another container's namespace (not running yet), or no stack file: loopback.
        _ => NetNs::New,
    };
    ctx.layers.create(cfg).map_err(|e| ReconcileError::in_container(&cfg.name, e))?;
    ctx.firewalls_ready()?;
    ctx.layers.start(&cfg.id).map_err(|e| ReconcileError::in_container(&cfg.name, e))?;
    let st = ctx.rt.wait(&cfg.id).map_err(|e| ReconcileError::in_container(&cfg.name, e))?;
    match st.status {
        Status::Exited { code, .. } => Ok(code),
        _ => Err(ReconcileError::Other(format!("container `{}` did not exit", cfg.name))),
    }
}

/// What the hook wrote, stdout and stderr tails (echoed as `web pre_start[0] -> | line` in
/// attached `up`, as Compose's hook output).
fn output(ctx: &Ctx<'_>, id: &str, label: &str) -> (String, String) {
    let (mut out, mut err) = (String::new(), String::new());
    let mut follower = crate::runtime::attach::LogFollower::open(&ctx.rt.log_path(id));
    follower.poll_records(&mut |rec| {
        let into = if rec.stream == "stderr" { &mut err } else { &mut out };
        into.push_str(&rec.log);
        if !rec.log.ends_with('\n') {
            into.push('\n');
        }
    });
    (collect(out.as_bytes(), label), collect(err.as_bytes(), label))
}

/// The hook's container config (mounts and network are added by the caller).
fn hook_config(
    project: &str,
    service: &str,
    name: &str,
    hook: &Hook,
    image: &ResolvedImage,
    config: &Value,
) -> ContainerConfig {
    let ic = &image.config;
    let mut cfg = ContainerConfig {
        id: name.to_string(),
        name: name.to_string(),
        layers: image.layers.clone(),
        ..Default::default()
    };
    for (k, v) in [
        (labels::PROJECT, project),
        (labels::SERVICE, service),
        (labels::ONEOFF, "true"),
        (HOOK_LABEL, "pre_start"),
        (labels::IMAGE, image.id.as_str()),
    ] {
        cfg.labels.insert(k.to_string(), v.to_string());
    }
    let command = (!hook.command.is_empty()).then(|| hook.command.clone());
    cfg.process.args = translate::process_args(None, command, ic);
    let env = service_environment(config);
    let pairs = env.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let hook_pairs = hook.environment.iter().map(|e| e.split_once('=').unwrap_or((e.as_str(), "")));
    cfg.process.env = translate::overlay_env(&ic.env, pairs.chain(hook_pairs));
    cfg.process.cwd = hook.working_dir.clone().or_else(|| ic.working_dir.clone());
    cfg.process.user = hook.user.clone().or_else(|| ic.user.clone()).filter(|u| !u.is_empty());
    cfg.hostname = Some(service.chars().take(63).collect());
    cfg.stop_signal = ic.stop_signal.clone();
    cfg.caps.privileged = hook.privileged;
    if hook.privileged {
        cfg.seccomp = SeccompMode::Unconfined;
    }
    cfg
}

/// The service's `environment:` from its normalized config (a variable without a value is
/// left out, as the service's own container leaves it out).
fn service_environment(config: &Value) -> Vec<(String, String)> {
    let Some(Value::Object(m)) = config.get("environment") else { return Vec::new() };
    m.iter()
        .filter_map(|(k, v)| match v {
            Value::Null => None,
            Value::String(s) => Some((k.clone(), s.clone())),
            other => Some((k.clone(), other.to_string())),
        })
        .collect()
}

/// Docker's `VolumesFrom`: the volume and bind mounts of `shared`, not its tmpfs mounts nor
/// the network files it got from its own sandbox.
fn volumes_from(shared: &ContainerConfig) -> Vec<Mount> {
    shared
        .mounts
        .iter()
        .filter(|m| matches!(m, Mount::Bind { target, .. } if !NETWORK_FILES.contains(&target.as_str())))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hook_container_shares_volumes_and_environment_not_network_files() {
        let bind = |src: &str, dst: &str| Mount::Bind {
            source: src.into(),
            target: dst.into(),
            read_only: false,
            propagation: Default::default(),
        };
        let shared = ContainerConfig {
            mounts: vec![
                bind("/v/data", "/data"),
                bind("/sandbox/hosts", "/etc/hosts"),
                Mount::Tmpfs { target: "/run".into(), size: None, mode: None },
                bind("/secrets/s", "/run/secrets/s"),
            ],
            ..Default::default()
        };
        let kept: Vec<String> = volumes_from(&shared)
            .iter()
            .map(|m| match m {
                Mount::Bind { target, .. } | Mount::Tmpfs { target, .. } => target.clone(),
            })
            .collect();
        assert_eq!(kept, ["/data", "/run/secrets/s"]);
        let config = serde_json::json!({"environment": {"A": "svc", "B": "svc", "U": null, "N": 1}});
        let image = ResolvedImage {
            id: "sha256:1".into(),
            references: vec![],
            layers: vec![],
            config: crate::image::ImageConfig {
                env: vec!["PATH=/bin".into()],
                cmd: Some(vec!["sh".into()]),
                ..Default::default()
            },
            manifest_digest: String::new(),
        };
        let hook = Hook {
            command: vec!["init".into()],
            environment: vec!["B=hook".into()],
            privileged: true,
            ..Default::default()
        };
        let cfg = hook_config("demo", "web", "demo-web-pre_start-abc123", &hook, &image, &config);
        assert_eq!(cfg.process.args, ["init"]);
        assert_eq!(cfg.process.env, ["PATH=/bin", "A=svc", "N=1", "B=hook"]);
        assert!(cfg.caps.privileged && cfg.seccomp == SeccompMode::Unconfined);
        assert_eq!(cfg.labels.get(HOOK_LABEL).map(String::as_str), Some("pre_start"));
        let no_command = hook_config("demo", "web", "x", &Hook::default(), &image, &config);
        assert_eq!(no_command.process.args, ["sh"], "the image's command");
    }
}
