"""Statistics and markdown rendering. A Row holds either samples or a status explaining why
there is no number (never a made-up figure)."""

import statistics
from dataclasses import dataclass, field

FLOOR = "kernel floor"
COLUMNS = ["tool", "measure", "runs", "median", "min", "max", "ratio"]


@dataclass
class Row:
    tool: str
    measure: str
    samples: list = field(default_factory=list)
    unit: str = "s"  # "s" (seconds, shown in ms), "MiB" or "count"
    status: str = ""  # why there is no number: "not supported yet: ...", "failed: ..."
    derived: str = ""  # set when the figure is computed from other rows (shown in "runs")

    def median(self):
        return statistics.median(self.samples) if self.samples and not self.status else None


@dataclass
class Section:
    name: str
    title: str
    rows: list
    notes: list = field(default_factory=list)


def fmt(value, unit):
    if value is None:
        return "—"
    if unit == "count":
        return f"{value:g}"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    ms = value * 1000.0
    size = abs(ms)  # derived figures (a difference of medians) may be negative
    if size >= 10000:
        return f"{value:.1f} s"
    if size >= 100:
        return f"{ms:.0f} ms"
    if size >= 1:
        return f"{ms:.2f} ms"
    return f"{ms * 1000:.0f} µs"


def reference(rows, measure):
    """The row a measure's ratios are taken against: berth's, else the kernel floor's."""
    for tool in ("berth", FLOOR):
        for r in rows:
            if r.tool == tool and r.measure == measure and r.median() is not None:
                return r
    return None


def ratio_cell(row, rows):
    ref = reference(rows, row.measure)
    med = row.median()
    if ref is None or med is None or not ref.median() or ref.median() < 0:
        return "—"  # no ratio to a zero or negative (derived, noise-dominated) reference
    label = "berth" if ref.tool == "berth" else "floor"
    return f"{med / ref.median():.2f}× {label}"


def escape(text):
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows):
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(["---"] * len(COLUMNS)) + "|"]
    for r in rows:
        if r.status:
            cells = [r.tool, r.measure, "—", escape(r.status), "—", "—", "—"]
        else:
            cells = [r.tool, r.measure, r.derived or str(len(r.samples)), fmt(r.median(), r.unit),
                     fmt(min(r.samples), r.unit), fmt(max(r.samples), r.unit), ratio_cell(r, rows)]
        lines.append("| " + " | ".join(escape(c) for c in cells) + " |")
    return "\n".join(lines)


def render(machine, versions, sections, notes, smoke):
    kind = "smoke run (1 run, berth only: checks the harness, not a measurement)" if smoke else "measurement"
    out = [f"## bench/compare — {kind}", "", f"Machine: {machine}", ""]
    if versions:
        out += ["Tools: " + "; ".join(versions), ""]
    for s in sections:
        out += [f"### {s.name} — {s.title}", ""]
        if s.rows:
            out += [table(s.rows), ""]
        out += [f"- {n}" for n in s.notes]
        if s.notes:
            out.append("")
    out += [f"- {n}" for n in notes]
    return "\n".join(out).rstrip() + "\n"
