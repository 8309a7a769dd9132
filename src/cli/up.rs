//! `berth up`: create and start the stack, then stream its logs (attached) or return (-d),
//! and the hidden `berth __supervise` that keeps a detached stack converged.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;

use super::load::{load_options, load_with};
use super::GlobalOpts;
use crate::paths::Roots;
use crate::reconciler::acquire::{self, PullFlag};
use crate::reconciler::attach::{attach, AttachOpts};
use crate::reconciler::progress::Progress;
use crate::reconciler::{supervisor, up, wait};
use crate::spec::model::Stack;

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Only these services (and their dependencies, unless --no-deps).
    pub services: Vec<String>,
    /// Detached mode: start the stack in the background and return.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Wait until every service is running and healthy (implies -d).
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this many seconds (with --wait).
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
    #[command(flatten)]
    pub plan: super::plan::PlanFlags,
    /// Stop the whole stack when any container exits.
    #[arg(long, conflicts_with = "detach")]
    pub abort_on_container_exit: bool,
    /// Stop the whole stack when any container exits with a non-zero code (its code is ours).
    #[arg(long, conflicts_with_all = ["detach", "abort_on_container_exit"])]
    pub abort_on_container_failure: bool,
    /// Exit with this service's container exit code (implies --abort-on-container-exit).
    #[arg(long, value_name = "SERVICE", conflicts_with = "detach")]
    pub exit_code_from: Option<String>,
    /// Print the logs of only these services (repeatable; attached mode).
    #[arg(long = "attach", value_name = "SERVICE", conflicts_with_all = ["detach", "wait", "attach_dependencies"])]
    pub attach: Vec<String>,
    /// Do not print the logs of these services (repeatable).
    #[arg(long = "no-attach", value_name = "SERVICE")]
    pub no_attach: Vec<String>,
    /// Print the logs of the named services' dependencies too.
    #[arg(long, conflicts_with_all = ["detach", "wait"])]
    pub attach_dependencies: bool,
    /// Start each log line with its time (RFC 3339, as `logs -t`).
    #[arg(long)]
    pub timestamps: bool,
    /// Print the containers' lines without the `service-n | ` prefix (attached mode).
    #[arg(long, conflicts_with = "detach")]
    pub no_log_prefix: bool,
    /// Stop timeout in seconds for containers being replaced or stopped.
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Build the images of services with a `build:` section before starting.
    #[arg(long)]
    pub build: bool,
    /// Pull without printing progress information (failures are still reported).
    #[arg(long)]
    pub quiet_pull: bool,
    /// Pull images: always, missing (the default: only images not in the store), never.
    #[arg(long, num_args = 0..=1, default_missing_value = "always", value_name = "POLICY")]
    pub pull: Option<String>,
    /// Watch the services' `develop.watch` paths and sync, restart or rebuild as files change.
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Keys while attached on a terminal: `d` detaches (the stack keeps running), `w` turns
    /// watch mode on and off. Also COMPOSE_MENU=true.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL", conflicts_with = "detach")]
    pub menu: Option<bool>,
    /// Create the containers but do not start them (as `berth create`).
    #[arg(long, conflicts_with_all = ["wait", "watch", "abort_on_container_exit", "exit_code_from"])]
    pub no_start: bool,
    /// Never build: a service with `build:` uses the image in the store (missing: an error).
    #[arg(long, conflicts_with = "build")]
    pub no_build: bool,
    /// Builds print nothing but their errors.
    #[arg(long)]
    pub quiet_build: bool,
    /// The containers' lines without colours.
    #[arg(long)]
    pub no_color: bool,
    /// Answer yes to every question (berth's `up` asks none; accepted as Compose's is).
    // `--y`: Compose's deprecated spelling.
    #[arg(short = 'y', long, alias = "y")]
    pub yes: bool,
}

impl UpArgs {
    /// `up -d SERVICES` with these plan flags and nothing else (for `create` and `scale`).
    pub(crate) fn detached(services: &[String], plan: &super::plan::PlanFlags) -> Self {
        UpArgs {
            services: services.to_vec(),
            detach: true,
            wait: false,
            wait_timeout: None,
            plan: plan.clone(),
            abort_on_container_exit: false,
            abort_on_container_failure: false,
            exit_code_from: None,
            attach: Vec::new(),
            no_attach: Vec::new(),
            attach_dependencies: false,
            timestamps: false,
            no_log_prefix: false,
            timeout: None,
            build: false,
            pull: None,
            quiet_pull: false,
            watch: false,
            menu: None,
            no_start: false,
            no_build: false,
            quiet_build: false,
            no_color: false,
            yes: false,
        }
    }
}

/// Arguments of the hidden `berth __supervise`.
#[derive(Debug, Args)]
pub struct SuperviseArgs {
    #[arg(long)]
    pub project: String,
    #[arg(long)]
    pub state_dir: PathBuf,
    #[arg(long)]
    pub run_dir: PathBuf,
}

pub fn run(g: &GlobalOpts, a: &UpArgs) -> anyhow::Result<ExitCode> {
    let pull: PullFlag = a.pull.as_deref().map(str::parse).transpose().map_err(anyhow::Error::msg)?.unwrap_or_default();
    let mut t = crate::timing::Phases::new("cli up");
    let roots = Roots::new(g.root.as_deref());
    let loaded = load_with(load_options(g, &a.services)?)?;
    t.mark("load");
    let mut stack = loaded.stack;
    let mut opts = a.plan.options(&a.services);
    opts.all_resources = g.all_resources;
    opts.remove_orphans |= g.remove_orphans_env;
    opts.no_start = a.no_start;
    let grace = a.timeout.map(Duration::from_secs);
    if a.no_color {
        crate::term::set(crate::term::Ansi::Never, crate::term::progress());
    }
    let progress = if a.quiet_pull { Progress::new().without_pull_lines() } else { Progress::new() };
    let progress = if a.quiet_build { progress.without_build_output() } else { progress };
    if a.watch {
        super::watch::check_configured(&stack, &a.services)?;
    }
    if a.build {
        crate::builder::compose::build_before_plan(&roots, &mut stack, &opts.services, opts.no_deps, a.quiet_build)?;
    }
    if a.no_build {
        acquire::forbid_builds(&roots, &mut stack, &opts)?;
    }
    acquire::before_plan(&roots, &mut stack, &opts, pull, &progress)?;
    t.mark("before plan");
    if !a.detach && !a.wait && !a.no_start {
        // Attached: a Ctrl-C from now on, even while containers are being created, stops the
        // stack gracefully (attach sees it) instead of killing this process half-way.
        crate::reconciler::attach::catch_interrupts();
        // Hooks' output joins the logs we print, as Compose's (`web-1 -> | line`).
        crate::reconciler::hooks::echo_output(true);
    }
    let report = up::up(&roots, &stack, &opts, grace, &progress)?;
    t.mark("up");
    if a.no_start {
        return Ok(ExitCode::SUCCESS);
    }
    if a.wait {
        let timeout = a.wait_timeout.map(Duration::from_secs);
        wait::wait_ready(&roots, &stack.name, &report.services, timeout, &progress).context("--wait")?;
        if !a.watch {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let watch_opts =
        crate::watch::WatchOptions { services: a.services.clone(), prune: false, quiet_build: a.quiet_build };
    if a.detach || a.wait {
        if a.watch {
            super::watch::watch_in_foreground(&roots, &stack, &watch_opts)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let logs = logged_services(&stack, a, &report.services)?;
    let attach_opts = AttachOpts {
        services: report.services,
        logs: Some(logs),
        timestamps: a.timestamps,
        no_log_prefix: a.no_log_prefix,
        // `--exit-code-from` implies `--abort-on-container-exit`, unless failures alone abort.
        abort_on_container_exit: a.abort_on_container_exit
            || (a.exit_code_from.is_some() && !a.abort_on_container_failure),
        abort_on_container_failure: a.abort_on_container_failure,
        exit_code_from: a.exit_code_from.clone(),
        grace,
    };
    if let Some(s) = &attach_opts.exit_code_from {
        if !stack.services.contains_key(s) {
            bail!("--exit-code-from {s}: no such service");
        }
    }
    let code = if a.watch {
        super::watch::watch_while(&roots, &stack, &watch_opts, || attach(&roots, &stack.name, &attach_opts))??
    } else if super::menu::wanted(a.menu) {
        let can_watch = super::watch::check_configured(&stack, &a.services).is_ok();
        super::menu::with_menu(&roots, &stack, &watch_opts, can_watch, || attach(&roots, &stack.name, &attach_opts))?
    } else {
        attach(&roots, &stack.name, &attach_opts)?
    };
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// The services whose logs attached `up` prints, as Compose picks them: `--attach` as given
/// (each a service of the stack); else the named services (with `--attach-dependencies`, what
/// they depend on too; none named: every one `up` acts on), less those with `attach: false`;
/// then less `--no-attach`.
fn logged_services(stack: &Stack, a: &UpArgs, acted_on: &[String]) -> anyhow::Result<Vec<String>> {
    let mut logs: Vec<String> = if !a.attach.is_empty() {
        let unknown: Vec<&str> =
            a.attach.iter().filter(|s| !stack.services.contains_key(*s)).map(String::as_str).collect();
        if !unknown.is_empty() {
            bail!("--attach: cannot attach to services not included in up: {}", unknown.join(", "));
        }
        a.attach.clone()
    } else {
        let base = if a.services.is_empty() || a.attach_dependencies { acted_on } else { &a.services[..] };
        let attachable = |s: &&String| {
            stack.services.get(*s).is_none_or(|svc| svc.other.get("attach") != Some(&serde_json::Value::Bool(false)))
        };
        base.iter().filter(attachable).cloned().collect()
    };
    logs.retain(|s| !a.no_attach.contains(s));
    Ok(logs)
}

/// `berth __supervise`: the per-project supervisor (started by `up`, detached).
pub fn supervise(a: &SuperviseArgs) -> anyhow::Result<ExitCode> {
    let roots = Roots { state: a.state_dir.clone(), run: a.run_dir.clone() };
    supervisor::run(&roots, &a.project)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    fn up_args(args: &[&str]) -> super::UpArgs {
        use clap::Parser;
        let cli = super::super::Cli::try_parse_from(args).unwrap();
        let super::super::Command::Up(a) = cli.command else { panic!("not up") };
        *a
    }

    #[test]
    fn attached_logs_are_picked_as_compose_picks_them() {
        use clap::Parser;
        let stack: super::Stack = serde_yaml::from_str(
            "name: p\nservices:\n  db: {image: d}\n  web: {image: w}\n  noisy: {image: n, attach: false}\n",
        )
        .unwrap();
        let acted: Vec<String> = ["db", "web", "noisy"].map(String::from).to_vec();
        let pick = |args: &[&str]| super::logged_services(&stack, &up_args(args), &acted).map_err(|e| e.to_string());
        assert_eq!(pick(&["berth", "up"]).unwrap(), ["db", "web"], "attach: false is left out");
        assert_eq!(pick(&["berth", "up", "web"]).unwrap(), ["web"], "not its dependencies");
        assert_eq!(pick(&["berth", "up", "--attach-dependencies", "web"]).unwrap(), ["db", "web"]);
        assert_eq!(pick(&["berth", "up", "--attach", "noisy"]).unwrap(), ["noisy"]);
        assert_eq!(pick(&["berth", "up", "--no-attach", "db"]).unwrap(), ["web"]);
        assert!(pick(&["berth", "up", "--attach", "nope"]).unwrap_err().contains("nope"));
        let clash = ["berth", "up", "--attach", "web", "--attach-dependencies"];
        assert!(super::super::Cli::try_parse_from(clash).is_err());
        let clash = ["berth", "up", "--abort-on-container-failure", "--abort-on-container-exit"];
        assert!(super::super::Cli::try_parse_from(clash).is_err());
    }

    #[test]
    fn scale_flags() {
        use clap::Parser;
        let cli = super::super::Cli::try_parse_from(["berth", "up", "--scale", "web=3", "--scale", "db=0"]).unwrap();
        let super::super::Command::Up(a) = cli.command else { panic!("not up") };
        let s = a.plan.options(&a.services).scale;
        assert_eq!(s.get("web"), Some(&3));
        assert!(super::super::Cli::try_parse_from(["berth", "up", "--scale", "web"]).is_err());
    }
}
