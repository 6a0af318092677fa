"""False positives: suspect and dead verdicts about members that did not deserve them.

The rule: a verdict about `member` is a false positive when, at the moment an observer hears it
(after `warmup_s`), the member is up, no fault affects it, and none has for `grace_s` (news of a
deserved suspicion can still be travelling when a fault ends). Self-verdicts never reach here:
a node does not accuse itself.

Each false verdict is counted four ways, because they answer different questions:

- heard (`suspect`, `dead`): once per observer that holds it; one accusation spreads to N;
- raised (`originated`): once per accusation, when the observer is the accuser;
- raised by a healthy accuser (`healthy_accusers`, as Lifeguard reports them): the accuser is
  up, unimpaired and clear for `grace_s` itself - a slow node accusing everyone is a different
  failure from a lossy network fooling healthy nodes;
- held by a healthy observer (`healthy_observers`): a lossy node that misses a refutation and
  holds a live member dead in its own view only is wrong, but the cluster is not.
"""

from __future__ import annotations

from swimlab.protocol.trace_schema import StateRecord

from ..schema import FalsePositives as FalsePositivesPart
from ..schema import FalseVerdict, HealthyAccusers, VerdictCounts, VerdictKind, VerdictRates
from .observer import Observer
from .truth import GroundTruth

MAX_EXAMPLES = 20


class FalsePositives(Observer):
    def __init__(self, truth: GroundTruth, grace_s: float, warmup_s: float) -> None:
        self.truth = truth
        self.grace_s = grace_s
        self.warmup_s = warmup_s
        self.heard = {"suspect": 0, "dead": 0}
        self.originated = {"suspect": 0, "dead": 0}
        self.healthy_accusers = {"suspect": 0, "dead": 0}
        self.healthy_observers = {"suspect": 0, "dead": 0}
        self.examples: list[FalseVerdict] = []

    def on_verdict(self, t: float, record: StateRecord) -> None:
        member = record["member"]
        truth = self.truth
        if not truth.is_up(member) or t < self.warmup_s or truth.affected(t, member, self.grace_s):
            return
        event: VerdictKind = "suspect" if record["event"] == "suspect" else "dead"
        observer = record["node"]
        accuser = record["accuser"]
        self.heard[event] += 1
        if truth.healthy(t, observer, self.grace_s):
            self.healthy_observers[event] += 1
        if accuser == observer:
            self.originated[event] += 1
            if truth.healthy(t, accuser, self.grace_s):
                self.healthy_accusers[event] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(
                FalseVerdict(t=round(t, 6), observer=observer, member=member, event=event, accuser=accuser)
            )

    def result(self, node_hours: float) -> FalsePositivesPart:
        def rates(counts: dict[str, int]) -> VerdictRates:
            return VerdictRates(
                suspect=round(counts["suspect"] / node_hours, 6) if node_hours else None,
                dead=round(counts["dead"] / node_hours, 6) if node_hours else None,
            )

        def counts(c: dict[str, int]) -> VerdictCounts:
            return VerdictCounts(suspect=c["suspect"], dead=c["dead"])

        return FalsePositivesPart(
            suspect=self.heard["suspect"],
            dead=self.heard["dead"],
            per_node_hour=rates(self.heard),
            originated=counts(self.originated),
            healthy_accusers=HealthyAccusers(
                suspect=self.healthy_accusers["suspect"],
                dead=self.healthy_accusers["dead"],
                per_node_hour=rates(self.healthy_accusers),
            ),
            healthy_observers=counts(self.healthy_observers),
            grace_s=self.grace_s,
            examples=list(self.examples),
        )
