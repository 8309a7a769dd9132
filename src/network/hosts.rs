//! Service discovery by managed files: each container gets its own /etc/hosts, /etc/resolv.conf
//! and /etc/hostname under `Roots.run/network/<id>/`, bind-mounted into it. On every
//! register/unregister, the hosts file of every container sharing a network with the changed
//! one is rewritten IN PLACE (truncate + write on the same inode): a rename would leave the
//! container's bind mount pointing at the old inode. No resolver daemon is needed, and glibc's
//! files NSS module (built into the static busybox of the test image since glibc 2.34) reads it.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;

use super::error::{NetworkError, Result};
use super::store::SandboxRecord;
use super::HostsSpec;

/// One container's view of the names it can resolve: one line per address, each name once on
/// it (an alias repeating the service or container name, a peer seen through two endpoints,
/// or the container's own hostname never print a name or a line twice).
pub fn render_hosts(own: &SandboxRecord, all: &[SandboxRecord]) -> String {
    let mut out = HostsLines::default();
    out.push("127.0.0.1", ["localhost"]);
    out.push("::1", ["localhost", "ip6-localhost", "ip6-loopback"]);
    let spec = own.hosts.clone().unwrap_or_default();
    if let (Some(ep), Some(host)) = (own.endpoints.first(), spec.hostname.as_deref()) {
        let fqdn = spec.domainname.as_deref().filter(|d| !d.is_empty()).map(|d| format!("{host}.{d}"));
        for ip in std::iter::once(&ep.ip).chain(&ep.ip6) {
            out.push(ip, fqdn.as_deref().into_iter().chain([host]));
        }
    }
    // Peers, in the order of this container's networks, so its first network's addresses
    // come first; a name on a network this container is not on never appears.
    for ep in &own.endpoints {
        for peer in all {
            let Some(reg) = &peer.registration else { continue };
            for (ip, aliases) in reg.addresses_on(&ep.network) {
                let names = [&reg.service, &reg.container_name].into_iter().chain(aliases);
                out.push(ip, names.map(String::as_str));
            }
        }
    }
    for (host, ips) in &spec.extra_hosts {
        for ip in ips {
            out.push(ip, [host.as_str()]);
        }
    }
    out.text()
}

/// Hosts-file lines without repeats, as Docker writes them: one line per address with all its
/// names (in the order they first came), each name once; an address without names is left out.
#[derive(Default)]
struct HostsLines {
    lines: Vec<(String, Vec<String>)>,
}

impl HostsLines {
    fn push<'a>(&mut self, ip: &str, names: impl IntoIterator<Item = &'a str>) {
        let at = match self.lines.iter().position(|(i, _)| i == ip) {
            Some(at) => at,
            None => {
                self.lines.push((ip.to_string(), Vec::new()));
                self.lines.len() - 1
            }
        };
        let line = &mut self.lines[at].1;
        for n in names {
            if !n.is_empty() && !line.iter().any(|have| have == n) {
                line.push(n.to_string());
            }
        }
    }

    fn text(&self) -> String {
        let lines = self.lines.iter().filter(|(_, names)| !names.is_empty());
        lines.map(|(ip, names)| format!("{ip}\t{}\n", names.join(" "))).collect()
    }
}

/// resolv.conf: the embedded server when the container uses it (it forwards to `dns:` or the
/// host's nameservers; Docker's `options ndots:0` unless `dns_opt` sets ndots); else `dns:`
/// when given, else the host's nameservers minus loopback ones (127.0.0.0/8 and ::1 would
/// point into the container's own netns, where nothing listens).
pub fn render_resolv(spec: &HostsSpec, host_resolv: &str) -> String {
    if spec.embedded_dns {
        return render_embedded_resolv(spec, host_resolv);
    }
    let mut servers: Vec<String> = spec.dns.clone();
    let mut search: Vec<String> = spec.dns_search.clone();
    let mut options: Vec<String> = spec.dns_opt.clone();
    for line in host_resolv.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), spec.dns.is_empty()) {
            (Some("nameserver"), true) => {
                if let Some(ns) = words.next().filter(|ns| !is_loopback(ns)) {
                    servers.push(ns.to_string());
                }
            }
            (Some("search" | "domain"), _) if spec.dns_search.is_empty() => search.extend(words.map(String::from)),
            (Some("options"), _) if spec.dns_opt.is_empty() => options.extend(words.map(String::from)),
            _ => {}
        }
    }
    let mut out = String::new();
    for s in servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

fn render_embedded_resolv(spec: &HostsSpec, host_resolv: &str) -> String {
    let mut search: Vec<String> = spec.dns_search.clone();
    let mut options: Vec<String> = spec.dns_opt.clone();
    for line in host_resolv.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("search" | "domain") if spec.dns_search.is_empty() => search.extend(words.map(String::from)),
            Some("options") if spec.dns_opt.is_empty() => options.extend(words.map(String::from)),
            _ => {}
        }
    }
    if !options.iter().any(|o| o.starts_with("ndots:")) {
        options.insert(0, "ndots:0".into());
    }
    let mut out = format!("nameserver {}\n", super::dns::LISTEN);
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    out.push_str(&format!("options {}\n", options.join(" ")));
    if !spec.dns.is_empty() {
        out.push_str(&format!("# ExtServers: [{}]\n", spec.dns.join(" ")));
    }
    out
}

fn is_loopback(ns: &str) -> bool {
    ns == "::1" || ns.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Rewrites `path` in place: same inode, truncated, then written (see the module doc).
pub fn write_in_place(path: &Path, content: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| NetworkError::io(parent, e))?;
    }
    let mut f =
        OpenOptions::new().create(true).write(true).truncate(true).open(path).map_err(|e| NetworkError::io(path, e))?;
    f.write_all(content.as_bytes()).map_err(|e| NetworkError::io(path, e))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::network::{Endpoint, Registration};

    /// A registered sandbox on `nets` ((network, ip)); also used by the DNS table's tests.
    pub(crate) fn sandbox(id: &str, nets: &[(&str, &str)], service: &str, aliases: &[&str]) -> SandboxRecord {
        SandboxRecord {
            id: id.into(),
            endpoints: nets
                .iter()
                .enumerate()
                .map(|(i, (n, ip))| Endpoint {
                    network: n.to_string(),
                    ifname: format!("eth{i}"),
                    ip: ip.to_string(),
                    mac: String::new(),
                    ip6: None,
                })
                .collect(),
            registration: Some(Registration {
                container_id: id.into(),
                project: "p".into(),
                service: service.into(),
                container_name: id.into(),
                networks: nets
                    .iter()
                    .map(|(n, ip)| (n.to_string(), ip.to_string(), aliases.iter().map(|a| a.to_string()).collect()))
                    .collect(),
                networks6: Vec::new(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn hosts_list_only_shared_networks() {
        let web = sandbox("p-web-1", &[("p_front", "10.0.0.2")], "web", &["www"]);
        let db = sandbox("p-db-1", &[("p_back", "10.0.1.2")], "db", &[]);
        let api = sandbox("p-api-1", &[("p_front", "10.0.0.3"), ("p_back", "10.0.1.3")], "api", &[]);
        let all = vec![web.clone(), db.clone(), api.clone()];
        let h = render_hosts(&web, &all);
        assert!(h.contains("10.0.0.2\tweb p-web-1 www\n"), "{h}");
        assert!(h.contains("10.0.0.3\tapi p-api-1\n"), "{h}");
        assert!(!h.contains("db"), "db is not on front: {h}");
        let h = render_hosts(&api, &all);
        assert!(h.contains("10.0.1.2\tdb p-db-1\n") && h.contains("10.0.1.3\tapi"), "{h}");
    }

    #[test]
    fn hosts_list_each_name_once_per_address() {
        // Aliases repeating the service and container names (as the reconciler may give them),
        // and the container's own hostname being its service name.
        let mut web = sandbox("p-web-1", &[("p_front", "10.0.0.2")], "web", &["web", "www", "p-web-1", "www"]);
        web.hosts = Some(HostsSpec { hostname: Some("web".into()), ..Default::default() });
        let twice = sandbox("p-api-1", &[("p_front", "10.0.0.3"), ("p_front", "10.0.0.3")], "api", &["api"]);
        let h = render_hosts(&web, &[web.clone(), twice, web.clone()]);
        assert!(h.contains("10.0.0.2\tweb p-web-1 www\n"), "{h}");
        assert_eq!(h.matches("10.0.0.2").count(), 1, "{h}");
        assert_eq!(h.matches("10.0.0.3").count(), 1, "{h}");
        for line in h.lines() {
            let names: Vec<&str> = line.split_whitespace().skip(1).collect();
            let mut uniq = names.clone();
            uniq.sort();
            uniq.dedup();
            assert_eq!(names.len(), uniq.len(), "a name repeated on a line: {h}");
        }
    }

    #[test]
    fn hostname_and_extra_hosts() {
        let mut web = sandbox("p-web-1", &[("p_front", "10.0.0.2")], "web", &[]);
        let mut spec =
            HostsSpec { hostname: Some("w".into()), domainname: Some("example.org".into()), ..Default::default() };
        spec.extra_hosts.insert("gw".into(), vec!["10.0.0.1".into()]);
        web.hosts = Some(spec);
        let h = render_hosts(&web, &[]);
        assert!(h.contains("10.0.0.2\tw.example.org w\n"), "{h}");
        assert!(h.ends_with("10.0.0.1\tgw\n"), "{h}");
    }

    #[test]
    fn resolv_drops_loopback_and_honours_dns() {
        let host = "nameserver 127.0.0.53\nnameserver 10.9.9.9\nsearch corp\noptions edns0\n";
        let r = render_resolv(&HostsSpec::default(), host);
        assert_eq!(r, "nameserver 10.9.9.9\nsearch corp\noptions edns0\n");
        let spec = HostsSpec { dns: vec!["1.1.1.1".into()], dns_search: vec!["x".into()], ..Default::default() };
        assert_eq!(render_resolv(&spec, host), "nameserver 1.1.1.1\nsearch x\noptions edns0\n");
    }

    #[test]
    fn embedded_resolv_points_at_the_server_and_keeps_search_and_options() {
        let host = "nameserver 127.0.0.53\nsearch corp\noptions edns0\n";
        let spec = HostsSpec { embedded_dns: true, ..Default::default() };
        assert_eq!(render_resolv(&spec, host), "nameserver 127.0.0.11\nsearch corp\noptions ndots:0 edns0\n");
        let spec = HostsSpec {
            embedded_dns: true,
            dns: vec!["1.1.1.1".into()],
            dns_opt: vec!["ndots:2".into()],
            ..Default::default()
        };
        assert_eq!(
            render_resolv(&spec, host),
            "nameserver 127.0.0.11\nsearch corp\noptions ndots:2\n# ExtServers: [1.1.1.1]\n"
        );
    }

    #[test]
    fn in_place_keeps_the_inode() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hosts");
        write_in_place(&p, "a long first version\n").unwrap();
        let ino = fs::metadata(&p).unwrap().ino();
        write_in_place(&p, "v2\n").unwrap();
        assert_eq!(fs::metadata(&p).unwrap().ino(), ino);
        assert_eq!(fs::read_to_string(&p).unwrap(), "v2\n");
    }
}
