//! `ports`/`expose` → containerPorts and a Service named like the Compose service, so the
//! other pods reach it by the same host name and the same (target) port as under Compose.

use serde_json::{json, Value};

use crate::spec::model::Protocol;
use crate::spec::Service;

use super::{names, Context, Result, ServiceType};

fn protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
        Protocol::Sctp => "SCTP",
    }
}

/// `expose:` entry → (port, protocol); ranges keep their first port (reported by the caller).
fn parse_expose(e: &str) -> Option<(u16, &'static str, bool)> {
    let (port, proto) = e.split_once('/').unwrap_or((e, "tcp"));
    let (first, ranged) = port.split_once('-').map_or((port, false), |(a, _)| (a, true));
    let proto = match proto {
        "udp" => "UDP",
        "sctp" => "SCTP",
        _ => "TCP",
    };
    first.trim().parse().ok().map(|p| (p, proto, ranged))
}

/// The container's ports (targets and exposed), deduplicated, in a stable order.
fn ports(svc: &Service) -> Vec<(u16, &'static str)> {
    let mut out: Vec<(u16, &'static str)> = svc.ports.iter().map(|p| (p.target, protocol(p.protocol))).collect();
    out.extend(svc.expose.iter().filter_map(|e| parse_expose(e)).map(|(p, proto, _)| (p, proto)));
    out.sort();
    out.dedup();
    out
}

/// The port a dependent waits on: the first published or exposed port, in file order.
pub fn first_port(svc: &Service) -> Option<u16> {
    svc.ports.first().map(|p| p.target).or_else(|| svc.expose.iter().find_map(|e| parse_expose(e)).map(|p| p.0))
}

/// A port's name: the Compose `name` when Kubernetes accepts it (an IANA service name:
/// at most 15 of `[a-z0-9-]`, a letter, no hyphen at either end or twice), else `tcp-PORT`.
fn port_name(svc: &Service, port: u16, proto: &str) -> String {
    let given =
        svc.ports.iter().find(|p| p.target == port && protocol(p.protocol) == proto).and_then(|p| p.name.as_deref());
    match given {
        Some(n) if is_iana_name(n) => n.to_string(),
        _ => format!("{}-{port}", proto.to_lowercase()),
    }
}

fn is_iana_name(n: &str) -> bool {
    n.len() <= 15
        && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && n.chars().any(|c| c.is_ascii_lowercase())
        && !n.starts_with('-')
        && !n.ends_with('-')
        && !n.contains("--")
}

pub fn container_ports(ctx: &mut Context, name: &str, svc: &Service) -> Vec<Value> {
    for p in &svc.ports {
        if p.name.as_deref().is_some_and(|n| !is_iana_name(n)) {
            ctx.report.loss(
                format!("services.{name}.ports"),
                format!(
                    "port name `{}` is not a valid Kubernetes port name: the port is named `{}`",
                    p.name.as_deref().unwrap_or(""),
                    port_name(svc, p.target, protocol(p.protocol))
                ),
            );
        }
    }
    ports(svc)
        .into_iter()
        .map(|(p, proto)| json!({ "containerPort": p, "protocol": proto, "name": port_name(svc, p, proto) }))
        .collect()
}

/// The Service of a Compose service with ports or expose.
pub fn convert_ports(ctx: &mut Context, name: &str, svc: &Service) -> Result<()> {
    let at = format!("services.{name}");
    let list = ports(svc);
    if list.is_empty() {
        return Ok(());
    }
    for e in &svc.expose {
        match parse_expose(e) {
            Some((_, _, true)) => {
                ctx.report.loss(format!("{at}.expose"), format!("range `{e}`: only its first port is in the Service"))
            }
            None => ctx.report.loss(format!("{at}.expose"), format!("`{e}` is not a port")),
            _ => {}
        }
    }
    let published: Vec<&crate::spec::model::Port> = svc.ports.iter().collect();
    let ty = if published.is_empty() { ServiceType::ClusterIp } else { ctx.opts.service_type.unwrap_or_default() };
    if !published.is_empty() && ctx.opts.service_type.is_none() {
        ctx.report.note(
            format!("{at}.ports"),
            "published ports become a ClusterIP Service, reachable only inside the cluster (choose --service-type NodePort|LoadBalancer, or use kubectl port-forward)",
        );
    }
    let mut svc_ports = Vec::new();
    for (port, proto) in &list {
        let mut p =
            json!({ "name": port_name(svc, *port, proto), "port": port, "targetPort": port, "protocol": proto });
        let publ = published.iter().find(|x| x.target == *port && protocol(x.protocol) == *proto);
        if let Some(publ) = publ {
            report_published(ctx, &at, publ, ty, &mut p);
            if let Some(app) = &publ.app_protocol {
                p["appProtocol"] = json!(app);
            }
        }
        svc_ports.push(p);
    }
    let dns = names::dns_label(name);
    let body = json!({
        "apiVersion": "v1", "kind": "Service", "metadata": ctx.metadata(&dns, ctx.service_labels(&dns)),
        "spec": { "type": ty.as_str(), "selector": ctx.selector(&dns), "ports": svc_ports },
    });
    let targets = published.iter().map(|p| (p.target, protocol(p.protocol).to_string())).collect::<Vec<_>>();
    if !targets.is_empty() {
        ctx.published.insert(dns.clone(), targets);
    }
    ctx.add(&at, body)
}

/// What of a published port the Service carries: with NodePort, a host port in the node
/// port range becomes the nodePort; host IPs, other host ports and ranges are reported.
fn report_published(ctx: &mut Context, at: &str, p: &crate::spec::model::Port, ty: ServiceType, out: &mut Value) {
    let at = format!("{at}.ports");
    if p.mode == "host" {
        ctx.report.loss(
            &at,
            format!("mode: host of port {}: the port is published through the Service, not on the node of each pod (hostPort)", p.target),
        );
    }
    if p.host_ip.as_deref().is_some_and(|ip| !ip.is_empty() && ip != "0.0.0.0" && ip != "::") {
        ctx.report.loss(
            &at,
            format!(
                "host_ip `{}` of port {}: a Service does not bind a host address",
                p.host_ip.as_deref().unwrap_or(""),
                p.target
            ),
        );
    }
    let Some(published) = &p.published else { return };
    let single = published.parse::<u16>().ok();
    match (ty, single) {
        (ServiceType::NodePort, Some(n)) if (30000..=32767).contains(&n) => out["nodePort"] = json!(n),
        (ServiceType::NodePort, _) => ctx.report.loss(
            &at,
            format!(
                "host port {published} of {}: outside the node port range 30000-32767, a node port is assigned",
                p.target
            ),
        ),
        (ServiceType::LoadBalancer, Some(n)) if n == p.target => {}
        (ServiceType::LoadBalancer, _) => ctx
            .report
            .loss(&at, format!("host port {published} of {}: the load balancer listens on {}", p.target, p.target)),
        (ServiceType::ClusterIp, _) => {}
    }
}

/// Network aliases → one more Service per alias, selecting the same pods on the same ports,
/// so the alias resolves as under Compose (namespace-wide, not per network). Run after every
/// service is converted, so an alias never takes a service's own name.
pub fn convert_aliases(ctx: &mut Context) -> Result<()> {
    let stack = ctx.stack;
    for (name, svc) in &stack.services {
        if !ctx.opts.services.is_empty() && !ctx.opts.services.contains(name) {
            continue;
        }
        let mut aliases: Vec<(&String, &String)> =
            svc.networks.iter().flat_map(|(net, n)| n.aliases.iter().map(move |a| (net, a))).collect();
        aliases.sort_by(|a, b| a.1.cmp(b.1));
        let dns = names::dns_label(name);
        for (net, alias) in aliases {
            let at = format!("services.{name}.networks.{net}.aliases");
            let alias_dns = names::dns_label(alias);
            let Some(own) = ctx.get("Service", &dns).cloned() else {
                ctx.report.loss(
                    &at,
                    format!("alias `{alias}`: `{name}` has no ports or expose, so there is no Service to alias"),
                );
                continue;
            };
            if alias_dns == dns {
                continue;
            }
            if ctx.get("Service", &alias_dns).is_some() {
                ctx.report.loss(&at, format!("alias `{alias}`: a Service `{alias_dns}` already exists"));
                continue;
            }
            if alias_dns != *alias {
                ctx.report
                    .loss(&at, format!("alias `{alias}` is not a valid Kubernetes name: its Service is `{alias_dns}`"));
            }
            let mut spec = own.body["spec"].clone();
            spec["type"] = json!("ClusterIP");
            if let Some(ports) = spec["ports"].as_array_mut() {
                ports.iter_mut().filter_map(Value::as_object_mut).for_each(|p| {
                    p.remove("nodePort");
                });
            }
            let body = json!({ "apiVersion": "v1", "kind": "Service", "metadata": ctx.metadata(&alias_dns, ctx.service_labels(&dns)), "spec": spec });
            ctx.add(&at, body)?;
            ctx.report.note(
                &at,
                format!("alias `{alias}`: a Service of its own, resolvable from every pod of the namespace"),
            );
        }
    }
    Ok(())
}
