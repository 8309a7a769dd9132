//! Service → `runtime::ContainerConfig`: the service's settings over the image's defaults, as
//! Docker combines them. Pure (no I/O): networking and volume mounts that need the lower layers
//! are added by the executor (see `layers`).

use std::collections::BTreeMap;
use std::time::Duration;

use super::error::{ReconcileError, Result};
use super::state::HealthSpec;
use crate::image::ResolvedImage;
use crate::planner::actual::labels;
use crate::runtime::blkio::{self, BlkioDevices, DeviceValue};
use crate::runtime::{ContainerConfig, NetNs, SeccompMode, Ulimit};
use crate::spec::model::{HealthTest, NetworkMode, Service, Stack};

/// Which container of which service is being made.
pub struct Target<'a> {
    pub stack: &'a Stack,
    pub service_name: &'a str,
    pub service: &'a Service,
    pub number: u32,
    pub name: &'a str,
    pub config_hash: &'a str,
}

/// The container config of one replica, without network attachments or volume mounts.
pub fn container_config(t: &Target<'_>, image: &ResolvedImage) -> Result<ContainerConfig> {
    let svc = t.service;
    let ic = &image.config;
    let mut cfg = ContainerConfig {
        id: t.name.to_string(),
        name: t.name.to_string(),
        labels: container_labels(t, &image.id),
        layers: image.layers.clone(),
        ..Default::default()
    };
    cfg.process.args = command_line(svc, &image.config);
    if cfg.process.args.is_empty() {
        return Err(ReconcileError::service(
            t.service_name,
            "no command: set `command:` or use an image with an entrypoint or cmd",
        ));
    }
    cfg.process.env = environment(&ic.env, svc);
    cfg.process.cwd = svc.working_dir.clone().or_else(|| ic.working_dir.clone()).filter(|w| !w.is_empty());
    cfg.process.user = svc.user.clone().or_else(|| ic.user.clone()).filter(|u| !u.is_empty());
    cfg.process.group_add = svc.group_add.clone();
    cfg.process.tty = svc.tty;
    // `stdin_open`: the container's stdin stays open (its monitor holds it; `attach` writes to it).
    cfg.process.stdin = svc.stdin_open;
    cfg.process.oom_score_adj = svc.oom_score_adj;
    cfg.process.ulimits = ulimits(svc);
    // Docker's default hostname is the short container id; our ids are names, so a short hash
    // of the name stands in for it.
    cfg.hostname = Some(svc.hostname.clone().unwrap_or_else(|| crate::common::ids::default_hostname(t.name)));
    cfg.domainname = svc.domainname.clone();
    cfg.namespaces.net = match &svc.network_mode {
        Some(NetworkMode::Host) => NetNs::Host,
        _ => NetNs::New,
    };
    cfg.namespaces.pid_host = svc.pid.as_deref() == Some("host");
    cfg.namespaces.ipc_host = svc.ipc.as_deref() == Some("host");
    cfg.namespaces.uts_host = svc.uts.as_deref() == Some("host");
    cfg.rootfs.read_only = svc.read_only;
    cfg.shm_size = svc.shm_size.map(|b| b.0);
    cfg.sysctls = svc.sysctls.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    cfg.caps.add = svc.cap_add.clone();
    cfg.caps.drop = svc.cap_drop.clone();
    cfg.caps.privileged = svc.privileged;
    security_opts(svc, &t.stack.project_dir, &mut cfg);
    resources(svc, &mut cfg);
    cfg.resources.blkio_devices = blkio_devices(t.service_name, svc)?;
    cfg.init = svc.init.unwrap_or(false);
    cfg.stop_signal = svc.stop_signal.clone().or_else(|| ic.stop_signal.clone());
    cfg.stop_grace = svc.stop_grace_period.map(|d| d.0);
    if let Some(l) = &svc.logging {
        // json-file's options (the spec warned about values berth cannot honour).
        cfg.log_max_size = l.options.get("max-size").and_then(|s| crate::spec::units::parse_bytes(s).ok());
        cfg.log_max_files = l.options.get("max-file").and_then(|n| n.parse::<u32>().ok()).map(|n| n.clamp(1, 2));
    }
    Ok(cfg)
}

fn container_labels(t: &Target<'_>, image_id: &str) -> BTreeMap<String, String> {
    let mut l: BTreeMap<String, String> = t.service.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    l.insert(labels::PROJECT.into(), t.stack.name.clone());
    l.insert(labels::SERVICE.into(), t.service_name.to_string());
    l.insert(labels::NUMBER.into(), t.number.to_string());
    l.insert(labels::CONFIG_HASH.into(), t.config_hash.to_string());
    let deps: Vec<&str> = t.service.depends_on.keys().map(String::as_str).collect();
    l.insert(labels::DEPENDS_ON.into(), deps.join(","));
    l.insert(crate::planner::actual::labels::IMAGE.into(), image_id.to_string());
    l
}

/// Entrypoint + cmd as Docker combines them: a service `entrypoint` replaces the image's and
/// drops the image's cmd; a service `command` replaces the image's cmd.
pub fn command_line(svc: &Service, ic: &crate::image::ImageConfig) -> Vec<String> {
    process_args(svc.entrypoint.clone(), svc.command.clone(), ic)
}

/// Docker's rule for a container's command line (services and `berth run` alike): an
/// explicit entrypoint replaces the image's and drops its cmd; an explicit command replaces
/// the cmd.
pub fn process_args(
    entrypoint: Option<Vec<String>>,
    command: Option<Vec<String>>,
    ic: &crate::image::ImageConfig,
) -> Vec<String> {
    let (entrypoint, default_cmd) = match entrypoint {
        Some(e) => (e, Vec::new()),
        None => (ic.entrypoint.clone().unwrap_or_default(), ic.cmd.clone().unwrap_or_default()),
    };
    let cmd = command.unwrap_or(default_cmd);
    entrypoint.into_iter().chain(cmd).collect()
}

/// The image's env with the service's `environment` over it (a variable without a value, not
/// resolved by the loader, is left out as Compose does).
pub fn environment(image_env: &[String], svc: &Service) -> Vec<String> {
    overlay_env(image_env, svc.environment.iter().filter_map(|(k, v)| Some((k.as_str(), v.as_deref()?))))
}

/// `base` (`KEY=value` entries) with `overrides` over it: an override replaces the entry of
/// its key, new keys come last.
pub fn overlay_env<'a>(base: &[String], overrides: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut env: Vec<String> = base.to_vec();
    for (k, v) in overrides {
        env.retain(|e| e.split('=').next() != Some(k));
        env.push(format!("{k}={v}"));
    }
    env
}

fn ulimits(svc: &Service) -> Vec<Ulimit> {
    // -1 means unlimited (RLIM_INFINITY).
    let lim = |v: i64| if v < 0 { u64::MAX } else { v as u64 };
    svc.ulimits.iter().map(|(name, u)| Ulimit { name: name.clone(), soft: lim(u.soft), hard: lim(u.hard) }).collect()
}

/// `security_opt` as Docker reads it: `seccomp=unconfined|builtin|FILE` (also the old
/// `seccomp:` form; a relative FILE is relative to the project dir), `no-new-privileges`
/// (`:true`, `=true`, bare; `false` turns it off). `privileged` wins: no seccomp at all.
fn security_opts(svc: &Service, project_dir: &std::path::Path, cfg: &mut ContainerConfig) {
    for opt in &svc.security_opt {
        let (key, value) = opt.split_once(['=', ':']).unwrap_or((opt.as_str(), "true"));
        match key {
            "seccomp" => {
                cfg.seccomp = match value {
                    "unconfined" => SeccompMode::Unconfined,
                    "builtin" | "" => SeccompMode::Default,
                    file => SeccompMode::File(project_dir.join(file)),
                }
            }
            "no-new-privileges" => cfg.process.no_new_privs = Some(value != "false"),
            _ => {}
        }
    }
    if svc.privileged {
        cfg.seccomp = SeccompMode::Unconfined;
    }
}

fn resources(svc: &Service, cfg: &mut ContainerConfig) {
    let limits = svc.deploy.as_ref().and_then(|d| d.resources.as_ref()).and_then(|r| r.limits.as_ref());
    let r = &mut cfg.resources;
    r.memory = svc.mem_limit.map(|b| b.0 as i64).or_else(|| limits.and_then(|l| l.memory).map(|b| b.0 as i64));
    r.memory_swap = svc.memswap_limit;
    r.cpus = svc.cpus.or_else(|| limits.and_then(|l| l.cpus));
    if r.cpus.is_none() {
        if let (Some(q), Some(p)) = (svc.cpu_quota, svc.cpu_period) {
            r.cpus = (q > 0 && p > 0).then(|| q as f64 / p as f64);
        }
    }
    r.cpu_shares = svc.cpu_shares;
    r.cpuset_cpus = svc.cpuset.clone();
    r.pids_limit = svc.pids_limit.or_else(|| limits.and_then(|l| l.pids));
    r.blkio_weight = svc.blkio_config.as_ref().and_then(|b| b.weight);
}

/// `blkio_config`'s per-device settings with each path's device number read on the host
/// (as Docker does at create time); a path that is missing or not a block device is an error
/// naming the service. A weight this host cannot honour is warned about here, where the user
/// sees it (the container's cgroup is made by its monitor).
fn blkio_devices(service: &str, svc: &Service) -> Result<BlkioDevices> {
    let Some(b) = &svc.blkio_config else { return Ok(BlkioDevices::default()) };
    let resolve = |key: &str, path: &str, value: u64| -> Result<DeviceValue> {
        let (major, minor) = blkio::device_number(path)
            .map_err(|e| ReconcileError::service(service, format!("blkio_config.{key}: device {path}: {e}")))?;
        Ok(DeviceValue { major, minor, value })
    };
    let rates = |key: &str, list: &[crate::spec::model::BlkioRate]| -> Result<Vec<DeviceValue>> {
        list.iter().map(|r| resolve(key, &r.path, r.rate)).collect()
    };
    let d = BlkioDevices {
        weight_device: b
            .weight_device
            .iter()
            .map(|w| resolve("weight_device", &w.path, u64::from(w.weight)))
            .collect::<Result<_>>()?,
        read_bps: rates("device_read_bps", &b.device_read_bps)?,
        write_bps: rates("device_write_bps", &b.device_write_bps)?,
        read_iops: rates("device_read_iops", &b.device_read_iops)?,
        write_iops: rates("device_write_iops", &b.device_write_iops)?,
    };
    if (b.weight.is_some() || !d.weight_device.is_empty()) && !blkio::weight_supported() {
        tracing::warn!(
            service,
            "blkio_config weight ignored: this kernel offers no block I/O weight (no CFQ/BFQ scheduler or io.weight)"
        );
    }
    Ok(d)
}

/// The effective health check: the service's over the image's; None when there is none or it
/// is disabled (`disable: true` or `test: [NONE]`). Defaults as Docker's.
pub fn health_spec(svc: &Service, ic: &crate::image::ImageConfig) -> Option<HealthSpec> {
    let hc = svc.healthcheck.clone().unwrap_or_default();
    if hc.disable {
        return None;
    }
    let image = ic.healthcheck.as_ref();
    let argv = match &hc.test {
        Some(HealthTest::None) => return None,
        Some(HealthTest::Cmd(argv)) => argv.clone(),
        Some(HealthTest::Shell(script)) => vec!["/bin/sh".into(), "-c".into(), script.clone()],
        None => image_test(image?)?,
    };
    let ms =
        move |d: Option<Duration>, default: u64| d.map(|d| d.as_millis() as u64).filter(|&m| m > 0).unwrap_or(default);
    Some(HealthSpec {
        argv,
        interval_ms: ms(hc.interval.map(|d| d.0).or(image.and_then(|i| i.interval)), 30_000),
        timeout_ms: ms(hc.timeout.map(|d| d.0).or(image.and_then(|i| i.timeout)), 30_000),
        retries: hc.retries.or(image.and_then(|i| i.retries)).filter(|&r| r > 0).unwrap_or(3),
        start_period_ms: ms(hc.start_period.map(|d| d.0).or(image.and_then(|i| i.start_period)), 0),
        start_interval_ms: ms(hc.start_interval.map(|d| d.0).or(image.and_then(|i| i.start_interval)), 5_000),
    })
}

/// The image's test (`["CMD", …]`, `["CMD-SHELL", script]`, `["NONE"]`) as an argv.
fn image_test(hc: &crate::image::Healthcheck) -> Option<Vec<String>> {
    match hc.test.split_first() {
        Some((k, rest)) if k == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
        Some((k, rest)) if k == "CMD-SHELL" && !rest.is_empty() => {
            Some(vec!["/bin/sh".into(), "-c".into(), rest.join(" ")])
        }
        _ => None,
    }
}

/// A service's `ports:` as the network layer takes them.
pub fn port_requests(svc: &Service) -> Vec<crate::common::PortRequest> {
    svc.ports
        .iter()
        .map(|p| crate::common::PortRequest {
            host_ip: p.host_ip.clone(),
            published: p.published.clone(),
            target: p.target,
            protocol: p.protocol,
        })
        .collect()
}

/// 12 hex characters of sha256(text).
pub fn short_hash(text: &str) -> String {
    crate::common::ids::short_hash(text, 12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageConfig;

    fn svc(yaml: &str) -> Service {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn entrypoint_resets_image_cmd() {
        let ic = ImageConfig {
            entrypoint: Some(vec!["/init".into()]),
            cmd: Some(vec!["serve".into()]),
            ..Default::default()
        };
        assert_eq!(command_line(&svc("image: x"), &ic), ["/init", "serve"]);
        assert_eq!(command_line(&svc("image: x\ncommand: [run]"), &ic), ["/init", "run"]);
        assert_eq!(command_line(&svc("image: x\nentrypoint: [sh]"), &ic), ["sh"]);
        assert_eq!(command_line(&svc("image: x\nentrypoint: [sh]\ncommand: [-c, x]"), &ic), ["sh", "-c", "x"]);
    }

    #[test]
    fn environment_overrides_image() {
        let env = environment(&["PATH=/bin".into(), "A=1".into()], &svc("image: x\nenvironment: {A: '2', B: '3'}"));
        assert_eq!(env, ["PATH=/bin", "A=2", "B=3"]);
    }

    #[test]
    fn security_opts_as_docker_reads_them() {
        let dir = std::path::Path::new("/proj");
        let read = |yaml: &str| {
            let mut cfg = ContainerConfig::default();
            security_opts(&svc(yaml), dir, &mut cfg);
            (cfg.seccomp, cfg.process.no_new_privs)
        };
        assert_eq!(read("image: x"), (SeccompMode::Default, None));
        assert_eq!(read("image: x\nsecurity_opt: [seccomp=unconfined]"), (SeccompMode::Unconfined, None));
        assert_eq!(read("image: x\nsecurity_opt: ['seccomp:unconfined']"), (SeccompMode::Unconfined, None));
        let file = SeccompMode::File("/proj/sec/p.json".into());
        assert_eq!(read("image: x\nsecurity_opt: [seccomp=sec/p.json]"), (file, None));
        let abs = SeccompMode::File("/etc/p.json".into());
        assert_eq!(read("image: x\nsecurity_opt: [seccomp=/etc/p.json]"), (abs, None));
        for on in ["no-new-privileges", "'no-new-privileges:true'", "no-new-privileges=true"] {
            assert_eq!(read(&format!("image: x\nsecurity_opt: [{on}]")).1, Some(true), "{on}");
        }
        assert_eq!(read("image: x\nsecurity_opt: ['no-new-privileges:false']").1, Some(false));
        let p = read("image: x\nprivileged: true\nsecurity_opt: [seccomp=p.json]");
        assert_eq!(p.0, SeccompMode::Unconfined);
    }

    #[test]
    fn health_defaults_and_disable() {
        let ic = ImageConfig::default();
        let s = svc("image: x\nhealthcheck: {test: [CMD-SHELL, 'true'], interval: 1s}");
        let h = health_spec(&s, &ic).unwrap();
        assert_eq!(h.argv, ["/bin/sh", "-c", "true"]);
        assert_eq!((h.interval_ms, h.timeout_ms, h.retries), (1000, 30_000, 3));
        assert!(health_spec(&svc("image: x\nhealthcheck: {test: [NONE]}"), &ic).is_none());
        assert!(health_spec(&svc("image: x"), &ic).is_none());
    }
}
