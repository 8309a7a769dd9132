//! Containers on berth networks, as root with the busybox fixture: name resolution through the
//! managed /etc/hosts (service names, aliases, recreation at a new address), isolation between
//! networks, internal networks, published ports served by a container, and cleanup.

#[path = "network_common/mod.rs"]
mod common;
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use berth::common::{PortRequest, Protocol};
use berth::network::{Attachment, HostsSpec, Registration};
use berth::runtime::{logs, ContainerConfig, NetNs, ProcessConfig, Runtime, Status};
use common::*;

struct Ctx {
    net: NetEnv,
    rt: Runtime,
    rootfs: std::path::PathBuf,
}

impl Drop for Ctx {
    fn drop(&mut self) {
        for st in self.rt.list().unwrap_or_default() {
            let _ = self.rt.remove(&st.id, true);
            let _ = self.net.nm.teardown_sandbox(&st.id);
        }
    }
}

fn ctx(tag: &str) -> Ctx {
    let net = common::env(tag);
    let rootfs = support::busybox_rootfs(net.dir.path());
    let rt = Runtime::new(&net.roots).with_helper(env!("CARGO_BIN_EXE_berth-monitor"));
    Ctx { net, rt, rootfs }
}

/// Runs container `name` of `service` on `nets` ((key, aliases, ipv4)) with `script`, the way
/// the reconciler will: sandbox, attach, hosts files, create, start, register.
fn start(c: &Ctx, name: &str, service: &str, nets: &[(&str, &[&str], Option<&str>)], script: &str) -> String {
    let id = c.net.id(name);
    let nm = &c.net.nm;
    let netns = nm.create_sandbox(&id).unwrap();
    let atts: Vec<Attachment> = nets
        .iter()
        .map(|(k, aliases, ip)| Attachment {
            network: c.net.net(k),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            ipv4_address: ip.map(String::from),
            ipv6_address: None,
            mac_address: None,
        })
        .collect();
    let eps = nm.attach(&id, &atts).unwrap();
    let mounts = nm.hosts_files(&id, &HostsSpec { hostname: Some(name.into()), ..Default::default() }).unwrap();
    let cfg = ContainerConfig {
        id: id.clone(),
        name: id.clone(),
        layers: vec![c.rootfs.clone()],
        process: ProcessConfig {
            args: vec!["sh".into(), "-c".into(), script.into()],
            env: vec!["PATH=/bin:/usr/bin".into()],
            ..Default::default()
        },
        hostname: Some(name.into()),
        namespaces: berth::runtime::NamespaceConfig { net: NetNs::Path(netns), ..Default::default() },
        mounts,
        stop_grace: Some(Duration::from_secs(1)),
        ..Default::default()
    };
    c.rt.create(&cfg).unwrap();
    c.rt.start(&id).unwrap();
    let networks =
        eps.iter().zip(&atts).map(|(ep, att)| (ep.network.clone(), ep.ip.clone(), att.aliases.clone())).collect();
    nm.register(&Registration {
        container_id: id.clone(),
        project: c.net.project.clone(),
        service: service.into(),
        container_name: id.clone(),
        networks,
        ..Default::default()
    })
    .unwrap();
    id
}

/// Waits for container `id` to exit; returns (code, output).
fn finish(c: &Ctx, id: &str) -> (i32, String) {
    let st = c.rt.wait_timeout(id, Duration::from_secs(60)).unwrap().expect("container did not exit");
    let code = match st.status {
        Status::Exited { code, .. } => code,
        other => panic!("unexpected status {other:?}"),
    };
    let out = logs::read_all(&c.rt.log_path(id)).into_iter().map(|l| l.log).collect();
    (code, out)
}

fn remove(c: &Ctx, id: &str) {
    c.rt.remove(id, true).unwrap();
    c.net.nm.teardown_sandbox(id).unwrap();
}

const HTTPD: &str = "mkdir -p /tmp/www && echo $MSG > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www";

fn httpd(msg: &str) -> String {
    HTTPD.replace("$MSG", msg)
}

/// Retries a command for up to ~10 s (the server may still be starting).
fn retry(cmd: &str) -> String {
    format!("(for i in $(seq 100); do if {cmd}; then exit 0; fi; sleep 0.1; done; exit 1)")
}

#[test]
fn services_talk_by_name_and_alias_and_find_a_recreated_peer() {
    if !support::require_root() {
        return;
    }
    let c = ctx("dns");
    let info = c.net.ensure("default", false);
    let web = start(&c, "web-1", "web", &[("default", &["www"], None)], &httpd("v1"));
    let old_ip = c.net.nm.endpoints(&web).unwrap()[0].ip.clone();
    // The replacement gets another address (a freed one would otherwise be reused).
    let new_ip = format!("{}.77", info.gateway.rsplit_once('.').unwrap().0);
    assert_ne!(old_ip, new_ip);
    let client = start(
        &c,
        "client-1",
        "client",
        &[("default", &[], None)],
        &format!(
            "{} && {} && ping -c1 -W2 {} >/dev/null && echo by-name-ok; \
             {} && echo recreated-ok; cat /etc/hosts",
            retry("timeout 5 wget -qO- http://web:8080/ | grep -q v1"),
            retry("timeout 5 wget -qO- http://www:8080/ | grep -q v1"),
            web,
            retry("timeout 5 wget -qO- http://web:8080/ 2>/dev/null | grep -q v2"),
        ),
    );
    // Let the client see v1, then replace web with a v2 at another address.
    std::thread::sleep(Duration::from_millis(1500));
    remove(&c, &web);
    let web = start(&c, "web-1", "web", &[("default", &["www"], Some(new_ip.as_str()))], &httpd("v2"));
    let (code, out) = finish(&c, &client);
    assert_eq!(code, 0, "exit {code}: {out}");
    assert!(out.contains(&format!("{new_ip}\tweb {web} www")), "{out}");
    assert!(out.contains("by-name-ok") && out.contains("recreated-ok"), "{out}");
    remove(&c, &client);
    remove(&c, &web);
    teardown_and_check(&c.net, &[], &["default"]);
    assert_clean(&c.net, &["web-1", "client-1"], &["default"]);
}

#[test]
fn names_on_other_networks_do_not_resolve_and_internal_has_no_route() {
    if !support::require_root() {
        return;
    }
    let c = ctx("iso");
    c.net.ensure("front", false);
    c.net.ensure("back", true);
    let web = start(&c, "web-1", "web", &[("front", &[], None)], &httpd("x"));
    let db = start(
        &c,
        "db-1",
        "db",
        &[("back", &[], None)],
        "sleep 0.5; if ping -c1 -W1 web >/dev/null 2>&1; then echo resolved; fi; ip route; echo done",
    );
    let (code, out) = finish(&c, &db);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("resolved"), "web resolved from another network: {out}");
    assert!(!out.contains("default"), "internal network has a default route: {out}");
    assert!(out.contains("done"), "{out}");
    remove(&c, &db);
    remove(&c, &web);
    teardown_and_check(&c.net, &[], &["front", "back"]);
    assert_clean(&c.net, &["web-1", "db-1"], &["front", "back"]);
}

#[test]
fn published_port_of_a_container_answers_on_localhost() {
    if !support::require_root() {
        return;
    }
    let c = ctx("cpub");
    c.net.ensure("default", false);
    let web = start(&c, "web-1", "web", &[("default", &[], None)], &httpd("hello-from-web"));
    let ports =
        [PortRequest { target: 8080, published: None, host_ip: Some("127.0.0.1".into()), protocol: Protocol::Tcp }];
    c.net.nm.check_ports_free(&c.net.project, "web", &ports).unwrap();
    let published = c.net.nm.publish(&web, &c.net.project, &ports).unwrap();
    let mut body = String::new();
    for _ in 0..100 {
        body.clear();
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", published[0].host_port)) {
            let _ = s.write_all(b"GET / HTTP/1.0\r\n\r\n");
            let _ = s.read_to_string(&mut body);
            if body.contains("hello-from-web") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(body.contains("hello-from-web"), "{body}");
    remove(&c, &web);
    teardown_and_check(&c.net, &[], &["default"]);
    assert_clean(&c.net, &["web-1"], &["default"]);
}
