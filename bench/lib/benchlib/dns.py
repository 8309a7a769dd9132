"""The dns suite: how long a container waits for its resolver to answer a service name.

From inside a client container's network namespace (nsenter --net), a probe sends QUERIES
A queries for `web` one after the other to the nameserver of the container's resolv.conf and
times each round trip; the same probe times a UDP echo on 127.0.0.1 in that namespace, the
kernel floor of any UDP round trip there. One run = QUERIES queries; a run's p50 and p99 are
its samples. berth's embedded server answers on 127.0.0.11 in the namespace; docker's too;
podman's aardvark-dns on the network's gateway. Only local names are asked: nothing is
forwarded, so no query leaves the machine."""

import json
import os

from . import compose
from .report import FLOOR, Row, Section
from .tools import CommandFailed, sh

QUERIES = 1000

# Runs inside the namespace: python3 PROBE RESOLV_CONF NAME COUNT -> one JSON line.
PROBE = r"""
import json, socket, struct, sys, threading, time
resolv, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
server = next(l.split()[1] for l in open(resolv) if l.startswith("nameserver"))
def query(qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return q + struct.pack(">HH", 1, 1)
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
dns = []
for i in range(count):
    q = query(i & 0xFFFF)
    t0 = time.perf_counter()
    s.sendto(q, (server, 53))
    while True:
        r = s.recv(4096)
        if r[:2] == q[:2]:
            break
    dns.append(time.perf_counter() - t0)
    if struct.unpack(">H", r[6:8])[0] < 1:
        sys.exit("no answer for " + name)
echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
echo.bind(("127.0.0.1", 0))
def serve():
    while True:
        d, a = echo.recvfrom(4096)
        echo.sendto(d, a)
threading.Thread(target=serve, daemon=True).start()
floor = []
for i in range(count):
    t0 = time.perf_counter()
    s.sendto(query(i & 0xFFFF), echo.getsockname())
    s.recv(4096)
    floor.append(time.perf_counter() - t0)
print(json.dumps({"server": server, "p50": pct(dns, 0.5), "p99": pct(dns, 0.99),
                  "floor_p50": pct(floor, 0.5), "floor_p99": pct(floor, 0.99)}))
"""

STACK = {"web": {"command": ["sleep", "1000"]}, "client": {"command": ["sleep", "1000"]}}


def probe(nsenter, resolv):
    out = sh(nsenter + ["python3", "-c", PROBE, resolv, "web", str(QUERIES)]).stdout
    return json.loads(out.strip().splitlines()[-1])


class Target:
    """One tool's two-service stack, up for the whole suite; probes from `client`."""

    def __init__(self, ctx, tool):
        self.ctx, self.tool = ctx, tool
        self.c = compose.Compose(ctx, tool, "dns", STACK)
        self.project = self.c.project(0)
        self.floor = {"p50": [], "p99": []}
        if tool == "berth":
            # Nothing here is forwarded; should anything be, it goes nowhere.
            self.c.env["BERTH_DNS_UPSTREAM"] = "127.0.0.1:9"

    def setup(self):
        self.c.run(self.project, "up", "-d")
        if self.tool == "berth":
            cid = f"{self.project}-client-1"
            root = self.ctx.berth_root
            self.nsenter = ["nsenter", f"--net={os.path.join(root, 'run', 'netns', cid)}"]
            self.resolv = os.path.join(root, "run", "network", cid, "resolv.conf")
        else:
            cli = "podman" if self.tool == "podman-compose" else compose.DOCKER
            ids = sh([cli, "ps", "-q", "--filter", f"label=com.docker.compose.project={self.project}",
                      "--filter", "label=com.docker.compose.service=client"], env=self.c.env).stdout.split()
            if not ids:
                raise CommandFailed(f"{self.tool}: no client container")
            pid = sh([cli, "inspect", "-f", "{{.State.Pid}}", ids[0]], env=self.c.env).stdout.strip()
            self.nsenter = ["nsenter", "-t", pid, "--net"]
            self.resolv = f"/proc/{pid}/root/etc/resolv.conf"

    def sample(self, i):
        got = probe(self.nsenter, self.resolv)
        self.floor["p50"].append(got["floor_p50"])
        self.floor["p99"].append(got["floor_p99"])
        return {"name p50": got["p50"], "name p99": got["p99"]}

    def teardown(self):
        self.c.down_fast(self.project)


def suite_dns(ctx):
    from .suites import Contender, alternate, peer_skips

    targets, skipped = [], []
    reason = ctx.berth_lacks("up", "down") or ctx.berth_image_error
    if reason:
        skipped.append(("berth", reason))
    else:
        targets.append(Target(ctx, "berth"))
    for peer in ("podman-compose", "docker-compose"):
        if ctx.usable(peer):
            targets.append(Target(ctx, peer))
    skipped += peer_skips(ctx, ["podman-compose", "docker-compose"])
    contenders = [Contender(t.tool, t.sample, t.setup, t.teardown) for t in targets]
    units = {"name p50": "s", "name p99": "s"}
    rows = alternate(ctx, contenders, units, skipped)
    berth = next((t for t in targets if t.tool == "berth"), None)
    if berth and berth.floor["p50"]:
        rows += [Row(FLOOR, "name p50", berth.floor["p50"]), Row(FLOOR, "name p99", berth.floor["p99"])]
    notes = [f"each run: {QUERIES} sequential A queries for a service name from a client container's "
             "namespace (python3 via nsenter, so every figure includes the same interpreter overhead); "
             "kernel floor: a UDP echo round trip on 127.0.0.1 in berth's client namespace, same probe."]
    return Section("dns", "a service name answered by the container's resolver", rows, notes)

