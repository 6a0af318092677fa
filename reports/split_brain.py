"""The table an Akka user looks for, measured: downing strategy x partition shape -> what happened.

`split_brain_table(sweep)` reads a sweep whose points vary `manager.strategy` and a shape
`variant` (the reference sweep `sweep_split_brain`) and writes markdown: one table of
split-brain time, availability and survivors per strategy and shape (means over seeds), then,
per strategy, one line per shape saying in words what the numbers say. Every word comes from a
measured number of the sweep (reports/metrics/manager.py defines each); nothing is described
that was not measured.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from .schema import ManagerMetrics, Sweep


class TableError(ValueError):
    """The sweep has no manager metrics to tabulate."""


@dataclass(frozen=True)
class Cell:
    """One strategy x shape, over its seeds."""

    runs: int
    split_brain_s: float
    split_runs: int  # seeds with any split brain
    availability: float | None
    served: float | None
    survivors: float
    survivors_range: tuple[int, int]
    decision_s: float | None  # median first decision after a fault
    wrongly_downed: float  # mean count
    swim_changes: float | None  # SWIM's view changes per node-hour (mean)
    swim_suspicions: float | None  # SWIM's suspicions per node-hour (mean)
    manager_changes: float | None  # the manager's application view changes per node-hour (mean)

    def short(self) -> str:
        avail = "-" if self.availability is None else f"{100 * self.availability:.0f}%"
        low, high = self.survivors_range
        survivors = f"{low}" if low == high else f"{low}-{high}"
        return f"{self.split_brain_s:.1f} s / {avail} / {survivors}"


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def cell(metrics: list[ManagerMetrics]) -> Cell:
    firsts = [d.first_s for m in metrics for d in m.decision_times if d.first_s is not None]
    survivors = [m.survivors for m in metrics]
    return Cell(
        runs=len(metrics),
        split_brain_s=statistics.fmean(m.split_brain_s for m in metrics),
        split_runs=sum(1 for m in metrics if m.split_brain_s > 0),
        availability=_mean(m.availability for m in metrics),
        served=_mean(m.served for m in metrics),
        survivors=statistics.fmean(survivors),
        survivors_range=(min(survivors), max(survivors)),
        decision_s=statistics.median(firsts) if firsts else None,
        wrongly_downed=statistics.fmean(len(m.wrongly_downed) for m in metrics),
        swim_changes=_mean(m.instability.swim_per_node_hour for m in metrics),
        swim_suspicions=_mean(m.instability.swim_suspicions_per_node_hour for m in metrics),
        manager_changes=_mean(m.instability.manager_per_node_hour for m in metrics),
    )


def cells(sweep: Sweep) -> dict[tuple[str, str], Cell]:
    """(strategy, shape) -> its cell, from the sweep's finished points."""
    grouped: dict[tuple[str, str], list[ManagerMetrics]] = {}
    for point in sweep.points:
        if point.status != "ok" or point.metrics is None or point.metrics.manager is None:
            continue
        strategy = str(point.params.get("manager.strategy", point.metrics.manager.strategy))
        shape = str(point.params.get("variant", "base"))
        grouped.setdefault((strategy, shape), []).append(point.metrics.manager)
    if not grouped:
        raise TableError("no point of this sweep ran with a [manager]: nothing to tabulate")
    return {key: cell(ms) for key, ms in grouped.items()}


def sentence(c: Cell, nodes: int | None = None) -> str:
    """What one cell's numbers say, in words."""
    low, high = c.survivors_range
    parts = []
    if c.split_runs:
        parts.append(
            f"SPLIT BRAIN in {c.split_runs}/{c.runs} runs ({c.split_brain_s:.1f} s on average): "
            "two sides served apart past the window"
        )
    if high == 0:
        parts.append("every node stopped (safe, nothing serves after the decision)")
    elif low == high:
        parts.append(f"{low} node{'s' if low != 1 else ''} served on together")
    else:
        parts.append(f"{low} to {high} nodes served on together, depending on the seed")
    if c.availability is not None:
        parts.append(f"a majority side served {100 * c.availability:.0f}% of the time")
    if c.served is not None and c.availability is not None and c.served - c.availability > 0.005:
        parts.append(f"some side {100 * c.served:.0f}%")
    parts.append(
        "no decision" if c.decision_s is None else f"first decision {c.decision_s:.1f} s after the fault"
    )
    if c.wrongly_downed:
        parts.append(f"{c.wrongly_downed:.1f} healthy members downed on average")
    return "; ".join(parts) + "."


def split_brain_table(sweep: Sweep, command: str = "") -> str:
    table = cells(sweep)
    strategies = list(dict.fromkeys(s for s, _ in table))
    shapes = list(dict.fromkeys(sh for _, sh in table))
    seeds = sorted({p.seed for p in sweep.points})
    lines = [
        f"# Split-brain resolution, measured: {sweep.scenario}",
        "",
        f"{sweep.description} Seeds {seeds}; each cell: mean split-brain time beyond the window /"
        " availability (a serving side holding a majority, mean) / survivors at the end (range).",
    ]
    if command:
        lines += ["", f"Reproduce: `{command}`"]
    lines += ["", "| strategy | " + " | ".join(shapes) + " |", "|---|" + "---|" * len(shapes)]
    for strategy in strategies:
        row = [table[(strategy, shape)].short() if (strategy, shape) in table else "" for shape in shapes]
        lines.append(f"| {strategy} | " + " | ".join(row) + " |")
    lines += [
        "",
        "Instability, per node-hour after warm-up (Rapid's flip-flop measure): SWIM's view changes"
        " (members in or out, as memberlist reports them) + SWIM's suspicions / the manager's"
        " application view changes.",
        "",
        "| strategy | " + " | ".join(shapes) + " |",
        "|---|" + "---|" * len(shapes),
    ]
    for strategy in strategies:
        row = []
        for shape in shapes:
            c = table.get((strategy, shape))
            row.append(
                ""
                if c is None
                else f"{_num(c.swim_changes)} + {_num(c.swim_suspicions)} / {_num(c.manager_changes)}"
            )
        lines.append(f"| {strategy} | " + " | ".join(row) + " |")
    for strategy in strategies:
        lines += ["", f"## {strategy}", ""]
        for shape in shapes:
            if (strategy, shape) in table:
                lines.append(f"- **{shape}**: {sentence(table[(strategy, shape)])}")
    return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
