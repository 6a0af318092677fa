"""The flat numbers of one run that sweeps tabulate and plot against swept parameters.

`summarize(result)` turns a run's `RunResult` (what `result.json` holds) into
`{name: number or None}`; `SUMMARY_METRICS` describes each name (label, unit) for tables and
axis labels. Times measured per crash are the median over the run's crashes; "periods" divide by
the run's probe interval so runs with different presets compare (SWIM's analysis is in protocol periods).
"""

from __future__ import annotations

import statistics

from .schema import RunResult

SUMMARY_METRICS: dict[str, str] = {
    "first_suspect_s": "first suspicion after a crash (s, median over crashes)",
    "first_suspect_periods": "first suspicion after a crash (protocol periods)",
    "first_dead_s": "first dead verdict after a crash (s)",
    "dead_everywhere_s": "dead everywhere after a crash (s)",
    "dissemination_t99_s": "dead news reaches 99% of live nodes (s after first dead)",
    "fp_suspect_per_node_hour": "false suspicions heard per node-hour",
    "fp_dead_per_node_hour": "false dead verdicts heard per node-hour",
    "fp_originated_suspect_per_node_hour": "false suspicions raised per node-hour",
    "fp_healthy_suspect_per_node_hour": "false suspicions raised by healthy nodes per node-hour",
    "fp_healthy_dead_per_node_hour": "false dead verdicts by healthy nodes per node-hour",
    "messages_per_node_per_s": "messages per node per second (mean)",
    "messages_per_node_per_s_p99": "messages per node per second (p99 over nodes)",
    "messages_per_node_per_s_max": "messages per node per second (max over nodes)",
    "bytes_per_node_per_s": "bytes per node per second (mean)",
    "max_distinct_views": "most distinct membership views after warm-up",
    "heal_converged_s": "views agree after heal (s, worst heal)",
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


def summarize(result: RunResult) -> dict[str, float | None]:
    m = result.metrics
    period = result.config.get("probe_interval_s")
    first_suspect = _median([d.first_suspect_s for d in m.detection])
    fp = m.false_positives
    node_hours = m.node_hours
    per_node = m.load.per_node.messages_per_s
    heals = m.heal
    return {
        "first_suspect_s": first_suspect,
        "first_suspect_periods": None
        if first_suspect is None or not period
        else round(first_suspect / period, 6),
        "first_dead_s": _median([d.first_dead_s for d in m.detection]),
        "dead_everywhere_s": _median([d.dead_everywhere_s for d in m.detection]),
        "dissemination_t99_s": _median([d.dead_t99_s for d in m.dissemination]),
        "fp_suspect_per_node_hour": fp.per_node_hour.suspect,
        "fp_dead_per_node_hour": fp.per_node_hour.dead,
        "fp_originated_suspect_per_node_hour": round(fp.originated.suspect / node_hours, 6)
        if node_hours
        else None,
        "fp_healthy_suspect_per_node_hour": fp.healthy_accusers.per_node_hour.suspect,
        "fp_healthy_dead_per_node_hour": fp.healthy_accusers.per_node_hour.dead,
        "messages_per_node_per_s": m.load.messages_per_node_per_s,
        "messages_per_node_per_s_p99": None if per_node is None else per_node.p99,
        "messages_per_node_per_s_max": None if per_node is None else per_node.max,
        "bytes_per_node_per_s": m.load.bytes_per_node_per_s,
        "max_distinct_views": m.max_distinct_views,
        "heal_converged_s": None
        if not heals or any(h is None for h in heals)
        else max(h for h in heals if h is not None),
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
