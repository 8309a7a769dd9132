//! `berth config` against compose-go's normalization, field by field, on a full example: a
//! stack written for this test in the spirit of compose-go's former loader/full-example.yml
//! (every kind of key, short and long forms, env and label files, merges of defaults), and the
//! model `docker compose config --format json` prints for it (compose-go's normalization and
//! JSON marshalling), written out below.
//!
//! The two are compared as JSON values after the documented representation differences
//! (README, "Compose compatibility") are applied to compose-go's document, each by a named
//! rule in [`as_berth_prints`]: a remaining difference is a failure, listed field by field.

#![recursion_limit = "512"]

use std::path::Path;

use serde_json::{json, Value};

use berth::spec::load::{load, LoadOptions};

const STACK: &str = r#"
name: Conformance_Example
services:
  builder:
    build:
      dockerfile_inline: |
        FROM busybox
        RUN true
  api:
    annotations: [org.example.team=core]
    build:
      context: ./src
      dockerfile: Containerfile
      args:
        VERSION: "1.2"
        FROM_ENV:
        NOT_SET:
      ssh: [default]
      target: prod
      network: host
      cache_from: [api:cache]
      labels: [stage=build]
      additional_contexts:
        assets: ./assets
        base: docker-image://busybox
      secrets:
        - source: token
          target: /run/secrets/token
      tags:
        - api:${TAG}
        - ${COMPOSE_PROJECT_NAME}:dev
      platforms: [linux/amd64]
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    cgroup_parent: berth-test
    command: serve --port 8080
    configs:
      - app_conf
      - source: extra_conf
        target: /etc/extra.conf
        uid: '1000'
        gid: '1000'
        mode: 0444
    depends_on:
      - cache
      - db
    deploy:
      mode: replicated
      replicas: 2
      labels: [tier=api]
      update_config: {parallelism: 2, delay: 5s, failure_action: rollback, monitor: 90s, max_failure_ratio: 0.5, order: stop-first}
      resources:
        limits: {cpus: '1.5', memory: 256M}
        reservations: {cpus: '0.25', memory: 64M}
      restart_policy: {condition: on-failure, delay: 3s, max_attempts: 4, window: 60s}
      placement: {constraints: [node.role==worker], max_replicas_per_node: 1}
    device_cgroup_rules: ["c 10:200 rwm"]
    dns: [1.1.1.1]
    dns_search: example.org
    domainname: example.org
    entrypoint: ["/sbin/tini", "--"]
    env_file:
      - ./api.env
      - path: ./local.env
        required: false
    environment:
      MODE: production
      FROM_SHELL:
    expose: ["9000", 9001]
    external_links: [legacy_db_1:legacy]
    extra_hosts:
      - "gateway:10.0.0.1"
      - "mirror=10.0.0.2,10.0.0.3"
    hostname: api
    healthcheck:
      test: curl -f http://localhost:8080/health
      interval: 30s
      timeout: 5s
      retries: 3
      start_period: 1m
    image: example/api:${TAG}
    ipc: shareable
    labels:
      org.example.owner: platform
      org.example.replicas: 2
      org.example.flag:
    label_file: ./api.labels
    links: [cache:redis]
    logging: {driver: json-file, options: {max-size: 10m, max-file: "2"}}
    networks:
      front:
        aliases: [api.internal]
      back:
        ipv4_address: 10.5.0.10
      metrics:
    pid: host
    ports:
      - 8080
      - "8443:443"
      - "127.0.0.1:9090-9091:9090-9091/udp"
      - target: 7000
        published: 17000
        protocol: tcp
        mode: host
    read_only: true
    secrets:
      - token
      - source: db_password
        target: db.pw
        mode: 0400
    security_opt: [no-new-privileges:true]
    shm_size: 128m
    stdin_open: true
    stop_grace_period: 90s
    stop_signal: SIGTERM
    storage_opt: {size: 10G}
    sysctls: [net.core.somaxconn=512]
    tmpfs: [/run, "/tmp:size=64m"]
    ulimits:
      nproc: 4096
      nofile: {soft: 1024, hard: 4096}
    user: "1000:1000"
    volumes:
      - /scratch
      - /srv/shared:/shared
      - .:/app
      - ./public:/app/public:ro
      - ~/cache:/cache
      - data:/data:nocopy
      - type: bind
        source: ./logs
        target: /var/log/api
        bind: {create_host_path: false}
      - type: tmpfs
        target: /cache/tmp
        tmpfs: {size: 4096}
    working_dir: /app
    x-owner: platform
  cache:
    image: redis:7
    restart: always
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
    secrets: [db_password]
    volumes: [data:/var/lib/postgresql/data]
    networks: [back]
  worker:
    image: example/worker
    network_mode: service:api
    deploy:
      restart_policy: {condition: any}
    volumes_from: [api:ro]
networks:
  front:
  back:
    driver: bridge
    driver_opts: {com.docker.network.bridge.name: br-back, mtu: 1400}
    ipam:
      driver: default
      config:
        - subnet: 10.5.0.0/24
          gateway: 10.5.0.1
          ip_range: 10.5.0.128/25
          aux_addresses: {router: 10.5.0.2}
    labels: [org.example.net=back]
  metrics:
    external: true
    name: shared_metrics
  legacy:
    external:
      name: legacy_net
volumes:
  data:
    driver: local
    labels: {org.example.backup: daily}
  archive:
    name: archive_volume
    driver: local
    driver_opts: {type: none, o: bind, device: ./archive}
  shared:
    external: true
configs:
  app_conf:
    file: ./app.conf
  extra_conf:
    content: |
      key=value
  env_conf:
    environment: CONF_VALUE
secrets:
  token:
    file: ./token.txt
  db_password:
    environment: DB_PASSWORD
  vault:
    external: true
    name: vault_secret
x-defaults:
  restart: always
"#;

/// What `docker compose config --format json` prints for [`STACK`] in `dir` (HOME=`home`), as
/// compose-go normalizes and marshals it.
fn compose_go(dir: &str, home: &str) -> Value {
    let port = |target: u64, published: Option<&str>, protocol: &str, mode: &str, host_ip: Option<&str>| {
        let mut p = json!({"mode": mode, "target": target, "protocol": protocol});
        if let Some(v) = published {
            p["published"] = json!(v);
        }
        if let Some(ip) = host_ip {
            p["host_ip"] = json!(ip);
        }
        p
    };
    json!({
      "name": "conformance_example",
      "services": {
        "builder": {
          "build": {"context": dir, "dockerfile_inline": "FROM busybox\nRUN true\n"},
          "command": null, "entrypoint": null,
          "networks": {"default": null}
        },
        "api": {
          "annotations": {"org.example.team": "core"},
          "build": {
            "context": format!("{dir}/src"),
            "dockerfile": "Containerfile",
            "args": {"VERSION": "1.2", "FROM_ENV": "from-env"},
            "ssh": ["default"],
            "target": "prod",
            "network": "host",
            "cache_from": ["api:cache"],
            "labels": {"stage": "build"},
            "additional_contexts": {"assets": format!("{dir}/assets"), "base": "docker-image://busybox"},
            "secrets": [{"source": "token", "target": "/run/secrets/token"}],
            "tags": ["api:1.0", "conformance_example:dev"],
            "platforms": ["linux/amd64"]
          },
          "cap_add": ["NET_ADMIN"],
          "cap_drop": ["ALL"],
          "cgroup_parent": "berth-test",
          "command": ["serve", "--port", "8080"],
          "configs": [
            {"source": "app_conf"},
            {"source": "extra_conf", "target": "/etc/extra.conf", "uid": "1000", "gid": "1000", "mode": "0444"}
          ],
          "depends_on": {
            "cache": {"condition": "service_started", "required": true},
            "db": {"condition": "service_started", "required": true}
          },
          "deploy": {
            "mode": "replicated",
            "replicas": 2,
            "labels": {"tier": "api"},
            "update_config": {"parallelism": 2, "delay": "5s", "failure_action": "rollback", "monitor": "1m30s", "max_failure_ratio": 0.5, "order": "stop-first"},
            "resources": {
              "limits": {"cpus": 1.5, "memory": "268435456"},
              "reservations": {"cpus": 0.25, "memory": "67108864"}
            },
            "restart_policy": {"condition": "on-failure", "delay": "3s", "max_attempts": 4, "window": "1m0s"},
            "placement": {"constraints": ["node.role==worker"], "max_replicas_per_node": 1}
          },
          "device_cgroup_rules": ["c 10:200 rwm"],
          "dns": ["1.1.1.1"],
          "dns_search": ["example.org"],
          "domainname": "example.org",
          "entrypoint": ["/sbin/tini", "--"],
          "env_file": [{"path": format!("{dir}/api.env")}, {"path": format!("{dir}/local.env"), "required": false}],
          "environment": {"API_KEY": "k1", "MODE": "production", "FROM_SHELL": "from-shell"},
          "expose": ["9000", "9001"],
          "external_links": ["legacy_db_1:legacy"],
          "extra_hosts": ["gateway=10.0.0.1", "mirror=10.0.0.2", "mirror=10.0.0.3"],
          "hostname": "api",
          "healthcheck": {
            "test": ["CMD-SHELL", "curl -f http://localhost:8080/health"],
            "interval": "30s", "timeout": "5s", "retries": 3, "start_period": "1m0s"
          },
          "image": "example/api:1.0",
          "ipc": "shareable",
          "labels": {
            "org.example.source": "file",
            "org.example.owner": "platform",
            "org.example.replicas": "2",
            "org.example.flag": ""
          },
          "label_file": [format!("{dir}/api.labels")],
          "links": ["cache:redis"],
          "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "2"}},
          "networks": {
            "front": {"aliases": ["api.internal"]},
            "back": {"ipv4_address": "10.5.0.10"},
            "metrics": null
          },
          "pid": "host",
          "ports": [
            port(8080, None, "tcp", "ingress", None),
            port(443, Some("8443"), "tcp", "ingress", None),
            port(9090, Some("9090"), "udp", "ingress", Some("127.0.0.1")),
            port(9091, Some("9091"), "udp", "ingress", Some("127.0.0.1")),
            port(7000, Some("17000"), "tcp", "host", None)
          ],
          "read_only": true,
          "secrets": [
            {"source": "token", "target": "/run/secrets/token"},
            {"source": "db_password", "target": "db.pw", "mode": "0400"}
          ],
          "security_opt": ["no-new-privileges:true"],
          "shm_size": "134217728",
          "stdin_open": true,
          "stop_grace_period": "1m30s",
          "stop_signal": "SIGTERM",
          "storage_opt": {"size": "10G"},
          "sysctls": {"net.core.somaxconn": "512"},
          "tmpfs": ["/run", "/tmp:size=64m"],
          "ulimits": {"nproc": 4096, "nofile": {"soft": 1024, "hard": 4096}},
          "user": "1000:1000",
          "volumes": [
            {"type": "volume", "target": "/scratch", "volume": {}},
            {"type": "bind", "source": "/srv/shared", "target": "/shared", "bind": {}},
            {"type": "bind", "source": dir, "target": "/app", "bind": {}},
            {"type": "bind", "source": format!("{dir}/public"), "target": "/app/public", "read_only": true, "bind": {}},
            {"type": "bind", "source": format!("{home}/cache"), "target": "/cache", "bind": {}},
            {"type": "volume", "source": "data", "target": "/data", "volume": {"nocopy": true}},
            {"type": "bind", "source": format!("{dir}/logs"), "target": "/var/log/api", "bind": {"create_host_path": false}},
            {"type": "tmpfs", "target": "/cache/tmp", "tmpfs": {"size": "4096"}}
          ],
          "working_dir": "/app",
          "x-owner": "platform"
        },
        "cache": {
          "command": null, "entrypoint": null,
          "image": "redis:7",
          "restart": "always",
          "networks": {"default": null}
        },
        "db": {
          "command": null, "entrypoint": null,
          "image": "postgres:16",
          "environment": {"POSTGRES_PASSWORD_FILE": "/run/secrets/db_password"},
          "secrets": [{"source": "db_password", "target": "/run/secrets/db_password"}],
          "volumes": [{"type": "volume", "source": "data", "target": "/var/lib/postgresql/data", "volume": {}}],
          "networks": {"back": null}
        },
        "worker": {
          "command": null, "entrypoint": null,
          "image": "example/worker",
          "network_mode": "service:api",
          "deploy": {"restart_policy": {"condition": "any"}},
          "volumes_from": ["api:ro"],
          "depends_on": {"api": {"condition": "service_started", "required": true, "restart": true}}
        }
      },
      "networks": {
        "front": {"name": "conformance_example_front"},
        "back": {
          "name": "conformance_example_back",
          "driver": "bridge",
          "driver_opts": {"com.docker.network.bridge.name": "br-back", "mtu": "1400"},
          "ipam": {
            "driver": "default",
            "config": [{"subnet": "10.5.0.0/24", "gateway": "10.5.0.1", "ip_range": "10.5.0.128/25", "aux_addresses": {"router": "10.5.0.2"}}]
          },
          "labels": {"org.example.net": "back"}
        },
        "metrics": {"name": "shared_metrics", "external": true},
        "legacy": {"name": "legacy_net", "external": true},
        "default": {"name": "conformance_example_default"}
      },
      "volumes": {
        "data": {"name": "conformance_example_data", "driver": "local", "labels": {"org.example.backup": "daily"}},
        "archive": {"name": "archive_volume", "driver": "local", "driver_opts": {"type": "none", "o": "bind", "device": format!("{dir}/archive")}},
        "shared": {"name": "shared", "external": true}
      },
      "configs": {
        "app_conf": {"name": "conformance_example_app_conf", "file": format!("{dir}/app.conf")},
        "extra_conf": {"name": "conformance_example_extra_conf", "content": "key=value\n"},
        "env_conf": {"name": "conformance_example_env_conf", "environment": "CONF_VALUE"}
      },
      "secrets": {
        "token": {"name": "conformance_example_token", "file": format!("{dir}/token.txt")},
        "db_password": {"name": "conformance_example_db_password", "environment": "DB_PASSWORD"},
        "vault": {"name": "vault_secret", "external": true}
      },
      "x-defaults": {"restart": "always"}
    })
}

/// compose-go's document in the form berth prints the same model: each rule is a documented
/// representation difference (README, "Compose compatibility"), never a difference of meaning.
fn as_berth_prints(mut doc: Value) -> Value {
    let services: Vec<String> = doc["services"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    for name in services {
        let svc = &mut doc["services"][name.as_str()];
        extra_hosts_as_a_mapping(svc);
        ulimits_always_soft_and_hard(svc);
        modes_and_sizes_as_numbers(svc);
        bind_options_spelled_out(svc);
        deploy_restart_policy_as_restart(svc);
    }
    doc
}

/// `extra_hosts`: a mapping of host → addresses, not compose-go's sorted `host=ip` list.
fn extra_hosts_as_a_mapping(svc: &mut Value) {
    let Some(list) = svc.get("extra_hosts").and_then(Value::as_array).cloned() else { return };
    let mut map = serde_json::Map::new();
    for entry in list.iter().filter_map(Value::as_str) {
        let (host, ip) = entry.split_once('=').unwrap_or((entry, ""));
        let ips = map.entry(host.to_string()).or_insert_with(|| json!([]));
        if let Some(a) = ips.as_array_mut() {
            a.push(json!(ip));
        }
    }
    svc["extra_hosts"] = Value::Object(map);
}

/// `ulimits: {nproc: 4096}`: berth prints `{soft: 4096, hard: 4096}`.
fn ulimits_always_soft_and_hard(svc: &mut Value) {
    let Some(map) = svc.get_mut("ulimits").and_then(Value::as_object_mut) else { return };
    for v in map.values_mut() {
        if let Some(n) = v.as_i64() {
            *v = json!({"soft": n, "hard": n});
        }
    }
}

/// File modes (`"0440"`) and byte sizes (`"52428800"`) are numbers in berth's output.
fn modes_and_sizes_as_numbers(svc: &mut Value) {
    fn octal(v: &mut Value) {
        if let Some(n) = v.as_str().and_then(|s| u64::from_str_radix(s, 8).ok()) {
            *v = json!(n);
        }
    }
    fn number(v: &mut Value) {
        if let Some(n) = v.as_str().and_then(|s| s.parse::<u64>().ok()) {
            *v = json!(n);
        }
    }
    for key in ["secrets", "configs"] {
        for r in svc.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten() {
            r.get_mut("mode").map(octal);
        }
    }
    for r in svc.pointer_mut("/build/secrets").and_then(Value::as_array_mut).into_iter().flatten() {
        r.get_mut("mode").map(octal);
    }
    svc.get_mut("shm_size").map(number);
    for kind in ["limits", "reservations"] {
        svc.pointer_mut(&format!("/deploy/resources/{kind}/memory")).map(number);
    }
    for m in svc.get_mut("volumes").and_then(Value::as_array_mut).into_iter().flatten() {
        m.pointer_mut("/tmpfs/size").map(number);
    }
}

/// A bind mount prints its `create_host_path` (compose-go leaves out the default `true`); the
/// empty `volume: {}` of a short-syntax volume is left out.
fn bind_options_spelled_out(svc: &mut Value) {
    for m in svc.get_mut("volumes").and_then(Value::as_array_mut).into_iter().flatten() {
        let Some(obj) = m.as_object_mut() else { continue };
        if let Some(Value::Object(bind)) = obj.get_mut("bind") {
            bind.entry("create_host_path").or_insert(json!(true));
        }
        if obj.get("volume").and_then(Value::as_object).is_some_and(serde_json::Map::is_empty) {
            obj.remove("volume");
        }
    }
}

/// `deploy.restart_policy` is also the service's `restart`, as docker compose applies it.
fn deploy_restart_policy_as_restart(svc: &mut Value) {
    let Some(rp) = svc.pointer("/deploy/restart_policy").cloned() else { return };
    let attempts = rp["max_attempts"].as_u64().filter(|n| *n > 0);
    let restart = match (rp["condition"].as_str().unwrap_or(""), attempts) {
        ("on-failure", Some(n)) => format!("on-failure:{n}"),
        ("on-failure", None) => "on-failure".into(),
        ("any" | "always", _) => "always".into(),
        ("unless-stopped", _) => "unless-stopped".into(),
        _ => return,
    };
    svc["restart"] = json!(restart);
}

/// Every difference between `want` and `got`, by JSON path; null, `{}`, `[]` and `false` all
/// read as compose-go's omitted zero value.
fn differences(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    let zero = |v: &Value| match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            let keys: std::collections::BTreeSet<&String> = w.keys().chain(g.keys()).collect();
            for k in keys {
                let (wv, gv) = (w.get(k).unwrap_or(&Value::Null), g.get(k).unwrap_or(&Value::Null));
                differences(&format!("{path}/{k}"), wv, gv, out);
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                differences(&format!("{path}/{i}"), wv, gv, out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (w, g) if w == g || (zero(w) && zero(g)) => {}
        (w, g) => out.push(format!("{path}: compose-go {w}, berth {g}")),
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[test]
fn config_matches_compose_go_normalization_field_by_field() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("example");
    write(&dir, "compose.yaml", STACK);
    write(&dir, "api.env", "API_KEY=k1\nMODE=debug\n");
    write(&dir, "api.labels", "org.example.source=file\norg.example.owner=from-file\n");
    let env = [
        ("HOME", "/home/tester"),
        ("TAG", "1.0"),
        ("FROM_ENV", "from-env"),
        ("FROM_SHELL", "from-shell"),
        ("DB_PASSWORD", "s3cret"),
        ("CONF_VALUE", "v"),
    ];
    let opts = LoadOptions {
        files: vec![dir.join("compose.yaml")],
        working_dir: dir.clone(),
        environ: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..LoadOptions::default()
    };
    let loaded = load(&opts).unwrap_or_else(|e| panic!("the example does not load:\n{e}"));
    let got = serde_json::to_value(&loaded.stack).expect("json");
    let want = as_berth_prints(compose_go(&dir.display().to_string(), "/home/tester"));
    let mut diffs = Vec::new();
    differences("", &want, &got, &mut diffs);
    assert!(diffs.is_empty(), "berth config differs from compose-go's normalization:\n{}", diffs.join("\n"));
}
