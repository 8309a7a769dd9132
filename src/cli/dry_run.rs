//! `--dry-run`: say what a command would do and change nothing. `up`, `create` and `scale`
//! print their plan (as `berth plan` does), `down` the plan of the teardown, and the lifecycle
//! commands the containers they would act on, each line prefixed `DRY-RUN MODE - ` as in
//! Compose. Commands that only read run as usual; the others refuse, so a dry run never
//! changes the host.

use std::process::ExitCode;

use anyhow::Context as _;

use super::load::{load_options, load_with};
use super::{Command, GlobalOpts};
use crate::paths::Roots;
use crate::planner::render::render_text;
use crate::planner::{plan, plan_down, DownOptions, PlanOptions};
use crate::reconciler::observe;
use crate::reconciler::ops::select;
use crate::runtime::Status;

const PREFIX: &str = "DRY-RUN MODE - ";

/// Run `command` as a dry run: Some(result) when it was handled here (printed or refused),
/// None when it only reads and runs as usual.
pub fn run(g: &GlobalOpts, command: &Command) -> Option<anyhow::Result<ExitCode>> {
    let result = match command {
        Command::Up(a) => {
            let mut opts = a.plan.options(&a.services);
            opts.no_start = a.no_start;
            opts.all_resources = g.all_resources;
            opts.remove_orphans |= g.remove_orphans_env;
            up_plan(g, &a.services, opts)
        }
        Command::Create(a) => {
            let mut opts = a.plan.options(&a.services);
            opts.no_start = true;
            opts.all_resources = g.all_resources;
            opts.remove_orphans |= g.remove_orphans_env;
            up_plan(g, &a.services, opts)
        }
        Command::Scale(a) => {
            let services: Vec<String> = a.scale.iter().map(|(s, _)| s.clone()).collect();
            let opts = PlanOptions {
                services: services.clone(),
                no_recreate: true,
                no_deps: a.no_deps,
                scale: a.scale.iter().cloned().collect(),
                ..PlanOptions::default()
            };
            up_plan(g, &services, opts)
        }
        Command::Down(a) => down_plan(g, a.volumes),
        Command::Stop(a) => each(g, &a.service, "Stop", |s| matches!(s.status, Status::Running)),
        Command::Restart(a) => match a.no_deps || a.service.is_empty() {
            true => each(g, &a.service, "Restart", |_| true),
            false => super::lifecycle::with_restart_dependents(g, &a.service)
                .and_then(|services| each(g, &services, "Restart", |_| true)),
        },
        Command::Start(a) => each(g, &a.service, "Start", |s| !matches!(s.status, Status::Running)),
        Command::Kill(a) => kill_plan(g, a),
        Command::Pause(a) => each(g, &a.service, "Pause", |s| s.is_running() && !s.paused),
        Command::Unpause(a) => each(g, &a.service, "Unpause", |s| s.paused),
        Command::Rm(a) => each(g, &a.service, "Remove", |s| a.stop || !s.is_running()),
        Command::Man(a) => a.dir.as_ref().map(|d| {
            println!("{PREFIX}would write the man pages into {}", d.display());
            Ok(ExitCode::SUCCESS)
        })?,
        c if reads_only(c) => return None,
        other => Err(anyhow::anyhow!(
            "--dry-run: `berth {}` has no dry run; nothing was done (drop --dry-run to run it)",
            name_of(other)
        )),
    };
    Some(result)
}

/// Commands that change nothing, run as usual under `--dry-run`.
fn reads_only(c: &Command) -> bool {
    use super::images::ImageCommand;
    use super::volume::VolumeCommand;
    match c {
        Command::Image(a) => matches!(a.command, ImageCommand::Ls(_) | ImageCommand::Inspect { .. }),
        Command::Volume(a) => matches!(a.command, VolumeCommand::Ls { .. } | VolumeCommand::Inspect { .. }),
        _ => matches!(
            c,
            Command::Config(_)
                | Command::Convert(_)
                | Command::Plan(_)
                | Command::Images(_)
                | Command::Volumes(_)
                | Command::Ps(_)
                | Command::Logs(_)
                | Command::Top(_)
                | Command::Stats(_)
                | Command::Port(_)
                | Command::Ls(_)
                | Command::Wait(_)
                | Command::Version(_)
                | Command::Completion(_)
                | Command::Man(_)
                | Command::Bridge(_)
                | Command::Alpha(_)
                // It checks and prints what it would publish, and pushes nothing, by itself.
                | Command::Publish(_)
        ),
    }
}

/// The command's name as typed (for the refusal).
fn name_of(c: &Command) -> String {
    use clap::CommandFactory as _;
    let debug = format!("{c:?}");
    let variant = debug.split(['(', ' ', '{']).next().unwrap_or_default().to_lowercase();
    let cmd = super::Cli::command();
    let found = cmd.get_subcommands().map(|s| s.get_name().to_string()).find(|n| n.replace(['-', '_'], "") == variant);
    found.unwrap_or(variant)
}

fn print_prefixed(text: &str) {
    for line in text.lines() {
        println!("{PREFIX}{line}");
    }
}

/// The plan `up` would carry out with `opts` (nothing built, pulled, made or started).
fn up_plan(g: &GlobalOpts, services: &[String], opts: PlanOptions) -> anyhow::Result<ExitCode> {
    let loaded = load_with(load_options(g, services)?)?;
    let roots = Roots::new(g.root.as_deref());
    let name = &loaded.stack.name;
    let actual = observe(&roots, name).with_context(|| format!("cannot observe the state of project `{name}`"))?;
    print_prefixed(&render_text(&plan(&loaded.stack, &actual, &opts)?));
    Ok(ExitCode::SUCCESS)
}

/// The plan of `down` (`-v`: with the volumes).
fn down_plan(g: &GlobalOpts, volumes: bool) -> anyhow::Result<ExitCode> {
    let project = super::ps::project_name(g)?;
    let roots = Roots::new(g.root.as_deref());
    let actual =
        observe(&roots, &project).with_context(|| format!("cannot observe the state of project `{project}`"))?;
    let plan = plan_down(&project, &actual, &DownOptions { volumes });
    match plan.is_empty() {
        true => println!("{PREFIX}nothing to do: project `{project}` has nothing to remove"),
        false => print_prefixed(&render_text(&plan)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `Container NAME  VERB` for each container of `services` whose state `applies`.
/// `kill`: the running containers it would signal — orphans (services gone from a readable
/// stack file) only with `--remove-orphans`, as `kill` itself does.
fn kill_plan(g: &GlobalOpts, a: &super::lifecycle::KillArgs) -> anyhow::Result<ExitCode> {
    let project = super::ps::project_name(g)?;
    let stack = super::lifecycle::stack_of(g, &project);
    let all = select::all(&Roots::new(g.root.as_deref()), &project, false)?;
    let chosen = select::services(all, &project, &a.service)?;
    let targets = super::lifecycle::kill_targets(g, a, stack.as_ref(), &chosen);
    for c in targets.iter().filter(|c| matches!(c.state.status, Status::Running)) {
        println!("{PREFIX}Container {}  Kill", c.name);
    }
    Ok(ExitCode::SUCCESS)
}

fn each(
    g: &GlobalOpts,
    services: &[String],
    verb: &str,
    applies: impl Fn(&crate::runtime::ContainerState) -> bool,
) -> anyhow::Result<ExitCode> {
    let project = super::ps::project_name(g)?;
    let all = select::all(&Roots::new(g.root.as_deref()), &project, false)?;
    for c in select::services(all, &project, services)?.iter().filter(|c| applies(&c.state)) {
        println!("{PREFIX}Container {}  {verb}", c.name);
    }
    Ok(ExitCode::SUCCESS)
}
