"""The flat numbers of one run that sweeps tabulate and plot against swept parameters.

`summarize(result)` turns a run's `RunResult` (what `result.json` holds) into
`{name: number or None}`; `SUMMARY_METRICS` describes each name (label, unit) for tables and
axis labels. Times measured per crash are the median over the run's crashes; "periods" divide by
the run's probe interval so runs with different presets compare (SWIM's analysis is in protocol periods).
False-positive rates are the false_positives observer's own (rule and counts:
reports/metrics/false_positives.py), about healthy members, so a lossy or slow member's own
suspicions do not swamp the rate of verdicts about the others (Lifeguard's measure).
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
    "heal_converged_s": "views agree and stay agreed after a heal (s, worst heal)",
    "partition_detected_s": "each side of a partition drops the other (s, worst partition)",
    "first_converged_s": "bootstrap: views first agree (s)",
    "valid": "verdict valid (1) or not (0)",
}


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 6) if present else None


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
        "dissemination_t99_s": _median([d.dead_t99_s for d in m.dissemination]),
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
        "heal_converged_s": _worst(heals),
        "partition_detected_s": _worst(detected),
        "first_converged_s": m.first_converged_s,
        "valid": 1.0 if result.verdict == "valid" else 0.0,
    }
