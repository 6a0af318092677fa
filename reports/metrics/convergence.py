"""Convergence: when every up node's view is exactly the set of up nodes.

Checked after every change that can make or break agreement (a view change, a node up or down,
a heal): the bootstrap converges when every initial node is up and agreeing (at t = 0 a lone
seed trivially "agrees" with itself); each heal converges at the first agreement after it.
At the end: whether views agree, how many (observer, member) pairs do not, and which up nodes
someone up still holds down.
"""

from __future__ import annotations

from dataclasses import dataclass

from swimlab.protocol.trace_schema import FaultRecord, HostHow

from .beliefs import Beliefs
from .observer import Observer
from .truth import GroundTruth


@dataclass
class Heal:
    t: float
    converged_t: float | None = None


class Convergence(Observer):
    def __init__(self, truth: GroundTruth, beliefs: Beliefs) -> None:
        self.truth = truth
        self.beliefs = beliefs
        self.first_converged_t: float | None = None
        self.converged = False
        self.heals: list[Heal] = []

    def on_view_change(self, t: float, member: str, believes_up: bool) -> None:
        self._check(t)

    def on_host_up(self, t: float, name: str, how: HostHow) -> None:
        self._check(t)

    def on_host_down(self, t: float, name: str, how: HostHow) -> None:
        self._check(t)

    def on_fault(self, t: float, record: FaultRecord) -> None:
        if record["op"] == "heal":
            self.heals.append(Heal(t))
            self._check(t)

    def _check(self, t: float) -> None:
        n_up = self.truth.n_up
        self.converged = self.beliefs.wrong == 0 and n_up > 0
        if not self.converged:
            return
        if self.first_converged_t is None and n_up >= len(self.truth.initial):
            self.first_converged_t = t
        for heal in self.heals:
            if heal.converged_t is None:
                heal.converged_t = t

    def heal_s(self) -> list[float | None]:
        return [None if h.converged_t is None else round(h.converged_t - h.t, 6) for h in self.heals]

    def first_converged_s(self) -> float | None:
        return None if self.first_converged_t is None else round(self.first_converged_t, 6)
