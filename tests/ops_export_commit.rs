//! Issue 18: `export`, `commit`, `image tag`, `image save` and `image load` against real
//! containers and the real store: an export holds the container's files but not its mounts;
//! a commit is a new image whose containers see the changes (deletions included); images
//! saved, removed and loaded again (from a file and from stdin) run as before.

mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use support::stack::{path_in, sh, Stack};

const STACK: &str = "services:
  app:
    image: busybox:latest
    command: [sleep, '1000']
    volumes: ['./data:/data']
  done:
    image: busybox:latest
    command: [sh, -c, 'echo made > /made']
";

/// Name → (type, contents) of every entry of a tar.
fn entries(bytes: &[u8]) -> BTreeMap<String, (tar::EntryType, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut ar = tar::Archive::new(bytes);
    for e in ar.entries().expect("a tar") {
        let mut e = e.expect("an entry");
        let name = e.path().unwrap().display().to_string().trim_end_matches('/').to_string();
        let mut body = Vec::new();
        e.read_to_end(&mut body).unwrap();
        out.insert(name, (e.header().entry_type(), body));
    }
    out
}

#[test]
fn export_holds_the_filesystem_without_mounts() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("export").image("busybox:latest").file(STACK);
    std::fs::create_dir_all(path_in(&s, "data")).unwrap();
    std::fs::write(path_in(&s, "data/on-the-volume"), "volume\n").unwrap();
    s.up(&["-d"]).success();
    sh(&s, "app", "echo changed > /changed && rm /bin/ls").success();

    let out = s.tmp.path().join("app.tar");
    s.berth(&["export", "app", "-o", out.to_str().unwrap()]).success();
    let tar = entries(&std::fs::read(&out).unwrap());
    assert_eq!(tar["changed"].1, b"changed\n");
    assert!(tar.contains_key("bin/busybox") && tar.contains_key("bin/sh"), "image files are there");
    assert!(!tar.contains_key("bin/ls"), "a file deleted in the container is not");
    assert!(tar.contains_key("data") && !tar.contains_key("data/on-the-volume"), "a volume is not exported");
    assert!(tar.contains_key("proc") && !tar.keys().any(|k| k.starts_with("proc/")), "nor /proc's contents");
    assert!(!tar.keys().any(|k| k.starts_with("sys/")), "nor /sys's");
    assert_eq!(tar.get("etc/hostname").map(|e| e.1.len()), Some(0), "bound files are empty mount points");
    let leftovers: Vec<_> = std::fs::read_dir(s.tmp.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // To stdout (not a terminal here), and of a stopped container.
    let piped_out = s.berth(&["export", "app"]);
    assert_eq!(entries(&piped_out.success().out.stdout)["changed"].1, b"changed\n");
    s.eventually(Duration::from_secs(10), "`done` to exit", || {
        s.runtime_state("done", 1).is_some_and(|st| !st.is_running())
    });
    let stopped = s.berth(&["export", "done"]);
    assert_eq!(entries(&stopped.success().out.stdout)["made"].1, b"made\n");
    let r = s.berth(&["export", "nosuch", "-o", out.to_str().unwrap()]);
    assert!(r.failure().stderr().contains("nosuch"), "{}", r.stderr());
    s.down_clean();
}

#[test]
fn commit_then_save_remove_load_and_run() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("commit").image("busybox:latest").file(STACK);
    std::fs::create_dir_all(path_in(&s, "data")).unwrap();
    s.up(&["-d"]).success();
    sh(&s, "app", "echo committed > /committed && rm /bin/ls").success();

    let id = s.berth(&["commit", "-m", "seed data", "app", "committed/app:1"]).success().stdout();
    assert!(id.trim().starts_with("sha256:"), "{id}");
    let st = s.runtime_state("app", 1).expect("state");
    assert!(st.is_running() && !st.paused, "commit leaves the container running: {st:?}");
    let check = "cat /committed; test -e /bin/ls && echo ls-present || echo ls-gone";
    let ran = s.berth(&["run", "--rm", "committed/app:1", "sh", "-c", check]);
    assert_eq!(ran.success().stdout(), "committed\nls-gone\n");
    let inspect = s.berth(&["image", "inspect", "committed/app:1"]).success().stdout();
    assert!(inspect.contains(id.trim()), "{inspect}");

    // tag, then save both images to one archive in the docker-save format.
    s.berth(&["image", "tag", "busybox:latest", "saved/bb:2"]).success();
    let archive = s.tmp.path().join("images.tar");
    s.berth(&["image", "save", "-o", archive.to_str().unwrap(), "saved/bb:2", "committed/app:1"]).success();
    let tar = entries(&std::fs::read(&archive).unwrap());
    let manifest: serde_json::Value = serde_json::from_slice(&tar["manifest.json"].1).unwrap();
    let list = manifest.as_array().expect("manifest.json is a list");
    assert_eq!(list.len(), 2, "{manifest}");
    let tags: Vec<&str> =
        list.iter().flat_map(|m| m["RepoTags"].as_array().unwrap()).map(|t| t.as_str().unwrap()).collect();
    assert_eq!(tags, ["saved/bb:2", "committed/app:1"]);
    for m in list {
        assert!(tar.contains_key(m["Config"].as_str().unwrap()), "config in the archive");
        for l in m["Layers"].as_array().unwrap() {
            assert!(tar.contains_key(l.as_str().unwrap()), "layer {l} in the archive");
        }
    }
    assert_eq!(list[1]["Layers"].as_array().unwrap().len(), 2, "busybox's layer and the commit's");
    assert!(tar.contains_key("index.json") && tar.contains_key("oci-layout"), "and an OCI layout");

    // Remove, load from the file, run; remove, load from stdin, run.
    for how in ["file", "stdin"] {
        s.berth(&["image", "rm", "committed/app:1"]).success();
        s.berth(&["image", "rm", "saved/bb:2"]).success();
        // --pull never: a missing image must not send `run` to a registry (docker.io, through
        // the host's resolver) from a test.
        s.berth(&["run", "--rm", "--pull", "never", "committed/app:1", "true"]).failure();
        let loaded = match how {
            "file" => s.berth(&["image", "load", "-i", archive.to_str().unwrap()]),
            _ => s.piped(&["image", "load"], std::fs::read(&archive).unwrap()),
        };
        let said = loaded.success().stdout();
        assert!(said.contains("Loaded image: committed/app:1") && said.contains("Loaded image: saved/bb:2"), "{said}");
        let ran = s.berth(&["run", "--rm", "committed/app:1", "sh", "-c", check]);
        assert_eq!(ran.success().stdout(), "committed\nls-gone\n", "loaded from {how}");
    }
    // Not an image archive: an error naming the file.
    let bogus = s.tmp.path().join("bogus.tar");
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o644);
    b.append_data(&mut h, "x", &b"x"[..]).unwrap();
    std::fs::write(&bogus, b.into_inner().unwrap()).unwrap();
    let r = s.berth(&["image", "load", "-i", bogus.to_str().unwrap()]);
    assert!(r.failure().stderr().contains("bogus.tar"), "{}", r.stderr());
    s.down_clean();
}

/// `commit -a AUTHOR -c INSTRUCTION…`: the new image records its author, and the config-only
/// Dockerfile instructions apply to it (its containers run the new CMD with the new ENV and
/// WORKDIR); an instruction that would need a build (RUN) is refused, naming it.
#[test]
fn commit_author_and_changes() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("commitc").image("busybox:latest").file(STACK);
    std::fs::create_dir_all(path_in(&s, "data")).unwrap();
    s.up(&["-d", "app"]).success();
    let changes =
        ["ENV GREETING=hi", "WORKDIR /srv", "CMD [\"sh\", \"-c\", \"echo $GREETING from $(pwd)\"]", "LABEL stage=seed"];
    let mut args = vec!["commit", "-a", "Jane Doe <jane@example.com>"];
    for c in &changes {
        args.extend(["-c", c]);
    }
    args.extend(["app", "committed/changed:1"]);
    s.berth(&args).success();
    let ran = s.berth(&["run", "--rm", "--pull", "never", "committed/changed:1"]);
    assert_eq!(ran.success().stdout(), "hi from /srv\n", "{}", ran.text());
    let inspect = s.berth(&["image", "inspect", "committed/changed:1"]).success().stdout();
    assert!(inspect.contains("stage"), "{inspect}");
    let store = berth::image::ImageStore::open(&s.roots).expect("store");
    let resolved = store.resolve("committed/changed:1").expect("resolve");
    let blob = s.roots.images().join("blobs/sha256").join(resolved.id.trim_start_matches("sha256:"));
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(blob).expect("config blob")).unwrap();
    assert_eq!(config["author"], "Jane Doe <jane@example.com>");
    let refused = s.berth(&["commit", "-c", "RUN touch /x", "app", "committed/bad:1"]);
    assert!(refused.failure().stderr().contains("RUN touch /x"), "{}", refused.text());
    s.down_clean();
}
