//! Conversion tests: a small stack against golden YAML (byte for byte), and semantic checks.

use serde_json::Value;

use super::*;
use crate::spec::convert::testutil::{load, load_ok};

const SMALL: &str = r#"
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost/"]
      interval: 10s
      timeout: 3s
      retries: 4
      start_period: 20s
    depends_on:
      api: {condition: service_healthy}
    networks: [front, back]
  api:
    image: example/api:2
    entrypoint: ["/bin/api"]
    command: ["--listen", ":3000", "--greeting", "$(not expanded)"]
    expose: ["3000"]
    environment:
      MODE: production
      DB_URL: postgres://db:5432/app
    working_dir: /srv
    user: "1000:1000"
    read_only: true
    cap_drop: [ALL]
    cap_add: [NET_BIND_SERVICE]
    security_opt: ["no-new-privileges:true"]
    stop_grace_period: 10s
    tmpfs: ["/tmp:size=64m"]
    shm_size: 128m
    deploy:
      replicas: 2
      resources:
        limits: {cpus: "0.5", memory: 256m}
        reservations: {cpus: "0.25", memory: 128m}
    healthcheck:
      test: ["CMD-SHELL", "wget -qO- http://127.0.0.1:3000/health"]
    secrets: [token]
    configs: [{source: settings, target: /etc/api/settings.json, mode: 0444}]
    depends_on:
      migrate: {condition: service_completed_successfully}
    networks: [back]
  migrate:
    image: example/api:2
    command: ["/bin/api", "migrate"]
    restart: "no"
    volumes: ["data:/var/lib/api"]
    networks: [back]
networks:
  front: {}
  back: {internal: true}
volumes:
  data: {}
secrets:
  token: {environment: FOO}
configs:
  settings: {content: '{"debug": false}'}
"#;

fn convert_small(opts: &Options) -> Converted {
    convert(&load_ok(SMALL), opts).expect("converts")
}

fn find<'a>(c: &'a Converted, kind: &str, name: &str) -> &'a Value {
    &c.manifests.iter().find(|m| m.kind == kind && m.name == name).unwrap_or_else(|| panic!("no {kind}/{name}")).body
}

#[test]
fn golden_yaml() {
    let text = render::yaml_stream(&convert_small(&Options::default()).manifests);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/convert/testdata/small.golden.yaml");
    if std::env::var_os("BERTH_UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &text).expect("write golden");
    }
    let golden = std::fs::read_to_string(path).expect("golden file (BERTH_UPDATE_GOLDEN=1 writes it)");
    assert_eq!(text, golden, "output differs from {path}; BERTH_UPDATE_GOLDEN=1 rewrites it after review");
}

#[test]
fn same_input_same_bytes() {
    let a = render::yaml_stream(&convert_small(&Options::default()).manifests);
    let b = render::yaml_stream(&convert_small(&Options::default()).manifests);
    assert_eq!(a, b);
    let json = render::json_list(&convert_small(&Options::default()).manifests).expect("json");
    assert_eq!(json, render::json_list(&convert_small(&Options::default()).manifests).expect("json"));
}

#[test]
fn semantic_checks_pass() {
    let c = convert_small(&Options::default());
    assert_eq!(checks::check(&c.manifests), Vec::<String>::new());
}

#[test]
fn semantic_checks_catch_broken_manifests() {
    let mut c = convert_small(&Options::default());
    let web = c.manifests.iter_mut().find(|m| m.kind == "Deployment" && m.name == "web").expect("web");
    let pod = &mut web.body["spec"]["template"]["spec"];
    pod["restartPolicy"] = "Never".into();
    pod["containers"][0]["readinessProbe"] = serde_json::json!({ "tcpSocket": { "port": 9999 } });
    pod["containers"][0]["volumeMounts"] = serde_json::json!([{ "name": "nope", "mountPath": "/x" }]);
    web.body["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] = "other".into();
    let problems = checks::check(&c.manifests);
    for want in [
        "Deployment/web: restartPolicy Never is not allowed",
        "Deployment/web: selector does not match the template's labels",
        "Deployment/web: container \"web\" mounts unknown volume \"nope\"",
        "Deployment/web: readinessProbe of \"web\" checks no port of its container",
    ] {
        assert!(problems.iter().any(|p| p == want), "{want} not in {problems:?}");
    }
}

#[test]
fn workloads_and_restart_policies() {
    let c = convert_small(&Options::default());
    let web = find(&c, "Deployment", "web");
    assert_eq!(web["spec"]["template"]["spec"]["restartPolicy"], "Always");
    assert_eq!(find(&c, "Deployment", "api")["spec"]["replicas"], 2);
    // migrate: restart no, and api waits for it to complete → a Job that never restarts.
    let job = find(&c, "Job", "migrate");
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
    assert_eq!(job["spec"]["backoffLimit"], 0);
    assert!(!c.manifests.iter().any(|m| m.kind == "Deployment" && m.name == "migrate"));
}

#[test]
fn health_check_is_readiness_not_liveness() {
    let c = convert_small(&Options::default());
    let web = &find(&c, "Deployment", "web")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(web["readinessProbe"]["exec"]["command"], serde_json::json!(["curl", "-f", "http://localhost/"]));
    assert_eq!(web["readinessProbe"]["periodSeconds"], 10);
    assert_eq!(web["readinessProbe"]["timeoutSeconds"], 3);
    assert_eq!(web["readinessProbe"]["failureThreshold"], 4);
    // 20s of start period every 5s (Compose's default start_interval), then 4 retries.
    assert_eq!(web["startupProbe"]["failureThreshold"], 8);
    assert!(web.get("livenessProbe").is_none());
    let api = &find(&c, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(api["readinessProbe"]["exec"]["command"][0], "/bin/sh");
}

#[test]
fn liveness_and_kind_on_request() {
    let st = load_ok(
        "services:\n  w:\n    image: x\n    healthcheck: {test: [CMD, 'true']}\n    x-berth-kubernetes: {liveness: true}\n  j:\n    image: x\n    restart: always\n    x-berth-kubernetes: {kind: job}\n",
    );
    let c = convert(&st, &Options::default()).expect("converts");
    assert!(find(&c, "Deployment", "w")["spec"]["template"]["spec"]["containers"][0].get("livenessProbe").is_some());
    assert_eq!(find(&c, "Job", "j")["spec"]["template"]["spec"]["restartPolicy"], "Never");
}

#[test]
fn pod_spec_fields() {
    let c = convert_small(&Options::default());
    let pod = &find(&c, "Deployment", "api")["spec"]["template"]["spec"];
    let api = &pod["containers"][0];
    assert_eq!(api["command"], serde_json::json!(["/bin/api"]));
    // Kubernetes would expand `$(…)`: the `$` is doubled to reach the process as written.
    assert_eq!(api["args"][3], "$$(not expanded)");
    assert_eq!(api["securityContext"]["runAsUser"], 1000);
    assert_eq!(api["securityContext"]["runAsGroup"], 1000);
    assert_eq!(api["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(api["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(api["securityContext"]["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(api["resources"]["limits"]["cpu"], "500m");
    assert_eq!(api["resources"]["limits"]["memory"], "256Mi");
    assert_eq!(api["resources"]["requests"]["memory"], "128Mi");
    assert_eq!(pod["terminationGracePeriodSeconds"], 10);
    assert_eq!(api["env"][0]["name"], "DB_URL");
    let mounts = api["volumeMounts"].as_array().expect("mounts");
    let at = |p: &str| mounts.iter().any(|m| m["mountPath"] == p);
    assert!(at("/tmp") && at("/dev/shm") && at("/run/secrets/token") && at("/etc/api/settings.json"));
}

#[test]
fn dependencies_wait_on_service_dns() {
    let c = convert_small(&Options::default());
    let web = &find(&c, "Deployment", "web")["spec"]["template"]["spec"];
    assert_eq!(web["initContainers"][0]["image"], "busybox:1.36");
    assert_eq!(
        web["initContainers"][0]["command"][2],
        "until nc -z api 3000; do echo waiting for api:3000; sleep 1; done"
    );
}

#[test]
fn completed_successfully_waits_for_the_job_with_least_access() {
    let c = convert_small(&Options { namespace: Some("ns".into()), ..Options::default() });
    let pod = &find(&c, "Deployment", "api")["spec"]["template"]["spec"];
    let wait = &pod["initContainers"][0];
    assert_eq!(wait["name"], "wait-for-migrate");
    assert_eq!(wait["image"], JOB_WAIT_IMAGE);
    assert_eq!(wait["env"], serde_json::json!([{ "name": "JOB", "value": "migrate" }]));
    let script = wait["command"][2].as_str().expect("script");
    assert!(script.contains("/apis/batch/v1/namespaces/$$(cat $t/namespace)/jobs/$JOB"), "{script}");
    assert!(script.contains("--cacert $t/ca.crt"), "{script}");
    // The token reaches the wait container only.
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["serviceAccountName"], "api-waits");
    assert_eq!(wait["volumeMounts"][0]["name"], "job-wait-token");
    assert!(pod["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .all(|m| m["name"] != "job-wait-token"));
    let role = find(&c, "Role", "api-waits");
    assert_eq!(
        role["rules"],
        serde_json::json!([{ "apiGroups": ["batch"], "resources": ["jobs"], "resourceNames": ["migrate"], "verbs": ["get"] }])
    );
    let binding = find(&c, "RoleBinding", "api-waits");
    assert_eq!(
        binding["subjects"],
        serde_json::json!([{ "kind": "ServiceAccount", "name": "api-waits", "namespace": "ns" }])
    );
    assert_eq!(find(&c, "ServiceAccount", "api-waits")["automountServiceAccountToken"], false);
    assert!(!c.report.losses().any(|f| f.at.starts_with("services.api.depends_on")));
    assert_eq!(checks::check(&c.manifests), Vec::<String>::new());
    // Without its Role the check fails: the check can fail.
    let without: Vec<Manifest> = c.manifests.iter().filter(|m| m.kind != "Role").cloned().collect();
    assert_eq!(checks::check(&without), ["Deployment/api: ServiceAccount `api-waits` may not get Job `migrate`"]);
}

#[test]
fn completion_of_a_service_that_is_no_job_is_reported() {
    let st = load_ok(
        "services:\n  a:\n    image: x\n    depends_on: {b: {condition: service_completed_successfully, restart: true}}\n  b:\n    image: x\n    x-berth-kubernetes: {kind: deployment}\n",
    );
    let c = convert(&st, &Options::default()).expect("converts");
    let losses: Vec<&str> = c.report.losses().map(|f| f.at.as_str()).collect();
    assert!(losses.contains(&"services.a.depends_on.b"), "{losses:?}");
    assert!(losses.contains(&"services.a.depends_on.b.restart"), "{losses:?}");
    // `a` runs once (restart no, nothing reaches it): a Job, starting without a wait.
    assert!(find(&c, "Job", "a")["spec"]["template"]["spec"].get("initContainers").is_none());
}

#[test]
fn init_shares_the_process_namespace() {
    let st = load_ok("services:\n  s:\n    image: x\n    init: true\n    ports: ['80']\n");
    let c = convert(&st, &Options::default()).expect("converts");
    assert_eq!(find(&c, "Deployment", "s")["spec"]["template"]["spec"]["shareProcessNamespace"], true);
    assert!(!c.report.losses().any(|f| f.at == "services.s.init"));
}

#[test]
fn secrets_configs_volumes_and_services() {
    let c = convert_small(&Options { service_type: Some(ServiceType::NodePort), ..Options::default() });
    assert_eq!(find(&c, "Secret", "token")["data"]["token"], "YmFy"); // "bar"
    assert_eq!(find(&c, "ConfigMap", "settings")["data"]["settings"], "{\"debug\": false}");
    assert!(c.report.findings.iter().any(|f| f.at == "secrets.token" && f.message.contains("not encrypted")));
    assert_eq!(find(&c, "PersistentVolumeClaim", "data")["spec"]["resources"]["requests"]["storage"], "1Gi");
    assert_eq!(find(&c, "Service", "web")["spec"]["type"], "NodePort");
    assert_eq!(find(&c, "Service", "api")["spec"]["type"], "ClusterIP");
    // 8080 is outside the node port range: reported, a port is assigned.
    assert!(c.report.losses().any(|f| f.at == "services.web.ports"));
}

#[test]
fn network_policies_follow_networks() {
    let c = convert_small(&Options::default());
    let back = find(&c, "NetworkPolicy", "net-back");
    assert_eq!(back["spec"]["podSelector"]["matchLabels"]["network.berth.dev/back"], "true");
    // internal: egress to the network's pods and to DNS only.
    assert_eq!(back["spec"]["egress"].as_array().map(Vec::len), Some(2));
    assert_eq!(find(&c, "NetworkPolicy", "net-front")["spec"]["egress"], serde_json::json!([{}]));
}

#[test]
fn losses_are_reported() {
    let st = load_ok(
        "services:\n  s:\n    image: x\n    ulimits: {nofile: 1024}\n    pids_limit: 10\n    volumes: ['/srv:/srv']\n    stop_signal: SIGINT\n    user: www-data\n",
    );
    let c = convert(&st, &Options::default()).expect("converts");
    let at: Vec<&str> = c.report.losses().map(|f| f.at.as_str()).collect();
    for key in [
        "services.s.ulimits",
        "services.s.pids_limit",
        "services.s.volumes[0]",
        "services.s.stop_signal",
        "services.s.user",
    ] {
        assert!(at.contains(&key), "{key} not reported in {at:?}");
    }
}

#[test]
fn names_are_sanitized_and_clashes_refused() {
    let st = load_ok("services:\n  my_db:\n    image: x\n    expose: ['5432']\n");
    let c = convert(&st, &Options::default()).expect("converts");
    assert!(c.manifests.iter().any(|m| m.kind == "Service" && m.name == "my-db"));
    assert!(c.report.losses().any(|f| f.at == "services.my_db"));
    let (st, _) = load("services:\n  a_b: {image: x}\n  a-b: {image: x}\n");
    assert!(matches!(convert(&st, &Options::default()), Err(ConvertError::NameClash { .. })));
}

#[test]
fn only_selected_services() {
    let c = convert_small(&Options { services: vec!["web".into()], ..Options::default() });
    assert!(c.manifests.iter().all(|m| m.kind != "Job"));
    assert!(matches!(
        convert(&load_ok(SMALL), &Options { services: vec!["nope".into()], ..Options::default() }),
        Err(ConvertError::UnknownService(_))
    ));
}

#[test]
fn escapes_dollars_for_kubernetes() {
    assert_eq!(workload::escape("a $(b) $$ $c"), "a $$(b) $$$ $c");
}

#[test]
fn aliases_become_services_and_hooks_lifecycle() {
    // The loader runs the hooks itself now; `load` keeps this test independent of its warnings.
    let (st, _) = load(
        "services:\n  db:\n    image: x\n    expose: ['5432']\n    networks: {default: {aliases: [database, db]}}\n    post_start: [{command: [sh, -c, 'echo up']}]\n    pre_stop: [{command: 'pg_ctl stop', user: postgres}]\n",
    );
    let c = convert(&st, &Options::default()).expect("converts");
    let alias = find(&c, "Service", "database");
    assert_eq!(alias["spec"]["selector"], find(&c, "Service", "db")["spec"]["selector"]);
    assert_eq!(checks::check(&c.manifests), Vec::<String>::new());
    let ctr = &find(&c, "Deployment", "db")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(ctr["lifecycle"]["postStart"]["exec"]["command"], serde_json::json!(["sh", "-c", "echo up"]));
    assert_eq!(ctr["lifecycle"]["preStop"]["exec"]["command"], serde_json::json!(["/bin/sh", "-c", "pg_ctl stop"]));
    let losses: Vec<&str> = c.report.losses().map(|f| f.at.as_str()).collect();
    assert_eq!(losses, ["services.db.pre_stop[0].user"]);
}

#[test]
fn replicas_with_a_named_volume_are_a_stateful_set() {
    let st = load_ok("services:\n  s:\n    image: x\n    restart: always\n    deploy: {replicas: 3}\n    expose: ['9200']\n    volumes: ['data:/data']\nvolumes:\n  data: {}\n");
    let c = convert(&st, &Options::default()).expect("converts");
    let set = find(&c, "StatefulSet", "s");
    assert_eq!(set["spec"]["serviceName"], "s-pods");
    assert_eq!(set["spec"]["volumeClaimTemplates"][0]["metadata"]["name"], "data");
    assert_eq!(set["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["name"], "data");
    assert!(set["spec"]["template"]["spec"].get("volumes").is_none());
    assert_eq!(find(&c, "Service", "s-pods")["spec"]["clusterIP"], "None");
    // No shared claim is generated for it.
    assert!(!c.manifests.iter().any(|m| m.kind == "PersistentVolumeClaim"));
    assert_eq!(checks::check(&c.manifests), Vec::<String>::new());
}

/// A service using (nearly) every key Compose has. The test walks the keys as written and
/// requires each one the converter does not carry to be in the report as a loss: a key
/// added here that is neither mapped nor reported fails it.
const MANY_KEYS: &str = r#"
services:
  s:
    image: example/s:1
    command: [serve]
    entrypoint: [/bin/s]
    environment: {A: "1"}
    working_dir: /srv
    user: "1000"
    hostname: s
    domainname: example.com
    ports: ["8080:80"]
    expose: ["81"]
    volumes: ["/host:/in"]
    tmpfs: [/tmp]
    depends_on: {t: {condition: service_started}}
    healthcheck: {test: [CMD, "true"]}
    restart: always
    init: true
    stop_grace_period: 5s
    stop_signal: SIGINT
    labels: {a: b}
    deploy:
      replicas: 2
      resources: {limits: {cpus: "0.5", pids: 10}}
      restart_policy: {condition: any}
      placement: {constraints: [node.role==manager]}
      update_config: {parallelism: 1}
      labels: {x: y}
      endpoint_mode: vip
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    privileged: false
    read_only: true
    security_opt: [no-new-privileges:true, apparmor:unconfined]
    sysctls: {net.core.somaxconn: "1024"}
    shm_size: 64m
    extra_hosts: ["h:10.0.0.1"]
    pull_policy: always
    tty: true
    stdin_open: true
    group_add: ["100"]
    mem_limit: 256m
    mem_reservation: 128m
    memswap_limit: 512m
    cpus: 0.5
    cpu_shares: 512
    cpu_quota: 50000
    cpuset: "0"
    pids_limit: 50
    blkio_config: {weight: 300}
    ulimits: {nofile: 1024}
    dns: [1.1.1.1]
    dns_search: [example.com]
    dns_opt: [ndots:1]
    logging: {driver: syslog}
    devices: ["/dev/fuse:/dev/fuse"]
    external_links: [other:o]
    ipc: host
    pid: host
    uts: host
    platform: linux/arm64
    mac_address: "02:42:ac:11:00:02"
    oom_score_adj: 100
    container_name: the-s
    links: ["t:tee"]
    cgroup_parent: /custom
    isolation: default
    userns_mode: host
    storage_opt: {size: 1G}
    annotations: {x: y}
    post_start: [{command: [echo, hi]}]
    pre_stop: [{command: [echo, bye]}]
  t:
    image: example/t:1
    expose: ["90"]
"#;

/// Keys of MANY_KEYS's service `s` whose meaning the manifests carry.
const MAPPED: &[&str] = &[
    "image",
    "command",
    "entrypoint",
    "environment",
    "working_dir",
    "user",
    "hostname",
    "ports",
    "expose",
    "tmpfs",
    "depends_on",
    "healthcheck",
    "restart",
    "init",
    "stop_grace_period",
    "labels",
    "cap_add",
    "cap_drop",
    "privileged",
    "read_only",
    "sysctls",
    "shm_size",
    "extra_hosts",
    "pull_policy",
    "tty",
    "stdin_open",
    "group_add",
    "mem_limit",
    "mem_reservation",
    "cpus",
    "post_start",
    "pre_stop",
    "annotations",
];
/// Keys that convert partly: each of their unmapped parts is checked separately below.
const PARTLY: &[&str] = &["deploy", "security_opt", "volumes"];

#[test]
fn every_unmapped_key_is_reported() {
    let (st, _warnings) = load(MANY_KEYS);
    let c = convert(&st, &Options::default()).expect("converts");
    let losses: Vec<&str> = c.report.losses().map(|f| f.at.as_str()).collect();
    let reported = |at: &str| {
        losses.iter().any(|l| *l == at || l.starts_with(&format!("{at}.")) || l.starts_with(&format!("{at}[")))
    };
    let raw: serde_yaml::Value = serde_yaml::from_str(MANY_KEYS).expect("yaml");
    let keys = raw["services"]["s"].as_mapping().expect("service");
    let mut unreported = Vec::new();
    for key in keys.keys().filter_map(serde_yaml::Value::as_str) {
        if MAPPED.contains(&key) || PARTLY.contains(&key) {
            continue;
        }
        if !reported(&format!("services.s.{key}")) {
            unreported.push(key.to_string());
        }
    }
    for sub in ["restart_policy", "placement", "update_config", "labels", "endpoint_mode", "resources.limits.pids"] {
        if !reported(&format!("services.s.deploy.{sub}")) {
            unreported.push(format!("deploy.{sub}"));
        }
    }
    assert!(reported("services.s.security_opt"), "apparmor:unconfined not reported: {losses:?}");
    assert!(reported("services.s.volumes[0]"), "the bind mount is not reported: {losses:?}");
    assert_eq!(unreported, Vec::<String>::new(), "unmapped keys missing from the report {losses:?}");
    // And the mapped ones are not reported as lost.
    for key in MAPPED {
        assert!(!losses.contains(&format!("services.s.{key}").as_str()), "{key} is mapped but reported lost");
    }
    assert_eq!(checks::check(&c.manifests), Vec::<String>::new());
}

#[test]
fn host_paths_storage_class_and_labels_on_request() {
    let st = load_ok(
        "services:\n  s:\n    image: x\n    volumes: ['/srv/data:/data', 'v:/v']\n    labels: {'bad key!': x, ok.key: y}\nvolumes:\n  v:\n    labels: {com.example.backup: daily}\n",
    );
    let c = convert(&st, &Options::default()).expect("converts");
    assert!(c.report.losses().any(|f| f.at == "services.s.volumes[0]"));
    assert!(c.report.losses().any(|f| f.at == "services.s.labels.bad key!"));
    let opts = Options { host_path: true, storage_class: Some("fast".into()), ..Options::default() };
    let c = convert(&st, &opts).expect("converts");
    assert!(!c.report.losses().any(|f| f.at == "services.s.volumes[0]"));
    let job = &find(&c, "Job", "s")["spec"]["template"];
    assert_eq!(job["spec"]["volumes"][0]["hostPath"]["path"], "/srv/data");
    assert_eq!(job["metadata"]["annotations"], serde_json::json!({ "ok.key": "y" }));
    let pvc = find(&c, "PersistentVolumeClaim", "v");
    assert_eq!(pvc["spec"]["storageClassName"], "fast");
    assert_eq!(pvc["metadata"]["annotations"]["com.example.backup"], "daily");
    assert_eq!(checks::check(&c.manifests), Vec::<String>::new());
}

#[test]
fn a_job_wait_on_an_internal_network_may_reach_the_api_server() {
    let st = load_ok(
        "services:\n  app:\n    image: x\n    expose: ['80']\n    networks: [data]\n    depends_on: {init: {condition: service_completed_successfully}}\n  init:\n    image: x\n    networks: [data]\nnetworks:\n  data: {internal: true}\n",
    );
    let c = convert(&st, &Options::default()).expect("converts");
    let egress = find(&c, "NetworkPolicy", "app-api-egress");
    assert_eq!(
        egress["spec"]["podSelector"]["matchLabels"],
        find(&c, "Deployment", "app")["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(egress["spec"]["egress"][0]["ports"][0]["port"], 443);
    // The Job itself reads nothing: no such policy for it.
    assert!(!c.manifests.iter().any(|m| m.name == "init-api-egress"));
    assert_eq!(checks::check(&c.manifests), Vec::<String>::new());
}

#[test]
fn a_wait_across_isolated_networks_is_reported_not_hung() {
    let st = load_ok(
        "services:\n  a:\n    image: x\n    expose: ['80']\n    networks: [n1]\n    depends_on: [b, c]\n  b:\n    image: x\n    expose: ['81']\n    networks: [n2]\n  c:\n    image: x\n    ports: ['82:82']\n    networks: [n2]\nnetworks:\n  n1: {}\n  n2: {}\n",
    );
    let c = convert(&st, &Options::default()).expect("converts");
    assert!(c.report.losses().any(|f| f.at == "services.a.depends_on.b"));
    // c's port is published, so admitted from anywhere: the wait stays.
    let init = &find(&c, "Deployment", "a")["spec"]["template"]["spec"]["initContainers"];
    assert_eq!(init.as_array().map(Vec::len), Some(1));
    assert_eq!(init[0]["name"], "wait-for-c");
}

#[test]
fn unknown_extension_settings_are_reported() {
    let st = load_ok(
        "services:\n  s:\n    image: x\n    x-berth-kubernetes: {livenes: true}\nx-berth-kubernetes: {volume: {}}\n",
    );
    let c = convert(&st, &Options::default()).expect("converts");
    let losses: Vec<&str> = c.report.losses().map(|f| f.at.as_str()).collect();
    assert!(losses.contains(&"services.s.x-berth-kubernetes.livenes"), "{losses:?}");
    assert!(losses.contains(&"x-berth-kubernetes.volume"), "{losses:?}");
}
