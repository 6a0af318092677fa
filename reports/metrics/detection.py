"""Crash detection: per crash, when some node first suspected and first declared the crashed
node dead, when no up node held it alive any more (dead everywhere), and when each up observer
learned (the dissemination curve, SWIM's and Serf's fraction informed vs time).

An episode opens when a node crashes and closes when it comes back up. Only observers that are
up when they hear the verdict count as informed; `observers` is the number of up nodes other
than the crashed one at the crash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from swimlab.protocol.trace_schema import HostHow, StateRecord

from ..schema import CrashDetection, Dissemination
from .beliefs import Beliefs
from .observer import Observer
from .truth import GroundTruth


@dataclass
class CrashEpisode:
    node: str
    crash_t: float
    observers: int  # up nodes other than the crashed one, at the crash
    first_suspect_t: float | None = None
    first_dead_t: float | None = None
    dead_everywhere_t: float | None = None
    restarted_t: float | None = None
    suspect_by: dict[str, float] = field(default_factory=dict)  # observer -> first suspect at
    dead_by: dict[str, float] = field(default_factory=dict)  # observer -> first dead at

    def detection(self) -> CrashDetection:
        def rel(t: float | None) -> float | None:
            return None if t is None else round(t - self.crash_t, 6)

        return CrashDetection(
            node=self.node,
            crash_s=round(self.crash_t, 6),
            first_suspect_s=rel(self.first_suspect_t),
            first_dead_s=rel(self.first_dead_t),
            dead_everywhere_s=rel(self.dead_everywhere_t),
            restarted_s=rel(self.restarted_t),
        )

    def dissemination(self) -> Dissemination:
        """When each observer learned, relative to the first suspicion / first dead verdict."""

        def offsets(by: dict[str, float], t0: float | None) -> list[float]:
            return [] if t0 is None else sorted(round(t - t0, 6) for t in by.values())

        def quantile(times: list[float], q: int) -> float | None:
            k = math.ceil(self.observers * q / 100)
            return times[k - 1] if 0 < k <= len(times) else None

        suspect = offsets(self.suspect_by, self.first_suspect_t)
        dead = offsets(self.dead_by, self.first_dead_t)
        return Dissemination(
            node=self.node,
            observers=self.observers,
            suspect_informed_s=suspect,
            suspect_t50_s=quantile(suspect, 50),
            suspect_t99_s=quantile(suspect, 99),
            dead_informed_s=dead,
            dead_t50_s=quantile(dead, 50),
            dead_t99_s=quantile(dead, 99),
        )


class Detection(Observer):
    def __init__(self, truth: GroundTruth, beliefs: Beliefs) -> None:
        self.truth = truth
        self.beliefs = beliefs
        self.open: dict[str, CrashEpisode] = {}  # crashed node -> its episode, until it is up
        self.crashes: list[CrashEpisode] = []

    def on_host_down(self, t: float, name: str, how: HostHow) -> None:
        if how == "crash":
            episode = CrashEpisode(name, t, observers=self.truth.n_up)
            self.open[name] = episode
            self.crashes.append(episode)
        for member in list(self.open):  # a departed holdout may complete someone's detection
            self._check_dead_everywhere(t, member)

    def on_host_up(self, t: float, name: str, how: HostHow) -> None:
        episode = self.open.pop(name, None)
        if episode is not None:
            episode.restarted_t = t

    def on_verdict(self, t: float, record: StateRecord) -> None:
        episode = self.open.get(record["member"])
        if episode is None:
            return
        event = record["event"]
        if event == "suspect" and episode.first_suspect_t is None:
            episode.first_suspect_t = t
        if event == "dead" and episode.first_dead_t is None:
            episode.first_dead_t = t
        by = episode.suspect_by if event == "suspect" else episode.dead_by
        observer = record["node"]
        if observer not in by and self.truth.is_up(observer):
            by[observer] = t

    def on_view_change(self, t: float, member: str, believes_up: bool) -> None:
        if not believes_up:
            self._check_dead_everywhere(t, member)

    def _check_dead_everywhere(self, t: float, member: str) -> None:
        episode = self.open.get(member)
        if (
            episode is not None
            and episode.dead_everywhere_t is None
            and self.beliefs.col_alive[self.truth.index[member]] == 0
        ):
            episode.dead_everywhere_t = t

    def detection(self) -> list[CrashDetection]:
        return [e.detection() for e in self.crashes]

    def dissemination(self) -> list[Dissemination]:
        return [e.dissemination() for e in self.crashes]
