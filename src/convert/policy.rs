//! `networks` → NetworkPolicies reproducing Compose's isolation: each pod carries a label
//! per network it joins; a pod accepts traffic only from pods sharing one of its networks
//! (plus, for published ports, from anywhere on those ports). Pods on an `internal` network
//! may only reach their network's pods and the cluster DNS; other pods may reach anything
//! (NetworkPolicies add up, so one non-internal network lifts the egress limit, as a
//! second, non-internal Compose network does).

use serde_json::{json, Value};

use super::{names, Context, Result};

/// The label marking a pod as a member of network `net`.
pub fn network_label(net: &str) -> String {
    format!("network.berth.dev/{}", names::dns_label(net))
}

fn dns_egress() -> Value {
    json!({
        "to": [{
            "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "kube-system" } },
            "podSelector": { "matchLabels": { "k8s-app": "kube-dns" } },
        }],
        "ports": [{ "port": 53, "protocol": "UDP" }, { "port": 53, "protocol": "TCP" }],
    })
}

pub fn convert_networks(ctx: &mut Context) -> Result<()> {
    let used = std::mem::take(&mut ctx.networks_used);
    for (net, members) in &used {
        let at = format!("networks.{net}");
        let network = ctx.stack.networks.get(net).cloned().unwrap_or_default();
        if network.external {
            ctx.report.note(
                &at,
                "external: converted as a network of this project only (pods of other stacks are not selected)",
            );
        }
        if network.driver.as_deref().is_some_and(|d| d != "bridge")
            || !network.driver_opts.is_empty()
            || network.ipam.is_some()
        {
            ctx.report
                .loss(&at, "driver, driver_opts and ipam are not converted (the cluster's network plugin decides)");
        }
        if network.enable_ipv6 {
            ctx.report.loss(&at, "enable_ipv6: the cluster's IP families decide");
        }
        let label = network_label(net);
        let peers = json!({ "podSelector": { "matchLabels": { label.clone(): "true" } } });
        let egress = if network.internal { json!([{ "to": [peers] }, dns_egress()]) } else { json!([{}]) };
        let name = names::dns_label(&format!("net-{net}"));
        for k in network.other.keys() {
            ctx.report.loss(format!("{at}.{k}"), "not converted");
        }
        if network.attachable {
            ctx.report.note(
                format!("{at}.attachable"),
                "no meaning in Kubernetes: any pod of the namespace may be given the network's label",
            );
        }
        let mut labels = ctx.project_labels();
        labels.insert("app.kubernetes.io/name".into(), json!(name));
        let mut metadata = ctx.metadata(&name, Value::Object(labels));
        let annotations = super::annotations(ctx, &format!("{at}.labels"), &network.labels);
        if !annotations.is_empty() {
            metadata["annotations"] = Value::Object(annotations);
        }
        let body = json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": metadata,
            "spec": {
                "podSelector": { "matchLabels": { label: "true" } },
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{ "from": [peers] }],
                "egress": egress,
            },
        });
        ctx.add(&at, body)?;
        ctx.report.note(
            &at,
            format!(
                "NetworkPolicy `{name}` for {}: enforced only by a network plugin that implements NetworkPolicy",
                members.join(", ")
            ),
        );
    }
    let published = std::mem::take(&mut ctx.published);
    for (dns, ports) in &published {
        let name = names::dns_label(&format!("{dns}-published"));
        let ports: Vec<Value> = ports.iter().map(|(p, proto)| json!({ "port": p, "protocol": proto })).collect();
        let body = json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": ctx.metadata(&name, ctx.service_labels(dns)),
            "spec": { "podSelector": { "matchLabels": ctx.selector(dns) }, "policyTypes": ["Ingress"], "ingress": [{ "ports": ports }] },
        });
        ctx.add(&format!("services.{dns}.ports"), body)?;
    }
    Ok(())
}
