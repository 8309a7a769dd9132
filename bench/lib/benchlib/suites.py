"""The suites. Each builds one Contender per tool (berth first), and `alternate` runs them
A B A B … after one warm-up each; a contender that fails gets a 'failed: …' row, never a number."""

import os
import signal
import socket
import subprocess
import time

from . import compose, dns, primitives
from .context import DOCKER, PODMAN_IMAGE
from .report import FLOOR, Row, Section
from .tools import IMAGE, CommandFailed, engine_rss, processes, timed


class Contender:
    """One tool in a suite: setup() once, sample() -> {measure: value} per run, teardown()."""

    def __init__(self, name, sample, setup=None, teardown=None):
        self.name, self._sample, self._setup, self._teardown = name, sample, setup, teardown
        self.i = 0

    def setup(self):
        if self._setup:
            self._setup()

    def sample(self):
        self.i += 1
        return self._sample(self.i)

    def teardown(self):
        if self._teardown:
            self._teardown()


def alternate(ctx, contenders, units, skipped=()):
    """Rows for every contender: warm-up (not with --smoke), then ctx.runs alternating rounds.
    `skipped` are (tool, reason) pairs shown as rows without numbers."""
    samples = {c.name: {} for c in contenders}
    failed = {}
    active = []
    for c in contenders:
        try:
            c.setup()
            active.append(c)
        except (CommandFailed, OSError, TimeoutError) as exc:
            failed[c.name] = f"failed: setup: {exc}"
    rounds = ctx.runs + (0 if ctx.smoke else 1)
    try:
        for r in range(rounds):
            for c in list(active):
                try:
                    got = c.sample()
                except (CommandFailed, OSError, TimeoutError) as exc:
                    failed[c.name] = f"failed: {exc}"
                    active.remove(c)
                    continue
                if ctx.smoke or r > 0:  # round 0 is the warm-up
                    for m, v in got.items():
                        samples[c.name].setdefault(m, []).append(v)
    finally:  # even on ^C: what a contender set up must go
        for c in contenders:  # failed ones too: their setup may have half-happened
            try:
                c.teardown()
            except (CommandFailed, OSError, TimeoutError) as exc:
                ctx.cleanup_errors.append(f"{c.name} teardown: {exc}")
    rows = []
    for name, reason in skipped:
        for m in units:
            rows.append(Row(name, m, status=reason))
    for c in contenders:
        for m, unit in units.items():
            if c.name in failed:
                rows.append(Row(c.name, m, unit=unit, status=failed[c.name]))
            else:
                rows.append(Row(c.name, m, samples[c.name].get(m, []), unit=unit,
                                status="" if samples[c.name].get(m) else "no sample"))
    return sorted(rows, key=lambda row: row.tool != "berth")


def floor_row(ctx, measure, containers):
    """The kernel floor for `containers` container starts, from this run's primitives suite."""
    if not all(p in ctx.floor for p in primitives.FLOOR_PARTS):
        return []
    dirs = primitives.cgroup_dirs()
    total = containers * sum(ctx.floor[p] * (dirs if p == "cgroup" else 1) for p in primitives.FLOOR_PARTS)
    return [Row(FLOOR, measure, [total], derived=f"sum×{containers}")]


def peer_skips(ctx, peers):
    """Rows for peers that cannot run here (none in --smoke: peers are not part of it)."""
    if ctx.smoke:
        return []
    return [(p, ctx.peers.get(p) or "not available") for p in peers if not ctx.usable(p)]


# ---- primitives


def suite_primitives(ctx):
    rows = []
    for name, what in primitives.PRIMITIVES:
        try:
            s = primitives.measure(name, ctx.runs, ctx.workdir)
            rows.append(Row("kernel", what, s))
            ctx.floor[name] = Row("kernel", what, s).median()
        except (RuntimeError, OSError) as exc:
            rows.append(Row("kernel", what, status=f"failed: {exc}"))
    dirs = primitives.cgroup_dirs()
    parts = " + ".join(f"{p} × {dirs}" if p == "cgroup" else p for p in primitives.FLOOR_PARTS)
    notes = [f"floor per container start = {parts} medians ({dirs} = the cgroup hierarchies a process is in "
             "here; the five namespaces in one unshare, as a runtime makes them)."]
    return Section("primitives", "the kernel floor, measured directly (syscalls, no tool)", rows, notes)


# ---- run: one container running `true`


def suite_run(ctx):
    contenders, skipped = [], []
    reason = ctx.berth_lacks("run") or ctx.berth_image_error
    if reason:
        skipped.append(("berth", reason))
    else:
        for name, base in ctx.berths():
            cmd = base + ["run", "--rm", IMAGE, "true"]
            contenders.append(Contender(name, lambda i, cmd=cmd: {"run true": timed(cmd)}))
    for rt in ("crun", "runc"):
        if ctx.usable(rt) and rt in ctx.bundles:
            contenders.append(runtime_contender(ctx, rt))
    if ctx.usable("podman"):
        pcmd = ["podman", "run", "--rm", PODMAN_IMAGE, "true"]
        contenders.append(Contender("podman", lambda i: {"run true": timed(pcmd)}))
    if ctx.usable("docker"):
        dcmd = [DOCKER, "run", "--rm", IMAGE, "true"]
        contenders.append(Contender("docker", lambda i: {"run true": timed(dcmd)}))
    skipped += peer_skips(ctx, ["crun", "runc", "podman", "docker"])
    rows = alternate(ctx, contenders, {"run true": "s"}, skipped) + floor_row(ctx, "run true", 1)
    notes = ["berth/podman/docker: `run --rm IMAGE true` with default networking; crun/runc: "
             "`run` of an OCI bundle from `<runtime> spec` (new netns, no veth), state in a tempdir."]
    return Section("run", "one container running `true`", rows, notes)


def runtime_contender(ctx, rt):
    state = os.path.join(ctx.workdir, f"{rt}-state")
    os.makedirs(state, exist_ok=True)
    bundle = ctx.bundles[rt]

    def sample(i):
        cid = f"bench-{rt}-{os.getpid()}-{i}"
        return {"run true": timed([rt, "--root", state, "run", "-b", bundle, cid])}

    return Contender(rt, sample)


# ---- compose suites


def compose_contenders(ctx, suite, stack, sample_for):
    """berth + podman-compose + docker-compose contenders for one stack shape."""
    contenders, skipped = [], []
    reason = ctx.berth_lacks("up", "down") or ctx.berth_image_error
    engines = [(name, None) for name, _ in ctx.berths()] + [(p, p) for p in ("podman-compose", "docker-compose")]
    for tool, peer in engines:
        if tool.startswith("berth") and reason:
            skipped.append(("berth", reason))
            continue
        if peer and not ctx.usable(peer):
            continue
        c = compose.Compose(ctx, tool, suite, stack)
        contenders.append(Contender(tool, lambda i, c=c: sample_for(c, i)))
    skipped += peer_skips(ctx, ["podman-compose", "docker-compose"])
    return contenders, skipped


def then_down(c, project, body):
    """body(), then the untimed fast teardown; a teardown error never hides body's own error."""
    try:
        result = body()
    except BaseException:
        try:
            c.down_fast(project)
        except CommandFailed:
            pass
        raise
    c.down_fast(project)
    return result


def sample_up(c, i):
    project = c.project(i)
    return then_down(c, project, lambda: {"up -d": c.timed(project, "up", "-d")})


def sample_down(c, i):
    project = c.project(i)

    def body():
        c.run(project, "up", "-d")
        return {"down": c.timed(project, "down")}

    return then_down(c, project, body)


def suite_up10(ctx):
    contenders, skipped = compose_contenders(ctx, "up10", compose.independent(10), sample_up)
    rows = alternate(ctx, contenders, {"up -d": "s"}, skipped) + floor_row(ctx, "up -d", 10)
    return Section("up10", "`up -d` of 10 independent services (busybox `sleep 1000`)", rows,
                   ["untimed teardown after each run: `down` (`-t 0` for the peers)."])


def suite_chain10(ctx):
    contenders, skipped = compose_contenders(ctx, "chain10", compose.chain(10), sample_up)
    rows = alternate(ctx, contenders, {"up -d": "s"}, skipped) + floor_row(ctx, "up -d", 10)
    return Section("chain10", "`up -d` of a 10-deep depends_on chain", rows)


# ---- net10: network plumbing per container


NET10_MODES = ("bridge", "none")


def compose_tools(ctx, skipped):
    """berth (when it can `up`/`down` and has its image; else a skip row) and the usable
    compose peers, in the order suites run them."""
    reason = ctx.berth_lacks("up", "down") or ctx.berth_image_error
    if reason:
        skipped.append(("berth", reason))
    tools_ = [] if reason else ["berth"]
    return tools_ + [p for p in ("podman-compose", "docker-compose") if ctx.usable(p)]


def suite_net10(ctx):
    n = 3 if ctx.smoke else 10  # --smoke checks the harness in seconds
    contenders, skipped = [], []
    tools_ = compose_tools(ctx, skipped)
    for tool in tools_:
        contenders.append(net10_contender(ctx, tool, n))
    skipped += peer_skips(ctx, ["podman-compose", "docker-compose"])
    units = {f"{verb} ({mode})": "s" for verb in ("up -d", "down") for mode in NET10_MODES}
    rows = with_plumbing(alternate(ctx, contenders, units, skipped), n)
    if "netns" in ctx.floor and "veth add" in ctx.floor:
        rows.append(Row(FLOOR, PLUMBING, [ctx.floor["netns"] + ctx.floor["veth add"]], derived="sum×1"))
    notes = ([f"--smoke: {n} services only."] if ctx.smoke else []) + [
        f"each run: `up -d` then `down -t 0` of {n} busybox `sleep 1000` services on the project's "
        "default bridge network, and the same stack with `network_mode: none` (in turn, which goes first "
        "alternating run to run); untimed `down` after each.",
        f"plumbing per container is derived, not timed: (median `up -d (bridge)` − median "
        f"`up -d (none)`) ÷ {n}; it has no min/max of its own (its min = max = median).",
        "kernel floor: netns + veth add medians from `primitives` (one container's namespace and veth "
        "pair). `network_mode: none` also gets a fresh netns, so the difference strictly contains only "
        "the veth and what follows it (bridge attach, addresses, routes, the network itself, ÷ n).",
    ]
    return Section("net10", f"network plumbing per container: `up -d` of {n} services, default bridge "
                   "network vs `network_mode: none`", rows, notes)


PLUMBING = "plumbing per container"


def net10_contender(ctx, tool, n):
    stacks = {mode: compose.Compose(ctx, tool, f"net10{mode[0]}",
                                    compose.independent(n, network_mode=None if mode == "bridge" else mode))
              for mode in NET10_MODES}

    def one(mode, i):
        c = stacks[mode]
        project = c.project(i)

        def body():
            t_up = c.timed(project, "up", "-d")
            running = c.running(project)
            if running != n:  # a figure for containers that never started would be a lie
                raise CommandFailed(f"{mode}: {running} of {n} containers running after `up -d`")
            return {f"up -d ({mode})": t_up, f"down ({mode})": c.timed(project, "down", "-t", "0")}

        return then_down(c, project, body)

    def sample(i):
        got = {}
        for mode in (NET10_MODES if i % 2 else NET10_MODES[::-1]):
            got.update(one(mode, i))
        return got

    return Contender(tool, sample)


def with_plumbing(rows, n):
    """Each tool's rows followed by its derived plumbing-per-container row."""
    out, tools_ = [], []
    for r in rows:
        if r.tool not in tools_:
            tools_.append(r.tool)
    for tool in tools_:
        mine = [r for r in rows if r.tool == tool]
        out += mine
        up = {r.measure: r for r in mine}
        bridge, none = up.get("up -d (bridge)"), up.get("up -d (none)")
        if bridge and none and bridge.median() is not None and none.median() is not None:
            out.append(Row(tool, PLUMBING, [(bridge.median() - none.median()) / n],
                           derived=f"derived (Δ medians ÷ {n})"))
        else:
            why = next((r.status for r in (bridge, none) if r and r.status), "no sample")
            out.append(Row(tool, PLUMBING, status=why))
    return out


def suite_down10(ctx):
    contenders, skipped = compose_contenders(ctx, "down10", compose.independent(10), sample_down)
    rows = alternate(ctx, contenders, {"down": "s"}, skipped)
    return Section("down10", "`down` of 10 services with busybox `sleep` as PID 1 (ignores SIGTERM)",
                   rows, ["default stop timeout for every tool: this is what a user waits for."])


def sample_scale(c, i):
    project = c.project(i)
    before = set(processes())

    def body():
        t_up = c.timed(project, "up", "-d")
        time.sleep(1.0)  # let post-start helpers settle before reading RSS
        mib, count = engine_rss(c.engine, before, c.ctx.berth, c.ctx.workdir)
        t_down = c.timed(project, "down")
        return {"up -d": t_up, "down": t_down, "resident RSS": mib, "resident processes": count}

    return then_down(c, project, body)


def suite_scale100(ctx):
    n = 10 if ctx.smoke else 100  # --smoke checks the harness in seconds, not the scale
    contenders, skipped = compose_contenders(ctx, "scale100", compose.independent(n, trap_term=True),
                                             sample_scale)
    units = {"up -d": "s", "down": "s", "resident RSS": "MiB", "resident processes": "count"}
    rows = alternate(ctx, contenders, units, skipped) + floor_row(ctx, "up -d", n)
    notes = ([f"--smoke: {n} services only."] if ctx.smoke else []) + ["services run `sh -c 'trap \"exit 0\" TERM; sleep 1000 & wait'` so `down` measures the "
             "engine, not a grace period.",
             "resident RSS: VmRSS sum, 1 s after `up -d`, of the engine's host processes (not in a "
             "container's pid namespace): berth processes of this run; podman: conmon, podman, netavark, "
             "aardvark-dns; docker: dockerd, containerd and shims (daemons counted even though they predate "
             "the run)."]
    return Section("scale100", "100 services: `up -d`, `down`, resident memory", rows, notes)


# ---- restart: crash to replacement running


def suite_restart(ctx):
    contenders, skipped = [], []
    tools_ = compose_tools(ctx, skipped)
    for n, tool in enumerate(tools_):
        contenders.append(restart_contender(ctx, tool, 100001 + n))
    skipped += peer_skips(ctx, ["podman-compose", "docker-compose"])
    rows = alternate(ctx, contenders, {"crash → running": "s"}, skipped)
    notes = [f"the container's PID 1 (`sleep N`) is SIGKILLed from the host after it has run "
             f"{ctx.settle:g} s (Docker backs off restarts of containers that ran < 10 s); the time is "
             "until a new `sleep N` process exists (polled in /proc)."]
    return Section("restart", "`restart: always`: time from a crash to the replacement running", rows, notes)


def restart_contender(ctx, tool, marker):
    c = compose.Compose(ctx, tool, "restart", compose.restarting(marker))
    project = c.project(0)
    state = {}
    limit = 15 if ctx.smoke else 60  # seconds to wait for the (re)started process

    def setup():
        c.run(project, "up", "-d")
        state["pid"] = wait_for_marker(marker, None, limit)
        state["since"] = time.monotonic()

    def sample(i):
        wait = ctx.settle - (time.monotonic() - state["since"])
        if wait > 0:
            time.sleep(wait)
        t = time.perf_counter()
        os.kill(state["pid"], signal.SIGKILL)
        state["pid"] = wait_for_marker(marker, state["pid"], limit)
        took = time.perf_counter() - t
        state["since"] = time.monotonic()
        return {"crash → running": took}

    return Contender(tool, sample, setup, lambda: c.down_fast(project))


def wait_for_marker(marker, old_pid, timeout):
    """pid of the process whose argv is `sleep <marker>`, other than old_pid."""
    want = f"sleep\0{marker}".encode()
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == old_pid:
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if f.read().rstrip(b"\0") == want:
                        return int(entry)
            except OSError:
                continue
        time.sleep(0.0005)
    raise TimeoutError(f"no `sleep {marker}` process within {timeout} s")


# ---- watch


WATCH_PEERS = {
    "docker-compose": "no `watch` command (docker-compose v1; Compose v2.22+ has it)",
    "podman-compose": "no `watch` command",
}


def suite_watch(ctx):
    rows, skipped = [], []
    reason = ctx.berth_lacks("watch", "up", "down") or ctx.berth_image_error
    contenders = []
    if reason:
        skipped.append(("berth", reason))
    else:
        contenders.append(watch_contender(ctx))
    if not ctx.smoke:  # peers: only a Compose v2 `docker compose watch` could run this
        skipped += [(p, WATCH_PEERS[p]) for p in ("podman-compose", "docker-compose")]
    rows = alternate(ctx, contenders, {"save → served": "s"}, skipped)
    notes = ["a `sync` rule (./www → /www) on a busybox `httpd` service published on 127.0.0.1; each run "
             "writes www/index.html with a new token and polls GET / every 2 ms until the token is served. "
             "Includes the watcher's debounce (berth: 100 ms quiet period)."]
    return Section("watch", "watch mode: save a file → the change served by the container", rows, notes)


def watch_contender(ctx):
    port = free_port()
    c = compose.Compose(ctx, "berth", "watch", {})
    www = os.path.join(c.dir, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("start\n")
    with open(c.file, "w") as f:
        f.write("services:\n  web:\n"
                f'    image: "{IMAGE}"\n'
                # The bench image has few applet links; sync needs `tar` (as Compose's does).
                '    command: ["/bin/sh", "-c", "/bin/busybox --install -s /bin; mkdir -p /www; '
                'exec httpd -f -p 8080 -h /www"]\n'
                f'    ports: ["127.0.0.1:{port}:8080"]\n'
                "    develop:\n      watch:\n"
                "        - {action: sync, path: ./www, target: /www, initial_sync: true}\n")
    project = c.project(0)
    state = {}
    limit = 15 if ctx.smoke else 60

    def setup():
        log = open(os.path.join(c.dir, "watch.log"), "w")
        state["proc"] = subprocess.Popen(c.cmd(project, "watch"), stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, env=c.env, cwd=c.dir)
        log.close()
        # Re-save until served: the first saves may land before the container's `tar` exists.
        deadline = time.perf_counter() + limit
        while True:
            with open(os.path.join(www, "index.html"), "w") as f:
                f.write("start\n")
            try:
                return wait_served(port, b"start", 1)
            except TimeoutError:
                if time.perf_counter() > deadline or state["proc"].poll() is not None:
                    raise

    def sample(i):
        token = f"token-{os.getpid()}-{i}".encode()
        t = time.perf_counter()
        with open(os.path.join(www, "index.html"), "wb") as f:
            f.write(token + b"\n")
        wait_served(port, token, limit)
        return {"save → served": time.perf_counter() - t}

    def teardown():
        proc = state.pop("proc", None)
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        c.down_fast(project)

    return Contender("berth", sample, setup, teardown)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_served(port, token, timeout):
    """Poll GET / on 127.0.0.1:port every 2 ms until the body holds `token`."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
                body = b""
                while chunk := s.recv(65536):
                    body += chunk
            if token in body:
                return
        except OSError:
            pass
        time.sleep(0.002)
    raise TimeoutError(f"127.0.0.1:{port} did not serve {token!r} within {timeout} s")


SUITES = {
    "primitives": suite_primitives,
    "run": suite_run,
    "up10": suite_up10,
    "chain10": suite_chain10,
    "net10": suite_net10,
    "down10": suite_down10,
    "scale100": suite_scale100,
    "restart": suite_restart,
    "watch": suite_watch,
    "dns": dns.suite_dns,
}
