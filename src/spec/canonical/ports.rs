//! `ports:` short syntax (`[HOST_IP:][HOST:]CONTAINER[/PROTOCOL]`, ranges allowed) → long form.
//!
//! Parsed as docker/go-connections' `nat.ParsePortSpec` does (which Compose uses): the last
//! colon-separated part is the container port, the one before it the host port, everything
//! before that the host IP (in brackets for IPv6). Equal-length ranges on both sides expand
//! into one entry per port; a host range with one container port stays one entry.

use std::net::IpAddr;

use super::super::diag::Diagnostics;
use super::super::yaml::{Node, Value};
use super::{map_node, set_default, str_node};

/// One long-form port entry parsed from short syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    pub target: u16,
    pub published: Option<String>,
    pub host_ip: Option<String>,
    pub protocol: String,
}

/// Parse one short-syntax port spec into its long-form entries.
pub fn parse_port(spec: &str) -> Result<Vec<PortSpec>, String> {
    let spec = spec.trim();
    let (rest, protocol) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, p.to_ascii_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("unknown protocol `{protocol}`; expected tcp, udp or sctp"));
    }
    let (ip, host, container) = split_parts(rest);
    let host_ip = match ip {
        "" => None,
        raw => {
            let bare = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(raw);
            bare.parse::<IpAddr>().map_err(|_| format!("invalid host IP address `{raw}`"))?;
            Some(bare.to_string())
        }
    };
    if container.is_empty() {
        return Err("no container port given".into());
    }
    let (cstart, cend) = parse_range(container)?;
    let hrange = if host.is_empty() { None } else { Some(parse_range(host)?) };
    let clen = cend - cstart;
    if let Some((hs, he)) = hrange {
        if clen != 0 && he - hs != clen {
            return Err(format!(
                "host range {host} and container range {container} differ in length; give ranges of equal length or one container port"
            ));
        }
    }
    let entries = (0..=clen)
        .map(|i| PortSpec {
            target: (cstart + i) as u16,
            published: hrange.map(
                |(hs, he)| {
                    if clen == 0 && he != hs {
                        format!("{hs}-{he}")
                    } else {
                        (hs + i).to_string()
                    }
                },
            ),
            host_ip: host_ip.clone(),
            protocol: protocol.clone(),
        })
        .collect();
    Ok(entries)
}

/// (ip, host, container) from `ip:host:container`, as go-connections splits it.
fn split_parts(raw: &str) -> (&str, &str, &str) {
    if raw.starts_with('[') {
        if let Some(end) = raw.find("]:") {
            let ip = &raw[..=end];
            let rest = &raw[end + 2..];
            return match rest.split_once(':') {
                Some((h, c)) => (ip, h, c),
                None => (ip, "", rest),
            };
        }
    }
    let Some((before, container)) = raw.rsplit_once(':') else { return ("", "", raw) };
    match before.rsplit_once(':') {
        Some((ip, host)) => (ip, host, container),
        None => ("", before, container),
    }
}

/// `8080` or `8000-8010` → (start, end), each within 1-65535.
fn parse_range(text: &str) -> Result<(u32, u32), String> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let (start, end) = (parse_one(a)?, parse_one(b)?);
    if end < start {
        return Err(format!("port range {text} ends before it starts"));
    }
    Ok((start, end))
}

fn parse_one(text: &str) -> Result<u32, String> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) || t.len() > 9 {
        return Err(format!("`{text}` is not a port number"));
    }
    let n: u32 = t.parse().map_err(|_| format!("`{text}` is not a port number"))?;
    if n == 0 || n > 65535 {
        return Err(format!("port {n} is out of range 1-65535"));
    }
    Ok(n)
}

/// Rewrite the `ports:` list of one service.
pub(super) fn canonicalize(node: &mut Node, path: &str, diags: &mut Diagnostics) {
    let Value::Seq(items) = &mut node.value else { return };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in std::mem::take(items).into_iter().enumerate() {
        let ipath = format!("{path}[{i}]");
        match &item.value {
            Value::Int(_) | Value::Str(_) => {
                let text = item.scalar_string().unwrap_or_default();
                match parse_port(&text) {
                    Ok(specs) => out.extend(specs.into_iter().map(|s| spec_node(s, &item))),
                    // Not interpolated (`config --no-interpolate`): kept as written, as
                    // compose-go does when it skips interpolation.
                    Err(_) if text.contains("${") => out.push(item),
                    Err(e) => diags.error(Some(&item.pos), ipath, format!("invalid port `{text}`: {e}")),
                }
            }
            Value::Map(_) => {
                if let Some(n) = long_form(item, &ipath, diags) {
                    out.push(n);
                }
            }
            _ => out.push(item),
        }
    }
    *items = out;
}

fn spec_node(s: PortSpec, at: &Node) -> Node {
    let pos = &at.pos;
    let mut entries = vec![("target", Node::new(Value::Int(i64::from(s.target)), pos.clone()))];
    if let Some(p) = s.published {
        entries.push(("published", str_node(p, pos)));
    }
    if let Some(ip) = s.host_ip {
        entries.push(("host_ip", str_node(ip, pos)));
    }
    entries.push(("protocol", str_node(s.protocol, pos)));
    entries.push(("mode", str_node("ingress", pos)));
    map_node(entries, pos)
}

/// Normalize a long-form entry: target an integer, published a string, protocol and mode set.
fn long_form(mut item: Node, path: &str, diags: &mut Diagnostics) -> Option<Node> {
    let pos = item.pos.clone();
    let map = item.as_map_mut()?;
    if let Some(t) = map.get_mut("target") {
        let text = t.scalar_string().unwrap_or_default();
        match parse_one(&text) {
            Ok(n) => t.value = Value::Int(i64::from(n)),
            Err(e) => {
                diags.error(Some(&t.pos), format!("{path}.target"), format!("invalid target port: {e}"));
                return None;
            }
        }
    }
    if let Some(p) = map.get_mut("published") {
        let text = p.scalar_string().unwrap_or_default();
        if !text.is_empty() {
            if let Err(e) = parse_range(&text) {
                diags.error(Some(&p.pos), format!("{path}.published"), format!("invalid published port: {e}"));
                return None;
            }
        }
        p.value = Value::Str(text);
    }
    if let Some(ip) = map.get("host_ip").and_then(Node::as_str).filter(|ip| !ip.contains("${")) {
        // compose-go validation.checkIPAddress.
        if ip.parse::<IpAddr>().is_err() {
            let at = map.get("host_ip").map_or(&pos, |n| &n.pos);
            diags.error(Some(at), format!("{path}.host_ip"), format!("invalid host IP address `{ip}`"));
            return None;
        }
    }
    if let Some(p) = map.get_mut("protocol") {
        if let Some(s) = p.as_str() {
            p.value = Value::Str(s.to_ascii_lowercase());
        }
    }
    set_default(map, "protocol", str_node("tcp", &pos));
    set_default(map, "mode", str_node("ingress", &pos));
    Some(item)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{canon, svc_key};
    use super::*;
    use serde_json::json;

    /// Each entry as "target|published|host_ip|protocol" ("-" when absent).
    fn one(spec: &str) -> Vec<String> {
        let v = parse_port(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        v.iter()
            .map(|p| {
                let published = p.published.as_deref().unwrap_or("-");
                let ip = p.host_ip.as_deref().unwrap_or("-");
                format!("{}|{published}|{ip}|{}", p.target, p.protocol)
            })
            .collect()
    }

    #[test]
    fn container_only_and_ranges() {
        assert_eq!(one("3000"), ["3000|-|-|tcp"]);
        let r = one("3000-3005");
        assert_eq!(r.len(), 6);
        assert_eq!(r[5], "3005|-|-|tcp");
    }

    #[test]
    fn host_and_container() {
        assert_eq!(one("8000:8000"), ["8000|8000|-|tcp"]);
        assert_eq!(one("49100:22"), ["22|49100|-|tcp"]);
        assert_eq!(one("9090-9091:8080-8081"), ["8080|9090|-|tcp", "8081|9091|-|tcp"]);
        assert_eq!(one("8000-8010:80"), ["80|8000-8010|-|tcp"]);
    }

    #[test]
    fn host_ips_and_protocols() {
        assert_eq!(one("127.0.0.1:8001:8001"), ["8001|8001|127.0.0.1|tcp"]);
        let r = one("127.0.0.1:5000-5010:5000-5010");
        assert_eq!(r.len(), 11);
        assert_eq!(r[10], "5010|5010|127.0.0.1|tcp");
        assert_eq!(one("6060:6060/udp"), ["6060|6060|-|udp"]);
        assert_eq!(one("[::1]:6001:6001"), ["6001|6001|::1|tcp"]);
        assert_eq!(one("127.0.0.1::80"), ["80|-|127.0.0.1|tcp"]);
    }

    #[test]
    fn invalid_specs() {
        let err = |s: &str| parse_port(s).unwrap_err();
        assert_eq!(err("0"), "port 0 is out of range 1-65535");
        assert_eq!(err("99999:80"), "port 99999 is out of range 1-65535");
        assert_eq!(err("80:80:80:80"), "invalid host IP address `80:80`");
        assert!(err("8000-8002:80-81").contains("differ in length"), "{}", err("8000-8002:80-81"));
        assert_eq!(err("abc"), "`abc` is not a port number");
        assert_eq!(err("80/xyz"), "unknown protocol `xyz`; expected tcp, udp or sctp");
        assert_eq!(err("80:"), "no container port given");
    }

    #[test]
    fn tree_rewrite_short_int_and_long() {
        let src = "services:\n  web:\n    ports:\n      - 80\n      - \"127.0.0.1:8001:8001\"\n      - target: \"81\"\n        published: 8081\n";
        assert_eq!(
            svc_key(src, "web", "ports"),
            json!([
                {"target": 80, "protocol": "tcp", "mode": "ingress"},
                {"target": 8001, "published": "8001", "host_ip": "127.0.0.1", "protocol": "tcp", "mode": "ingress"},
                {"target": 81, "published": "8081", "protocol": "tcp", "mode": "ingress"}
            ])
        );
    }

    #[test]
    fn errors_carry_path_and_position() {
        let src = "services:\n  web:\n    ports:\n      - 80\n      - 81\n      - \"99999:80\"\n      - target: 0\n";
        let (root, d) = canon(src);
        let msgs: Vec<String> = d.items.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            msgs,
            vec![
                "c.yaml:6:9: services.web.ports[2]: invalid port `99999:80`: port 99999 is out of range 1-65535",
                "c.yaml:7:17: services.web.ports[3].target: invalid target port: port 0 is out of range 1-65535",
            ]
        );
        assert_eq!(root.to_json()["services"]["web"]["ports"].as_array().map(Vec::len), Some(2));
    }
}
