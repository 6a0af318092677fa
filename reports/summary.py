"""The flat numbers of one run that sweeps tabulate and plot against swept parameters.

`summarize(result)` turns a run's `RunResult` (what `result.json` holds) into
`{name: number or None}`; `SUMMARY_METRICS` describes each name (label, unit) for tables and
axis labels. Times measured per crash are the median over the run's crashes; "periods" divide by
the run's probe interval so runs with different presets compare (SWIM's analysis is in protocol periods).
"After warm-up" starts at `Metrics.warmup_end_s` (the later of the scenario's warm-up and the
bootstrap's end; reports/metrics/views.py).

False-positive rates are the false_positives observer's own (rule and counts:
reports/metrics/false_positives.py), about healthy members, so a lossy or slow member's own
suspicions do not swamp the rate of verdicts about the others (Lifeguard's measure).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from .schema import Metrics, RunResult

SUMMARY_METRICS: dict[str, str] = {
    "first_suspect_s": "first suspicion after a crash (s, median over crashes)",
    "first_suspect_periods": "first suspicion after a crash (protocol periods)",
    "first_dead_s": "first dead verdict after a crash (s)",
    "dead_everywhere_s": "dead everywhere after a crash (s)",
    "suspicion_t99_s": "suspicion reaches 99% of live nodes (s after the first suspicion)",
    "dissemination_t99_s": "dead verdict held by 99% of live nodes (s after the first one)",
    "dead_by_timer_share": "share of dead verdicts raised by the observer's own suspicion timer",
    "fp_suspect_per_node_hour": "false suspicions heard per node-hour (about healthy members)",
    "fp_dead_per_node_hour": "false dead verdicts heard per node-hour (about healthy members)",
    "fp_originated_suspect_per_node_hour": "false suspicions raised per node-hour (about healthy members)",
    "fp_originated_dead_per_node_hour": "false dead verdicts raised per node-hour (about healthy members)",
    "fp_healthy_suspect_per_node_hour": "false suspicions raised by healthy nodes per node-hour",
    "fp_healthy_dead_per_node_hour": "false dead verdicts raised by healthy nodes per node-hour",
    "post_heal_false_deaths": "false dead verdicts raised after a heal (suspicion outlived the cut)",
    "messages_per_node_per_s": "messages per node per second (mean)",
    "messages_per_node_per_s_p99": "messages per node per second (p99 over nodes)",
    "messages_per_node_per_s_max": "messages per node per second (max over nodes)",
    "bytes_per_node_per_s": "bytes per node per second (mean)",
    "max_distinct_views": "most distinct membership views after warm-up",
    "view_changes_per_node_hour": "view changes per live node-hour after warm-up",
    "heal_converged_s": "views agree and stay agreed after a heal (s, worst heal)",
    "partition_detected_s": "each side of a partition drops the other (s, worst partition)",
    "first_converged_s": "bootstrap: views first agree (s)",
    "valid": "verdict valid (1) or not (0)",
    "split_brain_s": "split brain: two serving sides apart beyond the window (s)",
    "availability": "fraction of the time a serving side held a majority",
    "served": "fraction of the time some side served",
    "survivors": "nodes serving together at the end",
    "decision_s": "first downing decision after a fault (s, median over faults)",
    "wrongly_downed": "members downed while no fault affected them",
    "swim_view_changes_per_node_hour": "SWIM view changes per node-hour (members in or out)",
    "manager_view_changes_per_node_hour": "manager's application view changes per node-hour",
}
MANAGER_METRICS = (
    "split_brain_s",
    "availability",
    "served",
    "survivors",
    "decision_s",
    "wrongly_downed",
    "swim_view_changes_per_node_hour",
    "manager_view_changes_per_node_hour",
)
"""The summary metrics only a run with a [manager] has (absent from the others' summaries)."""


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 6) if present else None


def view_changes_per_node_hour(m: Metrics) -> float | None:
    """Instability: view flips per node-hour of up-time over the samples after warm-up."""
    start = m.warmup_end_s
    v = m.views
    if start is None:
        return None
    flips = 0
    node_s = 0.0
    for k in range(1, len(v.t)):
        if v.t[k - 1] >= start:
            flips += v.changes[k]
            node_s += v.live[k - 1] * (v.t[k] - v.t[k - 1])
    return round(flips / node_s * 3600.0, 6) if node_s > 0 else None


def _worst(values: list[float | None]) -> float | None:
    """The largest, or None if there is none or one never happened."""
    if not values or any(v is None for v in values):
        return None
    return max(v for v in values if v is not None)


def summarize(result: RunResult) -> dict[str, float | None]:
    m = result.metrics
    period = result.config.get("probe_interval_s")
    first_suspect = _median([d.first_suspect_s for d in m.detection])
    fp = m.false_positives.about_healthy
    per_node = m.load.per_node.messages_per_s
    heals = [r.converged_s for r in m.recoveries if r.op == "heal"]
    detected = [p.detected_s for p in m.partitions]
    return {
        "first_suspect_s": first_suspect,
        "first_suspect_periods": None
        if first_suspect is None or not period
        else round(first_suspect / period, 6),
        "first_dead_s": _median([d.first_dead_s for d in m.detection]),
        "dead_everywhere_s": _median([d.dead_everywhere_s for d in m.detection]),
        "suspicion_t99_s": _median([d.suspect_t99_s for d in m.dissemination]),
        "dissemination_t99_s": _median([d.dead_t99_s for d in m.dissemination]),
        "dead_by_timer_share": _median(
            [len(d.dead_by_timer_s) / len(d.dead_informed_s) for d in m.dissemination if d.dead_informed_s]
        ),
        "fp_suspect_per_node_hour": fp.heard.suspect_per_node_hour,
        "fp_dead_per_node_hour": fp.heard.dead_per_node_hour,
        "fp_originated_suspect_per_node_hour": fp.raised.suspect_per_node_hour,
        "fp_originated_dead_per_node_hour": fp.raised.dead_per_node_hour,
        "fp_healthy_suspect_per_node_hour": fp.raised_by_healthy.suspect_per_node_hour,
        "fp_healthy_dead_per_node_hour": fp.raised_by_healthy.dead_per_node_hour,
        "post_heal_false_deaths": float(m.false_positives.post_heal_deaths.raised),
        "messages_per_node_per_s": m.load.messages_per_node_per_s,
        "messages_per_node_per_s_p99": None if per_node is None else per_node.p99,
        "messages_per_node_per_s_max": None if per_node is None else per_node.max,
        "bytes_per_node_per_s": m.load.bytes_per_node_per_s,
        "max_distinct_views": m.max_distinct_views,
        "view_changes_per_node_hour": view_changes_per_node_hour(m),
        "heal_converged_s": _worst(heals),
        "partition_detected_s": _worst(detected),
        "first_converged_s": m.first_converged_s,
        "valid": 1.0 if result.verdict == "valid" else 0.0,
        **_manager_summary(result),
    }


def _manager_summary(result: RunResult) -> dict[str, float | None]:
    mm = result.metrics.manager
    if mm is None:
        return {}
    return {
        "split_brain_s": mm.split_brain_s,
        "availability": mm.availability,
        "served": mm.served,
        "survivors": float(mm.survivors),
        "decision_s": _median([d.first_s for d in mm.decision_times]),
        "wrongly_downed": float(len(mm.wrongly_downed)),
        "swim_view_changes_per_node_hour": mm.instability.swim_per_node_hour,
        "manager_view_changes_per_node_hour": mm.instability.manager_per_node_hour,
    }


# What a sweep plots when neither its scenario nor --metrics names the metrics: what its faults
# test. Load is always last: every design trades it.
_DETECTION = ["first_suspect_periods", "first_dead_s", "dead_everywhere_s", "suspicion_t99_s"]
_FALSE_POSITIVES = [
    "fp_originated_suspect_per_node_hour",
    "fp_healthy_suspect_per_node_hour",
    "fp_healthy_dead_per_node_hour",
]
_INSTABILITY = ["view_changes_per_node_hour", "max_distinct_views"]
_METRICS_OF_OP: dict[str, list[str]] = {
    "crash": _DETECTION,
    "churn": [*_DETECTION, *_INSTABILITY],
    "flip_flop": [*_INSTABILITY, *_FALSE_POSITIVES],
    "mass_restart": _INSTABILITY,
    "rolling_restart": _INSTABILITY,
    "partition": ["heal_converged_s", "max_distinct_views"],
    "heal": ["heal_converged_s"],
    **{
        op: _FALSE_POSITIVES
        for op in ("loss", "slow", "pause", "latency", "duplicate", "ingress_drop", "clock")
    },
}


def default_metrics(ops: Iterable[str], loss: float = 0.0, bootstrap: bool = False) -> list[str]:
    """The summary metrics that fit a scenario with fault operations `ops`, uniform `loss` and
    (`bootstrap`) nodes that join rather than start formed, in a stable order."""
    chosen: list[str] = []
    ops = list(ops)
    for op in ops:
        chosen += _METRICS_OF_OP.get(op, [])
    if loss > 0 or not ops:
        chosen += _FALSE_POSITIVES
    if bootstrap and not ops:
        chosen.insert(0, "first_converged_s")
    chosen.append("messages_per_node_per_s")
    return list(dict.fromkeys(chosen))
