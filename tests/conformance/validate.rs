//! What compose-go refuses and accepts: loader/validate_test.go and every check of
//! loader/validate.go (checkConsistency), validation/validation_test.go, schema/schema_test.go.
//!
//! Skipped: schema_test.go TestSchema and TestValidateConcurrent (compiling the Go schema, Go
//! concurrency), TestValidateVariables (a schema fixture of that package, not a Compose file),
//! validate_test.go TestValidateContainerName's Go call (kept as a file: a clash is an error).

use super::{case, Case};

fn ok(source: &str, yaml: &str) -> Case {
    case(source).yaml(yaml).loads()
}

fn bad(source: &str, yaml: &str, error: &str) -> Case {
    case(source).yaml(yaml).fails(error)
}

pub fn cases() -> Vec<Case> {
    let mut v = consistency();
    v.extend(references());
    v.extend(schema());
    v
}

fn consistency() -> Vec<Case> {
    vec![
        ok("validate_test.go TestValidateAnonymousVolume", "\nservices:\n  myservice:\n    image: my/service\n    volumes:\n      - type: volume\n        target: /use/local\n"),
        bad("validate_test.go TestValidateNamedVolume (undefined)", "\nservices:\n  myservice:\n    image: my/service\n    volumes:\n      - type: volume\n        source: myVolume\n        target: /use/local\n", "myVolume"),
        ok("validate_test.go TestValidateNamedVolume (defined)", "\nservices:\n  myservice:\n    image: my/service\n    volumes:\n      - type: volume\n        source: myVolume\n        target: /use/local\nvolumes:\n  myVolume:\n    name: myVolume\n"),
        bad("validate_test.go TestValidateNoBuildNoImage", "\nservices:\n  myservice:\n    command: [echo]\n", "neither an image nor a build context"),
        ok("validate.go checkConsistency (a provider service needs no image)", "\nservices:\n  db:\n    provider:\n      type: awesomecloud\n"),
        ok("validate_test.go TestValidateNetworkMode (service: defined)", "\nservices:\n  myservice1:\n    image: scratch\n  myservice2:\n    image: scratch\n    network_mode: service:myservice1\n"),
        bad("validate_test.go TestValidateNetworkMode (service: undefined)", "\nservices:\n  myservice1:\n    image: scratch\n  myservice2:\n    image: scratch\n    network_mode: service:nonexistentservice\n", "nonexistentservice"),
        ok("validate_test.go TestValidateNetworkMode (container:)", "\nservices:\n  myservice1:\n    image: scratch\n    container_name: mycontainer_name\n  myservice2:\n    image: scratch\n    network_mode: container:mycontainer_name\n"),
        bad("validate_test.go TestValidateNetworkMode (network_mode and networks)", "\nservices:\n  myservice1:\n    image: scratch\n    network_mode: host\n    networks:\n      mynetwork: {}\nnetworks:\n  mynetwork: {}\n", "network_mode"),
        ok("validate_test.go TestValidateSecret (file)", "\nservices:\n  s: {image: x}\nsecrets:\n  foo:\n    file: .secret\n"),
        ok("validate_test.go TestValidateSecret (environment)", "\nservices:\n  s: {image: x}\nsecrets:\n  foo:\n    environment: TOKEN\n"),
        ok("validate_test.go TestValidateSecret (external)", "\nservices:\n  s: {image: x}\nsecrets:\n  foo:\n    external: true\n"),
        bad("validate_test.go TestValidateSecret (unset secret type)", "\nservices:\n  s: {image: x}\nsecrets:\n  foo: {}\n", "foo"),
        ok("validate_test.go TestValidateSecret (service secret exists)", "\nservices:\n  myservice:\n    image: scratch\n    secrets: [foo]\nsecrets:\n  foo:\n    external: true\n"),
        bad("validate_test.go TestValidateSecret (service secret undefined)", "\nservices:\n  myservice:\n    image: scratch\n    secrets: [foo]\n", "foo"),
        bad("validate_test.go TestValidateDependsOn", "\nservices:\n  myservice:\n    image: scratch\n    depends_on: [missingservice]\n", "missingservice"),
        bad("validate_test.go TestValidateContainerName", "\nservices:\n  myservice:\n    image: scratch\n    container_name: mycontainer\n  myservice2:\n    image: scratch\n    container_name: mycontainer\n", "mycontainer"),
        ok("validate_test.go TestValidateWatch (valid)", "\nservices:\n  myservice:\n    image: scratch\n    develop:\n      watch:\n        - action: sync\n          path: /app\n          target: /container/app\n"),
        bad("validate_test.go TestValidateWatch (sync without target)", "\nservices:\n  myservice:\n    image: scratch\n    develop:\n      watch:\n        - action: sync\n          path: /app\n", "target"),
        bad("validate_test.go TestValidateWatch (sync+restart without target)", "\nservices:\n  myservice:\n    image: scratch\n    develop:\n      watch:\n        - action: sync+restart\n          path: /app\n", "target"),
        ok("validate_test.go TestValidateWatch (rebuild without target)", "\nservices:\n  myservice:\n    image: scratch\n    develop:\n      watch:\n        - action: rebuild\n          path: /app\n"),
        ok("validate.go checkConsistency (restart without target)", "\nservices:\n  myservice:\n    image: scratch\n    develop:\n      watch:\n        - action: restart\n          path: /app\n"),
        ok("validate_test.go TestValidateWatch (depends on disabled service, not required)", "\nservices:\n  myservice:\n    image: scratch\n    depends_on:\n      other:\n        condition: service_started\n        required: false\n  other:\n    image: scratch\n    profiles: [off]\n"),
        bad("validate_test.go TestValidateWatch (depends on unknown service, not required)", "\nservices:\n  myservice:\n    image: scratch\n    depends_on:\n      other:\n        condition: service_started\n        required: false\n", "depends on undefined service"),
        bad("validate_test.go TestValidateMountConflict (tmpfs and a volume on one target)", "\nservices:\n  myservice:\n    image: scratch\n    tmpfs: [/foo, '/conflict:size=64m']\n    volumes: ['.:/bar', '.:/conflict']\n", "/conflict"),
        bad("validate.go checkConsistency (two tmpfs entries on one target)", "\nservices:\n  myservice:\n    image: scratch\n    tmpfs: [/foo, '/foo:size=64m']\n", "/foo"),
        bad("validate_test.go TestValidateNegativeScale (scale)", "\nservices:\n  myservice:\n    image: scratch\n    scale: -1\n", "scale"),
        bad("validate_test.go TestValidateNegativeScale (deploy.replicas)", "\nservices:\n  myservice:\n    image: scratch\n    deploy:\n      replicas: -1\n", "replicas"),
        bad("validate.go checkConsistency (scale and deploy.replicas differ)", "\nservices:\n  s:\n    image: x\n    scale: 2\n    deploy:\n      replicas: 3\n", "replicas"),
        ok("validate.go checkConsistency (scale and deploy.replicas agree)", "\nservices:\n  s:\n    image: x\n    scale: 2\n    deploy:\n      replicas: 2\n"),
        bad("validate.go checkConsistency (container_name with scale > 1)", "\nservices:\n  s:\n    image: x\n    container_name: c\n    scale: 2\n", "container_name"),
        bad("validate.go checkConsistency (container_name with deploy.replicas > 1)", "\nservices:\n  s:\n    image: x\n    container_name: c\n    deploy:\n      replicas: 2\n", "container_name"),
        bad("validate.go checkConsistency (dockerfile and dockerfile_inline)", "\nservices:\n  web:\n    build: {context: ., dockerfile: D, dockerfile_inline: 'FROM x'}\n", "dockerfile_inline"),
        bad("validate.go checkConsistency (additional_contexts service: unknown)", "\nservices:\n  web:\n    build: {context: ., additional_contexts: {base: 'service:nope'}}\n", "nope"),
        bad("validate.go checkConsistency (additional_contexts service: not buildable)", "\nservices:\n  base:\n    image: x\n  web:\n    build: {context: ., additional_contexts: {base: 'service:base'}}\n", "base"),
        ok("validate.go checkConsistency (additional_contexts service: buildable)", "\nservices:\n  base:\n    build: .\n  web:\n    build: {context: ., additional_contexts: {base: 'service:base'}}\n"),
        bad("validate.go checkConsistency (platform outside build.platforms)", "\nservices:\n  web:\n    image: x\n    platform: linux/arm64\n    build: {context: ., platforms: [linux/amd64]}\n", "platforms"),
        ok("validate.go checkConsistency (platform inside build.platforms)", "\nservices:\n  web:\n    image: x\n    platform: linux/amd64\n    build: {context: ., platforms: [linux/amd64, linux/arm64]}\n"),
        bad("validate.go checkConsistency (healthcheck.test must start with CMD, CMD-SHELL or NONE)", "\nservices:\n  web:\n    image: x\n    healthcheck:\n      test: [echo, hi]\n", "healthcheck"),
        bad("validate.go checkConsistency (cpus vs deploy.resources.limits.cpus)", "\nservices:\n  web:\n    image: x\n    cpus: 1\n    deploy: {resources: {limits: {cpus: '2'}}}\n", "cpus"),
        bad("validate.go checkConsistency (mem_limit vs deploy.resources.limits.memory)", "\nservices:\n  web:\n    image: x\n    mem_limit: 1g\n    deploy: {resources: {limits: {memory: 2g}}}\n", "mem_limit"),
        bad("validate.go checkConsistency (mem_reservation vs deploy.resources.reservations.memory)", "\nservices:\n  web:\n    image: x\n    mem_reservation: 1g\n    deploy: {resources: {reservations: {memory: 2g}}}\n", "mem_reservation"),
        bad("validate.go checkConsistency (pids_limit vs deploy.resources.limits.pids)", "\nservices:\n  web:\n    image: x\n    pids_limit: 10\n    deploy: {resources: {limits: {pids: 20}}}\n", "pids_limit"),
        case("validate.go checkConsistency (equal values agree)")
            .yaml("\nservices:\n  web:\n    image: x\n    cpus: 1\n    mem_limit: 1g\n    deploy: {resources: {limits: {cpus: '1', memory: 1024M}}}\n")
            .at("/services/web/cpus", "1.0"),
        ok("validate.go checkConsistency (depends_on a disabled service, not required)", "\nservices:\n  web:\n    image: x\n    depends_on: {dbg: {condition: service_started, required: false}}\n  dbg: {image: x, profiles: [debug]}\n"),
        bad("types/project.go WithProfiles (depends_on a disabled service, required)", "\nservices:\n  web:\n    image: x\n    depends_on: [dbg]\n  dbg: {image: x, profiles: [debug]}\n", "dbg"),
    ]
}

/// References to top-level resources (validate.go checkConsistency).
fn references() -> Vec<Case> {
    vec![
        bad("validate.go checkConsistency (undefined network)", "\nservices:\n  web:\n    image: x\n    networks: [nope]\n", "nope"),
        bad("validate.go checkConsistency (undefined config)", "\nservices:\n  web:\n    image: x\n    configs: [nope]\n", "nope"),
        bad("validate.go checkConsistency (undefined build secret)", "\nservices:\n  web:\n    build:\n      context: .\n      secrets: [nope]\n", "nope"),
        bad("validate.go checkConsistency (undefined model)", "\nservices:\n  web:\n    image: x\n    models: [nope]\n", "nope"),
        ok("validate.go checkConsistency (the implicit default network)", "\nservices:\n  web:\n    image: x\n    networks: [default]\n"),
        ok("validation_test.go TestValidateSecret (file config)", "\nservices:\n  s: {image: x}\nconfigs:\n  test:\n    name: test\n    file: ./httpd.conf\n"),
        ok("validation_test.go TestValidateSecret (environment config)", "\nservices:\n  s: {image: x}\nconfigs:\n  test:\n    name: test\n    environment: CONFIG\n"),
        ok("validation_test.go TestValidateSecret (inlined config)", "\nservices:\n  s: {image: x}\nconfigs:\n  test:\n    name: test\n    content: foo=bar\n"),
        bad("validation_test.go TestValidateSecret (conflict config)", "\nservices:\n  s: {image: x}\nconfigs:\n  test:\n    name: test\n    environment: CONFIG\n    content: foo=bar\n", "test"),
        bad("validation_test.go TestValidateSecret (missing config)", "\nservices:\n  s: {image: x}\nconfigs:\n  test:\n    name: test\n", "test"),
        ok("validation_test.go TestValidateSecret (external config)", "\nservices:\n  s: {image: x}\nconfigs:\n  test:\n    name: test\n    external: true\n"),
        bad("validation_test.go TestIPAddress (port long syntax, invalid IP)", "\nservices:\n  s:\n    image: x\n    ports:\n      - host_ip: notavalidip\n        target: 1234\n        published: \"1234\"\n", "notavalidip"),
        ok("validation_test.go TestIPAddress (port long syntax, no IP)", "\nservices:\n  s:\n    image: x\n    ports:\n      - target: 1234\n        published: \"1234\"\n"),
        ok("validation_test.go TestIPAddress (port long syntax, valid IP)", "\nservices:\n  s:\n    image: x\n    ports:\n      - host_ip: 192.168.3.4\n        target: 1234\n        published: \"1234\"\n"),
    ]
}

fn schema() -> Vec<Case> {
    vec![
        ok("schema_test.go TestValidate", "\nservices:\n  foo:\n    image: busybox\n"),
        bad("schema_test.go TestValidateUndefinedTopLevelOption", "\nservices:\n  foo:\n    image: busybox\nhelicopters:\n  foo:\n    image: busybox\n", "helicopters"),
        ok("schema_test.go TestValidateAllowsXTopLevelFields", "\nservices:\n  foo:\n    image: busybox\nx-extra-stuff: {}\n"),
        ok(
            "schema_test.go TestValidateAllowsXFields",
            "\nservices:\n  bar:\n    image: x\n    x-extra-stuff: {}\n  foo:\n    image: x\n    depends_on:\n      x-dependency:\n        condition: service_started\n  x-dependency:\n    image: x\nvolumes:\n  bar:\n    x-extra-stuff: {}\nnetworks:\n  bar:\n    x-extra-stuff: {}\nconfigs:\n  bar:\n    file: ./c\n    x-extra-stuff: {}\nsecrets:\n  bar:\n    file: ./s\n    x-extra-stuff: {}\n",
        ),
        ok("schema_test.go TestValidateSecretConfigNames", "\nservices:\n  foo:\n    image: x\nconfigs:\n  bar:\n    name: foobar\n    file: ./c\nsecrets:\n  baz:\n    name: foobaz\n    file: ./s\n"),
        ok("schema_test.go TestValidatePlacement", "\nservices:\n  foo:\n    image: busybox\n    deploy:\n      placement:\n        preferences:\n          - spread: node.labels.az\n"),
        ok("schema_test.go TestValidateIsolation", "\nservices:\n  foo:\n    image: busybox\n    isolation: some-isolation-value\n"),
        ok("schema_test.go TestValidateRollbackConfig", "\nservices:\n  foo:\n    image: busybox\n    deploy:\n      rollback_config:\n        parallelism: 1\n"),
        ok("schema_test.go TestValidateRollbackConfigWithOrder", "\nservices:\n  foo:\n    image: busybox\n    deploy:\n      rollback_config:\n        parallelism: 1\n        order: start-first\n"),
        ok("schema_test.go TestValidateRollbackConfigWithUpdateConfig", "\nservices:\n  foo:\n    image: busybox\n    deploy:\n      update_config:\n        parallelism: 1\n        order: start-first\n      rollback_config:\n        parallelism: 1\n        order: start-first\n"),
        ok(
            "schema_test.go TestValidateRollbackConfigWithUpdateConfigFull",
            "\nservices:\n  foo:\n    image: busybox\n    deploy:\n      update_config:\n        parallelism: 1\n        order: start-first\n        delay: 10s\n        failure_action: pause\n        monitor: 10s\n      rollback_config:\n        parallelism: 1\n        order: start-first\n        delay: 10s\n        failure_action: pause\n        monitor: 10s\n",
        ),
        bad("compose-spec.json (tmpfs.size is an integer or a string)", "\nservices:\n  web:\n    image: x\n    volumes:\n      - {type: tmpfs, target: /t, tmpfs: {size: 1.5}}\n", "size"),
        bad("compose-spec.json (an unknown service key)", "\nservices:\n  web:\n    image: x\n    imgae: y\n", "imgae"),
        case("compose-spec.json (restart is any string; the engine refuses an unknown one)")
            .yaml("\nservices:\n  web:\n    image: x\n    restart: sometimes\n")
            .warns("invalid restart policy `sometimes`", &[]),
        ok("compose-spec.json (restart: on-failure:3)", "\nservices:\n  web:\n    image: x\n    restart: on-failure:3\n"),
        ok("compose-spec.json (deploy.restart_policy.condition is any string)", "\nservices:\n  web:\n    image: x\n    deploy:\n      restart_policy:\n        condition: unless-stopped\n"),
        bad("compose-spec.json (a depends_on condition)", "\nservices:\n  web:\n    image: x\n    depends_on:\n      db:\n        condition: service_ready\n  db: {image: y}\n", "condition"),
        bad("compose-spec.json (depends_on long form requires condition)", "\nservices:\n  web:\n    image: x\n    depends_on:\n      db: {required: true}\n  db: {image: y}\n", "condition"),
        bad("compose-spec.json (an unknown watch action)", "\nservices:\n  web:\n    image: x\n    develop:\n      watch:\n        - path: .\n          action: teleport\n", "action"),
        bad("compose-spec.json (a service name with a space)", "\nservices:\n  \"my web\":\n    image: x\n", "my web"),
        ok("compose-spec.json (service names with dots, dashes and underscores)", "\nservices:\n  a.b-c_d:\n    image: x\n"),
    ]
}
