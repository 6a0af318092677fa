"""The fault timeline of a run as a reader sees it: what happened, when, to whom, for how long.

`fault_spans(result)` turns result.json's resolved fault timeline (one entry per applied
operation and per revert, scenarios/nemesis.py) into `Span`s: a toggling fault from its start to
its revert (a partition to its heal, an `ingress_drop` to `ingress_drop_off`, ...) or to the end
of the run; a churn window, a pause, a mass restart's downtime and each rolling-restart batch as
intervals; crashes, restarts, joins, leaves, heals and clock steps as instants. The run page's
timeline table and the marks on every time axis come from this one list, so a figure and the
table always name the same intervals.

Colours come from the fault table (`swimlab.protocol.faults`): an interval is shaded with its
cause's colour; instants use `INSTANT_COLORS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from swimlab.protocol.faults import CAUSES, FAULTS

from .schema import InjectedFault, RunResult

INSTANT_COLORS = {
    "heal": "tab:green",
    "restart": "tab:blue",
    "crash": "tab:red",
    "join": "tab:cyan",
    "leave": "tab:gray",
    "clock": "tab:olive",
}


@dataclass(frozen=True)
class Span:
    start: float
    end: float | None  # None: an instant
    op: str  # the operation ("partition", "churn", "crash", "heal", ...)
    label: str  # what a figure writes beside it
    nodes: tuple[str, ...]
    fault: str  # the scenario path ("faults.0", "faults.0.fault")
    detail: str = ""  # parameters, sides, batches, in words
    ended_by: str = ""  # "heal", "ingress_drop_off", "end of run", ...
    within: str = ""  # the label of the window it belongs to (a churn's crashes), if any

    @property
    def duration(self) -> float | None:
        return None if self.end is None else round(self.end - self.start, 6)

    @property
    def color(self) -> str:
        if self.end is None:
            return INSTANT_COLORS.get(self.op, "tab:gray")
        spec = FAULTS.get(self.op)
        cause = spec.cause if spec is not None and spec.cause is not None else "down"
        return CAUSES.get(cause, "tab:gray")


def _targets(nodes: Sequence[str]) -> str:
    if not nodes:
        return ""
    if len(nodes) <= 2:
        return " " + ", ".join(nodes)
    return f" ({len(nodes)} nodes)"


def _detail(entry: InjectedFault) -> str:
    parts = [f"{k}={v}" for k, v in (entry.params or {}).items() if v is not None and k != "duration_s"]
    if entry.sides:
        parts.append("sides of " + " / ".join(str(len(side)) for side in entry.sides) + " nodes")
    if entry.bridge:
        parts.append("bridge " + ", ".join(entry.bridge))
    if entry.ring:
        parts.append(f"ring of {len(entry.ring)}")
    if entry.batches:
        parts.append(f"{len(entry.batches)} batches")
    return "; ".join(parts)


def fault_spans(result: RunResult) -> list[Span]:
    """The run's faults as intervals and instants, in time order (module docstring)."""
    end_of_run = result.duration_s
    spans: list[Span] = []
    open_toggles: dict[tuple[str, str, tuple[str, ...]], InjectedFault] = {}
    open_batches: dict[tuple[str, int], InjectedFault] = {}
    windows: list[tuple[str, float, float, str]] = []  # fault path, start, end, label

    def window_of(entry: InjectedFault) -> str:
        for path, start, end, label in windows:
            if entry.fault == path and start <= entry.t <= end:
                return label
        return ""

    for entry in result.faults:
        op, nodes = entry.op, tuple(entry.nodes)
        spec = FAULTS.get(op)
        params: dict[str, Any] = entry.params or {}
        if spec is not None and spec.toggles:
            open_toggles[(entry.fault, spec.revert or "", nodes)] = entry
            continue
        started = next(
            (key for key in open_toggles if key[0] == entry.fault and key[1] == op and key[2] == nodes),
            None,
        )
        if started is not None:  # a revert closes its toggle
            begin = open_toggles.pop(started)
            spans.append(_toggle_span(begin, entry.t, op))
            if op != "heal":
                continue
        elif op == "heal":  # a heal of its own removes every partition
            for key in [key for key in open_toggles if key[1] == "heal"]:
                spans.append(_toggle_span(open_toggles.pop(key), entry.t, "heal"))
        if op == "churn":
            length = float(params.get("duration_s") or 0.0)
            label = "churn"
            windows.append((entry.fault, entry.t, entry.t + length, label))
            spans.append(Span(entry.t, entry.t + length, op, label, nodes, entry.fault, _detail(entry)))
        elif op == "pause":
            length = float(params.get("duration_s") or 0.0)
            spans.append(
                Span(
                    entry.t,
                    entry.t + length,
                    op,
                    "pause" + _targets(nodes),
                    nodes,
                    entry.fault,
                    _detail(entry),
                )
            )
        elif op == "mass_restart":
            length = float(params.get("downtime_s") or 0.0)
            label = f"mass restart ({len(nodes)} nodes)"
            spans.append(Span(entry.t, entry.t + length, op, label, nodes, entry.fault, _detail(entry)))
            windows.append((entry.fault, entry.t, entry.t + length, label))
        elif op == "rolling_restart":
            last = entry.t + (len(entry.batches or ()) - 1) * float(params.get("interval_s") or 0.0)
            last += float(params.get("downtime_s") or 0.0)
            label = "rolling restart"
            windows.append((entry.fault, entry.t, last, label))
            spans.append(Span(entry.t, last, op, label, nodes, entry.fault, _detail(entry)))
        elif entry.batch is not None and op == "crash":
            open_batches[(entry.fault, entry.batch)] = entry
        elif entry.batch is not None and op == "restart":
            down = open_batches.pop((entry.fault, entry.batch), None)
            start = entry.t if down is None else down.t
            spans.append(
                Span(
                    start,
                    entry.t,
                    "restart",
                    f"batch {entry.batch} down",
                    nodes,
                    entry.fault,
                    ended_by="restart",
                    within="rolling restart",
                )
            )
        else:
            label = op.replace("_", " ") + _targets(nodes)
            spans.append(
                Span(entry.t, None, op, label, nodes, entry.fault, _detail(entry), within=window_of(entry))
            )
    for begin in open_toggles.values():
        spans.append(_toggle_span(begin, end_of_run, "end of run"))
    return sorted(spans, key=lambda s: (s.start, s.end is None))


def _toggle_span(begin: InjectedFault, end: float, ended_by: str) -> Span:
    nodes = tuple(begin.nodes)
    label = begin.op.replace("_", " ") + _targets(nodes)
    if begin.op == "partition":
        shape = (begin.params or {}).get("shape", "")
        label = f"partition ({shape})" if shape else "partition"
    within = "flip-flop" if begin.fault.endswith(".fault") else ""  # a flip_flop's nested fault
    return Span(begin.t, end, begin.op, label, nodes, begin.fault, _detail(begin), ended_by, within)


def scenario_ops(result: RunResult) -> set[str]:
    """Every fault operation the scenario names (a flip_flop and the fault it toggles too)."""
    ops = {entry.op for entry in result.faults}
    for fault in result.effective_scenario.get("faults", ()):
        ops.add(fault.get("op", ""))
        ops.add((fault.get("fault") or {}).get("op", ""))
    ops.discard("")
    return ops


def describe(span: Span) -> str:
    """The span's nodes in words, for a table cell."""
    if not span.nodes:
        return "every link" if span.op in ("loss", "duplicate") else ""
    shown = ", ".join(span.nodes[:6])
    return shown + (f" ... ({len(span.nodes)} nodes)" if len(span.nodes) > 6 else "")
