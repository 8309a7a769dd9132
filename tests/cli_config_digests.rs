//! `berth config --resolve-image-digests`, `--lock-image-digests` and `--no-normalize`, as a
//! user calls them: images pinned to the digest of berth's local image store (the busybox
//! fixture imported by the test), a lock file that `up` takes as an override, a missing image
//! named by its service (an image only a registry has: tests/registry_pull.rs), and the model without what normalization adds.

mod support;

use support::stack::Stack;

const FILE: &str = r#"
services:
  web:
    image: busybox:latest
    command: [sleep, '1000']
  app:
    image: busybox
    command: [sleep, '1000']
    links: [web]
  built:
    build: ./ctx
"#;

fn digest_of(s: &Stack, reference: &str) -> String {
    berth::image::ImageStore::open(&s.roots).unwrap().resolve(reference).unwrap().manifest_digest
}

fn json(r: &support::stack::Run) -> serde_json::Value {
    r.success();
    serde_json::from_str(&r.stdout()).unwrap_or_else(|e| panic!("{e}: {}", r.stdout()))
}

#[test]
fn resolve_and_lock_image_digests_pin_images_to_the_store_s_digests() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("cfgdigest").image("busybox:latest").file(FILE);
    let digest = digest_of(&s, "busybox:latest");
    let pinned = format!("docker.io/library/busybox:latest@{digest}");
    // --resolve-image-digests: the whole model, `image:` pinned in full (as compose-go writes it).
    let model = json(&s.berth(&["config", "--format", "json", "--resolve-image-digests"]));
    assert_eq!(model["services"]["web"]["image"], pinned.as_str());
    assert_eq!(model["services"]["app"]["image"], pinned.as_str(), "`busybox` is busybox:latest");
    assert!(model["services"]["built"].get("image").is_none(), "a build without image stays so");
    assert!(model["services"]["web"]["command"].is_array(), "the rest of the model is there");
    let yaml = s.berth(&["config", "--resolve-image-digests"]);
    yaml.success();
    assert!(yaml.stdout().contains(&format!("image: {pinned}")), "{}", yaml.stdout());
    // --lock-image-digests: an override holding the pinned images only.
    let lock = s.berth(&["config", "--lock-image-digests"]);
    lock.success();
    let doc: serde_yaml::Value = serde_yaml::from_str(&lock.stdout()).unwrap();
    let expected: serde_yaml::Value =
        serde_yaml::from_str(&format!("services:\n  web:\n    image: {pinned}\n  app:\n    image: {pinned}\n"))
            .unwrap();
    assert_eq!(doc, expected, "{}", lock.stdout());
    // … which `up` takes as an override: the containers run the pinned image.
    let lock_file = s.dir.join("compose.lock.yaml");
    std::fs::write(&lock_file, lock.stdout()).unwrap();
    let lock_path = lock_file.to_string_lossy().into_owned();
    // --pull never: nothing here may reach a registry.
    s.berth(&["-f", &lock_path, "up", "-d", "--pull", "never", "web"]).success();
    let cfg = berth::runtime::Runtime::new(&s.roots).config(&s.name("web", 1)).unwrap();
    let id = berth::image::ImageStore::open(&s.roots).unwrap().resolve(&pinned).unwrap().id;
    assert_eq!(cfg.labels.get("berth.image"), Some(&id), "the pinned image runs");
    assert!(s.runtime_state("web", 1).is_some_and(|st| st.is_running()));
    let resolved = json(&s.berth(&["-f", &lock_path, "config", "--format", "json"]));
    assert_eq!(resolved["services"]["web"]["image"], pinned.as_str());
    // An image the store does not have, whose registry cannot answer (nothing listens on
    // 127.0.0.1 at that port: no traffic leaves the host): an error naming its service.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let extra = s.dir.join("extra.yaml");
    std::fs::write(&extra, format!("services:\n  ghost:\n    image: 127.0.0.1:{port}/nothing:1\n")).unwrap();
    let r = s.berth(&["-f", &extra.to_string_lossy(), "config", "--lock-image-digests"]);
    r.failure();
    let err = r.stderr();
    assert!(err.contains("service `ghost`") && err.contains("not in berth's image store"), "{err}");
    assert!(err.contains("connection refused"), "{err}");
    s.down_clean();
}

#[test]
fn no_normalize_leaves_out_the_implicit_network_and_dependencies() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), FILE).unwrap();
    std::fs::create_dir(dir.path().join("ctx")).unwrap();
    let config = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(["-p", "nonorm", "config", "--format", "json"])
            .args(extra)
            .current_dir(dir.path())
            .env_remove("COMPOSE_FILE")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let normal = config(&[]);
    assert!(normal["services"]["web"]["networks"].get("default").is_some());
    assert!(normal["networks"].get("default").is_some());
    assert!(normal["services"]["app"]["depends_on"].get("web").is_some(), "links imply depends_on");
    let raw = config(&["--no-normalize"]);
    assert!(raw["services"]["web"].get("networks").is_none(), "{}", raw["services"]["web"]);
    assert!(raw.get("networks").is_none_or(|n| n.get("default").is_none()), "{raw}");
    assert!(raw["services"]["app"].get("depends_on").is_none(), "{}", raw["services"]["app"]);
    // A network the file names is kept.
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  a:\n    image: x\n    networks: [default]\nnetworks:\n  default: {}\n",
    )
    .unwrap();
    let kept = config(&["--no-normalize"]);
    assert!(kept["services"]["a"]["networks"].get("default").is_some() && kept["networks"].get("default").is_some());
}
