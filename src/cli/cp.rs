//! `berth cp`: copy files and directories between a service's container and the host, with
//! `docker cp`'s rules for what lands where, and `-` for a tar stream on stdin or stdout.
//!
//! Safety: every path in the container is resolved inside its root with openat2(2)
//! RESOLVE_IN_ROOT (a symlink to `/etc` or `../../..` resolves to the container's own `/etc` or
//! `/`), and below that every name is opened with O_NOFOLLOW (see crate::copy). A stopped
//! container is mounted in a private mount namespace of this process (runtime::fsaccess).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::Args;

use super::ps::{project_name, roots};
use super::GlobalOpts;
use crate::copy::fs_sink::{FsSink, Owner};
use crate::copy::tar_io::{read_tar, TarSink};
use crate::copy::walk::{fstat, Walker};
use crate::copy::{IdMaps, Sink};
use crate::reconciler::ops::select;
use crate::reconciler::ProjectLock;
use crate::runtime::securepath::{open_in_root, resolve_in_root};
use crate::runtime::Runtime;

#[derive(Debug, Args)]
pub struct CpArgs {
    /// Archive mode: keep the files' uid and gid (else they belong to the container's root
    /// when copied in, and to you when copied out).
    #[arg(short = 'a', long)]
    pub archive: bool,
    /// Follow a symlink given as the source (inside the container, within its root).
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// Which replica of the service (1-based).
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Accepted for compatibility (deprecated in Compose); the replica is chosen by --index.
    #[arg(long, hide = true)]
    pub all: bool,
    /// SERVICE:SRC_PATH, a host path, or `-` (a tar stream on stdin).
    pub src: String,
    /// SERVICE:DEST_PATH, a host path, or `-` (a tar stream on stdout).
    pub dest: String,
}

#[derive(Debug, PartialEq)]
enum Endpoint {
    Stream,
    Host(String),
    Container { service: String, path: String },
}

/// docker cp's rule: an absolute path, or one whose part before the first `:` starts with `.`,
/// is a host path; `NAME:PATH` names a container path; `-` is a stream.
fn endpoint(arg: &str) -> Endpoint {
    if arg == "-" {
        return Endpoint::Stream;
    }
    if arg.starts_with('/') {
        return Endpoint::Host(arg.into());
    }
    match arg.split_once(':') {
        Some((svc, path)) if !svc.starts_with('.') && !svc.is_empty() => {
            Endpoint::Container { service: svc.into(), path: path.into() }
        }
        _ => Endpoint::Host(arg.into()),
    }
}

/// A path split as docker cp reads it: the last component (None for `/`, `.`), whether the
/// path asks for a directory (`dir/`, `dir/.`) and whether it asks for its contents (`dir/.`).
struct Split {
    parent: String,
    name: Option<OsString>,
    dir_syntax: bool,
    contents: bool,
}

fn split(path: &str) -> Split {
    let contents = path == "." || path.ends_with("/.");
    let dir_syntax = contents || path.ends_with('/');
    let trimmed = path.trim_end_matches("/.").trim_end_matches('/');
    let (parent, last) = match trimmed.rsplit_once('/') {
        Some((p, l)) => (if p.is_empty() { "/".to_string() } else { p.to_string() }, l),
        None => (".".to_string(), trimmed),
    };
    let name = (!last.is_empty() && last != "." && last != "..").then(|| OsString::from(last));
    Split { parent, name, dir_syntax, contents }
}

/// One side of the copy: a directory fd and a name in it (None: the directory itself).
struct Place {
    parent: File,
    name: Option<OsString>,
    shown: String,
}

impl Place {
    fn stat(&self) -> anyhow::Result<Option<libc::stat>> {
        match &self.name {
            Some(n) => crate::fsat::stat_at(&self.parent, n).with_context(|| self.shown.clone()),
            None => Ok(Some(fstat(&self.parent).with_context(|| self.shown.clone())?)),
        }
    }
    /// The directory this place names (it must be one).
    fn open_dir(&self) -> anyhow::Result<File> {
        match &self.name {
            Some(n) => crate::fsat::open_dir_at(&self.parent, n).with_context(|| self.shown.clone()),
            None => self.parent.try_clone().with_context(|| self.shown.clone()),
        }
    }
}

fn file_of(fd: OwnedFd) -> File {
    File::from(fd)
}

/// A place in the container: `path` resolved inside `root` (the parent always, the last
/// component too when `follow`), never leaving it.
fn in_container(root: &OwnedFd, service: &str, path: &str, follow: bool) -> anyhow::Result<(Place, Split)> {
    let shown = format!("{service}:{path}");
    let abs = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
    let sp = split(&abs);
    let (parent_rel, name) = if follow && sp.name.is_some() {
        let full = resolve_in_root(root, &abs).map_err(anyhow::Error::msg).with_context(|| shown.clone())?;
        match full.rsplit_once('/') {
            Some((p, l)) => (p.to_string(), Some(OsString::from(l))),
            None if full.is_empty() => (String::new(), None),
            None => (String::new(), Some(OsString::from(full))),
        }
    } else {
        (sp.parent.clone(), sp.name.clone())
    };
    let parent = open_in_root(root, &parent_rel).map_err(anyhow::Error::msg).with_context(|| {
        format!("{shown}: the directory /{} does not exist in the container", parent_rel.trim_start_matches('/'))
    })?;
    Ok((Place { parent: file_of(parent), name, shown }, sp))
}

/// A place on the host (the user's own paths: symlinks are followed as any tool would).
fn on_host(path: &str, follow: bool) -> anyhow::Result<(Place, Split)> {
    let sp = split(path);
    let mut parent = PathBuf::from(&sp.parent);
    let mut name = sp.name.clone();
    if follow {
        if let Ok(real) = std::fs::canonicalize(path) {
            parent = real.parent().map(Path::to_path_buf).unwrap_or_else(|| "/".into());
            name = real.file_name().map(OsStr::to_os_string);
        }
    }
    let dir = crate::fsat::open_dir(&parent)
        .or_else(|_| File::open(&parent))
        .with_context(|| format!("{path}: the directory {} does not exist", parent.display()))?;
    Ok((Place { parent: dir, name, shown: path.to_string() }, sp))
}

pub fn run(g: &GlobalOpts, a: &CpArgs) -> anyhow::Result<ExitCode> {
    let (src, dest) = (endpoint(&a.src), endpoint(&a.dest));
    let (service, cpath) = match (&src, &dest) {
        (Endpoint::Container { service, path }, Endpoint::Host(_) | Endpoint::Stream)
        | (Endpoint::Host(_) | Endpoint::Stream, Endpoint::Container { service, path }) => (service, path),
        (Endpoint::Container { .. }, Endpoint::Container { .. }) => {
            bail!("copying between containers is not supported: copy to the host first")
        }
        _ => bail!("one of `{}` and `{}` must be SERVICE:PATH", a.src, a.dest),
    };
    let project = project_name(g)?;
    let roots = roots(g);
    let c = select::one(select::all(&roots, &project, false)?, &project, service, a.index)?;
    let rt = Runtime::new(&roots);
    // A stopped container's overlay is mounted here: no start may mount it meanwhile.
    let _lock = match c.is_running() {
        true => None,
        false => Some(ProjectLock::acquire(&roots, &project, crate::reconciler::up::lock_wait())?),
    };
    let croot = rt.open_root(&c.id).with_context(|| format!("container {} of service `{service}`", c.name))?;
    let maps = id_maps(&c.config);
    let bytes = match (&src, &dest) {
        (Endpoint::Container { .. }, _) => {
            let (from, sp) = in_container(&croot.root, service, cpath, a.follow_link)?;
            let mut walker = Walker::default();
            let owner = if a.archive {
                walker.map_ids = Some(maps);
                Owner::Keep(IdMaps::default())
            } else {
                Owner::Fixed(nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw())
            };
            match &dest {
                Endpoint::Host(d) => copy(true, &mut walker, &from, &sp, d, on_host(d, false)?, owner)?,
                _ => to_stdout(&mut walker, &from, &sp)?,
            }
        }
        (Endpoint::Host(s), _) => {
            let (from, sp) = on_host(s, a.follow_link)?;
            let to = in_container(&croot.root, service, &follow_dest(&croot.root, cpath)?, false)?;
            let mut walker = Walker::default();
            let owner = if a.archive { Owner::Keep(maps.clone()) } else { root_owner(&maps) };
            copy(false, &mut walker, &from, &sp, &a.dest, to, owner)?
        }
        _ => {
            let (to, _) = in_container(&croot.root, service, &follow_dest(&croot.root, cpath)?, false)?;
            let owner = if a.archive { Owner::Keep(maps.clone()) } else { root_owner(&maps) };
            from_stdin(&to, owner)?
        }
    };
    if let Some(n) = bytes {
        eprintln!("Successfully copied {} to {}", human(n), a.dest);
    }
    Ok(ExitCode::SUCCESS)
}

/// The destination path with its existing symlinks expanded inside the container's root
/// (`DEST` naming a symlink to a directory copies into that directory, as Docker), keeping a
/// trailing `/` or `/.`.
fn follow_dest(root: &OwnedFd, path: &str) -> anyhow::Result<String> {
    let resolved = resolve_in_root(root, path).map_err(anyhow::Error::msg).with_context(|| path.to_string())?;
    let tail = if path.ends_with("/.") {
        "/."
    } else if path.ends_with('/') {
        "/"
    } else {
        ""
    };
    Ok(format!("/{resolved}{tail}"))
}

fn root_owner(maps: &IdMaps) -> Owner {
    let (u, g) = maps.to_host(0, 0);
    Owner::Fixed(u, g)
}

pub(crate) fn id_maps(cfg: &crate::runtime::ContainerConfig) -> IdMaps {
    let Some(u) = &cfg.namespaces.user else { return IdMaps::default() };
    let r = |m: &[crate::runtime::IdMap]| m.iter().map(|m| (m.container_id, m.host_id, m.size)).collect();
    IdMaps { uids: r(&u.uid_map), gids: r(&u.gid_map) }
}

/// docker cp's table: a directory into an existing directory lands inside it (its contents
/// with `SRC/.`), else it becomes DEST; a file into a directory lands inside it, else it
/// becomes (or replaces) DEST.
fn copy(
    host_dest: bool,
    walker: &mut Walker,
    from: &Place,
    sp: &Split,
    dest_arg: &str,
    to: (Place, Split),
    owner: Owner,
) -> anyhow::Result<Option<u64>> {
    let (to, dsp) = to;
    let st = from.stat()?.with_context(|| format!("{}: no such file or directory", from.shown))?;
    let src_dir = crate::fsat::is_dir(&st);
    let contents = sp.contents || from.name.is_none();
    let dest_st = to.stat()?;
    let (sink_root, top): (File, Option<OsString>) = match dest_st {
        Some(d) if crate::fsat::is_dir(&d) => {
            let top = if src_dir && contents { None } else { from.name.clone() };
            (to.open_dir()?, top)
        }
        Some(_) if src_dir => bail!("{dest_arg}: cannot copy a directory to a file"),
        Some(_) => (to.parent.try_clone()?, to.name.clone()),
        None if dsp.dir_syntax && !src_dir => bail!("{dest_arg}: the destination directory does not exist"),
        None => (to.parent.try_clone()?, to.name.clone()),
    };
    let mut sink = FsSink::new(sink_root, dest_arg, owner);
    sink.devices = !host_dest;
    send(walker, from, src_dir, top, &mut sink)?;
    sink.finish()?;
    Ok(Some(sink.bytes))
}

/// Send `from` as `top` (None: its contents, straight below the sink's root).
fn send(
    walker: &mut Walker,
    from: &Place,
    src_dir: bool,
    top: Option<OsString>,
    sink: &mut dyn Sink,
) -> anyhow::Result<()> {
    match (top, &from.name) {
        (None, _) if src_dir => walker.send_contents(&from.open_dir()?, Vec::new(), sink)?,
        (Some(top), Some(name)) => walker.send(&from.parent, name, vec![top], sink)?,
        (Some(top), None) => walker.send(&from.parent, OsStr::new("."), vec![top], sink)?,
        (None, _) => bail!("{}: nothing to copy", from.shown),
    }
    Ok(())
}

fn to_stdout(walker: &mut Walker, from: &Place, sp: &Split) -> anyhow::Result<Option<u64>> {
    let st = from.stat()?.with_context(|| format!("{}: no such file or directory", from.shown))?;
    let src_dir = crate::fsat::is_dir(&st);
    let top = if src_dir && (sp.contents || from.name.is_none()) { None } else { from.name.clone() };
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut sink = TarSink::new(out);
    send(walker, from, src_dir, top, &mut sink)?;
    sink.finish()?;
    let mut out = sink.into_inner()?;
    std::io::Write::flush(&mut out).context("writing the tar stream to stdout")?;
    Ok(None)
}

fn from_stdin(to: &Place, owner: Owner) -> anyhow::Result<Option<u64>> {
    match to.stat()? {
        Some(st) if crate::fsat::is_dir(&st) => {}
        _ => bail!("{}: the destination of a tar stream must be an existing directory", to.shown),
    }
    let mut sink = FsSink::new(to.open_dir()?, &to.shown, owner);
    let mut input = std::io::stdin().lock();
    read_tar(&mut input, &mut sink)?;
    Ok(Some(sink.bytes))
}

/// Docker's size form: `1.54kB`, `12.3MB` (powers of 1000, three significant digits).
fn human(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        return format!("{n}B");
    }
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$}{}", units[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_read_as_docker_cp_reads_them() {
        assert_eq!(endpoint("-"), Endpoint::Stream);
        assert_eq!(endpoint("/tmp/a:b"), Endpoint::Host("/tmp/a:b".into()));
        assert_eq!(endpoint("./a:b"), Endpoint::Host("./a:b".into()));
        assert_eq!(endpoint("out.txt"), Endpoint::Host("out.txt".into()));
        assert_eq!(endpoint("web:/etc/x"), Endpoint::Container { service: "web".into(), path: "/etc/x".into() });
        let s = split("/etc/.");
        assert!(s.contents && s.dir_syntax && s.name.as_deref() == Some(OsStr::new("etc")) && s.parent == "/");
        let s = split("dir/");
        assert!(!s.contents && s.dir_syntax && s.parent == ".");
        assert!(split("/").name.is_none());
        assert_eq!(human(999), "999B");
        assert_eq!(human(1540), "1.54kB");
    }
}
