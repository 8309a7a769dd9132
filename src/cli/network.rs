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
        /// Subnet, e.g. 10.5.0.0/24 (default: the next free one of the pool); given twice, an
        /// IPv4 and an IPv6 one (fd00:5::/64), which implies --ipv6.
        #[arg(long)]
        subnet: Vec<String>,
        /// Gateway in a --subnet (one per family).
        #[arg(long)]
        gateway: Vec<String>,
        /// An IPv6 subnet too (the next free /64 of berth's ULA pool unless --subnet gives one).
        #[arg(long)]
        ipv6: bool,
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
                    "{:<32} {:<16} {:<18} {:<15} {:<10} {:<10} IPV6 SUBNET",
                    "NAME", "BRIDGE", "SUBNET", "GATEWAY", "INTERNAL", "CONTAINERS"
                );
            }
            for n in nets {
                if *quiet {
                    println!("{}", n.name);
                } else {
                    println!(
                        "{:<32} {:<16} {:<18} {:<15} {:<10} {:<10} {}",
                        n.name,
                        n.bridge,
                        n.subnet,
                        n.gateway,
                        n.internal,
                        n.containers.len(),
                        n.subnet6.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        NetworkCommand::Create { name, subnet, gateway, ipv6, internal } => {
            let of = |v: &[String], six: bool| v.iter().find(|s| s.contains(':') == six).cloned();
            let spec = NetworkSpec {
                name: name.clone(),
                project: global.project_name.clone().unwrap_or_default(),
                internal: *internal,
                subnet: of(subnet, false),
                gateway: of(gateway, false),
                enable_ipv6: *ipv6,
                subnet6: of(subnet, true),
                gateway6: of(gateway, true),
                ..Default::default()
            };
            let info = nm.ensure_network(&spec)?;
            let v6 = info.subnet6.as_deref().map(|s| format!(" {s}")).unwrap_or_default();
            println!("{} {} {}{v6}", info.name, info.bridge, info.subnet);
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
