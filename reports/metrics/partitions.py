"""Partition detection: after a partition starts, how long until each side drops the other.

A partition (a `grudge` record with cuts) makes *cut pairs*: up nodes o and m whose link it cuts
(`links.cut_in`, either direction). It is detected between o and m once o holds m down (dead or
left). Per node x of the cut, measured from the partition's start until it is lifted (a heal or
another partition): `dropped_all` - x holds every up node it cannot reach down; `dropped_by_all`
- every up node that cannot reach x holds it down. The partition is detected when both hold for
every node (each side dropped the other). A time is the first moment it held; None: not before
the cut was lifted (or the run ended). Nodes going up or down change the pairs (a node down
when the cut is lifted counts on neither side).

Scoped to a group G, detection is the latest of G's nodes' `dropped_all` and `dropped_by_all`:
exactly "every cut pair with a node in G is detected", since each pair (o, m) is covered by o's
`dropped_all` and by m's `dropped_by_all`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from swimlab.protocol.trace_schema import GrudgeRecord, HostHow

from ..schema import PartitionDetection
from .beliefs import Beliefs
from .observer import Observer
from .truth import GroundTruth


@dataclass
class _Cut:
    t: float
    nodes: list[int]  # rows of the nodes with at least one cut link
    pairs: npt.NDArray[np.bool_]  # [o, m]: the cut separates o and m
    left_by: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    left_of: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    dropped_all: dict[int, float] = field(default_factory=dict)
    dropped_by_all: dict[int, float] = field(default_factory=dict)
    down: set[int] = field(default_factory=set)  # cut nodes down now: on neither side
    lifted_t: float | None = None


class Partitions(Observer):
    def __init__(self, truth: GroundTruth, beliefs: Beliefs) -> None:
        self.truth = truth
        self.beliefs = beliefs
        self.cuts: list[_Cut] = []
        self.active: _Cut | None = None

    def on_grudge(self, t: float, record: GrudgeRecord) -> None:
        if self.active is not None:
            self.active.lifted_t = t
            self.active = None
        if not record["cuts"]:
            return
        truth = self.truth
        for cut in record["cuts"]:
            for name in (*cut["nodes"], *cut["drop_from"]):
                truth.idx(name)
        n = len(truth.names)
        pairs = np.zeros((n, n), dtype=bool)
        for cut in record["cuts"]:
            rows = [truth.index[x] for x in cut["nodes"]]
            cols = [truth.index[x] for x in cut["drop_from"]]
            pairs[np.ix_(rows, cols)] = True
        pairs |= pairs.T
        nodes = [int(i) for i in np.flatnonzero(pairs.any(axis=1))]
        self.active = _Cut(t, nodes, pairs)
        self.cuts.append(self.active)
        self._count(t)

    def _count(self, t: float) -> None:
        """Recount, for every node, the cut pairs still held up (after a change of who is up)."""
        cut = self.active
        assert cut is not None
        n = cut.pairs.shape[0]
        up = self.truth.up[:n]
        held = cut.pairs & self.beliefs.B[:n, :n] & up[:, None] & up[None, :]
        cut.left_by = held.sum(axis=1)  # o: cut partners it still holds up
        cut.left_of = held.sum(axis=0)  # m: cut partners still holding it up
        cut.down = {i for i in cut.nodes if not up[i]}
        for i in cut.nodes:
            if up[i]:
                self._done(cut, i, t)

    def _done(self, cut: _Cut, i: int, t: float) -> None:
        if cut.left_by[i] == 0 and i not in cut.dropped_all:
            cut.dropped_all[i] = t
        if cut.left_of[i] == 0 and i not in cut.dropped_by_all:
            cut.dropped_by_all[i] = t

    def on_view_entry(self, t: float, observer: str, member: str, believes_up: bool) -> None:
        cut = self.active
        if cut is None:
            return
        index = self.truth.index
        o, m = index[observer], index[member]
        n = cut.pairs.shape[0]
        if o >= n or m >= n or not cut.pairs[o, m] or not self.truth.up[m]:
            return
        step = 1 if believes_up else -1
        cut.left_by[o] += step
        cut.left_of[m] += step
        self._done(cut, o, t)
        self._done(cut, m, t)

    def on_host_up(self, t: float, name: str, how: HostHow) -> None:
        if self.active is not None:
            self._count(t)

    def on_host_down(self, t: float, name: str, how: HostHow) -> None:
        if self.active is not None:
            self._count(t)

    def result(self) -> list[PartitionDetection]:
        names = self.truth.names
        out = []
        for cut in self.cuts:

            def rel(times: dict[int, float], i: int, cut: _Cut = cut) -> float | None:
                return round(times[i] - cut.t, 6) if i in times else None

            judged = [i for i in cut.nodes if i not in cut.down]
            dropped_all = {names[i]: rel(cut.dropped_all, i) for i in judged}
            dropped_by_all = {names[i]: rel(cut.dropped_by_all, i) for i in judged}
            times = [*dropped_all.values(), *dropped_by_all.values()]
            out.append(
                PartitionDetection(
                    t=round(cut.t, 6),
                    lasted_s=None if cut.lifted_t is None else round(cut.lifted_t - cut.t, 6),
                    nodes=len(cut.nodes),
                    detected_s=None
                    if any(x is None for x in times)
                    else max((x for x in times if x is not None), default=0.0),
                    dropped_all_s=dropped_all,
                    dropped_by_all_s=dropped_by_all,
                )
            )
        return out
