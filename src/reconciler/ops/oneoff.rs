//! `run SERVICE`: a one-off container with the service's configuration (through the same
//! `translate::container_config` as `up`), the command line's overrides over it, named
//! `<project>-<service>-run-<6 hex>` and labelled `berth.oneoff` so that the planner and the
//! supervisor leave it alone. It mounts the service's volumes and joins its networks as a
//! replica would; ports are published only with `--service-ports` ([`publish_ports`]), and
//! it answers to the service's name and network aliases only with `--use-aliases` (else to
//! its container name alone), as `docker compose run` does.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{OpsError, Result};
use crate::image::ResolvedImage;
use crate::paths::Roots;
use crate::planner::actual::labels;
use crate::planner::hash::network_name;
use crate::reconciler::translate::{self, Target};
use crate::reconciler::{layers, project_containers, secrets, PortRecord, ReconcileError};
use crate::runtime::{ContainerConfig, NetNs};
use crate::spec::model::{NetworkMode, Port, Service, ServiceVolume, Stack};
use crate::volumes::ImageMounts;

/// What the command line changes about the service.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Replaces the service's command when not empty.
    pub command: Vec<String>,
    /// Replaces the entrypoint (empty: clears it), and then the service's command unless one
    /// is given (as compose's applyRunOptions).
    pub entrypoint: Option<Vec<String>>,
    /// `KEY=VALUE` entries over the service's environment.
    pub env: Vec<String>,
    /// Labels over the service's.
    pub labels: Vec<(String, String)>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub tty: bool,
    pub stdin: bool,
    /// Capabilities added (`--cap-add`; also taken out of the service's `cap_drop`).
    pub cap_add: Vec<String>,
    /// Capabilities dropped (`--cap-drop`; also taken out of the service's `cap_add`).
    pub cap_drop: Vec<String>,
    /// Mounts added to the service's (`-v`); one at a target the service mounts replaces it.
    pub volumes: Vec<ServiceVolume>,
    /// `--publish`: these ports are published instead of the service's.
    pub publish: Vec<Port>,
    /// `--service-ports`: the service's ports are published.
    pub service_ports: bool,
}

/// `<project>-<service>-run-<6 random hex digits>`, joined with `stack`'s separator.
pub fn container_name(stack: &Stack, service: &str) -> Result<String> {
    let suffix = crate::common::ids::hex_id(3).map_err(|e| OpsError::container(service, format!("getrandom: {e}")))?;
    let s = stack.separator();
    Ok(format!("{}{s}{service}{s}run{s}{suffix}", stack.name))
}

/// Service `service` of `stack` with the overrides applied: what `config`, `prepare` and
/// `publish_ports` read (so every step sees one consistent service).
pub fn service(stack: &Stack, service: &str, o: &Overrides) -> Result<Service> {
    let svc = stack
        .services
        .get(service)
        .ok_or_else(|| OpsError::container(service, format!("no service `{service}` in the stack")))?;
    Ok(overridden(svc, o))
}

/// The service with the overrides applied.
fn overridden(svc: &Service, o: &Overrides) -> Service {
    let mut s = svc.clone();
    if let Some(e) = &o.entrypoint {
        s.entrypoint = Some(e.clone());
        if o.command.is_empty() {
            s.command = Some(Vec::new());
        }
    }
    if !o.command.is_empty() {
        s.command = Some(o.command.clone());
    }
    for kv in &o.env {
        let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
        s.environment.insert(k.to_string(), Some(v.to_string()));
    }
    s.labels.extend(o.labels.iter().cloned());
    s.user = o.user.clone().or(s.user);
    s.working_dir = o.workdir.clone().or(s.working_dir);
    s.tty = o.tty;
    s.stdin_open = o.stdin;
    // As compose's applyRunOptions: a capability added on the command line is no longer
    // dropped, and one dropped is no longer added.
    s.cap_drop.retain(|c| !o.cap_add.contains(c));
    s.cap_add.extend(o.cap_add.iter().cloned());
    s.cap_add.retain(|c| !o.cap_drop.contains(c));
    s.cap_drop.extend(o.cap_drop.iter().cloned());
    for v in &o.volumes {
        s.volumes.retain(|m| m.target != v.target);
        s.volumes.push(v.clone());
    }
    // A one-off is never restarted, and publishes the service's ports only with
    // --service-ports, or the ones given with --publish.
    s.restart = Default::default();
    if !o.publish.is_empty() {
        s.ports = o.publish.clone();
    } else if !o.service_ports {
        s.ports.clear();
    }
    s.container_name = None;
    s
}

/// The one-off's container config, without the parts that create things (mounts of named
/// volumes, the network sandbox): [`prepare`] adds those.
/// `svc` is the service as [`service`] returns it.
pub fn config(
    stack: &Stack,
    service: &str,
    svc: &Service,
    image: &ResolvedImage,
    name: &str,
) -> Result<ContainerConfig> {
    let target = Target { stack, service_name: service, service: svc, number: 1, name, config_hash: "" };
    let mut cfg = translate::container_config(&target, image)?;
    cfg.labels.insert(labels::ONEOFF.into(), "true".into());
    cfg.process.stdin = svc.stdin_open;
    Ok(cfg)
}

/// Volumes and network of the one-off, through the same layer calls as `up` (so it mounts
/// the service's named volumes and joins its networks, resolving the other services by
/// name). Undo with `container::remove`, which tears all of it down. `svc` is the service as
/// [`service`] returns it.
pub fn prepare(
    roots: &Roots,
    stack: &Stack,
    service: &str,
    svc: &Service,
    image: &ResolvedImage,
    cfg: &mut ContainerConfig,
    use_aliases: bool,
) -> Result<()> {
    let mut svc = svc.clone();
    if !use_aliases {
        for net in svc.networks.values_mut() {
            net.aliases.clear();
        }
    }
    let svc = &svc;
    // The image's VOLUMEs are left out: a one-off's anonymous volumes would outlive it (no
    // `run --rm` cleanup for them yet), and its writes go to its own writable layer instead.
    let image_mounts = ImageMounts { layers: &image.layers, ..ImageMounts::default() };
    cfg.mounts = layers::mounts(roots, stack, service, svc, &cfg.id, &image_mounts)?;
    let user_ns = cfg.namespaces.user.as_ref();
    let files = secrets::materialize(roots, stack, service, svc, &cfg.id, user_ns).map_err(ReconcileError::from)?;
    cfg.mounts.extend(files);
    cfg.namespaces.net = match &svc.network_mode {
        Some(NetworkMode::Host) => NetNs::Host,
        Some(NetworkMode::None) => NetNs::New,
        Some(NetworkMode::Service(other)) => NetNs::Path(netns_of_service(roots, &stack.name, service, other)?),
        Some(NetworkMode::Container(other)) => {
            return Err(OpsError::container(
                &cfg.name,
                format!("network_mode container:{other} is not supported for one-off containers yet"),
            ))
        }
        Some(NetworkMode::Bridge) | None => {
            // As `docker compose run`: the service's networks are made if `up` has not yet.
            for key in svc.networks.keys() {
                layers::ensure_network(roots, stack, key, &network_name(stack, key))?;
            }
            // Discovery: as Compose, a one-off answers to its container name only, and to the
            // service name and the service's aliases with `--use-aliases` (else a request to
            // `web` could reach a `run web migrate`). The network layer registers a container
            // under the service name it is given, so it is given the container's own name.
            let discovered_as = if use_aliases { service } else { cfg.name.as_str() };
            let setup = layers::prepare_network(roots, stack, discovered_as, svc, cfg)?;
            cfg.mounts.extend(setup.mounts);
            setup.net
        }
    };
    Ok(())
}

/// `run --service-ports` / `--publish`: publish the ports of `svc` (as [`service`] returns
/// it) for the one-off `name` (after [`prepare`], before it starts), as a replica's are;
/// what was published.
pub fn publish_ports(
    roots: &Roots,
    stack: &Stack,
    service: &str,
    svc: &Service,
    name: &str,
) -> Result<Vec<PortRecord>> {
    Ok(layers::after_start(roots, stack, service, svc, name)?)
}

/// Withdraw what [`publish_ports`] published (the one-off exited and is kept).
pub fn release_ports(roots: &Roots, name: &str) -> Result<()> {
    Ok(layers::release_ports(roots, name)?)
}

/// `/proc/PID/ns/net` of the first running container of service `other` (network_mode
/// service:OTHER).
fn netns_of_service(roots: &Roots, project: &str, service: &str, other: &str) -> Result<PathBuf> {
    let found = project_containers(roots, project)?
        .into_iter()
        .filter(|c| c.service == other && !c.oneoff)
        .find_map(|c| if c.is_running() { c.state.pid } else { None });
    found.map(|pid| PathBuf::from(format!("/proc/{pid}/ns/net"))).ok_or_else(|| {
        OpsError::container(service, format!("network_mode service:{other}: no running container of `{other}`"))
    })
}

/// The services `service` depends on that have no running container.
pub fn missing_dependencies(roots: &Roots, stack: &Stack, service: &str) -> Result<Vec<String>> {
    let Some(svc) = stack.services.get(service) else { return Ok(Vec::new()) };
    let running: BTreeSet<String> = project_containers(roots, &stack.name)?
        .into_iter()
        .filter(|c| c.is_running() && !c.oneoff)
        .map(|c| c.service)
        .collect();
    Ok(svc.depends_on.keys().filter(|d| !running.contains(*d)).cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_command_env_and_drop_ports() {
        let mut svc = Service { command: Some(vec!["serve".into()]), ..Default::default() };
        svc.environment.insert("A".into(), Some("1".into()));
        svc.ports.push(serde_json::from_str(r#"{"target": 80}"#).unwrap());
        let o = Overrides { command: vec!["sh".into()], env: vec!["A=2".into(), "B".into()], ..Default::default() };
        let s = overridden(&svc, &o);
        assert_eq!(s.command, Some(vec!["sh".to_string()]));
        assert_eq!(s.environment.get("A"), Some(&Some("2".to_string())));
        assert_eq!(s.environment.get("B"), Some(&Some(String::new())));
        assert!(s.ports.is_empty());
        let kept = overridden(&svc, &Overrides { service_ports: true, ..Default::default() });
        assert_eq!(kept.ports.len(), 1);
        let mut stack = Stack { name: "demo".into(), ..Default::default() };
        let name = container_name(&stack, "web").unwrap();
        assert!(name.starts_with("demo-web-run-") && name.len() == "demo-web-run-".len() + 6, "{name}");
        stack.compatibility = true;
        assert!(container_name(&stack, "web").unwrap().starts_with("demo_web_run_"));
    }

    #[test]
    fn capabilities_and_volumes_are_added_to_the_service_s() {
        let svc = Service {
            cap_add: vec!["NET_ADMIN".into(), "SYS_TIME".into()],
            cap_drop: vec!["CHOWN".into()],
            volumes: vec![serde_json::from_str(r#"{"type": "volume", "source": "data", "target": "/data"}"#).unwrap()],
            ..Default::default()
        };
        let extra: ServiceVolume =
            serde_json::from_str(r#"{"type": "bind", "source": "/host", "target": "/data"}"#).unwrap();
        let o = Overrides {
            cap_add: vec!["CHOWN".into()],
            cap_drop: vec!["SYS_TIME".into(), "MKNOD".into()],
            volumes: vec![extra.clone()],
            publish: vec![serde_json::from_str(r#"{"target": 81}"#).unwrap()],
            ..Default::default()
        };
        let s = overridden(&svc, &o);
        assert_eq!(s.cap_add, ["NET_ADMIN", "CHOWN"]);
        assert_eq!(s.cap_drop, ["SYS_TIME", "MKNOD"]);
        assert_eq!(s.volumes, [extra], "a -v at the service's target replaces its mount");
        assert_eq!(s.ports.iter().map(|p| p.target).collect::<Vec<_>>(), [81]);
        let with_command = Service { command: Some(vec!["serve".into()]), ..Default::default() };
        let e = Overrides { entrypoint: Some(vec!["sh".into(), "-c".into()]), ..Default::default() };
        let s = overridden(&with_command, &e);
        assert_eq!((s.entrypoint, s.command), (Some(vec!["sh".into(), "-c".into()]), Some(vec![])));
    }
}
