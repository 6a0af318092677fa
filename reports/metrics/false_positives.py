"""False positives: suspect and dead verdicts a node did not deserve. The rule, exactly:

An *accusation* is a verdict `(accuser a, member m, suspect | dead, incarnation)`: raised when a
applies it on its own evidence (its probe of m failed: `suspect`; its suspicion timer ran out:
`dead`; push-pull turns a remote death into a's own suspicion) and judged once, at the moment
it is raised. A confirmation (a suspects a member it already suspects) writes no record; it is
judged when first heard from a. With `links.py`'s reachability (a link is cut by a partition,
or while either node is down, paused or deaf), an accusation raised at t is

1. *deserved* if m is down at t (a crash, a departure);
2. *deserved* if the link a <-> m was cut at some instant of the verdict's evidence window
   [t - W, t]:
   - `suspect`: W = the longest probe round, probe_interval_s x awareness_max_multiplier
     (probe_interval_s with Lifeguard's LHM off): the failed probe may have started that long ago;
   - `dead`: W = probe_interval_s. Within one protocol period on a working link a probe of a
     suspect carries the suspicion to it (Lifeguard's buddy system) and its refutation comes
     back in the ack (probe_timeout_s < probe_interval_s). So a death is deserved only if the
     link was cut within the last period: a suspicion raised while m was unreachable does not
     excuse a death raised more than a period after the link came back;
3. a `suspect` is also *deserved* while some up node holds m dead by a deserved `dead`
   verdict: push-pull turns a remote death into the receiver's own suspicion (memberlist's
   mergeState), so the suspicion may be that death, inherited - typically right after a heal;
4. otherwise a *false positive*. Loss, latency, duplication, slowness and clock faults never
   cut a link, so a verdict they cause is a false positive, whichever side they act on.

Verdicts raised before `warmup_s` are not judged (nor their copies). Each false accusation
records whether its accuser and its member were *healthy* over the evidence (up, no node fault
acting on them: ground truth's definition) from the start of the window (`dead`: from the start
of the window of the suspicion it ends, if the accuser's suspicion was seen) to t, and whether
it is a *post-heal false death*: a false `dead` whose accuser could not reach m at some instant
while it held the suspicion - the suspicion outlived a cut, the link came back, and no
refutation reached the accuser before its timer ran out (the three-datacenter cut-and-heal
case: memberlist's own behaviour, see scenarios/library/three_dc_cut_heal.toml).

Counted three ways, for any member and for healthy members only (a lossy or slow member is
reachable, so verdicts about it are false, but some scenarios ask only about the others):

- raised: once per false accusation;
- raised by healthy accusers (Lifeguard's measure): a slow node accusing everyone is a
  different failure from a lossy network fooling healthy nodes;
- heard: once per node that holds it (its accuser included); one accusation spreads to N.
"""

from __future__ import annotations

from dataclasses import dataclass

from swimlab.protocol.trace_schema import HostHow, StateRecord

from ..schema import FalsePositives as FalsePositivesPart
from ..schema import FalseTallies, FalseVerdict, PostHealDeaths, VerdictKind, VerdictTally
from .observer import Observer
from .truth import GroundTruth

_DESERVED = -1
_NOT_JUDGED = -2  # raised before warm-up

Accusation = tuple[str, str, str, int]  # accuser, member, "suspect" | "dead", incarnation


@dataclass
class _False:
    t: float
    accuser: str
    member: str
    event: VerdictKind
    incarnation: int
    accuser_healthy: bool
    member_healthy: bool
    post_heal: bool
    heard: int = 0


class FalsePositives(Observer):
    def __init__(self, truth: GroundTruth, warmup_s: float) -> None:
        self.truth = truth
        self.warmup_s = warmup_s
        self.judged: dict[Accusation, int] = {}  # -> index in `false`, or _DESERVED / _NOT_JUDGED
        self.false: list[_False] = []
        # (observer, member) -> (when the observer began suspecting it, at which incarnation)
        self.suspecting: dict[tuple[str, str], tuple[float, int]] = {}
        self.dead_deservedly: dict[str, set[str]] = {}  # member -> up nodes holding a deserved death

    # The evidence windows ---------------------------------------------------------------------
    @property
    def suspect_window_s(self) -> float:
        c = self.truth.config
        return c.probe_interval_s * (c.awareness_max_multiplier if c.lifeguard_lhm else 1)

    @property
    def dead_window_s(self) -> float:
        return self.truth.config.probe_interval_s

    # Records ----------------------------------------------------------------------------------
    def on_state(self, t: float, record: StateRecord) -> None:
        observer, member, event = record["node"], record["member"], record["event"]
        self.dead_deservedly.get(member, set()).discard(observer)
        if event != "suspect" and event != "dead":
            self.suspecting.pop((observer, member), None)
            return
        accuser = record["accuser"] or observer
        key: Accusation = (accuser, member, event, record["incarnation"])
        index = self.judged.get(key)
        if index is None:
            index = self.judged[key] = self._judge(t, key)
        if index >= 0:
            self.false[index].heard += 1
        if event == "suspect":
            self.suspecting[(observer, member)] = (t, record["incarnation"])
        else:
            self.suspecting.pop((observer, member), None)
            if index == _DESERVED:
                self.dead_deservedly.setdefault(member, set()).add(observer)

    def on_host_down(self, t: float, name: str, how: HostHow) -> None:
        for holders in self.dead_deservedly.values():
            holders.discard(name)  # a view that no longer counts

    def _judge(self, t: float, key: Accusation) -> int:
        accuser, member, event, incarnation = key
        truth = self.truth
        if t < self.warmup_s:
            return _NOT_JUDGED
        if not truth.is_up(member):
            return _DESERVED
        links = truth.links
        if event == "suspect":
            if self.dead_deservedly.get(member):
                return _DESERVED  # possibly a deserved death, inherited through push-pull
            window = self.suspect_window_s
            evidence_from = t - window
            suspected_at = None
        else:
            window = self.dead_window_s
            held = self.suspecting.get((accuser, member))
            suspected_at = held[0] if held is not None and held[1] == incarnation else None
            evidence_from = t - window if suspected_at is None else suspected_at - self.suspect_window_s
        if links.cut_within(accuser, member, t - window):
            return _DESERVED
        self.false.append(
            _False(
                t=t,
                accuser=accuser,
                member=member,
                event="suspect" if event == "suspect" else "dead",
                incarnation=incarnation,
                accuser_healthy=truth.healthy_since(accuser, evidence_from),
                member_healthy=truth.healthy_since(member, evidence_from),
                post_heal=suspected_at is not None and links.cut_within(accuser, member, suspected_at),
            )
        )
        return len(self.false) - 1

    # Results ----------------------------------------------------------------------------------
    def result(self, node_hours: float) -> FalsePositivesPart:
        verdicts = [
            FalseVerdict(
                t=round(f.t, 6),
                accuser=f.accuser,
                member=f.member,
                event=f.event,
                incarnation=f.incarnation,
                heard=f.heard,
                accuser_healthy=f.accuser_healthy,
                member_healthy=f.member_healthy,
                post_heal=f.post_heal,
            )
            for f in self.false
        ]
        post_heal = [v for v in verdicts if v.post_heal]
        return FalsePositivesPart(
            suspect_window_s=self.suspect_window_s,
            dead_window_s=self.dead_window_s,
            about_any=tallies(verdicts, node_hours),
            about_healthy=tallies([v for v in verdicts if v.member_healthy], node_hours),
            post_heal_deaths=PostHealDeaths(
                raised=len(post_heal),
                heard=sum(v.heard for v in post_heal),
                members=sorted({v.member for v in post_heal}, key=lambda m: (len(m), m)),
            ),
            verdicts=verdicts,
        )


def tally(verdicts: list[FalseVerdict], node_hours: float, heard: bool = False) -> VerdictTally:
    """Suspect and dead counts (each accusation once, or `heard`: once per holder) and their
    rates per node-hour of up-time."""
    counts = {"suspect": 0, "dead": 0}
    for v in verdicts:
        counts[v.event] += v.heard if heard else 1

    def rate(n: int) -> float | None:
        return round(n / node_hours, 6) if node_hours else None

    return VerdictTally(
        suspect=counts["suspect"],
        dead=counts["dead"],
        suspect_per_node_hour=rate(counts["suspect"]),
        dead_per_node_hour=rate(counts["dead"]),
    )


def tallies(verdicts: list[FalseVerdict], node_hours: float) -> FalseTallies:
    return FalseTallies(
        raised=tally(verdicts, node_hours),
        raised_by_healthy=tally([v for v in verdicts if v.accuser_healthy], node_hours),
        heard=tally(verdicts, node_hours, heard=True),
    )
