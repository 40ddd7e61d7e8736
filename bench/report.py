"""Aggregate benchmark outcomes (medians over repetitions) and render them.

The table has one row per figure: ``workload | metric | mlflow | trackline | ratio | target``.
The ratio is normalised so that above 1 means trackline is better ("12.3x faster"); the
target is trackline's goal at full size, with a mark for whether the median meets it.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import Any

from bench.catalog import Figure, Workload

IMPLS = ("mlflow", "trackline")
HEADERS = ("workload", "metric", "mlflow", "trackline", "ratio", "trackline target")


@dataclass
class Outcome:
    """What one workload subprocess returned (or why it failed)."""

    ok: bool
    figures: dict[str, float] = field(default_factory=dict)
    checks: dict[str, list[Any]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    noise: dict[str, float] = field(default_factory=dict)

    def failed_checks(self) -> list[str]:
        """``"name: expected X, got Y"`` for every check whose two sides differ."""
        return [
            f"{name}: expected {pair[0]}, got {pair[1]}"
            for name, pair in self.checks.items()
            if pair[0] != pair[1]
        ]


@dataclass
class Cell:
    """One implementation's figure over all repetitions."""

    median: float | None
    samples: list[float]
    reps: int
    errors: list[str]

    def to_json(self) -> dict[str, Any]:
        """A plain-data form for the JSON report."""
        return {
            "median": self.median,
            "samples": self.samples,
            "reps": self.reps,
            "errors": self.errors,
        }


def cell(outcomes: list[Outcome], key: str) -> Cell:
    """Median of figure ``key`` over the successful outcomes."""
    samples = [o.figures[key] for o in outcomes if o.ok and key in o.figures]
    errors = [o.error or "failed" for o in outcomes if not o.ok]
    median = float(statistics.median(samples)) if samples else None
    return Cell(median, samples, len(outcomes), errors)


# --------------------------------------------------------------------------- formatting


def format_value(value: float | None, unit: str) -> str:
    """A figure for people: durations in ms or s, rates with thousands separators."""
    if value is None:
        return "—"
    if unit == "count":
        return f"{value:.0f}"
    if unit == "s":
        if value < 1:
            return f"{value * 1000:.3g} ms"
        return f"{value:,.0f} s" if value >= 100 else f"{value:.3g} s"
    number = f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
    return f"{number} {unit}"


def ratio(figure: Figure, mlflow: float | None, trackline: float | None) -> float | None:
    """How many times better trackline is than MLflow (above 1 is better), if comparable."""
    if figure.unit == "count" or mlflow is None or trackline is None:
        return None
    better, worse = (trackline, mlflow) if figure.better == "higher" else (mlflow, trackline)
    if worse <= 0 or better <= 0:
        return None
    return better / worse


#: Units of size rather than speed: their ratios read "smaller"/"larger".
SIZE_UNITS = ("MB",)


def format_ratio(value: float | None, unit: str = "") -> str:
    """``"12.3x faster"``, ``"2.0x slower"``, ``"same"`` (within 5 %) or ``"—"``.

    For a size (``unit`` in ``SIZE_UNITS``): ``"12.3x smaller"``, ``"2.0x larger"``.
    """
    better, worse = ("smaller", "larger") if unit in SIZE_UNITS else ("faster", "slower")
    if value is None:
        return "—"
    if value >= 1.05:
        return f"{value:.1f}x {better}"
    if value <= 1 / 1.05:
        return f"{1 / value:.1f}x {worse}"
    return "same"


def meets(figure: Figure, value: float | None) -> bool | None:
    """Whether ``value`` meets the figure's target (None without a target or a value)."""
    if figure.target is None or value is None:
        return None
    return value >= figure.target if figure.better == "higher" else value <= figure.target


def format_target(figure: Figure, value: float | None, judge: bool = True) -> str:
    """``"≤ 100 ms ✓"``: the target and (if ``judge``) whether trackline's median meets it."""
    if figure.target is None:
        return ""
    if figure.unit == "count":
        text = f"= {figure.target:.0f}"
    else:
        sign = "≥" if figure.better == "higher" else "≤"
        text = f"{sign} {format_value(figure.target, figure.unit)}"
    met = meets(figure, value) if judge else None
    return text if met is None else f"{text} {'✓' if met else '✗'}"


def _cell_text(c: Cell | None, unit: str, flagged: bool) -> str:
    if c is None:
        return "—"
    if c.median is None:
        return "error" if c.errors else "—"
    text = format_value(c.median, unit)
    if len(c.samples) < c.reps:
        text += f" ({len(c.samples)}/{c.reps})"
    return text + (" !" if flagged else "")


# --------------------------------------------------------------------------- report


@dataclass
class Report:
    """Every workload's outcomes per implementation, plus the run's metadata."""

    meta: dict[str, Any]
    workloads: list[Workload]
    outcomes: dict[tuple[str, str], list[Outcome]]
    populations: list[dict[str, Any]] = field(default_factory=list)
    judge_targets: bool = True

    def impls(self) -> list[str]:
        """The implementations measured in this run."""
        return [i for i in IMPLS if any(k[1] == i for k in self.outcomes)]

    def cells(self, workload: Workload, figure: Figure) -> dict[str, Cell | None]:
        """The figure's cell per implementation (None when not run)."""
        out: dict[str, Cell | None] = {}
        for impl in IMPLS:
            found = self.outcomes.get((workload.name, impl))
            out[impl] = cell(found, figure.key) if found else None
        return out

    def problems(self) -> list[str]:
        """Failed runs and failed correctness checks, one line each."""
        lines = []
        for (name, impl), outcomes in self.outcomes.items():
            for rep, o in enumerate(outcomes, 1):
                if not o.ok:
                    lines.append(f"{name} [{impl}] rep {rep}: {_summary(o.error)}")
                for failure in o.failed_checks():
                    lines.append(f"{name} [{impl}] rep {rep}: check {failure}")
        return lines

    def rows(self) -> list[tuple[str, ...]]:
        """The table's rows, as text."""
        rows: list[tuple[str, ...]] = []
        for w in self.workloads:
            flagged = {
                impl: any(o.failed_checks() for o in self.outcomes.get((w.name, impl), []))
                for impl in IMPLS
            }
            for n, f in enumerate(w.figures):
                cells = self.cells(w, f)
                med = {i: (c.median if c else None) for i, c in cells.items()}
                rows.append(
                    (
                        w.name if n == 0 else "",
                        f.label,
                        _cell_text(cells["mlflow"], f.unit, flagged["mlflow"]),
                        _cell_text(cells["trackline"], f.unit, flagged["trackline"]),
                        format_ratio(ratio(f, med["mlflow"], med["trackline"]), f.unit),
                        format_target(f, med["trackline"], self.judge_targets),
                    )
                )
        return rows

    def text(self) -> str:
        """The table for a terminal, then the problems, if any."""
        rows = [HEADERS, *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS))]
        lines = ["  ".join(v.ljust(widths[i]) for i, v in enumerate(r)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join([*lines, *self._notes()])

    def markdown(self) -> str:
        """The same table as Markdown, with the metadata above it."""
        out = ["# trackline vs MLflow", ""]
        out += [f"- {k}: {_plain(v)}" for k, v in self.meta.items()]
        out += ["", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        out += ["| " + " | ".join(_md(v) for v in r) + " |" for r in self.rows()]
        notes = ["- " + _md(n.strip()) if n.strip() else n for n in self._notes()]
        return "\n".join([*out, *notes, ""])

    def to_json(self) -> dict[str, Any]:
        """Everything, including every sample, as plain data."""
        workloads = []
        for w in self.workloads:
            figures = []
            for f in w.figures:
                cells = self.cells(w, f)
                med = {i: (c.median if c else None) for i, c in cells.items()}
                figures.append(
                    {
                        "key": f.key,
                        "label": f.label,
                        "unit": f.unit,
                        "better": f.better,
                        "target": f.target,
                        "meets_target": meets(f, med["trackline"]) if self.judge_targets else None,
                        "ratio": ratio(f, med["mlflow"], med["trackline"]),
                        **{i: (c.to_json() if c else None) for i, c in cells.items()},
                    }
                )
            runs = {
                impl: [
                    {
                        "ok": o.ok,
                        "error": o.error,
                        "seconds": o.seconds,
                        "noise": o.noise,
                        "checks": o.checks,
                        "details": o.details,
                    }
                    for o in self.outcomes.get((w.name, impl), [])
                ]
                for impl in IMPLS
            }
            workloads.append(
                {
                    "name": w.name,
                    "description": w.description,
                    "sizes": w.sizes,
                    "figures": figures,
                    "runs": runs,
                }
            )
        return {
            "meta": self.meta,
            "workloads": workloads,
            "populations": self.populations,
            "problems": self.problems(),
        }

    def noise_ranges(self) -> dict[str, tuple[float, float]]:
        """Lowest and highest value of each noise reading over all processes."""
        seen: dict[str, list[float]] = {}
        for outcomes in self.outcomes.values():
            for o in outcomes:
                for key, value in o.noise.items():
                    seen.setdefault(key, []).append(value)
        return {k: (min(v), max(v)) for k, v in seen.items()}

    def _notes(self) -> list[str]:
        notes = [
            f"populated {p['size']:,} runs for {p['impl']} in {p['elapsed_s']:.1f} s "
            f"({format_value(p['rate'], 'runs/s')}, {p['procs']} processes; "
            f"cached in {p['path']})"
            for p in self.populations
        ]
        noise = self.noise_ranges()
        if noise:
            notes.append(
                "machine noise at the start of each process: "
                + ", ".join(f"{k} {lo:g}-{hi:g}" for k, (lo, hi) in noise.items())
            )
        if not self.judge_targets:
            notes.append("targets apply to the full sizes: not judged at these sizes")
        problems = self.problems()
        if problems:
            notes.append("problems ('!' marks a figure whose correctness checks failed):")
            notes += [f"  {p}" for p in problems]
        return ["", *notes] if notes else []


def _summary(text: str | None) -> str:
    """The last non-empty line of an error (a traceback's exception line)."""
    lines = [line for line in (text or "failed").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "failed"


def _md(text: str) -> str:
    """Text for a Markdown table cell or list item."""
    return text.replace("|", "\\|").replace("<", "&lt;")


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
