"""Nodes coming back: after a node restarts, or a fault that took it off the network ends (its
partition is healed, a pause or deafness ends), how long until every up node holds it up (alive
or suspect) *and keeps holding it up*.

A return is judged over its window, from it until the node's next disturbance (it goes down, or
a fault acts on it again: any `impair` record turning one on) or the end of the run: the node is
back from the start of the last stretch during which every up node held it up that still lasts
when the window closes; if someone up holds it down then, it is not back (`back_s` None). A
return whose window closes at the instant it opens (a partition replaced by another at once)
is not a return.
"""

from __future__ import annotations

from dataclasses import dataclass

from swimlab.protocol.faults import Cause
from swimlab.protocol.trace_schema import HostHow, ImpairRecord

from ..schema import Return
from .beliefs import Beliefs
from .observer import Observer
from .truth import GroundTruth

_OFF_NETWORK = {Cause.PARTITION: "heal", Cause.PAUSE: "pause end", Cause.INGRESS: "ingress end"}


@dataclass
class _Return:
    node: str
    t: float
    how: str
    held_since: float | None = None  # start of the current stretch of every up node holding it up


class Returns(Observer):
    def __init__(self, truth: GroundTruth, beliefs: Beliefs) -> None:
        self.truth = truth
        self.beliefs = beliefs
        self.open: dict[str, _Return] = {}
        self.returns: list[Return] = []

    def on_host_up(self, t: float, name: str, how: HostHow) -> None:
        if how in ("restart-kept", "restart-wiped"):
            self._open(t, name, "restart")
        self._recheck_all(t)

    def on_host_down(self, t: float, name: str, how: HostHow) -> None:
        self._close(t, name, f"{how}")
        self._recheck_all(t)

    def on_impair(self, t: float, record: ImpairRecord) -> None:
        name, cause = record["node"], record["cause"]
        if record["on"]:
            self._close(t, name, f"{cause} on")
        elif cause in _OFF_NETWORK:
            self._open(t, name, _OFF_NETWORK[cause])

    def on_view_change(self, t: float, member: str, believes_up: bool) -> None:
        r = self.open.get(member)
        if r is not None:
            self._recheck(t, r)

    def _open(self, t: float, name: str, how: str) -> None:
        self._close(t, name, how)
        if not self.truth.is_up(name):
            return  # healed while down: it comes back when it restarts
        r = self.open[name] = _Return(name, t, how)
        self._recheck(t, r)

    def _recheck_all(self, t: float) -> None:
        for r in self.open.values():
            self._recheck(t, r)

    def _recheck(self, t: float, r: _Return) -> None:
        truth = self.truth
        i = truth.index[r.node]
        held = bool(truth.up[i]) and int(self.beliefs.col_alive[i]) == truth.n_up - 1
        if held and r.held_since is None:
            r.held_since = t
        elif not held:
            r.held_since = None

    def _close(self, t: float, name: str, why: str) -> None:
        r = self.open.pop(name, None)
        if r is None or t == r.t:
            return
        back = None if r.held_since is None else round(max(r.held_since, r.t) - r.t, 6)
        self.returns.append(
            Return(node=name, t=round(r.t, 6), how=r.how, back_s=back, window_s=round(t - r.t, 6), until=why)
        )

    def finish(self, end_t: float) -> None:
        for name in list(self.open):
            self._close(end_t, name, "end of run")

    def result(self) -> list[Return]:
        return sorted(self.returns, key=lambda r: (r.t, len(r.node), r.node))
