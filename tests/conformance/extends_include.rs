//! `extends` and `include`: compose-go's loader/extends_test.go, include_test.go, the extends and
//! include cases of loader_test.go and override_test.go, and their testdata (rewritten).
//!
//! Skipped: the `extends` event counts of TestExtends, TestLoadExtendsSameFile,
//! TestLoadExtendsListener and TestLoadExtendsListenerMultipleFiles (a Go listener API; the
//! loaded values of those tests are kept), TestIncludeWithProjectDirectory's Windows variant.

use super::{case, Case};

pub fn cases() -> Vec<Case> {
    let mut v = extends();
    v.extend(include());
    v
}

/// testdata/extends/base.yaml, rewritten.
const BASE: &str = r#"
services:
  base:
    image: base
  another:
    extends: base
  with-port:
    image: p
    ports:
      - 8000:8000
  withUlimits:
    image: test
    ulimits:
      nproc: 65535
      nofile:
        soft: 20000
        hard: 40000
  with-build:
    extends:
      file: sibling.yaml
      service: test
  nil: #left intentionally empty
"#;

fn with_base(source: &str, main: &str) -> Case {
    case(source).yaml(main).file("lib/base.yaml", BASE).file("lib/sibling.yaml", "\nservices:\n  test:\n    build: .\n")
}

fn extends() -> Vec<Case> {
    vec![
        with_base(
            "extends_test.go TestExtends",
            "\nservices:\n  test1:\n    extends:\n      file: lib/base.yaml\n      service: base\n    hostname: test1\n  test2:\n    extends:\n      file: lib/base.yaml\n      service: base\n    hostname: test2\n  test3:\n    extends:\n      file: lib/base.yaml\n      service: another\n    hostname: test3\n",
        )
        .text("/services/test1/hostname", "test1")
        .text("/services/test2/image", "base")
        .text("/services/test3/image", "base")
        .text("/services/test3/hostname", "test3"),
        with_base("extends_test.go TestExtendsPort", "\nservices:\n  test:\n    image: test\n    extends:\n      file: lib/base.yaml\n      service: with-port\n")
            .at("/services/test/ports/0/target", "8000"),
        with_base("extends_test.go TestExtendsUlimits", "\nservices:\n  test:\n    extends:\n      file: lib/base.yaml\n      service: withUlimits\n")
            .at("/services/test/ulimits/nproc", r#"{"soft":65535,"hard":65535}"#),
        with_base("extends_test.go TestExtendsRelativePath (a base's build context is relative to its file)", "\nservices:\n  test:\n    extends:\n      file: lib/base.yaml\n      service: with-build\n")
            .text("/services/test/build/context", "<dir>/lib"),
        with_base("extends_test.go TestExtendsNil (extending an empty service)", "\nservices:\n  test:\n    image: test\n    extends:\n      file: lib/base.yaml\n      service: nil\n")
            .text("/services/test/image", "test"),
        with_base("extends_test.go TestExtendsWihtMissingService", "\nservices:\n  test:\n    image: test\n    extends:\n      file: lib/base.yaml\n")
            .fails("service"),
        case("extends_test.go TestIncludeWithExtends (extends inside an included file)")
            .yaml("\nname: test-include-with-extends\ninclude:\n  - lib/nested.yaml\n")
            .file("lib/nested.yaml", "\nservices:\n  with-build:\n    extends:\n      file: sibling.yaml\n      service: test\n")
            .file("lib/sibling.yaml", "\nservices:\n  test:\n    build: .\n")
            .text("/services/with-build/build/context", "<dir>/lib"),
        case("extends_test.go TestExtendsPortOverride (extending a service of an earlier -f file)")
            .stack_file("ports.yaml", "\nservices:\n  test:\n    image: test\n    ports:\n      - 8080:8080\n")
            .stack_file("override.yaml", "\nservices:\n  test:\n    extends:\n      file: ports.yaml\n      service: test\n")
            .at("/services/test/ports/1", super::ABSENT)
            .at("/services/test/ports/0/target", "8080"),
        case("extends_test.go TestLoadExtendsSameFile (a base extending within its own file)")
            .yaml("\nservices:\n  out-base:\n    extends:\n      file: sub/compose.yaml\n      service: base\n  out-service:\n    extends:\n      file: sub/compose.yaml\n      service: service\n")
            .file("sub/compose.yaml", "\nservices:\n  base:\n    build:\n      context: ..\n  service:\n    extends: base\n    build:\n      target: target\n")
            .text("/services/out-base/build/context", "<dir>")
            .text("/services/out-service/build/context", "<dir>")
            .text("/services/out-service/build/target", "target"),
        case("extends_test.go TestExtendsReset (a base with !reset)")
            .yaml("\nservices:\n  test:\n    extends:\n      file: lib/reset.yaml\n      service: base\n")
            .file("lib/reset.yaml", "\nservices:\n  init:\n    image: alpine:latest\n    command: \"sleep infinity\"\n  base:\n    extends: { service: init }\n    command: !reset\n")
            .at("/services/test/command", super::ABSENT)
            .text("/services/test/image", "alpine:latest"),
        case("extends_test.go TestExtendsWithInterpolation (a base file is interpolated)")
            .yaml("\nservices:\n  test:\n    extends: { file: lib/interpolated.yaml, service: foo }\n")
            .file("lib/interpolated.yaml", "\nservices:\n  foo:\n    image: bash\n    volumes:\n      - ${SOURCE:-/dev/null}:/tmp/foo:ro\n")
            .text("/services/test/volumes/0/source", "/dev/null"),
        case("extends_test.go TestLoadExtendsDependsOn (!override on an inherited depends_on)")
            .yaml("\nservices:\n  service_a:\n    image: a\n    depends_on:\n      - service_c\n  service_b:\n    extends: service_a\n    depends_on: !override\n      - service_a\n  service_c:\n    image: c\n")
            .at("/services/service_b/depends_on", r#"{"service_a":{"condition":"service_started","required":true}}"#),
        case("extends_test.go TestLoadExtendsListener (a chain of extends in one file)")
            .yaml("\nservices:\n  foo:\n    image: busybox\n    extends: bar\n  bar:\n    image: alpine\n    command: echo\n    extends: wee\n  wee:\n    extends: last\n    command: echo\n  last:\n    image: python\n")
            .text("/services/foo/image", "busybox")
            .at("/services/foo/command", r#"["echo"]"#)
            .text("/services/wee/image", "python"),
        case("extends_test.go TestLoadExtendsListenerMultipleFiles")
            .yaml("\nservices:\n  a:\n    extends:\n      file: ./sub/compose.yaml\n      service: b\n")
            .file("sub/compose.yaml", "\nservices:\n  b:\n    extends: c\n    build:\n      target: fake\n  c:\n    command: echo\n")
            .text("/services/a/build/target", "fake")
            .at("/services/a/command", r#"["echo"]"#),
        case("loader_test.go TestLoadExtends (extends: NAME)")
            .yaml("\nservices:\n  foo:\n    image: busybox\n    extends: bar\n  bar:\n    image: alpine\n    command: echo\n")
            .text("/services/foo/image", "busybox")
            .at("/services/foo/command", r#"["echo"]"#),
        case("loader_test.go TestLoadExtendsOverrideCommand")
            .yaml("\nservices:\n  foo:\n    image: busybox\n    extends:\n      service: bar\n    command: \"/bin/ash -c \\\"rm -rf /tmp/might-not-exist\\\"\"\n  bar:\n    image: alpine\n    command: \"/bin/ash -c \\\"echo Oh no...\\\"\"\n")
            .at("/services/foo/command", r#"["/bin/ash","-c","rm -rf /tmp/might-not-exist"]"#),
        case("loader_test.go TestLoadExtendsMultipleFiles (a base without context builds in the project directory)")
            .yaml("\nservices:\n  a:\n    extends:\n      file: ./a/compose.yaml\n      service: a\n  b:\n    extends:\n      file: ./b/compose.yaml\n      service: b\n")
            .file("a/compose.yaml", "\nservices:\n  a:\n    build: .\n")
            .file("b/compose.yaml", "\nservices:\n  b:\n    build:\n      target: fake\n")
            .text("/services/a/build/context", "<dir>/a")
            .text("/services/b/build/context", "<dir>"),
        case("loader_test.go TestLoadExtendsWihReset")
            .yaml("\nservices:\n  foo:\n    extends:\n      service: bar\n    volumes: !reset []\n  bar:\n    image: alpine\n    command: echo\n    volumes:\n       - .:/src\n")
            .at("/services/foo/volumes", "[]"),
        case("override_test.go TestOverrideMiddle (!override through two extends)")
            .yaml(
                "\nname: test\nservices:\n  test:\n    image: test\n    extends:\n      file: ./override.yaml\n      service: override\n    volumes:\n      - /zot:/zot\n    networks: !override\n      - zot\nnetworks:\n  zot: {}\n",
            )
            .file("base.yaml", "\nservices:\n  base:\n    volumes:\n      - /foo:/foo\n    networks:\n      - foo\n")
            .file(
                "override.yaml",
                "\nservices:\n  override:\n    extends:\n      file: ./base.yaml\n      service: base\n    volumes: !override\n      -  /bar:/bar\n    networks: !override\n      - bar\n",
            )
            .at(
                "/services/test/volumes",
                r#"[{"type":"bind","source":"/bar","target":"/bar","bind":{"create_host_path":true}},{"type":"bind","source":"/zot","target":"/zot","bind":{"create_host_path":true}}]"#,
            )
            .at("/services/test/networks", r#"{"zot":null}"#),
        case("override_test.go TestOverrideSelfExtends")
            .yaml(
                r#"
                services:
                  depend_base:
                    image: nginx
                    ports:
                      - "8092:80"
                  depend_one:
                    image: nginx
                    ports:
                      - "8091:80"
                  depend_two:
                    extends:
                      service: depend_one
                  main_one:
                    image: nginx
                    depends_on:
                      - depend_one
                    ports:
                      - "8090:80"
                  main_two:
                    extends: main_one
                    depends_on: !override
                      - depend_two
                  main:
                    extends:
                      service: main_two
                    depends_on:
                      - depend_base
                "#,
            )
            .at(
                "/services/main/depends_on",
                r#"{"depend_two":{"condition":"service_started","required":true},"depend_base":{"condition":"service_started","required":true}}"#,
            ),
        case("extends_test.go TestExtendsWithServiceRef (depends_on travels; undefined is an error)")
            .yaml("\nservices:\n  bar:\n    extends: {file: ./lib/base.yaml, service: with_depends_on}\n")
            .file("lib/base.yaml", DEPENDS)
            .fails("zot"),
        case("extends_test.go TestExtendsWithServiceRef (volumes_from travels; undefined is an error)")
            .yaml("\nservices:\n  bar:\n    extends: {file: ./lib/base.yaml, service: with_volumes_from}\n")
            .file("lib/base.yaml", DEPENDS)
            .fails("zot"),
        case("extends_test.go TestExtendsWithServiceRef (ipc: service: travels; undefined is an error)")
            .yaml("\nservices:\n  bar:\n    extends: {file: ./lib/base.yaml, service: with_ipc}\n")
            .file("lib/base.yaml", DEPENDS)
            .fails("zot"),
        case("extends_test.go TestExtendsWithServiceRef (network_mode: service: travels; undefined is an error)")
            .yaml("\nservices:\n  bar:\n    extends: {file: ./lib/base.yaml, service: with_network_mode}\n")
            .file("lib/base.yaml", DEPENDS)
            .fails("zot"),
        case("extends_test.go TestExtendsWithServiceRef (a local zot satisfies depends_on)")
            .yaml("\nservices:\n  bar:\n    extends: {file: ./lib/base.yaml, service: with_depends_on}\n  zot:\n    image: zot\n")
            .file("lib/base.yaml", DEPENDS)
            .text("/services/bar/depends_on/zot/condition", "service_started")
            .text("/services/zot/image", "zot"),
        case("extends_test.go TestExtendsWithServiceRef (a local zot satisfies volumes_from)")
            .yaml("\nservices:\n  bar:\n    extends: {file: ./lib/base.yaml, service: with_volumes_from}\n  zot:\n    image: zot\n")
            .file("lib/base.yaml", DEPENDS)
            .at("/services/bar/volumes_from", r#"["zot"]"#),
        case("extends_test.go TestExtendsWithServiceRef (a local zot satisfies ipc)")
            .yaml("\nservices:\n  bar:\n    extends: {file: ./lib/base.yaml, service: with_ipc}\n  zot:\n    image: zot\n")
            .file("lib/base.yaml", DEPENDS)
            .text("/services/bar/ipc", "service:zot"),
        case("extends_test.go TestExtendsWithServiceRef (a local zot satisfies network_mode)")
            .yaml("\nservices:\n  bar:\n    extends: {file: ./lib/base.yaml, service: with_network_mode}\n  zot:\n    image: zot\n")
            .file("lib/base.yaml", DEPENDS)
            .text("/services/bar/network_mode", "service:zot"),
        case("loader/extends.go getExtendsBaseFromFile (SkipValidation: only the result is validated)")
            .yaml("\nservices:\n  web:\n    extends: {file: lib/base.yaml, service: base}\n")
            .file("lib/base.yaml", "\nservices:\n  base: {image: x}\n  broken: nil\n  odd: {image: y, not_a_key: 1}\nunknown_top: 1\n")
            .text("/services/web/image", "x"),
        case("loader/extends.go (the extended service itself is validated)")
            .yaml("\nservices:\n  web:\n    extends: {file: lib/base.yaml, service: base}\n")
            .file("lib/base.yaml", "\nservices:\n  base: {image: x, not_a_key: 1}\n")
            .fails("not_a_key"),
        case("loader/extends.go (extending an undefined service)").yaml("\nservices:\n  web:\n    image: x\n    extends: nope\n").fails("nope"),
        case("loader/extends.go (an extends cycle)")
            .yaml("\nservices:\n  a:\n    image: x\n    extends: b\n  b:\n    image: x\n    extends: a\n")
            .fails("compose.yaml"),
        case("loader_test.go TestLoadWithExtends (env_file relative to the base file)")
            .yaml("\nservices:\n  importer:\n    extends:\n      file: subdir/imported.yaml\n      service: imported\n")
            .file("subdir/imported.yaml", "\nservices:\n  imported:\n    image: nginx\n    env_file:\n      - ./extra.env\n")
            .raw_file("subdir/extra.env", "SOURCE=extends\n")
            .text("/services/importer/environment/SOURCE", "extends"),
    ]
}

/// testdata/extends/depends_on.yaml, rewritten.
const DEPENDS: &str = r#"
services:
  with_depends_on:
    image: foo
    depends_on:
      - zot
  with_volumes_from:
    image: foo
    volumes_from:
      - zot
  with_ipc:
    image: foo
    ipc: "service:zot"
  with_network_mode:
    image: foo
    network_mode: "service:zot"
  zot:
    image: hidden
"#;

/// testdata/subdir/compose-test-extends-imported.yaml and extra.env, rewritten.
fn imported(c: Case) -> Case {
    c.file(
        "subdir/imported.yaml",
        "\nservices:\n  imported:\n    image: nginx\n    container_name: ${SOURCE:-imported}\n    env_file:\n      - ./extra.env\n    volumes:\n      - /opt/data:/var/lib/mysql\n",
    )
    .raw_file("subdir/extra.env", "SOURCE=extends\n")
}

fn include() -> Vec<Case> {
    vec![
        imported(case("loader_test.go TestLoadWithInclude (the include's env_file)"))
            .yaml("\nname: 'test-include'\ninclude:\n  - path: ./subdir/imported.yaml\n    env_file: ./subdir/extra.env\nservices:\n  foo:\n    image: busybox\n    depends_on:\n      - imported\n")
            .text("/services/imported/container_name", "extends")
            .text("/services/imported/environment/SOURCE", "extends")
            .text("/services/imported/env_file/0/path", "<dir>/subdir/extra.env")
            .text("/services/foo/depends_on/imported/condition", "service_started"),
        imported(case("loader_test.go TestLoadWithInclude (the process environment wins)"))
            .yaml("\nname: 'test-include'\ninclude:\n  - path: ./subdir/imported.yaml\n    env_file: ./subdir/extra.env\nservices:\n  foo:\n    image: busybox\n    depends_on:\n      - imported\n")
            .env(&[("SOURCE", "override")])
            .text("/services/imported/container_name", "override"),
        case("loader_test.go TestLoadWithIncludeCycle")
            .yaml("\ninclude:\n  - compose.yaml\nname: project\nservices:\n  foo:\n    image: foo\n")
            .fails("include cycle"),
        imported(case("include_test.go TestLoadWithMultipleInclude (the same service included twice)"))
            .yaml("\nname: 'test-multi-include'\ninclude:\n  - path: ./subdir/imported.yaml\n    env_file: ./subdir/extra.env\n  - path: ./lib/compose-include.yaml\nservices:\n  foo:\n    image: busybox\n    depends_on:\n      - imported\n")
            .file("lib/compose-include.yaml", "\ninclude:\n    - path: ../subdir/imported.yaml\nservices:\n  bar:\n    image: bar\n    environment:\n      - FOO=BAR\n")
            .env(&[("SOURCE", "override")])
            .text("/services/imported/container_name", "override")
            .text("/services/bar/environment/FOO", "BAR"),
        imported(case("include_test.go TestLoadWithMultipleIncludeConflict (!override on an included service)"))
            .yaml("\nname: 'test-multi-include'\ninclude:\n  - path: ./subdir/imported.yaml\n    env_file: ./subdir/extra.env\n  - path: ./lib/compose-include.yaml\n    env_file: ./subdir/extra.env\nservices:\n  bar:\n    image: busybox\n    environment: !override\n      - ZOT=QIX\n")
            .file("lib/compose-include.yaml", "\ninclude:\n    - path: ../subdir/imported.yaml\nservices:\n  bar:\n    image: bar\n    environment:\n      - FOO=BAR\n")
            .env(&[("SOURCE", "override")])
            .text("/services/bar/image", "busybox")
            .at("/services/bar/environment", r#"{"ZOT":"QIX"}"#),
        case("include_test.go TestIncludeRelative (paths relative to the included file)")
            .yaml("\ninclude:\n  - path: inc/included.yaml\n")
            .file("inc/included.yaml", "\nservices:\n  included:\n    build: .\n    volumes:\n      - ./:/mnt\n")
            .text("/services/included/build/context", "<dir>/inc")
            .text("/services/included/volumes/0/source", "<dir>/inc"),
        case("include_test.go TestLoadWithIncludeEnv (an include's env_file is only for that include)")
            .yaml("\ninclude:\n  - path:\n    - ./module/compose.yml\n    env_file:\n      - ./custom.env\nservices:\n  a:\n    image: alpine\n    environment:\n      - VAR_NAME\n")
            .raw_file("custom.env", "VAR_NAME=value")
            .file("module/compose.yml", "\nservices:\n  b:\n    image: alpine\n    environment:\n      - VAR_NAME\n  c:\n    image: alpine\n    environment:\n      - VAR_NAME\n")
            .at("/services/a/environment/VAR_NAME", "null")
            .text("/services/b/environment/VAR_NAME", "value")
            .text("/services/c/environment/VAR_NAME", "value"),
        case("include_test.go TestIncludeWithProjectDirectory")
            .yaml("\ninclude:\n  - project_directory: ../subdir\n    path: ./dir/compose.yaml\n")
            .file(
                "dir/compose.yaml",
                "\nservices:\n  service:\n    build:\n      dockerfile_inline: |\n        FROM busybox\n    volumes:\n      - type: bind\n        source: imported.yaml\n        target: /mnt/bind/compose.yaml\n    env_file:\n      - extra.env\n",
            )
            .raw_file("../subdir/extra.env", "A=1\n")
            .text("/services/service/build/context", "<tmp>/subdir")
            .text("/services/service/volumes/0/source", "<tmp>/subdir/imported.yaml")
            .text("/services/service/env_file/0/path", "<tmp>/subdir/extra.env"),
        case("include_test.go TestNestedIncludeAndExtends (extends relative to the include's project_directory)")
            .yaml("\ninclude:\n  - project_directory: .\n    path: dir/included.yaml\n")
            .file("dir/included.yaml", "\nservices:\n  included:\n    extends:\n      file: dir/extended.yaml\n      service: extended\n")
            .file("dir/extended.yaml", "\nservices:\n  extended:\n    image: alpine\n")
            .text("/services/included/image", "alpine"),
        case("include_test.go TestLoadIncludeExtendsCombined (extends inside an included file, a list of paths)")
            .yaml("\ninclude:\n  - path:\n      - dir/included.yaml\n")
            .file("dir/included.yaml", "\nservices:\n  service:\n    extends:\n      file: extended.yaml\n      service: service\n")
            .file("dir/extended.yaml", "\nservices:\n  service:\n    build: .\n")
            .text("/services/service/build/context", "<dir>/dir"),
        case("include.go importResources (the same file included twice: a diamond)")
            .yaml("\ninclude: [lib/a.yaml, lib/b.yaml]\nservices:\n  main: {image: m}\n")
            .file("lib/a.yaml", "\ninclude: [c.yaml]\nservices:\n  sa: {image: a}\n")
            .file("lib/b.yaml", "\ninclude: [c.yaml]\nservices:\n  sb: {image: b}\n")
            .file("lib/c.yaml", "\nservices:\n  shared: {image: c}\n")
            .text("/services/shared/image", "c")
            .text("/services/sa/image", "a"),
        case("include.go importResources (a local service overrides an included one: MergeYaml)")
            .yaml("\ninclude: [lib/inc.yaml]\nservices:\n  web: {image: local}\n")
            .file("lib/inc.yaml", "\nservices:\n  web: {image: included, environment: {A: '1'}}\n")
            .text("/services/web/image", "local")
            .text("/services/web/environment/A", "1"),
        case("include.go importResources (one service in two includes: merged, the first include wins)")
            .yaml("\ninclude: [lib/a.yaml, lib/b.yaml]\n")
            .file("lib/a.yaml", "\nservices:\n  web: {image: a}\n")
            .file("lib/b.yaml", "\nservices:\n  web: {image: b, user: b}\n")
            .text("/services/web/image", "a")
            .text("/services/web/user", "b"),
        case("include.go ApplyInclude (the includer's variables win over the include's env_file)")
            .yaml("\ninclude:\n  - path: lib/inc.yaml\n    env_file: lib/inc.env\n")
            .file("lib/inc.yaml", "\nservices:\n  s:\n    image: \"x:${TAG}-${ONLY}\"\n")
            .raw_file("lib/inc.env", "TAG=from-include\nONLY=include\n")
            .raw_file(".env", "TAG=from-parent\n")
            .text("/services/s/image", "x:from-parent-include"),
        case("include_test.go (the include's env_file feeds bare environment entries)")
            .yaml("\ninclude:\n  - path: lib/inc.yaml\n    env_file: lib/inc.env\n")
            .file("lib/inc.yaml", "\nservices:\n  s: {image: x, environment: [FOO]}\n")
            .raw_file("lib/inc.env", "FOO=from-include\n")
            .text("/services/s/environment/FOO", "from-include"),
        case("include.go ApplyInclude (project_directory is the base of relative paths)")
            .yaml("\ninclude:\n  - path: lib/inc.yaml\n    project_directory: elsewhere\n")
            .file("lib/inc.yaml", "\nservices:\n  s: {build: ./ctx}\n")
            .text("/services/s/build/context", "<dir>/elsewhere/ctx"),
        case("include.go ApplyInclude (an included file's .env is read from its project directory)")
            .yaml("\ninclude:\n  - path: lib/inc.yaml\n")
            .file("lib/inc.yaml", "\nservices:\n  s:\n    image: \"x:${TAG}\"\n")
            .raw_file("lib/.env", "TAG=from-lib\n")
            .text("/services/s/image", "x:from-lib"),
    ]
}
