//! Value syntaxes: compose-go's types/ tests (types_test.go TestParsePortConfig, hostList_test.go,
//! bytes_test.go, labels_test.go, TestNewMapping), format/volume_test.go (the short volume
//! syntax), transform/*_test.go (short → long forms) and the durations of the schema.
//!
//! Skipped: types_test.go TestExtension, TestNetworksByPriority*, TestMarshalServiceEntrypoint,
//! TestMarshalBuild_DockerfileInline, TestMarshall, TestMappingValues (Go methods and Go
//! marshalling; `config` output is checked in tests/spec_config.rs), the JSON/YAML round trips of
//! bytes_test.go (Go marshalling), format/volume_test.go's Windows cases
//! (TestParseVolumeAnonymousVolumeWindows, TestParseVolumeRelativeBindMountWindows,
//! TestParseVolumeWithBindOptionsWindows, TestParseVolumeWindowsNamedPipe,
//! TestParseVolumeWithVariableDefaultValueWindows, the Windows rows of
//! TestParseVolumeSplitCases: berth runs on Linux), TestIsFilePath and TestVolumeStringer (Go
//! helpers), transform/defaults_test.go TestRegisterDefaultValue (a Go registry),
//! types/project_test.go and config_test.go (Go `Project` methods: images, service lookups;
//! profiles and selection are covered in attributes.rs and loader.rs), graph/, tree/, utils/,
//! paths/ (Go helpers; dependency cycles are in loader.rs).

use super::{case, js, Case};

fn svc(body: &str) -> String {
    let body: String = super::dedent(body).lines().map(|l| format!("    {l}\n")).collect();
    format!("services:\n  web:\n    image: x\n{body}")
}

/// A port as (target, published, protocol, host_ip).
type Published = (u16, Option<&'static str>, &'static str, Option<&'static str>);

fn port_json(target: u16, published: Option<&str>, protocol: &str, host_ip: Option<&str>) -> String {
    let mut m = serde_json::Map::new();
    m.insert("target".into(), target.into());
    if let Some(p) = published {
        m.insert("published".into(), p.into());
    }
    if let Some(ip) = host_ip {
        m.insert("host_ip".into(), ip.into());
    }
    m.insert("protocol".into(), protocol.into());
    m.insert("mode".into(), "ingress".into());
    serde_json::Value::Object(m).to_string()
}

pub fn cases() -> Vec<Case> {
    let mut v = ports();
    v.extend(hosts());
    v.extend(bytes());
    v.extend(volumes());
    v.extend(transforms());
    v
}

fn ports() -> Vec<Case> {
    let good: &[(&str, &[Published])] = &[
        ("80", &[(80, None, "tcp", None)]),
        ("80:8080", &[(8080, Some("80"), "tcp", None)]),
        ("80-90:8080", &[(8080, Some("80-90"), "tcp", None)]),
        ("8080:80/tcp", &[(80, Some("8080"), "tcp", None)]),
        ("80:8080/udp", &[(8080, Some("80"), "udp", None)]),
        ("80-81:8080-8081/tcp", &[(8080, Some("80"), "tcp", None), (8081, Some("81"), "tcp", None)]),
        (
            "80-82:8080-8082/udp",
            &[(8080, Some("80"), "udp", None), (8081, Some("81"), "udp", None), (8082, Some("82"), "udp", None)],
        ),
        ("80-82:8080/udp", &[(8080, Some("80-82"), "udp", None)]),
        ("80-80:8080/tcp", &[(8080, Some("80"), "tcp", None)]),
        ("1.1.1.1:80:80", &[(80, Some("80"), "tcp", Some("1.1.1.1"))]),
        ("127.0.0.1:8080:80", &[(80, Some("8080"), "tcp", Some("127.0.0.1"))]),
        ("127.0.0.1::80", &[(80, None, "tcp", Some("127.0.0.1"))]),
        ("[::1]:8080:80", &[(80, Some("8080"), "tcp", Some("::1"))]),
        ("8080:80/sctp", &[(80, Some("8080"), "sctp", None)]),
    ];
    let mut v: Vec<Case> = good
        .iter()
        .map(|(spec, want)| {
            let json: Vec<String> = want.iter().map(|(t, p, proto, ip)| port_json(*t, *p, proto, *ip)).collect();
            case(&format!("types_test.go TestParsePortConfig (`{spec}`)"))
                .yaml(&svc(&format!("\nports: [\"{spec}\"]\n")))
                .at("/services/web/ports", format!("[{}]", json.join(",")))
        })
        .collect();
    for (spec, why) in [
        ("9999999", "9999999"),
        ("80/xyz", "xyz"),
        ("tcp", "tcp"),
        ("udp", "udp"),
        ("", "port"),
        ("127.0.1:8080:80", "127.0.1"),
    ] {
        let source = if spec == "127.0.1:8080:80" {
            "ports_test.go Test_transformPorts (invalid IP)".to_string()
        } else {
            format!("types_test.go TestParsePortConfig (`{spec}` fails)")
        };
        v.push(case(&source).yaml(&svc(&format!("\nports: [\"{spec}\"]\n"))).fails(why));
    }
    v.push(
        case("ports_test.go Test_portDefaults (a long port gets protocol and mode)")
            .yaml(&svc("\nports:\n  - target: 80\n    published: 8080\n"))
            .at("/services/web/ports", format!("[{}]", port_json(80, Some("8080"), "tcp", None))),
    );
    v.push(
        case("ports_test.go Test_transformPorts ([]string with host IPs)")
            .yaml(&svc("\nports:\n  - 127.0.0.1:8080:80\n  - 127.0.0.1:8081:81\n"))
            .at(
                "/services/web/ports",
                format!(
                    "[{},{}]",
                    port_json(80, Some("8080"), "tcp", Some("127.0.0.1")),
                    port_json(81, Some("8081"), "tcp", Some("127.0.0.1"))
                ),
            ),
    );
    v.push(
        case("ports_test.go Test_transformPorts (ignore invalid IP when not interpolating: kept as written)")
            .yaml(&svc("\nports:\n  - ${HOST_IP}:${HOST_PORT}:80\n"))
            .no_interpolate()
            .text("/services/web/ports/0", "${HOST_IP}:${HOST_PORT}:80")
            .differs("config --no-interpolate: a port still holding a variable is left out of berth's typed model, with a warning"),
    );
    v.push(
        case("loader_test.go TestLoadWithInterpolationCastFull (a port given as a number)")
            .yaml(&svc("\nports:\n  - 8080\n  - 53/udp\n"))
            .at(
                "/services/web/ports",
                format!("[{},{}]", port_json(8080, None, "tcp", None), port_json(53, None, "udp", None)),
            ),
    );
    v
}

/// hostList_test.go: both separators, brackets, IPv6, host-gateway, errors.
fn hosts() -> Vec<Case> {
    let mut v = Vec::new();
    for sep in ["=", ":"] {
        let rows: &[(&str, &str, &[&str])] = &[
            ("IPv4", "myhost{}192.168.0.1", &["myhost", "192.168.0.1"]),
            ("Weird but permitted, IPv4 with brackets", "myhost{}[192.168.0.1]", &["myhost", "192.168.0.1"]),
            ("Host and domain", "host.invalid{}10.0.2.1", &["host.invalid", "10.0.2.1"]),
            ("IPv6", "anipv6host{}2003:ab34:e::1", &["anipv6host", "2003:ab34:e::1"]),
            ("IPv6, brackets", "anipv6host{}[2003:ab34:e::1]", &["anipv6host", "2003:ab34:e::1"]),
            ("IPv6 localhost", "ipv6local{}::1", &["ipv6local", "::1"]),
            ("IPv6 localhost, brackets", "ipv6local{}[::1]", &["ipv6local", "::1"]),
            (
                "host-gateway special case",
                "host.docker.internal{}host-gateway",
                &["host.docker.internal", "host-gateway"],
            ),
        ];
        for (doc, tpl, want) in rows {
            let entry = tpl.replace("{}", sep);
            v.push(
                case(&format!("hostList_test.go TestHostsList{} ({doc})", if sep == "=" { "Equal" } else { "Coma" }))
                    .yaml(&svc(&format!("\nextra_hosts: [\"{entry}\"]\n")))
                    .at(&format!("/services/web/extra_hosts/{}", want[0]), format!("[{}]", js(want[1]))),
            );
        }
    }
    v.push(
        case("hostList_test.go TestHostsList (multiple inputs)")
            .yaml(&svc("\nextra_hosts: [\"myhost=192.168.0.1\", \"anipv6host=[2003:ab34:e::1]\", \"host.docker.internal=host-gateway\"]\n"))
            .at(
                "/services/web/extra_hosts",
                r#"{"myhost":["192.168.0.1"],"anipv6host":["2003:ab34:e::1"],"host.docker.internal":["host-gateway"]}"#,
            ),
    );
    v.push(
        case("hostList_test.go TestHostsList (bad host, colon)")
            .yaml(&svc("\nextra_hosts: [\"::::1\"]\n"))
            .fails("extra_hosts"),
    );
    v.push(
        case("hostList_test.go TestHostsList (bad host, eq)")
            .yaml(&svc("\nextra_hosts: [\"=::1\"]\n"))
            .fails("extra_hosts"),
    );
    v.push(
        case("hostList_test.go TestHostsList (both ipv4 and ipv6)")
            .yaml(&svc("\nextra_hosts: [\"foo:127.0.0.2\", \"foo:ff02::1\"]\n"))
            .at("/services/web/extra_hosts/foo", r#"["127.0.0.2","ff02::1"]"#),
    );
    v.push(
        case("hostList_test.go TestHostsList (list of values)")
            .yaml(&svc("\nextra_hosts: [\"foo=127.0.0.2,127.0.0.3\"]\n"))
            .at("/services/web/extra_hosts/foo", r#"["127.0.0.2","127.0.0.3"]"#),
    );
    v
}

/// bytes_test.go (UnitBytes) and the durations of the schema.
fn bytes() -> Vec<Case> {
    let mut v = Vec::new();
    for (doc, text, want) in [
        ("plain integer", "655360", "655360"),
        ("string integer", "\"655360\"", "655360"),
        ("human readable 1g", "\"1g\"", "1073741824"),
        ("human readable 512m", "\"512m\"", "536870912"),
        ("512M", "512M", "536870912"),
        ("1.5g", "1.5g", "1610612736"),
        ("10kb", "10kb", "10240"),
        ("2GiB", "2GiB", "2147483648"),
        ("zero", "0", "0"),
    ] {
        v.push(
            case(&format!("bytes_test.go TestUnitBytesUnmarshalYAML ({doc})"))
                .yaml(&svc(&format!("\nshm_size: {text}\n")))
                .at("/services/web/shm_size", want),
        );
    }
    v.push(
        case("bytes_test.go TestUnitBytesUnmarshalYAML (negative integer)")
            .yaml(&svc("\nmemswap_limit: -1\n"))
            .at("/services/web/memswap_limit", "-1"),
    );
    v.push(
        case("bytes_test.go TestUnitBytesUnmarshalYAML (string negative)")
            .yaml(&svc("\nmemswap_limit: \"-1\"\n"))
            .at("/services/web/memswap_limit", "-1"),
    );
    v.push(
        case("bytes_test.go TestUnitBytesUnmarshalYAML_Invalid")
            .yaml(&svc("\nshm_size: \"invalid\"\n"))
            .fails("shm_size"),
    );
    v.push(
        case("bytes_test.go TestUnitBytesUnmarshalJSON (mem_limit)")
            .yaml(&svc("\nmem_limit: 512m\n"))
            .at("/services/web/mem_limit", "536870912"),
    );
    v.push(
        case("mapstructure_test.go TestDecodeMapStructure (mem_limit 640k)")
            .yaml(&svc("\nmem_limit: 640k\n"))
            .at("/services/web/mem_limit", "655360"),
    );
    for (text, want) in [
        ("10s", "10s"),
        ("1m30s", "1m30s"),
        ("90s", "1m30s"),
        ("500ms", "500ms"),
        ("1h", "1h0m0s"),
        ("1.5s", "1.5s"),
        ("0", "0s"),
    ] {
        v.push(
            case(&format!("types/duration.go Duration (stop_grace_period `{text}`)"))
                .yaml(&svc(&format!("\nstop_grace_period: {text}\n")))
                .text("/services/web/stop_grace_period", want),
        );
    }
    v.push(
        case("types/duration.go Duration (an invalid duration)")
            .yaml(&svc("\nstop_grace_period: 10 seconds\n"))
            .fails("stop_grace_period"),
    );
    v.push(
        case("labels_test.go TestDecodeLabel")
            .yaml(&svc("\nlabels: [a=b, c]\n"))
            .at("/services/web/labels", r#"{"a":"b","c":""}"#),
    );
    v.push(
        case("types_test.go TestNewMapping (labels: QIX is empty)")
            .yaml(&svc("\nlabels: [FOO=BAR, ZOT=, QIX]\n"))
            .at("/services/web/labels", r#"{"FOO":"BAR","ZOT":"","QIX":""}"#),
    );
    v.push(
        case("types_test.go TestNewMapping (environment: QIX is unset)")
            .yaml(&svc("\nenvironment: [FOO=BAR, ZOT=, QIX]\n"))
            .at("/services/web/environment", r#"{"FOO":"BAR","ZOT":"","QIX":null}"#),
    );
    v
}

/// format/volume_test.go: the short volume syntax.
fn volumes() -> Vec<Case> {
    let vol = |source: &str, spec: &str, json: &str| {
        case(source)
            .yaml(&format!("{}volumes:\n  name: {{}}\n  myvolume: {{}}\n", svc(&format!("\nvolumes: [\"{spec}\"]\n"))))
            .at("/services/web/volumes/0", json)
    };
    let bind = |src: &str, target: &str, extra: &str| {
        format!(r#"{{"type":"bind","source":"{src}","target":"{target}"{extra},"bind":{{"create_host_path":true}}}}"#)
    };
    let mut v = vec![
        vol("volume_test.go TestParseVolumeAnonymousVolume (/path)", "/path", r#"{"type":"volume","target":"/path"}"#),
        vol(
            "volume_test.go TestParseVolumeAnonymousVolume (/path/foo)",
            "/path/foo",
            r#"{"type":"volume","target":"/path/foo"}"#,
        ),
        vol("volume_test.go TestParseVolumeShortVolumes (/a)", "/a", r#"{"type":"volume","target":"/a"}"#),
        case("volume_test.go TestParseVolumeShortVolumes (`.`: loaded; the engine refuses a relative target)")
            .yaml(&svc("\nvolumes: [\".\"]\n"))
            .warns("not absolute", &[("/services/web/volumes/0", r#"{"type":"volume","target":"."}"#)]),
        case("volume_test.go TestParseVolumeTooManyColons")
            .yaml(&svc("\nvolumes: [\"/foo:/foo:ro:foo\"]\n"))
            .fails("volumes"),
        case("volume_test.go TestParseVolumeMissingSource (`:foo`)")
            .yaml(&svc("\nvolumes: [\":foo\"]\n"))
            .fails("volumes"),
        case("volume_test.go TestParseVolumeMissingSource (`/foo::ro`)")
            .yaml(&svc("\nvolumes: [\"/foo::ro\"]\n"))
            .fails("volumes"),
        case("volume_test.go TestParseVolumeInvalidEmptySpec").yaml(&svc("\nvolumes: [\"\"]\n")).fails("volumes"),
        case("volume_test.go TestParseVolumeInvalidSections")
            .yaml(&svc("\nvolumes: [\"/foo::rw\"]\n"))
            .fails("volumes"),
        vol("volume_test.go TestParseVolumeBindMount (./foo)", "./foo:/target", &bind("<dir>/foo", "/target", "")),
        vol(
            "volume_test.go TestParseVolumeBindMount (../other)",
            "../other:/target",
            &bind("<tmp>/other", "/target", ""),
        ),
        vol("volume_test.go TestParseVolumeBindMount (/foo)", "/foo:/target", &bind("/foo", "/target", "")),
        vol(
            "volume_test.go TestParseVolumeBindMount (/home/user)",
            "/home/user:/target",
            &bind("/home/user", "/target", ""),
        ),
        case("volume_test.go TestParseVolumeBindMount (~/thing)")
            .yaml(&svc("\nvolumes: [\"~/thing:/target\"]\n"))
            .env(&[("HOME", "/home/me")])
            .text("/services/web/volumes/0/source", "/home/me/thing"),
        vol(
            "volume_test.go TestParseVolumeWithBindOptions",
            "/source:/target:slave",
            r#"{"type":"bind","source":"/source","target":"/target","bind":{"propagation":"slave","create_host_path":true}}"#,
        ),
        vol(
            "volume_test.go TestParseVolumeWithBindOptionsSELinuxShared",
            "/source:/target:ro,z",
            r#"{"type":"bind","source":"/source","target":"/target","read_only":true,"bind":{"create_host_path":true,"selinux":"z"}}"#,
        ),
        vol(
            "volume_test.go TestParseVolumeWithBindOptionsSELinuxPrivate",
            "/source:/target:ro,Z",
            r#"{"type":"bind","source":"/source","target":"/target","read_only":true,"bind":{"create_host_path":true,"selinux":"Z"}}"#,
        ),
        vol(
            "volume_test.go TestParseVolumeWithInvalidVolumeOptions (ignored)",
            "name:/target:bogus",
            r#"{"type":"volume","source":"name","target":"/target"}"#,
        ),
        vol(
            "volume_test.go TestParseVolumeWithVolumeOptions",
            "name:/target:nocopy",
            r#"{"type":"volume","source":"name","target":"/target","volume":{"nocopy":true}}"#,
        ),
        vol(
            "volume_test.go TestParseVolumeWithReadOnly (./foo)",
            "./foo:/target:ro",
            &bind("<dir>/foo", "/target", r#","read_only":true"#),
        ),
        vol(
            "volume_test.go TestParseVolumeWithReadOnly (/home/user)",
            "/home/user:/target:ro",
            &bind("/home/user", "/target", r#","read_only":true"#),
        ),
        vol("volume_test.go TestParseVolumeWithRW (./foo)", "./foo:/target:rw", &bind("<dir>/foo", "/target", "")),
        vol(
            "volume_test.go TestParseVolumeWithRW (/home/user)",
            "/home/user:/target:rw",
            &bind("/home/user", "/target", ""),
        ),
        vol(
            "volume_test.go TestParseVolumeSplitCases (`/tmp/x/y:/foo/x/y`)",
            "/tmp/x/y:/foo/x/y",
            &bind("/tmp/x/y", "/foo/x/y", ""),
        ),
        vol(
            "volume_test.go TestParseVolumeSplitCases (`/foo:/bar:ro`)",
            "/foo:/bar:ro",
            &bind("/foo", "/bar", r#","read_only":true"#),
        ),
        vol(
            "normalize.go Normalize (a volume target is cleaned)",
            "/src:/data/../data/x/",
            &bind("/src", "/data/x", ""),
        ),
    ];
    let not_interpolated: &[(&str, &str, &str)] = &[
        (
            "variable with default value in target path",
            "/tmp:/tmp/${BUG_HERE:-DEFAULT}/path",
            r#"{"type":"bind","source":"/tmp","target":"/tmp/${BUG_HERE:-DEFAULT}/path","bind":{"create_host_path":true}}"#,
        ),
        (
            "variable with default value in source path",
            "/tmp/${VAR:-default}:/target",
            r#"{"type":"bind","source":"/tmp/${VAR:-default}","target":"/target","bind":{"create_host_path":true}}"#,
        ),
        (
            "variable with default value in both source and target",
            "/src/${SRC:-default}:/dst/${DST:-value}",
            r#"{"type":"bind","source":"/src/${SRC:-default}","target":"/dst/${DST:-value}","bind":{"create_host_path":true}}"#,
        ),
        (
            "variable with empty default value",
            "/tmp:/tmp/${VAR:-}/path",
            r#"{"type":"bind","source":"/tmp","target":"/tmp/${VAR:-}/path","bind":{"create_host_path":true}}"#,
        ),
        (
            "variable with complex default value containing slashes",
            "/tmp:/tmp/${VAR:-default/path/value}/file",
            r#"{"type":"bind","source":"/tmp","target":"/tmp/${VAR:-default/path/value}/file","bind":{"create_host_path":true}}"#,
        ),
        (
            "multiple variables with default values in target",
            "/tmp:/tmp/${VAR1:-val1}/${VAR2:-val2}/path",
            r#"{"type":"bind","source":"/tmp","target":"/tmp/${VAR1:-val1}/${VAR2:-val2}/path","bind":{"create_host_path":true}}"#,
        ),
        (
            "variable with default value and read-only option",
            "/tmp:/tmp/${VAR:-default}/path:ro",
            r#"{"type":"bind","source":"/tmp","target":"/tmp/${VAR:-default}/path","read_only":true,"bind":{"create_host_path":true}}"#,
        ),
        (
            "variable without default value",
            "/tmp:/tmp/${WORKS_AS_EXPECTED}/path",
            r#"{"type":"bind","source":"/tmp","target":"/tmp/${WORKS_AS_EXPECTED}/path","bind":{"create_host_path":true}}"#,
        ),
        (
            "mixed variables with and without defaults",
            "/tmp:/tmp/${VAR1:-default}/${VAR2}/path",
            r#"{"type":"bind","source":"/tmp","target":"/tmp/${VAR1:-default}/${VAR2}/path","bind":{"create_host_path":true}}"#,
        ),
        (
            "variable with default containing colon",
            "/tmp:/tmp/${TIME:-12:30:45}/path",
            r#"{"type":"bind","source":"/tmp","target":"/tmp/${TIME:-12:30:45}/path","bind":{"create_host_path":true}}"#,
        ),
        (
            "named volume with variable default in target",
            "myvolume:/data/${VAR:-default}/path",
            r#"{"type":"volume","source":"myvolume","target":"/data/${VAR:-default}/path"}"#,
        ),
        (
            "variable with default value and bind options",
            "/src:/target/${VAR:-default}/path:slave,ro",
            r#"{"type":"bind","source":"/src","target":"/target/${VAR:-default}/path","read_only":true,"bind":{"propagation":"slave","create_host_path":true}}"#,
        ),
        (
            "variable with default containing braces",
            "/tmp:/tmp/${VAR:-{default}}/path",
            r#"{"type":"bind","source":"/tmp","target":"/tmp/${VAR:-{default}}/path","bind":{"create_host_path":true}}"#,
        ),
        (
            "variable with default at end of path",
            "/tmp:/tmp/path/${VAR:-default}",
            r#"{"type":"bind","source":"/tmp","target":"/tmp/path/${VAR:-default}","bind":{"create_host_path":true}}"#,
        ),
        (
            "variable with default at start of path",
            "/tmp:/${VAR:-default}/path",
            r#"{"type":"bind","source":"/tmp","target":"/${VAR:-default}/path","bind":{"create_host_path":true}}"#,
        ),
    ];
    for (doc, spec, json) in not_interpolated {
        let test = if doc.contains("braces") || doc.contains("end of path") || doc.contains("start of path") {
            "TestParseVolumeWithNestedBraces"
        } else {
            "TestParseVolumeWithVariableDefaultValue"
        };
        v.push(vol(&format!("volume_test.go {test} ({doc}; config --no-interpolate)"), spec, json).no_interpolate());
    }
    v
}

/// transform/*_test.go: short forms of env_file, build, external, ssh.
fn transforms() -> Vec<Case> {
    vec![
        case("envfile_test.go TestSingle")
            .yaml(&svc("\nenv_file: .env\n"))
            .raw_file(".env", "")
            .at("/services/web/env_file", r#"[{"path":"<dir>/.env"}]"#),
        case("envfile_test.go TestSequence")
            .yaml(&svc("\nenv_file:\n  - .env\n  - other.env\n"))
            .raw_file(".env", "")
            .raw_file("other.env", "")
            .at("/services/web/env_file", r#"[{"path":"<dir>/.env"},{"path":"<dir>/other.env"}]"#),
        case("envfile_test.go TestOptional")
            .yaml(&svc("\nenv_file:\n  - .env\n  - path: other.env\n    required: false\n"))
            .raw_file(".env", "")
            .at("/services/web/env_file", r#"[{"path":"<dir>/.env"},{"path":"<dir>/other.env","required":false}]"#),
        case("build_test.go Test_transformBuild (single context string)")
            .yaml("\nservices:\n  foo:\n    build: context_path\n")
            .text("/services/foo/build/context", "<dir>/context_path"),
        case("build_test.go Test_transformBuild (mapping without context)")
            .yaml("\nservices:\n  foo:\n    build:\n      dockerfile: foo.Dockerfile\n")
            .text("/services/foo/build/dockerfile", "foo.Dockerfile")
            .text("/services/foo/build/context", "<dir>"),
        case("external_test.go TestNotExternal")
            .yaml("\nservices:\n  s: {image: x}\nvolumes:\n  test:\n    driver: foo\n")
            .text("/volumes/test/driver", "foo")
            .at("/volumes/test/external", "false"),
        case("external_test.go TestExternalNamed")
            .yaml("\nservices:\n  s: {image: x}\nvolumes:\n  test:\n    external: true\n    name: foo\n")
            .at("/volumes/test", r#"{"name":"foo","external":true}"#),
        case("external_test.go TestExternalUnnamed")
            .yaml("\nservices:\n  s: {image: x}\nvolumes:\n  test:\n    external: true\n")
            .at("/volumes/test", r#"{"name":"test","external":true}"#),
        case("external_test.go TestExternalLegacy")
            .yaml("\nservices:\n  s: {image: x}\nvolumes:\n  test:\n    external:\n      name: foo\n")
            .at("/volumes/test", r#"{"name":"foo","external":true}"#),
        case("external_test.go TestExternalLegacyNamed (the same name twice is fine)")
            .yaml("\nservices:\n  s: {image: x}\nvolumes:\n  test:\n    external:\n      name: foo\n    name: foo\n")
            .at("/volumes/test", r#"{"name":"foo","external":true}"#),
        case("ssh_test.go TestSSHConfig")
            .yaml("\nservices:\n  s:\n    build:\n      context: .\n      ssh: [default, foo=bar]\n")
            .at("/services/s/build/ssh", r#"["default","foo=<dir>/bar"]"#),
    ]
}
