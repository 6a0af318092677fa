"""The cluster manager's metrics: split brain, availability, survivors, decisions, instability.

Read from the manager's trace records (`view`, `serving`, `decision`) with the ground truth
(`host`, `impair`) and SWIM's own view changes. The rules, stated once:

- A node serves while its manager says so (`serving` records) and its process is up; a wiped
  restart serves again only once its new manager says so. A node's application view is its
  `view` records (member -> up / unreachable / down / removed; a member it never recorded is not
  up in it); a wiped restart starts with an empty view.
- Two serving nodes are *apart* while each holds the other not up: each acts without the other.
  Split-brain time is the time, after warm-up, during which some pair has been apart for longer
  than the window: the longest a correct safe strategy may take to resolve a split once both
  sides see it (stable-after, plus the down-all-when-unstable margin (3/4 of stable-after when
  it is off, as the spread of detection it would otherwise cover), two ticks (a manager notices
  a change at its next tick and acts at a tick), and for lease-majority the minority's acquire
  delay and the lease timeout). Overlapping pairs count
  once. With `none` (no downing) every split longer than the window is split brain.
- Sides: the serving nodes, joined when both hold each other up. Availability is the fraction
  of the time after warm-up during which some side holds a quorum (a majority of the initial
  nodes); served, the fraction during which some side serves at all (an even split's surviving
  half, keep-oldest's lone oldest); survivors is the largest side's size at the end.
- Decision times: for each fault firing (reverts and heals aside), the time to the first and to
  the last decision record anywhere before the next firing.
- Downed: a node that stopped serving because of a downing decision, its own or a peer's (a
  `serving` record whose reason starts "downed"); a decision that names a member which never
  hears of it downs nobody. Wrongly downed: downed while no fault affected it (no `impair` in
  force on it).
- Instability, after warm-up, per node-hour of up-time: SWIM's view changes (a member entering
  or leaving an up node's view: joined, dead, left, as memberlist's delegate reports them), the
  suspicions SWIM raised besides, and the manager's view changes (every `view` record).
"""

from __future__ import annotations

from typing import Any

from swimlab.protocol.faults import FAULTS
from swimlab.protocol.trace_schema import FaultRecord, HostHow, StateRecord

from ..schema import DecisionTime, Instability, ManagerMetrics
from .observer import Observer
from .truth import GroundTruth

_REVERTS = frozenset(spec.revert for spec in FAULTS.values() if spec.revert) | {"heal"}
_MAX_LISTED = 20


def window_s(settings: Any) -> float:
    """The allowance (see the module docstring) for a `ManagerConfig`-like object."""
    stable = float(settings.stable_after_s)
    extra = settings.down_all_when_unstable_s
    margin = 0.75 * stable if extra is None or extra == 0 else max(float(extra), 0.75 * stable)
    window = stable + margin + 2 * float(settings.tick_s)
    if settings.strategy == "lease-majority":
        window += float(settings.lease_acquire_delay_for_minority_s) + float(settings.lease_timeout_s)
    return window


class ManagerObserver(Observer):
    def __init__(self, truth: GroundTruth, strategy: str, window_s: float, warmup_s: float = 0.0) -> None:
        self.truth = truth
        self.strategy = strategy
        self.window_s = window_s
        self.warmup_s = warmup_s
        self.views: dict[str, dict[str, str]] = {}
        self.says_serving: set[str] = set()  # the manager's own word
        self.serving: set[str] = set()  # ... and its process is up
        self._apart_since: dict[tuple[str, str], float] = {}
        self._split: list[tuple[float, float]] = []
        self._available_since: float | None = None
        self._available_s = 0.0
        self._served_since: float | None = None
        self._served_s = 0.0
        self._dirty_at: float | None = None  # sides changed at this instant, not judged yet
        self._last_t = 0.0
        self.decisions = 0
        self._windows: list[list[Any]] = []  # [t, op, first_s, last_s]
        self.downed: list[str] = []
        self.wrongly_downed: list[str] = []
        self.swim_changes = 0
        self.swim_suspicions = 0
        self.manager_changes = 0

    # Records ----------------------------------------------------------------------------------
    def on_record(self, t: float, r: Any) -> None:
        kind = r["kind"]
        if kind == "view":
            if t >= self.warmup_s:
                self.manager_changes += 1
            node, member = r["node"], r["member"]
            self.views.setdefault(node, {})[member] = r["status"]
            self._pair_changed(t, node, member)
            self._sides_changed(t)
        elif kind == "serving":
            node = r["node"]
            if r["serving"]:
                self.says_serving.add(node)
            else:
                self.says_serving.discard(node)
                reason: str = r["reason"]
                if reason.startswith("downed"):
                    self._down(t, node)
            self._serving_changed(t, node)
        elif kind == "decision":
            self.decisions += 1
            if self._windows and t >= self._windows[-1][0]:
                window = self._windows[-1]
                if window[2] is None:
                    window[2] = t - window[0]
                window[3] = t - window[0]

    def _down(self, t: float, member: str) -> None:
        if member in self.downed:
            return
        self.downed.append(member)
        i = self.truth.index.get(member)
        if i is not None and self.truth.up[i] and not self._impaired(member):
            self.wrongly_downed.append(member)

    def _impaired(self, member: str) -> bool:
        """A node fault acts on it, it is off the network, or a partition cuts one of its links."""
        truth = self.truth
        if truth.node_faults.get(member) or truth.links.off_network(member):
            return True
        drops = truth.links.drops
        return member in drops or any(member in srcs for srcs in drops.values())

    def on_host_up(self, t: float, name: str, how: HostHow) -> None:
        if how != "restart-kept":  # a new manager: new view, not serving until it says so
            self.views.pop(name, None)
            self.says_serving.discard(name)
        self._serving_changed(t, name)

    def on_host_down(self, t: float, name: str, how: HostHow) -> None:
        self._serving_changed(t, name)

    def on_fault(self, t: float, record: FaultRecord) -> None:
        if record["op"] not in _REVERTS:
            self._windows.append([t, record["op"], None, None])

    def on_view_change(self, t: float, member: str, believes_up: bool) -> None:
        if t >= self.warmup_s:
            self.swim_changes += 1

    def on_verdict(self, t: float, record: StateRecord) -> None:
        if record["event"] == "suspect" and t >= self.warmup_s:
            self.swim_suspicions += 1

    # Pairs and sides --------------------------------------------------------------------------
    def _up_in(self, node: str, member: str) -> bool:
        return self.views.get(node, {}).get(member) == "up"

    def _pair_changed(self, t: float, a: str, b: str) -> None:
        key = (a, b) if a < b else (b, a)
        apart = a in self.serving and b in self.serving and not self._up_in(a, b) and not self._up_in(b, a)
        since = self._apart_since.get(key)
        if apart and since is None:
            self._apart_since[key] = t
        elif not apart and since is not None:
            del self._apart_since[key]
            self._close(since, t)

    def _close(self, since: float, t: float) -> None:
        start = max(since + self.window_s, self.warmup_s)
        if t > start:
            self._split.append((start, t))

    def _serving_changed(self, t: float, node: str) -> None:
        i = self.truth.index.get(node)
        up = i is not None and bool(self.truth.up[i])
        if node in self.says_serving and up:
            self.serving.add(node)
        else:
            self.serving.discard(node)
        for other in self.truth.names:
            if other != node:
                self._pair_changed(t, node, other)
        self._sides_changed(t)

    def sides(self) -> list[set[str]]:
        """The serving nodes, grouped by mutual up (connected components)."""
        serving = self.serving
        views = self.views
        neighbours: dict[str, list[str]] = {n: [] for n in serving}
        for a in serving:
            for b, status in views.get(a, {}).items():
                if status == "up" and b in serving and a < b and views.get(b, {}).get(a) == "up":
                    neighbours[a].append(b)
                    neighbours[b].append(a)
        seen: set[str] = set()
        groups = []
        for start in sorted(serving):
            if start in seen:
                continue
            group, frontier = {start}, [start]
            while frontier:
                for other in neighbours[frontier.pop()]:
                    if other not in group:
                        group.add(other)
                        frontier.append(other)
            seen |= group
            groups.append(group)
        return groups

    @property
    def quorum(self) -> int:
        return len(self.truth.initial) // 2 + 1

    def _sides_changed(self, t: float) -> None:
        """Sides may have changed at `t`; they are judged once per instant, when time moves on
        (a decision changes many views at one instant)."""
        if self._dirty_at is not None and t > self._dirty_at:
            self._judge_sides(self._dirty_at)
        self._dirty_at = t

    def _judge_sides(self, t: float) -> None:
        sides = self.sides()
        self._integrate(t)
        available = any(len(side) >= self.quorum for side in sides)
        if available and self._available_since is None:
            self._available_since = t
        elif not available:
            self._available_since = None
        if sides and self._served_since is None:
            self._served_since = t
        elif not sides:
            self._served_since = None
        self._dirty_at = None

    def _integrate(self, t: float) -> None:
        start = max(self._last_t, self.warmup_s)
        if t > start:
            if self._available_since is not None:
                self._available_s += t - start
            if self._served_since is not None:
                self._served_s += t - start
        self._last_t = max(self._last_t, t)

    # Result -----------------------------------------------------------------------------------
    def result(self, end_t: float, node_hours: float) -> ManagerMetrics:
        for since in sorted(self._apart_since.values()):
            self._close(since, end_t)
        self._apart_since.clear()
        if self._dirty_at is not None:
            self._judge_sides(self._dirty_at)
        self._integrate(end_t)
        merged: list[list[float]] = []
        for start, stop in sorted(self._split):  # overlapping pairs count once
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], stop)
            else:
                merged.append([start, stop])
        measured = end_t - self.warmup_s
        sides = self.sides()

        def rate(count: int) -> float | None:
            return round(count / node_hours, 3) if node_hours > 0 else None

        return ManagerMetrics(
            strategy=self.strategy,
            window_s=round(self.window_s, 6),
            split_brain_s=round(sum(b - a for a, b in merged), 6),
            split_brain=[[round(a, 6), round(b, 6)] for a, b in merged[:_MAX_LISTED]],
            quorum=self.quorum,
            availability=round(self._available_s / measured, 6) if measured > 0 else None,
            served=round(self._served_s / measured, 6) if measured > 0 else None,
            survivors=max((len(side) for side in sides), default=0),
            serving_at_end=sorted(self.serving, key=lambda n: (len(n), n)),
            decisions=self.decisions,
            decision_times=[
                DecisionTime(
                    t=round(t, 6),
                    op=op,
                    first_s=None if first is None else round(first, 6),
                    last_s=None if last is None else round(last, 6),
                )
                for t, op, first, last in self._windows
            ],
            downed=sorted(self.downed, key=lambda n: (len(n), n)),
            wrongly_downed=sorted(self.wrongly_downed, key=lambda n: (len(n), n)),
            instability=Instability(
                swim_changes=self.swim_changes,
                swim_per_node_hour=rate(self.swim_changes),
                swim_suspicions=self.swim_suspicions,
                swim_suspicions_per_node_hour=rate(self.swim_suspicions),
                manager_changes=self.manager_changes,
                manager_per_node_hour=rate(self.manager_changes),
            ),
        )
