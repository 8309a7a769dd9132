//! Merging files: compose-go's override/ tests (merge_*_test.go, uncity_test.go), and the merge
//! tags of loader/reset_test.go, merge_reset_test.go and override_test.go. Each case loads a base
//! file and an override with `-f a.yaml -f b.yaml` and checks the merged model.
//!
//! Skipped: reset_test.go TestVisitCounterLimit and TestVisitCounterLimitOverride (compose-go's
//! own node-visit cap and its Go option; berth bounds input by file size and alias expansion
//! instead, see TestAliasBombPrevented here), override/merge_test.go's helpers.

use super::{case, Case};

/// `a.yaml` merged with `b.yaml`.
fn merge(source: &str, base: &str, over: &str) -> Case {
    case(source).stack_file("a.yaml", base).stack_file("b.yaml", over)
}

fn svc(body: &str) -> String {
    let body: String = super::dedent(body).lines().map(|l| format!("    {l}\n")).collect();
    format!("services:\n  test:\n{body}")
}

/// Two files whose `test` service bodies are `base` and `over`; `image: foo` added to the base.
fn svc_merge(source: &str, base: &str, over: &str) -> Case {
    merge(source, &svc(&format!("\nimage: foo\n{}", super::dedent(base))), &svc(over))
}

pub fn cases() -> Vec<Case> {
    let mut v = sequences();
    v.extend(mappings());
    v.extend(unicity());
    v.extend(special());
    v.extend(models());
    v.extend(tags());
    v
}

/// Sequences appended without duplicates (merge_cap, merge_dns, merge_env_file, merge_tmpfs, …).
fn sequences() -> Vec<Case> {
    vec![
        svc_merge("override/merge_test.go Test_mergeOverrides (scalars)", "\nscale: 1\n", "\nimage: bar\nscale: 2\n")
            .text("/services/test/image", "bar")
            .at("/services/test/scale", "2"),
        svc_merge(
            "merge_cap_test.go TestMergeCAPSequence",
            "\ncap_add: [CAP_BPF, CAP_CHOWN]\ncap_drop: [NET_ADMIN, SYS_ADMIN]\n",
            "\ncap_add: [CAP_KILL, CAP_CHOWN]\ncap_drop: [NET_ADMIN, CAP_FOWNER]\n",
        )
        .at("/services/test/cap_add", r#"["CAP_BPF","CAP_CHOWN","CAP_KILL"]"#)
        .at("/services/test/cap_drop", r#"["NET_ADMIN","SYS_ADMIN","CAP_FOWNER"]"#),
        svc_merge(
            "merge_dns_test.go Test_mergeYamlDNSSequence",
            "\ndns: [8.8.8.8]\ndns_opt: [use-vc]\ndns_search: [dc1.example.com]\n",
            "\ndns: [9.9.9.9]\ndns_opt: [no-tld-query]\ndns_search: [dc2.example.com]\n",
        )
        .at("/services/test/dns", r#"["8.8.8.8","9.9.9.9"]"#)
        .at("/services/test/dns_opt", r#"["use-vc","no-tld-query"]"#)
        .at("/services/test/dns_search", r#"["dc1.example.com","dc2.example.com"]"#),
        svc_merge(
            "merge_dns_test.go Test_mergeYamlDNSMixed",
            "\ndns: [8.8.8.8, 10.10.10.10, 9.9.9.9]\ndns_opt: [use-vc, no-tld-query]\ndns_search: [dc1.example.com, dc2.example.com]\n",
            "\ndns: 9.9.9.9\ndns_opt: [no-tld-query]\ndns_search: dc2.example.com\n",
        )
        .at("/services/test/dns", r#"["8.8.8.8","10.10.10.10","9.9.9.9"]"#)
        .at("/services/test/dns_opt", r#"["use-vc","no-tld-query"]"#)
        .at("/services/test/dns_search", r#"["dc1.example.com","dc2.example.com"]"#),
        svc_merge("merge_env_file_test.go TestMergeEnvFilesSequence", "\nenv_file: [foo.env]\n", "\nenv_file: [bar.env, baz.env]\n")
            .raw_file("foo.env", "")
            .raw_file("bar.env", "")
            .raw_file("baz.env", "")
            .at(
                "/services/test/env_file",
                r#"[{"path":"<dir>/foo.env"},{"path":"<dir>/bar.env"},{"path":"<dir>/baz.env"}]"#,
            ),
        svc_merge("merge_env_file_test.go TestMergeEnvFilesString", "\nenv_file: foo.env\n", "\nenv_file: bar.env\n")
            .raw_file("foo.env", "")
            .raw_file("bar.env", "")
            .at("/services/test/env_file", r#"[{"path":"<dir>/foo.env"},{"path":"<dir>/bar.env"}]"#),
        svc_merge("merge_env_file_test.go TestMergeEnvFilesMixed (SequenceThenString)", "\nenv_file: foo.env\n", "\nenv_file: [bar.env, foo.env]\n")
            .raw_file("foo.env", "")
            .raw_file("bar.env", "")
            .at("/services/test/env_file", r#"[{"path":"<dir>/foo.env"},{"path":"<dir>/bar.env"}]"#),
        svc_merge("merge_env_file_test.go TestMergeEnvFilesMixed (StringThenSequence)", "\nenv_file: [bar.env, foo.env]\n", "\nenv_file: foo.env\n")
            .raw_file("foo.env", "")
            .raw_file("bar.env", "")
            .at("/services/test/env_file", r#"[{"path":"<dir>/bar.env"},{"path":"<dir>/foo.env"}]"#),
        svc_merge(
            "merge_env_file_test.go TestMergeEnvFilesMixed (Unicity between string and mapping)",
            "\nenv_file: [bar.env, foo.env]\n",
            "\nenv_file:\n  - path: foo.env\n    required: true\n",
        )
        .raw_file("foo.env", "")
        .raw_file("bar.env", "")
        .at("/services/test/env_file", r#"[{"path":"<dir>/bar.env"},{"path":"<dir>/foo.env"}]"#),
        svc_merge("merge_tmpfs_test.go TestMergeTmpfsSequence", "\ntmpfs: [/foo]\n", "\ntmpfs: [/bar, /baz, /foo]\n").at("/services/test/tmpfs", r#"["/foo","/bar","/baz"]"#),
        svc_merge("merge_tmpfs_test.go TestMergeTmpfsString", "\ntmpfs: /foo\n", "\ntmpfs: /bar\n").at("/services/test/tmpfs", r#"["/foo","/bar"]"#),
        svc_merge("merge_tmpfs_test.go TestMergeTmpfsMixed (SequenceThenString)", "\ntmpfs: /foo\n", "\ntmpfs: [/bar, /foo]\n").at("/services/test/tmpfs", r#"["/foo","/bar"]"#),
        svc_merge("merge_tmpfs_test.go TestMergeTmpfsMixed (StringThenSequence)", "\ntmpfs: [/bar, /foo]\n", "\ntmpfs: /foo\n").at("/services/test/tmpfs", r#"["/bar","/foo"]"#),
        svc_merge("merge_profiles_test.go TestMergeProfilesUnicity", "\nprofiles: [profile1, profile2]\n", "\nprofiles: [profile2, profile3]\n")
            .profiles(&["profile1"])
            .at("/services/test/profiles", r#"["profile1","profile2","profile3"]"#),
        svc_merge(
            "merge_devices_test.go Test_mergeYamlDevices",
            "\ndevices: ['/dev/sda:/dev/sda', '/dev/sdb:/dev/sdb']\n",
            "\ndevices: ['/dev/sde:/dev/sde', '/dev/sdf:/dev/sdf']\n",
        )
        .at("/services/test/devices/3/target", r#""/dev/sdf""#)
        .at("/services/test/devices/0/source", r#""/dev/sda""#),
        svc_merge(
            "merge_devices_test.go Test_mergeYamlDevicesOverride (same target: replaced)",
            "\ndevices: ['/dev/sda:/dev/sda', '/dev/sdb:/dev/sdb', '/dev/sdc:/dev/sdc', '/dev/sdd:/dev/sdd']\n",
            "\ndevices: ['/dev/nvme0n1p1:/dev/sda', '/dev/nvme1n1p1:/dev/sdb', '/dev/nvme2n1p1:/dev/sdc']\n",
        )
        .at(
            "/services/test/devices",
            r#"[{"source":"/dev/nvme0n1p1","target":"/dev/sda","permissions":"rwm"},{"source":"/dev/nvme1n1p1","target":"/dev/sdb","permissions":"rwm"},{"source":"/dev/nvme2n1p1","target":"/dev/sdc","permissions":"rwm"},{"source":"/dev/sdd","target":"/dev/sdd","permissions":"rwm"}]"#,
        ),
        svc_merge("merge_volumes_test.go TestMergeVolumes", "\nvolumes:\n - a:/a\n - type: bind\n   source: ./b\n   target: /b\n", "\nvolumes:\n  - c:/c\n")
            .at("/services/test/volumes/0/source", r#""a""#)
            .at("/services/test/volumes/1/source", r#""<dir>/b""#)
            .at("/services/test/volumes/2/source", r#""c""#)
            .model_volumes(&["a", "c"]),
        svc_merge("merge_links_test.go TestMergeExtraLinksSequence (links are unique as written)", "\nlinks: [service1, service2]\n", "\nlinks: [service2, service2:alias1]\n")
            .extra_services(&["service1", "service2"])
            .at("/services/test/links", r#"["service1","service2","service2:alias1"]"#),
        svc_merge(
            "merge_extra_hosts_test.go TestMergeExtraHostsSequence",
            "\nextra_hosts: [example.com=1.2.3.4]\n",
            "\nextra_hosts: [localhost=127.0.0.1, example.com=1.2.3.4, example.com=4.3.2.1]\n",
        )
        .at("/services/test/extra_hosts", r#"{"example.com":["1.2.3.4","4.3.2.1"],"localhost":["127.0.0.1"]}"#),
        svc_merge(
            "merge_extra_hosts_test.go TestMergeExtraHostsMapping",
            "\nextra_hosts:\n  \"example.com\": \"1.2.3.4\"\n",
            "\nextra_hosts:\n  \"localhost\": \"127.0.0.1\"\n  \"example.com\": [\"1.2.3.4\", \"4.3.2.1\"]\n",
        )
        .at("/services/test/extra_hosts/example.com", r#"["1.2.3.4","4.3.2.1"]"#)
        .at("/services/test/extra_hosts/localhost", r#"["127.0.0.1"]"#),
        svc_merge(
            "merge_extra_hosts_test.go TestMergeExtraHostsMixed",
            "\nextra_hosts:\n  \"example.com\": \"1.2.3.4\"\n",
            "\nextra_hosts: [localhost=127.0.0.1, example.com=1.2.3.4, example.com=4.3.2.1]\n",
        )
        .at("/services/test/extra_hosts", r#"{"example.com":["1.2.3.4","4.3.2.1"],"localhost":["127.0.0.1"]}"#),
    ]
}

/// Mappings written as lists or maps merge by key (merge_environment, merge_labels,
/// merge_annotations, merge_sysctls, merge_build, merge_logging, merge_ulimits).
fn mappings() -> Vec<Case> {
    let mut v = Vec::new();
    for (key, pointer) in [("environment", "environment"), ("labels", "labels"), ("annotations", "annotations")] {
        let file = match key {
            "environment" => "merge_environment_test.go Test_mergeYamlEnvironment",
            "labels" => "merge_labels_test.go Test_mergeYamlLabels",
            _ => "merge_annotations_test.go TestMergeAnnotations",
        };
        let nil = if key == "environment" { "null" } else { r#""""# };
        v.push(
            svc_merge(
                &format!("{file}Sequence"),
                &format!("\n{key}:\n  - FOO=BAR\n"),
                &format!("\n{key}:\n  - QIX=ZOT\n  - EMPTY=\n  - NIL\n"),
            )
            .at(&format!("/services/test/{pointer}"), format!(r#"{{"FOO":"BAR","QIX":"ZOT","EMPTY":"","NIL":{nil}}}"#)),
        );
        v.push(
            svc_merge(
                &format!("{file}Mapping"),
                &format!("\n{key}:\n  FOO: BAR\n"),
                &format!("\n{key}:\n  EMPTY: \"\"\n  NIL: null\n  QIX: ZOT\n"),
            )
            .at(&format!("/services/test/{pointer}"), format!(r#"{{"FOO":"BAR","QIX":"ZOT","EMPTY":"","NIL":{nil}}}"#)),
        );
        v.push(
            svc_merge(&format!("{file}Mixed"), &format!("\n{key}:\n  FOO: BAR\n"), &format!("\n{key}:\n  - QIX=ZOT\n"))
                .at(&format!("/services/test/{pointer}"), r#"{"FOO":"BAR","QIX":"ZOT"}"#),
        );
        v.push(
            svc_merge(&format!("{file}Number"), &format!("\n{key}:\n  FOO: 1\n"), &format!("\n{key}:\n  FOO: 3\n"))
                .at(&format!("/services/test/{pointer}"), r#"{"FOO":"3"}"#),
        );
    }
    for (kind, base, over, want) in [
        ("Sequence", "[FOO=BAR]", "[QIX=ZOT, EMPTY=, NIL]", r#"{"FOO":"BAR","QIX":"ZOT","EMPTY":"","NIL":""}"#),
        (
            "Mapping",
            "{FOO: BAR}",
            "{EMPTY: \"\", NIL: null, QIX: ZOT}",
            r#"{"FOO":"BAR","QIX":"ZOT","EMPTY":"","NIL":""}"#,
        ),
        ("Mixed", "{FOO: BAR}", "[QIX=ZOT]", r#"{"FOO":"BAR","QIX":"ZOT"}"#),
        ("Number", "{FOO: 1}", "{FOO: 3}", r#"{"FOO":"3"}"#),
    ] {
        v.push(
            svc_merge(
                &format!("merge_labels_test.go Test_mergeYamlDeployLabels{kind}"),
                &format!("\ndeploy:\n  labels: {base}\n"),
                &format!("\ndeploy:\n  labels: {over}\n"),
            )
            .at("/services/test/deploy/labels", want),
        );
        v.push(
            svc_merge(
                &format!("merge_labels_test.go Test_mergeYamlBuildLabels{kind}"),
                &format!("\nbuild:\n  context: .\n  labels: {base}\n"),
                &format!("\nbuild:\n  labels: {over}\n"),
            )
            .at("/services/test/build/labels", want),
        );
    }
    for (kind, base, over, want) in [
        (
            "Sequence",
            "[net.ipv6.conf.all.disable_ipv6=1]",
            "[net.ipv4.tcp_keepalive_time=300]",
            r#"{"net.ipv6.conf.all.disable_ipv6":"1","net.ipv4.tcp_keepalive_time":"300"}"#,
        ),
        (
            "Mapping",
            "{net.ipv6.conf.all.disable_ipv6: 1}",
            "{net.ipv4.tcp_keepalive_time: \"300\"}",
            r#"{"net.ipv6.conf.all.disable_ipv6":"1","net.ipv4.tcp_keepalive_time":"300"}"#,
        ),
        (
            "Mixed",
            "{net.ipv6.conf.all.disable_ipv6: 1}",
            "[net.ipv4.tcp_keepalive_time=300]",
            r#"{"net.ipv6.conf.all.disable_ipv6":"1","net.ipv4.tcp_keepalive_time":"300"}"#,
        ),
        (
            "Numbers",
            "{net.ipv4.tcp_keepalive_time: 1}",
            "{net.ipv4.tcp_keepalive_time: 3}",
            r#"{"net.ipv4.tcp_keepalive_time":"3"}"#,
        ),
    ] {
        v.push(
            svc_merge(
                &format!("merge_sysctls_test.go TestMergeSysctls{kind}"),
                &format!("\nsysctls: {base}\n"),
                &format!("\nsysctls: {over}\n"),
            )
            .at("/services/test/sysctls", want),
        );
    }
    v.extend([
        svc_merge(
            "merge_build_test.go Test_mergeYamlBuildSequence",
            "\nbuild:\n  context: .\n  args: [FOO=BAR]\n  additional_contexts: [resources=/path/to/resources, app=docker-image://my-app:latest]\n  tags: [\"myimage:mytag\"]\n",
            "\nbuild:\n  context: .\n  args: [GIT_COMMIT=cdc3b19, EMPTY=, NIL]\n  additional_contexts: [source=https://github.com/myuser/project.git]\n  tags: [\"myimage:mytag\", \"registry/username/myrepos:my-other-tag\"]\n",
        )
        // NIL has no value and no variable: Normalize leaves it out.
        .at("/services/test/build/args", r#"{"FOO":"BAR","GIT_COMMIT":"cdc3b19","EMPTY":""}"#)
        .at(
            "/services/test/build/additional_contexts",
            r#"{"resources":"/path/to/resources","app":"docker-image://my-app:latest","source":"https://github.com/myuser/project.git"}"#,
        )
        .at("/services/test/build/tags", r#"["myimage:mytag","registry/username/myrepos:my-other-tag"]"#),
        svc_merge(
            "merge_build_test.go Test_mergeYamlArgsMapping",
            "\nbuild:\n  context: .\n  args:\n    FOO: BAR\n  additional_contexts:\n    source: https://github.com/myuser/project.git\n",
            "\nbuild:\n  context: .\n  args:\n    EMPTY: \"\"\n    NIL: null\n    QIX: ZOT\n  additional_contexts:\n    app: docker-image://my-app:latest\n    resources: /path/to/resources\n",
        )
        .at("/services/test/build/args", r#"{"FOO":"BAR","EMPTY":"","QIX":"ZOT"}"#)
        .at(
            "/services/test/build/additional_contexts",
            r#"{"source":"https://github.com/myuser/project.git","app":"docker-image://my-app:latest","resources":"/path/to/resources"}"#,
        ),
        svc_merge(
            "merge_build_test.go Test_mergeYamlArgsMixed",
            "\nbuild:\n  context: .\n  args:\n    FOO: BAR\n  additional_contexts: [resources=/path/to/resources, app=docker-image://my-app:latest]\n  tags: [\"myimage:mytag\"]\n",
            "\nbuild:\n  args: [QIX=ZOT]\n  additional_contexts:\n    app: docker-image://new-app:latest\n    source: https://github.com/myuser/project.git\n  tags: [\"registry/username/myrepos:my-other-tag\"]\n",
        )
        .at("/services/test/build/args", r#"{"FOO":"BAR","QIX":"ZOT"}"#)
        .at(
            "/services/test/build/additional_contexts",
            r#"{"resources":"/path/to/resources","app":"docker-image://new-app:latest","source":"https://github.com/myuser/project.git"}"#,
        )
        .at("/services/test/build/tags", r#"["myimage:mytag","registry/username/myrepos:my-other-tag"]"#),
        svc_merge("merge_build_test.go Test_mergeYamlArgsNumber", "\nbuild:\n  context: .\n  args:\n    FOO: 1\n", "\nbuild:\n  context: .\n  args:\n    FOO: 3\n")
            .at("/services/test/build/args", r#"{"FOO":"3"}"#),
        svc_merge(
            "merge_logging_test.go Test_mergeYamlLoggingSameDriver",
            "\nlogging:\n  driver: syslog\n  options:\n    syslog-address: \"tcp://192.168.0.42:123\"\n",
            "\nlogging:\n  driver: syslog\n  options:\n    syslog-address: \"tcp://127.0.0.1:123\"\n",
        )
        .at("/services/test/logging", r#"{"driver":"syslog","options":{"syslog-address":"tcp://127.0.0.1:123"}}"#),
        svc_merge(
            "merge_logging_test.go Test_mergeYamlLoggingDistinctDriver",
            "\nlogging:\n  driver: local\n  options:\n    max-size: \"10m\"\n",
            "\nlogging:\n  driver: syslog\n  options:\n    syslog-address: \"tcp://127.0.0.1:123\"\n",
        )
        .at("/services/test/logging", r#"{"driver":"syslog","options":{"syslog-address":"tcp://127.0.0.1:123"}}"#),
        svc_merge(
            "merge_logging_test.go Test_mergeYamlLoggingImplicitDriver",
            "\nlogging:\n  options:\n    max-size: \"10m\"\n",
            "\nlogging:\n  options:\n    max-file: 3\n",
        )
        .at("/services/test/logging", r#"{"options":{"max-size":"10m","max-file":"3"}}"#),
        svc_merge(
            "merge_ulimits_test.go Test_mergeYamlUlimits (an override's ulimit replaces the base's)",
            "\nulimits:\n  nofile:\n    soft: 20000\n    hard: 40000\n  nproc: 65535\n  locks:\n    soft: 20000\n    hard: 40000\n",
            "\nulimits:\n  nofile:\n    soft: 10000\n    hard: 40000\n  nproc:\n    soft: 65535\n    hard: 65535\n  locks:\n    soft: 65535\n    hard: 65535\n",
        )
        .at("/services/test/ulimits", r#"{"nofile":{"soft":10000,"hard":40000},"nproc":{"soft":65535,"hard":65535},"locks":{"soft":65535,"hard":65535}}"#),
        merge("merge_mem_test.go TestMemLimitMixed (StringThenInt)", "\nservices:\n  test:\n    image: x\n    mem_limit: 1\n", "\nservices:\n  test:\n    mem_limit: '256m'\n")
            .at("/services/test/mem_limit", "268435456"),
        merge("merge_mem_test.go TestMemLimitMixed (IntThenString)", "\nservices:\n  test:\n    image: x\n    mem_limit: '256m'\n", "\nservices:\n  test:\n    mem_limit: 1\n")
            .at("/services/test/mem_limit", "1"),
    ]);
    v
}

/// uncity_test.go: entries with the same key in one sequence, and the same resource in a base
/// and an override.
fn unicity() -> Vec<Case> {
    vec![
        case("uncity_test.go Test_EnvironmentUnicity (the last value wins)")
            .yaml(&svc("\nimage: foo\nenvironment:\n  - FOO=BAR\n  - BAR=QIX\n  - QIX=\n  - ZOT\n  - FOO=ZOT\n  - QIX\n  - ZOT=\n"))
            .at("/services/test/environment", r#"{"FOO":"ZOT","BAR":"QIX","QIX":null,"ZOT":""}"#),
        case("uncity_test.go Test_VolumeUnicity (same target: the last one, in the first one's place)")
            .yaml(&format!("{}volumes:\n  foo:\n  src:\n", svc("\nimage: foo\nvolumes:\n  - .:/foo\n  - foo:/bar\n  - src:/foo\n")))
            .at("/services/test/volumes", r#"[{"type":"volume","source":"src","target":"/foo"},{"type":"volume","source":"foo","target":"/bar"}]"#),
        case("uncity_test.go Test_PortsShortUnicity")
            .yaml(&svc("\nimage: foo\nports:\n  - \"9080:80\"\n  - \"9081:81\"\n  - \"9080:80\"\n  - \"5000\"\n  - \"6060:6060/udp\"\n  - \"9080:6060/udp\"\n"))
            .at(
                "/services/test/ports",
                r#"[{"target":80,"published":"9080","protocol":"tcp","mode":"ingress"},{"target":81,"published":"9081","protocol":"tcp","mode":"ingress"},{"target":5000,"protocol":"tcp","mode":"ingress"},{"target":6060,"published":"6060","protocol":"udp","mode":"ingress"},{"target":6060,"published":"9080","protocol":"udp","mode":"ingress"}]"#,
            ),
        case("uncity_test.go Test_PortsLongtUnicity")
            .yaml(&svc(
                "\nimage: foo\nports:\n  - target: 80\n    host_ip: 127.0.0.1\n    published: \"8080\"\n    protocol: tcp\n    mode: host\n  - target: 81\n    published: \"8080\"\n    protocol: tcp\n  - target: 80\n    host_ip: 127.0.0.2\n    published: \"8080\"\n    protocol: tcp\n  - target: 81\n    published: \"8080\"\n    protocol: tcp\n",
            ))
            .at("/services/test/ports/3", super::ABSENT)
            .at("/services/test/ports/0/mode", r#""host""#)
            .at("/services/test/ports/2/host_ip", r#""127.0.0.2""#),
        svc_merge(
            "merge_mounts_test.go Test_mergeYamlServiceMount (secrets unique by target)",
            "\nsecrets: [foo, bar, zot]\n",
            "\nsecrets:\n  - source: zot\n    target: /run/secrets/foo\n",
        )
        .file("s.txt", "")
        .at(
            "/services/test/secrets",
            r#"[{"source":"zot","target":"/run/secrets/foo"},{"source":"bar","target":"/run/secrets/bar"},{"source":"zot","target":"/run/secrets/zot"}]"#,
        )
        .with_secrets(&["foo", "bar", "zot"]),
        merge(
            "override_test.go TestOverrideVolume (the same volume twice)",
            "\nservices:\n  test:\n    image: test\n    volumes:\n      - ./src:/src\n",
            "\nservices:\n  test:\n    volumes:\n      - ./src:/src\n",
        )
        .at("/services/test/volumes/1", super::ABSENT),
    ]
}

/// Special rules: networks, depends_on, ipam config, build string/mapping, command.
fn special() -> Vec<Case> {
    vec![
        svc_merge("merge_networks_test.go Test_mergeYamlServiceNetworkSequence", "\nnetworks: [front-network, back-network]\n", "\nnetworks: [front-network]\n")
            .extra_networks(&["front-network", "back-network"])
            .at("/services/test/networks", r#"{"front-network":null,"back-network":null}"#),
        svc_merge(
            "merge_networks_test.go Test_mergeYamlServiceNetworksMapping",
            "\nnetworks:\n  network1:\n    aliases: [alias1, alias2]\n    link_local_ips: [57.123.22.11, 57.123.22.13]\n  network2:\n    aliases: [alias1, alias3]\n",
            "\nnetworks:\n  network1:\n    aliases: [alias3, alias1]\n    link_local_ips: [57.123.22.12, 57.123.22.13]\n",
        )
        .extra_networks(&["network1", "network2"])
        .at("/services/test/networks/network1/aliases", r#"["alias1","alias2","alias3"]"#)
        .at("/services/test/networks/network1/link_local_ips", r#"["57.123.22.11","57.123.22.13","57.123.22.12"]"#)
        .at("/services/test/networks/network2/aliases", r#"["alias1","alias3"]"#),
        svc_merge(
            "merge_networks_test.go Test_mergeYamlServiceNetworksMixed",
            "\nnetworks: [front-network, back-network, network1]\n",
            "\nnetworks:\n  network1:\n    aliases: [alias1, alias2]\n  network2:\n    aliases: [alias1, alias3]\n",
        )
        .extra_networks(&["front-network", "back-network", "network1", "network2"])
        .at("/services/test/networks/front-network", "{}")
        .at("/services/test/networks/network1/aliases", r#"["alias1","alias2"]"#)
        .at("/services/test/networks/network2/aliases", r#"["alias1","alias3"]"#),
        merge(
            "merge_networks_test.go Test_mergeYamlNetworks (ipam config by subnet, labels, options)",
            r#"
            services:
              test:
                image: foo
            networks:
              network1:
                ipam:
                  config:
                    - subnet: 172.28.0.0/16
                      ip_range: 172.28.5.0/24
                      gateway: 172.28.5.254
                      aux_addresses:
                        host1: 172.28.1.5
                        host2: 172.28.1.6
                        host3: 172.28.1.7
                  options:
                    foo: bar
                    baz: "0"
                labels:
                  com.example.description: "Financial transaction network"
                  com.example.department: "Finance"
                  com.example.label-with-empty-value: ""
            "#,
            r#"
            services:
              test:
                image: foo
            networks:
              network1:
                ipam:
                  config:
                    - subnet: 172.28.0.0/16
                      ip_range: 172.28.5.1/24
                      gateway: 172.28.5.254
                      aux_addresses:
                        host1: 172.28.1.5
                        host2: 172.28.1.4
                        host4: 172.28.1.10
                    - subnet: 172.28.10.0/16
                      ip_range: 172.28.10.1/24
                      gateway: 172.28.10.254
                      aux_addresses:
                        host1: 172.28.10.5
                        host2: 172.28.10.4
                        host3: 172.28.10.10
                  options:
                    bar: foo
                    baz: "0"
                labels:
                  - "com.example.department-new=New"
                  - "com.example.description=Financial transaction network"
                  - "com.example.label-with-empty-value="
              network2:
            "#,
        )
        .at(
            "/networks/network1/ipam/config",
            r#"[{"subnet":"172.28.0.0/16","ip_range":"172.28.5.1/24","gateway":"172.28.5.254","aux_addresses":{"host1":"172.28.1.5","host2":"172.28.1.4","host3":"172.28.1.7","host4":"172.28.1.10"}},
                {"subnet":"172.28.10.0/16","ip_range":"172.28.10.1/24","gateway":"172.28.10.254","aux_addresses":{"host1":"172.28.10.5","host2":"172.28.10.4","host3":"172.28.10.10"}}]"#,
        )
        .at("/networks/network1/ipam/options", r#"{"foo":"bar","bar":"foo","baz":"0"}"#)
        .at(
            "/networks/network1/labels",
            r#"{"com.example.description":"Financial transaction network","com.example.department":"Finance","com.example.label-with-empty-value":"","com.example.department-new":"New"}"#,
        )
        .text("/networks/network2/name", "proj_network2"),
        merge(
            "override_test.go TestOverrideNetworks (a list, then aliases)",
            "\nservices:\n  test:\n    image: test\n    networks:\n      - test_network\nnetworks:\n  test_network: {}\n",
            "\nservices:\n  test:\n    image: test\n    networks:\n      test_network:\n        aliases:\n          - alias1\n          - alias2\n",
        )
        .at("/services/test/networks/test_network/aliases", r#"["alias1","alias2"]"#),
        merge("override_test.go TestOverrideBuildContext (build: . then a mapping)", "\nservices:\n  test:\n    build: .\n", "\nservices:\n  test:\n    build:\n      context: src\n")
            .text("/services/test/build/context", "<dir>/src"),
        merge(
            "override_test.go TestOverrideDepends_on (a list, then a mapping)",
            "\nservices:\n  test:\n    image: test\n    depends_on:\n      - foo\n  foo:\n    image: foo\n",
            "\nservices:\n  test:\n    depends_on:\n      foo:\n        condition: service_healthy\n        required: false\n",
        )
        .at("/services/test/depends_on/foo", r#"{"condition":"service_healthy","required":false}"#),
        merge(
            "override_test.go TestOverridePartial (required: without condition, in an override)",
            "\nservices:\n  test:\n    image: test\n    depends_on:\n      foo:\n        condition: service_healthy\n  foo:\n    image: foo\n",
            "\nservices:\n  test:\n    depends_on:\n      foo:\n        required: false\n",
        )
        .at("/services/test/depends_on/foo", r#"{"condition":"service_healthy","required":false}"#),
        merge(
            "loader.go loadYamlFile (schema.Validate on the merged dict): partial provider in an override",
            "\nservices:\n  db:\n    provider:\n      type: awesomecloud\n",
            "\nservices:\n  db:\n    provider:\n      options: {size: 1}\n",
        )
        .warns("provider", &[("/services/db/provider/type", r#""awesomecloud""#)]),
        merge(
            "provider_test.go TestProvider (`type` is required, on the merged files)",
            "\nservices:\n  db:\n    image: x\n",
            "\nservices:\n  db:\n    provider:\n      options: {size: 1}\n",
        )
        .fails("type"),
        merge("merge.go (command is replaced, not appended)", "\nservices:\n  test:\n    image: x\n    command: [a, b]\n", "\nservices:\n  test:\n    command: c\n")
            .at("/services/test/command", r#"["c"]"#),
        merge(
            "merge.go (entrypoint and healthcheck.test are replaced)",
            "\nservices:\n  test:\n    image: x\n    entrypoint: [a, b]\n    healthcheck:\n      test: [CMD, a]\n      retries: 3\n",
            "\nservices:\n  test:\n    entrypoint: c\n    healthcheck:\n      test: [CMD, b]\n",
        )
        .at("/services/test/entrypoint", r#"["c"]"#)
        .at("/services/test/healthcheck/test", r#"["CMD","b"]"#)
        .at("/services/test/healthcheck/retries", "3"),
        merge(
            "loader_test.go TestLoadWithIncludeOverride (a second file overrides an included service)",
            "\nname: test-include-override\ninclude:\n  - ./lib/imported.yaml\n",
            "\nservices:\n  imported:\n    image: overridden\n",
        )
        .file("lib/imported.yaml", "\nservices:\n  imported:\n    image: nginx\n")
        .text("/services/imported/image", "overridden"),
        case("loader_yaml_test.go TestParseYAMLFilesMergeOverride (!override through extends and a merge key)")
            .yaml(
                "\nservices:\n  base:\n    image: x\n    configs:\n      - source: credentials\n        target: /credentials/file1\n  x: &x\n    extends:\n      base\n    configs: !override\n      - source: credentials\n        target: /literally-anywhere-else\n  y:\n    <<: *x\nconfigs:\n  credentials:\n    content: |\n      dummy value\n",
            )
            .at("/services/base/configs", r#"[{"source":"credentials","target":"/credentials/file1"}]"#)
            .at("/services/x/configs", r#"[{"source":"credentials","target":"/literally-anywhere-else"}]"#)
            .at("/services/y/configs", r#"[{"source":"credentials","target":"/literally-anywhere-else"}]"#)
            .text("/configs/credentials/content", "dummy value\n"),
        merge(
            "loader.go loadYamlFile (x- extensions merge key by key)",
            "\nx-extension:\n    test1: first\nservices:\n  test:\n    image: foo\n    command: echo hello\n    init: true\n",
            "\nx-extension:\n    test2: second\nservices:\n  test:\n    image: bar\n    command: echo world\n    init: false\n",
        )
        .at("/x-extension", r#"{"test1":"first","test2":"second"}"#)
        .text("/services/test/image", "bar")
        .at("/services/test/command", r#"["echo","world"]"#)
        .at("/services/test/init", "false"),
    ]
}

/// merge_models_test.go: service `models` merge as a mapping, top-level models by key.
fn models() -> Vec<Case> {
    let decl = "\nmodels:\n  llm: {model: ai/a}\n  embedding-model: {model: ai/b}\n  vision-model: {model: ai/c}\n";
    vec![
        svc_merge("merge_models_test.go Test_mergeYamlServiceModelsShortSyntax", "\nmodels: [llm, embedding-model]\n", "\nmodels: [vision-model]\n")
            .stack_file("decl.yaml", decl)
            .warns("models", &[("/services/test/models", r#"{"llm":null,"embedding-model":null,"vision-model":null}"#)]),
        svc_merge(
            "merge_models_test.go Test_mergeYamlServiceModelsLongSyntax",
            "\nmodels:\n  llm:\n    endpoint_var: AI_MODEL_URL\n    model_var: AI_MODEL_NAME\n",
            "\nmodels:\n  embedding-model:\n    endpoint_var: EMBEDDING_URL\n    model_var: EMBEDDING_MODEL\n",
        )
        .stack_file("decl.yaml", decl)
        .warns(
            "models",
            &[(
                "/services/test/models",
                r#"{"llm":{"endpoint_var":"AI_MODEL_URL","model_var":"AI_MODEL_NAME"},"embedding-model":{"endpoint_var":"EMBEDDING_URL","model_var":"EMBEDDING_MODEL"}}"#,
            )],
        ),
        svc_merge(
            "merge_models_test.go Test_mergeYamlServiceModelsMixed",
            "\nmodels: [llm, embedding-model]\n",
            "\nmodels:\n  vision-model:\n    endpoint_var: VISION_URL\n    model_var: VISION_MODEL\n",
        )
        .stack_file("decl.yaml", decl)
        .warns(
            "models",
            &[("/services/test/models", r#"{"llm":null,"embedding-model":null,"vision-model":{"endpoint_var":"VISION_URL","model_var":"VISION_MODEL"}}"#)],
        ),
        svc_merge(
            "merge_models_test.go Test_mergeYamlServiceModelsOverride",
            "\nmodels:\n  llm:\n    endpoint_var: OLD_MODEL_URL\n    model_var: OLD_MODEL_NAME\n",
            "\nmodels:\n  llm:\n    endpoint_var: NEW_MODEL_URL\n    model_var: NEW_MODEL_NAME\n",
        )
        .stack_file("decl.yaml", decl)
        .warns("models", &[("/services/test/models/llm", r#"{"endpoint_var":"NEW_MODEL_URL","model_var":"NEW_MODEL_NAME"}"#)]),
        merge(
            "merge_models_test.go Test_mergeYamlTopLevelModels",
            "\nservices:\n  test:\n    image: foo\nmodels:\n  llm:\n    model: ai/smollm2\n    context_size: 2048\n    runtime_flags:\n      - \"--gpu\"\n",
            "\nservices:\n  test:\n    image: foo\nmodels:\n  embedding-model:\n    model: ai/all-minilm\n    context_size: 512\n    runtime_flags:\n      - \"--cpu\"\n",
        )
        .at(
            "/models",
            r#"{"llm":{"model":"ai/smollm2","context_size":2048,"runtime_flags":["--gpu"]},"embedding-model":{"model":"ai/all-minilm","context_size":512,"runtime_flags":["--cpu"]}}"#,
        ),
        merge(
            "merge_models_test.go Test_mergeYamlModelsCompleteScenario",
            "\nservices:\n  app:\n    image: myapp\n    models:\n      - llm\n  worker:\n    image: worker\n    models:\n      embedding-model:\n        endpoint_var: EMBEDDING_URL\nmodels:\n  llm:\n    model: ai/smollm2\n    context_size: 2048\n  embedding-model:\n    model: ai/all-minilm\n    context_size: 512\n",
            "\nservices:\n  app:\n    models:\n      - vision-model\n  worker:\n    models:\n      llm:\n        endpoint_var: LLM_URL\n        model_var: LLM_NAME\nmodels:\n  vision-model:\n    model: ai/clip\n    context_size: 1024\n  llm:\n    model: ai/gpt-4\n    context_size: 8192\n",
        )
        .warns("models", &[
            ("/services/app/models", r#"{"llm":null,"vision-model":null}"#),
            ("/services/worker/models", r#"{"embedding-model":{"endpoint_var":"EMBEDDING_URL"},"llm":{"endpoint_var":"LLM_URL","model_var":"LLM_NAME"}}"#),
            ("/models/llm", r#"{"model":"ai/gpt-4","context_size":8192}"#),
            ("/models/vision-model", r#"{"model":"ai/clip","context_size":1024}"#),
        ]),
        merge(
            "merge_models_test.go Test_mergeYamlModelsMultipleServices",
            "\nservices:\n  go-genai:\n    image: a\n    models:\n      - llm\nmodels:\n  llm:\n    model: ai/smollm2\n    context_size: 2048\n",
            "\nservices:\n  node-genai:\n    image: b\n    models:\n      - llm\nmodels:\n  llm:\n    model: ai/smollm2\n    context_size: 2048\n",
        )
        .warns("models", &[("/services/node-genai/models", r#"{"llm":null}"#), ("/models/llm/context_size", "2048")]),
    ]
}

/// `!reset`, `!override` and YAML anchors (reset_test.go, merge_reset_test.go).
fn tags() -> Vec<Case> {
    let ext =
        "\nname: test-reset\nservices:\n  web: {image: x}\nnetworks:\n  test:\n    name: test\n    external: true\n";
    let ports = "\nservices:\n  svc1:\n    image: alpine\n    ports:\n      - \"8080:80\"\n  svc2:\n    image: nginx\n    ports:\n      - \"9090:90\"\n";
    vec![
        merge("reset_test.go TestResetRemove", ext, "\nnetworks:\n  test: !reset {}\n").at("/networks/test", super::ABSENT),
        merge("reset_test.go TestOverrideReplace", ext, "\nnetworks:\n  test: !override {}\n").at("/networks/test/external", "false"),
        merge(
            "merge_reset_test.go Test_LoadWithReset",
            "\nname: test\nservices:\n  foo:\n    build:\n      context: .\n      dockerfile: foo.Dockerfile\n    environment:\n      FOO: BAR\n",
            "\nservices:\n  foo:\n    image: foo\n    build: !reset\n    environment:\n      FOO: !reset\n",
        )
        .at("/services/foo/build", super::ABSENT)
        .at("/services/foo/environment", "{}")
        .text("/services/foo/image", "foo"),
        case("merge_reset_test.go Test_DuplicateReset")
            .yaml("\nname: test\nservices:\n  foo:\n    image: x\n    command: hello\n    command: !reset hello world\n")
            .fails("command"),
        merge(
            "reset_test.go TestResetRemove (on a sequence: `ports: !reset []`)",
            "\nservices:\n  web:\n    image: x\n    ports: [\"8080:80\", \"9090:90\"]\n",
            "\nservices:\n  web:\n    ports: !reset []\n",
        )
        .at("/services/web/ports", "[]"),
        merge(
            "reset_test.go TestOverrideReplace (on a sequence)",
            "\nservices:\n  web:\n    image: x\n    ports: [\"8080:80\", \"9090:90\"]\n",
            "\nservices:\n  web:\n    ports: !override [\"7070:70\"]\n",
        )
        .at("/services/web/ports/0/target", "70")
        .at("/services/web/ports/1", super::ABSENT),
        merge(
            "reset_test.go TestResetTagWithSharedAlias",
            ports,
            "\nx-reset-ports: &reset-ports\n  ports: !reset []\nservices:\n  svc1:\n    <<: *reset-ports\n  svc2:\n    <<: *reset-ports\n",
        )
        .at("/services/svc1/ports", "[]")
        .at("/services/svc2/ports", "[]"),
        merge(
            "reset_test.go TestOverrideTagWithSharedAlias",
            "\nservices:\n  web: {image: x}\nnetworks:\n  net1:\n    external: true\n    name: external-net-1\n  net2:\n    external: true\n    name: external-net-2\n",
            "\nx-override: &ov !override {}\nnetworks:\n  net1: *ov\n  net2: *ov\n",
        )
        .at("/networks/net1/external", "false")
        .at("/networks/net2/external", "false"),
        merge(
            "reset_test.go TestNestedAliasReset",
            "\nservices:\n  svc:\n    image: alpine\n    ports:\n      - \"8080:80\"\n",
            "\nx-inner: &inner\n  ports: !reset []\nx-outer: &outer\n  <<: *inner\nservices:\n  svc:\n    <<: *outer\n",
        )
        .at("/services/svc/ports", "[]"),
        merge("reset_test.go TestDirectAliasWithReset", ports, "\nx-reset: &reset !reset []\nservices:\n  svc1:\n    ports: *reset\n  svc2:\n    ports: *reset\n")
            .at("/services/svc1/ports", "[]")
            .at("/services/svc2/ports", "[]"),
        case("reset_test.go TestResetCycle (simple_alias_no_cycle)")
            .yaml("\nname: test\nservices:\n  a: &a\n    image: alpine\n  a2: *a\n")
            .text("/services/a2/image", "alpine"),
        case("reset_test.go TestResetCycle (simple_alias_reversed_no_cycle)")
            .yaml("\nname: test\nservices:\n  a2: &a\n    image: alpine\n  a: *a\n")
            .text("/services/a/image", "alpine"),
        case("reset_test.go TestResetCycle (nested_merge_no_cycle)")
            .yaml(
                r#"
                name: test
                services:
                  web: {image: x}
                x-templates:
                  x-gluetun: &gluetun
                    environment: &gluetun_env
                      a: b
                  x-gluetun-pia: &gluetun_pia
                    <<: *gluetun
                  x-gluetun-env-pia: &gluetun_env_pia
                    <<: *gluetun_env
                  vp0:
                    <<: *gluetun_pia
                    environment:
                      <<: *gluetun_env_pia
                "#,
            )
            .at("/x-templates/vp0/environment", r#"{"a":"b"}"#),
        case("reset_test.go TestResetCycle (multiple_services_common_config)")
            .yaml(
                "\nname: test\nx-common:\n  &common\n  restart: unless-stopped\nservices:\n  backend:\n    <<: *common\n    image: alpine:latest\n  backend-static:\n    <<: *common\n    image: alpine:latest\n  backend-worker:\n    <<: *common\n    image: alpine:latest\n",
            )
            .text("/services/backend-worker/restart", "unless-stopped"),
        case("reset_test.go TestResetCycle (dotted_service_names_prefix_no_cycle)")
            .yaml("\nname: test\nservices:\n  test.unit: &shared\n    image: alpine\n  test: *shared\n  test.other: *shared\n")
            .text("/services/test.other/image", "alpine"),
        case("reset_test.go TestResetCycle (direct_self_reference_cycle)")
            .yaml("\nname: test\nservices:\n  web: {image: x}\nx-healthcheck: &healthcheck\n  egress-service:\n    <<: *healthcheck\n")
            .fails("compose.yaml"),
        case("reset_test.go TestAliasBombPrevented (B3_N10_small_branching loads)")
            .yaml(
                "\nname: test\nx-a: &a {k: v}\nx-b: &b [*a, *a, *a]\nx-c: &c [*b, *b, *b]\nx-d: &d [*c, *c, *c]\nx-e: &e [*d, *d, *d]\nx-f: &f [*e, *e, *e]\nx-g: &g [*f, *f, *f]\nx-h: &h [*g, *g, *g]\nx-i: &i [*h, *h, *h]\nx-j: &j [*i, *i, *i]\nx-k: &k [*j, *j, *j]\nservices:\n  svc:\n    image: alpine\n",
            )
            .loads(),
        case("reset_test.go TestAliasBombPrevented (B9_N9_original_poc)")
            .yaml(&alias_bomb(10))
            .fails("excessive aliasing"),
        case("reset_test.go TestAliasNodePreservation (B9_N8)").yaml(&alias_bomb(9)).fails("excessive aliasing"),
        case("reset_test.go TestLargeLegitimateFile (400 services x 122 variables)").yaml(&large()).text("/services/svc399/environment/KEY_121", "val"),
        case("reset_test.go TestMergeKeyAliasTargets (alias_to_mapping)")
            .yaml("\nname: test\nx-base: &base\n  image: nginx\n  restart: unless-stopped\nservices:\n  s1:\n    <<: *base\n")
            .text("/services/s1/restart", "unless-stopped"),
        case("reset_test.go TestMergeKeyAliasTargets (alias_to_sequence_of_mappings)")
            .yaml("\nname: test\nx-list: &alist\n  - image: nginx\nservices:\n  s1:\n    <<: *alist\n")
            .text("/services/s1/image", "nginx"),
        case("reset_test.go TestMergeKeyAliasTargets (alias_to_sequence_shared_across_services)")
            .yaml("\nname: test\nx-list: &alist\n  - image: nginx\n    restart: unless-stopped\nservices:\n  s1:\n    <<: *alist\n  s2:\n    <<: *alist\n")
            .text("/services/s2/restart", "unless-stopped"),
        case("reset_test.go TestMergeKeyAliasTargets (inline_sequence_of_mappings)")
            .yaml("\nname: test\nx-base: &base\n  image: nginx\nservices:\n  s1:\n    <<: [*base, {restart: unless-stopped}]\n")
            .text("/services/s1/image", "nginx")
            .text("/services/s1/restart", "unless-stopped"),
        case("reset.go resolveContainer (a `!reset` item of a sequence is dropped)")
            .yaml("\nservices:\n  web:\n    image: x\n    ports: [\"80:80\", !reset \"90:90\"]\n")
            .at("/services/web/ports/1", super::ABSENT)
            .at("/services/web/ports/0/target", "80"),
        case("reset.go resolveContainer (a duplicate key in an extends base file is an error too)")
            .yaml("\nservices:\n  web:\n    extends: {file: lib/base.yaml, service: base}\n")
            .file("lib/base.yaml", "\nservices:\n  base:\n    image: x\n    image: y\n")
            .fails("image"),
        case("reset_test.go TestMergeKeyAliasToScalarRejected")
            .yaml("\nname: test\nx-scalar: &s \"not-a-map\"\nservices:\n  s1:\n    <<: *s\n")
            .fails("compose.yaml"),
    ]
}

fn alias_bomb(levels: usize) -> String {
    let names: Vec<char> = ('a'..='z').collect();
    let mut out = String::from("name: test\nx-a: &a {k: v}\n");
    for i in 1..levels {
        let prev = names[i - 1];
        let items = vec![format!("*{prev}"); 9].join(", ");
        out.push_str(&format!("x-{0}: &{0} [{items}]\n", names[i]));
    }
    out.push_str("services:\n  svc:\n    image: alpine\n");
    out
}

fn large() -> String {
    let mut out = String::from("name: test\nservices:\n");
    for s in 0..400 {
        out.push_str(&format!("  svc{s}:\n    image: alpine\n    environment:\n"));
        for e in 0..122 {
            out.push_str(&format!("      KEY_{e}: val\n"));
        }
    }
    out
}

/// Declarations a merge case needs so the merged file is valid as a whole.
trait Declare {
    fn extra_networks(self, names: &[&str]) -> Case;
    fn extra_services(self, names: &[&str]) -> Case;
    fn model_volumes(self, names: &[&str]) -> Case;
    fn with_secrets(self, names: &[&str]) -> Case;
}

impl Declare for Case {
    fn extra_networks(self, names: &[&str]) -> Case {
        let decl: String = names.iter().map(|n| format!("  {n}:\n")).collect();
        self.stack_file("decl.yaml", &format!("networks:\n{decl}"))
    }

    fn extra_services(self, names: &[&str]) -> Case {
        let decl: String = names.iter().map(|n| format!("  {n}: {{image: x}}\n")).collect();
        self.stack_file("decl.yaml", &format!("services:\n{decl}"))
    }

    fn model_volumes(self, names: &[&str]) -> Case {
        let decl: String = names.iter().map(|n| format!("  {n}:\n")).collect();
        self.stack_file("decl.yaml", &format!("volumes:\n{decl}"))
    }

    fn with_secrets(self, names: &[&str]) -> Case {
        let decl: String = names.iter().map(|n| format!("  {n}:\n    file: ./s.txt\n")).collect();
        self.stack_file("decl.yaml", &format!("secrets:\n{decl}"))
    }
}
