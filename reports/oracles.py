"""Invariant oracles: properties every run of the protocol must have, judged over its trace.

Checks (`checks.py`) are what a scenario asks for; oracles are what must hold in *any* run, so
every run judges them (`result.json` `oracles`, the run page, `swimlab run`'s output) and the
fault search (`scenarios/search.py`) hunts for schedules that break one. They do not change a
run's verdict (a library scenario may document a known weakness); the search reads them. Each
result names the first trace record that violates it: its line number in `trace.jsonl`
(1-based, the order records were fed) and the record itself.

The oracles, each stated as judged:

- `run_completes`: the runtime raised no exception (the runner reports one here: a finding
  about the protocol or the fault machinery, not a crash of the tool).
- `incarnations_never_decrease`: within one life of an observer (a wiped restart or a boot
  starts a new one), the incarnation in its notifications about a member never goes down,
  until it forgets the member (`removed`); a node's own incarnation (its `refuted` records)
  only goes up within a life (a kept restart adds one, `Node.recover`).
- `no_self_accusation`: no node emits `suspect`, `dead` or `left` about itself.
- `dead_follows_suspicion`: a node's own dead verdict (accuser = itself) about a member comes
  only while it holds that member suspect at the verdict's incarnation.
- `reachable_not_dead_everywhere`: a node that is up, off no fault (not paused or deaf) and
  reachable from a majority of the up nodes is not held dead by every other up node for longer
  than the bound B below.
- `converges_after_heal`: when nothing is in force at the end (no partition, no node fault)
  and the run went on at least B after its last disturbance (a fault, its end, a process going
  up or down), every live node's view (alive and suspect members) equals the live set from that
  instant + B to the end. Otherwise: not judged, and the detail says why.
- `news_not_lost`: at the end, every pair of up nodes that could talk without a break for the
  last B seconds agrees on the news: the observer holds the member alive at the member's own
  current incarnation (its latest refutation reached everyone in its connected component).
- `datagram_budget`: every message sent unreliably fits `packet_budget_bytes`, and only the
  reliable kinds (`protocol.messages.RELIABLE`: push-pull and the fallback probe's ping and ack)
  go over a stream (the driver silently moves an oversized datagram onto a stream, which a real
  network may not have). Needs the message records (`[trace] messages`).
- `events_accounted`: each node's notifications about a member follow the transitions of
  `protocol/notifications.py` (joined -> suspect -> alive ...), unless the node reported an
  `events_dropped` in between: a lost notification is always reported.

The bound B (seconds), for n = every node the run ever had and the run's config:

    B = S_max + R * (n - 1) + 2 * P + 2 * S_min + 10 * T

- S_max = suspicion_max_timeout_mult * S_min, S_min = suspicion_timeout(suspicion_mult, n,
  probe_interval_s): a suspicion raised just before the heal may still turn into a dead verdict
  after it;
- R * (n - 1): reconnect walks the dead members round-robin in a shuffled order (Node's
  reconnect, `protocol/reconnect.py`), one every R = reconnect_interval_s, so each member that
  stays dead is sent a push-pull within (number dead) * R <= (n - 1) * R of any instant; that
  push-pull tells it it is held dead, and it refutes;
- 2 * P (P = push_pull_scale(push_pull_interval_s, n)): the two sides of a healed cut learn of
  each other's other members through one push-pull each way (a remote death becomes a local
  suspicion, which the member refutes);
- 2 * S_min: each of those refutations must beat the suspicion it answers;
- 10 * T (T = probe_interval_s): gossip spread of the last refutation (retransmit limit times
  the gossip interval is well under it for n <= 64) and a probe round to notice.

The O(n^2) oracles (`reachable_not_dead_everywhere`, `converges_after_heal`,
`news_not_lost`) are judged for runs of at most `MAX_NODES_JUDGED` nodes (the search runs
small clusters); larger runs say "not judged". Views are sampled every `SAMPLE_S` seconds of
simulated time.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from swimlab.protocol.config import Config
from swimlab.protocol.formulas import push_pull_scale, suspicion_timeout
from swimlab.protocol.messages import RELIABLE
from swimlab.protocol.trace_schema import TraceRecord

from .metrics.truth import GroundTruth
from .schema import OracleResult

_STREAM_KINDS = frozenset(kind.__name__ for kind in RELIABLE)  # message names in send records

MAX_NODES_JUDGED = 64
SAMPLE_S = 1.0

ORACLES = (
    "run_completes",
    "incarnations_never_decrease",
    "no_self_accusation",
    "dead_follows_suspicion",
    "reachable_not_dead_everywhere",
    "converges_after_heal",
    "news_not_lost",
    "datagram_budget",
    "events_accounted",
)

_ALIVE, _SUSPECT, _DEAD, _LEFT = "alive", "suspect", "dead", "left"
_FORMED = "alive (formed start)"  # held without a notification: a formed node knows the initial cluster
_UP_STATES = (_ALIVE, _SUSPECT, _FORMED)
# protocol/notifications.py, read as: event -> (states it may follow (None: unknown), state after)
_TRANSITIONS: dict[str, tuple[tuple[str | None, ...], str | None]] = {
    "joined": ((None, _DEAD, _LEFT, _FORMED), _ALIVE),
    "updated": ((_ALIVE, _FORMED), _ALIVE),
    "suspect": ((_ALIVE, _SUSPECT, _FORMED), _SUSPECT),
    "alive": ((_SUSPECT,), _ALIVE),
    "dead": ((_ALIVE, _SUSPECT, _FORMED), _DEAD),
    "left": ((_ALIVE, _SUSPECT, _DEAD, _FORMED), _LEFT),
    "removed": ((_DEAD, _LEFT), None),
}
_NEW_LIFE = ("boot", "join", "formed", "restart-wiped")


def bound_s(config: Config, n: int) -> float:
    """B of the module docstring: how long after the last disturbance views must agree."""
    n = max(n, 1)
    s_min = suspicion_timeout(config.suspicion_mult, n, config.probe_interval_s)
    s_max = config.suspicion_max_timeout_mult * s_min
    p = push_pull_scale(config.push_pull_interval_s, n)
    return round(
        s_max + config.reconnect_interval_s * (n - 1) + 2 * p + 2 * s_min + 10 * config.probe_interval_s, 6
    )


@dataclass
class _Verdict:
    ok: bool | None = True
    detail: str = ""
    record: int | None = None
    first: dict[str, Any] | None = None


@dataclass
class _Sample:
    t: float
    record: int  # the last record fed before the sample
    wrong: list[str] = field(default_factory=list)  # "observer: missing/extra" views that differ


class Oracles:
    """Feed every trace record in order (`feed`), then `finish` for the results."""

    def __init__(self) -> None:
        self.truth = GroundTruth()
        self.records = 0
        self._v = {name: _Verdict() for name in ORACLES}
        self._held: dict[tuple[str, str], tuple[str, int]] = {}  # (observer, member) -> (state, inc)
        self._own: dict[str, int] = {}  # node -> its own incarnation now
        self._dropped_since: set[str] = set()  # nodes that reported events_dropped (until a new life)
        self._last_disturbance = 0.0
        self._next_sample = 0.0
        self._samples: list[_Sample] = []
        self._dead_everywhere_since: dict[str, tuple[float, int]] = {}
        self._sends = 0
        self._last_record: Mapping[str, Any] | None = None

    # Feeding --------------------------------------------------------------------------------
    def feed(self, record: TraceRecord) -> None:
        t = record["t"]
        while t >= self._next_sample:
            self._sample(self._next_sample)
            self._next_sample += SAMPLE_S
        self.records += 1
        self._last_record = record
        kind = record["kind"]
        r: Any = record
        if kind == "send":
            self._send(r)
        elif kind == "state":
            self._state(t, r)
        elif kind == "host":
            self._last_disturbance = t
            self.truth.host(t, r["node"], r["status"] == "up", restart=r["how"].startswith("restart"))
            self._host(r["node"], r["status"], r["how"])
        elif kind == "impair":
            self._last_disturbance = t
            self.truth.impair(t, r["node"], r["cause"], r["on"])
        elif kind == "grudge":
            self._last_disturbance = t
            self.truth.links.grudge(t, r["cuts"])
        elif kind == "fault":
            self._last_disturbance = t
        elif kind == "meta":
            self.truth.meta(r)

    def crashed(self, exc: BaseException) -> None:
        """The runtime raised: `run_completes` is violated (the runner calls this)."""
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        at = f" at {where.filename.rsplit('/', 1)[-1]}:{where.lineno}" if where else ""
        self._violate("run_completes", f"the run raised {type(exc).__name__}: {exc}{at}", self._last_record)

    def _violate(self, name: str, detail: str, record: Mapping[str, Any] | None = None) -> None:
        verdict = self._v[name]
        if verdict.ok is False:
            return  # the first violation is the one reported
        verdict.ok, verdict.detail = False, detail
        verdict.record = self.records if record is not None else None
        verdict.first = dict(record) if record is not None else None

    def _send(self, r: Mapping[str, Any]) -> None:
        self._sends += 1
        budget = self.truth.config.packet_budget_bytes
        if r["reliable"] and r["msg"] not in _STREAM_KINDS:
            self._violate(
                "datagram_budget",
                f"{r['src']} -> {r['dst']}: a {r['msg']} of {r['bytes']} B went over a stream "
                f"(over the {budget} B datagram budget)",
                r,
            )
        elif not r["reliable"] and r["bytes"] > budget:
            self._violate("datagram_budget", f"a {r['bytes']} B datagram (budget {budget} B)", r)

    def _host(self, node: str, status: str, how: str) -> None:
        if status == "up" and how in _NEW_LIFE:
            self._own[node] = 0
            for key in [k for k in self._held if k[0] == node]:
                del self._held[key]
            self._dropped_since.discard(node)
            if how == "formed":
                # Booted into a formed cluster: it holds every initial node alive at incarnation 0
                # without a notification (as the views matrix assumes, metrics/beliefs.py).
                for member in self.truth.initial:
                    if member != node:
                        self._held[(node, member)] = (_FORMED, 0)
        elif status == "up" and how == "restart-kept":
            self._own[node] = self._own.get(node, 0) + 1

    def _state(self, t: float, r: Mapping[str, Any]) -> None:
        node, event = r["node"], r["event"]
        if event == "events_dropped":
            self._dropped_since.add(node)
            return
        member, inc = r["member"], r["incarnation"]
        if event == "refuted":
            own = self._own.get(node, 0)
            if inc < own:
                self._violate(
                    "incarnations_never_decrease", f"{node} refuted at {inc}, below its own {own}", r
                )
            self._own[node] = inc
            return
        if member == node:
            if event in (_SUSPECT, _DEAD, _LEFT):
                self._violate("no_self_accusation", f"{node} holds itself {event} at {t:g} s", r)
            return
        key = (node, member)
        held = self._held.get(key)
        if held is not None and event != "removed" and inc < held[1]:
            self._violate(
                "incarnations_never_decrease",
                f"{node} went from {member} {held[0]} at incarnation {held[1]} to {event} at {inc} ({t:g} s)",
                r,
            )
        if event == _DEAD and r.get("accuser") == node and held != (_SUSPECT, inc):
            was = "nothing" if held is None else f"{held[0]} at {held[1]}"
            self._violate(
                "dead_follows_suspicion",
                f"{node} declared {member} dead at incarnation {inc} on its own while holding {was}",
                r,
            )
        transition = _TRANSITIONS.get(event)
        if transition is not None:
            before, after = transition
            if (held[0] if held else None) not in before and node not in self._dropped_since:
                was = "no record" if held is None else held[0]
                self._violate(
                    "events_accounted",
                    f"{node} reported {member} {event} after {was}, with no events_dropped in between",
                    r,
                )
            if after is None:
                self._held.pop(key, None)
            else:
                self._held[key] = (after, inc)

    # Sampled views --------------------------------------------------------------------------
    def _live(self) -> list[str]:
        truth = self.truth
        return [x for x in truth.names if truth.is_up(x)]

    def _sample(self, t: float) -> None:
        truth = self.truth
        if len(truth.names) > MAX_NODES_JUDGED or not truth.names:
            return
        live = self._live()
        live_set = set(live)
        wrong = []
        for o in live:
            view = {m for (obs, m), (state, _) in self._held.items() if obs == o and state in _UP_STATES}
            view.add(o)
            if view != live_set:
                missing, extra = sorted(live_set - view), sorted(view - live_set)
                wrong.append(f"{o} misses {missing} holds {extra}" if extra else f"{o} misses {missing}")
        self._samples.append(_Sample(t, self.records, wrong))
        self._dead_everywhere(t, live)

    def _dead_everywhere(self, t: float, live: list[str]) -> None:
        links = self.truth.links
        for m in [m for m in self._dead_everywhere_since if m not in live]:
            del self._dead_everywhere_since[m]  # down now: no longer owed a place in the views
        for m in live:
            others = [o for o in live if o != m]
            reach = sum(1 for o in others if not links.cut_now(o, m))
            everywhere = bool(others) and all(self._held.get((o, m), ("", 0))[0] == _DEAD for o in others)
            if everywhere and not links.off_network(m) and reach + 1 > len(live) / 2:
                self._dead_everywhere_since.setdefault(m, (t, self.records))
            else:
                self._dead_everywhere_since.pop(m, None)
        limit = bound_s(self.truth.config, len(self.truth.names))
        for m, (since, record) in self._dead_everywhere_since.items():
            if t - since > limit:
                self._violate(
                    "reachable_not_dead_everywhere",
                    f"{m} up and reachable from a majority, held dead by every other up node "
                    f"from {since:g} s to {t:g} s (bound {limit:g} s)",
                    None,
                )
                self._v["reachable_not_dead_everywhere"].record = record

    # Results --------------------------------------------------------------------------------
    def finish(self, end_t: float) -> list[OracleResult]:
        while end_t >= self._next_sample:
            self._sample(self._next_sample)
            self._next_sample += SAMPLE_S
        self._sample(end_t)
        self._liveness(end_t)
        if self._sends == 0 and self._v["datagram_budget"].ok:
            self._v["datagram_budget"] = _Verdict(None, "no message records in the trace ([trace] messages)")
        if len(self.truth.names) > MAX_NODES_JUDGED:
            for name in ("reachable_not_dead_everywhere", "converges_after_heal", "news_not_lost"):
                self._v[name] = _Verdict(None, f"not judged above {MAX_NODES_JUDGED} nodes")
        out = []
        for name in ORACLES:
            v = self._v[name]
            detail = v.detail or ("held" if v.ok else "")
            out.append(OracleResult(name=name, ok=v.ok, detail=detail, record=v.record, first=v.first))
        return out

    def _in_force(self) -> list[str]:
        truth = self.truth
        held = [f"{n} {sorted(c)}" for n, c in truth.node_faults.items() if c - {"clock"} and truth.is_up(n)]
        if truth.links.drops:
            held.append("a partition")
        return held

    def _liveness(self, end_t: float) -> None:
        limit = bound_s(self.truth.config, len(self.truth.names))
        since = self._last_disturbance
        in_force = self._in_force()
        why = ""
        if in_force:
            why = f"faults in force at the end: {', '.join(in_force[:4])}"
        elif end_t - since < limit:
            why = (
                f"the run ended {end_t - since:g} s after its last disturbance ({since:g} s), "
                f"under the bound {limit:g} s"
            )
        if why:
            self._v["converges_after_heal"] = _Verdict(None, f"not judged: {why}")
        else:
            due = since + limit
            for sample in self._samples:
                if sample.t >= due and sample.wrong:
                    self._v["converges_after_heal"] = _Verdict(
                        False,
                        f"views still differ at {sample.t:g} s, {limit:g} s after the last disturbance at "
                        f"{since:g} s: {'; '.join(sample.wrong[:4])}",
                        sample.record,
                        None,
                    )
                    break
            else:
                self._v[
                    "converges_after_heal"
                ].detail = f"views agreed from {due:g} s ({limit:g} s after the last disturbance) to the end"
        self._news(end_t, limit)

    def _news(self, end_t: float, limit: float) -> None:
        links = self.truth.links
        live = self._live()
        lost = []
        for m in live:
            own = self._own.get(m, 0)
            for o in live:
                if o == m:
                    continue
                back = links.reachable_since(o, m)
                if back is None or back > end_t - limit:
                    continue  # not connected for the last B seconds
                held = self._held.get((o, m))
                if held is None or held[0] not in _UP_STATES or held[1] != own:
                    state = "nothing" if held is None else f"{held[0]} at {held[1]}"
                    lost.append(f"{o} holds {m} {state}, its own incarnation is {own}")
        if lost:
            self._v["news_not_lost"] = _Verdict(
                False, f"at the end ({end_t:g} s): {'; '.join(lost[:4])}", self.records, None
            )
        elif self._v["news_not_lost"].ok:
            self._v["news_not_lost"].detail = "every pair connected for the last B seconds agrees"


def first_failed(results: list[OracleResult]) -> OracleResult | None:
    return next((r for r in results if r.ok is False), None)
