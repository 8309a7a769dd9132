"""What one bench/compare invocation shares between suites: the berth binary and its state root,
the peers found usable, the busybox image made for each tool, the kernel floor, and the cleanup
that must run whatever happened."""

import os
import platform
import shutil
import signal
import subprocess
import tempfile
import time

from . import tools
from .tools import IMAGE, CommandFailed, sh

PODMAN_IMAGE = "localhost/" + IMAGE
DOCKER = "/usr/bin/docker"  # Debian's docker.io client (another `docker` may be earlier in PATH)
PACKAGES = ["podman", "crun", "runc", "podman-compose", "docker.io", "docker-compose"]


class Context:
    def __init__(self, berth, runs, smoke, settle):
        self.berth, self.runs, self.smoke, self.settle = berth, runs, smoke, settle
        self.repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
        self.workdir = tempfile.mkdtemp(prefix="berth-bench-")
        self.berth_root = os.path.join(self.workdir, "berth-root")
        os.mkdir(self.berth_root)
        self.berth_cmds = tools.subcommands(berth)
        self.baseline = self.baseline_root = None  # --baseline: an older berth, in its own root
        self.berth_image_error = None  # why berth has no busybox:bench, when it has none
        self.peers = {}  # name -> None when usable, else the reason it is not
        self.floor = {}  # primitive -> median seconds (filled by the primitives suite)
        self.notes, self.cleanup_errors = [], []
        self.rootfs = self.tar = None
        self.bundles = {}
        self.images = []  # (tool, command to remove the image)
        self.started_dockerd = False
        self.bench_dir = None
        self.peer_cgroups_before = peer_cgroups()
        self.load_start = os.getloadavg()[0]

    @classmethod
    def create(cls, **kw):
        return cls(**kw)

    # ---- which tools a suite may use

    def berth_base(self):
        return [self.berth, "--root", self.berth_root]

    def set_baseline(self, binary):
        self.baseline = binary
        self.baseline_root = os.path.join(self.workdir, "baseline-root")
        os.mkdir(self.baseline_root)

    def baseline_base(self):
        return [self.baseline, "--root", self.baseline_root]

    def berths(self):
        """(row name, command prefix) of berth and, with --baseline, the older one."""
        out = [("berth", self.berth_base())]
        if self.baseline:
            out.append(("berth-base", self.baseline_base()))
        return out

    def berth_lacks(self, *subcommands):
        """None when berth has every subcommand, else the 'not supported yet' text."""
        missing = [s for s in subcommands if s not in self.berth_cmds]
        if missing:
            return "not supported yet (no " + ", ".join(f"`berth {m}`" for m in missing) + ")"
        return None

    def usable(self, peer):
        return not self.smoke and peer in self.peers and self.peers[peer] is None

    # ---- peers and images

    def setup_peers(self, bench_dir, install):
        self.bench_dir = bench_dir
        peers_sh = os.path.join(bench_dir, "peers.sh")
        if install:
            try:
                sh([peers_sh, "install"], timeout=1800)
            except CommandFailed as exc:
                self.notes.append(f"peer install failed: {exc}")
        for name in ("crun", "runc", "podman", "podman-compose"):
            self.peers[name] = None if shutil.which(name) else f"{name} not installed"
        if self.peers["podman"] is not None:
            self.peers["podman-compose"] = "podman not installed"
        self.start_dockerd(peers_sh)

    def start_dockerd(self, peers_sh):
        if not os.path.exists("/usr/sbin/dockerd") or not os.path.exists(DOCKER):
            self.peers["docker"] = self.peers["docker-compose"] = "docker.io not installed"
            return
        p = subprocess.run([peers_sh, "dockerd-start"], capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            why = " ".join(p.stderr.strip().splitlines()[-3:])
            self.peers["docker"] = self.peers["docker-compose"] = f"dockerd cannot start here: {why}"
            self.notes.append(f"docker: dockerd could not start on this machine: {why}")
            return
        self.started_dockerd = p.stdout.strip() == "started"
        self.peers["docker"] = None
        self.peers["docker-compose"] = None if shutil.which("docker-compose") else "docker-compose not installed"

    def prepare_images(self):
        """The same busybox-static image for every tool: a rootfs dir, its tar, and imports."""
        self.rootfs, self.tar = tools.build_rootfs(self.workdir)
        if self.baseline:
            try:
                sh(self.baseline_base() + ["image", "import", self.tar, IMAGE], timeout=300)
            except CommandFailed as exc:
                self.notes.append(f"baseline image import failed: {exc}")
                self.baseline = None
        if self.berth_lacks("image") is None:
            try:
                took = tools.timed(self.berth_base() + ["image", "import", self.tar, IMAGE], timeout=300)
                self.notes.append(f"berth image import of {IMAGE} ({os.path.getsize(self.tar) // 1024} KiB "
                                  f"tar): ok, {took * 1000:.0f} ms (one run, untimed elsewhere)")
            except CommandFailed as exc:
                self.berth_image_error = f"failed: image import: {exc}"
                self.notes.append(f"berth image import failed: {exc}")
        else:
            self.berth_image_error = self.berth_lacks("image")
        for runtime in ("crun", "runc"):
            if self.usable(runtime):
                self.bundles[runtime] = tools.make_bundle(runtime, self.workdir, self.rootfs, ["/bin/true"])
        self.import_peer("podman", ["podman", "import", self.tar, PODMAN_IMAGE], ["podman", "rmi", "-f", PODMAN_IMAGE])
        self.import_peer("docker", [DOCKER, "import", self.tar, IMAGE], [DOCKER, "rmi", "-f", IMAGE])

    def import_peer(self, peer, cmd, remove):
        if not self.usable(peer):
            return
        try:
            sh(cmd, timeout=300)
            self.images.append((peer, remove))
        except CommandFailed as exc:
            self.peers[peer] = f"image import failed: {exc}"
            if peer == "podman":
                self.peers["podman-compose"] = self.peers[peer]
            if peer == "docker":
                self.peers["docker-compose"] = self.peers[peer]

    # ---- the record

    def machine_line(self, started):
        load = os.getloadavg()
        return (f"kernel {platform.release()}, {os.cpu_count()} cores, cgroup {cgroup_mode()}, "
                f"started {started}, load average (1 min) {self.load_start:.2f} at start, {load[0]:.2f} at end, "
                f"commit {git_commit(self.repo)}, berth {self.berth} ({build_kind(self.berth)}), "
                f"{self.runs} run(s) per tool")

    def tool_versions(self):
        if self.smoke:
            return []
        out = []
        for pkg in PACKAGES:
            p = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True, text=True)
            out.append(f"{pkg} {p.stdout.strip()}" if p.returncode == 0 and p.stdout.strip() else f"{pkg} absent")
        return out

    # ---- cleanup: keeps going and reports every error it met

    def close(self):
        for peer, remove in self.images:
            try:
                sh(remove, timeout=120)
            except CommandFailed as exc:
                self.cleanup_errors.append(f"{peer} image: {exc}")
        if self.started_dockerd and self.bench_dir:
            p = subprocess.run([os.path.join(self.bench_dir, "peers.sh"), "dockerd-stop"],
                               capture_output=True, text=True, timeout=120)
            if p.returncode != 0:
                self.cleanup_errors.append(f"dockerd-stop: {p.stderr.strip()}")
        self.reap_leftovers()
        # `berth run` made the root's default bridge (kept between runs, as docker0 is): remove it
        # with the root, or its link and firewall rules outlive the run.
        for name, base in self.berths():
            if not os.path.isdir(base[2]):
                continue
            p = subprocess.run(base + ["network", "rm", "bridge"], capture_output=True, text=True, timeout=120)
            if p.returncode != 0 and "no such network" not in p.stderr and "not found" not in p.stderr:
                self.cleanup_errors.append(f"{name} default network: {p.stderr.strip()}")
        # The peers leave their parent cgroups (docker/, libpod_parent/) behind; remove those this
        # run made, once empty (rmdir(2) refuses a cgroup that still has members or children).
        for path in peer_cgroups() - self.peer_cgroups_before:
            for sub, _, _ in sorted(os.walk(path), key=lambda w: len(w[0]), reverse=True):
                try:
                    os.rmdir(sub)
                except OSError as exc:
                    self.cleanup_errors.append(f"peer cgroup {sub}: {exc}")
        for mp in tools.mounts_under(self.workdir):
            subprocess.run(["umount", "-l", mp], capture_output=True)
        if tools.mounts_under(self.workdir):
            self.cleanup_errors.append(f"mounts remain under {self.workdir}; left it in place")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return self.cleanup_errors

    def reap_leftovers(self):
        """Processes still mentioning the bench workdir (berth monitors, containers) are a leak of
        the tool under test: say so, then kill them so the machine is left clean."""
        leaked = [(pid, cmd) for pid, (_, _, cmd, _) in tools.processes().items()
                  if self.workdir in cmd and pid != os.getpid()]
        for pid, cmd in leaked:
            self.notes.append(f"LEAK: process {pid} still running after the suites: {cmd[:120]}")
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if leaked:
            time.sleep(0.5)


PEER_CGROUPS = ("docker", "libpod_parent", "machine.slice")


def peer_cgroups():
    """Parent cgroups the peers create, in every hierarchy mounted under /sys/fs/cgroup."""
    out = set()
    base = "/sys/fs/cgroup"
    for hierarchy in [base] + [os.path.join(base, d) for d in os.listdir(base)]:
        for name in PEER_CGROUPS:
            path = os.path.join(hierarchy, name)
            if os.path.isdir(path):
                out.add(path)
    return out


def cgroup_mode():
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "v2 (unified)"
    with open("/proc/mounts") as f:
        mounts = f.read()
    if " /sys/fs/cgroup/unified cgroup2 " in mounts:
        return "v1 hybrid (cgroup2 at /sys/fs/cgroup/unified)"
    return "v1"


def git_commit(repo):
    try:
        p = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    except FileNotFoundError:  # no git (the v2 test guest)
        return "unknown"
    if p.returncode != 0:
        return "unknown"
    dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return p.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def build_kind(binary):
    return "release" if "/release/" in binary else ("debug" if "/debug/" in binary else "installed")
