"""Named invariant checks a scenario asks for, evaluated on computed metrics.

Each check takes the run's `Metrics` (swimlab.reports.schema) and the scenario's parameter and
returns `(ok, detail)`; `detail` says what was measured, so a failed verdict explains itself.
`None` from a check means it could not be decided (the verdict is then `unknown`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .schema import CheckResult, ManagerMetrics, Metrics, Verdict

__all__ = ["CHECKS", "MANAGER_CHECKS", "CheckResult", "run_checks", "verdict"]

CheckFn = Callable[[Metrics, Any], tuple[bool | None, str]]


def no_false_positives(m: Metrics, enabled: bool) -> tuple[bool | None, str]:
    fp = m.false_positives
    n = fp.suspect + fp.dead
    return (
        n == 0 or not enabled,
        f"{fp.suspect} suspect and {fp.dead} dead verdicts about live, unimpaired nodes",
    )


def no_false_dead(m: Metrics, enabled: bool) -> tuple[bool | None, str]:
    """No healthy member holds a live, unimpaired member dead (an impaired observer's own
    mistaken view, e.g. a lossy node that missed a refutation, is reported, not failed)."""
    fp = m.false_positives
    wrong = fp.healthy_observers.dead
    return wrong == 0 or not enabled, (
        f"{wrong} dead verdicts about live, unimpaired nodes held by healthy members "
        f"({fp.dead} counting impaired observers)"
    )


def max_false_positives_per_node_hour(m: Metrics, limit: float) -> tuple[bool | None, str]:
    rate = m.false_positives.per_node_hour
    total = (rate.suspect or 0.0) + (rate.dead or 0.0)
    return total <= limit, f"{total:.3f} suspect+dead verdicts per node-hour (limit {limit})"


def all_crashed_detected_within(m: Metrics, limit_s: float) -> tuple[bool | None, str]:
    episodes = [e for e in m.detection if e.restarted_s is None or e.restarted_s > limit_s]
    if not episodes:
        return None, "no crash stayed down long enough to judge"
    late = [e for e in episodes if e.dead_everywhere_s is None or e.dead_everywhere_s > limit_s]
    worst = max((e.dead_everywhere_s for e in episodes if e.dead_everywhere_s is not None), default=None)
    return not late, (
        f"{len(episodes) - len(late)}/{len(episodes)} crashed nodes dead everywhere "
        f"within {limit_s} s (slowest {worst} s)"
    )


def views_agree_after_heal_within(m: Metrics, limit_s: float) -> tuple[bool | None, str]:
    heals = m.heal
    if not heals:
        return None, "no heal happened"
    bad = [h for h in heals if h is None or h > limit_s]
    return not bad, f"views agreed {heals} s after each heal (limit {limit_s} s)"


def converged_within(m: Metrics, limit_s: float) -> tuple[bool | None, str]:
    t = m.first_converged_s
    return (
        t is not None and t <= limit_s,
        f"every live view first matched the live set at {t} s (limit {limit_s} s)",
    )


def views_agree_at_end(m: Metrics, enabled: bool) -> tuple[bool | None, str]:
    n = m.disagreeing_pairs_at_end
    return n == 0 or not enabled, f"{n} (observer, member) pairs disagree with the truth at the end"


def no_node_stays_dead(m: Metrics, enabled: bool) -> tuple[bool | None, str]:
    stuck = m.stays_dead
    return not stuck or not enabled, (
        f"{len(stuck)} live nodes still considered down by someone at the end"
        + (f": {stuck[:10]}" if stuck else "")
    )


def max_messages_per_node_per_s(m: Metrics, limit: float) -> tuple[bool | None, str]:
    rate = m.load.messages_per_node_per_s
    return rate <= limit, f"{rate:.2f} messages per node per second (limit {limit})"


def _manager(m: Metrics) -> ManagerMetrics:
    assert m.manager is not None  # schema.py refuses these checks without [manager]
    return m.manager


def no_split_brain(m: Metrics, enabled: bool) -> tuple[bool | None, str]:
    mm = _manager(m)
    return mm.split_brain_s == 0 or not enabled, (
        f"{mm.split_brain_s:.3f} s with two serving sides apart beyond the {mm.window_s:.1f} s window"
        + (f": {mm.split_brain[:3]}" if mm.split_brain else "")
    )


def min_availability(m: Metrics, limit: float) -> tuple[bool | None, str]:
    mm = _manager(m)
    if mm.availability is None:
        return None, "no time after warm-up to judge"
    return mm.availability >= limit, (
        f"a serving side held the quorum ({mm.quorum}) {mm.availability:.3f} of the time (limit {limit})"
    )


def min_survivors(m: Metrics, limit: float) -> tuple[bool | None, str]:
    mm = _manager(m)
    return mm.survivors >= limit, f"{mm.survivors} nodes serve together at the end (limit {limit:g})"


def max_survivors(m: Metrics, limit: float) -> tuple[bool | None, str]:
    mm = _manager(m)
    return mm.survivors <= limit, f"{mm.survivors} nodes serve together at the end (limit {limit:g})"


def max_decision_s(m: Metrics, limit: float) -> tuple[bool | None, str]:
    times = [d.first_s for d in _manager(m).decision_times if d.first_s is not None]
    if not times:
        return None, "no decision was taken"
    return max(times) <= limit, f"first decisions {times} s after their faults (limit {limit} s)"


def no_wrongly_downed(m: Metrics, enabled: bool) -> tuple[bool | None, str]:
    wrong = _manager(m).wrongly_downed
    return not wrong or not enabled, f"{len(wrong)} members downed while up and unimpaired" + (
        f": {wrong[:10]}" if wrong else ""
    )


def max_manager_view_changes_per_node_hour(m: Metrics, limit: float) -> tuple[bool | None, str]:
    rate = _manager(m).instability.manager_per_node_hour
    if rate is None:
        return None, "no node was up"
    return rate <= limit, f"{rate:.1f} application view changes per node-hour (limit {limit})"


CHECKS: dict[str, tuple[type, CheckFn, str]] = {
    "no_false_positives": (
        bool,
        no_false_positives,
        "no suspect/dead verdict about a live, unimpaired node",
    ),
    "no_false_dead": (bool, no_false_dead, "no healthy member holds a live, unimpaired node dead"),
    "max_false_positives_per_node_hour": (
        float,
        max_false_positives_per_node_hour,
        "false-positive rate bound",
    ),
    "all_crashed_detected_within": (
        float,
        all_crashed_detected_within,
        "every crash dead everywhere within S s",
    ),
    "views_agree_after_heal_within": (
        float,
        views_agree_after_heal_within,
        "views match the live set within S s of each heal",
    ),
    "converged_within": (float, converged_within, "views first match the live set by S s"),
    "views_agree_at_end": (
        bool,
        views_agree_at_end,
        "every live view equals the live set at the end",
    ),
    "no_node_stays_dead": (
        bool,
        no_node_stays_dead,
        "no live node considered down by anyone at the end",
    ),
    "max_messages_per_node_per_s": (float, max_messages_per_node_per_s, "load bound"),
    "no_split_brain": (bool, no_split_brain, "never two serving sides apart beyond the window"),
    "min_availability": (float, min_availability, "a serving side holds the quorum at least this often"),
    "min_survivors": (float, min_survivors, "at least this many serve together at the end"),
    "max_survivors": (float, max_survivors, "at most this many serve together at the end"),
    "max_decision_s": (float, max_decision_s, "every first decision within S s of its fault"),
    "no_wrongly_downed": (bool, no_wrongly_downed, "no member downed while up and unimpaired"),
    "max_manager_view_changes_per_node_hour": (
        float,
        max_manager_view_changes_per_node_hour,
        "application view changes bound",
    ),
}
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
"""name -> (parameter type, function, one-line description)."""


def run_checks(metrics: Metrics, requested: Mapping[str, Any]) -> list[CheckResult]:
    results = []
    for name, param in requested.items():
        _, fn, _ = CHECKS[name]
        ok, detail = fn(metrics, param)
        results.append(CheckResult(name, ok, detail))
    return results


def verdict(results: list[CheckResult]) -> Verdict:
    if any(r.ok is False for r in results):
        return "invalid"
    if any(r.ok is None for r in results):
        return "unknown"
    return "valid"
