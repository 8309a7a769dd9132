//! compose-go's loader/loader_test.go (and loader_yaml_test.go, mapstructure_test.go,
//! omitEmpty_test.go): whole files through the loader, each written anew from what the test
//! asserts.
//!
//! Skipped: TestLoadBindMountSourceIsWindowsAbsolute and loader_windows_test.go (Windows paths;
//! berth runs on Linux), TestLoadWithRemoteResources, TestLoadWithMissingResources,
//! TestLoadWithNestedResources, TestLoadWithResourcesCycle (custom Go `ResourceLoader`s),
//! TestKnowExtensions (decoding an `x-` key into a Go type), TestLoadEmptyContent_MissingProject
//! and TestLoadProjectName's "default" cases (a Go caller passing no project name; berth, like
//! docker compose, always names the project from the directory), TestLoadServiceWithEnvFile's and
//! TestLoadServiceWithLabelFile's Go `Project` values (kept as stack files here),
//! TestWithoutUnnecessaryResourcesOption* (a Go option docker compose sets only for `up`'s own
//! bookkeeping; `config` keeps every resource), TestDecodeMapStructure (mapstructure decoding; the
//! same values are read from YAML in attributes.rs), TestOmitEmptyPreservesEmptySlice (a Go map
//! helper), TestParseYAMLFiles/TestParseYAMLFilesMergeOverride (the raw merged map; the same merges
//! are checked on the model in merge.rs).

use super::{case, Case};

pub fn cases() -> Vec<Case> {
    let mut v = sample();
    v.extend(shapes());
    v.extend(environment());
    v.extend(casts());
    v.extend(volumes());
    v.extend(resources());
    v.extend(devices());
    v.extend(build());
    v.extend(misc());
    v
}

/// loader_test.go's sampleYAML (TestLoad, TestLoadFromFile, TestParseAndLoad).
fn sample() -> Vec<Case> {
    let yaml = r#"
        name: sample
        services:
          foo:
            image: busybox
            networks:
              with_me:
          bar:
            image: busybox
            environment:
              - FOO=1
            networks:
              - with_ipam
        volumes:
          hello:
            driver: default
            driver_opts:
              beep: boop
        networks:
          with_me: {}
          default:
            driver: bridge
            driver_opts:
              beep: boop
          with_ipam:
            ipam:
              driver: default
              config:
                - subnet: 172.28.0.0/16
              options:
                foo: bar
        "#;
    vec![
        case("loader_test.go TestLoad (sampleYAML)")
            .yaml(yaml)
            .text("/services/foo/image", "busybox")
            .at("/services/foo/networks/with_me", "{}")
            .at("/services/bar/environment", r#"{"FOO":"1"}"#)
            .text("/networks/default/driver", "bridge")
            .at("/networks/default/driver_opts", r#"{"beep":"boop"}"#)
            .text("/networks/with_ipam/ipam/driver", "default")
            .text("/networks/with_ipam/ipam/config/0/subnet", "172.28.0.0/16")
            .at("/networks/with_ipam/ipam/options", r#"{"foo":"bar"}"#)
            .text("/volumes/hello/driver", "default")
            .at("/volumes/hello/driver_opts", r#"{"beep":"boop"}"#),
        case("loader_test.go TestLoadFromFile (a file named Docker-compose.yaml)")
            .stack_file("Docker-compose.yaml", yaml)
            .text("/services/bar/image", "busybox"),
        case("loader_test.go TestLoad (a service on a network the file does not declare)")
            .yaml("\nservices:\n  foo:\n    image: busybox\n    networks:\n      with_me:\n")
            .fails("with_me"),
    ]
}

/// What a file must look like: TestInvalidTopLevelObjectType, TestNonStringKeys,
/// TestV1Unsupported, TestNonMappingObject, TestNonStringImage, TestDecodeErrors, …
fn shapes() -> Vec<Case> {
    let mut v = Vec::new();
    for (what, text) in [("1", "1\n"), ("\"hello\"", "\"hello\"\n"), ("[\"hello\"]", "[\"hello\"]\n")] {
        v.push(
            case(&format!("loader_test.go TestInvalidTopLevelObjectType ({what})")).yaml(text).fails("compose.yaml"),
        );
    }
    let bad = [
        ("TestNonStringKeys (top level)", "\n123:\n  foo:\n    image: busybox\n"),
        ("TestNonStringKeys (services)", "\nservices:\n  foo:\n    image: busybox\n  123:\n    image: busybox\n"),
        ("TestNonStringKeys (ipam config)", "\nservices:\n  foo:\n    image: busybox\nnetworks:\n  default:\n    ipam:\n      config:\n        - 123: oh dear\n"),
        ("TestNonStringKeys (environment)", "\nservices:\n  dict-env:\n    image: busybox\n    environment:\n      1: FOO\n"),
        ("TestV1Unsupported", "\nfoo:\n  image: busybox\n"),
        ("TestNonMappingObject (services list)", "\nservices:\n  - foo:\n      image: busybox\n"),
        ("TestNonMappingObject (service string)", "\nservices:\n  foo: busybox\n"),
        ("TestNonMappingObject (networks list)", "\nservices: {}\nnetworks:\n  - default:\n      driver: bridge\n"),
        ("TestNonMappingObject (network string)", "\nservices: {}\nnetworks:\n  default: bridge\n"),
        ("TestNonMappingObject (volumes list)", "\nservices: {}\nvolumes:\n  - data:\n      driver: local\n"),
        ("TestNonMappingObject (volume string)", "\nservices: {}\nvolumes:\n  data: local\n"),
        ("TestNonStringImage", "\nservices:\n  foo:\n    image: [\"busybox\", \"latest\"]\n"),
        ("TestInvalidEnvironmentValue", "\nservices:\n  dict-env:\n    image: busybox\n    environment:\n      FOO: [\"1\"]\n"),
        ("TestInvalidEnvironmentObject", "\nservices:\n  dict-env:\n    image: busybox\n    environment: \"FOO=1\"\n"),
        ("TestDecodeErrors (a tab in indentation)", "name: test\nservices:\n  web:\n    image: nginx\n\tbuild: .\n"),
        ("TestInvalidProjectNameType", "name: 123\nservices:\n  web: {image: x}\n"),
        ("TestInvalidResource", "\nservices:\n  foo:\n    image: busybox\n    deploy:\n      resources:\n        impossible:\n          x: 1\n"),
        ("TestLoadTmpfsVolumeAdditionalPropertyNotAllowed", "\nservices:\n  tmpfs:\n    image: nginx:latest\n    volumes:\n      - type: tmpfs\n        target: /app\n        foo:\n          bar: zot\n"),
        ("TestLoadSSHWithoutValueInBuildConfig", "\nservices:\n  test:\n    build:\n      context: .\n      ssh:\n"),
        ("TestBadDevelopConfig (watch rule without action)", "\nservices:\n  frontend:\n    image: example/webapp\n    build: ./webapp\n    develop:\n      watch:\n        - path: ./webapp/html\n          target: /var/www\n"),
        ("TestBadServiceConfig (network_mode with networks)", "\nservices:\n  redis:\n    image: redis:6.2.6-alpine\n    network_mode: bridge\n    networks:\n      gratheon: null\nnetworks:\n  gratheon:\n    name: scratch_gratheon\n"),
    ];
    for (test, text) in bad {
        v.push(case(&format!("loader_test.go {test}")).yaml(text).fails("compose.yaml"));
    }
    v.push(case("loader_test.go TestEmptyFile").yaml("").fails("empty"));
    v.push(
        case("loader_test.go TestLoadWithEmptyFile (an empty override)")
            .stack_file("a.yaml", "\nname: test-with-empty-file\nservices:\n  test:\n    image: foo\n")
            .stack_file("b.yaml", "")
            .text("/name", "test-with-empty-file"),
    );
    v.push(
        case("loader_test.go TestLoadMulmtiDocumentYaml")
            .yaml("\nname: load-multi-docs\nservices:\n  test:\n    image: nginx:latest\n---\nservices:\n  test:\n    image: nginx:override\n")
            .text("/services/test/image", "nginx:override"),
    );
    v.push(
        case("loader_test.go TestEmptyList (ports: [])")
            .yaml("\nservices:\n  test:\n    image: nginx:latest\n    ports: []\n")
            .loads(),
    );
    v.push(
        case("loader_test.go TestServiceNameWithDots")
            .yaml("\nservices:\n  test.a.b.c:\n    image: foo\n    ports:\n      - \"5432\"\n")
            .at("/services/test.a.b.c/ports/0/target", "5432"),
    );
    v.push(
        case("loader_test.go TestLoadServiceExtension (a service named `extension`)")
            .yaml("\nservices:\n  extension:\n    image: web\n    x-foo: bar\n")
            .text("/services/extension/x-foo", "bar"),
    );
    v.push(
        case("loader_test.go TestXService (services, volumes, … named x-*)")
            .yaml(
                r#"
                services:
                  x-foo:
                    image: busybox
                    volumes:
                      - x-volume:/dev/null
                    configs:
                      - x-config
                    secrets:
                      - x-secret
                    networks:
                      - x-network
                volumes:
                  x-volume:
                secrets:
                  x-secret:
                    external: true
                networks:
                  x-network:
                configs:
                  x-config:
                    external: true
                "#,
            )
            .text("/services/x-foo/image", "busybox")
            .at("/volumes/x-volume/external", "false")
            .at("/secrets/x-secret/external", "true")
            .at("/configs/x-config/external", "true")
            .text("/networks/x-network/name", "proj_x-network"),
    );
    v.push(
        case("loader_test.go TestNumericIDs (a volume named 0)")
            .yaml("\nservices:\n  foo:\n    image: busybox\n    volumes:\n      - 0:/foo\nvolumes:\n  '0': {}\n")
            .text("/services/foo/volumes/0/type", "volume")
            .text("/services/foo/volumes/0/source", "0")
            .text("/services/foo/volumes/0/target", "/foo"),
    );
    v.push(
        case("loader_test.go TestComposeFileWithVersion (`version` is obsolete: a warning)")
            .yaml(
                r#"
                version: "2"
                name: compose-test-with-version
                volumes:
                  data:
                    driver: local
                networks:
                  front: {}
                services:
                  web:
                    build: ./Dockerfile
                    networks:
                      - front
                      - default
                    volumes_from:
                      - other
                  other:
                    image: busybox:1.31.0-uclibc
                    command: top
                    volumes:
                      - /data
                "#,
            )
            .warns("version", &[])
            .text("/services/web/build/context", "<dir>/Dockerfile")
            .at("/services/web/volumes_from", r#"["other"]"#)
            .at("/services/other/command", r#"["top"]"#)
            .text("/services/other/volumes/0/type", "volume")
            .text("/services/other/volumes/0/target", "/data")
            .text("/volumes/data/driver", "local"),
    );
    v
}

fn environment() -> Vec<Case> {
    let env = r#"{"FOO":"1","BAR":"2","GA":"2.5","BU":"","ZO":null,"MEU":"Shadoks"}"#;
    vec![
        case("loader_test.go TestLoadWithEnvironment (mapping)")
            .yaml("\nservices:\n  dict-env:\n    image: busybox\n    environment:\n      FOO: \"1\"\n      BAR: 2\n      GA: 2.5\n      BU: \"\"\n      ZO:\n      MEU:\n")
            .env(&[("MEU", "Shadoks")])
            .at("/services/dict-env/environment", env),
        case("loader_test.go TestLoadWithEnvironment (list)")
            .yaml("\nservices:\n  list-env:\n    image: busybox\n    environment:\n      - FOO=1\n      - BAR=2\n      - GA=2.5\n      - BU=\n      - ZO\n      - MEU\n")
            .env(&[("MEU", "Shadoks")])
            .at("/services/list-env/environment", env),
        case("loader_test.go TestLoadEnvironmentWithBoolean")
            .yaml("\nservices:\n  dict-env:\n    image: busybox\n    environment:\n      FOO: true\n      BAR: false\n")
            .at("/services/dict-env/environment", r#"{"FOO":"true","BAR":"false"}"#),
        case("loader_test.go TestLoadWithEnvironmentInterpolation")
            .yaml(
                r#"
                # This is a comment, so using variable syntax here ${SHOULD_NOT_BREAK} parsing
                services:
                  test:
                    image: busybox
                    labels:
                      - home1=$HOME
                      - home2=${HOME}
                      - nonexistent=$NONEXISTENT
                      - default=${NONEXISTENT-default}
                networks:
                  test:
                    driver: $HOME
                volumes:
                  test:
                    driver: $HOME
                "#,
            )
            .env(&[("HOME", "/home/foo"), ("FOO", "foo")])
            .at("/services/test/labels", r#"{"home1":"/home/foo","home2":"/home/foo","nonexistent":"","default":"default"}"#)
            .text("/networks/test/driver", "/home/foo")
            .text("/volumes/test/driver", "/home/foo"),
        case("loader_test.go TestInterpolateInt (scale: ${FOO_SCALE})")
            .yaml("\nservices:\n  foo:\n    image: foo\n    scale: ${FOO_SCALE}\n")
            .env(&[("FOO_SCALE", "2")])
            .at("/services/foo/scale", "2"),
    ]
}

/// TestLoadWithInterpolationCastFull: values interpolated from text become numbers and booleans.
fn casts() -> Vec<Case> {
    let env: &[(&str, &str)] =
        &[("theint", "555"), ("thefloat", "3.14"), ("thebool", "true"), ("theduration", "60s"), ("thesize", "2gb")];
    let full = r#"
        services:
          web:
            image: x
            configs:
              - source: appconfig
                mode: "$theint"
            secrets:
              - source: super
                mode: "$theint"
            healthcheck:
              retries: ${theint}
              disable: $thebool
            deploy:
              replicas: $theint
              update_config:
                parallelism: $theint
                max_failure_ratio: $thefloat
              rollback_config:
                parallelism: $theint
                max_failure_ratio: $thefloat
              restart_policy:
                max_attempts: $theint
              placement:
                max_replicas_per_node: $theint
            ports:
              - $theint
              - "34567"
              - target: $theint
                published: "$theint"
                x-foo-bar: true
            ulimits:
              nproc: $theint
              nofile:
                hard: $theint
                soft: $theint
            privileged: $thebool
            read_only: $thebool
            shm_size: ${thesize}
            stop_grace_period: ${theduration}
            stdin_open: ${thebool}
            tty: $thebool
            volumes:
              - source: data
                type: volume
                target: /data
                read_only: $thebool
                volume:
                  nocopy: $thebool
        configs:
          appconfig:
            external: $thebool
        secrets:
          super:
            external: $thebool
        volumes:
          data:
            external: $thebool
        networks:
          front:
            external: $thebool
          back:
            internal: $thebool
            attachable: $thebool
        "#;
    let c =
        |what: &str| case(&format!("loader_test.go TestLoadWithInterpolationCastFull ({what})")).yaml(full).env(env);
    vec![
        c("configs/secrets mode is octal text")
            .at("/services/web/configs/0/mode", "365")
            .at("/services/web/secrets/0/mode", "365"),
        c("healthcheck").at("/services/web/healthcheck/retries", "555").at("/services/web/healthcheck/disable", "true"),
        c("deploy.replicas").at("/services/web/deploy/replicas", "555"),
        c("deploy.update_config, rollback_config")
            .at("/services/web/deploy/update_config/parallelism", "555")
            .at("/services/web/deploy/update_config/max_failure_ratio", "3.14")
            .at("/services/web/deploy/rollback_config/parallelism", "555"),
        c("deploy.restart_policy, placement")
            .at("/services/web/deploy/restart_policy/max_attempts", "555")
            .at("/services/web/deploy/placement/max_replicas_per_node", "555"),
        c("ports")
            .at("/services/web/ports/0/target", "555")
            .at("/services/web/ports/1/target", "34567")
            .at("/services/web/ports/2/target", "555")
            .text("/services/web/ports/2/published", "555")
            .at("/services/web/ports/2/x-foo-bar", "true"),
        c("ulimits")
            .at("/services/web/ulimits/nproc", r#"{"soft":555,"hard":555}"#)
            .at("/services/web/ulimits/nofile", r#"{"soft":555,"hard":555}"#),
        c("booleans")
            .at("/services/web/privileged", "true")
            .at("/services/web/read_only", "true")
            .at("/services/web/stdin_open", "true")
            .at("/services/web/tty", "true"),
        c("shm_size").at("/services/web/shm_size", "2147483648"),
        c("stop_grace_period").text("/services/web/stop_grace_period", "1m0s"),
        c("volume booleans")
            .at("/services/web/volumes/0/read_only", "true")
            .at("/services/web/volumes/0/volume/nocopy", "true"),
        c("external resources")
            .at("/configs/appconfig/external", "true")
            .at("/secrets/super/external", "true")
            .at("/volumes/data/external", "true")
            .at("/networks/front/external", "true")
            .at("/networks/back/internal", "true")
            .at("/networks/back/attachable", "true"),
    ]
}

fn volumes() -> Vec<Case> {
    let tmpfs = |size: &str| {
        format!("\nservices:\n  tmpfs:\n    image: nginx:latest\n    volumes:\n    - type: tmpfs\n      target: /app\n      tmpfs:\n        size: {size}\n")
    };
    vec![
        case("loader_test.go TestLoadTmpfsVolume (1kb)").yaml(&tmpfs("1kb")).at("/services/tmpfs/volumes/0/tmpfs/size", "1024"),
        case("loader_test.go TestLoadTmpfsVolume (1024)").yaml(&tmpfs("1024")).at("/services/tmpfs/volumes/0/tmpfs/size", "1024"),
        case("loader_test.go TestLoadTmpfsVolumeSizeCanBeZero").yaml(&tmpfs("0")).text("/services/tmpfs/volumes/0/type", "tmpfs"),
        case("loader_test.go TestLoadTmpfsVolumeSizeMustBeGTEQZero").yaml(&tmpfs("-1")).fails("size"),
        case("loader_test.go TestLoadTmpfsVolumeSizeMustBeInteger").yaml(&tmpfs("0.0001")).fails("size"),
        case("loader_test.go TestLoadBindMountSourceMustNotBeEmpty")
            .yaml("\nservices:\n  tmpfs:\n    image: nginx:latest\n    volumes:\n      - type: bind\n        target: /app\n")
            .fails("source"),
        case("loader_test.go TestLoadBindMountWithSource")
            .yaml("\nservices:\n  bind:\n    image: nginx:latest\n    volumes:\n      - type: bind\n        target: /app\n        source: \".\"\n")
            .text("/services/bind/volumes/0/source", "<dir>")
            .text("/services/bind/volumes/0/target", "/app"),
        case("loader_test.go TestLoadVolumeSubpath")
            .yaml("\nservices:\n  test:\n    image: alpine:latest\n    volumes:\n      - type: volume\n        source: asdf\n        target: /app\n        volume:\n          subpath: etc/settings\nvolumes:\n  asdf: {}\n")
            .text("/services/test/volumes/0/volume/subpath", "etc/settings"),
        case("loader_test.go TestLoadExpandedMountFormat")
            .yaml("\nservices:\n  web:\n    image: busybox\n    volumes:\n      - type: volume\n        source: foo\n        target: /target\n        read_only: true\nvolumes:\n  foo: {}\n")
            .at("/services/web/volumes/0", r#"{"type":"volume","source":"foo","target":"/target","read_only":true}"#),
        case("loader_test.go TestLoadWithBindMountVolume (driver_opts.device is made absolute)")
            .yaml("\nservices:\n  web:\n    image: web\n    volumes:\n     - data:/data\nvolumes:\n  data:\n    driver: local\n    driver_opts:\n      type: 'none'\n      o: 'bind'\n      device: './data'\n")
            .text("/volumes/data/driver_opts/device", "<dir>/data"),
        case("loader_test.go TestLoadExtraHostsMap")
            .yaml("\nservices:\n  web:\n    image: busybox\n    extra_hosts:\n      \"zulu\": \"162.242.195.82\"\n      \"alpha\": \"50.31.209.229\"\n")
            .at("/services/web/extra_hosts", r#"{"zulu":["162.242.195.82"],"alpha":["50.31.209.229"]}"#),
        case("loader_test.go TestLoadExtraHostsList")
            .yaml("\nservices:\n  web:\n    image: busybox\n    extra_hosts:\n      - \"alpha:50.31.209.229\"\n      - \"zulu:127.0.0.2\"\n      - \"zulu:ff02::1\"\n")
            .at("/services/web/extra_hosts", r#"{"alpha":["50.31.209.229"],"zulu":["127.0.0.2","ff02::1"]}"#),
        case("loader_test.go TestLoadExpandedPortFormat")
            .yaml(
                r#"
                services:
                  web:
                    image: busybox
                    ports:
                      - "80-82:8080-8082"
                      - "90-92:8090-8092/udp"
                      - "85:8500"
                      - 8600
                      - protocol: udp
                        target: 53
                        published: 10053
                      - mode: host
                        target: 22
                        published: 10022
                "#,
            )
            .at(
                "/services/web/ports",
                r#"[
                  {"target":8080,"published":"80","protocol":"tcp","mode":"ingress"},
                  {"target":8081,"published":"81","protocol":"tcp","mode":"ingress"},
                  {"target":8082,"published":"82","protocol":"tcp","mode":"ingress"},
                  {"target":8090,"published":"90","protocol":"udp","mode":"ingress"},
                  {"target":8091,"published":"91","protocol":"udp","mode":"ingress"},
                  {"target":8092,"published":"92","protocol":"udp","mode":"ingress"},
                  {"target":8500,"published":"85","protocol":"tcp","mode":"ingress"},
                  {"target":8600,"protocol":"tcp","mode":"ingress"},
                  {"target":53,"published":"10053","protocol":"udp","mode":"ingress"},
                  {"target":22,"published":"10022","protocol":"tcp","mode":"host"}]"#,
            ),
    ]
}

/// Top-level resources: external names, conflicts, names.
fn resources() -> Vec<Case> {
    let mut v = Vec::new();
    for (kind, combo) in [
        ("Driver", "driver: foobar"),
        ("DirverOpts", "driver_opts:\n      beep: boop"),
        ("Labels", "labels:\n      - beep=boop"),
    ] {
        v.push(
            case(&format!("loader_test.go TestInvalidExternalAnd{kind}Combination"))
                .yaml(&format!(
                    "\nservices:\n  web: {{image: x}}\nvolumes:\n  external_volume:\n    external: true\n    {combo}\n"
                ))
                .fails("external_volume"),
        );
    }
    for (test, section) in [
        ("TestLoadVolumeInvalidExternalNameAndNameCombination", "volumes"),
        ("TestLoadSecretInvalidExternalNameAndNameCombination", "secrets"),
        ("TestLoadNetworkInvalidExternalNameAndNameCombination", "networks"),
    ] {
        v.push(
            case(&format!("loader_test.go {test}"))
                .yaml(&format!(
                    "\nservices:\n  web: {{image: x}}\n{section}:\n  ext:\n    name: user_specified_name\n    external:\n      name: external_name\n"
                ))
                .fails("external.name"),
        );
    }
    for (test, section) in [
        ("TestLoadVolumesWarnOnDeprecatedExternalName", "volumes"),
        ("TestLoadSecretsWarnOnDeprecatedExternalName", "secrets"),
        ("TestLoadNetworksWarnOnDeprecatedExternalName", "networks"),
    ] {
        v.push(
            case(&format!("loader_test.go {test}"))
                .yaml(&format!(
                    "\nservices:\n  web: {{image: x}}\n{section}:\n  foo:\n    external:\n      name: oops\n"
                ))
                .warns("external.name", &[])
                .text(&format!("/{section}/foo/name"), "oops")
                .at(&format!("/{section}/foo/external"), "true"),
        );
    }
    v.push(
        case("loader_test.go TestLoadNetworkWithName")
            .yaml("\nname: load-network-with-name\nservices:\n  hello-world:\n    image: redis:alpine\n    networks:\n      - network1\n      - network3\nnetworks:\n  network1:\n    name: network2\n  network3:\n")
            .at("/services/hello-world/networks", r#"{"network1":null,"network3":null}"#)
            .text("/networks/network1/name", "network2")
            .text("/networks/network3/name", "load-network-with-name_network3"),
    );
    v.push(
        case("loader_test.go TestLoadInvalidIsolation (validated by the daemon, not the loader)")
            .yaml("\nservices:\n  foo:\n    image: busybox\n    isolation: invalid\nconfigs:\n  super:\n    external: true\n")
            .text("/services/foo/isolation", "invalid"),
    );
    v.push(
        case("loader_test.go TestLoadCredentialSpec")
            .yaml("\nservices:\n  foo:\n    image: busybox\n    credential_spec:\n      config: \"0bt9dmxjvjiqermk6xrop3ekq\"\n")
            .text("/services/foo/credential_spec/config", "0bt9dmxjvjiqermk6xrop3ekq"),
    );
    v
}

/// deploy.resources.reservations.devices (TestServiceDeviceRequest*).
fn devices() -> Vec<Case> {
    let stack = |extra: &str| {
        format!(
            "\nservices:\n  hello-world:\n    image: redis:alpine\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - driver: nvidia\n{extra}"
        )
    };
    let dev = "/services/hello-world/deploy/resources/reservations/devices/0";
    vec![
        case("loader_test.go TestServiceDeviceRequestCountIntegerType")
            .yaml(&stack("              capabilities: [gpu]\n              count: 1\n"))
            .at(&format!("{dev}/count"), "1"),
        case("loader_test.go TestServiceDeviceRequestCountStringType (all)")
            .yaml(&stack("              capabilities: [gpu]\n              count: all\n"))
            .at(&format!("{dev}/count"), "-1"),
        case("loader_test.go TestServiceDeviceRequestCountIntegerAsStringType")
            .yaml(&stack("              capabilities: [gpu]\n              count: \"1\"\n"))
            .loads(),
        case("loader_test.go TestServiceDeviceRequestWithoutCountAndDeviceIdsType")
            .yaml(&stack("              capabilities: [gpu]\n"))
            .at(&format!("{dev}/count"), "-1"),
        case("loader_test.go TestServiceDeviceRequestCountInvalidStringType")
            .yaml(&stack("              capabilities: [gpu]\n              count: some_string\n"))
            .fails("count"),
        case("loader_test.go TestServiceDeviceRequestCountAndDeviceIdsExclusive")
            .yaml(&stack("              capabilities: [gpu]\n              count: 2\n              device_ids: [\"my-device-id\"]\n"))
            .fails("device_ids"),
        case("loader_test.go TestServiceDeviceRequestCapabilitiesMandatory").yaml(&stack("              count: 2\n")).fails("capabilities"),
    ]
}

fn build() -> Vec<Case> {
    vec![
        case("loader_test.go TestBuildProperties (build: .)")
            .yaml("\nservices:\n  web:\n    image: web\n    build: .\n  db:\n    image: db\n    build:\n     context: ./db\n     shm_size: 2gb\n")
            .text("/services/web/build/context", "<dir>")
            .text("/services/db/build/context", "<dir>/db")
            .at("/services/db/build/shm_size", "2147483648"),
        case("loader_test.go TestUnsupportedProperties (links, pid, build)")
            .yaml("\nservices:\n  web:\n    image: web\n    build:\n     context: ./web\n    links:\n      - db\n    pid: host\n  db:\n    image: db\n    build:\n     context: ./db\n")
            .at("/services/web/links", r#"["db"]"#)
            .text("/services/web/pid", "host"),
        case("loader_test.go TestLoadNoSSHInBuildConfig")
            .yaml("\nservices:\n  test:\n    build:\n      context: .\n")
            .at("/services/test/build/ssh", "null"),
        case("loader_test.go TestLoadSSHWithDefaultValueInBuildConfig")
            .yaml("\nservices:\n  test:\n    build:\n      context: .\n      ssh: [default]\n")
            .at("/services/test/build/ssh", r#"["default"]"#),
        case("loader_test.go TestLoadSSHWithKeyValueInBuildConfig (a relative key path is resolved)")
            .yaml("\nservices:\n  test:\n    build:\n      context: .\n      ssh:\n        key1: value1\n")
            .at("/services/test/build/ssh", r#"["key1=<dir>/value1"]"#),
        case("loader_test.go TestLoadSSHWithKeysValuesInBuildConfig")
            .yaml("\nservices:\n  test:\n    build:\n      context: .\n      ssh:\n        - key1=value1\n        - key2=value2\n        - default\n")
            .at("/services/test/build/ssh", r#"["key1=<dir>/value1","key2=<dir>/value2","default"]"#),
        case("loader_test.go TestBuildUlimits")
            .yaml("\nservices:\n  test:\n    build:\n      context: .\n      ulimits:\n        nproc: 65535\n        nofile:\n          soft: 20000\n          hard: 40000\n")
            .at("/services/test/build/ulimits/nproc", "65535")
            .at("/services/test/build/ulimits/nofile", r#"{"soft":20000,"hard":40000}"#),
        case("loader_test.go TestLoadWithExtendsWithContextUrl (a URL context is kept)")
            .yaml("\nservices:\n  importer-with-https-url:\n    extends:\n      file: lib/imported.yaml\n      service: imported-with-https-url\n")
            .file("lib/imported.yaml", "\nservices:\n  imported-with-https-url:\n    build:\n      context: https://github.com/docker/compose.git\n")
            .text("/services/importer-with-https-url/build/context", "https://github.com/docker/compose.git"),
    ]
}

fn misc() -> Vec<Case> {
    vec![
        case("loader_test.go TestLoadLegacyBoolean (init: yes)").yaml("\nservices:\n  test:\n    image: x\n    init: yes\n").at("/services/test/init", "true"),
        case("loader_test.go TestDeprecatedProperties (container_name, expose)")
            .yaml("\nservices:\n  web:\n    image: web\n    container_name: web\n  db:\n    image: db\n    container_name: db\n    expose: [\"5434\"]\n")
            .at("/services/db/expose", r#"["5434"]"#),
        case("loader_test.go TestServicePullPolicy").yaml("\nservices:\n  hello-world:\n    image: redis:alpine\n    pull_policy: always\n").text("/services/hello-world/pull_policy", "always"),
        case("loader_test.go TestLoadUnitBytes (memswap_limit)")
            .yaml("\nservices:\n  test1:\n    image: test\n    memswap_limit: -1\n  test2:\n    image: test\n    memswap_limit: 640kb\n")
            .at("/services/test1/memswap_limit", "-1")
            .at("/services/test2/memswap_limit", "655360"),
        case("loader_test.go TestLoadWithDependsOn")
            .yaml(
                r#"
                services:
                  foo:
                    image: nginx
                    depends_on:
                      bar:
                        condition: service_started
                      baz:
                        condition: service_healthy
                        required: false
                      qux:
                        condition: service_completed_successfully
                        required: true
                  bar: {image: x}
                  baz: {image: x}
                  qux: {image: x}
                "#,
            )
            .at(
                "/services/foo/depends_on",
                r#"{"bar":{"condition":"service_started","required":true},
                    "baz":{"condition":"service_healthy","required":false},
                    "qux":{"condition":"service_completed_successfully","required":true}}"#,
            ),
        case("loader_test.go TestLoadDependsOnCycle")
            .yaml("\nservices:\n  service1:\n    image: service1\n    depends_on:\n      - service2\n  service2:\n    image: service2\n    depends_on:\n      - service3\n  service3:\n    image: service3\n    depends_on:\n      - service1\n")
            .fails("cycle"),
        case("graph.go checkCycle (a cycle through network_mode and depends_on)")
            .yaml("\nservices:\n  a:\n    image: x\n    network_mode: service:b\n  b:\n    image: x\n    depends_on: [a]\n")
            .fails("cycle"),
        case("graph_test.go TestBuildGraph (a required dependency disabled by a profile)")
            .yaml("\nservices:\n  test:\n    image: x\n    depends_on: [another]\n  another:\n    image: x\n    profiles: [test]\n")
            .fails("another"),
        case("graph_test.go TestBuildGraph (the dependency enabled by its profile)")
            .yaml("\nservices:\n  test:\n    image: x\n    depends_on: [another]\n  another:\n    image: x\n    profiles: [test]\n")
            .profiles(&["test"])
            .text("/services/another/image", "x"),
        case("loader_test.go TestLoadDependsOnSelf").yaml("\nservices:\n  service1:\n    image: service1\n    depends_on:\n      - service1\n").fails("service1"),
        case("loader_test.go TestLoadExtensions (x- keys everywhere)")
            .yaml(
                r#"
                x-project: project
                configs:
                  x-config-name:
                    external: true
                    x-config-ext: config
                services:
                  another:
                    image: busybox
                    depends_on:
                      foo:
                        condition: service_started
                        x-depends-on: depends
                  foo:
                    image: busybox
                    x-foo: bar
                    healthcheck:
                      x-healthcheck: health
                    develop:
                      x-dev: dev
                "#,
            )
            .text("/x-project", "project")
            .text("/services/foo/x-foo", "bar")
            .text("/configs/x-config-name/x-config-ext", "config")
            .text("/services/foo/healthcheck/x-healthcheck", "health")
            .text("/services/foo/develop/x-dev", "dev")
            .text("/services/another/depends_on/foo/x-depends-on", "depends"),
        case("loader_test.go TestLoadDevelopConfig")
            .yaml(
                r#"
                services:
                  frontend:
                    image: example/webapp
                    build: ./webapp
                    develop:
                      watch:
                        - path: ./webapp/html
                          action: sync
                          initial_sync: true
                          target: /var/www
                          ignore:
                            - node_modules/
                  backend:
                    image: example/backend
                    build: ./backend
                    develop:
                      watch:
                        - path: ./backend/src
                          action: rebuild
                  proxy:
                    image: example/proxy
                    build: ./proxy
                    develop:
                      watch:
                        - path: ./proxy/proxy.conf
                          action: sync+restart
                          target: /etc/nginx/proxy.conf
                "#,
            )
            .at(
                "/services/frontend/develop/watch/0",
                r#"{"path":"<dir>/webapp/html","action":"sync","target":"/var/www","ignore":["node_modules/"],"initial_sync":true}"#,
            )
            .at("/services/backend/develop/watch/0", r#"{"path":"<dir>/backend/src","action":"rebuild"}"#)
            .at("/services/proxy/develop/watch/0", r#"{"path":"<dir>/proxy/proxy.conf","action":"sync+restart","target":"/etc/nginx/proxy.conf"}"#),
        case("loader_test.go TestLoadWithLabelFile")
            .yaml("\nservices:\n  service_1:\n    image: x\n    label_file: ./example1.label\n  service_2:\n    image: x\n    label_file:\n      - ./example2.label\n")
            .raw_file("example1.label", "# passed through\nFOO=foo_from_label_file\nLABEL.WITH.DOT=ok\nLABEL_WITH_UNDERSCORE=ok\n\n# overridden\nBAR=bar_from_label_file\nBAZ=baz_from_label_file\n")
            .raw_file("example2.label", "BAR=bar_from_label_file_2\nQUX=quz_from_label_file_2\n")
            .at(
                "/services/service_1/labels",
                r#"{"FOO":"foo_from_label_file","LABEL.WITH.DOT":"ok","LABEL_WITH_UNDERSCORE":"ok","BAR":"bar_from_label_file","BAZ":"baz_from_label_file"}"#,
            )
            .at("/services/service_2/labels", r#"{"BAR":"bar_from_label_file_2","QUX":"quz_from_label_file_2"}"#),
        case("project.go WithServicesLabelsResolved (labels win over label_file)")
            .yaml("\nservices:\n  web:\n    image: x\n    label_file: ./l.label\n    labels:\n      A: from-labels\n")
            .raw_file("l.label", "A=from-file\nB=file\n")
            .at("/services/web/labels", r#"{"A":"from-labels","B":"file"}"#),
        case("loader_test.go TestLoadServiceWithLabelFile_NotExists")
            .yaml("\nservices:\n  web:\n    image: x\n    label_file: ./missing.label\n")
            .fails("missing.label"),
        case("loader_test.go TestWithSelectedServicesOption_SkipsMissingEnvFile (no selection: an error)")
            .yaml("\nservices:\n  web:\n    image: nginx\n  other:\n    image: alpine\n    env_file:\n      - path: this-file-does-not-exist.env\n        required: true\n")
            .fails("this-file-does-not-exist.env"),
        case("loader_test.go TestWithSelectedServicesOption_SkipsMissingEnvFile (selected: ignored)")
            .yaml("\nservices:\n  web:\n    image: nginx\n  other:\n    image: alpine\n    env_file:\n      - path: this-file-does-not-exist.env\n        required: true\n")
            .select(&["web"])
            .at("/services/other", super::ABSENT),
        case("loader_test.go TestWithSelectedServicesOption (restricts the project)")
            .yaml("\nservices:\n  web:\n    image: nginx\n  api:\n    image: alpine\n  worker:\n    image: busybox\n")
            .select(&["web"])
            .text("/services/web/image", "nginx")
            .at("/services/api", super::ABSENT)
            .at("/services/worker", super::ABSENT),
        case("loader_test.go TestWithSelectedServicesOption (includes dependencies)")
            .yaml("\nservices:\n  web:\n    image: nginx\n    depends_on:\n      - api\n  api:\n    image: alpine\n  worker:\n    image: busybox\n")
            .select(&["web"])
            .text("/services/api/image", "alpine")
            .at("/services/worker", super::ABSENT),
        case("loader_test.go TestWithSelectedServicesOption (re-activates a profile-disabled service)")
            .yaml("\nservices:\n  web:\n    image: nginx\n  debug:\n    image: alpine\n    profiles:\n      - debug\n")
            .select(&["debug"])
            .text("/services/debug/image", "alpine")
            .at("/services/web", super::ABSENT),
        case("loader_test.go TestWithoutUnnecessaryResourcesOption (keeps all resources without pruning)")
            .yaml("\nservices:\n  web:\n    image: nginx\n    networks: [frontnet]\n    volumes: [data:/data]\n  worker:\n    image: busybox\n    networks: [backnet]\n    volumes: [tmp:/tmp]\nnetworks:\n  frontnet:\n  backnet:\nvolumes:\n  data:\n  tmp:\n")
            .select(&["web"])
            .text("/networks/backnet/name", "proj_backnet")
            .text("/volumes/tmp/name", "proj_tmp"),
        case("loader_test.go TestLoadWithExtends (compose-test-extends.yaml)")
            .yaml("\nname: compose-test-extends\nservices:\n  importer:\n    extends:\n      file: subdir/compose-test-extends-imported.yaml\n      service: imported\n")
            .file("subdir/compose-test-extends-imported.yaml", "\nservices:\n  imported:\n    image: nginx\n    container_name: ${SOURCE:-imported}\n    env_file:\n      - ./extra.env\n    volumes:\n      - /opt/data:/var/lib/mysql\n")
            .raw_file("subdir/extra.env", "SOURCE=extends\n")
            .text("/services/importer/image", "nginx")
            .text("/services/importer/container_name", "imported")
            .at("/services/importer/environment", r#"{"SOURCE":"extends"}"#)
            .text("/services/importer/env_file/0/path", "<dir>/subdir/extra.env")
            .at(
                "/services/importer/volumes/0",
                r#"{"type":"bind","source":"/opt/data","target":"/var/lib/mysql","bind":{"create_host_path":true}}"#,
            ),
    ]
}
