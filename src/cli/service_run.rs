//! `berth run SERVICE [CMD...]`: a one-off container with the service's configuration (see
//! `reconciler::ops::oneoff`), attached until it exits, its exit code passed on.
//!
//! Dispatch (wired by `berth run`): when the first positional names a service of the loaded
//! stack this runs, otherwise `berth run IMAGE` (src/cli/run.rs) does; [`names_service`]
//! answers that question without printing the loader's warnings twice.

use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::Args;

use super::ps::roots;
use super::{foreground, GlobalOpts};
use crate::image::ImageStore;
use crate::reconciler::container::{self, Ctx};
use crate::reconciler::hooks;
use crate::reconciler::ops::oneoff::{self, Overrides};
use crate::runtime::attach;
use crate::runtime::Runtime;
use crate::spec::model::Service;

#[derive(Debug, Args)]
pub struct ServiceRunArgs {
    /// Remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Set an environment variable (KEY=VALUE, or KEY to copy it from here).
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Read environment variables from a file (Compose's env-file syntax; `-e` wins).
    #[arg(long = "env-from-file", value_name = "FILE")]
    pub env_from_file: Vec<std::path::PathBuf>,
    /// Add or override a label (KEY=VALUE).
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Override the service's entrypoint ("" clears it).
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Do not check that the services this one depends on are running.
    #[arg(long)]
    pub no_deps: bool,
    /// User: name|uid[:group|gid].
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Keep stdin open.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-terminal.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Publish the service's ports (without it a one-off publishes none, as Compose).
    #[arg(short = 'P', long = "service-ports")]
    pub service_ports: bool,
    /// Give the one-off the service's network aliases.
    #[arg(long)]
    pub use_aliases: bool,
    pub service: String,
    /// Command and arguments (default: the service's command).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

impl From<&super::run::RunArgs> for ServiceRunArgs {
    /// `berth run`'s flags, for the dispatch of `berth run SERVICE`.
    fn from(a: &super::run::RunArgs) -> Self {
        ServiceRunArgs {
            rm: a.rm,
            env: a.env.clone(),
            env_from_file: a.env_from_file.clone(),
            labels: a.labels.clone(),
            entrypoint: a.entrypoint.clone(),
            no_deps: a.no_deps,
            user: a.user.clone(),
            workdir: a.workdir.clone(),
            interactive: a.interactive,
            tty: a.tty,
            service_ports: a.service_ports,
            use_aliases: a.use_aliases,
            service: a.image.clone(),
            command: a.command.clone(),
        }
    }
}

/// Does `name` name a service of the stack the global options point at? (False when there
/// is no readable stack file: then `berth run NAME` means an image.)
pub fn names_service(g: &GlobalOpts, name: &str) -> bool {
    let Ok(opts) = super::load::load_options(g, &[]) else { return false };
    crate::spec::load::load(&opts).map(|l| l.stack.services.contains_key(name)).unwrap_or(false)
}

pub fn run_service(g: &GlobalOpts, a: &ServiceRunArgs) -> anyhow::Result<ExitCode> {
    let stack = super::load::load_stack(g)?.stack;
    let Some(svc) = stack.services.get(&a.service) else {
        bail!("no service `{}` in project `{}`", a.service, stack.name);
    };
    let roots = roots(g);
    if !a.no_deps {
        let missing = oneoff::missing_dependencies(&roots, &stack, &a.service)?;
        if !missing.is_empty() {
            bail!(
                "service `{}` depends on {} which {} not running; start {} with `berth up -d {}` (or pass --no-deps)",
                a.service,
                missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
                if missing.len() == 1 { "is" } else { "are" },
                if missing.len() == 1 { "it" } else { "them" },
                missing.join(" ")
            );
        }
    }
    let reference = svc.image.clone().unwrap_or_else(|| format!("{}-{}", stack.name, a.service));
    let store = ImageStore::open(&roots).context("open the image store")?;
    let image = store.resolve(&reference).with_context(|| format!("service `{}`: image {reference}", a.service))?;
    let name = oneoff::container_name(&stack.name, &a.service)?;
    let o = Overrides {
        command: a.command.clone(),
        entrypoint: a.entrypoint.clone(),
        env: super::run::env_entries(&a.env_from_file, &a.env)?,
        labels: super::run::label_flags(&a.labels)?,
        user: a.user.clone(),
        workdir: a.workdir.clone(),
        tty: a.tty,
        stdin: a.interactive,
    };
    let mut cfg = oneoff::config(&stack, &a.service, &image, &name, &o)?;
    cfg.process.console_size = a.tty.then(attach::caller_window_size).flatten();
    let rt = Runtime::new(&roots);
    let ctx = Ctx::new(&roots, &rt, &stack.name, Some(&stack), None);
    // Setup fails fast; whatever it made is torn down again (`container::remove` tolerates
    // the parts that do not exist).
    let made = oneoff::prepare(&roots, &stack, &a.service, &image, &mut cfg, a.use_aliases)
        .map_err(anyhow::Error::from)
        .and_then(|()| rt.create(&cfg).map_err(anyhow::Error::from));
    if let Err(e) = made {
        let _ = container::remove(&ctx, &name);
        return Err(e.context(format!("create one-off container `{name}`")));
    }
    if a.service_ports {
        if let Err(e) = oneoff::publish_ports(&roots, &stack, &a.service, &name) {
            let _ = container::remove(&ctx, &name);
            return Err(anyhow::Error::from(e).context(format!("publish the ports of one-off container `{name}`")));
        }
    }
    let code = start_and_attach(&rt, &name, a, svc);
    if a.service_ports && !a.rm {
        // Exited: its host ports are free again (as a stopped container's), the container kept.
        if let Err(e) = oneoff::release_ports(&roots, &name) {
            eprintln!("warning: one-off container `{name}`: {e}");
        }
    }
    if a.rm {
        container::remove(&ctx, &name).with_context(|| format!("remove one-off container `{name}`"))?;
    }
    Ok(ExitCode::from(code?.clamp(0, 255) as u8))
}

fn start_and_attach(rt: &Runtime, id: &str, a: &ServiceRunArgs, svc: &Service) -> anyhow::Result<i32> {
    let master = if a.tty {
        Some(rt.start_tty(id)?.1)
    } else {
        let stdin = if a.interactive { Some(foreground::dup_stdin()?) } else { None };
        rt.start_with(id, stdin)?;
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
