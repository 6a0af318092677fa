"""Convergence: when every up node's view is exactly the set of up nodes.

- Bootstrap: the first moment every initial node is up and views agree (at t = 0 a lone seed
  trivially "agrees" with itself).
- After each fault ends (a `fault` record whose op undoes one: `heal`, `loss_off`, ...): how
  long until views agree *and stay agreed*. A fault end is judged over its own window, from it
  until the next disturbance (the next `fault` record, `host` record, `impair` record turning a
  fault on, or partition) or the end of the run: it converged at the start of the agreement
  that still holds when the window closes; if views disagree then, it did not converge in its
  window (`converged_s` None). So a later flap counts against the heal, and one agreement never
  closes an earlier fault end's window on behalf of a later fault.
- At the end: whether views agree, how many (observer, member) pairs do not, and which up nodes
  someone up still holds down.
"""

from __future__ import annotations

from dataclasses import dataclass

from swimlab.protocol.faults import FAULTS
from swimlab.protocol.trace_schema import FaultRecord, GrudgeRecord, HostHow, ImpairRecord

from ..schema import Recovery
from .beliefs import Beliefs
from .observer import Observer
from .truth import GroundTruth

FAULT_ENDS: frozenset[str] = frozenset(spec.revert for spec in FAULTS.values() if spec.revert)
"""The `fault` record ops that end a fault: heal, loss_off, slow_off, ..."""


@dataclass
class _Recovery:
    t: float
    op: str


class Convergence(Observer):
    def __init__(self, truth: GroundTruth, beliefs: Beliefs) -> None:
        self.truth = truth
        self.beliefs = beliefs
        self.first_converged_t: float | None = None
        self.converged = False
        self.agree_since: float | None = None  # start of the current agreement
        self.open: list[_Recovery] = []
        self.recoveries: list[Recovery] = []

    # Agreement --------------------------------------------------------------------------------
    def on_view_change(self, t: float, member: str, believes_up: bool) -> None:
        self._check(t)

    def on_host_up(self, t: float, name: str, how: HostHow) -> None:
        self._close(t, f"{name} up ({how})")
        self._check(t)

    def on_host_down(self, t: float, name: str, how: HostHow) -> None:
        self._close(t, f"{name} down ({how})")
        self._check(t)

    def _check(self, t: float) -> None:
        n_up = self.truth.n_up
        converged = self.beliefs.wrong == 0 and n_up > 0
        if converged and not self.converged:
            self.agree_since = t
        self.converged = converged
        if converged and self.first_converged_t is None and n_up >= len(self.truth.initial):
            self.first_converged_t = t

    # Fault ends and their windows -------------------------------------------------------------
    def on_fault(self, t: float, record: FaultRecord) -> None:
        self._close(t, f"fault {record['op']}")
        if record["op"] in FAULT_ENDS:
            self.open.append(_Recovery(t, record["op"]))
            self._check(t)

    def on_impair(self, t: float, record: ImpairRecord) -> None:
        if record["on"]:
            self._close(t, f"{record['cause']} on {record['node']}")

    def on_grudge(self, t: float, record: GrudgeRecord) -> None:
        if record["cuts"]:
            self._close(t, "partition")

    def _close(self, t: float, why: str) -> None:
        """Judge every open fault end on the views as they were before this disturbance."""
        for r in self.open:
            settled = self.converged and self.agree_since is not None
            self.recoveries.append(
                Recovery(
                    t=round(r.t, 6),
                    op=r.op,
                    converged_s=round(max(self.agree_since, r.t) - r.t, 6)
                    if settled and self.agree_since is not None
                    else None,
                    window_s=round(t - r.t, 6),
                    until=why,
                )
            )
        self.open = []

    def finish(self, end_t: float) -> None:
        self._close(end_t, "end of run")

    # Results ----------------------------------------------------------------------------------
    def result(self) -> list[Recovery]:
        return sorted(self.recoveries, key=lambda r: r.t)

    def first_converged_s(self) -> float | None:
        return None if self.first_converged_t is None else round(self.first_converged_t, 6)
