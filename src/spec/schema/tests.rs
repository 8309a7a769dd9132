use super::*;
use crate::spec::yaml;

fn check(src: &str) -> Diagnostics {
    let root = yaml::parse(src, "compose.yaml").expect("test yaml parses");
    let mut d = Diagnostics::new();
    validate(&root, &mut d);
    d
}

fn errors(src: &str) -> Vec<String> {
    check(src).errors().map(ToString::to_string).collect()
}

fn one_error(src: &str) -> String {
    let e = errors(src);
    assert_eq!(e.len(), 1, "expected one error, got {e:#?}");
    e.into_iter().next().unwrap_or_default()
}

#[test]
fn unknown_key_with_did_you_mean() {
    let src = "services:\n  web:\n    image: nginx\n    heathcheck:\n      test: [CMD, true]\n";
    assert_eq!(
        one_error(src),
        "compose.yaml:4:5: services.web: unknown key `heathcheck` (did you mean `healthcheck`?)"
    );
    assert_eq!(one_error("servces: {}\n"), "compose.yaml:1:1: unknown key `servces` (did you mean `services`?)");
    assert_eq!(
        one_error("services:\n  web:\n    image: x\n    frobnicate: 1\n"),
        "compose.yaml:4:5: services.web: unknown key `frobnicate`"
    );
}

#[test]
fn type_mismatch_names_expected_and_found() {
    let src = "services:\n  web:\n    ports:\n      - \"80:80\"\n      - [1, 2]\n";
    assert_eq!(one_error(src), "compose.yaml:5:9: services.web.ports[1]: expected a string or a mapping, found a list");
    assert_eq!(
        one_error("services:\n  web:\n    image: [a]\n"),
        "compose.yaml:3:12: services.web.image: expected a string, found a list"
    );
    assert_eq!(
        one_error("services:\n  web:\n    environment: oops\n"),
        "compose.yaml:3:18: services.web.environment: expected a mapping or a list, found a string"
    );
    assert_eq!(one_error("- a\n"), "compose.yaml:1:1: expected a mapping, found a list");
    assert_eq!(
        one_error("services:\n  web:\n    image:\n"),
        "compose.yaml:3:5: services.web.image: expected a string, found null"
    );
}

#[test]
fn enums_and_policies() {
    // `restart` is any string in the Compose schema (an unknown one is a warning of convert).
    assert!(errors("services:\n  db:\n    image: postgres\n    restart: sometimes\n").is_empty());
    assert!(errors("services:\n  db:\n    restart: on-failure:5\n    pull_policy: every_2h\n").is_empty());
    assert_eq!(
        one_error("services:\n  a:\n    depends_on:\n      b:\n        condition: service_ready\n"),
        "compose.yaml:5:20: services.a.depends_on.b.condition: invalid value `service_ready`; expected one of service_started, service_healthy, service_completed_successfully"
    );
    assert!(one_error("services:\n  a:\n    volumes:\n      - type: blind\n        target: /x\n").ends_with(
        "services.a.volumes[0].type: invalid value `blind`; expected one of bind, volume, tmpfs, cluster, npipe, image"
    ));
    assert!(one_error("services:\n  a:\n    develop:\n      watch:\n        - path: .\n          action: copy\n")
        .contains("services.a.develop.watch[0].action: invalid value `copy`"));
    assert!(one_error("services:\n  a:\n    pull_policy: sometimes\n")
        .contains("services.a.pull_policy: invalid value `sometimes`"));
    assert!(one_error("services:\n  a:\n    ports:\n      - target: 80\n        protocol: icmp\n")
        .ends_with("services.a.ports[0].protocol: invalid value `icmp`; expected one of tcp, udp, sctp"));
}

#[test]
fn strings_from_interpolation_count_when_they_parse() {
    let ok = "services:\n  a:\n    deploy:\n      replicas: \"3\"\n    tty: \"true\"\n    cpus: \"0.5\"\n    mem_limit: 512m\n    ulimits:\n      nofile: \"1024\"\n";
    assert!(errors(ok).is_empty(), "{:?}", errors(ok));
    assert_eq!(
        one_error("services:\n  a:\n    deploy:\n      replicas: three\n"),
        "compose.yaml:4:17: services.a.deploy.replicas: invalid value `three`; expected an integer"
    );
    assert_eq!(
        one_error("services:\n  a:\n    tty: maybe\n"),
        "compose.yaml:3:10: services.a.tty: invalid value `maybe`; expected a boolean"
    );
    assert_eq!(
        one_error("services:\n  a:\n    cpus: lots\n"),
        "compose.yaml:3:11: services.a.cpus: invalid value `lots`; expected a number"
    );
    assert_eq!(
        one_error("services:\n  a:\n    scale: 1.5\n"),
        "compose.yaml:3:12: services.a.scale: expected an integer, found a number"
    );
}

#[test]
fn durations_and_sizes() {
    assert_eq!(
        one_error("services:\n  a:\n    healthcheck:\n      interval: 10 seconds\n"),
        "compose.yaml:4:17: services.a.healthcheck.interval: invalid duration `10 seconds`; expected e.g. 10s, 1m30s, 500ms or 1h"
    );
    assert!(one_error("services:\n  a:\n    shm_size: lots\n")
        .starts_with("compose.yaml:3:15: services.a.shm_size: invalid size `lots`"));
    assert!(errors("services:\n  a:\n    memswap_limit: -1\n    stop_grace_period: 1m30s\n    shm_size: 67108864\n")
        .is_empty());
}

#[test]
fn all_errors_of_a_file_are_collected() {
    let src = "version: '3.8'\nservices:\n  web:\n    imgae: nginx\n    ports: 80\n    restart: 'no'\n  bad name:\n    image: x\nnetworks:\n  front:\n    driver: bridge\n    intenal: true\n";
    let d = check(src);
    let e: Vec<String> = d.errors().map(ToString::to_string).collect();
    assert_eq!(
        e,
        [
            "compose.yaml:4:5: services.web: unknown key `imgae` (did you mean `image`?)",
            "compose.yaml:5:12: services.web.ports: expected a list, found an integer",
            "compose.yaml:7:3: services: invalid name `bad name`; names may hold only letters, digits, `.`, `_` and `-`",
            "compose.yaml:12:5: networks.front: unknown key `intenal` (did you mean `internal`?)",
        ]
    );
    let w: Vec<String> = d.warnings().map(ToString::to_string).collect();
    assert_eq!(w, ["compose.yaml:1:1: warning: version: the top-level `version` is obsolete and ignored; remove it"]);
}

#[test]
fn extensions_where_the_spec_allows_them() {
    let src = "x-top: {anything: [1, 2]}\nservices:\n  web:\n    x-svc: 1\n    image: x\n    build:\n      context: .\n      x-b: 1\n    networks:\n      front:\n        x-n: 1\nnetworks:\n  front:\n    x-net: true\n";
    assert!(errors(src).is_empty(), "{:?}", errors(src));
    assert_eq!(
        one_error("services:\n  web:\n    blkio_config:\n      x-no: 1\n"),
        "compose.yaml:4:7: services.web.blkio_config: unknown key `x-no` (extension keys (`x-*`) are not allowed here)"
    );
}

#[test]
fn required_keys() {
    assert!(one_error("services:\n  a:\n    volumes:\n      - source: x\n        target: /x\n")
        .ends_with("services.a.volumes[0]: missing required key `type`"));
    assert!(one_error("services:\n  a:\n    develop:\n      watch:\n        - action: sync\n")
        .ends_with("services.a.develop.watch[0]: missing required key `path`"));
}

#[test]
fn long_forms_report_errors_inside_the_mapping() {
    assert_eq!(
        one_error("services:\n  a:\n    ports:\n      - target: 80\n        publised: 8080\n"),
        "compose.yaml:5:9: services.a.ports[0]: unknown key `publised` (did you mean `published`?)"
    );
    assert_eq!(
        one_error("services:\n  a:\n    volumes:\n      - type: bind\n        source: .\n        target: /app\n        bind:\n          create_host_pth: true\n"),
        "compose.yaml:8:11: services.a.volumes[0].bind: unknown key `create_host_pth` (did you mean `create_host_path`?)"
    );
}

#[test]
fn a_file_using_every_form_is_accepted() {
    let src = r#"
name: shop
include:
  - other.yaml
  - path: [a.yaml, b.yaml]
    env_file: a.env
    project_directory: ..
services:
  web:
    image: nginx:1.27
    build:
      context: .
      dockerfile: Dockerfile
      args: {VERSION: "1", DEBUG: true, EMPTY: null}
      target: prod
      cache_from: [a]
      provenance: mode=max
      sbom: true
      shm_size: 2g
      ulimits: {nofile: {soft: 1, hard: 2}}
      secrets: [s1]
    command: ["npm", "start"]
    entrypoint: /bin/sh -c
    environment: [A=1, B]
    env_file: [.env, {path: extra.env, required: false, format: raw}]
    ports: ["80:80", 443, "127.0.0.1:8000-8010:8000-8010/udp", {target: 80, published: "8080", protocol: tcp, mode: host, host_ip: 0.0.0.0, name: http, app_protocol: http}]
    expose: [3000, "4000/udp"]
    volumes:
      - ./data:/data:ro
      - {type: bind, source: ., target: /app, read_only: true, bind: {propagation: rshared, create_host_path: true, selinux: z, recursive: readonly}}
      - {type: volume, source: db, target: /db, volume: {nocopy: true, subpath: x, labels: [a=b]}}
      - {type: tmpfs, target: /tmp, tmpfs: {size: 64m, mode: 1777}}
      - {type: image, source: alpine, target: /img, image: {subpath: etc}}
    tmpfs: /run
    networks:
      front:
        aliases: [www]
        ipv4_address: 10.0.0.5
        priority: 10
      back:
    network_mode: bridge
    depends_on:
      db: {condition: service_healthy, restart: true, required: false}
    healthcheck: {test: "curl -f http://localhost", interval: 10s, timeout: 5s, retries: 3, start_period: 1m, start_interval: 2s, disable: false}
    restart: unless-stopped
    init: true
    user: 1000
    group_add: [audio, 44]
    working_dir: /app
    labels: {a: b}
    annotations: [x=y]
    profiles: [dev]
    deploy:
      mode: replicated
      replicas: 2
      labels: [a=b]
      resources:
        limits: {cpus: "0.5", memory: 512M, pids: 100}
        reservations:
          cpus: 0.25
          memory: 128m
          devices: [{capabilities: [gpu], count: all, driver: nvidia}]
          generic_resources: [{discrete_resource_spec: {kind: gpu, value: 2}}]
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 2m}
      update_config: {parallelism: 2, delay: 10s, order: start-first, failure_action: rollback, monitor: 1m, max_failure_ratio: 0.1}
      rollback_config: {parallelism: 1}
      placement: {constraints: [node.role==manager], preferences: [{spread: node.id}], max_replicas_per_node: 1}
      endpoint_mode: vip
    develop:
      watch:
        - {path: ./src, action: sync, target: /app/src, ignore: [node_modules], initial_sync: true}
        - {path: package.json, action: rebuild}
        - {path: conf, action: sync+exec, target: /etc/x, exec: {command: reload, user: root}}
    mem_limit: 1g
    memswap_limit: -1
    mem_reservation: 256m
    mem_swappiness: 60
    cpus: 1.5
    cpu_shares: 512
    cpuset: 0-1
    cpu_rt_runtime: 400ms
    pids_limit: 200
    blkio_config:
      weight: 300
      weight_device: [{path: /dev/sda, weight: 400}]
      device_read_bps: [{path: /dev/sda, rate: 12mb}]
      device_write_iops: [{path: /dev/sda, rate: 30}]
    ulimits: {nproc: 65535, nofile: {soft: 20000, hard: 40000}}
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    privileged: false
    read_only: true
    security_opt: [no-new-privileges:true]
    sysctls: {net.core.somaxconn: 1024}
    shm_size: 64m
    extra_hosts: ["host.docker.internal:host-gateway"]
    dns: 8.8.8.8
    dns_search: [example.com]
    stop_signal: SIGINT
    stop_grace_period: 30s
    tty: true
    stdin_open: true
    logging: {driver: json-file, options: {max-size: 10m, max-file: 3}}
    devices: ["/dev/fuse:/dev/fuse:rwm", {source: /dev/kvm, permissions: rw}]
    gpus: all
    secrets: [s1, {source: s2, target: /run/s2, uid: "1000", mode: 0440}]
    configs: [c1]
    post_start: [{command: [echo, hi], user: root, privileged: true, environment: {A: 1}}]
    pre_stop: [{command: echo bye}]
    pid: null
    platform: linux/amd64
    oom_score_adj: -500
    models: [llm]
  db:
    image: postgres
    extends: {service: base, file: base.yaml}
    ports: []
    models: {llm: {endpoint_var: URL, model_var: MODEL}}
networks:
  front:
    driver: bridge
    internal: false
    ipam: {driver: default, config: [{subnet: 10.0.0.0/24, gateway: 10.0.0.1, ip_range: 10.0.0.0/25, aux_addresses: {h: 10.0.0.2}}]}
    labels: {a: b}
  back:
  outside: {external: true, name: corp}
volumes:
  db:
  data: {driver: local, driver_opts: {type: none, o: bind, device: /srv}}
secrets:
  s1: {file: ./s1.txt}
  s2: {environment: TOKEN}
configs:
  c1: {content: "hello"}
models:
  llm: {model: ai/smollm2, context_size: 4096, runtime_flags: [--x]}
"#;
    let d = check(src);
    assert!(d.is_empty(), "{d}");
}

#[test]
fn key_listing_for_tests() {
    assert_eq!(service_keys().len(), 93);
    assert!(service_keys().contains(&"healthcheck"));
    assert!(top_level_keys().contains(&"services"));
    assert_eq!(keys_at(&["services", "*", "healthcheck"]).map(|k| k.len()), Some(7));
    assert!(keys_at(&["services", "*", "ports", "*"]).is_some_and(|k| k.contains(&"published")));
    assert!(keys_at(&["services", "*", "volumes", "*", "bind"]).is_some_and(|k| k.contains(&"create_host_path")));
    assert!(keys_at(&["networks", "*", "external"]).is_some_and(|k| k == ["name"]));
    assert!(keys_at(&["services", "*", "image"]).is_none());
    assert_eq!(enum_at(&["services", "*", "cgroup"]), Some(&["host", "private"][..]));
}

#[test]
fn deprecated_external_name_warns() {
    let d = check("networks:\n  n:\n    external:\n      name: corp\n");
    assert!(!d.has_errors(), "{d}");
    assert_eq!(
        d.to_string(),
        "compose.yaml:4:7: warning: networks.n.external.name: `external.name` is deprecated; set `name:` next to `external: true` instead"
    );
}
