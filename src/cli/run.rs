//! `berth run`: one container from an image, docker-run style. Resolves IMAGE through the image
//! store, turns flags and image defaults into a `ContainerConfig`, creates and starts it with
//! the runtime, then (unless -d) follows its log — or relays its tty with -t — until it exits,
//! and exits with the container's code.

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;

use super::{foreground, GlobalOpts};
use crate::image::{ImageStore, ResolvedImage};
use crate::network::oneoff as oneoff_net;
use crate::network::NetworkManager;
use crate::paths::Roots;
use crate::runtime::attach;
use crate::runtime::{ContainerConfig, Mount, NetNs, Runtime};
use crate::spec::convert::{volume_flag, ConvertContext};
use crate::spec::model::{BindOptions, MountKind};
use crate::volumes::{ImageMounts, MountRequest, VolumeSpec};

/// `-h` is `--hostname` here, as in `docker run` (help is `--help`).
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    /// With a SERVICE of the stack: do not start the services it depends on.
    #[arg(long)]
    pub no_deps: bool,
    /// Run in the background and print the container id.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep stdin open.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-terminal (with a SERVICE: the default when stdin and stdout are
    /// terminals, as `docker compose run`).
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Do not allocate a pseudo-terminal (with a SERVICE, as `docker compose run -T`).
    #[arg(short = 'T', long = "no-TTY", visible_alias = "no-tty")]
    pub no_tty: bool,
    /// Set an environment variable (KEY=VALUE, or KEY to copy it from here).
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Read environment variables from a file (Compose's env-file syntax; `-e` wins).
    #[arg(long = "env-from-file", value_name = "FILE")]
    pub env_from_file: Vec<PathBuf>,
    /// Add or override a label (KEY=VALUE).
    #[arg(short = 'l', long = "label", alias = "labels", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Mount a volume, in the stack file's short syntax: [SOURCE:]TARGET[:MODE], SOURCE a
    /// host path (`/`, `.` or `~`, relative to here) or a named volume (with a SERVICE: one
    /// of the stack's).
    #[arg(short = 'v', long = "volume", alias = "volumes", value_name = "VOLUME")]
    pub volumes: Vec<String>,
    /// The container's name.
    #[arg(long)]
    pub name: Option<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// User: name|uid[:group|gid].
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Memory limit (e.g. 64m, 1g).
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    /// Number of CPUs (e.g. 0.5).
    #[arg(long)]
    pub cpus: Option<f64>,
    #[arg(long)]
    pub pids_limit: Option<i64>,
    /// Run berth's init as PID 1 (forwards signals, reaps zombies).
    #[arg(long)]
    pub init: bool,
    /// Mount the root filesystem read-only.
    #[arg(long)]
    pub read_only: bool,
    /// Add a Linux capability (e.g. NET_ADMIN).
    #[arg(long, value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop a Linux capability (ALL for every one).
    #[arg(long, value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// All capabilities and no seccomp filter.
    #[arg(long)]
    pub privileged: bool,
    /// Container hostname (default: the first 12 characters of the id, which are never all
    /// digits).
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Override the image's entrypoint.
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Network: bridge (berth's default bridge, with egress), none (only loopback), host, or
    /// the name of an existing berth network.
    #[arg(long, alias = "net", default_value = oneoff_net::DEFAULT_NETWORK)]
    pub network: String,
    /// Publish a container port: [IP:][HOST:]CONTAINER[/PROTO] (`-p`, as in docker run).
    #[arg(long = "publish", value_name = "PORT")]
    pub publish: Vec<String>,
    /// An /etc/hosts entry: NAME:IP (or NAME=IP).
    #[arg(long = "add-host", value_name = "NAME:IP")]
    pub add_host: Vec<String>,
    /// Pull the image: always, missing (when not in the store), never.
    #[arg(long, default_value = "missing", value_name = "POLICY")]
    pub pull: String,
    /// Pull without printing progress information.
    #[arg(long)]
    pub quiet_pull: bool,
    /// With a SERVICE: the build of its image prints nothing but its errors.
    #[arg(long)]
    pub quiet_build: bool,
    /// Print no progress (dependencies starting, pulls, orphans, builds): only what the
    /// container writes, as `docker compose run -q`.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// With a SERVICE: remove the containers of services no longer in the stack file (else
    /// they are reported), as `docker compose run --remove-orphans`.
    #[arg(long)]
    pub remove_orphans: bool,
    /// With a service: publish the service's ports (a one-off publishes none without it).
    #[arg(short = 'P', long = "service-ports")]
    pub service_ports: bool,
    /// With a SERVICE: the one-off gets the service's network aliases.
    #[arg(long)]
    pub use_aliases: bool,
    /// With a SERVICE: build its image first (without it, built only when missing).
    #[arg(long)]
    pub build: bool,
    pub image: String,
    /// Command and arguments (default: the image's cmd).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// Signal received by the CLI, forwarded to the container by the follow loop.
pub fn run(g: &GlobalOpts, a: &RunArgs) -> anyhow::Result<ExitCode> {
    if a.service_ports || a.use_aliases || a.build || a.remove_orphans {
        let flag = match (a.service_ports, a.use_aliases, a.build) {
            (true, _, _) => "-P/--service-ports",
            (_, true, _) => "--use-aliases",
            (_, _, true) => "--build",
            _ => "--remove-orphans",
        };
        bail!("{flag} needs a service of the stack file, and `{}` is not one", a.image);
    }
    let roots = Roots::new(g.root.as_deref());
    super::pull::ensure_for_run(&roots, &a.image, &a.pull, a.quiet_pull || a.quiet)?;
    let store = ImageStore::open(&roots).context("open the image store")?;
    let image = store.resolve(&a.image).with_context(|| format!("image {}", a.image))?;
    let rt = Runtime::new(&roots);
    let mut cfg = build_config(a, &image, &rt)?;
    let id = cfg.id.clone();
    let nm = NetworkManager::new(&roots);
    let networked = prepare_network(&nm, a, &mut cfg)?;
    if let Err(e) = rt.create(&cfg) {
        if networked {
            let _ = nm.teardown_sandbox(&id);
        }
        return Err(e.into());
    }
    // While we wait for it, we remove a --rm container; if we die, its monitor does (see
    // runtime::autoremove). With -d there is no waiting: the monitor removes it.
    let _attached = match a.rm && !a.detach {
        true => Some(crate::runtime::autoremove::hold(&crate::runtime::state::StateDir(rt.state_dir(&id)))?),
        false => None,
    };
    let started = if a.detach {
        // Nobody attached: its monitor keeps its tty (or, with -i, its stdin) open, as
        // Docker's daemon does (a tty whose master we dropped would hang up the container).
        rt.start(&id).map(|_| None)
    } else if a.tty {
        rt.start_tty(&id).map(|(_, master)| Some(master))
    } else {
        rt.start_with(&id, stdin_for(a)?).map(|_| None)
    };
    let master = match started {
        Ok(m) => m,
        Err(e) => {
            if a.rm {
                let _ = crate::reconciler::ops::standalone::remove_by_id(&rt, &roots, &id, true);
            }
            eprintln!("error: {e}");
            return Ok(ExitCode::from(if e.to_string().contains("not found") { 127 } else { 126 }));
        }
    };
    if let Some(m) = &master {
        attach::copy_window_size(m);
    }
    if a.detach {
        println!("{id}");
        return Ok(ExitCode::SUCCESS);
    }
    foreground::forward_signals();
    let (code, oom) = foreground::attach_until_exit(&rt, &id, master)?;
    if oom {
        eprintln!("berth: container {id} was killed: out of memory");
    }
    if a.rm {
        crate::reconciler::ops::standalone::remove_by_id(&rt, &roots, &id, true)?;
    }
    Ok(ExitCode::from(code as u8))
}

/// The container's stdin with -i (our own, duplicated), else nothing.
fn stdin_for(a: &RunArgs) -> anyhow::Result<Option<OwnedFd>> {
    if !a.interactive {
        return Ok(None);
    }
    Ok(Some(foreground::dup_stdin()?))
}

/// Flags over image defaults, as `docker run` combines them.
fn build_config(a: &RunArgs, image: &ResolvedImage, rt: &Runtime) -> anyhow::Result<ContainerConfig> {
    let ic = &image.config;
    let id = random_id()?;
    // A generated name is a prefix of a fresh random id: only a given name needs the check
    // (which reads every container's record).
    if let Some(name) = &a.name {
        if rt.list()?.iter().any(|s| rt.config(&s.id).map(|c| &c.name == name).unwrap_or(false)) {
            bail!("a container named {name} already exists");
        }
    }
    let name = a.name.clone().unwrap_or_else(|| id[..12].to_string());
    let mut cfg = ContainerConfig { id: id.clone(), name, layers: image.layers.clone(), ..Default::default() };
    cfg.labels.extend(label_flags(&a.labels)?);
    cfg.labels.insert(crate::planner::actual::labels::IMAGE.into(), image.id.clone());
    cfg.labels.insert(crate::reconciler::ops::standalone::IMAGE_REF_LABEL.into(), a.image.clone());
    if a.rm {
        // Its record goes with the run: no fsync of it (see runtime::state::TRANSIENT_LABEL).
        cfg.labels.insert(crate::runtime::state::TRANSIENT_LABEL.into(), "true".into());
    }
    cfg.process.args = command_line(a, ic);
    cfg.process.env = merge_env(&ic.env, &env_entries(&a.env_from_file, &a.env)?);
    cfg.process.cwd = a.workdir.clone().or_else(|| ic.working_dir.clone());
    cfg.process.user = a.user.clone().or_else(|| ic.user.clone()).filter(|u| !u.is_empty());
    cfg.process.tty = a.tty;
    cfg.process.console_size = a.tty.then(attach::caller_window_size).flatten();
    cfg.process.stdin = a.interactive;
    cfg.hostname = Some(a.hostname.clone().unwrap_or_else(|| crate::common::ids::hostname_of_id(&id)));
    cfg.stop_signal = ic.stop_signal.clone();
    cfg.init = a.init;
    cfg.rootfs.read_only = a.read_only;
    cfg.caps.add = a.cap_add.clone();
    cfg.caps.drop = a.cap_drop.clone();
    cfg.caps.privileged = a.privileged;
    if a.privileged {
        cfg.seccomp = crate::runtime::SeccompMode::Unconfined;
    }
    cfg.namespaces.net = match a.network.as_str() {
        "host" => NetNs::Host,
        // Own namespace; a sandbox replaces it for a network (see prepare_network).
        _ => NetNs::New,
    };
    cfg.resources.memory = a.memory.as_deref().map(parse_bytes).transpose()?;
    cfg.resources.cpus = a.cpus;
    cfg.resources.pids_limit = a.pids_limit;
    cfg.mounts = volume_mounts(rt.roots(), a, image, &cfg.id, &cfg.name)?;
    Ok(cfg)
}

/// `-v` of `berth run IMAGE`, read by the stack file's one short-syntax rule (as `run SERVICE
/// -v` and `volumes:` are): a host path (relative ones against the current directory, `~`
/// expanded; a missing one created), or a named volume of berth's (created when missing, as
/// `docker run -v NAME:/path` does, and filled from the image when empty).
fn volume_mounts(
    roots: &Roots,
    a: &RunArgs,
    image: &ResolvedImage,
    id: &str,
    name: &str,
) -> anyhow::Result<Vec<Mount>> {
    if a.volumes.is_empty() {
        return Ok(Vec::new());
    }
    let cwd = std::env::current_dir().context("the current directory")?;
    let lookup = |k: &str| std::env::var(k).ok();
    let ctx = ConvertContext {
        project_name: String::new(),
        project_dir: cwd,
        lookup: &lookup,
        read_env_files: true,
        resolve_paths: true,
    };
    let vm = crate::reconciler::mounts::volume_manager(roots);
    let image_mounts = ImageMounts { layers: &image.layers, ..ImageMounts::default() };
    let mut out = Vec::with_capacity(a.volumes.len());
    for text in &a.volumes {
        let (v, ignored) = volume_flag(text, &ctx).map_err(|e| anyhow::anyhow!("-v {text}: {e}"))?;
        for opt in ignored {
            eprintln!("warning: -v {text}: unknown volume option `{opt}` is ignored");
        }
        let request = match (v.kind, v.source) {
            (MountKind::Bind, source) => {
                let b = v.bind.unwrap_or(BindOptions { propagation: None, create_host_path: true, selinux: None });
                MountRequest::Bind {
                    source,
                    target: v.target,
                    read_only: v.read_only,
                    create_host_path: b.create_host_path,
                    propagation: b.propagation,
                    selinux: b.selinux,
                }
            }
            (_, Some(volume)) => MountRequest::Volume {
                volume: Some(VolumeSpec { name: volume, ..VolumeSpec::default() }),
                target: v.target,
                read_only: v.read_only,
                nocopy: v.volume.is_some_and(|o| o.nocopy),
                subpath: None,
            },
            (_, None) => bail!(
                "-v {text}: an anonymous volume outlives a `berth run IMAGE`; name it (-v NAME:{}) or bind a host path",
                v.target
            ),
        };
        let mounted = vm.mounts_for(name, std::slice::from_ref(&request), "", id, &image_mounts);
        out.extend(mounted.with_context(|| format!("-v {text}"))?);
    }
    Ok(out)
}

/// The network of `--network` (none and host need nothing of the network layer): a sandbox
/// on the default bridge or a named network, with its hosts files and published ports.
/// Returns whether one was made.
fn prepare_network(nm: &NetworkManager, a: &RunArgs, cfg: &mut ContainerConfig) -> anyhow::Result<bool> {
    let network = match a.network.as_str() {
        "none" | "host" => {
            if !a.publish.is_empty() {
                eprintln!("warning: --network {}: published ports are ignored", a.network);
            }
            if !a.add_host.is_empty() && a.network == "none" {
                eprintln!("warning: --network none: --add-host is ignored");
            }
            return Ok(false);
        }
        "" | "default" => oneoff_net::DEFAULT_NETWORK.to_string(),
        other => other.to_string(),
    };
    let req = oneoff_net::OneoffNet {
        network: network.clone(),
        hostname: cfg.hostname.clone().unwrap_or_default(),
        name: cfg.name.clone(),
        extra_hosts: parse_add_hosts(&a.add_host)?,
        files: Vec::new(),
        ports: a.publish.iter().map(|p| parse_publish(p)).collect::<anyhow::Result<Vec<_>>>()?,
    };
    let setup = nm.prepare_oneoff(&cfg.id, &req).with_context(|| format!("--network {network}"))?;
    cfg.namespaces.net = NetNs::Path(setup.netns);
    cfg.mounts.extend(setup.mounts);
    Ok(true)
}

/// `--add-host NAME:IP` (or NAME=IP; IP may be IPv6, so split at the first separator).
fn parse_add_hosts(items: &[String]) -> anyhow::Result<indexmap::IndexMap<String, Vec<String>>> {
    let mut out: indexmap::IndexMap<String, Vec<String>> = indexmap::IndexMap::new();
    for item in items {
        let Some((name, ip)) = item.split_once([':', '=']) else { bail!("--add-host {item}: expected NAME:IP") };
        let bare = ip.trim_matches(|c| c == '[' || c == ']');
        if name.is_empty() || bare.parse::<std::net::IpAddr>().is_err() {
            bail!("--add-host {item}: expected NAME:IP with an IP address");
        }
        out.entry(name.to_string()).or_default().push(bare.to_string());
    }
    Ok(out)
}

/// `-p [IP:][HOST:]CONTAINER[/PROTO]` as Compose's short syntax reads it (one port, or one range).
fn parse_publish(p: &str) -> anyhow::Result<crate::common::PortRequest> {
    let specs = crate::spec::canonical::parse_port(p).map_err(|e| anyhow::anyhow!("-p {p}: {e}"))?;
    let [one] = specs.as_slice() else { bail!("-p {p}: give one port or one range per -p") };
    let protocol = match one.protocol.as_str() {
        "udp" => crate::spec::model::Protocol::Udp,
        "tcp" => crate::spec::model::Protocol::Tcp,
        other => bail!("-p {p}: protocol {other} is not supported (tcp or udp)"),
    };
    Ok(crate::common::PortRequest {
        target: one.target,
        published: one.published.clone(),
        host_ip: one.host_ip.clone(),
        protocol,
    })
}

/// The command line with `berth run`'s `-p` read as `--publish` (as `docker run` and `docker
/// compose run` read it) where it comes after `run`: before it, `-p` stays the project name.
pub fn docker_run_argv(argv: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    const GLOBAL_VALUES: &[&str] = &[
        "-f",
        "--file",
        "-p",
        "--project-name",
        "--project-directory",
        "--env-file",
        "--profile",
        "--root",
        "--log-level",
    ];
    let mut i = 1;
    while i < argv.len() {
        let t = argv[i].to_string_lossy();
        if t == "run" {
            break;
        }
        if !t.starts_with('-') || t == "--" {
            return argv;
        }
        i += if GLOBAL_VALUES.contains(&t.as_ref()) { 2 } else { 1 };
    }
    if i >= argv.len() {
        return argv;
    }
    let cmd = <RunArgs as clap::Args>::augment_args(clap::Command::new("run"));
    let takes_value = |t: &str| {
        cmd.get_arguments().any(|a| {
            a.get_action().takes_values()
                && (t
                    .strip_prefix("--")
                    .is_some_and(|l| a.get_long() == Some(l) || a.get_all_aliases().is_some_and(|al| al.contains(&l)))
                    || (t.len() == 2 && t.strip_prefix('-').and_then(|s| s.chars().next()) == a.get_short()))
        })
    };
    let mut out: Vec<std::ffi::OsString> = argv[..=i].to_vec();
    let mut rest = argv[i + 1..].iter();
    while let Some(tok) = rest.next() {
        let t = tok.to_string_lossy().into_owned();
        if t == "-p" {
            out.push("--publish".into());
        } else if let Some(v) = t.strip_prefix("-p").filter(|_| !t.starts_with("--")) {
            out.push(format!("--publish={}", v.trim_start_matches('=')).into());
            continue;
        } else {
            out.push(tok.clone());
            if t == "--" || !t.starts_with('-') {
                out.extend(rest.cloned());
                break;
            }
            if !takes_value(&t) || t.contains('=') {
                continue;
            }
        }
        if let Some(v) = rest.next() {
            out.push(v.clone());
        }
    }
    out
}

/// Entrypoint + cmd, as Docker combines flags and image defaults (`--entrypoint ""` clears it).
fn command_line(a: &RunArgs, ic: &crate::image::ImageConfig) -> Vec<String> {
    let entrypoint = a.entrypoint.as_ref().map(|e| if e.is_empty() { Vec::new() } else { vec![e.clone()] });
    let command = (!a.command.is_empty()).then(|| a.command.clone());
    crate::reconciler::translate::process_args(entrypoint, command, ic)
}

/// The image's env with `KEY=VALUE` entries over it.
fn merge_env(image: &[String], entries: &[String]) -> Vec<String> {
    let pairs = entries.iter().map(|e| e.split_once('=').unwrap_or((e.as_str(), "")));
    crate::reconciler::translate::overlay_env(image, pairs)
}

/// `--env-from-file` files (in order, read as Compose reads env files), then `-e` flags
/// (`-e KEY` copies KEY from here), as `KEY=VALUE` entries: later ones win.
pub(crate) fn env_entries(files: &[PathBuf], flags: &[String]) -> anyhow::Result<Vec<String>> {
    let mut vars = indexmap::IndexMap::new();
    for f in files {
        let text = crate::spec::envfile::read(f).with_context(|| format!("--env-from-file {}", f.display()))?;
        let name = f.display().to_string();
        let lookup = |k: &str| std::env::var(k).ok();
        let mut warnings = crate::spec::diag::Diagnostics::new();
        vars = crate::spec::envfile::parse_over(&text, &name, &lookup, vars, &mut warnings)
            .map_err(|d| anyhow::anyhow!("--env-from-file {name}: {d}"))?;
        for w in warnings.items {
            eprintln!("warning: {name}: {}", w.message);
        }
    }
    let mut out: Vec<String> = vars.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    out.extend(super::exec::env_flags(flags));
    Ok(out)
}

/// `-l KEY=VALUE` flags as labels (`-l KEY` is an empty label, as docker's).
pub(crate) fn label_flags(flags: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    flags
        .iter()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
            if k.is_empty() {
                bail!("--label {l}: the key is empty");
            }
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

/// A size as Compose writes it (`64m`, `1g`, `1.5GB`, `1048576`): the loader's one rule.
pub fn parse_bytes(s: &str) -> anyhow::Result<i64> {
    let n = crate::spec::units::parse_bytes(s)?;
    i64::try_from(n).map_err(|_| anyhow::anyhow!("size {s:?} is too large"))
}

fn random_id() -> anyhow::Result<String> {
    crate::common::ids::container_id(16).context("getrandom")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_volumes() {
        assert_eq!(parse_bytes("64m").unwrap(), 64 << 20);
        assert_eq!(parse_bytes("1g").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("1024").unwrap(), 1024);
        assert!(parse_bytes("lots").is_err());
        let env = merge_env(&["PATH=/bin".into(), "A=1".into()], &["A=2".into()]);
        assert_eq!(env, ["PATH=/bin", "A=2"]);
    }

    #[test]
    fn env_files_then_flags_and_labels() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a.env"), t.path().join("b.env"));
        std::fs::write(&a, "X=1\nY=${X}2\n").unwrap();
        std::fs::write(&b, "Y=b\nZ=${Y}z\n").unwrap();
        let got = env_entries(&[a, b], &["X=flag".into()]).unwrap();
        assert_eq!(got, ["X=1", "Y=b", "Z=bz", "X=flag"]);
        assert_eq!(merge_env(&["PATH=/bin".into(), "X=img".into()], &got), ["PATH=/bin", "Y=b", "Z=bz", "X=flag"]);
        assert!(env_entries(&[t.path().join("nope")], &[]).unwrap_err().to_string().contains("--env-from-file"));
        assert_eq!(
            label_flags(&["a=b".into(), "c".into()]).unwrap(),
            [("a".into(), "b".into()), ("c".into(), String::new())]
        );
        assert!(label_flags(&["=x".into()]).is_err());
    }

    fn argv(words: &[&str]) -> Vec<String> {
        let os = words.iter().map(std::ffi::OsString::from).collect();
        docker_run_argv(os).into_iter().map(|w| w.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn dash_p_after_run_publishes_and_before_it_names_the_project() {
        assert_eq!(
            argv(&["berth", "-p", "proj", "run", "-p", "8080:80", "-e", "-p", "-p127.0.0.1:1:2", "img", "-p", "x"]),
            [
                "berth",
                "-p",
                "proj",
                "run",
                "--publish",
                "8080:80",
                "-e",
                "-p",
                "--publish=127.0.0.1:1:2",
                "img",
                "-p",
                "x"
            ]
        );
        assert_eq!(argv(&["berth", "--root", "/r", "up", "-p", "x"]), ["berth", "--root", "/r", "up", "-p", "x"]);
        assert_eq!(
            argv(&["berth", "run", "--name=n", "-p", "1", "img"]),
            ["berth", "run", "--name=n", "--publish", "1", "img"]
        );
    }

    #[test]
    fn add_host_and_publish_forms() {
        let h = parse_add_hosts(&["foo:10.1.2.3".into(), "bar=::1".into(), "foo:10.1.2.4".into()]).unwrap();
        assert_eq!(h["foo"], ["10.1.2.3", "10.1.2.4"]);
        assert_eq!(h["bar"], ["::1"]);
        assert!(parse_add_hosts(&["nohost".into()]).is_err());
        assert!(parse_add_hosts(&["foo:notanip".into()]).is_err());
        let p = parse_publish("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!((p.host_ip.as_deref(), p.published.as_deref(), p.target), (Some("127.0.0.1"), Some("8080"), 80));
        assert_eq!(p.protocol, crate::spec::model::Protocol::Udp);
        assert_eq!(parse_publish("80").unwrap().published, None);
        assert!(parse_publish("1:2/sctp").is_err());
    }
}
