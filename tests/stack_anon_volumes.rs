//! End-to-end anonymous volumes through the real `berth` CLI, as Docker Compose keeps them: an
//! image `VOLUME` gets an anonymous volume seeded with the image's content, handed over to the
//! new container on a config-changing recreate, replaced by a fresh one with `up -V`, kept
//! (orphaned) by `down` while the next `up` makes a new one, removed by `rm -v` and `down -v`,
//! and not made at all when a service mount covers the path. Also `down --rmi` once the
//! containers are gone (the images then come from the project record and the stack file).

mod support;

use support::stack::{sh, sh_until_ok, Stack};

/// A built image with `VOLUME /data` holding a seed file; `GEN` changes the service config.
fn stack_yaml(generation: u32, data_mount: &str) -> String {
    format!(
        r#"
services:
  db:
    build:
      context: .
      dockerfile_inline: |
        FROM busybox:latest
        RUN mkdir -p /data && echo seed > /data/seed
        VOLUME /data
    environment: {{GEN: "{generation}"}}
    command: [sleep, "600"]
{data_mount}volumes:
  named: {{}}
"#
    )
}

/// The project's anonymous volumes (64-hex names, as Docker's), sorted.
fn anon_volumes(s: &Stack) -> Vec<String> {
    let r = s.berth(&["volume", "ls", "-q"]);
    r.success();
    let mut v: Vec<String> = r
        .stdout()
        .lines()
        .filter(|n| n.len() == 64 && n.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn created_at(s: &Stack) -> String {
    s.runtime_state("db", 1).expect("db-1 exists").created_at
}

#[test]
fn image_volume_is_seeded_kept_on_recreate_renewed_by_v_and_orphaned_by_down() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("anonvol").image("busybox:latest").file(&stack_yaml(1, ""));
    s.up(&["-d"]).success();
    let first = anon_volumes(&s);
    assert_eq!(first.len(), 1, "one anonymous volume for VOLUME /data: {first:?}");
    assert_eq!(sh_until_ok(&s, "db", "cat /data/seed"), "seed\n");
    let vm = berth::reconciler::mounts::volume_manager(&s.roots);
    let info = vm.get(&first[0]).expect("volume");
    assert_eq!(info.project.as_deref(), Some(s.project.as_str()));
    assert_eq!(std::fs::read_to_string(info.path.join("seed")).expect("seed in the volume"), "seed\n");
    let ls = s.berth(&["volume", "ls"]);
    assert!(ls.success().stdout().lines().any(|l| l.contains(&first[0]) && l.contains(&s.project)), "{}", ls.text());

    // Unchanged stack: nothing happens (the generated name is not part of the config hash).
    let t0 = created_at(&s);
    s.up(&["-d"]).success();
    assert_eq!(created_at(&s), t0, "up on an unchanged stack recreated db");
    assert_eq!(anon_volumes(&s), first);

    // A config change recreates db; its data comes along.
    sh(&s, "db", "echo kept > /data/mine").success();
    s.write(&stack_yaml(2, ""));
    let plan = s.berth(&["plan"]);
    assert!(plan.success().stdout().contains("keeps anonymous volumes at /data"), "{}", plan.text());
    s.up(&["-d"]).success();
    assert_ne!(created_at(&s), t0, "a changed environment must recreate db");
    assert_eq!(sh_until_ok(&s, "db", "cat /data/mine"), "kept\n", "data lost on recreate");
    assert_eq!(anon_volumes(&s), first, "the recreated container took over the volume");

    // -V: a fresh, seeded volume; the old one goes with the old container.
    let t1 = created_at(&s);
    s.up(&["-d", "-V"]).success();
    assert_ne!(created_at(&s), t1, "-V recreates");
    let renewed = anon_volumes(&s);
    assert_eq!(renewed.len(), 1, "{renewed:?}");
    assert_ne!(renewed, first, "-V kept the old volume");
    assert_eq!(sh_until_ok(&s, "db", "cat /data/seed; ls /data"), "seed\nseed\n");

    // down keeps the volume; the next up's new container gets a new one (as Compose).
    sh(&s, "db", "echo second > /data/mine").success();
    s.berth(&["down", "-t", "1"]).success();
    assert_eq!(anon_volumes(&s), renewed, "down removed the anonymous volume");
    s.up(&["-d"]).success();
    let after = anon_volumes(&s);
    assert_eq!(after.len(), 2, "a new container, a new volume; the old one stays: {after:?}");
    assert_eq!(sh_until_ok(&s, "db", "ls /data"), "seed\n", "the new container got the orphan's data");

    // rm -v takes the container's own volume, not the orphan of its predecessor.
    s.berth(&["rm", "-s", "-f", "-v", "db"]).success();
    assert_eq!(anon_volumes(&s), renewed, "rm -v removed the wrong volume");

    // down -v removes every anonymous volume of the project, orphans included.
    s.up(&["-d"]).success();
    s.berth(&["down", "-v", "-t", "1"]).success();
    assert!(anon_volumes(&s).is_empty(), "down -v kept {:?}", anon_volumes(&s));
    s.berth(&["down", "--rmi", "local"]).success();
    s.down_clean();
}

#[test]
fn a_service_mount_on_the_path_replaces_the_image_volume() {
    if !support::require_root() {
        return;
    }
    let named = "    volumes: [named:/data]\n";
    let mut s = Stack::new("anonnamed").image("busybox:latest").file(&stack_yaml(1, named));
    s.up(&["-d"]).success();
    assert!(anon_volumes(&s).is_empty(), "a named volume on /data still got {:?}", anon_volumes(&s));
    // The named volume was empty, so it got the image's content.
    assert_eq!(sh_until_ok(&s, "db", "cat /data/seed"), "seed\n");
    let vols = s.berth(&["volume", "ls", "-q"]);
    assert_eq!(vols.success().stdout().trim(), format!("{}_named", s.project));

    // A tmpfs on the path: no anonymous volume either.
    s.write(&stack_yaml(1, "    tmpfs: [/data]\n"));
    s.up(&["-d"]).success();
    assert!(anon_volumes(&s).is_empty(), "a tmpfs on /data still got {:?}", anon_volumes(&s));
    assert_eq!(sh_until_ok(&s, "db", "ls -A /data | wc -l").trim(), "0");
    s.berth(&["down", "-v", "-t", "1", "--rmi", "local"]).success();
    s.down_clean();
}

/// Whether the image store holds `reference`.
fn has_image(s: &Stack, reference: &str) -> bool {
    let store = berth::image::ImageStore::open(&s.roots).expect("store");
    store.resolve(reference).is_ok()
}

#[test]
fn down_rmi_works_when_the_containers_are_gone() {
    if !support::require_root() {
        return;
    }
    let yaml = "services:
  app:
    build:
      context: .
      dockerfile_inline: |
        FROM busybox:latest
        RUN echo built > /built
    command: [sleep, '600']
  side:
    image: busybox:latest
    command: [sleep, '600']
";
    let mut s = Stack::new("anonrmi").image("busybox:latest").file(yaml);
    let built = format!("{}-app", s.project);
    s.up(&["-d"]).success();
    assert!(has_image(&s, &built));
    // The containers go first; `down --rmi local` still finds the built image.
    s.berth(&["rm", "-s", "-f"]).success();
    assert!(support::stack::containers_of(&s.roots, &s.project).is_empty());
    s.berth(&["down", "--rmi", "local", "-t", "1"]).success();
    assert!(!has_image(&s, &built), "down --rmi local kept {built}");
    assert!(has_image(&s, "busybox:latest"), "--rmi local removed a custom-tagged image");

    // After a plain `down` (no project record left), `--rmi all` takes the stack file's images.
    s.up(&["-d"]).success();
    s.berth(&["down", "-t", "1"]).success();
    s.berth(&["down", "--rmi", "all"]).success();
    assert!(!has_image(&s, &built), "down --rmi all kept {built}");
    assert!(!has_image(&s, "busybox:latest"), "down --rmi all kept busybox:latest");
    s.down_clean();
}
