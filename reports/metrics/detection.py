"""Crash detection: per crash, when some node first suspected and first declared the crashed
node dead, when no up node held it alive any more (dead everywhere), and how the news reached
the membership that was live at each instant (SWIM's and Serf's dissemination curve).

An episode opens when a node crashes and closes when it comes back up. Rules:

- The informed fraction's denominator is the membership live *at that instant* (up nodes other
  than the crashed one), not a count frozen at the crash: under churn nodes join and leave
  while the news spreads. A node that holds the crashed node down counts as informed of its
  death (it declared it dead, or joined since and never knew it), so the dead fraction is 1
  exactly when the crashed node is dead everywhere.
- Each dead verdict is either the observer's own (its suspicion timer expired: the trace's
  accuser is the observer itself) or news (learned from another node's verdict). Suspicions
  and news spread by gossip; timer verdicts do not, and a gossip model must not be laid over
  them.
- `*_informed_s` lists the observers that were up when they heard, in seconds after the first
  suspicion / first dead verdict; `observers` is the number of up nodes other than the crashed
  one at the crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from swimlab.protocol.trace_schema import HostHow, StateRecord

from ..schema import CrashDetection, Dissemination, InformedCurve
from .beliefs import Beliefs
from .observer import Observer
from .truth import GroundTruth

Row = tuple[int, int, int, int]  # live, suspect, dead, dead_by_timer


@dataclass
class CrashEpisode:
    node: str
    crash_t: float
    observers: int  # up nodes other than the crashed one, at the crash
    heard: npt.NDArray[np.bool_]  # [node index]: suspected it or declared it dead this episode
    by_timer: npt.NDArray[np.bool_]  # [node index]: declared it dead from its own timer
    first_suspect_t: float | None = None
    first_dead_t: float | None = None
    dead_everywhere_t: float | None = None
    restarted_t: float | None = None
    suspect_by: dict[str, float] = field(default_factory=dict)  # observer -> first suspect at
    dead_by: dict[str, float] = field(default_factory=dict)  # observer -> first dead at
    timer_by: dict[str, float] = field(default_factory=dict)  # observer -> dead by own timer at
    curve_t: list[float] = field(default_factory=list)
    curve: list[Row] = field(default_factory=list)

    def record(self, t: float, row: Row) -> None:
        """One step of the informed curve (a same-instant change replaces the last step)."""
        if self.curve and self.curve[-1] == row:
            return
        if self.curve_t and self.curve_t[-1] == t:
            self.curve[-1] = row
            if len(self.curve) > 1 and self.curve[-2] == row:
                self.curve.pop()
                self.curve_t.pop()
            return
        self.curve_t.append(t)
        self.curve.append(row)

    def detection(self) -> CrashDetection:
        return CrashDetection(
            node=self.node,
            crash_s=round(self.crash_t, 6),
            first_suspect_s=self._rel(self.first_suspect_t),
            first_dead_s=self._rel(self.first_dead_t),
            dead_everywhere_s=self._rel(self.dead_everywhere_t),
            restarted_s=self._rel(self.restarted_t),
        )

    def _rel(self, t: float | None) -> float | None:
        return None if t is None else round(t - self.crash_t, 6)

    def _reached(self, column: int, fraction: float, t0: float | None) -> float | None:
        """Seconds after `t0` at which `column`'s share of the live membership first reached
        `fraction`."""
        if t0 is None:
            return None
        for t, row in zip(self.curve_t, self.curve, strict=True):
            live = row[0]
            if live > 0 and row[column] >= fraction * live - 1e-9:
                return round(max(t - t0, 0.0), 6)
        return None

    def dissemination(self) -> Dissemination:
        def offsets(by: dict[str, float], t0: float | None) -> list[float]:
            return [] if t0 is None else sorted(round(t - t0, 6) for t in by.values())

        columns = list(zip(*self.curve, strict=True)) if self.curve else [(), (), (), ()]
        return Dissemination(
            node=self.node,
            observers=self.observers,
            suspect_informed_s=offsets(self.suspect_by, self.first_suspect_t),
            suspect_t50_s=self._reached(1, 0.5, self.first_suspect_t),
            suspect_t99_s=self._reached(1, 0.99, self.first_suspect_t),
            dead_informed_s=offsets(self.dead_by, self.first_dead_t),
            dead_by_timer_s=offsets(self.timer_by, self.first_dead_t),
            dead_t50_s=self._reached(2, 0.5, self.first_dead_t),
            dead_t99_s=self._reached(2, 0.99, self.first_dead_t),
            informed=InformedCurve(
                t_s=[round(t - self.crash_t, 6) for t in self.curve_t],
                live=list(columns[0]),
                suspect=list(columns[1]),
                dead=list(columns[2]),
                dead_by_timer=list(columns[3]),
            ),
        )


class Detection(Observer):
    def __init__(self, truth: GroundTruth, beliefs: Beliefs) -> None:
        self.truth = truth
        self.beliefs = beliefs
        self.open: dict[str, CrashEpisode] = {}  # crashed node -> its episode, until it is up
        self.crashes: list[CrashEpisode] = []
        truth.on_grow(self._grow)

    def _grow(self, capacity: int) -> None:
        for episode in self.open.values():
            for name in ("heard", "by_timer"):
                old = getattr(episode, name)
                grown = np.zeros(capacity, dtype=bool)
                grown[: len(old)] = old
                setattr(episode, name, grown)

    def on_host_down(self, t: float, name: str, how: HostHow) -> None:
        if how == "crash":
            capacity = self.truth.up.shape[0]
            episode = CrashEpisode(
                name,
                t,
                observers=self.truth.n_up,
                heard=np.zeros(capacity, dtype=bool),
                by_timer=np.zeros(capacity, dtype=bool),
            )
            self.open[name] = episode
            self.crashes.append(episode)
        for member in list(self.open):  # the live membership changed for every open episode
            self._update(t, member)

    def on_host_up(self, t: float, name: str, how: HostHow) -> None:
        episode = self.open.pop(name, None)
        if episode is not None:
            episode.restarted_t = t
        for member in list(self.open):
            self._update(t, member)

    def on_verdict(self, t: float, record: StateRecord) -> None:
        episode = self.open.get(record["member"])
        if episode is None:
            return
        event = record["event"]
        if event == "suspect" and episode.first_suspect_t is None:
            episode.first_suspect_t = t
        if event == "dead" and episode.first_dead_t is None:
            episode.first_dead_t = t
        observer = record["node"]
        if not self.truth.is_up(observer):
            return
        by = episode.suspect_by if event == "suspect" else episode.dead_by
        if observer not in by:
            by[observer] = t
            i = self.truth.index[observer]
            episode.heard[i] = True
            if event == "dead" and record["accuser"] == observer:
                episode.timer_by[observer] = t
                episode.by_timer[i] = True
        self._update(t, record["member"])  # the view changes next; on_view_change updates again

    def on_view_change(self, t: float, member: str, believes_up: bool) -> None:
        if member in self.open:
            self._update(t, member)

    def _update(self, t: float, member: str) -> None:
        """Record the episode's informed counts now, and whether it is dead everywhere."""
        episode = self.open[member]
        if episode.dead_everywhere_t is not None:
            return
        truth = self.truth
        n = len(truth.names)
        m = truth.index[member]
        live = truth.up[:n].copy()
        live[m] = False
        holds_down = live & ~self.beliefs.B[:n, m]
        dead = int(holds_down.sum())
        row = (
            int(live.sum()),
            int((holds_down | (live & episode.heard[:n])).sum()),
            dead,
            int((holds_down & episode.by_timer[:n]).sum()),
        )
        episode.record(t, row)
        if self.beliefs.col_alive[m] == 0:
            episode.dead_everywhere_t = t

    def detection(self) -> list[CrashDetection]:
        return [e.detection() for e in self.crashes]

    def dissemination(self) -> list[Dissemination]:
        return [e.dissemination() for e in self.crashes]
