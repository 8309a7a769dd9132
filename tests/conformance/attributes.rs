//! compose-go's loader/tests/: one test per service or resource attribute, each loading a small
//! file and checking the attribute's value (the round trip through compose-go's own YAML and
//! JSON marshalling in those tests is Go API, left out; `config` output is checked in
//! tests/spec_config.rs).
//!
//! Skipped: helpers_test.go (helpers only), TestPreStartInheritsServiceImage's Go value (its
//! YAML-visible effect is in normalize.rs).

use super::{case, Case};

/// `services: foo: {image: alpine, <body>}` with `body` an indented block of the service's keys.
fn foo(body: &str) -> String {
    let body: String = super::dedent(body).lines().map(|l| format!("    {l}\n")).collect();
    format!("services:\n  foo:\n    image: alpine\n{body}")
}

/// One attribute test: `body` loads, and `pointer` (under /services/foo) has `json`.
fn attr(source: &str, body: &str, pointer: &str, json: &str) -> Case {
    case(source).yaml(&foo(body)).at(&format!("/services/foo{pointer}"), json)
}

pub fn cases() -> Vec<Case> {
    let mut v = simple();
    v.extend(build());
    v.extend(deploy());
    v.extend(networking());
    v.extend(storage());
    v.extend(resources());
    v.extend(newer());
    v
}

/// Attributes read as they are written.
fn simple() -> Vec<Case> {
    vec![
        attr("annotations_test.go TestAnnotations (list)", "\nannotations:\n  - com.example.foo=bar\n", "/annotations", r#"{"com.example.foo":"bar"}"#),
        attr("annotations_test.go TestAnnotations (map)", "\nannotations:\n  com.example.foo: bar\n", "/annotations", r#"{"com.example.foo":"bar"}"#),
        attr("attach_test.go TestAttach (true)", "\nattach: true\n", "/attach", "true"),
        attr("attach_test.go TestAttach (false)", "\nattach: false\n", "/attach", "false"),
        attr(
            "blkio_config_test.go TestBlkioConfig",
            "\nblkio_config:\n  weight: 300\n  weight_device:\n    - path: /dev/sda\n      weight: 400\n  device_read_bps:\n    - path: /dev/sda\n      rate: 1024k\n  device_write_bps:\n    - path: /dev/sda\n      rate: 1024\n  device_read_iops:\n    - path: /dev/sda\n      rate: 100\n  device_write_iops:\n    - path: /dev/sda\n      rate: 200\n",
            "/blkio_config",
            r#"{"weight":300,"weight_device":[{"path":"/dev/sda","weight":400}],"device_read_bps":[{"path":"/dev/sda","rate":1048576}],"device_write_bps":[{"path":"/dev/sda","rate":1024}],"device_read_iops":[{"path":"/dev/sda","rate":100}],"device_write_iops":[{"path":"/dev/sda","rate":200}]}"#,
        ),
        case("cpu_test.go TestCPUFields")
            .yaml(&foo("\ncpu_count: 4\ncpu_percent: 50\ncpu_shares: 1024\ncpu_quota: 50000\ncpu_period: 100000\ncpu_rt_period: 1000000\ncpu_rt_runtime: 950000\ncpus: 1.5\ncpuset: \"0,1\"\n"))
            .at("/services/foo/cpu_count", "4")
            .at("/services/foo/cpu_percent", "50")
            .at("/services/foo/cpu_shares", "1024")
            .at("/services/foo/cpu_quota", "50000")
            .at("/services/foo/cpu_period", "100000")
            .at("/services/foo/cpu_rt_period", "1000000")
            .at("/services/foo/cpu_rt_runtime", "950000")
            .at("/services/foo/cpus", "1.5")
            .text("/services/foo/cpuset", "0,1"),
        case("cpu_test.go TestMemoryFields")
            .yaml(&foo("\nmem_limit: 512m\nmem_reservation: 256m\nmem_swappiness: 60\nmemswap_limit: 1g\nshm_size: 64m\n"))
            .at("/services/foo/mem_limit", "536870912")
            .at("/services/foo/mem_reservation", "268435456")
            .at("/services/foo/mem_swappiness", "60")
            .at("/services/foo/memswap_limit", "1073741824")
            .at("/services/foo/shm_size", "67108864"),
        case("depends_on_test.go TestDependsOnList")
            .yaml("\nservices:\n  web:\n    image: alpine\n    depends_on:\n      - db\n      - redis\n  db:\n    image: postgres\n  redis:\n    image: redis\n")
            .at("/services/web/depends_on", r#"{"db":{"condition":"service_started","required":true},"redis":{"condition":"service_started","required":true}}"#),
        case("depends_on_test.go TestDependsOnObject")
            .yaml("\nservices:\n  web:\n    image: alpine\n    depends_on:\n      db:\n        condition: service_healthy\n        restart: true\n      redis:\n        condition: service_started\n  db:\n    image: postgres\n  redis:\n    image: redis\n")
            .at("/services/web/depends_on", r#"{"db":{"condition":"service_healthy","restart":true,"required":true},"redis":{"condition":"service_started","required":true}}"#),
        case("depends_on_test.go TestDependsOnXService (a service named x-foo)")
            .yaml("\nservices:\n  test:\n    image: test\n    depends_on:\n      - x-foo\n  x-foo:\n    image: foo\n")
            .at("/services/test/depends_on", r#"{"x-foo":{"condition":"service_started","required":true}}"#),
        case("develop_test.go TestDevelopWatch")
            .yaml("\nservices:\n  web:\n    image: app\n    build: ./app\n    develop:\n      watch:\n        - path: ./src\n          action: sync\n          target: /app/src\n          ignore:\n            - node_modules/\n          initial_sync: true\n        - path: ./requirements.txt\n          action: rebuild\n        - path: ./config.yml\n          action: sync+restart\n          target: /app/config.yml\n")
            .at(
                "/services/web/develop/watch",
                r#"[{"path":"<dir>/src","action":"sync","target":"/app/src","ignore":["node_modules/"],"initial_sync":true},{"path":"<dir>/requirements.txt","action":"rebuild"},{"path":"<dir>/config.yml","action":"sync+restart","target":"/app/config.yml"}]"#,
            ),
        case("develop_test.go TestDevelopMissingAction")
            .yaml("\nservices:\n  web:\n    image: app\n    build: ./app\n    develop:\n      watch:\n        - path: ./src\n          target: /app/src\n")
            .fails("action"),
        attr("env_file_test.go TestEnvFileString", "\nenv_file:\n  - path: .env\n    required: false\n", "/env_file", r#"[{"path":"<dir>/.env","required":false}]"#),
        attr(
            "env_file_test.go TestEnvFileList",
            "\nenv_file:\n  - path: .env\n    required: false\n  - path: .env.local\n    required: false\n",
            "/env_file",
            r#"[{"path":"<dir>/.env","required":false},{"path":"<dir>/.env.local","required":false}]"#,
        ),
        attr(
            "env_file_test.go TestEnvFileLongSyntax",
            "\nenv_file:\n  - path: .env\n    required: false\n    format: raw\n",
            "/env_file",
            r#"[{"path":"<dir>/.env","required":false,"format":"raw"}]"#,
        ),
        attr("cap_add_drop_test.go TestCapAddDrop (cap_add)", "\ncap_add: [ALL]\ncap_drop: [NET_ADMIN, SYS_ADMIN]\n", "/cap_add", r#"["ALL"]"#),
        attr("cap_add_drop_test.go TestCapAddDrop (cap_drop)", "\ncap_add: [ALL]\ncap_drop: [NET_ADMIN, SYS_ADMIN]\n", "/cap_drop", r#"["NET_ADMIN","SYS_ADMIN"]"#),
        attr("cgroup_parent_test.go TestCgroupParent", "\ncgroup_parent: m-executor-abcd\n", "/cgroup_parent", r#""m-executor-abcd""#),
        attr("cgroup_test.go TestCgroup", "\ncgroup: private\n", "/cgroup", r#""private""#),
        attr("command_test.go TestCommandString", "\ncommand: bundle exec thin -p 3000\n", "/command", r#"["bundle","exec","thin","-p","3000"]"#),
        attr("command_test.go TestCommandList", "\ncommand: [\"bundle\", \"exec\", \"thin\", \"-p\", \"3000\"]\n", "/command", r#"["bundle","exec","thin","-p","3000"]"#),
        attr("container_name_test.go TestContainerName", "\ncontainer_name: my-web-container\n", "/container_name", r#""my-web-container""#),
        attr("credential_spec_test.go TestCredentialSpec", "\ncredential_spec:\n  config: \"0bt9dmxjvjiqermk6xrop3ekq\"\n", "/credential_spec/config", r#""0bt9dmxjvjiqermk6xrop3ekq""#),
        attr("device_cgroup_rules_test.go TestDeviceCgroupRules", "\ndevice_cgroup_rules:\n  - \"c 1:3 mr\"\n  - \"a 7:* rmw\"\n", "/device_cgroup_rules", r#"["c 1:3 mr","a 7:* rmw"]"#),
        attr("dns_opt_test.go TestDNSOpt", "\ndns_opt:\n  - use-vc\n  - no-tld-query\n", "/dns_opt", r#"["use-vc","no-tld-query"]"#),
        attr("dns_test.go TestDNS (list)", "\ndns:\n  - 8.8.8.8\n  - 9.9.9.9\n", "/dns", r#"["8.8.8.8","9.9.9.9"]"#),
        attr("dns_test.go TestDNS (string)", "\ndns: 8.8.8.8\n", "/dns", r#"["8.8.8.8"]"#),
        attr("dns_test.go TestDNSSearch (list)", "\ndns_search:\n  - dc1.example.com\n  - dc2.example.com\n", "/dns_search", r#"["dc1.example.com","dc2.example.com"]"#),
        attr("dns_test.go TestDNSSearch (string)", "\ndns_search: example.com\n", "/dns_search", r#"["example.com"]"#),
        attr("dns_test.go TestDNSOmitEmpty", "\ndns: ${UNSET_VAR}\n", "/dns", "[]"),
        attr("domainname_test.go TestDomainname", "\ndomainname: foo.com\n", "/domainname", r#""foo.com""#),
        attr("entrypoint_test.go TestEntrypointList", "\nentrypoint: [\"/code/entrypoint.sh\", \"-p\", \"3000\"]\n", "/entrypoint", r#"["/code/entrypoint.sh","-p","3000"]"#),
        attr("entrypoint_test.go TestEntrypointString", "\nentrypoint: /code/entrypoint.sh -p 3000\n", "/entrypoint", r#"["/code/entrypoint.sh","-p","3000"]"#),
        attr("environment_test.go TestEnvironmentBoolean", "\nenvironment:\n  FOO: true\n  BAR: false\n", "/environment", r#"{"FOO":"true","BAR":"false"}"#),
        case("environment_test.go TestEnvironmentMap")
            .yaml(&foo("\nenvironment:\n  FOO: \"1\"\n  BAR: 2\n  GA: 2.5\n  BU: \"\"\n  ZO:\n  MEU:\n"))
            .env(&[("MEU", "Shadoks")])
            .at("/services/foo/environment", r#"{"FOO":"1","BAR":"2","GA":"2.5","BU":"","ZO":null,"MEU":"Shadoks"}"#),
        case("environment_test.go TestEnvironmentList")
            .yaml(&foo("\nenvironment:\n  - FOO=1\n  - BAR=2\n  - BU=\n  - ZO\n  - MEU\n"))
            .env(&[("MEU", "Shadoks")])
            .at("/services/foo/environment", r#"{"FOO":"1","BAR":"2","BU":"","ZO":null,"MEU":"Shadoks"}"#),
        case("environment_test.go TestEnvironmentInvalidValue").yaml(&foo("\nenvironment:\n  FOO: [\"1\"]\n")).fails("environment"),
        case("environment_test.go TestEnvironmentInvalidObject").yaml(&foo("\nenvironment: \"FOO=1\"\n")).fails("environment"),
        case("environment_test.go TestEnvironmentWhitespace")
            .yaml("\nservices:\n  test:\n    image: x\n    environment:\n      - DEBUG = true\n")
            .fails("trailing space"),
        attr("expose_test.go TestExpose", "\nexpose:\n  - \"3000\"\n  - 8000\n", "/expose", r#"["3000","8000"]"#),
        case("extensions_test.go TestTopLevelExtensions")
            .yaml("\nservices:\n  foo:\n    image: alpine\nx-foo: bar\nx-bar: baz\nx-nested:\n  foo: bar\n  bar: baz\n")
            .text("/x-foo", "bar")
            .text("/x-bar", "baz")
            .at("/x-nested", r#"{"foo":"bar","bar":"baz"}"#),
        attr("extensions_test.go TestServiceExtensions", "\nx-bar: baz\nx-foo: bar\n", "/x-foo", r#""bar""#),
        attr("external_links_test.go TestExternalLinks", "\nexternal_links:\n  - redis_1\n  - project_db_1:mysql\n  - project_db_1:postgresql\n", "/external_links", r#"["redis_1","project_db_1:mysql","project_db_1:postgresql"]"#),
        attr("extra_hosts_test.go TestExtraHostsMap", "\nextra_hosts:\n  alpha: \"50.31.209.229\"\n  zulu: \"162.242.195.82\"\n", "/extra_hosts", r#"{"alpha":["50.31.209.229"],"zulu":["162.242.195.82"]}"#),
        attr("extra_hosts_test.go TestExtraHostsList", "\nextra_hosts:\n  - \"alpha:50.31.209.229\"\n  - \"zulu:127.0.0.2\"\n  - \"zulu:ff02::1\"\n", "/extra_hosts", r#"{"alpha":["50.31.209.229"],"zulu":["127.0.0.2","ff02::1"]}"#),
        attr("extra_hosts_test.go TestExtraHostsRepeated", "\nextra_hosts:\n  - \"myhost=0.0.0.1,0.0.0.2\"\n", "/extra_hosts", r#"{"myhost":["0.0.0.1","0.0.0.2"]}"#),
        attr("extra_hosts_test.go TestExtraHostsLongSyntax", "\nextra_hosts:\n  myhost:\n    - \"0.0.0.1\"\n    - \"0.0.0.2\"\n", "/extra_hosts", r#"{"myhost":["0.0.0.1","0.0.0.2"]}"#),
        attr("group_add_test.go TestGroupAdd", "\ngroup_add:\n  - mail\n  - \"0\"\n", "/group_add", r#"["mail","0"]"#),
        attr("healthcheck_test.go TestHealthcheck (test)", "\nhealthcheck:\n  test: echo \"hello world\"\n  interval: 10s\n  timeout: 1s\n  retries: 5\n  start_period: 15s\n  start_interval: 5s\n", "/healthcheck", r#"{"test":["CMD-SHELL","echo \"hello world\""],"interval":"10s","timeout":"1s","retries":5,"start_period":"15s","start_interval":"5s"}"#),
        attr("hostname_test.go TestHostname", "\nhostname: foo\n", "/hostname", r#""foo""#),
        attr("image_test.go TestImage", "\n", "/image", r#""alpine""#),
        case("init_test.go TestInit")
            .yaml("\nservices:\n  with-init:\n    image: alpine\n    init: true\n  without-init:\n    image: alpine\n    init: false\n  default:\n    image: alpine\n")
            .at("/services/with-init/init", "true")
            .at("/services/without-init/init", "false")
            .at("/services/default/init", super::ABSENT),
        attr("ipc_uts_pid_test.go TestIpcUtsPid (ipc)", "\nipc: host\nuts: host\npid: host\n", "/ipc", r#""host""#),
        attr("ipc_uts_pid_test.go TestIpcUtsPid (uts)", "\nipc: host\nuts: host\npid: host\n", "/uts", r#""host""#),
        attr("ipc_uts_pid_test.go TestIpcUtsPid (pid)", "\nipc: host\nuts: host\npid: host\n", "/pid", r#""host""#),
        attr("isolation_test.go TestIsolation", "\nisolation: process\n", "/isolation", r#""process""#),
        attr("labels_test.go TestServiceLabels", "\nlabels:\n  com.example.description: \"Accounting webapp\"\n  com.example.number: 42\n  com.example.empty-label:\n", "/labels", r#"{"com.example.description":"Accounting webapp","com.example.number":"42","com.example.empty-label":""}"#),
        attr("labels_test.go TestServiceLabelsListSyntax", "\nlabels:\n  - \"com.example.description=Accounting webapp\"\n  - \"com.example.number=42\"\n  - \"com.example.empty-label\"\n", "/labels", r#"{"com.example.description":"Accounting webapp","com.example.number":"42","com.example.empty-label":""}"#),
        case("links_test.go TestLinks")
            .yaml("\nservices:\n  foo:\n    image: alpine\n    links:\n      - db\n      - db:database\n      - redis\n  db:\n    image: postgres\n  redis:\n    image: redis\n")
            .at("/services/foo/links", r#"["db","db:database","redis"]"#),
        attr("logging_test.go TestLogging", "\nlogging:\n  driver: syslog\n  options:\n    syslog-address: \"tcp://192.168.0.42:123\"\n", "/logging", r#"{"driver":"syslog","options":{"syslog-address":"tcp://192.168.0.42:123"}}"#),
        attr("mac_address_test.go TestMacAddress", "\nmac_address: \"02:42:ac:11:65:43\"\n", "/mac_address", r#""02:42:ac:11:65:43""#),
        attr("network_mode_test.go TestNetworkMode", "\nnetwork_mode: \"container:0cfeab0f748b\"\n", "/network_mode", r#""container:0cfeab0f748b""#),
        attr("oom_test.go TestOomKillDisable", "\noom_kill_disable: true\n", "/oom_kill_disable", "true"),
        attr("oom_test.go TestOomScoreAdj", "\noom_score_adj: 500\n", "/oom_score_adj", "500"),
        attr("pids_limit_test.go TestPidsLimit", "\npids_limit: 100\n", "/pids_limit", "100"),
        attr("platform_test.go TestPlatform", "\nplatform: linux/amd64\n", "/platform", r#""linux/amd64""#),
        attr("privileged_test.go TestPrivilegedReadOnly (privileged)", "\nprivileged: true\nread_only: true\n", "/privileged", "true"),
        attr("privileged_test.go TestPrivilegedReadOnly (read_only)", "\nprivileged: true\nread_only: true\n", "/read_only", "true"),
        attr("pull_policy_test.go TestPullPolicy", "\npull_policy: always\n", "/pull_policy", r#""always""#),
        attr("pull_policy_test.go TestPullRefreshAfter", "\npull_policy: every_2d\n", "/pull_policy", r#""every_2d""#),
        attr("restart_test.go TestRestart", "\nrestart: always\n", "/restart", r#""always""#),
        attr("runtime_test.go TestRuntime", "\nruntime: nvidia\n", "/runtime", r#""nvidia""#),
        attr("scale_test.go TestScale", "\nscale: 3\n", "/scale", "3"),
        attr("security_opt_test.go TestSecurityOpt", "\nsecurity_opt:\n  - label=level:s0:c100,c200\n  - label=type:svirt_apache_t\n", "/security_opt", r#"["label=level:s0:c100,c200","label=type:svirt_apache_t"]"#),
        attr("stdin_tty_test.go TestStdinOpenTty (stdin_open)", "\nstdin_open: true\ntty: true\n", "/stdin_open", "true"),
        attr("stdin_tty_test.go TestStdinOpenTty (tty)", "\nstdin_open: true\ntty: true\n", "/tty", "true"),
        attr("stop_test.go TestStopGracePeriod", "\nstop_grace_period: 20s\n", "/stop_grace_period", r#""20s""#),
        attr("stop_test.go TestStopSignal", "\nstop_signal: SIGUSR1\n", "/stop_signal", r#""SIGUSR1""#),
        attr("storage_opt_test.go TestStorageOpt", "\nstorage_opt:\n  size: \"20G\"\n", "/storage_opt", r#"{"size":"20G"}"#),
        attr("sysctls_test.go TestSysctls (list)", "\nsysctls:\n  - net.core.somaxconn=1024\n  - net.ipv4.tcp_syncookies=0\n  - testing.one.one=\n  - testing.one.two\n", "/sysctls", r#"{"net.core.somaxconn":"1024","net.ipv4.tcp_syncookies":"0","testing.one.one":"","testing.one.two":""}"#),
        attr("sysctls_test.go TestSysctls (map)", "\nsysctls:\n  net.core.somaxconn: 1024\n  net.ipv4.tcp_syncookies: 0\n  testing.one.one: \"\"\n  testing.one.two:\n", "/sysctls", r#"{"net.core.somaxconn":"1024","net.ipv4.tcp_syncookies":"0","testing.one.one":"","testing.one.two":""}"#),
        attr("tmpfs_test.go TestTmpfs (list)", "\ntmpfs:\n  - /run\n  - /tmp\n", "/tmpfs", r#"["/run","/tmp"]"#),
        attr("tmpfs_test.go TestTmpfs (string)", "\ntmpfs: /run\n", "/tmpfs", r#"["/run"]"#),
        attr("ulimits_test.go TestUlimits", "\nulimits:\n  nproc: 65535\n  nofile:\n    soft: 20000\n    hard: 40000\n", "/ulimits", r#"{"nproc":{"soft":65535,"hard":65535},"nofile":{"soft":20000,"hard":40000}}"#),
        attr("user_test.go TestUser", "\nuser: someone\n", "/user", r#""someone""#),
        attr("userns_mode_test.go TestUsernsMode", "\nuserns_mode: host\n", "/userns_mode", r#""host""#),
        attr("working_dir_test.go TestWorkingDir", "\nworking_dir: /code\n", "/working_dir", r#""/code""#),
        case("volumes_from_test.go TestVolumesFrom")
            .yaml("\nservices:\n  foo:\n    image: alpine\n    volumes_from:\n      - bar\n      - bar:ro\n  bar:\n    image: alpine\n")
            .at("/services/foo/volumes_from", r#"["bar","bar:ro"]"#),
        case("profiles_test.go TestProfiles (without profiles the service is disabled)")
            .yaml("\nservices:\n  foo:\n    image: alpine\n    profiles:\n      - debug\n      - dev\n  bar:\n    image: alpine\n")
            .at("/services/foo", super::ABSENT)
            .text("/services/bar/image", "alpine"),
        case("profiles_test.go TestProfiles (with a matching profile)")
            .yaml("\nservices:\n  foo:\n    image: alpine\n    profiles:\n      - debug\n      - dev\n  bar:\n    image: alpine\n")
            .profiles(&["debug"])
            .at("/services/foo/profiles", r#"["debug","dev"]"#),
    ]
}

fn build() -> Vec<Case> {
    let b = |source: &str, body: &str, pointer: &str, json: &str| {
        case(source)
            .yaml(&format!("services:\n  foo:\n    build:\n      context: .\n{}", indent(body, 6)))
            .at(&format!("/services/foo/build{pointer}"), json)
    };
    vec![
        b("build_extra_test.go TestBuildCacheTo", "cache_to:\n  - user/app:cache\n  - type=local,dest=path/to/cache\n", "/cache_to", r#"["user/app:cache","type=local,dest=path/to/cache"]"#),
        b("build_extra_test.go TestBuildNoCache", "no_cache: true\n", "/no_cache", "true"),
        b("build_extra_test.go TestBuildPull", "pull: true\n", "/pull", "true"),
        b("build_extra_test.go TestBuildShmSize", "shm_size: 128m\n", "/shm_size", "134217728"),
        b("build_extra_test.go TestBuildIsolation", "isolation: process\n", "/isolation", r#""process""#),
        b("build_extra_test.go TestBuildPrivileged", "privileged: true\n", "/privileged", "true"),
        b("build_extra_test.go TestBuildEntitlements", "entitlements:\n  - network.host\n  - security.insecure\n", "/entitlements", r#"["network.host","security.insecure"]"#),
        b("build_extra_test.go TestBuildAttestations (provenance)", "provenance: mode=max\nsbom: true\n", "/provenance", r#""mode=max""#),
        b("build_extra_test.go TestBuildAttestations (sbom)", "provenance: mode=max\nsbom: true\n", "/sbom", r#""true""#),
        b("build_extra_test.go TestBuildNoCacheFilter (string)", "no_cache_filter: foo\n", "/no_cache_filter", r#"["foo"]"#),
        b("build_extra_test.go TestBuildNoCacheFilter (list)", "no_cache_filter: [foo, bar]\n", "/no_cache_filter", r#"["foo","bar"]"#),
        case("build_test.go TestBuildConfig")
            .yaml(
                r#"
                services:
                  foo:
                    build:
                      context: ./dir
                      dockerfile: Dockerfile
                      args:
                        foo: bar
                      target: foo
                      network: foo
                      cache_from:
                        - foo
                        - bar
                      labels: [FOO=BAR]
                      additional_contexts:
                        foo: ./bar
                      tags:
                        - foo:v1.0.0
                        - docker.io/username/foo:my-other-tag
                      platforms:
                        - linux/amd64
                        - linux/arm64
                "#,
            )
            .text("/services/foo/build/context", "<dir>/dir")
            .text("/services/foo/build/dockerfile", "Dockerfile")
            .at("/services/foo/build/args", r#"{"foo":"bar"}"#)
            .text("/services/foo/build/target", "foo")
            .text("/services/foo/build/network", "foo")
            .at("/services/foo/build/cache_from", r#"["foo","bar"]"#)
            .at("/services/foo/build/labels", r#"{"FOO":"BAR"}"#)
            .at("/services/foo/build/additional_contexts", r#"{"foo":"<dir>/bar"}"#)
            .at("/services/foo/build/tags", r#"["foo:v1.0.0","docker.io/username/foo:my-other-tag"]"#)
            .at("/services/foo/build/platforms", r#"["linux/amd64","linux/arm64"]"#),
        case("build_test.go TestDockerfileInline")
            .yaml("\nservices:\n  bar:\n    build:\n      dockerfile_inline: |\n        FROM alpine\n        RUN echo \"hello\" > /world.txt\n")
            .text("/services/bar/build/dockerfile_inline", "FROM alpine\nRUN echo \"hello\" > /world.txt\n"),
        b("build_test.go TestBuildSSH", "ssh:\n  - default\n", "/ssh", r#"["default"]"#),
        case("build_test.go TestBuildSecrets")
            .yaml(
                r#"
                services:
                  foo:
                    build:
                      context: .
                      secrets:
                        - source: secret1
                          target: /run/secrets/secret1
                        - source: secret2
                          target: my_secret
                          uid: '103'
                          gid: '103'
                          mode: 0440
                secrets:
                  secret1:
                    file: ./secret_data
                  secret2:
                    external: true
                "#,
            )
            .text("/services/foo/build/secrets/0/source", "secret1")
            .text("/services/foo/build/secrets/1/uid", "103")
            .at("/services/foo/build/secrets/1/mode", "288"),
    ]
}

fn indent(text: &str, n: usize) -> String {
    text.lines().map(|l| format!("{}{l}\n", " ".repeat(n))).collect()
}

fn deploy() -> Vec<Case> {
    vec![
        attr("deploy_pids_test.go TestDeployResourcesPids", "\ndeploy:\n  resources:\n    limits:\n      pids: 100\n", "/deploy/resources/limits/pids", "100"),
        attr("deploy_test.go TestDeployModeReplicas (mode)", "\ndeploy:\n  mode: replicated\n  replicas: 6\n  labels: [FOO=BAR]\n  endpoint_mode: dnsrr\n", "/deploy/mode", r#""replicated""#),
        attr("deploy_test.go TestDeployModeReplicas (replicas)", "\ndeploy:\n  mode: replicated\n  replicas: 6\n  labels: [FOO=BAR]\n  endpoint_mode: dnsrr\n", "/deploy/replicas", "6"),
        attr("deploy_test.go TestDeployModeReplicas (labels)", "\ndeploy:\n  mode: replicated\n  replicas: 6\n  labels: [FOO=BAR]\n  endpoint_mode: dnsrr\n", "/deploy/labels", r#"{"FOO":"BAR"}"#),
        attr("deploy_test.go TestDeployModeReplicas (endpoint_mode)", "\ndeploy:\n  mode: replicated\n  replicas: 6\n  labels: [FOO=BAR]\n  endpoint_mode: dnsrr\n", "/deploy/endpoint_mode", r#""dnsrr""#),
        attr(
            "deploy_test.go TestDeployUpdateRollbackConfig",
            "\ndeploy:\n  update_config:\n    parallelism: 3\n    delay: 10s\n    failure_action: continue\n    monitor: 60s\n    max_failure_ratio: 0.3\n    order: start-first\n  rollback_config:\n    parallelism: 3\n    delay: 10s\n    failure_action: continue\n    monitor: 60s\n    max_failure_ratio: 0.3\n    order: start-first\n",
            "/deploy/update_config",
            r#"{"parallelism":3,"delay":"10s","failure_action":"continue","monitor":"1m0s","max_failure_ratio":0.3,"order":"start-first"}"#,
        ),
        attr(
            "deploy_test.go TestDeployResources",
            "\ndeploy:\n  resources:\n    limits:\n      cpus: '0.001'\n      memory: 50M\n    reservations:\n      cpus: '0.0001'\n      memory: 20M\n      generic_resources:\n        - discrete_resource_spec:\n            kind: 'gpu'\n            value: 2\n        - discrete_resource_spec:\n            kind: 'ssd'\n            value: 1\n",
            "/deploy/resources",
            r#"{"limits":{"cpus":0.001,"memory":52428800},"reservations":{"cpus":0.0001,"memory":20971520,"generic_resources":[{"discrete_resource_spec":{"kind":"gpu","value":2}},{"discrete_resource_spec":{"kind":"ssd","value":1}}]}}"#,
        ),
        attr(
            "deploy_test.go TestDeployRestartPolicy",
            "\ndeploy:\n  restart_policy:\n    condition: on-failure\n    delay: 5s\n    max_attempts: 3\n    window: 120s\n",
            "/deploy/restart_policy",
            r#"{"condition":"on-failure","delay":"5s","max_attempts":3,"window":"2m0s"}"#,
        ),
        attr(
            "deploy_test.go TestDeployPlacement",
            "\ndeploy:\n  placement:\n    constraints: [node=foo]\n    max_replicas_per_node: 5\n    preferences:\n      - spread: node.labels.az\n",
            "/deploy/placement",
            r#"{"constraints":["node=foo"],"max_replicas_per_node":5,"preferences":[{"spread":"node.labels.az"}]}"#,
        ),
        attr(
            "devices_test.go TestDeviceReservation",
            "\ndeploy:\n  resources:\n    reservations:\n      devices:\n        - driver: nvidia\n          capabilities: [\"gpu\"]\n          count: all\n          options:\n            q_bits: 42\n",
            "/deploy/resources/reservations/devices/0",
            r#"{"driver":"nvidia","capabilities":["gpu"],"count":-1,"options":{"q_bits":"42"}}"#,
        ),
    ]
}

fn networking() -> Vec<Case> {
    let net = |source: &str, body: &str, pointer: &str, json: &str| {
        case(source)
            .yaml(&format!(
                "services:\n  foo:\n    image: alpine\n    networks:\n      net1:\n{}networks:\n  net1:\n",
                indent(body, 8)
            ))
            .at(&format!("/services/foo/networks/net1{pointer}"), json)
    };
    vec![
        net("gw_priority_test.go TestGwPriority", "gw_priority: 42\n", "/gw_priority", "42"),
        net("interface_name_test.go TestInterfaceName", "interface_name: eth0\n", "/interface_name", r#""eth0""#),
        net("link_local_ips_test.go TestLinkLocalIPs", "link_local_ips:\n  - \"fe80::1:95ff:fe20:100\"\n", "/link_local_ips", r#"["fe80::1:95ff:fe20:100"]"#),
        net("network_driver_opts_test.go TestServiceNetworkDriverOpts", "driver_opts:\n  com.docker.network.endpoint.sysctls: \"ipv6.conf.accept_ra=0\"\n", "/driver_opts", r#"{"com.docker.network.endpoint.sysctls":"ipv6.conf.accept_ra=0"}"#),
        case("network_internal_test.go TestNetworkInternal")
            .yaml("\nservices:\n  foo:\n    image: alpine\nnetworks:\n  internal-net:\n    internal: true\n  attachable-net:\n    driver: overlay\n    attachable: true\n")
            .at("/networks/internal-net/internal", "true")
            .at("/networks/attachable-net/attachable", "true"),
        case("network_internal_test.go TestNetworkEnableIPv4IPv6")
            .yaml("\nservices:\n  foo:\n    image: alpine\nnetworks:\n  net1:\n    enable_ipv4: false\n    enable_ipv6: true\n")
            .at("/networks/net1/enable_ipv4", "false")
            .at("/networks/net1/enable_ipv6", "true"),
        case("network_ipam_test.go TestNetworkIPAM")
            .yaml("\nservices:\n  foo:\n    image: alpine\nnetworks:\n  net1:\n    ipam:\n      driver: default\n      options:\n        com.docker.network.ipam.foo: bar\n        com.docker.network.ipam.baz: \"1\"\n      config:\n        - subnet: 172.28.0.0/16\n          gateway: 172.28.0.1\n")
            .at(
                "/networks/net1/ipam",
                r#"{"driver":"default","options":{"com.docker.network.ipam.foo":"bar","com.docker.network.ipam.baz":"1"},"config":[{"subnet":"172.28.0.0/16","gateway":"172.28.0.1"}]}"#,
            ),
        case("networks_test.go TestServiceNetworks")
            .yaml(
                r#"
                services:
                  foo:
                    image: alpine
                    networks:
                      some-network:
                        aliases:
                          - alias1
                          - alias3
                      other-network:
                        ipv4_address: 172.16.238.10
                        ipv6_address: "2001:3984:3989::10"
                        mac_address: "02:42:72:98:65:08"
                      other-other-network:
                networks:
                  some-network:
                  other-network:
                    ipam:
                      config:
                        - subnet: 172.16.238.0/24
                        - subnet: "2001:3984:3989::/64"
                  other-other-network:
                "#,
            )
            .at("/services/foo/networks/some-network/aliases", r#"["alias1","alias3"]"#)
            .text("/services/foo/networks/other-network/ipv4_address", "172.16.238.10")
            .text("/services/foo/networks/other-network/ipv6_address", "2001:3984:3989::10")
            .text("/services/foo/networks/other-network/mac_address", "02:42:72:98:65:08")
            .at("/services/foo/networks/other-other-network", "{}"),
        case("networks_test.go TestTopLevelNetworks")
            .yaml(
                r#"
                services:
                  foo:
                    image: alpine
                networks:
                  some-network:
                  other-network:
                    driver: overlay
                    driver_opts:
                      foo: "bar"
                      baz: 1
                    ipam:
                      driver: overlay
                      config:
                        - subnet: 172.28.0.0/16
                          ip_range: 172.28.5.0/24
                          gateway: 172.28.5.254
                          aux_addresses:
                            host1: 172.28.1.5
                            host2: 172.28.1.6
                            host3: 172.28.1.7
                        - subnet: "2001:3984:3989::/64"
                          gateway: "2001:3984:3989::1"
                    labels:
                      foo: bar
                  external-network:
                    external: true
                  other-external-network:
                    external:
                      name: my-cool-network
                    x-bar: baz
                    x-foo: bar
                "#,
            )
            .at("/networks/some-network/driver", "null")
            .text("/networks/other-network/driver", "overlay")
            .at("/networks/other-network/driver_opts", r#"{"foo":"bar","baz":"1"}"#)
            .text("/networks/other-network/ipam/driver", "overlay")
            .at(
                "/networks/other-network/ipam/config/0",
                r#"{"subnet":"172.28.0.0/16","ip_range":"172.28.5.0/24","gateway":"172.28.5.254","aux_addresses":{"host1":"172.28.1.5","host2":"172.28.1.6","host3":"172.28.1.7"}}"#,
            )
            .text("/networks/other-network/ipam/config/1/subnet", "2001:3984:3989::/64")
            .at("/networks/other-network/labels", r#"{"foo":"bar"}"#)
            .at("/networks/external-network/external", "true")
            .at("/networks/other-external-network/external", "true")
            .text("/networks/other-external-network/name", "my-cool-network")
            .text("/networks/other-external-network/x-foo", "bar"),
        case("ports_test.go TestPortsShortSyntax")
            .yaml(&foo("\nports:\n  - \"80:8080\"\n  - \"90:8090/udp\"\n  - 8600\n"))
            .at(
                "/services/foo/ports",
                r#"[{"target":8080,"published":"80","protocol":"tcp","mode":"ingress"},{"target":8090,"published":"90","protocol":"udp","mode":"ingress"},{"target":8600,"protocol":"tcp","mode":"ingress"}]"#,
            ),
        attr("ports_test.go TestPortsLongSyntax", "\nports:\n  - target: 80\n    published: 8080\n    protocol: tcp\n    mode: host\n", "/ports", r#"[{"target":80,"published":"8080","protocol":"tcp","mode":"host"}]"#),
        attr("ports_test.go TestPortsRange", "\nports:\n  - \"80-82:8080-8082\"\n", "/ports", r#"[{"target":8080,"published":"80","protocol":"tcp","mode":"ingress"},{"target":8081,"published":"81","protocol":"tcp","mode":"ingress"},{"target":8082,"published":"82","protocol":"tcp","mode":"ingress"}]"#),
        attr("ports_test.go TestNamedPort", "\nports:\n  - name: http\n    published: 8080\n    target: 80\n", "/ports/0/name", r#""http""#),
        attr("ports_test.go TestAppProtocol", "\nports:\n  - published: 8080\n    target: 80\n    protocol: tcp\n    app_protocol: http\n", "/ports/0/app_protocol", r#""http""#),
    ]
}

fn storage() -> Vec<Case> {
    vec![
        attr("volume_bind_test.go TestVolumeBindPropagation", "\nvolumes:\n  - type: bind\n    source: /host\n    target: /container\n    bind:\n      propagation: rslave\n", "/volumes/0/bind/propagation", r#""rslave""#),
        attr("volume_bind_test.go TestVolumeBindSELinux", "\nvolumes:\n  - type: bind\n    source: /host\n    target: /container\n    bind:\n      selinux: z\n", "/volumes/0/bind/selinux", r#""z""#),
        case("volume_bind_test.go TestVolumeNoCopy")
            .yaml(&format!("{}volumes:\n  mydata:\n", foo("\nvolumes:\n  - type: volume\n    source: mydata\n    target: /data\n    volume:\n      nocopy: true\n")))
            .at("/services/foo/volumes/0/volume/nocopy", "true"),
        case("volume_bind_test.go TestVolumeBindCreateHostPathDefault")
            .yaml("\nservices:\n  short:\n    image: alpine\n    volumes:\n      - /host:/container\n  long:\n    image: alpine\n    volumes:\n      - type: bind\n        source: /host\n        target: /container\n        bind: {}\n")
            .at("/services/short/volumes/0/bind/create_host_path", "true")
            .at("/services/long/volumes/0/bind/create_host_path", "true"),
        case("volumes_test.go TestTopLevelVolumes")
            .yaml(
                r#"
                services:
                  foo:
                    image: alpine
                volumes:
                  some-volume:
                  other-volume:
                    driver: flocker
                    driver_opts:
                      foo: "bar"
                      baz: 1
                    labels:
                      foo: bar
                  another-volume:
                    name: "user_specified_name"
                    driver: vsphere
                    driver_opts:
                      foo: "bar"
                      baz: 1
                  external-volume:
                    external: true
                  other-external-volume:
                    external:
                      name: my-cool-volume
                  external-volume3:
                    name: this-is-volume3
                    external: true
                    x-bar: baz
                    x-foo: bar
                "#,
            )
            .at("/volumes/some-volume/driver", "null")
            .text("/volumes/other-volume/driver", "flocker")
            .at("/volumes/other-volume/driver_opts", r#"{"foo":"bar","baz":"1"}"#)
            .at("/volumes/other-volume/labels", r#"{"foo":"bar"}"#)
            .text("/volumes/another-volume/name", "user_specified_name")
            .text("/volumes/another-volume/driver", "vsphere")
            .at("/volumes/external-volume/external", "true")
            .text("/volumes/other-external-volume/name", "my-cool-volume")
            .at("/volumes/other-external-volume/external", "true")
            .text("/volumes/external-volume3/name", "this-is-volume3")
            .text("/volumes/external-volume3/x-foo", "bar"),
        attr(
            "volumes_test.go TestImageVolume",
            "\nvolumes:\n  - type: image\n    source: app/image\n    target: /mnt/image\n    image:\n      subpath: /foo\n",
            "/volumes/0",
            r#"{"type":"image","source":"app/image","target":"/mnt/image","image":{"subpath":"/foo"}}"#,
        ),
        attr(
            "volumes_test.go TestNpipeVolume",
            "\nvolumes:\n  - type: npipe\n    source: \\\\.\\pipe\\docker_engine\n    target: \\\\.\\pipe\\docker_engine\n",
            "/volumes/0/source",
            r#""\\\\.\\pipe\\docker_engine""#,
        ),
    ]
}

/// configs, secrets (configs_test.go, secrets_test.go, template_driver_test.go).
fn resources() -> Vec<Case> {
    vec![
        case("configs_test.go TestServiceConfigs")
            .yaml(&format!(
                "{}configs:\n  config1:\n    file: ./config_data\n  config2:\n    external: true\n",
                foo("\nconfigs:\n  - config1\n  - source: config2\n    target: /my_config\n    uid: '103'\n    gid: '103'\n    mode: 0440\n")
            ))
            .at("/services/foo/configs", r#"[{"source":"config1"},{"source":"config2","target":"/my_config","uid":"103","gid":"103","mode":288}]"#),
        case("configs_test.go TestTopLevelConfigs")
            .yaml(
                r#"
                services:
                  foo:
                    image: alpine
                configs:
                  config1:
                    file: ./config_data
                    labels:
                      foo: bar
                  config2:
                    external:
                      name: my_config
                  config3:
                    external: true
                  config4:
                    name: foo
                    file: ./config_data
                    x-bar: baz
                    x-foo: bar
                "#,
            )
            .text("/configs/config2/name", "my_config")
            .at("/configs/config2/external", "true")
            .at("/configs/config3/external", "true")
            .text("/configs/config4/name", "foo")
            .at("/configs/config1/labels", r#"{"foo":"bar"}"#)
            .text("/configs/config4/x-foo", "bar"),
        case("secrets_test.go TestServiceSecrets")
            .yaml(&format!(
                "{}secrets:\n  secret1:\n    file: ./secret_data\n  secret2:\n    external: true\n",
                foo("\nsecrets:\n  - source: secret1\n    target: /run/secrets/secret1\n  - source: secret2\n    target: my_secret\n    uid: '103'\n    gid: '103'\n    mode: 0440\n")
            ))
            .at(
                "/services/foo/secrets",
                r#"[{"source":"secret1","target":"/run/secrets/secret1"},{"source":"secret2","target":"my_secret","uid":"103","gid":"103","mode":288}]"#,
            ),
        case("secrets_test.go TestTopLevelSecrets")
            .yaml(
                r#"
                services:
                  foo:
                    image: alpine
                secrets:
                  secret1:
                    file: ./secret_data
                    labels:
                      foo: bar
                  secret2:
                    external:
                      name: my_secret
                  secret3:
                    external: true
                  secret4:
                    name: bar
                    environment: BAR
                    x-bar: baz
                    x-foo: bar
                  secret5:
                    file: /abs/secret_data
                "#,
            )
            .env(&[("BAR", "this is a secret")])
            .at("/secrets/secret1/labels", r#"{"foo":"bar"}"#)
            .text("/secrets/secret2/name", "my_secret")
            .at("/secrets/secret2/external", "true")
            .at("/secrets/secret3/external", "true")
            .text("/secrets/secret4/name", "bar")
            .text("/secrets/secret4/environment", "BAR")
            .text("/secrets/secret4/x-foo", "bar")
            .text("/secrets/secret5/file", "/abs/secret_data"),
        case("secrets_test.go TestSecretFileModeNumber (0o440)")
            .yaml(&format!("{}secrets:\n  server-certificate:\n    file: ./c\n", foo("\nsecrets:\n  - source: server-certificate\n    target: server.cert\n    mode: 0o440\n")))
            .at("/services/foo/secrets/0/mode", "288"),
        case("secrets_test.go TestSecretFileModeString (\"0440\")")
            .yaml(&format!("{}secrets:\n  server-certificate:\n    file: ./c\n", foo("\nsecrets:\n  - source: server-certificate\n    target: server.cert\n    mode: \"0440\"\n")))
            .at("/services/foo/secrets/0/mode", "288"),
        case("secrets_test.go TestSecretEnvironmentResolution")
            .yaml("\nservices:\n  foo:\n    image: alpine\nconfigs:\n  config:\n    environment: GA\nsecrets:\n  secret:\n    environment: MEU\n")
            .env(&[("GA", "BU"), ("MEU", "Shadoks")])
            .text("/configs/config/environment", "GA")
            .text("/secrets/secret/environment", "MEU"),
        case("template_driver_test.go TestTemplateDriver")
            .yaml("\nservices:\n  foo:\n    image: alpine\nconfigs:\n  config:\n    name: config\n    external: true\n    template_driver: config-driver\nsecrets:\n  secret:\n    name: secret\n    external: true\n    template_driver: secret-driver\n")
            .text("/configs/config/template_driver", "config-driver")
            .text("/secrets/secret/template_driver", "secret-driver"),
        case("template_driver_test.go TestSecretDriver (with the `file` checkConsistency requires)")
            .yaml("\nservices:\n  foo:\n    image: alpine\nsecrets:\n  secret:\n    name: secret\n    file: ./s\n    driver: secret-bucket\n    driver_opts:\n      OptionA: value for driver option A\n      OptionB: value for driver option B\n")
            .text("/secrets/secret/driver", "secret-bucket")
            .text("/secrets/secret/driver_opts/OptionA", "value for driver option A"),
        case("template_driver_test.go TestConfigContent")
            .yaml("\nservices:\n  foo:\n    image: alpine\nconfigs:\n  my_config:\n    content: |\n      some config content here\n")
            .text("/configs/my_config/content", "some config content here\n"),
        case("template_driver_test.go TestConfigEnvironment")
            .yaml("\nservices:\n  foo:\n    image: alpine\nconfigs:\n  my_config:\n    environment: MY_VAR\n")
            .env(&[("MY_VAR", "my_value")])
            .text("/configs/my_config/environment", "MY_VAR"),
    ]
}

/// Keys of the current schema berth accepts and keeps (with a warning where it cannot honour
/// them yet).
fn newer() -> Vec<Case> {
    vec![
        case("devices_test.go TestDeviceMapping")
            .yaml("\nservices:\n  test:\n    image: alpine\n    devices:\n      - /dev/source:/dev/target:permissions\n      - /dev/single\n")
            .at(
                "/services/test/devices",
                r#"[{"source":"/dev/source","target":"/dev/target","permissions":"permissions"},{"source":"/dev/single","target":"/dev/single","permissions":"rwm"}]"#,
            ),
        case("devices_test.go TestDeviceMappingLongSyntax")
            .yaml("\nservices:\n  test:\n    image: alpine\n    devices:\n      - source: /dev/source\n        target: /dev/target\n        permissions: permissions\n")
            .at("/services/test/devices", r#"[{"source":"/dev/source","target":"/dev/target","permissions":"permissions"}]"#),
        case("gpus_test.go TestGpus")
            .yaml("\nservices:\n  test:\n    image: alpine\n    gpus:\n      - driver: nvidia\n      - driver: 3dfx\n        device_ids: [\"voodoo2\"]\n        capabilities: [\"directX\"]\n")
            .warns("gpus", &[("/services/test/gpus", r#"[{"driver":"nvidia","count":-1},{"driver":"3dfx","device_ids":["voodoo2"],"capabilities":["directX"]}]"#)]),
        case("gpus_test.go TestGpusAll").yaml("\nservices:\n  test:\n    image: alpine\n    gpus: all\n").warns("gpus", &[("/services/test/gpus", r#"[{"count":-1}]"#)]),
        case("use_api_socket_test.go TestUseAPISocket").yaml(&foo("\nuse_api_socket: true\n")).warns("use_api_socket", &[("/services/foo/use_api_socket", "true")]),
        case("models_test.go TestModels")
            .yaml(
                r#"
                services:
                  test_array:
                    image: x
                    models:
                      - foo
                  test_mapping:
                    image: x
                    models:
                      foo:
                        endpoint_var: MODEL_URL
                        model_var: MODEL
                models:
                  foo:
                    model: ai/model
                    context_size: 1024
                    runtime_flags:
                      - "--some-flag"
                "#,
            )
            .warns("models", &[("/services/test_mapping/models/foo/endpoint_var", r#""MODEL_URL""#)]),
        case("provider_test.go TestProvider")
            .yaml(
                r#"
                services:
                  test:
                    provider:
                      type: foo
                      options:
                        bar: zot
                        strings:
                          - foo
                          - bar
                        numbers:
                          - 12
                          - 34
                        booleans:
                          - true
                          - false
                "#,
            )
            .warns("provider", &[("/services/test/provider/type", r#""foo""#)]),
        case("service_hooks_test.go TestServiceHooks")
            .yaml(
                r#"
                services:
                  test:
                    image: alpine
                    pre_start:
                      - command: ["./manage.py", "migrate"]
                        user: root
                        working_dir: /app
                        environment:
                          - FOO=BAR
                      - image: busybox
                        command: sh -c 'chown -R 1000:1000 /data'
                        privileged: true
                        per_replica: true
                      - image: migrator:latest
                    post_start:
                      - command: echo start
                        user: root
                        privileged: true
                        working_dir: /
                        environment:
                          - FOO=BAR
                    pre_stop:
                      - command: echo stop
                        user: root
                        working_dir: /
                        environment:
                          FOO: BAR
                "#,
            )
            .warns("per_replica", &[("/services/test/post_start/0/user", r#""root""#), ("/services/test/pre_stop/0/working_dir", r#""/""#)]),
    ]
}
