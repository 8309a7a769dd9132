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
use crate::spec::model::{NetworkMode, Service, Stack};
use crate::volumes::ImageMounts;

/// What the command line changes about the service.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Replaces the service's command when not empty.
    pub command: Vec<String>,
    /// Replaces the entrypoint (an empty string clears it).
    pub entrypoint: Option<String>,
    /// `KEY=VALUE` entries over the service's environment.
    pub env: Vec<String>,
    /// Labels over the service's.
    pub labels: Vec<(String, String)>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub tty: bool,
    pub stdin: bool,
}

/// `<project>-<service>-run-<6 random hex digits>`.
pub fn container_name(project: &str, service: &str) -> Result<String> {
    let suffix = crate::common::ids::hex_id(3).map_err(|e| OpsError::container(service, format!("getrandom: {e}")))?;
    Ok(format!("{project}-{service}-run-{suffix}"))
}

/// The service with the overrides applied (so translate sees one consistent service).
fn overridden(svc: &Service, o: &Overrides) -> Service {
    let mut s = svc.clone();
    if let Some(e) = &o.entrypoint {
        s.entrypoint = Some(if e.is_empty() { Vec::new() } else { vec![e.clone()] });
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
    // A one-off is never restarted and never publishes the service's ports.
    s.restart = Default::default();
    s.ports.clear();
    s.container_name = None;
    s
}

/// The one-off's container config, without the parts that create things (mounts of named
/// volumes, the network sandbox): [`prepare`] adds those.
pub fn config(
    stack: &Stack,
    service: &str,
    image: &ResolvedImage,
    name: &str,
    o: &Overrides,
) -> Result<ContainerConfig> {
    let svc = stack
        .services
        .get(service)
        .ok_or_else(|| OpsError::container(name, format!("no service `{service}` in the stack")))?;
    let svc = overridden(svc, o);
    let target = Target { stack, service_name: service, service: &svc, number: 1, name, config_hash: "" };
    let mut cfg = translate::container_config(&target, image)?;
    cfg.labels.insert(labels::ONEOFF.into(), "true".into());
    cfg.process.stdin = o.stdin;
    Ok(cfg)
}

/// Volumes and network of the one-off, through the same layer calls as `up` (so it mounts
/// the service's named volumes and joins its networks, resolving the other services by
/// name). Undo with `container::remove`, which tears all of it down.
pub fn prepare(
    roots: &Roots,
    stack: &Stack,
    service: &str,
    image: &ResolvedImage,
    cfg: &mut ContainerConfig,
    use_aliases: bool,
) -> Result<()> {
    let svc = stack
        .services
        .get(service)
        .ok_or_else(|| OpsError::container(&cfg.name, format!("no service `{service}` in the stack")))?;
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

/// `run --service-ports`: publish the service's ports for the one-off `name` (after
/// [`prepare`], before it starts), as a replica's are; what was published.
pub fn publish_ports(roots: &Roots, stack: &Stack, service: &str, name: &str) -> Result<Vec<PortRecord>> {
    let svc = stack
        .services
        .get(service)
        .ok_or_else(|| OpsError::container(name, format!("no service `{service}` in the stack")))?;
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
        let name = container_name("demo", "web").unwrap();
        assert!(name.starts_with("demo-web-run-") && name.len() == "demo-web-run-".len() + 6, "{name}");
    }
}
