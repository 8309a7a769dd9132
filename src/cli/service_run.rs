//! `berth run SERVICE [CMD...]`: a one-off container with the service's configuration (see
//! `reconciler::ops::oneoff`), attached until it exits, its exit code passed on. The services
//! it depends on are started first unless they run (`--no-deps`: not), as Compose's.
//!
//! Dispatch (wired by `berth run`): when the first positional names a service of the loaded
//! stack this runs, otherwise `berth run IMAGE` (src/cli/run.rs) does; [`names_service`]
//! answers that question without printing the loader's warnings twice.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::{bail, Context as _};

use super::ps::roots;
use super::{foreground, GlobalOpts};
use crate::image::ImageStore;
use crate::reconciler::container::{self, Ctx};
use crate::reconciler::hooks;
use crate::reconciler::ops::oneoff::{self, Overrides};
use crate::reconciler::progress::Progress;
use crate::runtime::attach;
use crate::runtime::Runtime;
use crate::spec::convert::{volume_flag, ConvertContext};
use crate::spec::model::{MountKind, Port, Protocol, Service};

/// `berth run SERVICE`'s options: `berth run`'s flags (see [`super::run::RunArgs`]), the ones
/// `docker compose run` has.
#[derive(Debug, Default)]
pub struct ServiceRunArgs {
    /// Remove the container when it exits.
    pub rm: bool,
    /// Start it in the background and print its id.
    pub detach: bool,
    /// The container's name (default `<project>-<service>-run-<6 hex>`).
    pub name: Option<String>,
    /// Set an environment variable (KEY=VALUE, or KEY to copy it from here).
    pub env: Vec<String>,
    /// Environment files (Compose's env-file syntax; `-e` wins).
    pub env_from_file: Vec<std::path::PathBuf>,
    /// Labels added or overridden (KEY=VALUE).
    pub labels: Vec<String>,
    /// Override the service's entrypoint, split into words as Compose splits it ("" clears it).
    pub entrypoint: Option<String>,
    /// Do not start the services this one depends on.
    pub no_deps: bool,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// Allocate a pseudo-terminal (the default when stdin and stdout are terminals).
    pub tty: bool,
    /// Never allocate one (`-T`).
    pub no_tty: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `-v` short-syntax volumes, added to the service's.
    pub volumes: Vec<String>,
    /// `-p` ports, published instead of the service's.
    pub publish: Vec<String>,
    /// Publish the service's ports (without it a one-off publishes none, as Compose).
    pub service_ports: bool,
    /// Give the one-off the service's network aliases.
    pub use_aliases: bool,
    /// Build the service's image first.
    pub build: bool,
    /// `--pull`: always, missing, never (for a service with an `image:` and no `build:`).
    pub pull: String,
    /// `--quiet-pull` (or `-q`).
    pub quiet_pull: bool,
    /// `--remove-orphans`: the containers of services no longer in the file go first.
    pub remove_orphans: bool,
    /// `--quiet-build` (or `-q`).
    pub quiet_build: bool,
    pub service: String,
    /// Command and arguments (default: the service's command).
    pub command: Vec<String>,
}

impl From<&super::run::RunArgs> for ServiceRunArgs {
    /// `berth run`'s flags, for the dispatch of `berth run SERVICE`.
    fn from(a: &super::run::RunArgs) -> Self {
        ServiceRunArgs {
            rm: a.rm,
            detach: a.detach,
            name: a.name.clone(),
            env: a.env.clone(),
            env_from_file: a.env_from_file.clone(),
            labels: a.labels.clone(),
            entrypoint: a.entrypoint.clone(),
            no_deps: a.no_deps,
            user: a.user.clone(),
            workdir: a.workdir.clone(),
            tty: a.tty,
            no_tty: a.no_tty,
            cap_add: a.cap_add.clone(),
            cap_drop: a.cap_drop.clone(),
            volumes: a.volumes.clone(),
            publish: a.publish.clone(),
            service_ports: a.service_ports,
            use_aliases: a.use_aliases,
            build: a.build,
            pull: a.pull.clone(),
            quiet_pull: a.quiet_pull || a.quiet,
            remove_orphans: a.remove_orphans,
            quiet_build: a.quiet_build || a.quiet,
            service: a.image.clone(),
            command: a.command.clone(),
        }
    }
}

impl ServiceRunArgs {
    /// Whether the one-off gets a pty, as `docker compose run` decides: `-T` and `-d` never,
    /// `-t` always, else when we run from a terminal on both ends.
    fn wants_tty(&self, stdin_tty: bool, stdout_tty: bool) -> bool {
        !self.no_tty && !self.detach && (self.tty || (stdin_tty && stdout_tty))
    }
}

/// The `docker run` flags of `berth run` that a service's one-off does not take (the service
/// says those things), set on this command line: warned about, never silently dropped.
pub fn image_only_flags(a: &super::run::RunArgs) -> Vec<&'static str> {
    let set = [
        (a.memory.is_some(), "--memory"),
        (a.cpus.is_some(), "--cpus"),
        (a.pids_limit.is_some(), "--pids-limit"),
        (a.init, "--init"),
        (a.read_only, "--read-only"),
        (a.privileged, "--privileged"),
        (a.hostname.is_some(), "--hostname"),
        (a.network != crate::network::oneoff::DEFAULT_NETWORK, "--network"),
        (!a.add_host.is_empty(), "--add-host"),
    ];
    set.into_iter().filter(|(on, _)| *on).map(|(_, f)| f).collect()
}

/// Does `name` name a service of the stack the global options point at? (False when there
/// is no readable stack file: then `berth run NAME` means an image.)
pub fn names_service(g: &GlobalOpts, name: &str) -> bool {
    let Ok(opts) = super::load::load_options(g, &[]) else { return false };
    crate::spec::load::load(&opts).map(|l| l.stack.services.contains_key(name)).unwrap_or(false)
}

pub fn run_service(g: &GlobalOpts, a: &ServiceRunArgs) -> anyhow::Result<ExitCode> {
    if a.service_ports && !a.publish.is_empty() {
        bail!("--service-ports and --publish are incompatible");
    }
    let mut stack = super::load::load_stack(g)?.stack;
    if !stack.services.contains_key(&a.service) {
        bail!("no service `{}` in project `{}`", a.service, stack.name);
    }
    let roots = roots(g);
    // As Compose's: orphans are removed (or reported) whether or not dependencies start —
    // by the `up` that starts them, else on their own.
    let started = !a.no_deps && start_dependencies(g, &roots, &stack, &a.service, a)?;
    if !started {
        crate::reconciler::up::orphans(&roots, &stack, a.remove_orphans || g.remove_orphans_env, &Progress::new())?;
    }
    ensure_image(&roots, &mut stack, a)?;
    let tty = a.wants_tty(std::io::stdin().is_terminal(), std::io::stdout().is_terminal());
    let o = overrides(a, &stack, tty)?;
    let svc = oneoff::service(&stack, &a.service, &o)?;
    if a.detach && a.rm {
        check_detached_rm(&a.service, &svc)?;
    }
    let reference = crate::planner::image_ref(&stack, &a.service, &svc);
    let store = ImageStore::open(&roots).context("open the image store")?;
    let image = store.resolve(&reference).with_context(|| format!("service `{}`: image {reference}", a.service))?;
    let rt = Runtime::new(&roots);
    let name = oneoff_name(&rt, a, &stack)?;
    let mut cfg = oneoff::config(&stack, &a.service, &svc, &image, &name)?;
    cfg.process.console_size = tty.then(attach::caller_window_size).flatten();
    if a.detach && a.rm {
        // Nobody waits for it: its monitor removes it when it exits (runtime::autoremove).
        cfg.labels.insert(crate::runtime::state::TRANSIENT_LABEL.into(), "true".into());
    }
    let ctx = Ctx::new(&roots, &rt, &stack.name, Some(&stack), None);
    create(&ctx, &stack, a, &svc, &image, &mut cfg)?;
    let publishes = !svc.ports.is_empty();
    if a.detach {
        return start_detached(&ctx, &name, a, &svc);
    }
    let code = start_and_attach(&rt, &name, a, &svc, tty);
    if publishes && !a.rm {
        // Exited: its host ports are free again (as a stopped container's), the container kept.
        if let Err(e) = oneoff::release_ports(&roots, &name) {
            eprintln!("warning: one-off container `{name}`: {e}");
        }
    }
    if a.rm {
        remove_with_anonymous_volumes(&ctx, &name, &cfg.mounts)?;
    }
    Ok(ExitCode::from(code?.clamp(0, 255) as u8))
}

/// `--name`, unless a container has that name already; else `<project>-<service>-run-<hex>`.
fn oneoff_name(rt: &Runtime, a: &ServiceRunArgs, stack: &crate::spec::model::Stack) -> anyhow::Result<String> {
    let Some(n) = &a.name else { return Ok(oneoff::container_name(stack, &a.service)?) };
    let taken = rt.state(n).is_ok() || rt.list()?.iter().any(|s| rt.config(&s.id).is_ok_and(|c| &c.name == n));
    if taken {
        bail!("a container named `{n}` already exists (choose another --name, or remove it)");
    }
    Ok(n.clone())
}

/// Make the one-off: its volumes, network and container, then its ports. Setup fails fast;
/// whatever it made is torn down again (`container::remove` tolerates the parts that do not
/// exist).
fn create(
    ctx: &Ctx<'_>,
    stack: &crate::spec::model::Stack,
    a: &ServiceRunArgs,
    svc: &Service,
    image: &crate::image::ResolvedImage,
    cfg: &mut crate::runtime::ContainerConfig,
) -> anyhow::Result<()> {
    let name = cfg.name.clone();
    let made = oneoff::prepare(ctx.roots, stack, &a.service, svc, image, cfg, a.use_aliases)
        .map_err(anyhow::Error::from)
        .and_then(|()| ctx.rt.create(cfg).map_err(anyhow::Error::from));
    if let Err(e) = made {
        let _ = container::remove(ctx, &name);
        return Err(e.context(format!("create one-off container `{name}`")));
    }
    if !svc.ports.is_empty() {
        if let Err(e) = oneoff::publish_ports(ctx.roots, stack, &a.service, svc, &name) {
            let _ = container::remove(ctx, &name);
            return Err(anyhow::Error::from(e).context(format!("publish the ports of one-off container `{name}`")));
        }
    }
    Ok(())
}

/// The command line's changes to the service.
fn overrides(a: &ServiceRunArgs, stack: &crate::spec::model::Stack, tty: bool) -> anyhow::Result<Overrides> {
    let cwd = std::env::current_dir().context("the current directory")?;
    let lookup = |k: &str| std::env::var(k).ok();
    let ctx = ConvertContext {
        project_name: stack.name.clone(),
        project_dir: cwd,
        lookup: &lookup,
        read_env_files: true,
        resolve_paths: true,
    };
    let mut volumes = Vec::with_capacity(a.volumes.len());
    for text in &a.volumes {
        let (v, ignored) = volume_flag(text, &ctx).map_err(|e| anyhow::anyhow!("-v {text}: {e}"))?;
        for opt in ignored {
            eprintln!("warning: -v {text}: unknown volume option `{opt}` is ignored");
        }
        volumes.push(v);
    }
    let mut publish = Vec::new();
    for p in &a.publish {
        publish.extend(publish_port(p)?);
    }
    Ok(Overrides {
        command: a.command.clone(),
        entrypoint: a
            .entrypoint
            .as_deref()
            .map(crate::spec::canonical::shellwords::split)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--entrypoint: {e}"))?,
        env: super::run::env_entries(&a.env_from_file, &a.env)?,
        labels: super::run::label_flags(&a.labels)?,
        user: a.user.clone(),
        workdir: a.workdir.clone(),
        tty,
        // As `docker compose run` (whose -i defaults to true): our stdin is the one-off's.
        stdin: !a.detach,
        cap_add: a.cap_add.clone(),
        cap_drop: a.cap_drop.clone(),
        volumes,
        publish,
        service_ports: a.service_ports,
    })
}

/// `-p [IP:][HOST:]CONTAINER[/PROTO]` as a `ports:` entry (Compose's short syntax; a range
/// gives several).
fn publish_port(text: &str) -> anyhow::Result<Vec<Port>> {
    let specs = crate::spec::canonical::parse_port(text).map_err(|e| anyhow::anyhow!("-p {text}: {e}"))?;
    specs
        .into_iter()
        .map(|p| {
            let protocol = match p.protocol.as_str() {
                "udp" => Protocol::Udp,
                "tcp" => Protocol::Tcp,
                other => bail!("-p {text}: protocol {other} is not supported (tcp or udp)"),
            };
            Ok(Port {
                name: None,
                target: p.target,
                published: p.published,
                host_ip: p.host_ip,
                protocol,
                mode: "ingress".into(),
                app_protocol: None,
                other: Default::default(),
            })
        })
        .collect()
}

/// As `docker compose run`: the services `service` depends on are started (`up -d` of those
/// not running, with their own dependencies), then waited for (running, healthy when they
/// have a health check, or completed with 0). True when it ran `up` (which also removed or
/// reported the orphans, with `run`'s `--remove-orphans`).
fn start_dependencies(
    g: &GlobalOpts,
    roots: &crate::paths::Roots,
    stack: &crate::spec::model::Stack,
    service: &str,
    a: &ServiceRunArgs,
) -> anyhow::Result<bool> {
    let missing = oneoff::missing_dependencies(roots, stack, service)?;
    if missing.is_empty() {
        return Ok(false);
    }
    let flags = super::plan::PlanFlags {
        force_recreate: false,
        always_recreate_deps: false,
        no_recreate: false,
        renew_anon_volumes: false,
        no_deps: false,
        remove_orphans: a.remove_orphans,
        scale: Vec::new(),
    };
    let up = super::up::UpArgs {
        quiet_pull: a.quiet_pull,
        quiet_build: a.quiet_build,
        ..super::up::UpArgs::detached(&missing, &flags)
    };
    let started = super::up::run(g, &up)
        .with_context(|| format!("start the services `{service}` depends on (or pass --no-deps)"))?;
    if started != ExitCode::SUCCESS {
        bail!("the services `{service}` depends on did not start (or pass --no-deps)");
    }
    let deps: Vec<String> =
        stack.services.get(service).map(|s| s.depends_on.keys().cloned().collect()).unwrap_or_default();
    let progress = crate::reconciler::progress::Progress::new();
    crate::reconciler::wait::wait_ready(roots, &stack.name, &deps, None, &progress)
        .with_context(|| format!("waiting for the services `{service}` depends on"))?;
    Ok(true)
}

/// The service's image, as `docker compose run` makes sure of it: built with `--build`, or
/// when missing and the service has a `build:` section; else pulled as `--pull` says
/// (`missing`, the default: only when the store lacks it; not when the service's
/// `pull_policy` is `never`).
fn ensure_image(
    roots: &crate::paths::Roots,
    stack: &mut crate::spec::model::Stack,
    a: &ServiceRunArgs,
) -> anyhow::Result<()> {
    let Some(svc) = stack.services.get(&a.service) else { return Ok(()) };
    let reference = crate::planner::image_ref(stack, &a.service, svc);
    let store = ImageStore::open(roots).context("open the image store")?;
    let present = store.manifest_digest(&reference).is_ok();
    if a.build || (!present && svc.build.is_some()) {
        crate::builder::compose::build_before_plan(roots, stack, std::slice::from_ref(&a.service), true, a.quiet_build)
            .with_context(|| format!("service `{}`: build", a.service))?;
        return Ok(());
    }
    let never = svc.pull_policy == Some(crate::spec::model::PullPolicy::Never) && a.pull == "missing";
    if svc.build.is_none() && svc.image.is_some() && !never {
        super::pull::ensure_for_run(roots, &reference, &a.pull, a.quiet_pull)
            .with_context(|| format!("service `{}`", a.service))?;
    }
    Ok(())
}

/// `run -d --rm`: the monitor removes the container when it exits, which covers its runtime
/// state and network but not copies of secrets or anonymous volumes: refused when it has
/// those, rather than leaving them behind.
fn check_detached_rm(service: &str, svc: &Service) -> anyhow::Result<()> {
    let anonymous = svc.volumes.iter().any(|v| v.kind == MountKind::Volume && v.source.is_none());
    if anonymous || !svc.secrets.is_empty() || !svc.configs.is_empty() {
        bail!(
            "service `{service}`: `run -d --rm` is not supported for a service with secrets, configs or anonymous \
             volumes yet; run it without --rm and remove it with `berth rm`, or run it in the foreground"
        );
    }
    Ok(())
}

/// `run -d`: start it, run its post_start hooks, print its id (as `docker compose run -d`).
fn start_detached(ctx: &Ctx<'_>, name: &str, a: &ServiceRunArgs, svc: &Service) -> anyhow::Result<ExitCode> {
    if let Err(e) = ctx.rt.start(name) {
        let _ = container::remove(ctx, name);
        return Err(anyhow::Error::from(e).context(format!("start one-off container `{name}`")));
    }
    hooks::post_start_oneoff(ctx.rt, name, &a.service, svc)?;
    let id = crate::reconciler::project_containers(ctx.roots, ctx.project)?
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| c.container_id())
        .unwrap_or_else(|| name.to_string());
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

/// `run --rm`: the container, and the anonymous volumes it mounted (as Docker's `--rm`).
fn remove_with_anonymous_volumes(ctx: &Ctx<'_>, name: &str, mounts: &[crate::runtime::Mount]) -> anyhow::Result<()> {
    container::remove(ctx, name).with_context(|| format!("remove one-off container `{name}`"))?;
    crate::reconciler::mounts::volume_manager(ctx.roots)
        .remove_anonymous(ctx.project, mounts)
        .with_context(|| format!("remove the anonymous volumes of one-off container `{name}`"))?;
    Ok(())
}

fn start_and_attach(rt: &Runtime, id: &str, a: &ServiceRunArgs, svc: &Service, tty: bool) -> anyhow::Result<i32> {
    let master = if tty {
        Some(rt.start_tty(id)?.1)
    } else {
        // Our stdin when it can be had (a closed fd 0 is no stdin, not an error).
        rt.start_with(id, foreground::dup_stdin().ok())?;
        None
    };
    if let Some(m) = &master {
        attach::copy_window_size(m);
    }
    foreground::forward_signals();
    // The service's post_start hooks run once it has started, while we relay it (as Compose).
    let (attached, hooked) = std::thread::scope(|s| {
        let hooks = s.spawn(|| hooks::post_start_oneoff(rt, id, &a.service, svc));
        let attached = foreground::attach_until_exit(rt, id, master);
        (attached, hooks.join())
    });
    let code = attached?.0;
    let failed = match hooked {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!("one-off container `{id}`: its post_start hooks panicked")),
    };
    if let Some(e) = failed {
        eprintln!("error: {e}");
        // A hook failure fails the run even when the command itself succeeded.
        return Ok(if code == 0 { 1 } else { code });
    }
    Ok(code)
}
