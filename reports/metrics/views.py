"""Membership views over time, sampled every `sample_every_s`: each node's view size (Rapid's
per-node figure), how many distinct views the up nodes hold (Rapid's Table 1; 1 means every
live node agrees), how many (observer, member) pairs disagree with the truth, and how often
views flip (instability: a flip is one up node's view of one member changing, up to down or
back). After each heal, the disagreement at every change until views agree again (the
re-merge curve; the heal's re-merge *time* is convergence.py's).

Warm-up: a bootstrap is a storm of distinct views by construction, so "after warm-up" starts at
the later of the scenario's `warmup_s` and the bootstrap's end - the first instant every
initial node has come up and all views agree. A run whose bootstrap never ends has no
after-warm-up figures (None), rather than the storm's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from swimlab.protocol.trace_schema import FaultRecord, HostHow

from ..schema import FaultInterval, RemergeCurve, ViewCounts, ViewSeries
from .beliefs import Beliefs
from .observer import Observer
from .truth import GroundTruth

MAX_REMERGE_STEPS = 20_000  # per heal: a cluster that never re-merges must not grow without bound


@dataclass
class _Remerge:
    heal_t: float
    t: list[float] = field(default_factory=list)
    wrong: list[int] = field(default_factory=list)
    live: list[int] = field(default_factory=list)
    converged: bool = False

    def step(self, t: float, wrong: int, live: int) -> None:
        if self.t and self.t[-1] == t:
            self.wrong[-1], self.live[-1] = wrong, live
        elif len(self.t) < MAX_REMERGE_STEPS and (
            not self.t or (wrong, live) != (self.wrong[-1], self.live[-1])
        ):
            self.t.append(t)
            self.wrong.append(wrong)
            self.live.append(live)
        self.converged = wrong == 0 and live > 0

    def result(self) -> RemergeCurve:
        return RemergeCurve(
            heal_t=round(self.heal_t, 6),
            t_s=[round(t - self.heal_t, 6) for t in self.t],
            disagreeing=list(self.wrong),
            live=list(self.live),
            converged=self.converged,
        )


class Views(Observer):
    def __init__(self, truth: GroundTruth, beliefs: Beliefs, warmup_s: float) -> None:
        self.truth = truth
        self.beliefs = beliefs
        self.warmup_s = warmup_s
        self.times: list[float] = []
        self.sizes: list[npt.NDArray[np.int32]] = []  # members believed up, self excluded
        self.up: list[npt.NDArray[np.bool_]] = []
        self.distinct: list[int] = []
        self.live: list[int] = []
        self.disagreeing: list[int] = []
        self.changes: list[int] = []
        self._changes = 0  # view flips since the last sample
        self._booted: set[str] = set()  # initial nodes seen up
        self.bootstrap_end_t: float | None = None
        self._heals: list[_Remerge] = []

    @property
    def _following(self) -> bool:
        return bool(self._heals) and not self._heals[-1].converged

    def on_view_change(self, t: float, member: str, believes_up: bool) -> None:
        self._changes += 1
        self._settle(t)
        self._follow_heals(t)

    def on_host_up(self, t: float, name: str, how: HostHow) -> None:
        if self.bootstrap_end_t is None:
            self._booted.add(name)
            self._settle(t)
        self._follow_heals(t)

    def on_host_down(self, t: float, name: str, how: HostHow) -> None:
        self._settle(t)
        self._follow_heals(t)

    def on_fault(self, t: float, record: FaultRecord) -> None:
        if record["op"] == "heal":
            self._heals.append(_Remerge(t))
            self._follow_heals(t)

    def _follow_heals(self, t: float) -> None:
        """One step of every re-merge still going on (a heal's curve ends when views agree)."""
        if not self._following:
            return
        wrong, live = self.beliefs.wrong, self.truth.n_up
        for heal in self._heals:
            if not heal.converged:
                heal.step(t, wrong, live)

    def _settle(self, t: float) -> None:
        if (
            self.bootstrap_end_t is None
            and self.beliefs.wrong == 0
            and self.truth.n_up > 0
            and self._booted.issuperset(self.truth.initial)
        ):
            self.bootstrap_end_t = t

    def on_sample(self, t: float) -> None:
        n = len(self.truth.names)
        self.times.append(t)
        self.sizes.append(self.beliefs.view_sizes())
        self.up.append(self.truth.up[:n].copy())
        self.distinct.append(self.beliefs.distinct_views())
        self.live.append(self.truth.n_up)
        self.disagreeing.append(self.beliefs.wrong)
        self.changes.append(self._changes)
        self._changes = 0

    def counts(self) -> ViewCounts:
        return ViewCounts(
            t=[round(x, 6) for x in self.times],
            distinct=list(self.distinct),
            live=list(self.live),
            disagreeing=list(self.disagreeing),
            changes=list(self.changes),
        )

    def warmup_end_s(self) -> float | None:
        """When "after warm-up" starts (module docstring); None if the bootstrap never ended."""
        if self.bootstrap_end_t is None:
            return None
        return round(max(self.warmup_s, self.bootstrap_end_t), 6)

    def max_distinct(self) -> int | None:
        """The most distinct views at the samples after warm-up (None: the bootstrap never ended)."""
        start = self.warmup_end_s()
        if start is None:
            return None
        return max((d for t, d in zip(self.times, self.distinct, strict=True) if t >= start), default=1)

    def remerge(self) -> list[RemergeCurve]:
        return [h.result() for h in self._heals]

    def series(self, intervals: list[FaultInterval]) -> ViewSeries:
        """What `series.json` holds: every node's view size at every sample (None while down)."""
        n = len(self.truth.names)
        sizes: list[list[int | None]] = []
        for row, up in zip(self.sizes, self.up, strict=True):
            m = min(len(row), n)
            # +1: a node counts itself; a down node has no view.
            sizes.append([int(row[i]) + 1 if up[i] else None for i in range(m)] + [None] * (n - m))
        return ViewSeries(
            t=[round(t, 6) for t in self.times],
            nodes=list(self.truth.names),
            sizes=sizes,
            distinct=list(self.distinct),
            intervals=intervals,
        )
