"""The checks a scenario may ask for (`CHECKS`), evaluated on a run's `Metrics`, and verdicts.

Each check is a row: its parameters (a frozen dataclass, validated by scenarios/schema.py like a
fault's: annotation = type, default = value of an omitted key, `param(bound=...)` its range), the
parameter a bare value sets (`within_s = 30.0` is `[checks.within_s] within_s = 30.0`; a bare
`true` takes every default, `false` turns the check off), and its function. A function returns
`(ok, detail)`: `detail` says what was measured and what was left out, so a verdict explains
itself; `ok = None` means it could not be judged, and `detail` says why.

Scopes. Checks with `group` judge only the nodes of that `[cluster.groups]` group (the crashed,
accused, cut, returning or flapping ones); `from_s` / `to_s` only what starts in that window of
simulated time (a crash, a verdict, a partition, a fault's end, a return) - or, for
`no_flapping`, flaps overlapping it.

Verdicts. `invalid` if any check failed; else `unknown` if any could not be judged; else
`valid` (with no checks at all: valid, reason "no checks"). `verdict_reason` names the failed
checks, or what could not be judged and why. A sweep's verdict (`sweep_verdict`): `error` if a
point failed to run, else `invalid` if a point is invalid, else `unknown` if a point is, else
`valid`; exit codes follow the run's: valid 0, invalid 1, unknown or error 2.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from swimlab.protocol.faults import ABOVE_0, AT_LEAST_0, param

from .schema import CheckResult, FalseVerdict, ManagerMetrics, Metrics, SweepPoint, SweepVerdicts, Verdict

__all__ = [
    "CHECKS",
    "MANAGER_CHECKS",
    "CheckRequest",
    "CheckResult",
    "CheckSpec",
    "request",
    "run_checks",
    "sweep_verdict",
    "verdict",
    "verdict_reason",
]

Count = Literal["raised", "raised_by_healthy", "heard"]
About = Literal["any", "healthy"]

COUNT_WORDS = {
    "raised": "raised",
    "raised_by_healthy": "raised by healthy accusers",
    "heard": "heard (once per node holding one)",
}


# Parameters -----------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Window:
    from_s: float = param(0.0, bound=AT_LEAST_0, doc="judge only what starts at or after this instant")
    to_s: float | None = param(None, bound=AT_LEAST_0, doc="... and at or before this one (default: the end)")


@dataclass(frozen=True, kw_only=True)
class Scoped(Window):
    group: str | None = param(None, doc="judge only the nodes of this [cluster.groups] group")


@dataclass(frozen=True, kw_only=True)
class Enabled:
    pass


@dataclass(frozen=True, kw_only=True)
class ScopedEnabled(Scoped):
    pass


@dataclass(frozen=True, kw_only=True)
class GroupOnly:
    group: str | None = param(None, doc="judge only the nodes of this [cluster.groups] group")


@dataclass(frozen=True, kw_only=True)
class FalsePositiveCount(Scoped):
    count: Count = param("raised", doc="raised, raised_by_healthy or heard (see false_positives.py)")
    about: About = param("any", doc="any member, or healthy ones only (no node fault acting on it)")


@dataclass(frozen=True, kw_only=True)
class FalsePositiveRate:
    limit: float = param(bound=AT_LEAST_0, doc="false verdicts per node-hour of up-time")
    verdicts: Literal["suspect", "dead", "both"] = param("both", doc="which verdicts count")
    count: Count = param("raised", doc="raised, raised_by_healthy or heard")
    about: About = param("any", doc="any member, or healthy ones only")


@dataclass(frozen=True, kw_only=True)
class Within:
    within_s: float = param(bound=AT_LEAST_0, doc="the limit, in seconds")


@dataclass(frozen=True, kw_only=True)
class ScopedWithin(Scoped):
    within_s: float = param(bound=AT_LEAST_0, doc="the limit, in seconds")


@dataclass(frozen=True, kw_only=True)
class HealWithin(Window):
    within_s: float = param(bound=AT_LEAST_0, doc="the limit, in seconds")
    faults: Literal["partition", "all"] = param(
        "partition", doc="judge partition heals only, or the end of every fault (loss_off, ...)"
    )


@dataclass(frozen=True, kw_only=True)
class Limit:
    limit: float = param(bound=ABOVE_0, doc="the bound")


@dataclass(frozen=True)
class Scope:
    """What a check judges: the nodes of its group (None: all) and its time window."""

    nodes: frozenset[str] | None = None
    from_s: float = 0.0
    to_s: float = math.inf

    def has(self, node: str) -> bool:
        return self.nodes is None or node in self.nodes

    def covers(self, t: float) -> bool:
        return self.from_s <= t <= self.to_s

    def words(self, group: str | None) -> str:
        parts = [f"in {group}"] if group else []
        if self.from_s > 0 or self.to_s < math.inf:
            end = "end" if self.to_s == math.inf else f"{self.to_s:g} s"
            parts.append(f"from {self.from_s:g} s to {end}")
        return (" " + ", ".join(parts)) if parts else ""


@dataclass(frozen=True)
class CheckRequest:
    """One check a scenario asks for: its name, its parameters, its scope resolved to nodes."""

    name: str
    params: Any
    scope: Scope = Scope()
    bare: bool = False  # asked for with a bare value (`within_s = 30.0` style)

    @property
    def label(self) -> str:
        """The name, with the parameters that are not defaults (a bare value's aside)."""
        spec = CHECKS[self.name]
        defaults = {f.name: f.default for f in dataclasses.fields(spec.params)}
        shown = [
            f"{k}={v}"
            for k, v in dataclasses.asdict(self.params).items()
            if v != defaults.get(k) and not (self.bare and k == spec.shorthand)
        ]
        return f"{self.name}[{', '.join(shown)}]" if shown else self.name


Judgement = tuple[bool | None, str]
CheckFn = Callable[[Metrics, Any, Scope], Judgement]


@dataclass(frozen=True)
class CheckSpec:
    name: str
    params: type[Any]
    fn: CheckFn
    summary: str
    shorthand: str | None = None  # the parameter a bare number sets; None: a bare true/false


# False positives ------------------------------------------------------------------------------
def _false(m: Metrics, p: FalsePositiveCount, scope: Scope, events: tuple[str, ...]) -> list[FalseVerdict]:
    return [
        v
        for v in m.false_positives.verdicts
        if v.event in events
        and scope.has(v.member)
        and scope.covers(v.t)
        and (p.about == "any" or v.member_healthy)
        and (p.count != "raised_by_healthy" or v.accuser_healthy)
    ]


def _false_detail(verdicts: list[FalseVerdict], p: FalsePositiveCount, scope: Scope, what: str) -> Judgement:
    n = sum(v.heard for v in verdicts) if p.count == "heard" else len(verdicts)
    detail = f"{n} false {what} verdicts {COUNT_WORDS[p.count]} about {p.about} members{scope.words(p.group)}"
    post_heal = [v for v in verdicts if v.post_heal]
    if post_heal:
        members = sorted({v.member for v in post_heal}, key=lambda x: (len(x), x))
        more = f" +{len(members) - 6}" if len(members) > 6 else ""
        detail += f" ({len(post_heal)} raised post-heal deaths, about {', '.join(members[:6])}{more})"
    if verdicts:
        v = verdicts[0]
        health = "healthy" if v.accuser_healthy else "impaired"
        detail += f"; first: {v.accuser} ({health}) -> {v.member} {v.event} at {_s(v.t)}, held by {v.heard}"
    return n == 0, detail


def no_false_positives(m: Metrics, p: FalsePositiveCount, scope: Scope) -> Judgement:
    return _false_detail(_false(m, p, scope, ("suspect", "dead")), p, scope, "suspect/dead")


def no_false_dead(m: Metrics, p: FalsePositiveCount, scope: Scope) -> Judgement:
    return _false_detail(_false(m, p, scope, ("dead",)), p, scope, "dead")


def max_false_positives_per_node_hour(m: Metrics, p: FalsePositiveRate, scope: Scope) -> Judgement:
    tallies = m.false_positives.about_any if p.about == "any" else m.false_positives.about_healthy
    tally = getattr(tallies, p.count)
    kinds = ("suspect", "dead") if p.verdicts == "both" else (p.verdicts,)
    rates = [getattr(tally, f"{k}_per_node_hour") for k in kinds]
    if any(r is None for r in rates):
        return None, "no node was up, so there is no rate"
    rate = sum(r for r in rates if r is not None)
    what = "suspect+dead" if p.verdicts == "both" else p.verdicts
    return rate <= p.limit, (
        f"{rate:.3f} false {what} verdicts {COUNT_WORDS[p.count]} about {p.about} members "
        f"per node-hour (limit {p.limit})"
    )


# Crashes, heals, partitions, returns ----------------------------------------------------------
def all_crashed_detected_within(m: Metrics, p: ScopedWithin, scope: Scope) -> Judgement:
    limit = p.within_s
    crashes = [d for d in m.detection if scope.has(d.node) and scope.covers(d.crash_s)]
    judged = [e for e in crashes if e.restarted_s is None or e.restarted_s > limit]
    back = [f"{e.node} (restarted after {_s(e.restarted_s)})" for e in crashes if e not in judged]
    left_out = f"; not judged, back before the limit: {', '.join(back)}" if back else ""
    if not judged:
        if not crashes:
            return None, f"no crash{scope.words(p.group)} to judge"
        return None, f"every crash came back up before {limit} s, so none is judged: {', '.join(back)}"
    late = [e for e in judged if e.dead_everywhere_s is None or e.dead_everywhere_s > limit]
    worst = max((e.dead_everywhere_s for e in judged if e.dead_everywhere_s is not None), default=None)
    late_text = f"; late: {', '.join(e.node for e in late[:10])}" if late else ""
    slowest = "none dead everywhere" if worst is None else _s(worst)
    return not late, (
        f"{len(judged) - len(late)}/{len(judged)} crashed nodes{scope.words(p.group)} dead everywhere "
        f"within {limit} s (slowest {slowest}){late_text}{left_out}"
    )


def _s(seconds: float | None) -> str:
    """A time for a detail line: two decimals at most (107.639465 -> '107.64 s')."""
    return "never" if seconds is None else f"{round(seconds, 2):g} s"


def _within(
    items: Sequence[tuple[str, float | None, float]], limit: float, what: str, none: str
) -> Judgement:
    """Judge (name, time taken or None, window) items against `limit`: a time within the limit
    passes; no time in a window at least the limit long fails; no time in a shorter window
    cannot be judged."""
    if not items:
        return None, none
    failed = [(n, s, w) for n, s, w in items if (s is not None and s > limit) or (s is None and w >= limit)]
    open_ = [(n, s, w) for n, s, w in items if s is None and w < limit]
    shown = ", ".join(f"{n}: {'never' if s is None else _s(s)}" for n, s, _ in items[:8])
    more = f" (+{len(items) - 8} more)" if len(items) > 8 else ""
    detail = f"{what} (limit {limit} s): {shown}{more}"
    if failed:
        return False, detail + f"; {len(failed)} over the limit"
    if open_:
        cut = ", ".join(f"{n} after {_s(w)}" for n, _, w in open_[:5])
        return None, detail + f"; could not judge, the window closed before the limit: {cut}"
    return True, detail


def views_agree_after_heal_within(m: Metrics, p: HealWithin, scope: Scope) -> Judgement:
    ends = [r for r in m.recoveries if (p.faults == "all" or r.op == "heal") and scope.covers(r.t)]
    items = [(f"{r.op} at {r.t:g}", r.converged_s, r.window_s) for r in ends]
    kind = "heal" if p.faults == "partition" else "fault end"
    return _within(
        items,
        p.within_s,
        f"views agreed and stayed agreed after each {kind}{scope.words(None)}",
        f"no {kind}{scope.words(None)} happened",
    )


def partition_detected_within(m: Metrics, p: ScopedWithin, scope: Scope) -> Judgement:
    items = []
    for cut in m.partitions:
        if not scope.covers(cut.t):
            continue
        nodes = [x for x in cut.dropped_all_s if scope.has(x)]
        if not nodes:
            continue
        times = [cut.dropped_all_s[x] for x in nodes] + [cut.dropped_by_all_s[x] for x in nodes]
        took = None if any(x is None for x in times) else max(x for x in times if x is not None)
        window = cut.lasted_s if cut.lasted_s is not None else math.inf
        items.append((f"partition at {cut.t:g}", took, window))
    return _within(
        items,
        p.within_s,
        f"each side dropped the other{scope.words(p.group)}",
        f"no partition{scope.words(p.group)} started",
    )


def back_in_views_within(m: Metrics, p: ScopedWithin, scope: Scope) -> Judgement:
    items = [
        (f"{r.node} ({r.how} at {r.t:g})", r.back_s, r.window_s)
        for r in m.returns
        if scope.has(r.node) and scope.covers(r.t)
    ]
    return _within(
        items,
        p.within_s,
        f"returning nodes{scope.words(p.group)} held up by every up node, and kept",
        f"no node{scope.words(p.group)} restarted or came back from a partition, pause or deafness",
    )


def converged_within(m: Metrics, p: Within, scope: Scope) -> Judgement:
    t = m.first_converged_s
    return (
        t is not None and t <= p.within_s,
        f"every live view first matched the live set at {t} s (limit {p.within_s} s)",
    )


# Views, stability, load -----------------------------------------------------------------------
def views_agree_at_end(m: Metrics, p: Enabled, scope: Scope) -> Judgement:
    n = m.disagreeing_pairs_at_end
    return n == 0, f"{n} (observer, member) pairs disagree with the truth at the end"


def no_node_stays_dead(m: Metrics, p: GroupOnly, scope: Scope) -> Judgement:
    stuck = [x for x in m.stays_dead if scope.has(x)]
    return not stuck, (
        f"{len(stuck)} live nodes{scope.words(p.group)} still considered down by someone at the end"
        + (f": {stuck[:10]}" if stuck else "")
    )


def no_dead_verdicts(m: Metrics, p: ScopedEnabled, scope: Scope) -> Judgement:
    hits = {
        member: n
        for member, times in m.dead_raised.items()
        if scope.has(member) and (n := sum(1 for t in times if scope.covers(t)))
    }
    shown = ", ".join(f"{x} ({n})" for x, n in list(hits.items())[:8])
    return not hits, (
        f"{sum(hits.values())} dead verdicts raised about {len(hits)} members{scope.words(p.group)}"
        + (f": {shown}" if hits else "")
    )


def no_flapping(m: Metrics, p: ScopedEnabled, scope: Scope) -> Judgement:
    flaps = [f for f in m.flaps if scope.has(f.member) and f.up_t >= scope.from_s and f.down_t <= scope.to_s]
    shown = ", ".join(f"{f.member} {f.down_t:g}-{f.up_t:g} s ({f.observers} observers)" for f in flaps[:6])
    return not flaps, (
        f"{len(flaps)} flaps (held down while up, then up again){scope.words(p.group)}"
        + (f": {shown}" if flaps else "")
    )


def no_events_dropped(m: Metrics, p: Enabled, scope: Scope) -> Judgement:
    n = m.events_dropped
    return n == 0, f"{n} notifications lost to a slow consumer (views may have missed transitions)"


def max_messages_per_node_per_s(m: Metrics, p: Limit, scope: Scope) -> Judgement:
    rate = m.load.messages_per_node_per_s
    return rate <= p.limit, f"{rate:.2f} messages per node per second (limit {p.limit})"


# The cluster manager's checks (a scenario needs a [manager] table to ask for them) ------------
@dataclass(frozen=True, kw_only=True)
class Share:
    limit: float = param(bound=AT_LEAST_0, doc="a fraction of the time, 0..1")


@dataclass(frozen=True, kw_only=True)
class Bound:
    limit: float = param(bound=AT_LEAST_0, doc="the bound (0 allowed)")


def _manager(m: Metrics) -> ManagerMetrics:
    assert m.manager is not None  # scenarios/schema.py refuses these checks without [manager]
    return m.manager


def no_split_brain(m: Metrics, p: Enabled, scope: Scope) -> Judgement:
    mm = _manager(m)
    return mm.split_brain_s == 0, (
        f"{mm.split_brain_s:.3f} s with two serving sides apart beyond the {mm.window_s:.1f} s window"
        + (f": {mm.split_brain[:3]}" if mm.split_brain else "")
    )


def min_availability(m: Metrics, p: Share, scope: Scope) -> Judgement:
    mm = _manager(m)
    if mm.availability is None:
        return None, "no time after warm-up to judge"
    return mm.availability >= p.limit, (
        f"a serving side held the quorum ({mm.quorum}) {mm.availability:.3f} of the time (limit {p.limit})"
    )


def min_survivors(m: Metrics, p: Bound, scope: Scope) -> Judgement:
    mm = _manager(m)
    return mm.survivors >= p.limit, f"{mm.survivors} nodes serve together at the end (limit {p.limit:g})"


def max_survivors(m: Metrics, p: Bound, scope: Scope) -> Judgement:
    mm = _manager(m)
    return mm.survivors <= p.limit, f"{mm.survivors} nodes serve together at the end (limit {p.limit:g})"


def max_decision_s(m: Metrics, p: Within, scope: Scope) -> Judgement:
    times = [round(d.first_s, 2) for d in _manager(m).decision_times if d.first_s is not None]
    if not times:
        return None, "no decision was taken"
    return max(times) <= p.within_s, f"first decisions {times} s after their faults (limit {p.within_s:g} s)"


def no_wrongly_downed(m: Metrics, p: Enabled, scope: Scope) -> Judgement:
    wrong = _manager(m).wrongly_downed
    return not wrong, f"{len(wrong)} members downed while up and unimpaired" + (
        f": {wrong[:10]}" if wrong else ""
    )


def max_manager_view_changes_per_node_hour(m: Metrics, p: Bound, scope: Scope) -> Judgement:
    rate = _manager(m).instability.manager_per_node_hour
    if rate is None:
        return None, "no node was up"
    return rate <= p.limit, f"{rate:.1f} application view changes per node-hour (limit {p.limit:g})"


def _row(
    name: str, params: type[Any], fn: Any, summary: str, shorthand: str | None = None
) -> tuple[str, CheckSpec]:
    return name, CheckSpec(name, params, fn, summary, shorthand)


CHECKS: Mapping[str, CheckSpec] = dict(
    [
        _row("no_false_positives", FalsePositiveCount, no_false_positives,
             "no false suspect or dead verdict (rule: reports/metrics/false_positives.py)"),
        _row("no_false_dead", FalsePositiveCount, no_false_dead, "no false dead verdict"),
        _row("max_false_positives_per_node_hour", FalsePositiveRate, max_false_positives_per_node_hour,
             "false verdicts per node-hour at most `limit`", "limit"),
        _row("all_crashed_detected_within", ScopedWithin, all_crashed_detected_within,
             "every crashed node dead in every up view within `within_s` (crashes that came back "
             "sooner are named, not judged)", "within_s"),
        _row("partition_detected_within", ScopedWithin, partition_detected_within,
             "each side of every partition holds the other dead within `within_s`", "within_s"),
        _row("views_agree_after_heal_within", HealWithin, views_agree_after_heal_within,
             "views agree, and stay agreed, within `within_s` of each heal", "within_s"),
        _row("back_in_views_within", ScopedWithin, back_in_views_within,
             "a restarted or healed node held up by every up node, and kept, within `within_s`",
             "within_s"),
        _row("converged_within", Within, converged_within, "bootstrap: views first agree by `within_s`",
             "within_s"),
        _row("views_agree_at_end", Enabled, views_agree_at_end,
             "every live view equals the live set at the end"),
        _row("no_node_stays_dead", GroupOnly, no_node_stays_dead,
             "no live node held down by anyone at the end"),
        _row("no_dead_verdicts", ScopedEnabled, no_dead_verdicts,
             "no dead verdict raised at all, deserved or not"),
        _row("no_flapping", ScopedEnabled, no_flapping,
             "no member held down by someone and then up again while it stayed up"),
        _row("no_events_dropped", Enabled, no_events_dropped, "no notification lost to a slow consumer"),
        _row("max_messages_per_node_per_s", Limit, max_messages_per_node_per_s, "load bound", "limit"),
        _row("no_split_brain", Enabled, no_split_brain, "never two serving sides apart beyond the window"),
        _row("min_availability", Share, min_availability,
             "a serving side holds the quorum at least this share of the time", "limit"),
        _row("min_survivors", Bound, min_survivors, "at least this many serve together at the end", "limit"),
        _row("max_survivors", Bound, max_survivors, "at most this many serve together at the end", "limit"),
        _row("max_decision_s", Within, max_decision_s, "every first decision within `within_s` of its fault",
             "within_s"),
        _row("no_wrongly_downed", Enabled, no_wrongly_downed, "no member downed while up and unimpaired"),
        _row("max_manager_view_changes_per_node_hour", Bound, max_manager_view_changes_per_node_hour,
             "application view changes per node-hour at most `limit`", "limit"),
    ]
)  # fmt: skip
"""name -> its row, in the order scenarios/README.md lists them."""

MANAGER_CHECKS = frozenset(
    {
        "no_split_brain",
        "min_availability",
        "min_survivors",
        "max_survivors",
        "max_decision_s",
        "no_wrongly_downed",
        "max_manager_view_changes_per_node_hour",
    }
)
"""Checks that read the manager's metrics: a scenario needs a [manager] table to ask for them."""


def request(name: str, value: Any = True, groups: Mapping[str, Iterable[str]] | None = None) -> CheckRequest:
    """A check as code asks for it: `value` is what a scenario's `[checks]` would hold (a bare
    true or number, or a table of parameters); `groups` resolves `group`. Unvalidated: files go
    through scenarios/schema.py, which names what is wrong."""
    spec = CHECKS[name]
    if isinstance(value, Mapping):
        params = spec.params(**value)
    elif spec.shorthand is None:
        params = spec.params()
    else:
        params = spec.params(**{spec.shorthand: float(value)})
    return CheckRequest(name, params, scope_of(params, groups or {}), bare=not isinstance(value, Mapping))


def scope_of(params: Any, groups: Mapping[str, Iterable[str]]) -> Scope:
    group = getattr(params, "group", None)
    to_s = getattr(params, "to_s", None)
    return Scope(
        nodes=None if group is None else frozenset(groups[group]),
        from_s=getattr(params, "from_s", 0.0),
        to_s=math.inf if to_s is None else to_s,
    )


def run_checks(metrics: Metrics, requested: Iterable[CheckRequest]) -> list[CheckResult]:
    results = []
    for req in requested:
        ok, detail = CHECKS[req.name].fn(metrics, req.params, req.scope)
        results.append(CheckResult(req.label, ok, detail))
    return results


# Verdicts -------------------------------------------------------------------------------------
def verdict(results: Sequence[CheckResult]) -> Verdict:
    if any(r.ok is False for r in results):
        return "invalid"
    if any(r.ok is None for r in results):
        return "unknown"
    return "valid"


def verdict_reason(results: Sequence[CheckResult]) -> str:
    """Why the verdict is what it is, in a few words: shown beside it everywhere."""
    if not results:
        return "no checks"
    failed = [r.name for r in results if r.ok is False]
    if failed:
        return "failed: " + ", ".join(failed)
    unknown = [f"{r.name}: {r.detail}" for r in results if r.ok is None]
    if unknown:
        return "could not judge " + "; ".join(unknown)
    return f"{len(results)} checks passed" if len(results) > 1 else "1 check passed"


def sweep_verdict(points: Sequence[SweepPoint]) -> SweepVerdicts:
    counts = {"valid": 0, "invalid": 0, "unknown": 0, "error": 0}
    for p in points:
        counts["error" if p.status != "ok" or p.verdict is None else p.verdict] += 1
    worst = next(v for v in ("error", "invalid", "unknown", "valid") if counts[v] or v == "valid")
    return SweepVerdicts(
        verdict=worst,  # type: ignore[arg-type]
        valid=counts["valid"],
        invalid=counts["invalid"],
        unknown=counts["unknown"],
        error=counts["error"],
    )


EXIT_CODES: Mapping[str, int] = {"valid": 0, "invalid": 1, "unknown": 2, "error": 2}
"""A run's or a sweep's verdict -> the CLI's exit code."""
