"""Membership views over time, sampled every `sample_every_s`: each node's view size (Rapid's
per-node figure) and how many distinct views the up nodes hold (Rapid's Table 1; 1 means every
live node agrees).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..schema import FaultInterval, ViewCounts, ViewSeries
from .beliefs import Beliefs
from .observer import Observer
from .truth import GroundTruth


class Views(Observer):
    def __init__(self, truth: GroundTruth, beliefs: Beliefs, warmup_s: float) -> None:
        self.truth = truth
        self.beliefs = beliefs
        self.warmup_s = warmup_s
        self.times: list[float] = []
        self.sizes: list[npt.NDArray[np.int32]] = []  # members believed up, self excluded
        self.up: list[npt.NDArray[np.bool_]] = []
        self.distinct: list[int] = []

    def on_sample(self, t: float) -> None:
        n = len(self.truth.names)
        self.times.append(t)
        self.sizes.append(self.beliefs.view_sizes())
        self.up.append(self.truth.up[:n].copy())
        self.distinct.append(self.beliefs.distinct_views())

    def counts(self) -> ViewCounts:
        return ViewCounts(t=[round(x, 6) for x in self.times], distinct=list(self.distinct))

    def max_distinct(self) -> int:
        """The most distinct views from warm-up on (bootstrap is a storm of them by construction)."""
        return max(
            (d for t, d in zip(self.times, self.distinct, strict=True) if t >= self.warmup_s),
            default=0,
        )

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
