//! Pull and push against a real registry: Debian's `docker-registry` (distribution v2), started
//! per test on 127.0.0.1 with a free port and its own temp storage, stopped and removed by a
//! Drop guard even when the test panics. No traffic leaves 127.0.0.1.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use berth::paths::Roots;
use support::registry::{free_port, Registry};
use support::stack::Stack;

/// `berth --root ROOT ARGS…`.
fn berth(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("BERTH_ROOT")
        .env_remove("COMPOSE_FILE")
        .output()
        .expect("run berth")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[track_caller]
fn ok(root: &Path, args: &[&str]) -> String {
    let o = berth(root, args);
    assert!(o.status.success(), "berth {args:?} failed:\n{}", text(&o));
    text(&o)
}

#[track_caller]
fn fails(root: &Path, args: &[&str]) -> String {
    let o = berth(root, args);
    assert!(!o.status.success(), "berth {args:?} should have failed:\n{}", text(&o));
    text(&o)
}

/// (image id, manifest digest) of a local image.
fn inspect(root: &Path, reference: &str) -> (String, String) {
    let out = berth(root, &["image", "inspect", reference]);
    assert!(out.status.success(), "inspect {reference}: {}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("inspect json");
    (v["Id"].as_str().unwrap_or_default().to_string(), v["ManifestDigest"].as_str().unwrap_or_default().to_string())
}

#[test]
fn image_push_pull_round_trip_and_errors() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let tmp = tempfile::Builder::new().prefix("berth-regtest-").tempdir().expect("tempdir");
    let root = tmp.path();
    let roots = Roots::new(Some(root));
    let image = format!("{}/test/busybox:1", reg.addr());
    let id = support::import_busybox(&roots, &image);
    let (_, manifest) = inspect(root, &image);

    let out = ok(root, &["image", "push", &image]);
    assert!(out.contains(&format!("1: digest: {manifest}")), "{out}");
    assert!(ok(root, &["image", "push", &image]).contains("Layer already exists"));

    ok(root, &["image", "rm", &image]);
    assert!(!berth(root, &["image", "inspect", &image]).status.success(), "image still local after rm");
    let out = ok(root, &["image", "pull", &image]);
    assert!(out.contains("Pull complete") && out.contains(&format!("Digest: {manifest}")), "{out}");
    assert_eq!(inspect(root, &image), (id.clone(), manifest.clone()), "pulled image differs from pushed");
    assert!(ok(root, &["image", "pull", &image]).contains("Image is up to date"));

    // A missing tag and a registry that is not there: clear errors naming reference and registry.
    let missing = format!("{}/test/busybox:nope", reg.addr());
    let err = fails(root, &["image", "pull", &missing]);
    assert!(err.contains(&format!("image `{missing}` not found on registry {}", reg.addr())), "{err}");
    let dead = format!("127.0.0.1:{}/test/busybox:1", free_port());
    let err = fails(root, &["image", "pull", &dead]);
    assert!(err.contains("connection refused") && err.contains(&dead), "{err}");

    // `berth run IMAGE` pulls a missing image (docker run's default, --pull missing).
    ok(root, &["image", "rm", &image]);
    let out = ok(root, &["run", "--rm", &image, "echo", "ran-from-pulled"]);
    assert!(out.contains("ran-from-pulled") && out.contains("Unable to find image"), "{out}");
    support::remove_default_network(root).unwrap();
    let err = fails(root, &["run", "--rm", "--pull", "never", &missing, "true"]);
    assert!(err.contains("not found"), "{err}");

    // A corrupted layer on the registry is refused, and nothing is tagged.
    let layer = berth::image::ImageStore::open(&roots).expect("store").list().expect("list")[0].layers[0].clone();
    ok(root, &["image", "rm", &image]);
    let data = reg.blob_data(&layer);
    let mut bytes = fs::read(&data).expect("registry blob");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&data, &bytes).expect("corrupt registry blob");
    let err = fails(root, &["image", "pull", &image]);
    assert!(err.contains("refusing it") && err.contains(&layer), "{err}");
    assert!(!berth(root, &["image", "inspect", &image]).status.success(), "a refused pull must not tag");
}

#[test]
fn config_resolve_image_digests_asks_the_registry_for_an_image_not_in_the_store() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let seed = tempfile::Builder::new().prefix("berth-regseed-").tempdir().expect("tempdir");
    let image = format!("{}/test/pinned:1", reg.addr());
    support::import_busybox(&Roots::new(Some(seed.path())), &image);
    let (_, manifest) = inspect(seed.path(), &image);
    ok(seed.path(), &["image", "push", &image]);
    // A stack whose store does not have it: the registry's digest.
    let mut s = Stack::new("regpin").file(&stack_yaml(&[("app", &image)]));
    let out = s.berth(&["config", "--lock-image-digests"]);
    out.success();
    assert_eq!(out.stdout(), format!("services:\n  app:\n    image: {image}@{manifest}\n"));
    // Nothing was pulled.
    assert!(berth::image::ImageStore::open(&s.roots).expect("store").list().expect("list").is_empty());
    s.down_clean();
}

#[test]
fn up_pulls_a_missing_pre_start_hook_image() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let seed = tempfile::Builder::new().prefix("berth-regseed-").tempdir().expect("tempdir");
    let hook_image = format!("{}/test/hook:1", reg.addr());
    support::import_busybox(&Roots::new(Some(seed.path())), &hook_image);
    ok(seed.path(), &["image", "push", &hook_image]);
    let yaml = format!(
        "services:\n  app:\n    image: busybox:latest\n    command: [sh, -c, 'cat /data/by-hook; sleep 1000']\n    \
         volumes: ['data:/data']\n    pre_start:\n      - image: {hook_image}\n        command: [sh, -c, 'echo hooked > /data/by-hook']\n\
         volumes:\n  data: {{}}\n"
    );
    let mut s = Stack::new("reghook").image("busybox:latest").file(&yaml);
    let out = s.up(&["-d"]);
    out.success();
    assert!(out.text().contains(&format!("Image {hook_image}  Pulling")), "{}", out.text());
    let cat = s.berth(&["exec", "-T", "app", "cat", "/data/by-hook"]);
    assert_eq!(cat.stdout(), "hooked\n", "{}", cat.text());
    s.down_clean();
}

#[test]
fn run_pulls_a_missing_service_image() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let seed = tempfile::Builder::new().prefix("berth-regseed-").tempdir().expect("tempdir");
    let image = format!("{}/test/runme:1", reg.addr());
    support::import_busybox(&Roots::new(Some(seed.path())), &image);
    ok(seed.path(), &["image", "push", &image]);
    let mut s = Stack::new("regrun").file(&stack_yaml(&[("app", &image)]));
    // --pull never: not pulled, an error naming the image.
    let r = s.berth(&["run", "--rm", "--pull", "never", "app", "echo", "x"]);
    r.failure();
    assert!(r.stderr().contains(&image), "{}", r.stderr());
    // As `docker compose run`: the missing image is pulled first.
    let r = s.berth(&["run", "--rm", "app", "echo", "ran-pulled"]);
    assert_eq!(r.code(), 0, "{}", r.text());
    assert_eq!(r.stdout(), "ran-pulled\n");
    assert!(r.stderr().contains("Unable to find image"), "{}", r.stderr());
    s.down_clean();
}

#[test]
fn quiet_pull_pulls_without_progress_lines() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let seed = tempfile::Builder::new().prefix("berth-regseed-").tempdir().expect("tempdir");
    let (up_image, run_image) = (format!("{}/test/quiet:1", reg.addr()), format!("{}/test/quiet:2", reg.addr()));
    for image in [&up_image, &run_image] {
        support::import_busybox(&Roots::new(Some(seed.path())), image);
        ok(seed.path(), &["image", "push", image]);
    }
    let mut s = Stack::new("regquiet").file(&stack_yaml(&[("app", &up_image), ("job", &run_image)]));
    let up = s.up(&["-d", "--quiet-pull", "app"]);
    up.success();
    assert!(!up.text().contains("Pull"), "{}", up.text());
    assert!(s.runtime_state("app", 1).is_some_and(|st| st.is_running()), "pulled all the same");
    let r = s.berth(&["run", "--rm", "--quiet-pull", "job", "echo", "quietly"]);
    assert_eq!((r.code(), r.stdout()), (0, "quietly\n".to_string()), "{}", r.text());
    assert!(!r.stderr().contains("Unable to find image") && !r.stderr().contains("Digest"), "{}", r.stderr());
    s.down_clean();
}

/// A multi-platform image pinned by its index's digest (as `config --resolve-image-digests`
/// pins one): `up` pulls it (the platform's manifest, stored under that pin), finds it there
/// the next time (nothing to do), and so does `run`.
#[test]
fn up_pulls_an_image_pinned_by_its_index_digest() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let seed = tempfile::Builder::new().prefix("berth-regseed-").tempdir().expect("tempdir");
    let image = format!("{}/test/multi:1", reg.addr());
    support::import_busybox(&Roots::new(Some(seed.path())), &image);
    ok(seed.path(), &["image", "push", &image]);
    // An OCI index over it: the host's platform and another one (the same manifest, as a
    // registry would hold an arm64 one), pushed as a tag of its own.
    let (_, manifest) = inspect(seed.path(), &image);
    let size = fs::metadata(seed.path().join("images/blobs/sha256").join(manifest.trim_start_matches("sha256:")))
        .map(|m| m.len())
        .expect("manifest blob");
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let entry = |arch: &str| {
        format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest}","size":{size},"platform":{{"os":"linux","architecture":"{arch}"}}}}"#
        )
    };
    let other = if arch == "amd64" { "riscv64" } else { "amd64" };
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{},{}]}}"#,
        entry(other),
        entry(arch)
    );
    let port: u16 = reg.addr().rsplit_once(':').and_then(|(_, p)| p.parse().ok()).expect("port");
    let status = support::http::put(
        port,
        "/v2/test/multi/manifests/idx",
        "application/vnd.oci.image.index.v1+json",
        index.as_bytes(),
    );
    assert_eq!(status, Some(201), "PUT the index");
    let index_digest = {
        use sha2::Digest as _;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(index.as_bytes())))
    };
    let pinned = format!("{}/test/multi@{index_digest}", reg.addr());
    let tagged = format!("{}/test/multi:idx@{index_digest}", reg.addr());

    let mut s = Stack::new("regidx").file(&stack_yaml(&[("app", &pinned), ("tagged", &tagged)]));
    let out = s.up(&["-d"]);
    out.success();
    assert!(out.text().contains("Pulled"), "{}", out.text());
    for svc in ["app", "tagged"] {
        let exec = s.berth(&["exec", svc, "echo", "from-the-index"]);
        assert_eq!(exec.success().stdout(), "from-the-index\n");
    }
    let again = s.up(&["-d"]);
    assert!(again.success().text().contains("nothing to do") && !again.text().contains("Pulled"), "{}", again.text());
    let run = s.berth(&["run", "--rm", "--no-deps", "app", "echo", "run-too"]);
    assert!(run.success().stdout().contains("run-too") && !run.text().contains("Pulled"), "{}", run.text());
    s.down_clean();
}

fn stack_yaml(services: &[(&str, &str)]) -> String {
    let mut y = String::from("services:\n");
    for (name, image) in services {
        y.push_str(&format!("  {name}:\n    image: {image}\n    command: [sleep, '1000']\n"));
    }
    y
}

#[test]
fn up_pulls_missing_images_and_pull_never_refuses() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    // Seed the registry from a separate root, so the stack's own store starts empty.
    let seed = tempfile::Builder::new().prefix("berth-regseed-").tempdir().expect("tempdir");
    let image = format!("{}/test/app:1", reg.addr());
    support::import_busybox(&Roots::new(Some(seed.path())), &image);
    ok(seed.path(), &["image", "push", &image]);

    let mut s = Stack::new("regup").file(&stack_yaml(&[("app", &image)]));
    let out = s.up(&["-d"]);
    out.success();
    assert!(out.text().contains("Pulled"), "{}", out.text());
    let exec = s.berth(&["exec", "app", "echo", "hello-from-pulled"]);
    exec.success();
    assert_eq!(exec.stdout(), "hello-from-pulled\n");
    // --pull always pulls again; the image did not change, so nothing is recreated.
    let out = s.up(&["-d", "--pull", "always"]);
    out.success();
    assert!(out.text().contains("Pulled") && out.text().contains("nothing to do"), "{}", out.text());
    s.berth(&["pull", "-q"]).success();
    // pull --policy missing: the image is here, so nothing is pulled; the default pulls.
    let missing = s.berth(&["pull", "--policy", "missing"]);
    missing.success();
    assert!(!missing.text().contains("Pulled"), "{}", missing.text());
    let always = s.berth(&["pull", "--ignore-buildable"]);
    always.success();
    assert!(always.text().contains("Pulled"), "app has no build: still pulled\n{}", always.text());
    // A service that can be built: its missing image is a warning, and not tried at all with
    // --ignore-buildable.
    let built = format!("{}/test/app:built-here", reg.addr());
    s.write(&format!("services:\n  b:\n    image: {built}\n    build: .\n"));
    let tried = s.berth(&["pull"]);
    tried.success();
    assert!(tried.text().contains("cannot pull image"), "{}", tried.text());
    let skipped = s.berth(&["pull", "--ignore-buildable"]);
    skipped.success();
    assert!(!skipped.text().contains("cannot pull image"), "{}", skipped.text());
    s.write(&stack_yaml(&[("app", &image)]));
    s.down_clean();

    let mut s = Stack::new("regnever").file(&stack_yaml(&[("app", &image)]));
    let out = s.up(&["-d", "--pull", "never"]);
    out.failure();
    assert!(
        out.text().contains("service `app` uses image") && out.text().contains("not in the local store"),
        "{}",
        out.text()
    );
    // Every failed pull is reported, each naming its service and image; nothing is created.
    let (a, b) = (format!("{}/test/app:missing-a", reg.addr()), format!("{}/test/app:missing-b", reg.addr()));
    s.write(&stack_yaml(&[("first", &a), ("second", &b)]));
    let out = s.up(&["-d"]);
    out.failure();
    let t = out.text();
    assert!(t.contains(&format!("service `first`: cannot pull image `{a}`")), "{t}");
    assert!(t.contains(&format!("service `second`: cannot pull image `{b}`")), "{t}");
    assert!(s.record("first", 1).is_none() && s.record("second", 1).is_none(), "a failed pull created containers");
    let pulled = s.berth(&["pull"]);
    pulled.failure();
    assert!(s.berth(&["pull", "--ignore-pull-failures"]).code() == 0);
    s.down_clean();
}

/// `pull_policy: every_<d>` / `daily` (docker compose's refresh policies): the image is pulled
/// again once its last pull is older than the interval, and not before.
#[test]
fn refresh_pull_policy_pulls_again_after_its_interval() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let seed = tempfile::Builder::new().prefix("berth-regseed-").tempdir().expect("tempdir");
    let image = format!("{}/test/refresh:1", reg.addr());
    support::import_busybox(&Roots::new(Some(seed.path())), &image);
    ok(seed.path(), &["image", "push", &image]);

    let yaml = |policy: &str| {
        format!("services:\n  often:\n    image: {image}\n    pull_policy: {policy}\n    command: [sleep, '1000']\n")
    };
    let mut s = Stack::new("regrefresh").file(&yaml("every_2h"));
    let config = s.berth(&["config"]);
    config.success();
    assert!(config.stdout().contains("pull_policy: every_2h"), "{}", config.stdout());
    let first = s.up(&["-d"]);
    first.success();
    assert!(first.text().contains("Pulled"), "a missing image is pulled:\n{}", first.text());
    let again = s.up(&["-d"]);
    again.success();
    assert!(!again.text().contains("Pulled"), "pulled again within the interval:\n{}", again.text());
    // Three hours pass: the tag's time (its last pull) is set back, as the store records it.
    let index = s.roots.images().join("index.json");
    let mut v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&index).unwrap()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let old = berth::timefmt::rfc3339(now - 3 * 3600, None);
    for m in v["manifests"].as_array_mut().unwrap() {
        m["annotations"]["io.berth.image.imported"] = serde_json::json!(old);
    }
    fs::write(&index, serde_json::to_vec(&v).unwrap()).unwrap();
    let late = s.up(&["-d"]);
    late.success();
    assert!(late.text().contains("Pulled"), "not pulled once the interval passed:\n{}", late.text());
    // `daily`: the pull just made is fresh, so nothing is pulled.
    s.write(&yaml("daily"));
    let daily = s.up(&["-d"]);
    daily.success();
    assert!(!daily.text().contains("Pulled"), "daily pulled a fresh image:\n{}", daily.text());
    s.down_clean();
}

/// `build --with-dependencies --push SERVICE`: the service and the services it depends on
/// that have a `build:` are built and pushed; a fresh store pulls both. Without
/// `--with-dependencies` only the named one is built.
#[test]
fn build_with_dependencies_and_push() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let (app, base) = (format!("{}/test/app-built:1", reg.addr()), format!("{}/test/base-built:1", reg.addr()));
    let yaml = format!(
        "services:\n  app:\n    image: {app}\n    build: ./app\n    depends_on: [base]\n  base:\n    image: {base}\n    build: ./base\n  plain:\n    image: busybox:latest\n"
    );
    let mut s = Stack::new("regbuild").image("busybox:latest").file(&yaml);
    for dir in ["app", "base"] {
        fs::create_dir_all(s.dir.join(dir)).expect("mkdir");
        fs::write(s.dir.join(dir).join("Dockerfile"), format!("FROM busybox:latest\nCOPY msg /{dir}\n"))
            .expect("write");
        fs::write(s.dir.join(dir).join("msg"), format!("{dir}\n")).expect("write");
    }
    let store = || berth::image::ImageStore::open(&s.roots).expect("store");
    s.berth(&["build", "app"]).success();
    assert!(store().manifest_digest(&app).is_ok() && store().manifest_digest(&base).is_err(), "only app is built");
    let r = s.berth(&["build", "--with-dependencies", "--push", "app"]);
    r.success();
    assert!(
        r.stderr().contains(&format!("Image {app}  Pushed")) && r.stderr().contains(&format!("Image {base}  Pushed")),
        "{}",
        r.text()
    );
    // A fresh store gets both from the registry.
    let fresh = tempfile::Builder::new().prefix("berth-regfresh-").tempdir().expect("tempdir");
    for image in [&app, &base] {
        ok(fresh.path(), &["image", "pull", image]);
    }
    s.down_clean();
}

/// `build --pull`: the FROM image is pulled from its registry first (without it, a base the
/// store lacks is an error that says to pull it); `image build --pull` too.
#[test]
fn build_pull_pulls_the_base_image() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let seed = tempfile::Builder::new().prefix("berth-regseed-").tempdir().expect("tempdir");
    let base = format!("{}/test/base-for-pull:1", reg.addr());
    support::import_busybox(&Roots::new(Some(seed.path())), &base);
    ok(seed.path(), &["image", "push", &base]);
    let mut s = Stack::new("regbuildpull").file("services:\n  app:\n    build: ./app\n    command: [cat, /msg]\n");
    fs::create_dir_all(s.dir.join("app")).expect("mkdir");
    fs::write(s.dir.join("app/Dockerfile"), format!("FROM {base}\nCOPY msg /msg\n")).expect("write");
    fs::write(s.dir.join("app/msg"), "built-on-pulled\n").expect("write");
    let without = s.berth(&["build", "app"]);
    assert!(without.failure().stderr().contains("not found in the local store"), "{}", without.text());
    s.berth(&["build", "--pull", "app"]).success();
    let ran = s.berth(&["run", "--rm", "--no-deps", "app"]);
    assert_eq!(ran.success().stdout(), "built-on-pulled\n", "{}", ran.text());
    let ctx = s.dir.join("app");
    let r = s.berth(&["image", "build", "--pull", "-t", "again:1", ctx.to_str().expect("utf-8")]);
    r.success();
    s.down_clean();
}

/// `push SERVICE` pushes that service's image only; `--include-deps` also the images of the
/// services it depends on that are built here (`build:` and `image:`), as docker compose push.
#[test]
fn push_include_deps_pushes_the_dependencies_images_too() {
    if !support::require_root() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let app = format!("{}/test/app:1", reg.addr());
    let lib = format!("{}/test/lib:1", reg.addr());
    let base = format!("{}/test/base:1", reg.addr());
    let yaml = format!(
        "services:\n  app:\n    image: {app}\n    build: .\n    depends_on: [lib, base]\n  \
         lib:\n    image: {lib}\n    build: .\n  base:\n    image: {base}\n"
    );
    let mut s = Stack::new("regpushdeps").file(&yaml);
    for image in [&app, &lib, &base] {
        support::import_busybox(&s.roots, image);
    }
    let out = s.berth(&["push", "app"]);
    out.success();
    assert!(out.stderr().contains(&format!("Image {app}  Pushed")), "{}", out.text());
    assert!(!out.stderr().contains(&lib), "lib pushed without --include-deps:\n{}", out.text());
    let out = s.berth(&["push", "--include-deps", "app"]);
    out.success();
    assert!(out.stderr().contains(&format!("Image {lib}  Pushed")), "{}", out.text());
    assert!(!out.stderr().contains(&base), "base has no build: it is not pushed:\n{}", out.text());
    // What was pushed is on the registry: a fresh root pulls lib.
    let fresh = tempfile::Builder::new().prefix("berth-regfresh-").tempdir().expect("tempdir");
    ok(fresh.path(), &["image", "pull", &lib]);
    s.down_clean();
}
