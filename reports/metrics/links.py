"""Reachability: whether two nodes could exchange packets at an instant, from the trace's ground
truth, and since when they have been able to.

The link between a and b is *cut* while any of these holds, and *reachable* otherwise:

- the partition in force (the last `grudge` record) has a drop b's packets or b drop a's (one
  way is enough: a probe needs its ack);
- a or b is down (`host` records), paused or deaf (`impair` records with cause `pause` or
  `ingress`: a node that handles nothing, or hears nothing, answers nothing).

Loss, latency, duplication, slowness and clock faults never cut a link: packets still get
through, late or some of the time, and telling that from a dead node is the failure detector's
job. Queries are about the present (the instant of the record being read), so each node keeps
only when it last came back, and the partitions only their history of grudges (few per run).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from swimlab.protocol.faults import Cause
from swimlab.protocol.trace_schema import Cut

Drops = Mapping[str, frozenset[str]]  # node -> the nodes whose packets it drops

_OUT_CAUSES = frozenset({Cause.PAUSE, Cause.INGRESS})
"""Impair causes that take a node off the network while they last."""


def drops_of(cuts: Sequence[Cut]) -> dict[str, frozenset[str]]:
    """The drop map of a `grudge` record's cuts (one shared set per cut)."""
    drops: dict[str, frozenset[str]] = {}
    for cut in cuts:
        sources = frozenset(cut["drop_from"])
        for node in cut["nodes"]:
            drops[node] = drops[node] | sources if node in drops else sources
    return drops


def cut_in(drops: Drops, a: str, b: str) -> bool:
    """Whether the partition `drops` cuts the link a <-> b (either direction)."""
    da, db = drops.get(a), drops.get(b)
    return (da is not None and b in da) or (db is not None and a in db)


class Links:
    def __init__(self) -> None:
        # The grudges in force, oldest first: (from when, drop map); the last is in force now.
        self.grudges: list[tuple[float, dict[str, frozenset[str]]]] = [(-math.inf, {})]
        self._out: dict[str, set[str]] = {}  # node -> what keeps it off the network now
        self._back: dict[str, float] = {}  # node -> when it last came back on the network

    # Records --------------------------------------------------------------------------------
    def grudge(self, t: float, cuts: Sequence[Cut]) -> None:
        self.grudges.append((t, drops_of(cuts)))

    @property
    def drops(self) -> dict[str, frozenset[str]]:
        """The partition in force now."""
        return self.grudges[-1][1]

    def host(self, t: float, name: str, going_up: bool) -> None:
        self._set_out(t, name, not going_up, "down")

    def impair(self, t: float, name: str, cause: str, on: bool) -> None:
        if cause in _OUT_CAUSES:
            self._set_out(t, name, on, cause)

    def _set_out(self, t: float, name: str, out: bool, cause: str) -> None:
        causes = self._out.setdefault(name, set())
        if out:
            causes.add(cause)
        elif cause in causes:
            causes.discard(cause)
            if not causes:
                self._back[name] = t

    # Questions ------------------------------------------------------------------------------
    def off_network(self, name: str) -> bool:
        """Down, paused or deaf now."""
        return bool(self._out.get(name))

    def cut_now(self, a: str, b: str) -> bool:
        return self.off_network(a) or self.off_network(b) or cut_in(self.drops, a, b)

    def reachable_since(self, a: str, b: str) -> float | None:
        """Since when a and b have been able to talk without a break (-inf: always); None if the
        link is cut now."""
        if self.cut_now(a, b):
            return None
        since = max(self._back.get(a, -math.inf), self._back.get(b, -math.inf))
        grudges = self.grudges
        for i in range(len(grudges) - 2, -1, -1):
            if grudges[i + 1][0] <= since:
                break  # older cuts ended before the nodes' own last return
            if cut_in(grudges[i][1], a, b):
                return max(since, grudges[i + 1][0])
        return since

    def cut_within(self, a: str, b: str, since: float) -> bool:
        """Whether the link a <-> b was cut at some instant from `since` until now."""
        back = self.reachable_since(a, b)
        return back is None or back > since
