//! A deterministic busybox test image, built at test time from Debian's busybox-static
//! (`/bin/busybox`), as DESIGN.md asks: no registry, no network.
//!
//! The same entry list feeds both the rootfs directory and the tar, so the two always agree;
//! the tar has fixed mtimes, owners and entry order, so it is bit-identical across runs
//! (and so is the image id an import of it yields).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where the static busybox comes from (Debian's busybox-static package).
pub const BUSYBOX: &str = "/bin/busybox";

/// Applets linked into bin/ (a fixed list, not `busybox --list`, so the layout never drifts).
pub const APPLETS: &[&str] = &[
    "sh",
    "ash",
    "ls",
    "cat",
    "echo",
    "sleep",
    "true",
    "false",
    "id",
    "ps",
    "wget",
    "nc",
    "httpd",
    "mount",
    "umount",
    "hostname",
    "grep",
    "sed",
    "awk",
    "env",
    "kill",
    "head",
    "tail",
    "wc",
    "touch",
    "mkdir",
    "rm",
    "rmdir",
    "dd",
    "stat",
    "printf",
    "test",
    "[",
    "[[",
    "cp",
    "mv",
    "ln",
    "chmod",
    "chown",
    "cut",
    "date",
    "df",
    "du",
    "find",
    "free",
    "init",
    "ip",
    "ifconfig",
    "nslookup",
    "pidof",
    "ping",
    "pwd",
    "readlink",
    "seq",
    "sort",
    "tee",
    "timeout",
    "top",
    "tr",
    "uname",
    "uniq",
    "vi",
    "which",
    "whoami",
    "xargs",
    "yes",
    "nproc",
    "setsid",
    "sync",
    "basename",
    "dirname",
    "mktemp",
    "more",
    "less",
    "expr",
    "groups",
    "su",
    "sysctl",
    "ulimit",
    "usleep",
    "watch",
    "zcat",
    "gzip",
    "tar",
    "md5sum",
    "sha256sum",
    "hexdump",
    "od",
    "nohup",
    "netstat",
    "mkfifo",
    "mknod",
    "chroot",
    "unshare",
    "nsenter",
    "setpriv",
    "logger",
];

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
app:x:1000:1000:app:/home/app:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";

const GROUP: &str = "root:x:0:\n\
app:x:1000:\n\
extra:x:2000:app\n\
nogroup:x:65534:\n";

/// One entry of the fixture: what it is, its path (relative), mode, owner.
enum Entry {
    Dir { path: &'static str, mode: u32, uid: u64, gid: u64 },
    File { path: &'static str, mode: u32, data: Vec<u8> },
    Symlink { path: String, target: &'static str },
}

/// The fixture's entries, in tar order (parents before children).
fn entries() -> Vec<Entry> {
    let busybox = fs::read(BUSYBOX).unwrap_or_else(|e| panic!("read {BUSYBOX}: {e} (install busybox-static)"));
    let mut v = vec![
        Entry::Dir { path: "bin", mode: 0o755, uid: 0, gid: 0 },
        Entry::File { path: "bin/busybox", mode: 0o755, data: busybox },
    ];
    for applet in APPLETS {
        v.push(Entry::Symlink { path: format!("bin/{applet}"), target: "busybox" });
    }
    for (path, mode) in [
        ("dev", 0o755),
        ("etc", 0o755),
        ("proc", 0o555),
        ("sys", 0o555),
        ("root", 0o700),
        ("tmp", 0o1777),
        ("home", 0o755),
        ("usr", 0o755),
        ("usr/bin", 0o755),
        ("var", 0o755),
    ] {
        v.push(Entry::Dir { path, mode, uid: 0, gid: 0 });
    }
    v.push(Entry::Dir { path: "home/app", mode: 0o755, uid: 1000, gid: 1000 });
    v.push(Entry::File { path: "etc/passwd", mode: 0o644, data: PASSWD.as_bytes().to_vec() });
    v.push(Entry::File { path: "etc/group", mode: 0o644, data: GROUP.as_bytes().to_vec() });
    v.push(Entry::File { path: "etc/hostname", mode: 0o644, data: b"busybox\n".to_vec() });
    v.push(Entry::File { path: "etc/hosts", mode: 0o644, data: b"127.0.0.1\tlocalhost\n::1\tlocalhost\n".to_vec() });
    v.push(Entry::File { path: "etc/resolv.conf", mode: 0o644, data: Vec::new() });
    v
}

/// Build the busybox rootfs under `dir/rootfs` (replacing any previous one) and return its path.
/// Ownership is applied only when running as root (unit-style callers may not be).
pub fn busybox_rootfs(dir: &Path) -> PathBuf {
    let root = dir.join("rootfs");
    if root.exists() {
        fs::remove_dir_all(&root).expect("remove old rootfs");
    }
    fs::create_dir_all(&root).expect("create rootfs dir");
    let is_root = nix::unistd::geteuid().is_root();
    for e in entries() {
        match e {
            Entry::Dir { path, mode, uid, gid } => {
                let p = root.join(path);
                fs::create_dir_all(&p).expect("mkdir");
                if is_root {
                    std::os::unix::fs::chown(&p, Some(uid as u32), Some(gid as u32)).expect("chown");
                }
                fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
            }
            Entry::File { path, mode, data } => {
                let p = root.join(path);
                fs::write(&p, &data).expect("write fixture file");
                fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
            }
            Entry::Symlink { path, target } => symlink(target, root.join(path)).expect("symlink"),
        }
    }
    root
}

/// Write the busybox rootfs as a plain (uncompressed) tar at `dir/busybox-rootfs.tar`:
/// fixed mtime 0, owner root (except home/app), ustar headers, fixed order; bit-identical
/// across runs on the same busybox binary.
pub fn busybox_rootfs_tar(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).expect("create tar dir");
    let path = dir.join("busybox-rootfs.tar");
    let mut b = tar::Builder::new(Vec::new());
    for e in entries() {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        match e {
            Entry::Dir { path, mode, uid, gid } => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(mode);
                h.set_uid(uid);
                h.set_gid(gid);
                h.set_size(0);
                b.append_data(&mut h, format!("{path}/"), std::io::empty()).expect("tar dir");
            }
            Entry::File { path, mode, data } => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(mode);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, path, data.as_slice()).expect("tar file");
            }
            Entry::Symlink { path, target } => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, path, target).expect("tar symlink");
            }
        }
    }
    let bytes = b.into_inner().expect("finish tar");
    let mut f = fs::File::create(&path).expect("create tar");
    f.write_all(&bytes).expect("write tar");
    f.sync_all().expect("sync tar");
    path
}

/// Import the busybox fixture into the store at `roots` as `name` (e.g. "busybox:test") and
/// return the image id (config digest, `sha256:…`). The tar is built in a temp dir under the
/// state root, so nothing lands outside the test's own root.
pub fn import_busybox(roots: &berth::paths::Roots, name: &str) -> String {
    let scratch = roots.state.join("fixture-tmp");
    let tar = busybox_rootfs_tar(&scratch);
    let store = berth::image::ImageStore::open(roots).expect("open image store");
    let id = store.import_rootfs_tar(&tar, name).expect("import busybox fixture");
    let _ = fs::remove_dir_all(&scratch);
    id.to_string()
}

/// True when running as root; otherwise prints a loud SKIP line naming the test and returns
/// false, so the caller can `if !require_root() { return; }` (never a silent pass).
pub fn require_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    let name = std::thread::current().name().unwrap_or("test").to_string();
    eprintln!("SKIP: {name} needs root");
    println!("SKIP: {name} needs root");
    false
}

/// Remove the default bridge (`berth run IMAGE`'s and build steps' network, kept like docker0
/// once made) of the state root at `root`, with its firewall rules: what a test's teardown
/// does so that its root leaves no bridge behind. Fine when it was never made; returns the
/// error when containers still use it.
pub fn remove_default_network(root: &Path) -> Result<(), String> {
    let roots = berth::paths::Roots::new(Some(root));
    let nm = berth::network::NetworkManager::new(&roots);
    nm.remove_network(berth::network::DEFAULT_NETWORK).map_err(|e| e.to_string())
}
