"""The kernel floor: each primitive a container start needs, timed directly with syscalls (ctypes,
raw netlink) rather than through a command, so process start-up is not counted twice.

Anything that changes namespaces runs in a forked child (this process never leaves the host's
namespaces), and every object made here lives in a private namespace or under a bench- name that
is removed before the child exits.
"""

import ctypes
import json
import os
import socket
import struct
import subprocess
import tempfile
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def in_child(fn, *args):
    """Run fn(*args) in a forked child; return its JSON-able result or raise its error."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into the harness
        os.close(r)
        try:
            payload = {"ok": fn(*args)}
        except BaseException as exc:  # report every failure to the parent
            payload = {"err": repr(exc)}
        os.write(w, json.dumps(payload).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    result = json.loads(data or b'{"err": "child died"}')
    if "err" in result:
        raise RuntimeError(result["err"])
    return result["ok"]


def netns(n):
    """unshare(CLONE_NEWNET): a fresh network namespace, n times (the old one is freed async)."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        out.append(time.perf_counter() - t)
    return out


def _nlattr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def _ifinfomsg():
    return struct.pack("BxHiII", 0, 0, 0, 0, 0)


def _netlink(sock, seq, msg_type, flags, body):
    sock.send(struct.pack("IHHII", 16 + len(body), msg_type, flags, seq, 0) + body)
    reply = sock.recv(65536)
    _, rtype, _, _, _ = struct.unpack("IHHII", reply[:16])
    if rtype == 2:  # NLMSG_ERROR; error 0 is the ack
        (err,) = struct.unpack("i", reply[16:20])
        if err != 0:
            raise OSError(-err, f"netlink type {msg_type}: {os.strerror(-err)}")


def veth(n):
    """[add times, delete times] of a veth pair created and deleted over rtnetlink (RTM_NEWLINK/RTM_DELLINK), in a private
    network namespace made first, so the host's interfaces are never touched."""
    _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)  # NETLINK_ROUTE
    sock.bind((0, 0))
    a, b = b"bench-va\0", b"bench-vb\0"
    peer = _nlattr(1, _ifinfomsg() + _nlattr(3, b))  # VETH_INFO_PEER { IFLA_IFNAME }
    linkinfo = _nlattr(18, _nlattr(1, b"veth") + _nlattr(2, peer))  # IFLA_LINKINFO{KIND,DATA}
    create = _ifinfomsg() + _nlattr(3, a) + linkinfo
    delete = _ifinfomsg() + _nlattr(3, a)
    req, ack, new, excl = 1, 4, 0x400, 0x200
    adds, dels = [], []
    for i in range(n):
        t = time.perf_counter()
        _netlink(sock, 2 * i + 1, 16, req | ack | new | excl, create)  # RTM_NEWLINK
        t1 = time.perf_counter()
        _netlink(sock, 2 * i + 2, 17, req | ack, delete)  # RTM_DELLINK (takes the peer too)
        dels.append(time.perf_counter() - t1)
        adds.append(t1 - t)
    sock.close()
    return [adds, dels]


def overlay(n, workdir):
    """An overlay mount + umount with one lower dir, in a private mount namespace."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    base = tempfile.mkdtemp(prefix="bench-ovl-", dir=workdir)
    dirs = {k: os.path.join(base, k) for k in ("lower", "upper", "work", "merged")}
    for d in dirs.values():
        os.mkdir(d)
    opts = f"lowerdir={dirs['lower']},upperdir={dirs['upper']},workdir={dirs['work']}".encode()
    target = dirs["merged"].encode()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        _check(_libc.mount(b"overlay", target, b"overlay", 0, opts), "mount overlay")
        _check(_libc.umount2(target, 0), "umount overlay")
        out.append(time.perf_counter() - t)
    return out


def cgroup_parent():
    """Where a cgroup is made: the v1 pids hierarchy, else the v2 root."""
    for d in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(d, "cgroup.procs")):
            return d
    raise RuntimeError("no cgroup hierarchy found under /sys/fs/cgroup")


def cgroup(n):
    """mkdir + rmdir of one cgroup (bench- name, removed at once)."""
    parent = cgroup_parent()
    out = []
    for i in range(n):
        path = os.path.join(parent, f"bench-{os.getpid()}-{i}")
        t = time.perf_counter()
        os.mkdir(path)
        os.rmdir(path)
        out.append(time.perf_counter() - t)
    return out


def fork_exec(n):
    """fork+exec+wait of /bin/true, as the harness starts every other command."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(["/bin/true"], check=True)
        out.append(time.perf_counter() - t)
    return out


def namespaces_once():
    """unshare(2) of the five namespaces a container gets (mount, uts, ipc, pid, net) at once:
    the kernel makes them all in the call (the pid namespace too; its first fork only takes
    pid 1 in it). Once per process: a second CLONE_NEWPID would be refused."""
    flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET
    t = time.perf_counter()
    _check(_libc.unshare(flags), "unshare(mount|uts|ipc|pid|net)")
    return time.perf_counter() - t


def cgroup_dirs():
    """How many cgroup directories one container needs here: one per hierarchy a process is in
    (each line of /proc/self/cgroup), not counting the cgroup2 line on a hybrid host (v1
    controllers are used there), so 1 on a pure v2 host."""
    with open("/proc/self/cgroup") as f:
        lines = [l for l in f.read().splitlines() if l]
    v1 = [l for l in lines if not l.startswith("0::")]
    return len(v1) or 1


def all_namespaces(n):
    """unshare(1) with pid, mount, uts, ipc and net namespaces, then exec /bin/true."""
    cmd = ["unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "/bin/true"]
    out = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, check=True)
        out.append(time.perf_counter() - t)
    return out


def measure(name, n, workdir):
    """Samples of one primitive (after one warm-up), in a child when it changes namespaces."""
    if name == "netns":
        return in_child(netns, n + 1)[1:]
    if name == "namespaces":
        return [in_child(namespaces_once) for _ in range(n + 1)][1:]
    if name in ("veth add", "veth del"):
        adds, dels = in_child(veth, n + 1)
        return (adds if name == "veth add" else dels)[1:]
    if name == "overlay":
        return in_child(overlay, n + 1, workdir)[1:]
    if name == "cgroup":
        return cgroup(n + 1)[1:]
    if name == "fork+exec":
        return fork_exec(n + 1)[1:]
    if name == "all namespaces + exec":
        return all_namespaces(n + 1)[1:]
    raise KeyError(name)


# (name, what the row says it measures). FLOOR_PARTS add up to the per-container start floor.
PRIMITIVES = [
    ("netns", "unshare(CLONE_NEWNET)"),
    ("namespaces", "unshare(mount|uts|ipc|pid|net), one call"),
    ("veth add", "veth pair create (rtnetlink, private netns)"),
    ("veth del", "veth pair delete (rtnetlink, private netns)"),
    ("overlay", "overlay mount+umount (private mount ns)"),
    ("cgroup", "cgroup mkdir+rmdir (one hierarchy)"),
    ("fork+exec", "fork+exec+wait /bin/true"),
    ("all namespaces + exec", "unshare -f -pmuin /bin/true"),
]
# One container start: its five namespaces, its veth, its overlay, its cgroup directory in every
# hierarchy (see cgroup_dirs), one fork+exec. (Until 2026-11-28 the floor counted the net
# namespace alone and one cgroup directory, leaving out four of the five namespaces.)
FLOOR_PARTS = ["namespaces", "veth add", "overlay", "cgroup", "fork+exec"]
