//! Copying changed files into a running container, as Compose does: a tar stream piped into
//! `tar -x` run *inside* the container (through the runtime's exec, which joins the container's
//! namespaces, cgroup, user, capabilities and seccomp filter), and deletions as `rm -rf` there.
//!
//! Why not write through /proc/<pid>/root from here: every symlink in the container's
//! filesystem is the container's to plant, and a host-side writer must then resolve each path
//! with openat2(RESOLVE_IN_ROOT) and still race renames (CVE-2018-15664, the `docker cp`
//! symlink-exchange escape). Extracting inside the container cannot reach the host at all, and
//! the files belong to the container's user, as Compose documents. The cost: the image needs a
//! `tar` (and `rm`) — busybox, Alpine and Debian images have them.
//!
//! On the host side only regular files, directories and symlinks are sent; a symlink is sent
//! as a link (never followed), so a link in the project tree cannot copy a host file in.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use super::error::{Result, WatchError};
use crate::runtime::{ExecConfig, Runtime};

/// A change to apply in the container: a host path and where it lands there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub host: std::path::PathBuf,
    pub container: String,
}

/// The tar stream of the changes whose host path exists (directories recursively, filtered by
/// `keep`), and the container paths of those that are gone (to delete).
pub fn pack(changes: &[Change], keep: &dyn Fn(&Path) -> bool) -> Result<(Vec<u8>, Vec<String>)> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let mut gone = Vec::new();
    let mut dirs: Vec<&Path> = Vec::new();
    for c in changes {
        // A path below a directory already sent in full was sent with it.
        if dirs.iter().any(|d| c.host.starts_with(d)) {
            continue;
        }
        match std::fs::symlink_metadata(&c.host) {
            Ok(md) => {
                if md.is_dir() {
                    dirs.push(&c.host);
                }
                append(&mut builder, &c.host, &c.container, keep)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => gone.push(c.container.clone()),
            Err(e) => return Err(WatchError::io("read", &c.host, e)),
        }
    }
    let bytes = builder.into_inner().map_err(|e| WatchError::io("pack", Path::new("."), e))?;
    Ok((bytes, gone))
}

/// Add `host` (recursively for a directory) as `target` in the container.
fn append(b: &mut tar::Builder<Vec<u8>>, host: &Path, target: &str, keep: &dyn Fn(&Path) -> bool) -> Result<()> {
    let md = match std::fs::symlink_metadata(host) {
        Ok(md) => md,
        // Gone between the event and now: the next batch deletes it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(WatchError::io("read", host, e)),
    };
    let name = target.trim_start_matches('/');
    let ft = md.file_type();
    if !(ft.is_file() || ft.is_dir() || ft.is_symlink()) {
        return Ok(()); // sockets, fifos, devices: nothing to sync
    }
    b.append_path_with_name(host, name).map_err(|e| WatchError::io("pack", host, e))?;
    if !ft.is_dir() {
        return Ok(());
    }
    let rd = std::fs::read_dir(host).map_err(|e| WatchError::io("read directory", host, e))?;
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if !keep(&p) {
            continue;
        }
        let Some(file) = p.file_name() else { continue };
        let child = format!("{}/{}", target.trim_end_matches('/'), file.to_string_lossy());
        append(b, &p, &child, keep)?;
    }
    Ok(())
}

/// Run `args` in container `id` with `input` on its stdin; an error carries its stderr.
pub fn exec_with_input(rt: &Runtime, id: &str, name: &str, args: &[&str], input: &[u8]) -> Result<()> {
    let ec = ExecConfig { args: args.iter().map(|s| s.to_string()).collect(), ..Default::default() };
    let mut cmd = rt.exec_command(id, &ec).map_err(|e| WatchError::container(name, e))?;
    cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| WatchError::container(name, format!("spawn exec helper: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A write error means the command exited early; its status and stderr say why.
        let _ = stdin.write_all(input);
    }
    let out = child.wait_with_output().map_err(|e| WatchError::container(name, format!("wait for exec: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    Err(WatchError::container(name, format!("`{}` failed ({}): {stderr}", args.join(" "), out.status)))
}

/// Apply `changes` to container `id`: extract what exists, delete what is gone.
pub fn apply(rt: &Runtime, id: &str, name: &str, changes: &[Change], keep: &dyn Fn(&Path) -> bool) -> Result<()> {
    let (tarball, gone) = pack(changes, keep)?;
    if tarball.len() > 1024 || gone.is_empty() {
        // `-o`: files belong to the extracting (container) user, not the host's uid.
        exec_with_input(rt, id, name, &["tar", "-x", "-o", "-f", "-", "-C", "/"], &tarball)?;
    }
    if !gone.is_empty() {
        let mut args = vec!["rm", "-rf", "--"];
        args.extend(gone.iter().map(String::as_str));
        exec_with_input(rt, id, name, &args, &[])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_files_dirs_and_links_and_lists_deletions() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("sub/deep")).unwrap();
        std::fs::write(src.join("a.txt"), "a").unwrap();
        std::fs::write(src.join("sub/deep/b.txt"), "b").unwrap();
        std::fs::write(src.join("sub/skip.log"), "x").unwrap();
        std::os::unix::fs::symlink("/etc/shadow", src.join("link")).unwrap();
        let ch = |rel: &str| Change { host: src.join(rel), container: format!("/app/{rel}") };
        let changes = vec![ch("a.txt"), ch("sub"), ch("sub/deep/b.txt"), ch("link"), ch("gone.txt")];
        let keep = |p: &Path| p.extension().is_none_or(|e| e != "log");
        let (bytes, gone) = pack(&changes, &keep).unwrap();
        assert_eq!(gone, ["/app/gone.txt"]);
        let mut ar = tar::Archive::new(bytes.as_slice());
        let mut names = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let kind = e.header().entry_type();
            names.push((e.path().unwrap().to_string_lossy().to_string(), kind.is_symlink()));
        }
        let want = [
            ("app/a.txt", false),
            ("app/sub", false),
            ("app/sub/deep", false),
            ("app/sub/deep/b.txt", false),
            ("app/link", true),
        ];
        let got: Vec<(&str, bool)> = names.iter().map(|(n, l)| (n.trim_end_matches('/'), *l)).collect();
        assert_eq!(got, want);
    }
}
