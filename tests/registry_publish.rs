//! `berth publish` and `-f oci://`, against Debian's `docker-registry` on 127.0.0.1: a stack's
//! files pushed as a Compose project artifact (docker compose's media types and annotations,
//! read back from the registry's own storage), then run from the registry in another
//! directory: `config` prints the same model, `up` starts it. The checks docker compose makes
//! before publishing (build-only services, local includes) refuse; prompts (bind mounts, env
//! declarations) take their answer from stdin; an image is not taken for a project (file names
//! with `/` or `..` are refused too: unit-tested in image::registry::artifact). No traffic leaves 127.0.0.1.

mod support;

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use support::registry::Registry;
use support::stack::Stack;

const STACK: &str = r#"services:
  web:
    image: busybox:latest
    pull_policy: never
    command: [sleep, "600"]
    env_file: [app.env]
    environment:
      GREETING: ${GREETING:-hello}
"#;

const OVERRIDE: &str = "services:\n  web:\n    labels: {layer: override}\n";

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// `berth ARGS` in `dir` with `input` on stdin, its cache in `cache`, on the stack's root
/// (where its busybox image is: the stacks say `pull_policy: never` besides, so no test can
/// reach for a registry other than the one on 127.0.0.1).
fn berth_in(s: &Stack, dir: &std::path::Path, cache: &std::path::Path, args: &[&str], input: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.arg("--root").arg(s.tmp.path()).args(args).current_dir(dir);
    cmd.env_remove("BERTH_ROOT").env_remove("COMPOSE_FILE").env("XDG_CACHE_HOME", cache);
    cmd.env("BERTH_DNS_UPSTREAM", &s.dns_upstream);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run berth");
    let _ = child.stdin.take().expect("stdin").write_all(input.as_bytes());
    child.wait_with_output().expect("wait for berth")
}

#[test]
fn a_stack_published_to_a_registry_runs_from_it() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let mut s = Stack::new("publish").image("busybox:latest").file(STACK);
    std::fs::write(s.dir.join("compose.override.yaml"), OVERRIDE).unwrap();
    std::fs::write(s.dir.join("app.env"), "FROM_ENV_FILE=yes\n").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let target = format!("{}/stacks/demo:v1", reg.addr());
    let files = ["-f", "compose.yaml", "-f", "compose.override.yaml"];
    let publish = |extra: &[&str], input: &str| {
        let mut args = files.to_vec();
        args.push("publish");
        args.extend_from_slice(extra);
        args.push(&target);
        berth_in(&s, &s.dir, cache.path(), &args, input)
    };

    // env_file declared: asked first; "n" (or nothing) publishes nothing, with exit 130.
    let declined = publish(&[], "n\n");
    assert_eq!(declined.status.code(), Some(130), "{}", text(&declined));
    let t = text(&declined);
    assert!(t.contains("service \"web\": env_file declared") && t.contains("--with-env"), "{t}");
    let none = berth_in(&s, &s.dir, cache.path(), &["-f", &format!("oci://{target}"), "config"], "");
    assert!(!none.status.success(), "nothing was published: {}", text(&none));
    // --dry-run: every check, nothing sent.
    let dry =
        berth_in(&s, &s.dir, cache.path(), &["--dry-run", "-f", "compose.yaml", "publish", "--with-env", &target], "");
    assert!(dry.status.success() && text(&dry).contains("would publish compose.yaml"), "{}", text(&dry));
    assert!(!berth_in(&s, &s.dir, cache.path(), &["-f", &format!("oci://{target}"), "config"], "").status.success());

    // --with-env: the files and the env file go, in docker compose's shape.
    let out = publish(&["--with-env"], "");
    assert!(out.status.success(), "{}", text(&out));
    let pinned = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let digest = pinned.rsplit_once('@').map(|(_, d)| d.to_string()).expect("REF@DIGEST on stdout");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reg.blob_data(&digest)).expect("the manifest in the registry")).unwrap();
    let oci11 = manifest["artifactType"] == "application/vnd.docker.compose.project";
    let oci10 = manifest["config"]["mediaType"] == "application/vnd.docker.compose.config.empty.v1+json";
    assert!(oci11 || oci10, "{manifest}");
    let layers = manifest["layers"].as_array().expect("layers");
    let names: Vec<(&str, &str)> = layers
        .iter()
        .map(|l| {
            let a = &l["annotations"];
            let name = a["com.docker.compose.file"].as_str().or(a["com.docker.compose.envfile"].as_str());
            (l["mediaType"].as_str().unwrap_or_default(), name.unwrap_or_default())
        })
        .collect();
    assert_eq!(
        names,
        [
            ("application/vnd.docker.compose.file+yaml", "compose.yaml"),
            ("application/vnd.docker.compose.file+yaml", "compose.override.yaml"),
            ("application/vnd.docker.compose.envfile", "app.env"),
        ]
    );
    let first = layers[0]["digest"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(reg.blob_data(first)).unwrap(), STACK, "the file as written, not interpolated");

    // Elsewhere (another directory, another environment): `config` and `up` from the registry.
    let elsewhere = tempfile::tempdir().unwrap();
    let oci = format!("oci://{target}");
    let config =
        berth_in(&s, elsewhere.path(), cache.path(), &["-p", &s.project, "-f", &oci, "config", "--format", "json"], "");
    assert!(config.status.success(), "{}", text(&config));
    let model: serde_json::Value = serde_json::from_slice(&config.stdout).expect("config json");
    let web = &model["services"]["web"];
    assert_eq!(web["labels"]["layer"], "override", "both files, merged in order");
    assert_eq!(web["environment"]["FROM_ENV_FILE"], "yes", "the env file came along");
    assert_eq!(web["environment"]["GREETING"], "hello");
    assert!(text(&config).contains(&format!("stack {oci} is stored in {}", cache.path().display())));
    let up = berth_in(&s, elsewhere.path(), cache.path(), &["-p", &s.project, "-f", &oci, "up", "-d"], "");
    assert!(up.status.success(), "{}", text(&up));
    let env = berth_in(&s, elsewhere.path(), cache.path(), &["-p", &s.project, "-f", &oci, "exec", "web", "env"], "");
    assert!(String::from_utf8_lossy(&env.stdout).contains("FROM_ENV_FILE=yes"), "{}", text(&env));
    // By digest too.
    let by_digest = format!("oci://{}/stacks/demo@{digest}", reg.addr());
    let again = berth_in(&s, elsewhere.path(), cache.path(), &["-p", &s.project, "-f", &by_digest, "config", "-q"], "");
    assert!(again.status.success(), "{}", text(&again));
    let down = berth_in(&s, elsewhere.path(), cache.path(), &["-p", &s.project, "-f", &oci, "down", "-t", "0"], "");
    assert!(down.status.success(), "{}", text(&down));
    s.down_clean();
}

#[test]
fn resolve_image_digests_publishes_an_override_pinning_the_images() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let mut s = Stack::new("publishpin")
        .image("busybox:latest")
        .file("services:\n  web:\n    image: busybox:latest\n    pull_policy: never\n    command: [sleep, '600']\n");
    let cache = tempfile::tempdir().unwrap();
    let target = format!("{}/stacks/pinned:v1", reg.addr());
    let out = berth_in(&s, &s.dir, cache.path(), &["publish", "--resolve-image-digests", &target], "");
    assert!(out.status.success(), "{}", text(&out));
    let pinned = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let digest = pinned.rsplit_once('@').map(|(_, d)| d.to_string()).expect("REF@DIGEST on stdout");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reg.blob_data(&digest)).expect("the manifest")).unwrap();
    let layers = manifest["layers"].as_array().expect("layers");
    let last = layers.last().expect("a layer");
    assert_eq!(last["annotations"]["com.docker.compose.file"], "image-digests.yaml", "{manifest}");
    let image = berth::image::ImageStore::open(&s.roots).unwrap().resolve("busybox:latest").unwrap();
    let expected =
        format!("services:\n  web:\n    image: docker.io/library/busybox:latest@{}\n", image.manifest_digest);
    let override_file = std::fs::read_to_string(reg.blob_data(last["digest"].as_str().unwrap())).unwrap();
    assert_eq!(override_file, expected);
    // Run from the registry: the model has the pinned image.
    let oci = format!("oci://{target}");
    let elsewhere = tempfile::tempdir().unwrap();
    let config = berth_in(&s, elsewhere.path(), cache.path(), &["-f", &oci, "config", "--images"], "");
    assert!(config.status.success(), "{}", text(&config));
    assert_eq!(
        String::from_utf8_lossy(&config.stdout),
        format!("docker.io/library/busybox:latest@{}\n", image.manifest_digest)
    );
    s.down_clean();
}

/// `publish --app`, as docker compose: the service images copied into the artifact's
/// repository (by digest) and an OCI image index listing them, its subject the project
/// artifact; the copied image pulls from there into another root. A service image missing from
/// the store refuses it before anything is pushed.
#[test]
fn publish_app_copies_the_images_and_indexes_them() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let mut s = Stack::new("publishapp")
        .image("busybox:latest")
        .file("services:\n  web:\n    image: busybox:latest\n    pull_policy: never\n    command: [sleep, '600']\n");
    std::fs::write(s.dir.join("missing.yaml"), "services:\n  web:\n    image: nosuch:1\n    pull_policy: never\n")
        .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let target = format!("{}/stacks/app:v1", reg.addr());
    let revisions = reg.revisions("stacks/app");
    let refused = berth_in(&s, &s.dir, cache.path(), &["-f", "missing.yaml", "publish", "--app", &target], "");
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        text(&refused).contains("service `web`: image nosuch:1 is not in berth's image store"),
        "{}",
        text(&refused)
    );
    assert!(!revisions.exists(), "something was pushed before the check");

    let out = berth_in(&s, &s.dir, cache.path(), &["publish", "--app", &target], "");
    assert!(out.status.success(), "{}", text(&out));
    let pinned = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let artifact = pinned.rsplit_once('@').map(|(_, d)| d.to_string()).expect("REF@DIGEST on stdout");
    let image = berth::image::ImageStore::open(&s.roots).unwrap().resolve("busybox:latest").unwrap();
    let read = |digest: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(reg.blob_data(digest)).expect("a blob in the registry")).unwrap()
    };
    // --app implies --resolve-image-digests.
    let last = read(&artifact)["layers"].as_array().and_then(|l| l.last().cloned()).expect("layers");
    assert_eq!(last["annotations"]["com.docker.compose.file"], "image-digests.yaml");
    // The repository holds the artifact, the image and the index.
    let revs: Vec<String> = std::fs::read_dir(&revisions)
        .expect("the repository's manifests")
        .map(|e| format!("sha256:{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    assert!(revs.contains(&artifact) && revs.contains(&image.manifest_digest), "{revs:?}");
    let indexes: Vec<serde_json::Value> =
        revs.iter().map(|d| read(d)).filter(|m| m["mediaType"] == "application/vnd.oci.image.index.v1+json").collect();
    assert_eq!(indexes.len(), 1, "{revs:?}");
    let index = &indexes[0];
    assert_eq!(index["manifests"].as_array().map(Vec::len), Some(1), "{index}");
    assert_eq!(index["manifests"][0]["digest"], image.manifest_digest.as_str());
    assert_eq!(index["subject"]["digest"], artifact.as_str());
    assert_eq!(index["subject"]["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert!(index["annotations"]["com.docker.compose.version"].is_string(), "{index}");
    // The copied image pulls from the artifact's repository into another root.
    let other = tempfile::tempdir().unwrap();
    let copied = format!("{}/stacks/app@{}", reg.addr(), image.manifest_digest);
    let pull = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--root")
        .arg(other.path())
        .args(["image", "pull", &copied])
        .env_remove("BERTH_ROOT")
        .output()
        .unwrap();
    assert!(pull.status.success(), "{}", text(&pull));
    s.down_clean();
}

#[test]
fn what_compose_refuses_to_publish_is_refused_and_hostile_artifacts_too() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let s =
        Stack::new("pubrefuse").image("busybox:latest").file("services:\n  a: {build: .}\n  b: {build: ., image: x}\n");
    let cache = tempfile::tempdir().unwrap();
    let target = format!("{}/stacks/refused:v1", reg.addr());
    let out = berth_in(&s, &s.dir, cache.path(), &["publish", "-y", &target], "");
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(t.contains("only contains a build section for service(s): a") && !t.contains(": a, b"), "{t}");

    std::fs::write(s.dir.join("other.yaml"), "services:\n  c: {image: busybox:latest}\n").unwrap();
    s.write("include: [other.yaml]\nservices:\n  a: {image: busybox:latest}\n");
    let t = text(&berth_in(&s, &s.dir, cache.path(), &["publish", "-y", &target], ""));
    assert!(t.contains("cannot publish compose file with local includes"), "{t}");

    // A bind mount asks; -y answers.
    s.write("services:\n  a:\n    image: busybox:latest\n    volumes: ['./data:/user-data']\n");
    let asked = berth_in(&s, &s.dir, cache.path(), &["publish", &target], "");
    assert_eq!(asked.status.code(), Some(130), "{}", text(&asked));
    assert!(text(&asked).contains(":/user-data"), "{}", text(&asked));
    assert!(berth_in(&s, &s.dir, cache.path(), &["publish", "-y", &target], "").status.success());

    // An image is not a stack.
    s.berth(&["image", "tag", "busybox:latest", &format!("{}/images/busybox:1", reg.addr())]).success();
    s.berth(&["image", "push", &format!("{}/images/busybox:1", reg.addr())]).success();
    let oci = format!("oci://{}/images/busybox:1", reg.addr());
    let t = text(&berth_in(&s, &s.dir, cache.path(), &["-f", &oci, "config"], ""));
    assert!(t.contains("not one") || t.contains("Compose project artifact"), "{t}");
    assert!(
        !cache.path().join("berth").exists() || std::fs::read_dir(cache.path().join("berth/oci")).unwrap().count() == 1
    );
}
