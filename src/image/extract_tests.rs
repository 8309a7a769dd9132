//! Extraction attacks and whiteouts. Each attack runs in a temp dir holding the target and, next
//! to it, an `outside` dir with a sentinel file; afterwards nothing outside may have changed.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::*;

/// A tar built entry by entry, writing names straight into the header fields, since
/// `tar::Builder::append_data` refuses `..` and absolute paths (which is what we need to craft).
struct Crafted(tar::Builder<Vec<u8>>);

impl Crafted {
    fn new() -> Self {
        Crafted(tar::Builder::new(Vec::new()))
    }

    fn raw(&mut self, kind: tar::EntryType, name: &[u8], link: &[u8], data: &[u8], mode: u32) -> &mut Self {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_000_000);
        h.set_size(data.len() as u64);
        h.set_cksum();
        self.0.append(&h, data).unwrap();
        self
    }
    fn file(&mut self, name: &str, data: &str) -> &mut Self {
        self.raw(tar::EntryType::Regular, name.as_bytes(), b"", data.as_bytes(), 0o644)
    }
    fn dir(&mut self, name: &str, mode: u32) -> &mut Self {
        self.raw(tar::EntryType::Directory, name.as_bytes(), b"", b"", mode)
    }
    fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.raw(tar::EntryType::Symlink, name.as_bytes(), target.as_bytes(), b"", 0o777)
    }
    fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.raw(tar::EntryType::Link, name.as_bytes(), target.as_bytes(), b"", 0o644)
    }
    fn bytes(&mut self) -> Vec<u8> {
        let b = std::mem::replace(&mut self.0, tar::Builder::new(Vec::new()));
        b.into_inner().unwrap()
    }
}

struct Scene {
    _tmp: tempfile::TempDir,
    target: PathBuf,
    outside: PathBuf,
}

impl Scene {
    fn new() -> Scene {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target");
        let outside = tmp.path().join("outside");
        fs::create_dir(&target).unwrap();
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("sentinel"), "original").unwrap();
        Scene { _tmp: tmp, target, outside }
    }

    fn extract(&self, tar: &[u8]) -> Result<ExtractStats> {
        extract_layer(&mut &tar[..], &self.target, "test-layer")
    }

    /// Nothing outside the target changed: only the sentinel, untouched and not linked.
    fn assert_outside_untouched(&self) {
        let names: Vec<_> = fs::read_dir(&self.outside).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("sentinel")], "something was written outside");
        let s = self.outside.join("sentinel");
        assert_eq!(fs::read_to_string(&s).unwrap(), "original");
        assert_eq!(fs::metadata(&s).unwrap().nlink(), 1, "sentinel was hard-linked");
        let parent: Vec<_> =
            fs::read_dir(self.target.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(parent.len(), 2, "a stray file appeared next to the target: {parent:?}");
    }

    fn outside_rel(&self) -> String {
        // The outside dir as seen from the target, with `..`.
        "../outside".to_string()
    }
}

fn is_unsafe(r: &Result<ExtractStats>) -> bool {
    matches!(r, Err(ImageError::UnsafeEntry { .. }))
}

#[test]
fn normalize_strips_root_and_dots_and_refuses_dotdot() {
    assert_eq!(normalize(b"/etc//passwd").unwrap(), vec![OsString::from("etc"), OsString::from("passwd")]);
    assert_eq!(normalize(b"./a/./b/").unwrap(), vec![OsString::from("a"), OsString::from("b")]);
    assert!(normalize(b"").unwrap().is_empty());
    assert!(normalize(b"a/../../b").is_err());
    assert!(normalize(b"..").is_err());
}

#[test]
fn dotdot_entry_is_refused() {
    let s = Scene::new();
    let tar = Crafted::new().file("../outside/sentinel", "pwned").file("../evil", "x").bytes();
    assert!(is_unsafe(&s.extract(&tar)));
    s.assert_outside_untouched();
}

#[test]
fn absolute_path_lands_inside_the_target() {
    let s = Scene::new();
    let abs = format!("{}/sentinel", s.outside.display());
    let tar = Crafted::new().file(&abs, "pwned").file("/etc/hello", "hi").bytes();
    s.extract(&tar).unwrap();
    s.assert_outside_untouched();
    assert_eq!(fs::read_to_string(s.target.join("etc/hello")).unwrap(), "hi");
    let inside = s.target.join(abs.trim_start_matches('/'));
    assert_eq!(fs::read_to_string(inside).unwrap(), "pwned");
}

#[test]
fn hard_link_out_of_the_tree_is_refused() {
    let s = Scene::new();
    let rel = format!("{}/sentinel", s.outside_rel());
    assert!(is_unsafe(&s.extract(&Crafted::new().hardlink("x", &rel).bytes())));
    s.assert_outside_untouched();
    // An absolute target is taken inside the tree, where it does not exist: the link fails.
    let abs = format!("{}/sentinel", s.outside.display());
    assert!(is_unsafe(&s.extract(&Crafted::new().hardlink("y", &abs).bytes())));
    s.assert_outside_untouched();
}

#[test]
fn symlink_then_file_through_it_is_refused() {
    let s = Scene::new();
    let out = s.outside.display().to_string();
    let tar = Crafted::new().symlink("a", &out).file("a/evil", "pwned").bytes();
    assert!(is_unsafe(&s.extract(&tar)));
    s.assert_outside_untouched();
    // Same with a relative symlink and a deeper path, and with a directory entry.
    let s = Scene::new();
    let tar = Crafted::new().dir("d/", 0o755).symlink("d/up", "../..").file("d/up/outside/evil", "x").bytes();
    assert!(is_unsafe(&s.extract(&tar)));
    s.assert_outside_untouched();
    let s = Scene::new();
    let tar = Crafted::new().symlink("a", &s.outside.display().to_string()).dir("a/sub/", 0o755).bytes();
    assert!(is_unsafe(&s.extract(&tar)));
    s.assert_outside_untouched();
}

#[test]
fn symlink_out_then_hard_link_through_it_is_refused() {
    let s = Scene::new();
    let tar = Crafted::new().symlink("a", &s.outside.display().to_string()).hardlink("x", "a/sentinel").bytes();
    assert!(is_unsafe(&s.extract(&tar)));
    s.assert_outside_untouched();
}

#[test]
fn file_replaces_a_symlink_instead_of_writing_through_it() {
    let s = Scene::new();
    let target = format!("{}/sentinel", s.outside.display());
    let tar = Crafted::new().symlink("a", &target).file("a", "inside").bytes();
    s.extract(&tar).unwrap();
    s.assert_outside_untouched();
    let meta = fs::symlink_metadata(s.target.join("a")).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(fs::read_to_string(s.target.join("a")).unwrap(), "inside");
}

#[test]
fn hard_link_to_a_symlink_links_the_symlink_itself() {
    let s = Scene::new();
    let target = format!("{}/sentinel", s.outside.display());
    let tar = Crafted::new().symlink("a", &target).hardlink("b", "a").bytes();
    s.extract(&tar).unwrap();
    s.assert_outside_untouched();
    assert!(fs::symlink_metadata(s.target.join("b")).unwrap().file_type().is_symlink());
}

#[test]
fn modes_links_and_readonly_dirs_are_kept() {
    let s = Scene::new();
    let tar = Crafted::new()
        .dir("ro/", 0o555)
        .file("ro/f", "data")
        .raw(tar::EntryType::Regular, b"bin/tool", b"", b"#!", 0o4755)
        .hardlink("bin/tool2", "bin/tool")
        .symlink("bin/sh", "busybox")
        .bytes();
    let stats = s.extract(&tar).unwrap();
    assert_eq!(stats.entries, 5);
    assert_eq!(fs::metadata(s.target.join("ro")).unwrap().mode() & 0o7777, 0o555);
    assert_eq!(fs::read_to_string(s.target.join("ro/f")).unwrap(), "data");
    let tool = fs::metadata(s.target.join("bin/tool")).unwrap();
    assert_eq!(tool.mode() & 0o7777, 0o4755);
    assert_eq!(tool.nlink(), 2);
    assert_eq!(tool.mtime(), 1_000_000);
    assert_eq!(fs::read_link(s.target.join("bin/sh")).unwrap(), Path::new("busybox"));
}

#[test]
fn whiteouts_become_overlay_whiteouts() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIP: whiteouts_become_overlay_whiteouts needs root (mknod, trusted.* xattrs)");
        return;
    }
    let s = Scene::new();
    let tar = Crafted::new()
        .dir("etc/", 0o755)
        .file("etc/.wh.motd", "")
        .dir("opq/", 0o755)
        .file("opq/.wh..wh..opq", "")
        .bytes();
    s.extract(&tar).unwrap();
    let wh = fs::symlink_metadata(s.target.join("etc/motd")).unwrap();
    assert!(wh.file_type().is_char_device());
    assert_eq!(wh.rdev(), 0);
    assert!(!s.target.join("etc/.wh.motd").exists());
    let dir = at::open_dir(&s.target.join("opq")).unwrap();
    assert_eq!(at::fgetxattr(&dir, "trusted.overlay.opaque").unwrap(), b"y");
    assert!(!s.target.join("opq/.wh..wh..opq").exists());
}

#[test]
fn whiteout_through_a_symlink_is_refused() {
    let s = Scene::new();
    let tar = Crafted::new().symlink("a", &s.outside.display().to_string()).file("a/.wh.sentinel", "").bytes();
    assert!(is_unsafe(&s.extract(&tar)));
    s.assert_outside_untouched();
}
