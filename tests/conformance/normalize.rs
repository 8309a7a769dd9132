//! Normalization and project naming: compose-go's loader/normalize_test.go, paths_test.go,
//! cli/options_test.go (project names, files, variables) and the normalizations docker compose
//! applies on top (restart policy from deploy, pull_policy aliases).
//!
//! Skipped: paths_test.go TestResolveComposeFilePaths (a Go `Project` field), options_test.go
//! TestProjectComposefilesFromSetOfFiles, TestProjectComposefilesFromWorkingDir (Go `Project`
//! fields; berth's stack files are checked in tests/spec_load.rs), TestProjectComposefilesFromStdin
//! (stdin; tests/cli_compose.rs runs `-f -`), TestProjectName's "by name empty working dir" and
//! "must not come from root directory" (a Go option naming a directory that is not the files'),
//! TestProjectWithDiscardEnvFile (a Go option), TestProjectName "by .env"'s COMPOSE_FILE (read by
//! berth's CLI, src/cli/compose_env.rs, and tested through it in tests/cli_compose.rs; the
//! name from `.env` is kept here).

use super::{case, Case};

pub fn cases() -> Vec<Case> {
    let mut v = normalize();
    v.extend(names());
    v.extend(compose());
    v
}

fn normalize() -> Vec<Case> {
    vec![
        case("normalize_test.go TestNormalizeNetworkNames")
            .yaml(
                "\nname: myproject\nservices:\n  foo:\n    build:\n      context: ./testdata\n      args:\n        FOO: null\n        ZOT: null\nnetworks:\n  myExternalnet:\n    external: true\n  myNamedNet:\n    name: CustomName\n  mynet: {}\n",
            )
            .env(&[("FOO", "BAR")])
            .text("/services/foo/build/dockerfile", "Dockerfile")
            .at("/services/foo/build/args", r#"{"FOO":"BAR"}"#)
            .at("/services/foo/networks", r#"{"default":null}"#)
            .text("/networks/default/name", "myproject_default")
            .at("/networks/myExternalnet", r#"{"name":"myExternalnet","external":true}"#)
            .text("/networks/myNamedNet/name", "CustomName")
            .text("/networks/mynet/name", "myproject_mynet"),
        case("normalize_test.go TestNormalizeVolumes")
            .yaml("\nname: myproject\nservices:\n  s: {image: x}\nvolumes:\n  myExternalVol:\n    external: true\n  myvol: {}\n  myNamedVol:\n    name: CustomName\n")
            .at("/volumes/myExternalVol", r#"{"name":"myExternalVol","external":true}"#)
            .text("/volumes/myvol/name", "myproject_myvol")
            .text("/volumes/myNamedVol/name", "CustomName"),
        case("normalize_test.go TestNormalizeDependsOn (implicit dependencies)")
            .yaml(
                "\nname: myproject\nservices:\n  foo:\n    image: x\n    depends_on:\n      bar:\n        condition: service_healthy\n        required: true\n        restart: true\n    network_mode: service:zot\n  bar:\n    image: x\n    volumes_from:\n      - zot\n      - container:xxx\n  zot: {image: x}\n",
            )
            .at("/services/bar/depends_on", r#"{"zot":{"condition":"service_started","required":true}}"#)
            .at(
                "/services/foo/depends_on",
                r#"{"bar":{"condition":"service_healthy","required":true,"restart":true},"zot":{"condition":"service_started","required":true,"restart":true}}"#,
            )
            .at("/services/zot/networks", r#"{"default":null}"#),
        case("normalize_test.go TestNormalizeImplicitDependencies (cgroup: service: is refused by the schema: left out)")
            .yaml(
                "\nname: myproject\nservices:\n  test:\n    image: x\n    ipc: service:foo\n    uts: service:baz\n    pid: service:qux\n    volumes_from: [quux]\n    links: [corge]\n    depends_on:\n      foo:\n        condition: service_healthy\n  foo: {image: x}\n  bar: {image: x}\n  baz: {image: x}\n  qux: {image: x}\n  quux: {image: x}\n  corge: {image: x}\n",
            )
            .at(
                "/services/test/depends_on",
                r#"{"foo":{"condition":"service_healthy","required":true},
                    "baz":{"condition":"service_started","restart":true,"required":true},
                    "qux":{"condition":"service_started","restart":true,"required":true},
                    "quux":{"condition":"service_started","required":true},
                    "corge":{"condition":"service_started","restart":true,"required":true}}"#,
            ),
        case("normalize_test.go TestImplicitContextPath (build: {})")
            .yaml("\nname: myproject\nservices:\n  test:\n    build: {}\n")
            .at("/services/test/build", r#"{"context":"<dir>","dockerfile":"Dockerfile"}"#),
        case("normalize_test.go TestNormalizeDefaultNetwork")
            .yaml("\nname: myproject\nservices:\n  test:\n    image: test\n")
            .at("/networks", r#"{"default":{"name":"myproject_default"}}"#)
            .at("/services/test/networks", r#"{"default":null}"#),
        case("normalize_test.go TestNormalizeCustomNetwork (no default network when unused)")
            .yaml("\nname: myproject\nservices:\n  test:\n    image: x\n    networks:\n      my_network: null\nnetworks:\n  my_network: null\n")
            .at("/networks", r#"{"my_network":{"name":"myproject_my_network"}}"#)
            .at("/services/test/networks", r#"{"my_network":null}"#),
        case("normalize_test.go TestNormalizeEnvironment")
            .yaml("\nname: myproject\nservices:\n  test:\n    image: x\n    environment:\n      - FOO\n      - BAR\n      - ZOT=QIX\n")
            .env(&[("BAR", "bar"), ("ZOT", "zot")])
            .at("/services/test/environment", r#"{"FOO":null,"BAR":"bar","ZOT":"QIX"}"#),
        case("normalize_test.go TestNormalizePreStartInheritsServiceImage")
            .yaml(
                "\nname: myproject\nservices:\n  app:\n    image: alpine\n    pre_start:\n      - command: [\"migrate\"]\n      - image: busybox\n        command: [\"chown\", \"-R\", \"1000:1000\", \"/data\"]\n  builder:\n    build:\n      context: .\n    pre_start:\n      - command: [\"init\"]\n  hybrid:\n    image: ubuntu\n    build:\n      context: .\n    pre_start:\n      - command: [\"bootstrap\"]\n",
            )
            .model(
                &[
                    ("/services/app/pre_start/0/image", r#""alpine""#),
                    ("/services/app/pre_start/1/image", r#""busybox""#),
                    ("/services/builder/pre_start/0/image", "null"),
                    ("/services/hybrid/pre_start/0/image", r#""ubuntu""#),
                ],
            ),
        case("normalize.go Normalize (network_mode: no default network)")
            .yaml("\nname: myproject\nservices:\n  test:\n    image: x\n    network_mode: host\n")
            .at("/networks", "{}")
            .at("/services/test/networks", "{}"),
        case("normalize.go Normalize (networks: {} means the default network)")
            .yaml("\nname: myproject\nservices:\n  test:\n    image: x\n    networks: {}\n")
            .at("/services/test/networks", r#"{"default":null}"#),
        case("normalize.go Normalize (pull_policy if_not_present is missing)")
            .yaml("\nservices:\n  test:\n    image: x\n    pull_policy: if_not_present\n")
            .text("/services/test/pull_policy", "missing"),
        case("normalize.go setNameFromKey (configs and secrets are named)")
            .yaml("\nname: myproject\nservices:\n  s: {image: x}\nconfigs:\n  c:\n    file: ./c\n  e:\n    external: true\nsecrets:\n  s:\n    file: ./s\n")
            .text("/configs/c/name", "myproject_c")
            .text("/configs/e/name", "e")
            .text("/secrets/s/name", "myproject_s"),
        case("transform/secrets.go (a service secret's target defaults to /run/secrets/<source>)")
            .yaml("\nservices:\n  s:\n    image: x\n    secrets: [tok]\nsecrets:\n  tok:\n    file: ./t\n")
            .text("/services/s/secrets/0/target", "/run/secrets/tok"),
        case("paths_test.go TestResolveBuildContextPaths")
            .yaml("\nservices:\n  foo:\n    build:\n      context: ./testdata\n      dockerfile: Dockerfile-sample\n")
            .at("/services/foo/build", r#"{"context":"<dir>/testdata","dockerfile":"Dockerfile-sample"}"#),
        case("paths_test.go TestResolveAdditionalContexts")
            .yaml(
                "\nservices:\n  test:\n    build:\n      context: .\n      dockerfile: Dockerfile\n      additional_contexts:\n        image: docker-image://foo\n        oci:  oci-layout://foo\n        abs_path: /dir\n        github:   github.com/compose-spec/compose-go\n        rel_path: ./testdata\n",
            )
            .at(
                "/services/test/build/additional_contexts",
                r#"{"image":"docker-image://foo","oci":"oci-layout://foo","abs_path":"/dir","github":"github.com/compose-spec/compose-go","rel_path":"<dir>/testdata"}"#,
            ),
        case("paths.go ResolveRelativePaths (a relative env_file, secret, config and watch path)")
            .yaml("\nservices:\n  s:\n    image: x\n    env_file: ./e.env\n    develop:\n      watch:\n        - path: ./src\n          action: rebuild\nsecrets:\n  s:\n    file: ./s.txt\nconfigs:\n  c:\n    file: ./c.txt\n")
            .raw_file("e.env", "")
            .text("/services/s/env_file/0/path", "<dir>/e.env")
            .text("/services/s/develop/watch/0/path", "<dir>/src")
            .text("/secrets/s/file", "<dir>/s.txt")
            .text("/configs/c/file", "<dir>/c.txt"),
    ]
}

/// Project names (cli/options_test.go TestProjectName, loader.go NormalizeProjectName).
fn names() -> Vec<Case> {
    let simple = "\nservices:\n  simple:\n    image: nginx\n";
    vec![
        case("options_test.go TestProjectName (by name)")
            .yaml(simple)
            .project("my_project")
            .text("/name", "my_project"),
        case("options_test.go TestProjectName (by name start with number)")
            .yaml(simple)
            .project("42my_project_num")
            .text("/name", "42my_project_num"),
        case("options_test.go TestProjectName (by COMPOSE_PROJECT_NAME, starting with a number)")
            .yaml(simple)
            .env(&[("COMPOSE_PROJECT_NAME", "42my_project_env")])
            .text("/name", "42my_project_env"),
        case("options_test.go TestProjectName (by name start with invalid char '-')")
            .yaml(simple)
            .project("-my_project")
            .fails("-my_project"),
        case("options_test.go TestProjectName (COMPOSE_PROJECT_NAME starting with '-')")
            .yaml(simple)
            .env(&[("COMPOSE_PROJECT_NAME", "-my_project")])
            .fails("-my_project"),
        case("options_test.go TestProjectName (by name start with invalid char '_')")
            .yaml(simple)
            .project("_my_project")
            .fails("_my_project"),
        case("options_test.go TestProjectName (COMPOSE_PROJECT_NAME starting with '_')")
            .yaml(simple)
            .env(&[("COMPOSE_PROJECT_NAME", "_my_project")])
            .fails("_my_project"),
        case("options_test.go TestProjectName (by name contains dots)")
            .yaml(simple)
            .project("www.my.project")
            .fails("www.my.project"),
        case("options_test.go TestProjectName (COMPOSE_PROJECT_NAME contains dots)")
            .yaml(simple)
            .env(&[("COMPOSE_PROJECT_NAME", "www.my.project")])
            .fails("www.my.project"),
        case("options_test.go TestProjectName (by name uppercase)")
            .yaml(simple)
            .project("MY_PROJECT")
            .fails("MY_PROJECT"),
        case("options_test.go TestProjectName (COMPOSE_PROJECT_NAME uppercase)")
            .yaml(simple)
            .env(&[("COMPOSE_PROJECT_NAME", "MY_PROJECT")])
            .fails("MY_PROJECT"),
        case("options_test.go TestProjectName (by compose file parent dir)")
            .yaml(simple)
            .dir_name("simple")
            .text("/name", "simple"),
        case("options_test.go TestProjectName (by compose file parent dir special)")
            .yaml(simple)
            .dir_name("UNNORMALIZED PATH")
            .text("/name", "unnormalizedpath"),
        case("options_test.go TestProjectName (by COMPOSE_PROJECT_NAME)")
            .yaml(simple)
            .env(&[("COMPOSE_PROJECT_NAME", "my_project_from_env")])
            .text("/name", "my_project_from_env"),
        case("options_test.go TestProjectName (by .env)")
            .yaml(simple)
            .raw_file(".env", "COMPOSE_PROJECT_NAME=my_project_from_dot_env\nPORT=8000\n")
            .text("/name", "my_project_from_dot_env"),
        case("options_test.go TestProjectName (by name in compose.yaml with variable)")
            .yaml("\nname: test-${TEST}-test\nservices:\n  simple:\n    image: nginx\n")
            .env(&[("TEST", "expected")])
            .text("/name", "test-expected-test"),
        case("options_test.go TestProjectFromSetOfFiles (an override file)")
            .stack_file("compose.yaml", simple)
            .stack_file("compose-with-overrides.yaml", "\nservices:\n  simple:\n    image: haproxy\n")
            .project("my_project")
            .text("/services/simple/image", "haproxy"),
        case("options_test.go TestProjectNameFromWorkingDir (--project-directory names the project)")
            .yaml(simple)
            .file("env-file/keep", "")
            .project_dir("env-file")
            .text("/name", "env-file"),
        case("loader.go NormalizeProjectName (name: from a file is normalized, not rejected)")
            .yaml("\nname: -My_App.V2\nservices:\n  web: {image: x}\n")
            .text("/name", "my_appv2"),
        case("loader.go projectName (the last file that sets a name wins)")
            .stack_file("a.yaml", "\nname: first\nservices:\n  web: {image: x}\n")
            .stack_file("b.yaml", "\nname: second\n")
            .text("/name", "second"),
        case("loader.go projectName (-p wins over name:)")
            .yaml("\nname: fromfile\nservices:\n  web: {image: x}\n")
            .project("fromflag")
            .text("/name", "fromflag"),
        case("loader.go projectName (COMPOSE_PROJECT_NAME wins over name:)")
            .yaml("\nname: fromfile\nservices:\n  web: {image: x}\n")
            .env(&[("COMPOSE_PROJECT_NAME", "fromenv")])
            .text("/name", "fromenv"),
        case("loader_test.go TestLoadProjectName (project name from options, imperatively set)")
            .yaml("\nservices:\n  web:\n    image: web\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n")
            .project("testproject")
            .text("/services/web/container_name", "testproject-web"),
    ]
}

/// docker compose's own normalizations on top of compose-go's model.
fn compose() -> Vec<Case> {
    vec![
        case("loader/tests/deploy_test.go TestDeployRestartPolicy / docker compose (condition unless-stopped)")
            .yaml("\nservices:\n  web:\n    image: x\n    deploy:\n      restart_policy:\n        condition: unless-stopped\n")
            .text("/services/web/restart", "unless-stopped"),
        case("loader/tests/deploy_test.go TestDeployRestartPolicy / docker compose (on-failure, max_attempts)")
            .yaml("\nservices:\n  web:\n    image: x\n    deploy:\n      restart_policy:\n        condition: on-failure\n        max_attempts: 3\n")
            .text("/services/web/restart", "on-failure:3"),
        case("docker compose create.go mapRestartPolicyCondition ( condition any is always)")
            .yaml("\nservices:\n  web:\n    image: x\n    deploy:\n      restart_policy:\n        condition: any\n")
            .text("/services/web/restart", "always"),
        case("docker compose create.go mapRestartPolicyCondition ( condition none is no)")
            .yaml("\nservices:\n  web:\n    image: x\n    deploy:\n      restart_policy:\n        condition: none\n")
            .at("/services/web/restart", "null"),
        case("docker compose create.go getRestartPolicy (deploy.restart_policy wins over `restart`)")
            .yaml("\nservices:\n  web:\n    image: x\n    restart: always\n    deploy:\n      restart_policy:\n        condition: on-failure\n")
            .text("/services/web/restart", "on-failure"),
        case("loader.go (a `${VAR}` in `dns` that is unset leaves no entry)").yaml("\nservices:\n  web:\n    image: x\n    dns: [\"${UNSET}\", 1.1.1.1]\n").at("/services/web/dns", r#"["1.1.1.1"]"#),
    ]
}
