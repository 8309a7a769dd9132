//! Issue 18: `berth cp` against real containers, as a user calls it: files and directories in
//! both directions with docker cp's placement rules, `-a`, `-` tar streams, a stopped
//! container (and its bind mount), and the attacks: symlinks in the container pointing at the
//! host's /etc, at `../../..`, or at a host path, must never let `cp` read or write host files.

mod support;

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use support::stack::{path_in, sh, Stack};

const STACK: &str = "services:
  app:
    image: busybox:latest
    command: [sleep, '1000']
  done:
    image: busybox:latest
    command: [sh, -c, 'echo made > /made']
    volumes: ['./data:/data']
";

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn cp_copies_both_ways_with_docker_rules() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("cp").image("busybox:latest").file(STACK);
    std::fs::create_dir_all(path_in(&s, "data")).unwrap();
    s.up(&["-d", "--scale", "app=2"]).success();
    sh(&s, "app", "mkdir -p /srv/d/sub && echo hi > /srv/d/a.txt && echo deep > /srv/d/sub/b && ln -s a.txt /srv/d/link && chown 123:45 /srv/d/a.txt && chmod 640 /srv/d/a.txt").success();
    let host = s.tmp.path().join("host");
    std::fs::create_dir(&host).unwrap();

    // Out: a directory to a new name, then into an existing directory.
    let said = s.berth(&["cp", "app:/srv/d", host.join("out").to_str().unwrap()]).success().stderr();
    assert!(said.contains("Successfully copied"), "{said}");
    assert_eq!(read(&host.join("out/a.txt")), "hi\n");
    assert_eq!(read(&host.join("out/sub/b")), "deep\n");
    assert_eq!(std::fs::read_link(host.join("out/link")).unwrap(), Path::new("a.txt"));
    let m = std::fs::metadata(host.join("out/a.txt")).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o777), (0, 0o640), "without -a the copy is the caller's, mode kept");
    s.berth(&["cp", "app:/srv/d", host.join("out").to_str().unwrap()]).success();
    assert_eq!(read(&host.join("out/d/sub/b")), "deep\n", "into an existing directory: DEST/d");
    // `d/.`: the contents; `-a`: owners kept.
    std::fs::create_dir(host.join("flat")).unwrap();
    s.berth(&["cp", "-a", "app:/srv/d/.", host.join("flat").to_str().unwrap()]).success();
    let m = std::fs::metadata(host.join("flat/a.txt")).unwrap();
    assert_eq!((m.uid(), m.gid()), (123, 45), "-a keeps uid and gid");
    // A file to a file name, and a missing `dir/` is an error naming it.
    s.berth(&["cp", "app:/srv/d/sub/b", host.join("b.txt").to_str().unwrap()]).success();
    assert_eq!(read(&host.join("b.txt")), "deep\n");
    let r = s.berth(&["cp", "app:/srv/d/a.txt", &format!("{}/", host.join("nodir").display())]);
    assert!(r.failure().stderr().contains("nodir"), "{}", r.stderr());
    let r = s.berth(&["cp", "app:/srv/none", host.join("x").to_str().unwrap()]);
    assert!(r.failure().stderr().contains("app:/srv/none"), "{}", r.stderr());

    // In: a directory, its contents, and a file over an existing one.
    let src = host.join("in");
    std::fs::create_dir_all(src.join("deeper")).unwrap();
    std::fs::write(src.join("x"), "from host\n").unwrap();
    std::fs::write(src.join("deeper/y"), "yy\n").unwrap();
    std::os::unix::fs::chown(src.join("x"), Some(1000), Some(1000)).unwrap();
    s.berth(&["cp", src.to_str().unwrap(), "app:/srv/"]).success();
    assert_eq!(sh(&s, "app", "cat /srv/in/x /srv/in/deeper/y").success().stdout(), "from host\nyy\n");
    assert_eq!(sh(&s, "app", "stat -c %u:%g /srv/in/x").stdout().trim(), "0:0", "without -a: root's");
    s.berth(&["cp", "-a", &format!("{}/.", src.display()), "app:/srv/d"]).success();
    assert_eq!(sh(&s, "app", "stat -c %u:%g /srv/d/x").stdout().trim(), "1000:1000", "-a keeps the owner");
    s.berth(&["cp", src.join("x").to_str().unwrap(), "app:/srv/d/a.txt"]).success();
    assert_eq!(sh(&s, "app", "cat /srv/d/a.txt").stdout(), "from host\n");
    let r = s.berth(&["cp", src.to_str().unwrap(), "app:/srv/d/a.txt"]);
    assert!(r.failure().stderr().contains("cannot copy a directory to a file"), "{}", r.stderr());

    // --index picks the replica.
    s.berth(&["cp", "--index", "2", src.join("x").to_str().unwrap(), "app:/only2"]).success();
    assert_eq!(s.berth(&["exec", "--index", "2", "app", "cat", "/only2"]).success().stdout(), "from host\n");
    s.berth(&["exec", "app", "test", "-e", "/only2"]).failure();

    // Streams: out as a tar on stdout, in from a tar on stdin.
    let r = s.berth(&["cp", "app:/srv/d/sub", "-"]);
    let mut names = Vec::new();
    let mut ar = tar::Archive::new(r.success().out.stdout.as_slice());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        let mut body = String::new();
        e.read_to_string(&mut body).unwrap();
        names.push((name, body));
    }
    assert_eq!(names, vec![("sub".into(), String::new()), ("sub/b".into(), "deep\n".into())]);
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(7);
    h.set_mode(0o600);
    b.append_data(&mut h, "t/streamed", &b"via tar"[..]).unwrap();
    s.piped(&["cp", "-", "app:/srv"], b.into_inner().unwrap()).success();
    assert_eq!(sh(&s, "app", "cat /srv/t/streamed").stdout(), "via tar");

    // A stopped container: read its files, write into its rootfs and its bind mount.
    s.eventually(Duration::from_secs(10), "`done` to exit", || {
        s.runtime_state("done", 1).is_some_and(|st| !st.is_running())
    });
    s.berth(&["cp", "done:/made", host.join("made").to_str().unwrap()]).success();
    assert_eq!(read(&host.join("made")), "made\n");
    s.berth(&["cp", src.join("x").to_str().unwrap(), "done:/data/"]).success();
    assert_eq!(read(&path_in(&s, "data/x")), "from host\n", "a stopped container's bind mount");
    s.berth(&["cp", src.join("x").to_str().unwrap(), "done:/put"]).success();
    s.berth(&["cp", "done:/put", host.join("put").to_str().unwrap()]).success();
    assert_eq!(read(&host.join("put")), "from host\n", "written into the stopped container's rootfs");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let root = s.tmp.path().display().to_string();
    let leaked: Vec<&str> = mounts.lines().filter(|l| l.contains(&root) && l.contains(" - overlay ")).collect();
    assert!(leaked.is_empty(), "a stopped container's overlay showed on the host: {leaked:?}");
    s.down_clean();
}

#[test]
fn container_symlinks_never_reach_host_files() {
    if !support::require_root() {
        return;
    }
    let mut s = Stack::new("cpattack").image("busybox:latest").file(STACK);
    std::fs::create_dir_all(path_in(&s, "data")).unwrap();
    s.up(&["-d"]).success();
    // Host files the container must not reach: a secret to read, a file and a directory to
    // overwrite or fill.
    let hostside = s.tmp.path().join("hostside");
    std::fs::create_dir(&hostside).unwrap();
    let secret = hostside.join("secret");
    std::fs::write(&secret, "HOST SECRET\n").unwrap();
    let victim_dir = hostside.join("victim");
    std::fs::create_dir(&victim_dir).unwrap();
    let hs = hostside.display().to_string();
    let plant = format!(
        "mkdir -p /srv && cd /srv && ln -s /etc etc2 && ln -s ../../../../../../../.. up && \
         ln -s {hs}/secret leak && ln -s ../../../../../../..{hs}/secret leak2 && ln -s {hs}/victim vdir && \
         ln -s {hs}/secret vfile && ln -s /proc/1/root/ procroot"
    );
    sh(&s, "app", &plant).success();
    let out = s.tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let payload = s.tmp.path().join("payload");
    std::fs::write(&payload, "PWNED\n").unwrap();
    let p = payload.to_str().unwrap();

    // Reads: every one resolves inside the container, where these host paths do not exist.
    for (i, src) in ["app:/srv/leak", "app:/srv/leak2", &format!("app:/srv/up{hs}/secret"), "app:/srv/up/etc/hostname"]
        .iter()
        .enumerate()
    {
        for flags in [&[][..], &["-L"][..]] {
            let dest = out.join(format!("r{i}{}", flags.len()));
            let mut args = vec!["cp"];
            args.extend_from_slice(flags);
            args.extend_from_slice(&[src, dest.to_str().unwrap()]);
            let _ = s.berth(&args);
            // Without -L a symlink is copied as a symlink (as docker cp does): what counts is
            // whether cp itself read the host file into a file of its own.
            let copied = std::fs::symlink_metadata(&dest).is_ok_and(|m| m.is_file());
            let got = if copied { read(&dest) } else { String::new() };
            assert!(!got.contains("HOST SECRET"), "{src} {flags:?} read the host's secret");
        }
    }
    // `app:/srv/up/etc/hostname` is the container's own /etc/hostname (.. clamps at its root).
    let hostname = sh(&s, "app", "cat /etc/hostname").stdout();
    assert_eq!(read(&out.join("r30")).trim(), hostname.trim());
    let r = s.berth(&["cp", "-L", "app:/srv/leak", out.join("l").to_str().unwrap()]);
    assert!(r.failure().stderr().contains("app:/srv/leak"), "{}", r.stderr());

    // Writes: every one lands inside the container.
    for dest in [
        "app:/srv/etc2/berth-pwned",
        "app:/srv/up/etc/berth-pwned2",
        "app:/srv/vdir/",
        "app:/srv/vdir/x",
        "app:/srv/vfile",
        "app:/srv/procroot/berth-pwned3",
        &format!("app:/srv/up{hs}/victim/y"),
    ] {
        let _ = s.berth(&["cp", p, dest]);
    }
    for host_path in ["/etc/berth-pwned", "/etc/berth-pwned2", "/berth-pwned3"] {
        assert!(!Path::new(host_path).exists(), "cp wrote {host_path} on the host");
    }
    assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0, "cp wrote into a host directory");
    assert_eq!(read(&secret), "HOST SECRET\n", "cp overwrote a host file");
    assert_eq!(sh(&s, "app", "cat /etc/berth-pwned").stdout(), "PWNED\n", "the write lands in the container");
    // A tar stream planting a symlink then writing through it is refused.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    b.append_link(&mut h, "esc", &victim_dir).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(6);
    h.set_mode(0o644);
    b.append_data(&mut h, "esc/z", &b"PWNED\n"[..]).unwrap();
    let r = s.piped(&["cp", "-", "app:/srv"], b.into_inner().unwrap());
    assert!(r.failure().stderr().contains("symlink"), "{}", r.stderr());
    assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0, "a tar stream wrote into a host directory");
    // Out: a device node the container made (CAP_MKNOD) is not planted on the host.
    sh(&s, "app", "mkdir /srv/devd && busybox mknod -m 666 /srv/devd/mem c 1 1 && echo x > /srv/devd/f").success();
    let r = s.berth(&["cp", "app:/srv/devd", out.join("devd").to_str().unwrap()]);
    assert!(r.success().stderr().contains("device node not copied"), "{}", r.stderr());
    assert!(out.join("devd/f").is_file() && std::fs::symlink_metadata(out.join("devd/mem")).is_err());
    // Out: a symlink to a host path is copied as a symlink, never followed.
    s.berth(&["cp", "app:/srv/.", out.join("srv").to_str().unwrap()]).success();
    assert_eq!(std::fs::read_link(out.join("srv/leak")).unwrap(), secret);
    s.down_clean();
}
