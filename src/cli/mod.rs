//! The `berth` command line: argument parsing and dispatch. One file per command family;
//! `anyhow` lives only here, at the edge.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod build;
mod build_print;
mod config;
mod config_vars;
// Stack → Kubernetes manifests (issue 19).
mod convert;
// Containers outside any project (`berth run IMAGE`).
mod container;
mod images;
pub(crate) mod load;
mod network;
mod plan;
// COMPOSE_* from the environment and `.env`; --dry-run (issue 18).
mod compose_env;
mod dry_run;
// Compose's project commands made of the others: create, scale, images, volumes (issue 18).
mod project;
// version, completion, man (issue 18).
mod meta;
// alpha viz (issue 18).
mod viz;
// Registry pull/push (image and compose forms).
mod pull;
mod run;
mod volume;
// Operations on a project's containers (issue 6).
mod exec;
mod foreground;
// `--format` templates and JSON Lines (issue 18).
mod format;
mod inspect;
mod lifecycle;
mod logs;
mod ps;
mod service_run;
// up, down and the supervisor (issue 6, core).
mod down;
mod up;
// Watch mode (develop.watch).
mod watch;
// Issue 18, part 2: files, images and credentials in and out of containers.
mod attach;
mod cp;
mod events;
mod export;
mod image_io;
mod login;
mod menu;
mod oci;
mod publish;

/// A declarative multi-container orchestrator with its own container runtime.
#[derive(Debug, Parser)]
#[command(name = "berth", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    /// Compose's hidden `-v`: `--version`.
    #[arg(short = 'v', hide = true, action = clap::ArgAction::Version)]
    version_v: Option<bool>,
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command (as in `docker compose`).
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Stack file(s); later files merge over earlier ones. Default: compose.yaml, compose.yml,
    /// docker-compose.yaml or docker-compose.yml in the working directory.
    /// Given before the command, as with `docker compose -f FILE up` (so `logs -f` can follow).
    /// Also COMPOSE_FILE (files separated by `:`, or by COMPOSE_PATH_SEPARATOR), from the
    /// environment or `.env`. `oci://REGISTRY/REPOSITORY:TAG` (or `@sha256:…`): a stack
    /// published with `berth publish` or `docker compose publish`, fetched from the registry.
    #[arg(short = 'f', long = "file")]
    pub files: Vec<PathBuf>,
    /// Project name (default: COMPOSE_PROJECT_NAME from the environment or `.env`, else
    /// top-level `name:`, else the stack file's directory name).
    #[arg(short = 'p', long = "project-name", global = true, env = "BERTH_PROJECT_NAME")]
    pub project_name: Option<String>,
    /// Working directory for the project (default: the first stack file's directory).
    #[arg(long, global = true)]
    pub project_directory: Option<PathBuf>,
    /// Alternate environment file(s) (default: COMPOSE_ENV_FILES, comma-separated, else `.env`
    /// in the project directory).
    #[arg(long = "env-file", global = true)]
    pub env_files: Vec<PathBuf>,
    /// Enable services of these profiles (repeatable).
    #[arg(long = "profile", global = true, env = "COMPOSE_PROFILES", value_delimiter = ',')]
    pub profiles: Vec<String>,
    /// State root (default /var/lib/berth; runtime files under /run/berth).
    #[arg(long, global = true, env = "BERTH_ROOT")]
    pub root: Option<PathBuf>,
    /// Log level: error, warn, info, debug, trace.
    #[arg(long, global = true, env = "BERTH_LOG", default_value = "warn")]
    pub log_level: String,
    /// Show what the command would do and change nothing (up, create, scale, down, and the
    /// stop/start/restart/kill/pause/unpause/rm family; read-only commands run as usual, the
    /// others refuse).
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// How progress is shown: auto, tty, plain, json (one object per line), quiet (default:
    /// COMPOSE_PROGRESS, else auto).
    #[arg(long, global = true, value_enum)]
    pub progress: Option<crate::term::ProgressMode>,
    /// At most N actions (creates, starts, pulls…) at once; -1 for no limit (default:
    /// COMPOSE_PARALLEL_LIMIT, else 16).
    #[arg(long, global = true, value_name = "N", allow_negative_numbers = true)]
    pub parallel: Option<i64>,
    /// When to use ANSI escape codes (colours): never, always, auto (default: COMPOSE_ANSI,
    /// else auto: only on a terminal).
    #[arg(long, global = true, value_enum)]
    pub ansi: Option<crate::term::Ansi>,
    /// Make every network and volume of the file, even those no service uses (up, create,
    /// plan).
    #[arg(long, global = true)]
    pub all_resources: bool,
    /// docker-compose v1's names: `_` joins the project, service and number of a container
    /// (`demo_web_1`, one-offs `demo_web_run_1a2b3c`) and names a built image `demo_web`.
    /// Existing containers keep their names until recreated. Also COMPOSE_COMPATIBILITY.
    #[arg(long, global = true)]
    pub compatibility: bool,
    /// Compose's hidden `--insecure-registry REGISTRY` (repeatable): `-f oci://` artifacts
    /// from it are fetched over plain http (images are not concerned).
    #[arg(long = "insecure-registry", hide = true, value_name = "REGISTRY")]
    pub insecure_registries: Vec<String>,
    /// Compose's deprecated `--workdir`: `--project-directory`.
    #[arg(long, hide = true)]
    pub workdir: Option<PathBuf>,
    /// Compose's deprecated `--no-ansi`: `--ansi never`.
    #[arg(long, global = true, hide = true)]
    pub no_ansi: bool,
    /// Compose's hidden `--verbose`: `--log-level debug`.
    #[arg(long, global = true, hide = true)]
    pub verbose: bool,
    /// COMPOSE_REMOVE_ORPHANS (from the environment, as Compose): `--remove-orphans` by
    /// default for up, create, run and kill.
    #[arg(skip)]
    pub remove_orphans_env: bool,
    /// COMPOSE_COMPATIBILITY (from the environment or `.env`): `--compatibility`, except that
    /// `config` still normalizes (Compose's flag implies `config --no-normalize`).
    #[arg(skip)]
    pub compatibility_env: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and start the stack, and keep it converged.
    // `-V` is Compose's `--renew-anon-volumes` here, not `--version`.
    #[command(disable_version_flag = true)]
    Up(Box<up::UpArgs>),
    /// Stop and remove the stack's containers and networks (volumes with -v).
    Down(down::DownArgs),
    /// Parse, resolve and validate the stack file(s), and print the normalized model.
    Config(config::ConfigArgs),
    /// Convert the stack to another orchestrator's manifests (Kubernetes), with a loss report.
    Convert(convert::ConvertArgs),
    /// Show what `up` would do: a diff of the desired stack against the actual state.
    #[command(disable_version_flag = true)]
    Plan(plan::PlanArgs),
    /// Build the images of the stack's services that have a `build:` section.
    Build(build::BuildArgs),
    /// List the images used by the project's containers (CONTAINER REPOSITORY TAG IMAGE ID
    /// SIZE). Every image in the store: `berth image ls`.
    Images(project::ImagesArgs),
    /// Manage images: import, pull, push, build, rm, inspect, ls (every image in the store).
    Image(images::ImageArgs),
    /// A one-off container: of a SERVICE of the stack (compose run), else of an IMAGE (docker run).
    Run(Box<run::RunArgs>),
    /// Manage volumes: ls, inspect, create, rm, prune.
    Volume(volume::VolumeArgs),
    /// List the project's volumes (of the named services only, when given).
    Volumes(project::VolumesArgs),
    /// Create the stack's containers (and networks, volumes) without starting them; `up` or
    /// `start` starts them.
    #[command(disable_version_flag = true)]
    Create(Box<project::CreateArgs>),
    /// Set the number of containers of services: `scale web=3 worker=0`.
    Scale(project::ScaleArgs),
    /// Show berth's version.
    Version(meta::VersionArgs),
    /// Print a shell completion script: `berth completion bash > /etc/bash_completion.d/berth`.
    Completion(meta::CompletionArgs),
    /// Write man pages (berth.1, berth-up.1, …) into DIR, or print berth(1).
    Man(meta::ManArgs),
    /// Not in berth: Compose's `bridge convert` runs Docker's transformer images to make
    /// Kubernetes or Helm files; berth converts by itself with `berth convert --to kubernetes`.
    Bridge(meta::BridgeArgs),
    /// Experimental Compose commands: viz (the stack as a Graphviz graph).
    Alpha(viz::AlphaArgs),
    /// Manage networks: ls, create, rm.
    Network(network::NetworkArgs),
    /// The per-project port proxy (started by berth itself).
    #[command(name = "__proxy", hide = true)]
    Proxy(network::ProxyArgs),
    /// The state root's embedded DNS server (started by berth itself).
    #[command(name = "__dns", hide = true)]
    Dns(network::DnsArgs),
    /// List the project's containers.
    Ps(ps::PsArgs),
    /// Containers outside any project (`berth run IMAGE`): ls, stop, kill, rm, logs, inspect.
    Container(container::ContainerArgs),
    /// Show the containers' output.
    Logs(logs::LogsArgs),
    /// Run a command in a running container of a service.
    Exec(exec::ExecArgs),
    /// Stop the project's containers (they stay, and are not restarted by their policy).
    Stop(lifecycle::StopArgs),
    /// Start stopped containers.
    Start(lifecycle::StartArgs),
    /// Restart containers.
    Restart(lifecycle::RestartArgs),
    /// Send a signal to containers (default SIGKILL).
    Kill(lifecycle::KillArgs),
    /// Pause containers (freeze their processes).
    Pause(lifecycle::PauseArgs),
    /// Unpause paused containers.
    Unpause(lifecycle::PauseArgs),
    /// Remove stopped containers.
    Rm(lifecycle::RmArgs),
    /// Block until containers exit; print how each ended, exit with the last one's code.
    Wait(lifecycle::WaitArgs),
    /// Show the processes of the containers.
    Top(inspect::TopArgs),
    /// Live resource use: CPU, memory, network, pids.
    Stats(inspect::StatsArgs),
    /// Print the host address a container port is published on.
    Port(inspect::PortArgs),
    /// List projects.
    Ls(inspect::LsArgs),
    /// Pull the images of the stack's services from their registries.
    Pull(pull::PullArgs),
    /// Push the images of the stack's services to their registries.
    Push(pull::PushArgs),
    /// The per-project supervisor (started by `up`, detached).
    #[command(name = "__supervise", hide = true)]
    Supervise(up::SuperviseArgs),
    /// Watch the services' `develop.watch` paths and sync, restart or rebuild on changes.
    Watch(watch::WatchArgs),
    // Issue 18, part 2 (cp, export, commit, events, login/logout).
    /// Copy files/folders between a service container and the host (`-`: a tar stream).
    Cp(cp::CpArgs),
    /// Export a service container's filesystem as a tar archive.
    Export(export::ExportArgs),
    /// Create a new image from a service container's changes.
    Commit(export::CommitArgs),
    /// Stream the project's container events (create, start, die, health_status, oom, destroy …).
    Events(events::EventsArgs),
    /// Log in to a registry (credentials in ~/.docker/config.json, as Docker).
    Login(login::LoginArgs),
    /// Log out from a registry.
    Logout(login::LogoutArgs),
    /// Attach to a service container: its output, and its input with tty/stdin_open, until it exits.
    Attach(attach::AttachArgs),
    /// Publish the stack's Compose files to a registry as an OCI artifact (run it elsewhere
    /// with `-f oci://REGISTRY/REPOSITORY:TAG`).
    Publish(publish::PublishArgs),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let mut cli = Cli::parse_from(run::docker_run_argv(std::env::args_os().collect()));
    let stateless = matches!(
        cli.command,
        Command::Config(_)
            | Command::Convert(_)
            | Command::Version(_)
            | Command::Completion(_)
            | Command::Man(_)
            | Command::Bridge(_)
            | Command::Alpha(_)
    );
    // berth's own helpers get everything on their command line: no `.env` of whatever
    // directory they were started in may change them.
    let helper = matches!(cli.command, Command::Supervise(_) | Command::Proxy(_) | Command::Dns(_));
    if let Some(dir) = cli.global.workdir.take() {
        eprintln!("warning: option '--workdir' is deprecated: use '--project-directory' instead");
        cli.global.project_directory.get_or_insert(dir);
    }
    if !helper && !matches!(cli.command, Command::Version(_) | Command::Completion(_) | Command::Man(_)) {
        match compose_env::apply(&mut cli.global) {
            Ok(out) => {
                let ansi = if cli.global.no_ansi { crate::term::Ansi::Never } else { out.ansi };
                crate::term::set(ansi, out.progress);
                if let Some(n) = out.parallel {
                    crate::reconciler::execute::set_parallel_limit(n);
                }
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::FAILURE;
            }
        }
    }
    init_tracing(if cli.global.verbose { "debug" } else { &cli.global.log_level });
    if !helper {
        if let Err(e) = oci::resolve(&mut cli.global) {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    }
    if cli.global.dry_run {
        // Before anything below makes the run dir or the state root's files.
        if let Some(result) = dry_run::run(&cli.global, &cli.command) {
            return exit(result);
        }
    }
    // Held (shared) until this process exits; see ensure_volatile_run_dir.
    let _run_dir_users = match uses_default_run_dir(&cli) && !cli.global.dry_run && nix::unistd::geteuid().is_root() {
        true => match crate::paths::ensure_volatile_run_dir(std::path::Path::new(crate::paths::DEFAULT_RUN_DIR)) {
            Ok((file, _)) => Some(file),
            // Best effort: without it berth works the same, only its run dir sits on disk.
            Err(e) => {
                tracing::debug!("run dir {}: no tmpfs: {e}", crate::paths::DEFAULT_RUN_DIR);
                None
            }
        },
        false => None,
    };
    // Private roots before anything is made in them (see paths::secure_roots); `config` only
    // reads the stack file and needs no state.
    // berth's own helpers (proxy, DNS server, supervisor) are given their paths and touch no
    // other root: without this, each `__proxy` made the default root's directories.
    if nix::unistd::geteuid().is_root() && !stateless && !helper && !cli.global.dry_run {
        let roots = crate::paths::Roots::new(cli.global.root.as_deref());
        if let Err(e) = crate::paths::secure_roots(&roots) {
            eprintln!("error: making berth's state private: {e}");
            return ExitCode::FAILURE;
        }
        // The id kernel object names derive from, made here so a failure stops everything
        // rather than falling back to a name another process of this root would not compute.
        if roots.state != std::path::Path::new(crate::paths::DEFAULT_STATE_DIR) {
            if let Err(e) = crate::rootid::ensure(&roots.state) {
                eprintln!("error: the state root's id ({}): {e}", roots.state.join(crate::rootid::FILE).display());
                return ExitCode::FAILURE;
            }
        }
    }
    let result = match &cli.command {
        Command::Config(args) => config::run(&cli.global, args),
        Command::Convert(args) => convert::run(&cli.global, args),
        Command::Plan(args) => plan::run(&cli.global, args),
        Command::Build(args) => build::run(&cli.global, args),
        Command::Images(args) => project::images(&cli.global, args),
        Command::Volumes(args) => project::volumes(&cli.global, args),
        Command::Create(args) => project::create(&cli.global, args),
        Command::Scale(args) => project::scale(&cli.global, args),
        Command::Version(args) => meta::version(args),
        Command::Completion(args) => meta::completion(args),
        Command::Man(args) => meta::man(args),
        Command::Bridge(_) => meta::bridge(),
        Command::Alpha(args) => viz::run(&cli.global, args),
        Command::Image(args) => images::run_image(&cli.global, args),
        Command::Run(args) if args.quiet => {
            // `run -q`: no progress lines anywhere in the command, as Compose's quiet display.
            crate::term::set(crate::term::ansi(), crate::term::ProgressMode::Quiet);
            run_command(&cli.global, args)
        }
        Command::Run(args) => run_command(&cli.global, args),
        Command::Volume(args) => volume::run(&cli.global, args),
        Command::Network(args) => network::run(&cli.global, args),
        Command::Proxy(args) => network::proxy(args),
        Command::Dns(args) => network::dns(args),
        Command::Ps(args) => ps::run(&cli.global, args),
        Command::Container(args) => container::run(&cli.global, args),
        Command::Logs(args) => logs::run(&cli.global, args),
        Command::Exec(args) => exec::run(&cli.global, args),
        Command::Stop(args) => lifecycle::stop(&cli.global, args),
        Command::Start(args) => lifecycle::start(&cli.global, args),
        Command::Restart(args) => lifecycle::restart(&cli.global, args),
        Command::Kill(args) => lifecycle::kill(&cli.global, args),
        Command::Pause(args) => lifecycle::pause(&cli.global, args),
        Command::Unpause(args) => lifecycle::unpause(&cli.global, args),
        Command::Rm(args) => lifecycle::rm(&cli.global, args),
        Command::Wait(args) => lifecycle::wait(&cli.global, args),
        Command::Top(args) => inspect::top(&cli.global, args),
        Command::Stats(args) => inspect::stats(&cli.global, args),
        Command::Port(args) => inspect::port(&cli.global, args),
        Command::Ls(args) => inspect::ls(&cli.global, args),
        Command::Pull(args) => pull::run_pull(&cli.global, args),
        Command::Push(args) => pull::run_push(&cli.global, args),
        Command::Up(args) => up::run(&cli.global, args),
        Command::Down(args) => down::run(&cli.global, args),
        Command::Supervise(args) => up::supervise(args),
        Command::Watch(args) => watch::run(&cli.global, args),
        Command::Cp(args) => cp::run(&cli.global, args),
        Command::Export(args) => export::export(&cli.global, args),
        Command::Commit(args) => export::commit(&cli.global, args),
        Command::Events(args) => events::run(&cli.global, args),
        Command::Login(args) => login::login(args),
        Command::Logout(args) => login::logout(args),
        Command::Attach(args) => attach::run(&cli.global, args),
        Command::Publish(args) => publish::run(&cli.global, args),
    };
    exit(result)
}

fn exit(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether this process makes or removes things in the default run dir (/run/berth): the
/// commands that run containers or change networks, without `--root`. Commands that only
/// read, or only touch the state dir (config, plan, ps, logs, images, volumes …), leave the
/// run dir and its lock alone.
fn uses_default_run_dir(cli: &Cli) -> bool {
    let default_root = cli.global.root.is_none();
    match &cli.command {
        Command::Supervise(a) => a.run_dir == std::path::Path::new(crate::paths::DEFAULT_RUN_DIR),
        Command::Proxy(a) => a.config.starts_with(crate::paths::DEFAULT_STATE_DIR),
        Command::Dns(a) => a.run == std::path::Path::new(crate::paths::DEFAULT_RUN_DIR),
        Command::Up(_)
        | Command::Create(_)
        | Command::Scale(_)
        | Command::Down(_)
        | Command::Run(_)
        | Command::Start(_)
        | Command::Restart(_)
        | Command::Stop(_)
        | Command::Kill(_)
        | Command::Pause(_)
        | Command::Unpause(_)
        | Command::Rm(_)
        | Command::Container(_)
        | Command::Exec(_)
        | Command::Watch(_)
        | Command::Build(_)
        | Command::Image(_)
        | Command::Network(_) => default_root,
        // A stopped container's cp/export/commit takes the project lock (run/locks).
        Command::Cp(_) | Command::Export(_) | Command::Commit(_) => default_root,
        _ => false,
    }
}

fn init_tracing(level: &str) {
    // netlink-packet-route warns on every dump that newer kernels send longer attributes than it
    // knows (IFLA_INET6_CONF): harmless and nothing a user can act on, so only its errors show.
    let directives = format!("{level},netlink_packet_route=error,netlink_packet_core=error");
    let filter = tracing_subscriber::EnvFilter::try_new(directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Its default reports a failed write with eprintln!, which panics when stderr is a closed
        // pipe (`berth up 2>&1 | head`): a log line that cannot be written is dropped instead.
        .log_internal_errors(false)
        // Colours only for a person at a terminal: not in CI logs, pipes, or the supervisor's
        // log file (its stderr), where escape codes are noise that breaks grep.
        .with_ansi(crate::term::colour(std::io::IsTerminal::is_terminal(&std::io::stderr())))
        .with_target(false)
        .without_time()
        .try_init();
}

/// `berth run NAME`: a service of the stack when NAME names one (as `docker compose run`),
/// else an image (as `docker run`).
fn run_command(g: &GlobalOpts, args: &run::RunArgs) -> anyhow::Result<ExitCode> {
    if !service_run::names_service(g, &args.image) {
        return run::run(g, args);
    }
    for flag in service_run::image_only_flags(args) {
        eprintln!("warning: {flag} is a `docker run` flag; the service `{}` says that, so it is ignored", args.image);
    }
    service_run::run_service(g, &service_run::ServiceRunArgs::from(args))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    /// clap's own consistency checks (unique short flags, valid defaults …) on every command,
    /// which otherwise fire only when that command is first parsed.
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
