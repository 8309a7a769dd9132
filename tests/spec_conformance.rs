//! Compose conformance: cases written from what compose-go's own tests assert (each case names
//! the compose-go test it came from), run through berth's loader. No root needed.
//!
//! The test prints an agreement figure and fails on any disagreement: only behaviour berth
//! already shares with compose-go is listed here. Known remaining differences are in the
//! README's compatibility section, not here as failing cases.

use std::path::Path;

use berth::spec::load::{load, LoadError, LoadOptions};

/// What a case expects of loading.
enum Expect {
    /// Loads; each JSON pointer into `berth config`'s model has this JSON value (as text).
    Model(&'static [(&'static str, &'static str)]),
    /// Loads with a warning containing this text, and these model values.
    Warns(&'static str, &'static [(&'static str, &'static str)]),
    /// Fails with an error containing this text.
    Fails(&'static str),
}

struct Case {
    /// The compose-go test this case came from.
    source: &'static str,
    /// Files written to a fresh directory; the stack files are the ones not starting with `.`,
    /// `env/` or `lib/` (files other files name), loaded with `-f` in this order.
    files: &'static [(&'static str, &'static str)],
    /// Process environment.
    env: &'static [(&'static str, &'static str)],
    /// `-p`.
    project: Option<&'static str>,
    /// Services named on the command line (`config SERVICE…`).
    services: &'static [&'static str],
    expect: Expect,
}

const fn case(source: &'static str, files: &'static [(&'static str, &'static str)], expect: Expect) -> Case {
    Case { source, files, env: &[], project: None, services: &[], expect }
}

fn cases() -> Vec<Case> {
    use Expect::*;
    vec![
        // ---- interpolation (template/template_test.go) ----
        case(
            "template_test.go TestUnescaped",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    command: [\"a $ string\", \"^REGEX$\", \"$}\", \"$\"]\n")],
            Model(&[("/services/web/command", r#"["a $ string","^REGEX$","$}","$"]"#)]),
        ),
        case(
            "template_test.go TestUnescaped (shell command substitution)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    entrypoint: sh -c 'echo $(date) cost $5'\n")],
            Model(&[("/services/web/entrypoint", r#"["sh","-c","echo $(date) cost $5"]"#)]),
        ),
        case(
            "template_test.go TestEscaped",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    command: echo $${foo}\n")],
            Model(&[("/services/web/command", r#"["echo","${foo}"]"#)]),
        ),
        case(
            "template_test.go TestInvalid (`${`)",
            &[("compose.yaml", "services:\n  web:\n    image: \"x${\"\n")],
            Fails("invalid interpolation"),
        ),
        case(
            "template_test.go TestInvalid (`${ foo}`)",
            &[("compose.yaml", "services:\n  web:\n    image: \"${ foo}\"\n")],
            Fails("invalid interpolation"),
        ),
        case(
            "template_test.go TestInvalid (`${foo!}`)",
            &[("compose.yaml", "services:\n  web:\n    image: \"${foo!}\"\n")],
            Fails("invalid interpolation"),
        ),
        case(
            "template_test.go TestNoValueNoDefault (warns, substitutes empty)",
            &[("compose.yaml", "services:\n  web:\n    image: \"x${missing}\"\n")],
            Warns("variable `missing` is not set", &[("/services/web/image", r#""x""#)]),
        ),
        case(
            "template_test.go TestNonBraced",
            &[("compose.yaml", "services:\n  web:\n    image: $FOO-bar\n")],
            Model(&[("/services/web/image", r#""first-bar""#)]),
        )
        .with_env(&[("FOO", "first")]),
        case(
            "template_test.go TestDefaultsWithNestedExpansion",
            &[(
                "compose.yaml",
                "services:\n  web:\n    image: x\n    environment:\n      A: ok ${UNSET_VAR-$FOO}\n      B: ok ${UNSET_VAR-${FOO} ${FOO}}\n      C: ok ${BAR:-${FOO}}\n      D: ok ${BAR+$FOO ${FOO:+second}}\n",
            )],
            Model(&[(
                "/services/web/environment",
                r#"{"A":"ok first","B":"ok first first","C":"ok first","D":"ok first second"}"#,
            )]),
        )
        .with_env(&[("FOO", "first"), ("BAR", "")]),
        case(
            "template_test.go TestNoValueWithCurlyBracesDefault / TestValueWithCurlyBracesDefault",
            &[(
                "compose.yaml",
                "services:\n  web:\n    image: x\n    environment:\n      A: 'ok ${missing:-{\"json\":1}}'\n      B: 'ok ${missing-{\"json\":1}}'\n      C: 'ok ${JSON:-{\"json\":1}}'\n",
            )],
            Model(&[("/services/web/environment", r#"{"A":"ok {\"json\":1}","B":"ok {\"json\":1}","C":"ok {\"json\":2}"}"#)]),
        )
        .with_env(&[("JSON", "{\"json\":2}")]),
        case(
            "template_test.go TestMandatoryVariableErrors",
            &[("compose.yaml", "services:\n  web:\n    image: \"not ok ${UNSET_VAR:?Mandatory Variable Unset}\"\n")],
            Fails("Mandatory Variable Unset"),
        ),
        case(
            "template_test.go TestEmptyValueWithSoftDefault / TestEmptyValueWithHardDefault",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    environment:\n      S: ok ${BAR:-def}\n      H: ok ${BAR-def}\n")],
            Model(&[("/services/web/environment", r#"{"S":"ok def","H":"ok "}"#)]),
        )
        .with_env(&[("BAR", "")]),
        case(
            "loader_test.go TestProjectNameInterpolation (simple)",
            &[("compose.yaml", "name: interpolated\nservices:\n  web:\n    image: web\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n")],
            Model(&[("/services/web/container_name", r#""interpolated-web""#), ("/name", r#""interpolated""#)]),
        ),
        case(
            "loader_test.go TestProjectNameInterpolation (with override)",
            &[
                ("a.yaml", "name: interpolated\nservices:\n  web:\n    image: web\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n"),
                ("b.yaml", "name: overrided\nservices:\n  db:\n    image: db\n    container_name: ${COMPOSE_PROJECT_NAME}-db\n"),
                ("c.yaml", "services:\n  proxy:\n    image: proxy\n    container_name: ${COMPOSE_PROJECT_NAME}-proxy\n"),
            ],
            Model(&[
                ("/services/web/container_name", r#""overrided-web""#),
                ("/services/db/container_name", r#""overrided-db""#),
                ("/services/proxy/container_name", r#""overrided-proxy""#),
            ]),
        ),
        Case {
            project: Some("interpolated"),
            ..case(
                "loader_test.go TestProjectNameInterpolation (project name override)",
                &[("compose.yaml", "name: another_name\nservices:\n  web:\n    image: web\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n")],
                Model(&[("/services/web/container_name", r#""interpolated-web""#)]),
            )
        },
        // ---- project names (loader.go projectName / NormalizeProjectName) ----
        case(
            "loader.go NormalizeProjectName (name: from a file is normalized, not rejected)",
            &[("compose.yaml", "name: -My_App.V2\nservices:\n  web: {image: x}\n")],
            Model(&[("/name", r#""my_appv2""#)]),
        ),
        Case {
            project: Some("Bad Name"),
            ..case(
                "loader_test.go TestLoadProjectName (imperatively set name must be valid)",
                &[("compose.yaml", "services:\n  web: {image: x}\n")],
                Fails("invalid project name"),
            )
        },
        // ---- merge tags (loader/reset_test.go, merge_reset_test.go) ----
        case(
            "reset_test.go TestResetRemove",
            &[
                ("a.yaml", "name: test-reset\nservices:\n  web: {image: x}\nnetworks:\n  test:\n    name: test\n    external: true\n"),
                ("b.yaml", "networks:\n  test: !reset {}\n"),
            ],
            Model(&[("/networks/test", "null")]),
        ),
        case(
            "reset_test.go TestOverrideReplace",
            &[
                ("a.yaml", "name: test-override\nservices:\n  web: {image: x}\nnetworks:\n  test:\n    name: test\n    external: true\n"),
                ("b.yaml", "networks:\n  test: !override {}\n"),
            ],
            Model(&[("/networks/test/external", "false")]),
        ),
        case(
            "merge_reset_test.go Test_LoadWithReset",
            &[
                ("base.yml", "name: test\nservices:\n  foo:\n    build:\n      context: .\n      dockerfile: foo.Dockerfile\n    environment:\n      FOO: BAR\n"),
                ("override.yml", "services:\n  foo:\n    image: foo\n    build: !reset\n    environment:\n      FOO: !reset\n"),
            ],
            Model(&[("/services/foo/build", "null"), ("/services/foo/environment", "{}"), ("/services/foo/image", r#""foo""#)]),
        ),
        case(
            "reset_test.go TestResetRemove (on a sequence: `ports: !reset []`)",
            &[
                ("a.yaml", "services:\n  web:\n    image: x\n    ports: [\"8080:80\", \"9090:90\"]\n"),
                ("b.yaml", "services:\n  web:\n    ports: !reset []\n"),
            ],
            Model(&[("/services/web/ports", "null")]),
        ),
        case(
            "reset_test.go TestOverrideReplace (on a sequence)",
            &[
                ("a.yaml", "services:\n  web:\n    image: x\n    ports: [\"8080:80\", \"9090:90\"]\n"),
                ("b.yaml", "services:\n  web:\n    ports: !override [\"7070:70\"]\n"),
            ],
            Model(&[("/services/web/ports/0/target", "70"), ("/services/web/ports/1", "null")]),
        ),
        case(
            "merge_reset_test.go Test_DuplicateReset",
            &[("compose.yaml", "name: test\nservices:\n  foo:\n    image: x\n    command: hello\n    command: !reset hello world\n")],
            Fails("duplicate key `command`"),
        ),
        // ---- multi-document files and empty files (loader.go loadYamlFile / load) ----
        case(
            "loader.go loadYamlFile: each `---` document merged in order",
            &[("compose.yaml", "services:\n  web:\n    image: a\n    environment: {A: '1'}\n---\nservices:\n  web:\n    image: b\n    environment: {B: '2'}\n")],
            Model(&[("/services/web/image", r#""b""#), ("/services/web/environment", r#"{"A":"1","B":"2"}"#)]),
        ),
        case(
            "loader_test.go TestLoadWithEmptyFile / loader.go `empty compose file`",
            &[("compose.yaml", "")],
            Fails("empty stack file"),
        ),
        case(
            "loader.go loadYamlFile: an empty override file adds nothing",
            &[("a.yaml", "services:\n  web: {image: x}\n"), ("b.yaml", "# nothing\n")],
            Model(&[("/services/web/image", r#""x""#)]),
        ),
        // ---- env files (dotenv/godotenv_test.go, dotenv/parser.go) ----
        case(
            "godotenv_test.go TestUTF8BOM",
            &[(".env", "\u{feff}OPTION_A=1\n"), ("compose.yaml", "services:\n  web:\n    image: x\n    environment: {A: $OPTION_A}\n")],
            Model(&[("/services/web/environment/A", r#""1""#)]),
        ),
        case(
            "godotenv_test.go TestParsing (yaml style options)",
            &[(".env", "OPTION_A: 1\nOPTION_B: Foo=bar\nOPTION_C=1:B\n"), ("compose.yaml", "services:\n  web:\n    image: x\n    environment: {A: $OPTION_A, B: $OPTION_B, C: $OPTION_C}\n")],
            Model(&[("/services/web/environment", r#"{"A":"1","B":"Foo=bar","C":"1:B"}"#)]),
        ),
        case(
            "godotenv.go ReadWithLookup (keys starting with a digit are skipped)",
            &[(".env", "1BAD=x\nGOOD=y\n"), ("compose.yaml", "services:\n  web:\n    image: x\n    environment: {G: $GOOD}\n")],
            Model(&[("/services/web/environment/G", r#""y""#)]),
        ),
        case(
            "godotenv_test.go TestLoadQuotedEnv (`'Let\\'s go!'`)",
            &[(".env", "OPTION_K='Let\\'s go!'\n"), ("compose.yaml", "services:\n  web:\n    image: x\n    environment: {K: $OPTION_K}\n")],
            Model(&[("/services/web/environment/K", r#""Let's go!""#)]),
        ),
        case(
            "godotenv_test.go TestParsing (shell escape sequences, octal)",
            &[(".env", "KEY=\"Z\\aZ\\bZ\\fZ\\vZ\\0123Z\\x07\"\n"), ("compose.yaml", "services:\n  web:\n    image: x\n    environment: {K: $KEY}\n")],
            Model(&[("/services/web/environment/K", r#""Z\u0007Z\bZ\fZ\u000bZSZ\\x07""#)]),
        ),
        case(
            "godotenv_test.go TestParsing (inline comments, export, `=` in values)",
            &[
                (".env", "export OPTION_A=2\nFOO=bar #this is foo\nBAZ=123#not-an-inline-comment\nQ=\"bar#baz\" # comment\nE=foobar=\n"),
                ("compose.yaml", "services:\n  web:\n    image: x\n    environment: {A: $OPTION_A, F: $FOO, B: $BAZ, Q: $Q, E: $E}\n"),
            ],
            Model(&[("/services/web/environment", r#"{"A":"2","F":"bar","B":"123#not-an-inline-comment","Q":"bar#baz","E":"foobar="}"#)]),
        ),
        case(
            "godotenv_test.go TestUnterminatedQuotes",
            &[(".env", "KEY='value\n"), ("compose.yaml", "services:\n  web: {image: x}\n")],
            Fails("unterminated"),
        ),
        case(
            "template_test.go TestUnescaped via dotenv (`PASS=ab$`)",
            &[(".env", "PASS=ab$\n"), ("compose.yaml", "services:\n  web:\n    image: x\n    environment: {P: $PASS}\n")],
            Model(&[("/services/web/environment/P", r#""ab$""#)]),
        ),
        case(
            "godotenv_test.go TestSubstitutionsWithEnvFilePrecedence",
            &[
                (".env", "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\n"),
                ("compose.yaml", "services:\n  web:\n    image: x\n    environment: {A: $OPTION_A, B: $OPTION_B, C: $OPTION_C}\n"),
            ],
            Model(&[("/services/web/environment", r#"{"A":"5","B":"5","C":"5"}"#)]),
        )
        .with_env(&[("OPTION_A", "5")]),
        // ---- accepted by compose-go (loader/tests, schema) ----
        case(
            "loader/tests/deploy_test.go TestDeployRestartPolicy (condition is any string: unless-stopped)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    deploy:\n      restart_policy:\n        condition: unless-stopped\n")],
            Model(&[("/services/web/restart", r#""unless-stopped""#)]),
        ),
        case(
            "loader/tests/deploy_test.go TestDeployRestartPolicy (on-failure, max_attempts; honoured when `restart` is absent)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    deploy:\n      restart_policy:\n        condition: on-failure\n        max_attempts: 3\n")],
            Model(&[("/services/web/restart", r#""on-failure:3""#)]),
        ),
        case(
            "loader.go loadYamlFile (schema.Validate on the merged dict): partial depends_on in an override",
            &[
                ("a.yaml", "services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: service_started}\n  db: {image: y}\n"),
                ("b.yaml", "services:\n  web:\n    depends_on:\n      db: {required: false}\n"),
            ],
            Model(&[("/services/web/depends_on/db/required", "false")]),
        ),
        case(
            "loader/tests/devices_test.go TestDeviceMapping (`/dev/x:/dev/x:rwm`)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    devices: [\"/dev/fuse:/dev/fuse:rwm\"]\n")],
            Model(&[("/services/web/devices/0/permissions", r#""rwm""#)]),
        ),
        case(
            "loader/tests/devices_test.go TestDeviceMapping (single path)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    devices: [/dev/single, \"/dev/a:/dev/b:r\"]\n")],
            Model(&[
                ("/services/web/devices/0/source", r#""/dev/single""#),
                ("/services/web/devices/0/target", r#""/dev/single""#),
                ("/services/web/devices/1/target", r#""/dev/b""#),
                ("/services/web/devices/1/permissions", r#""r""#),
            ]),
        ),
        case(
            "loader/tests/gpus_test.go TestGpusAll",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    gpus: all\n")],
            Warns("gpus", &[]),
        ),
        case(
            "loader/tests/use_api_socket_test.go TestUseAPISocket",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    use_api_socket: true\n")],
            Warns("use_api_socket", &[]),
        ),
        case(
            "loader/tests/service_hooks_test.go TestServiceHooks (pre_start)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    pre_start:\n      - command: [echo, hi]\n")],
            Warns("pre_start", &[]),
        ),
        case(
            "loader/tests/build_extra_test.go TestBuildNoCacheFilter",
            &[("compose.yaml", "services:\n  web:\n    build:\n      context: .\n      no_cache_filter: [a]\n")],
            Warns("no_cache_filter", &[]),
        ),
        case(
            "loader/tests/models_test.go TestModels",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    models: [llm]\nmodels:\n  llm:\n    model: ai/smollm2\n")],
            Warns("models", &[]),
        ),
        case(
            "loader/tests/provider_test.go TestProvider",
            &[("compose.yaml", "services:\n  db:\n    provider:\n      type: awesomecloud\n      options: {type: mysql}\n")],
            Warns("provider", &[]),
        ),
        case(
            "loader_test.go TestLoadServiceWithLabelFile",
            &[("labels.txt", ""), ("compose.yaml", "services:\n  web:\n    image: x\n    label_file: ./labels.txt\n")],
            Warns("label_file", &[]),
        ),
        case(
            "loader/tests/networks_test.go TestServiceNetworks (ipv4_address, network without ipam)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    networks:\n      n:\n        ipv4_address: 172.30.0.10\nnetworks:\n  n: {}\n")],
            Warns("ipv4_address", &[]),
        ),
        case(
            "loader.go loadYamlFile (schema.Validate on the merged dict): partial provider in an override",
            &[
                ("a.yaml", "services:\n  db:\n    provider:\n      type: awesomecloud\n"),
                ("b.yaml", "services:\n  db:\n    provider:\n      options: {size: 1}\n"),
            ],
            Warns("provider", &[]),
        ),
        case(
            "loader/tests/provider_test.go TestProvider (`type` is required, on the merged files)",
            &[("a.yaml", "services:\n  db:\n    image: x\n"), ("b.yaml", "services:\n  db:\n    provider:\n      options: {size: 1}\n")],
            Fails("missing required key `type`"),
        ),
        case(
            "loader/tests/build_extra_test.go TestBuildNoCacheFilter (string form)",
            &[("compose.yaml", "services:\n  web:\n    build:\n      context: .\n      no_cache_filter: foo\n")],
            Warns("no_cache_filter", &[]),
        ),
        case(
            "loader/tests/depends_on_test.go TestDependsOnObject (a long entry without condition is an error)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    depends_on:\n      db: {required: true}\n  db: {image: y}\n")],
            Fails("missing required key `condition`"),
        ),
        case(
            "loader.go loadYamlFile: an override's `required:` keeps the base's condition",
            &[
                ("a.yaml", "services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: service_healthy}\n  db: {image: y}\n"),
                ("b.yaml", "services:\n  web:\n    depends_on:\n      db: {required: false}\n"),
            ],
            Model(&[("/services/web/depends_on/db/condition", r#""service_healthy""#)]),
        ),
        // ---- consistency (loader/validate.go checkConsistency, loader tests) ----
        case(
            "validate_test.go TestValidateNoBuildNoImage",
            &[("compose.yaml", "services:\n  web:\n    command: [echo]\n")],
            Fails("has neither an image nor a build context"),
        ),
        case(
            "loader_test.go TestLoadBindMountSourceMustNotBeEmpty",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    volumes:\n      - type: bind\n        target: /app\n")],
            Fails("has no `source`"),
        ),
        case(
            "loader_test.go TestInvalidExternalAndDriverCombination",
            &[("compose.yaml", "services:\n  web: {image: x}\nvolumes:\n  v: {external: true, driver: foo}\n")],
            Fails("is external and also sets `driver`"),
        ),
        case(
            "loader_test.go TestInvalidExternalAndLabelsCombination",
            &[("compose.yaml", "services:\n  web: {image: x}\nvolumes:\n  v: {external: true, labels: {a: b}}\n")],
            Fails("is external and also sets `labels`"),
        ),
        case(
            "validate.go checkConsistency (dockerfile vs dockerfile_inline; no test of its own)",
            &[("compose.yaml", "services:\n  web:\n    build: {context: ., dockerfile: D, dockerfile_inline: 'FROM x'}\n")],
            Fails("both `dockerfile` and `dockerfile_inline`"),
        ),
        case(
            "validate_test.go TestValidateMountConflict",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    tmpfs: [/foo, '/conflict:size=64m']\n    volumes: ['.:/bar', '.:/conflict']\n")],
            Fails("target /conflict is already mounted as tmpfs[1]"),
        ),
        case(
            "validate.go checkConsistency (cpus vs deploy.resources.limits.cpus)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    cpus: 1\n    deploy: {resources: {limits: {cpus: '2'}}}\n")],
            Fails("distinct values on `cpus`"),
        ),
        case(
            "validate.go checkConsistency (equal values agree)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    cpus: 1\n    mem_limit: 1g\n    deploy: {resources: {limits: {cpus: '1', memory: 1024M}}}\n")],
            Model(&[("/services/web/cpus", "1.0")]),
        ),
        case(
            "validate_test.go TestValidateWatch",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    develop: {watch: [{action: sync, path: ./src}]}\n")],
            Fails("has no `target`"),
        ),
        case(
            "validate.go checkConsistency / TestValidateDependsOn (required: false excuses only a disabled service)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    depends_on: {nope: {condition: service_started, required: false}}\n")],
            Fails("depends on undefined service"),
        ),
        case(
            "validate.go checkConsistency (ErrDisabled and not required: skipped)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    depends_on: {dbg: {condition: service_started, required: false}}\n  dbg: {image: x, profiles: [debug]}\n")],
            Model(&[("/services/web/image", "\"x\"")]),
        ),
        // ---- values (loader/tests, types, transform) ----
        case(
            "types/hostList.go NewHostsList (`h=ip1,ip2` is two addresses)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    extra_hosts: ['h=10.0.0.1,10.0.0.2', 'g:10.0.0.3']\n")],
            Model(&[("/services/web/extra_hosts/h", r#"["10.0.0.1","10.0.0.2"]"#), ("/services/web/extra_hosts/g", r#"["10.0.0.3"]"#)]),
        ),
        case(
            "dns_test.go TestDNSOmitEmpty",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    dns: ${UNSET_VAR}\n")],
            Model(&[("/services/web/dns", "[]")]),
        ),
        case(
            "transform/volume.go defaultVolumeBind (`bind: {}` creates the host path)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    volumes:\n      - {type: bind, source: ./d, target: /d, bind: {}}\n")],
            Model(&[("/services/web/volumes/0/bind/create_host_path", "true")]),
        ),
        case(
            "loader_test.go TestLoadWithPullPolicy... (every_<d> kept as written)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    pull_policy: every_2d\n")],
            Model(&[("/services/web/pull_policy", r#""every_2d""#)]),
        ),
        case(
            "types.go ServiceVolumeImage (type: image keeps image.subpath)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    volumes:\n      - {type: image, source: y, target: /y, image: {subpath: sub}}\n")],
            Model(&[("/services/web/volumes/0/image/subpath", r#""sub""#)]),
        ),
        case(
            "loader_test.go (build.shm_size is UnitBytes)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    build: {context: ., shm_size: 2gb}\n")],
            Warns("shm_size", &[("/services/web/build/shm_size", "2147483648")]),
        ),
        case(
            "environment_test.go TestEnvironmentWhitespace",
            &[("compose.yaml", "services:\n  test:\n    image: x\n    environment:\n      - DEBUG = true\n")],
            Fails("is declared with a trailing space"),
        ),
        case(
            "validate.go checkConsistency (build.platforms must include platform)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    platform: linux/arm64\n    build: {context: ., platforms: [linux/amd64]}\n")],
            Fails("build.platforms must include"),
        ),
        case(
            "validate.go checkConsistency (platform listed in build.platforms)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    platform: linux/amd64\n    build: {context: ., platforms: [linux/amd64, linux/arm64]}\n")],
            Warns("platforms", &[("/services/web/platform", r#""linux/amd64""#)]),
        ),
        case(
            "validate.go checkConsistency (additional_contexts service: unknown)",
            &[("compose.yaml", "services:\n  web:\n    build: {context: ., additional_contexts: {base: 'service:nope'}}\n")],
            Fails("declares unknown service `nope`"),
        ),
        case(
            "compose-spec.json (tmpfs.size is an integer or a string)",
            &[("compose.yaml", "services:\n  web:\n    image: x\n    volumes:\n      - {type: tmpfs, target: /t, tmpfs: {size: 1.5}}\n")],
            Fails("not a whole number of bytes"),
        ),
        // ---- extends (loader/extends_test.go) ----
        case(
            "extends_test.go TestExtendsWithServiceRef (depends_on travels; undefined is an error)",
            &[
                ("compose.yaml", "services:\n  bar:\n    extends: {file: ./lib/base.yaml, service: with_depends_on}\n"),
                ("lib/base.yaml", "services:\n  with_depends_on:\n    image: foo\n    depends_on: [zot]\n  zot: {image: hidden}\n"),
            ],
            Fails("depends on undefined service `zot`"),
        ),
        case(
            "extends_test.go TestExtendsWithServiceRef (volumes_from travels; undefined is an error)",
            &[
                ("compose.yaml", "services:\n  bar:\n    extends: {file: ./lib/base.yaml, service: with_volumes_from}\n"),
                ("lib/base.yaml", "services:\n  with_volumes_from:\n    image: foo\n    volumes_from: [zot]\n  zot: {image: hidden}\n"),
            ],
            Fails("undefined service `zot`"),
        ),
        case(
            "extends_test.go TestExtendsWithServiceRef (a local zot satisfies the inherited depends_on)",
            &[
                ("compose.yaml", "services:\n  bar:\n    extends: {file: ./lib/base.yaml, service: with_depends_on}\n  zot: {image: zot}\n"),
                ("lib/base.yaml", "services:\n  with_depends_on:\n    image: foo\n    depends_on: [zot]\n  zot: {image: hidden}\n"),
            ],
            Model(&[("/services/bar/depends_on/zot/condition", r#""service_started""#), ("/services/zot/image", r#""zot""#)]),
        ),
        case(
            "loader/extends.go getExtendsBaseFromFile (SkipValidation: only the result is validated)",
            &[
                ("compose.yaml", "services:\n  web:\n    extends: {file: lib/base.yaml, service: base}\n"),
                ("lib/base.yaml", "services:\n  base: {image: x}\n  broken: nil\n  odd: {image: y, not_a_key: 1}\nunknown_top: 1\n"),
            ],
            Model(&[("/services/web/image", r#""x""#)]),
        ),
        case(
            "loader/extends.go (the extended service itself is validated)",
            &[
                ("compose.yaml", "services:\n  web:\n    extends: {file: lib/base.yaml, service: base}\n"),
                ("lib/base.yaml", "services:\n  base: {image: x, not_a_key: 1}\n"),
            ],
            Fails("not_a_key"),
        ),
        // ---- selected services (docker compose: project.WithSelectedServices before the
        // services' environment is resolved) ----
        case(
            "docker compose config SERVICE (another service's missing env_file is not read)",
            &[("compose.yaml", "services:\n  a: {image: x, env_file: missing.env}\n  b: {image: x}\n")],
            Model(&[("/services/b/image", r#""x""#)]),
        )
        .selecting(&["b"]),
        case(
            "docker compose config SERVICE (a dependency's missing env_file is still an error)",
            &[("compose.yaml", "services:\n  a: {image: x, env_file: missing.env}\n  b: {image: x, depends_on: [a]}\n")],
            Fails("missing.env"),
        )
        .selecting(&["b"]),
        case(
            "docker compose up SERVICE (a container_name clash with a service that won't run)",
            &[("compose.yaml", "services:\n  a: {image: x, container_name: foo}\n  b: {image: x, container_name: foo}\n")],
            Model(&[("/services/b/container_name", r#""foo""#)]),
        )
        .selecting(&["b"]),
        // ---- include (loader/include.go, include_test.go) ----
        case(
            "include.go importResources (the same file included twice: a diamond)",
            &[
                ("compose.yaml", "include: [lib/a.yaml, lib/b.yaml]\nservices:\n  main: {image: m}\n"),
                ("lib/a.yaml", "include: [c.yaml]\nservices:\n  sa: {image: a}\n"),
                ("lib/b.yaml", "include: [c.yaml]\nservices:\n  sb: {image: b}\n"),
                ("lib/c.yaml", "services:\n  shared: {image: c}\n"),
            ],
            Model(&[("/services/shared/image", r#""c""#), ("/services/sa/image", r#""a""#)]),
        ),
        case(
            "include.go importResources (a local service overrides an included one: MergeYaml)",
            &[
                ("compose.yaml", "include: [lib/inc.yaml]\nservices:\n  web: {image: local}\n"),
                ("lib/inc.yaml", "services:\n  web: {image: included, environment: {A: '1'}}\n"),
            ],
            Model(&[("/services/web/image", r#""local""#), ("/services/web/environment/A", r#""1""#)]),
        ),
        case(
            "include_test.go (the include's env_file feeds bare environment entries)",
            &[
                ("compose.yaml", "include:\n  - path: lib/inc.yaml\n    env_file: lib/inc.env\n"),
                ("lib/inc.yaml", "services:\n  s: {image: x, environment: [FOO]}\n"),
                ("lib/inc.env", "FOO=from-include\n"),
            ],
            Model(&[("/services/s/environment/FOO", r#""from-include""#)]),
        ),
        case(
            "include.go ApplyInclude (project_directory is the base of relative paths)",
            &[
                ("compose.yaml", "include:\n  - path: lib/inc.yaml\n    project_directory: elsewhere\n"),
                ("lib/inc.yaml", "services:\n  s: {build: ./ctx}\n"),
            ],
            Model(&[("/services/s/build/context", r#""<dir>/elsewhere/ctx""#)]),
        ),
    ]
}

impl Case {
    fn with_env(mut self, env: &'static [(&'static str, &'static str)]) -> Case {
        self.env = env;
        self
    }

    fn selecting(mut self, services: &'static [&'static str]) -> Case {
        self.services = services;
        self
    }

    /// Ok(()) when berth agrees with compose-go on this case, else what differs.
    fn run(&self) -> Result<(), String> {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let dir = tmp.path().join("proj");
        let mut stack_files = Vec::new();
        for (name, text) in self.files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new("/"))).map_err(|e| e.to_string())?;
            std::fs::write(&path, text).map_err(|e| e.to_string())?;
            if !name.starts_with('.') && !name.starts_with("env/") && !name.starts_with("lib/") {
                stack_files.push(path.clone());
            }
        }
        let opts = LoadOptions {
            files: stack_files,
            project_name: self.project.map(str::to_string),
            working_dir: dir.clone(),
            environ: self.env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            enabled_services: self.services.iter().map(|s| s.to_string()).collect(),
            ..LoadOptions::default()
        };
        let result = load(&opts);
        let (checks, warning) = match (&self.expect, result) {
            (Expect::Fails(want), Err(e)) => {
                return message(&e)
                    .contains(want)
                    .then_some(())
                    .ok_or(format!("error `{}` lacks `{want}`", message(&e)));
            }
            (Expect::Fails(want), Ok(_)) => return Err(format!("loaded, but compose-go fails with `{want}`")),
            (_, Err(e)) => return Err(format!("failed: {}", message(&e))),
            (Expect::Model(checks), Ok(l)) => (checks, (None, l)),
            (Expect::Warns(w, checks), Ok(l)) => (checks, (Some(*w), l)),
        };
        let (want_warning, loaded) = warning;
        if let Some(w) = want_warning {
            let all: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
            if !all.iter().any(|m| m.contains(w)) {
                return Err(format!("no warning containing `{w}` in {all:?}"));
            }
        }
        let model = serde_json::to_value(&loaded.stack).map_err(|e| e.to_string())?;
        for (pointer, want) in checks.iter() {
            let got = model.pointer(pointer).cloned().unwrap_or(serde_json::Value::Null);
            let want = want.replace("<dir>", &dir.display().to_string());
            let want: serde_json::Value =
                serde_json::from_str(&want).map_err(|e| format!("bad case JSON {want}: {e}"))?;
            let zero = is_empty(&want) || want == serde_json::Value::Bool(false);
            if got != want && !(zero && is_empty(&got)) {
                return Err(format!("{pointer}: got {got}, compose-go has {want}"));
            }
        }
        Ok(())
    }
}

/// Absent, empty lists and empty maps all read as compose-go's zero value.
fn is_empty(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn message(e: &LoadError) -> String {
    e.to_string()
}

#[test]
fn berth_agrees_with_compose_go() {
    let cases = cases();
    let mut failures = Vec::new();
    for c in &cases {
        if let Err(why) = c.run() {
            failures.push(format!("{}: {why}", c.source));
        }
    }
    let agreed = cases.len() - failures.len();
    println!(
        "compose-go conformance: {agreed}/{} cases agree ({:.1}%)",
        cases.len(),
        100.0 * agreed as f64 / cases.len() as f64
    );
    assert!(failures.is_empty(), "disagreements with compose-go:\n{}", failures.join("\n"));
}
