"""Commands, the busybox image each tool gets, and the processes an engine keeps running."""

import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import time

BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "true", "false", "sleep", "echo", "cat", "ls", "kill", "ps"]
IMAGE = "busybox:bench"
TIMEOUT = 900  # seconds any one command may take before the harness gives up on it


class CommandFailed(Exception):
    pass


def sh(cmd, timeout=TIMEOUT, check=True, env=None, cwd=None):
    """Run a command, capturing output; raise CommandFailed naming it when it fails."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        raise CommandFailed(f"{' '.join(cmd)}: timed out after {timeout} s") from exc
    except OSError as exc:
        raise CommandFailed(f"{' '.join(cmd)}: {exc}") from exc
    if check and p.returncode != 0:
        last = (p.stderr.strip() or p.stdout.strip()).splitlines()[-1:] or [""]
        raise CommandFailed(f"{' '.join(cmd)}: exit {p.returncode}: {last[0][:200]}")
    return p


def timed(cmd, **kw):
    """Seconds one command took (time.perf_counter around the subprocess call)."""
    t = time.perf_counter()
    sh(cmd, **kw)
    return time.perf_counter() - t


def find_berth(explicit, bench_dir):
    repo = os.path.dirname(bench_dir)
    candidates = [explicit, os.environ.get("BERTH_BIN"),
                  os.path.join(repo, "target/release/berth"), os.path.join(repo, "target/debug/berth"),
                  shutil.which("berth")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return os.path.realpath(c)
    return None


def stale_release(berth, bench_dir):
    """A note when the chosen release binary is older than the debug one (forgot to rebuild?)."""
    debug = os.path.join(os.path.dirname(bench_dir), "target/debug/berth")
    if "/target/release/" in berth and os.path.exists(debug) and os.path.getmtime(debug) > os.path.getmtime(berth):
        return (f"note: {berth} is older than {debug}; `cargo build --release` if the release binary "
                "should include the latest changes")
    return None


def subcommands(binary):
    """The subcommand names in a clap `--help` (the "Commands:" block)."""
    try:
        out = sh([binary, "--help"], timeout=30).stdout
    except CommandFailed:
        return set()
    names, inside = set(), False
    for line in out.splitlines():
        if re.match(r"^(Commands|SUBCOMMANDS):", line):
            inside = True
            continue
        if inside:
            m = re.match(r"^\s{2,}([a-z][a-z0-9-]*)\b", line)
            if m:
                names.add(m.group(1))
            elif line.strip() and not line.startswith(" "):
                inside = False
    return names


def build_rootfs(workdir):
    """A busybox-static root filesystem (dir) and the same as a deterministic tar."""
    root = os.path.join(workdir, "rootfs")
    for d in ("bin", "dev", "etc", "proc", "sys", "tmp", "root"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(root, "bin/busybox"))
    for a in APPLETS:
        os.symlink("busybox", os.path.join(root, "bin", a))
    files = {"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "etc/group": "root:x:0:\n",
             "etc/hosts": "127.0.0.1\tlocalhost\n", "etc/resolv.conf": "", "etc/hostname": "bench\n"}
    for path, text in files.items():
        with open(os.path.join(root, path), "w") as f:
            f.write(text)
    tar_path = os.path.join(workdir, "rootfs.tar")
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in [""] + sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
                full = os.path.join(dirpath, name) if name else dirpath
                rel = os.path.relpath(full, root)
                if rel == ".":
                    continue
                info = tar.gettarinfo(full, arcname=rel)
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
                if info.isfile():
                    with open(full, "rb") as f:
                        tar.addfile(info, io.BytesIO(f.read()))
                else:
                    tar.addfile(info)
    return root, tar_path


def make_bundle(runtime, workdir, rootfs, args):
    """An OCI bundle for `crun run`/`runc run`: config.json from `<runtime> spec`, patched."""
    bundle = os.path.join(workdir, f"bundle-{runtime}")
    os.makedirs(bundle, exist_ok=True)
    sh([runtime, "spec"], cwd=bundle)
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        spec = json.load(f)
    spec["process"]["args"] = args
    spec["process"]["terminal"] = False
    spec["root"] = {"path": rootfs, "readonly": True}
    with open(path, "w") as f:
        json.dump(spec, f, indent=2)
    return bundle


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def processes():
    """pid -> (exe, comm, cmdline, same pid namespace as us) for every live process."""
    own_ns = os.readlink("/proc/self/ns/pid")
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            ns = os.readlink(f"/proc/{pid}/ns/pid")
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                exe = ""
        except OSError:
            continue
        out[pid] = (exe, comm, cmdline, ns == own_ns)
    return out


# Host-side processes each engine keeps while containers run (container processes live in
# their own pid namespaces and are not counted).
ENGINE_COMMS = {
    "podman": ("conmon", "podman", "netavark", "aardvark-dns", "catatonit", "slirp4netns"),
    "docker": ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "docker-proxy",
               "docker-init"),
}


def engine_rss(engine, before, berth_bin=None, marker=None):
    """(MiB, process count) of the engine's resident host processes not in `before`, plus its
    daemons (dockerd/containerd) even when they predate the run: a user pays for those too."""
    total, count = 0, 0
    for pid, (exe, comm, cmdline, host_ns) in processes().items():
        if not host_ns or pid == os.getpid():
            continue
        if engine == "berth":
            # the berth binary (CLI, supervisor, port proxy) and the per-container berth-monitor,
            # whatever path they run from (a read-only view or a memfd copy): their comm starts
            # with "berth"
            is_berth = exe == berth_bin or comm.startswith("berth")
            mine = is_berth and (marker is None or marker in cmdline or marker_in_env(pid, marker)
                                 or marker_in_cwd(pid, marker))
            if not mine or pid in before:
                continue
        else:
            if not comm.startswith(ENGINE_COMMS.get(engine, ())):
                continue
            if pid in before and comm not in ("dockerd", "containerd"):
                continue
        total += rss_kib(pid)
        count += 1
    return total / 1024.0, count


def marker_in_cwd(pid, marker):
    """Monitors forked by berth's zygote carry neither the run's paths in their argv nor an
    environment; they work from their container's state dir, under the run's berth root."""
    try:
        return marker in os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False


def marker_in_env(pid, marker):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return marker.encode() in f.read()
    except OSError:
        return False


def mounts_under(path):
    """Mount points at or below path, deepest first."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == path or mp.startswith(path.rstrip("/") + "/"):
                out.append(mp)
    return sorted(out, key=len, reverse=True)
