"""Render a run folder or a sweep folder from its saved results: figures, `plots.json`, index.html.

`render(folder)` is what `swimlab report DIR` calls, and what a run or a sweep calls when it
ends; it reads only `result.json` + `series.json` (a run) or `sweep.json` and the points' run
folders (a sweep), never the trace, so re-rendering a 2 GB trace folder takes a second.
`plots.json` records, per figure, the arrays it drew and its caption.

What a page shows follows what the run did (the rules live here):
- the crash figures when something crashed, the re-merge figure when a partition healed, the
  instability figure when the scenario churns, flip-flops or restarts nodes; a figure with
  nothing to show is not drawn, and the page says why;
- the metrics table lists the numbers that mean something for this run (no detection times
  without a crash, no heal time without a heal), each with a one-line definition.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import html, plots
from .html import Figure, Row
from .schema import (
    RunResult,
    SchemaError,
    Sweep,
    SweepPoint,
    read_result,
    read_series,
    read_sweep,
)
from .summary import summarize
from .timeline import fault_spans, scenario_ops

INSTABLE_OPS = ("churn", "flip_flop", "rolling_restart", "mass_restart")  # the instability figure
POINTS_DIR = "points"  # a sweep's run folders: points/<id>/ (result.json, index.html)


class ReportError(ValueError):
    """The folder holds neither a run nor a sweep, or a result file this swimlab cannot read."""


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def config_label(preset: str | None, overrides: Mapping[str, Any] | None) -> str:
    extra = ", ".join(f"{k}={v}" for k, v in (overrides or {}).items())
    return f"{preset or '?'}" + (f" + {extra}" if extra else "")


def run_title(result: RunResult) -> str:
    return (
        f"{result.scenario} · N={result.nodes} · seed {result.seed} · "
        f"{config_label(result.preset, result.config_overrides)}"
    )


def render(folder: str | Path) -> Path:
    """Re-render whatever `folder` holds; returns its index.html."""
    folder = Path(folder)
    try:
        if (folder / "sweep.json").exists():
            return render_sweep(folder)
        if (folder / "result.json").exists():
            return render_run(folder)
    except SchemaError as exc:
        raise ReportError(str(exc)) from None
    raise ReportError(f"{folder}: no result.json (a run) or sweep.json (a sweep) here")


# A run ----------------------------------------------------------------------------------------
def _add(
    drawn: dict[str, Any], figures: list[Figure], name: str, data: dict[str, Any] | None, title: str
) -> bool:
    if data is None:
        return False
    drawn[name] = data
    figures.append(Figure(data["files"], data["caption"], title))
    return True


def render_run(folder: str | Path, back: str | None = None) -> Path:
    """Figures, plots.json and index.html of a run folder; `back` links the page to its sweep."""
    folder = Path(folder)
    result = read_result(folder / "result.json")
    title = run_title(result)
    m = result.metrics
    spans = fault_spans(result)
    ops = scenario_ops(result)
    summary = summarize(result)
    drawn: dict[str, Any] = {}
    figures: list[Figure] = []
    notes: list[str] = []
    if m.detection:
        if not _add(
            drawn,
            figures,
            "convergence",
            plots.convergence(result, folder / "convergence", title, spans),
            "How the news of each crash spread",
        ):
            notes.append("crash convergence — no crashed node was suspected before the run ended.")
        undetected = [d.node for d in m.detection if d.first_suspect_s is None]
        if undetected and len(undetected) < len(m.detection):
            notes.append(f"convergence of {', '.join(undetected)} — not suspected before the run ended.")
        if not _add(
            drawn,
            figures,
            "detection_cdf",
            plots.detection_cdf(m.detection, folder / "detection_cdf", title),
            "Detection latency, all crashes",
        ):
            notes.append("detection CDF — a single crash; its latencies are in the Crashes table.")
    else:
        notes.append("crash figures — nothing crashed in this run.")
    if m.heal_s():
        _add(
            drawn,
            figures,
            "remerge",
            plots.remerge(result, spans, folder / "remerge", title),
            "Re-merge after each heal",
        )
    if ops & set(INSTABLE_OPS):
        _add(
            drawn,
            figures,
            "instability",
            plots.instability(
                m.views,
                spans,
                m.warmup_end_s,
                summary["view_changes_per_node_hour"],
                folder / "instability",
                title,
            ),
            "Instability: view changes over time",
        )
    if (folder / "series.json").exists():
        series = read_series(folder / "series.json")
        _add(
            drawn,
            figures,
            "view_sizes",
            plots.view_sizes(series, spans, folder / "view_sizes", title),
            "View size per node and distinct views",
        )
    else:
        notes.append("view sizes — this folder has no series.json (a sweep point keeps only its result).")
    _write_json(folder / "plots.json", drawn)
    files = _run_files(folder, drawn)
    page = html.run_page(
        folder,
        result,
        title,
        result.command,
        spans,
        run_metrics(result, summary),
        figures,
        notes,
        files,
        back,
    )
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _run_files(folder: Path, drawn: Mapping[str, Any]) -> list[tuple[list[str], str]]:
    described = [
        (
            "result.json",
            "verdict, checks, metrics, fault timeline, configuration (schema: reports/schema.py)",
        ),
        ("series.json", "per-node view sizes at each sample, fault intervals"),
        ("trace.jsonl", "every record of the run, one JSON object per line"),
        ("plots.json", "the arrays each figure drew, and its caption"),
    ]
    files = []
    for name, what in described:
        if (folder / name).exists():
            size = (folder / name).stat().st_size
            files.append(([name], f"{what} ({size / 1e6:.1f} MB)" if size > 1e6 else what))
    return files + _figure_files(drawn)


def _figure_files(drawn: Mapping[str, Any]) -> list[tuple[list[str], str]]:
    return [(list(data["files"]), "figure: bitmap, vector") for data in drawn.values()]


FP_DEFINITIONS = {
    "heard": "a false verdict counted once per node that held it: one accusation heard by N nodes counts N",
    "raised": "a false accusation counted once, at the node that raised it",
    "raised by healthy nodes": "raised by an accuser itself up, unimpaired and clear of faults "
    "(Lifeguard's measure)",
    "post-heal": "a false death whose accuser could not reach the member at some point while it "
    "suspected it: the suspicion outlived a cut the member never heard of",
}


def run_metrics(result: RunResult, summary: Mapping[str, float | None]) -> list[Row]:
    """The metrics that mean something for this run, grouped, each with its definition."""
    m = result.metrics
    rows: list[Row] = []
    crashes = m.detection
    if crashes:
        s = "Crash detection (median over crashes)" if len(crashes) > 1 else "Crash detection"
        period = result.config.get("probe_interval_s")
        rows += [
            Row(s, "crashes", len(crashes), "nodes that crashed (the Crashes table lists each)"),
            Row(
                s,
                "first suspicion (s after the crash)",
                summary["first_suspect_s"],
                f"some node suspects it; SWIM expects about 2.08 periods of T′ = {period} s",
            ),
            Row(s, "first dead verdict (s)", summary["first_dead_s"], "some node's suspicion timer expired"),
            Row(
                s, "dead everywhere (s)", summary["dead_everywhere_s"], "no live node holds it alive any more"
            ),
            Row(
                s,
                "suspicion reaches 99% (s after the first suspicion)",
                summary["suspicion_t99_s"],
                "of the nodes live at that instant: the gossip part of detection",
            ),
            Row(
                s,
                "dead held by 99% (s after the first dead verdict)",
                summary["dissemination_t99_s"],
                "timers and gossip together",
            ),
            Row(
                s,
                "share of dead verdicts from the observer's own timer",
                summary["dead_by_timer_share"],
                "the rest were learned from others",
            ),
        ]
    if m.heal_s():
        s = "Re-merge after each heal"
        for k, h in enumerate(m.heal_s()):
            label = (
                "views re-merge after the heal (s)"
                if len(m.heal_s()) == 1
                else f"views re-merge after heal {k + 1} (s)"
            )
            rows.append(
                Row(
                    s,
                    label,
                    "never" if h is None else round(h, 3),
                    "until every live view is the live set again",
                )
            )
    if scenario_ops(result) & set(INSTABLE_OPS):
        s = "Instability"
        rows.append(
            Row(
                s,
                "view changes per node-hour after warm-up",
                summary["view_changes_per_node_hour"],
                "one node's view of one member flipping, up to down or back",
            )
        )
    fp = m.false_positives
    s = (
        "False positives (accusations the link state does not justify; rule: "
        "reports/metrics/false_positives.py)"
    )
    anyone, healthy = fp.about_any, fp.about_healthy
    rows += [
        Row(s, "suspicions heard", anyone.heard.suspect, FP_DEFINITIONS["heard"]),
        Row(s, "dead verdicts heard", anyone.heard.dead, FP_DEFINITIONS["heard"]),
        Row(s, "suspicions raised", anyone.raised.suspect, FP_DEFINITIONS["raised"]),
        Row(s, "dead verdicts raised", anyone.raised.dead, FP_DEFINITIONS["raised"]),
        Row(
            s,
            "suspicions raised by healthy nodes",
            anyone.raised_by_healthy.suspect,
            FP_DEFINITIONS["raised by healthy nodes"],
        ),
        Row(
            s,
            "dead verdicts raised by healthy nodes",
            anyone.raised_by_healthy.dead,
            FP_DEFINITIONS["raised by healthy nodes"],
        ),
        Row(
            s,
            "post-heal false deaths raised",
            fp.post_heal_deaths.raised,
            FP_DEFINITIONS["post-heal"],
        ),
        Row(
            s,
            "suspicions about healthy members raised per node-hour",
            healthy.raised.suspect_per_node_hour,
            "raised, about members no fault acted on, over the up-time of all nodes",
        ),
    ]
    s = "Membership views"
    warm = m.warmup_end_s
    after = "never: the bootstrap never converged" if warm is None else f"from {warm:.1f} s"
    rows += [
        Row(
            s,
            "after warm-up",
            after,
            "the later of the scenario's warmup_s and the bootstrap's first full agreement",
        )
    ]
    if warm is not None:
        rows.append(
            Row(
                s,
                "most distinct views after warm-up",
                m.max_distinct_views,
                "1: every live node holds the same view",
            )
        )
    if result.effective_scenario.get("cluster", {}).get("start", "join") != "formed":
        rows.append(
            Row(
                s,
                "bootstrap: views first agree (s)",
                m.first_converged_s,
                "every initial node up and every view complete",
            )
        )
    rows += [
        Row(s, "views agree at the end", m.converged_at_end, "every live view is exactly the live set"),
        Row(s, "(observer, member) pairs wrong at the end", m.disagreeing_pairs_at_end, "0 when views agree"),
    ]
    if m.stays_dead:
        rows.append(Row(s, "live nodes someone holds down at the end", ", ".join(m.stays_dead), ""))
    s = "Load"
    per_node = m.load.per_node.messages_per_s
    rows += [
        Row(
            s,
            "messages per node per second",
            m.load.messages_per_node_per_s,
            "sent, over each node's up-time",
        ),
        Row(s, "bytes per node per second", m.load.bytes_per_node_per_s, "sent"),
    ]
    if per_node is not None:
        rows.append(
            Row(
                s,
                "messages per node per second, p99 / max over nodes",
                f"{html.fmt(per_node.p99)} / {html.fmt(per_node.max)}",
                "the busiest nodes",
            )
        )
    dropped = sum(m.load.messages_dropped.values())
    if dropped:
        reasons = ", ".join(f"{k} {v:,}" for k, v in m.load.messages_dropped.items())
        rows.append(Row(s, "messages dropped", dropped, reasons))
    s = "Run"
    rows += [
        Row(s, "simulated duration (s)", result.duration_s, ""),
        Row(s, "node-hours", m.node_hours, "up-time summed over nodes"),
        Row(s, "kernel events", m.events, ""),
        Row(s, "wall time (s)", m.wall_s, "on the machine that ran it"),
    ]
    if m.events_dropped:
        rows.append(
            Row(s, "notifications dropped by a slow consumer", m.events_dropped, "views may miss transitions")
        )
    return rows


# A sweep --------------------------------------------------------------------------------------
def _group_key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)


def sweep_table(sweep: Sweep, metrics: list[str]) -> tuple[list[list[Any]], list[str]]:
    """One row per grid point: its parameters, seeds ok/total, valid/ok, the median of each metric."""
    keys = list(sweep.grid)
    groups: dict[str, list[SweepPoint]] = {}
    for p in sweep.points:
        groups.setdefault(_group_key(p.params), []).append(p)
    rows = []
    for members in groups.values():
        ok = [p for p in members if p.status == "ok"]
        row: list[Any] = [members[0].params.get(k) for k in keys]
        row.append(f"{len(ok)}/{len(members)}")
        row.append(f"{sum(1 for p in ok if p.verdict == 'valid')}/{len(ok)}")
        for metric in metrics:
            values = [v for p in ok if (v := (p.summary or {}).get(metric)) is not None]
            row.append(round(statistics.median(values), 6) if values else None)
        rows.append(row)
    return rows, [*keys, "seeds ran", "valid", *(plots.metric_label(k) for k in metrics)]


def points_table(
    sweep: Sweep, folder: Path, metrics: list[str]
) -> tuple[list[list[Any]], list[str], list[int]]:
    """Every point: parameters, seed, verdict, failed checks, its value of each metric, links."""
    keys = list(sweep.grid)
    rows = []
    for p in sweep.points:
        run = f"{POINTS_DIR}/{p.id}"
        links = [html.link(f"{POINTS_DIR}/{p.id}.json", "record")]
        if (folder / run / "result.json").exists():
            links.append(html.link(f"{run}/result.json", "result"))
        if (folder / run / "index.html").exists():
            links.append(html.link(f"{run}/index.html", "page"))
        failing = ", ".join(c.name for c in p.checks or () if c.ok is False) or (
            "" if p.status == "ok" else p.error or ""
        )
        row: list[Any] = [p.params.get(k) for k in keys]
        row += [p.seed, p.verdict or p.status, failing]
        row += [(p.summary or {}).get(k) for k in metrics]
        row.append(" · ".join(links))
        rows.append(row)
    header = [*keys, "seed", "verdict", "failed checks", *(plots.metric_label(k) for k in metrics), "files"]
    return rows, header, [len(header) - 1]


def sweep_x(sweep: Sweep) -> str | None:
    """The parameter on the x axis: the declared one, else the first numeric swept key."""
    if sweep.x:
        return sweep.x
    for key, values in sweep.grid.items():
        if plots._numeric(values) and len(values) > 1:
            return key
    return next(iter(sweep.grid), None)


def _overlay(metric: str, x: str, sweep: Sweep) -> Any:
    """The analytic model drawn beside `metric` vs `x`, if one compares like with like."""
    config = sweep.base.config
    if x == "network.loss" and metric.startswith(("fp_originated", "fp_healthy_suspect")):
        return plots.swim_fp_overlay(
            int(config.get("indirect_checks", 3)), float(config.get("probe_interval_s", 1.0))
        )
    if metric == "first_suspect_periods":
        return plots.swim_detection_overlay()
    if metric == "suspicion_t99_s" and x in ("cluster.nodes", "network.loss"):
        # Suspicions spread by gossip alone; dead verdicts also come from timers (plots.convergence).
        return plots.serf_overlay(
            int(config.get("gossip_nodes", 3)),
            float(config.get("gossip_interval_s", 0.2)),
            n=None if x == "cluster.nodes" else sweep.base.nodes,
            loss=sweep.base.network.loss if x == "cluster.nodes" else None,
        )
    return None


def render_sweep(folder: str | Path, point_pages: bool = True) -> Path:
    """Figures, plots.json and index.html of a sweep folder, and (`point_pages`) the page of
    every point that has a run folder."""
    folder = Path(folder)
    sweep = read_sweep(folder / "sweep.json")
    metrics = list(sweep.metrics) or ["messages_per_node_per_s"]
    base = sweep.base
    nodes = sweep.grid.get("cluster.nodes")
    n_text = f"{min(nodes)}–{max(nodes)}" if nodes else base.nodes
    title = (
        f"{sweep.scenario} · N={n_text} · {len(sweep.seeds)} seeds · "
        f"{config_label(base.preset, base.config_overrides)}"
    )
    points = sweep.points
    x = sweep_x(sweep)
    drawn: dict[str, Any] = {}
    figures: list[Figure] = []
    notes: list[str] = []
    if x is not None:
        for metric in metrics:
            name = f"sweep_{metric}"
            data = plots.sweep_curve(
                points, x, metric, folder / name, title, sweep.grid, overlay=_overlay(metric, x, sweep)
            )
            if not _add(
                drawn, figures, name, data, f"{plots.metric_label(metric)} vs {plots.param_label(x)}"
            ):
                notes.append(
                    f"{plots.metric_label(metric)} — no point measured it "
                    "(e.g. no crash, or no heal, in this scenario)."
                )
        if x == "cluster.nodes":
            _add(
                drawn,
                figures,
                "load_vs_n",
                plots.load_vs_n(points, x, folder / "load_vs_n", title, sweep.grid),
                "Message load per node vs N",
            )
    else:
        notes.append("curves — nothing is swept (one grid point).")
    if not _add(
        drawn,
        figures,
        "detection_cdf",
        plots.sweep_detection_cdf(points, folder / "detection_cdf", title, sweep.grid),
        "Detection latency CDF per grid point",
    ):
        notes.append("detection CDF — no crash in any point of this sweep.")
    _write_json(folder / "plots.json", drawn)
    if point_pages:
        for p in points:
            run = folder / POINTS_DIR / p.id
            if (run / "result.json").exists():
                render_run(run, back="../../index.html")
    files = [
        (
            ["sweep.json"],
            "every point's parameters, seed, verdict, checks, summary and metrics (reports/schema.py)",
        ),
        (["plots.json"], "the arrays each figure drew, and its caption"),
        (["plan.json"], "what makes this folder this sweep (resuming checks it)"),
        ([f"{POINTS_DIR}/"], "one record per point as it finished, and each point's run folder"),
        *_figure_files(drawn),
    ]
    page = html.sweep_page(
        folder,
        sweep,
        title,
        sweep.command,
        sweep_table(sweep, metrics),
        points_table(sweep, folder, metrics),
        figures,
        notes,
        files,
    )
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
