//! `berth network ls|create|rm`, and the hidden `berth __proxy CONFIG` (the per-project port
//! proxy started detached by the network layer; see src/network/proxy.rs) and `berth __dns`
//! (the root's embedded DNS server; see src/network/dns).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::GlobalOpts;
use crate::network::{NetworkManager, NetworkSpec};
use crate::paths::Roots;

#[derive(Debug, Args)]
pub struct NetworkArgs {
    #[command(subcommand)]
    pub command: NetworkCommand,
}

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// List networks (of the project given by -p; all otherwise).
    #[command(alias = "list")]
    Ls {
        /// Only print network names.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Create a network (for use as `external: true`).
    Create {
        name: String,
        /// Subnet, e.g. 10.5.0.0/24 (default: the next free one of the pool).
        #[arg(long)]
        subnet: Option<String>,
        #[arg(long)]
        gateway: Option<String>,
        /// No route off the bridge.
        #[arg(long)]
        internal: bool,
    },
    /// Remove networks (refused while containers are attached).
    #[command(alias = "remove")]
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct DnsArgs {
    /// The state root's state dir.
    #[arg(long)]
    pub state: PathBuf,
    /// The state root's run dir.
    #[arg(long)]
    pub run: PathBuf,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// The proxy's configuration file.
    pub config: PathBuf,
}

pub fn run(global: &GlobalOpts, args: &NetworkArgs) -> anyhow::Result<ExitCode> {
    let nm = NetworkManager::new(&Roots::new(global.root.as_deref()));
    match &args.command {
        NetworkCommand::Ls { quiet } => {
            let nets = nm.list_networks(global.project_name.as_deref())?;
            if !quiet {
                println!(
                    "{:<32} {:<16} {:<18} {:<15} {:<10} CONTAINERS",
                    "NAME", "BRIDGE", "SUBNET", "GATEWAY", "INTERNAL"
                );
            }
            for n in nets {
                if *quiet {
                    println!("{}", n.name);
                } else {
                    println!(
                        "{:<32} {:<16} {:<18} {:<15} {:<10} {}",
                        n.name,
                        n.bridge,
                        n.subnet,
                        n.gateway,
                        n.internal,
                        n.containers.len()
                    );
                }
            }
        }
        NetworkCommand::Create { name, subnet, gateway, internal } => {
            let spec = NetworkSpec {
                name: name.clone(),
                project: global.project_name.clone().unwrap_or_default(),
                internal: *internal,
                subnet: subnet.clone(),
                gateway: gateway.clone(),
                ..Default::default()
            };
            let info = nm.ensure_network(&spec)?;
            println!("{} {} {}", info.name, info.bridge, info.subnet);
        }
        NetworkCommand::Rm { names } => {
            for n in names {
                nm.remove_network(n).with_context(|| format!("removing network `{n}`"))?;
                println!("{n}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `berth __proxy CONFIG`: runs until its configuration is empty or it gets SIGTERM.
/// It lives in berth's helpers' cgroup, like the monitors (see runtime::cgroup_home): out of
/// its starter's cgroup before any thread exists.
pub fn proxy(args: &ProxyArgs) -> anyhow::Result<ExitCode> {
    if let Err(e) = crate::runtime::cgroup_home::enter() {
        tracing::warn!(error = %crate::errchain::chain(&e), "cannot move to berth's helpers' cgroup; stopping the caller's unit or session would stop the port proxy");
    }
    let result = crate::network::proxy::run(&args.config);
    crate::runtime::cgroup_home::leave();
    result.with_context(|| format!("port proxy {}", args.config.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// `berth __dns --state DIR --run DIR`: the root's embedded DNS server (src/network/dns),
/// until its last container is gone or SIGTERM; in berth's helpers' cgroup like the proxy.
pub fn dns(args: &DnsArgs) -> anyhow::Result<ExitCode> {
    if let Err(e) = crate::runtime::cgroup_home::enter() {
        tracing::warn!(error = %crate::errchain::chain(&e), "cannot move to berth's helpers' cgroup; stopping the caller's unit or session would stop the DNS server");
    }
    let roots = Roots { state: args.state.clone(), run: args.run.clone() };
    let result = crate::network::dns::run(&roots);
    crate::runtime::cgroup_home::leave();
    result.with_context(|| format!("embedded DNS server of {}", args.state.display()))?;
    Ok(ExitCode::SUCCESS)
}
