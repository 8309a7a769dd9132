"""Stack files for the compose suites, and the command lines of each compose tool."""

import json
import os

from .context import DOCKER, PODMAN_IMAGE
from .tools import IMAGE, CommandFailed, sh, timed

SHORT = {"berth": "b", "berth-base": "o", "podman-compose": "p", "docker-compose": "d"}
ENGINE = {"berth": "berth", "berth-base": "berth", "podman-compose": "podman", "docker-compose": "docker"}
TRAP_TERM = ["sh", "-c", 'trap "exit 0" TERM; sleep 1000 & wait']


def independent(n, trap_term=False, network_mode=None):
    """n services with no dependencies (busybox `sleep 1000` as PID 1 unless trap_term), on the
    project's default network unless network_mode is given."""
    cmd = TRAP_TERM if trap_term else ["sleep", "1000"]
    extra = {"network_mode": network_mode} if network_mode else {}
    return {f"s{i:03d}": {"command": cmd, **extra} for i in range(n)}


def chain(n):
    """s000 <- s001 <- … : each service depends_on the one before it."""
    stack = {}
    for i in range(n):
        svc = {"command": ["sleep", "1000"]}
        if i:
            svc["depends_on"] = [f"s{i - 1:03d}"]
        stack[f"s{i:03d}"] = svc
    return stack


def restarting(marker):
    return {"crash": {"command": ["sleep", str(marker)], "restart": "always"}}


def render(stack, image):
    """YAML by hand (stdlib only); every value here is a plain word or a JSON-quoted string."""
    lines = ["services:"]
    for name, svc in stack.items():
        lines.append(f"  {name}:")
        lines.append(f'    image: "{image}"')
        lines.append("    command: [" + ", ".join(quote(a) for a in svc["command"]) + "]")
        if "restart" in svc:
            lines.append(f"    restart: {svc['restart']}")
        if "network_mode" in svc:
            lines.append(f"    network_mode: {svc['network_mode']}")
        if "depends_on" in svc:
            lines.append("    depends_on: [" + ", ".join(svc["depends_on"]) + "]")
    return "\n".join(lines) + "\n"


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Compose:
    """One compose tool driving one stack file, in its own directory under the workdir."""

    def __init__(self, ctx, tool, suite, stack):
        self.ctx, self.tool, self.suite, self.engine = ctx, tool, suite, ENGINE[tool]
        self.dir = os.path.join(ctx.workdir, f"{suite}-{tool}")
        os.makedirs(self.dir, exist_ok=True)
        self.file = os.path.join(self.dir, "compose.yaml")
        image = PODMAN_IMAGE if tool == "podman-compose" else IMAGE
        with open(self.file, "w") as f:
            f.write(render(stack, image))
        self.env = dict(os.environ)
        if tool == "docker-compose":
            self.env["DOCKER_HOST"] = "unix:///var/run/docker.sock"
            self.env["PATH"] = os.path.dirname(DOCKER) + ":" + self.env.get("PATH", "")

    def project(self, i):
        return f"bench{self.suite}{SHORT[self.tool]}{os.getpid()}x{i}"

    def cmd(self, project, *verb):
        if self.tool == "berth":
            base = self.ctx.berth_base()
        elif self.tool == "berth-base":
            base = self.ctx.baseline_base()
        else:
            base = [self.tool]
        return base + ["-f", self.file, "-p", project] + list(verb)

    def timed(self, project, *verb):
        return timed(self.cmd(project, *verb), env=self.env, cwd=self.dir)

    def run(self, project, *verb):
        sh(self.cmd(project, *verb), env=self.env, cwd=self.dir)

    def running(self, project):
        """How many of the project's containers run. podman-compose 1.0 exits 0 even when every
        `podman run` failed (e.g. `network_mode: none`, which it pairs with `--net <default>`), so
        a suite that needs the containers up checks this rather than the exit status."""
        if self.engine == "berth":
            # JSON Lines (one object per container), as docker compose >= 2.21 prints them.
            out = sh(self.cmd(project, "ps", "--format", "json"), env=self.env, cwd=self.dir).stdout
            rows = [json.loads(line) for line in out.splitlines() if line.strip()]
            return sum(1 for r in rows if r.get("State") == "running")
        cli = "podman" if self.tool == "podman-compose" else DOCKER
        out = sh([cli, "ps", "-q", "--filter", f"label=com.docker.compose.project={project}"],
                 env=self.env).stdout
        return len(out.split())

    def down_fast(self, project):
        """Untimed teardown: no grace period for the peers (-t 0). Raises when it fails."""
        verb = ["down"] if self.engine == "berth" else ["down", "-t", "0"]
        try:
            sh(self.cmd(project, *verb), env=self.env, cwd=self.dir)
        except CommandFailed as exc:
            raise CommandFailed(f"teardown of {project}: {exc}") from exc
        finally:
            self.remove_networks(project)

    def remove_networks(self, project):
        """podman-compose 1.0 `down` leaves `<project>_default` behind: remove what the project made."""
        if self.engine == "berth":
            return
        cli = "podman" if self.tool == "podman-compose" else DOCKER
        listing = sh([cli, "network", "ls", "--format", "{{.Name}}"], check=False, env=self.env)
        for name in listing.stdout.split():
            if name.startswith(project + "_") or name == project:
                sh([cli, "network", "rm", name], check=False, env=self.env)
