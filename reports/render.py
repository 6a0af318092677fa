"""Render a run folder or a sweep folder from its saved results: figures, `plots.json`, index.html.

`render(folder)` is what `swimlab report DIR` calls, and what a run or a sweep calls when it
ends; it reads only `result.json` + `series.json` (a run) or `sweep.json` (a sweep), never the
trace, so re-rendering a 2 GB trace folder takes a second. `plots.json` records, per figure,
the arrays it drew.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import html, plots
from .schema import RunResult, SchemaError, Sweep, SweepPoint, read_result, read_series, read_sweep
from .summary import SUMMARY_METRICS, summarize

DEFAULT_SWEEP_METRICS = (
    "first_suspect_periods",
    "dead_everywhere_s",
    "fp_originated_suspect_per_node_hour",
    "fp_healthy_dead_per_node_hour",
    "messages_per_node_per_s",
)


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


def render_run(folder: str | Path) -> Path:
    folder = Path(folder)
    result = read_result(folder / "result.json")
    title = run_title(result)
    drawn: dict[str, Any] = {}
    figures: list[tuple[list[str], str]] = []
    conv = plots.convergence(result, folder / "convergence", title)
    if conv is not None:
        drawn["convergence"] = conv
        figures.append((conv["files"], "Fraction of live nodes informed after each crash"))
    cdf = plots.detection_cdf(result.metrics.detection, folder / "detection_cdf", title)
    if cdf is not None:
        drawn["detection_cdf"] = cdf
        figures.append((cdf["files"], "Detection latency CDF"))
    if (folder / "series.json").exists():
        views = plots.view_sizes(read_series(folder / "series.json"), folder / "view_sizes", title)
        drawn["view_sizes"] = views
        figures.append((views["files"], "Per-node view size and distinct views, faults shaded"))
    _write_json(folder / "plots.json", drawn)
    summary = summarize(result)
    page = html.run_page(folder, result, summary, SUMMARY_METRICS, figures, title)
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _group_key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)


def sweep_table(sweep: Sweep, metrics: list[str]) -> tuple[list[list[Any]], list[str]]:
    """One row per grid point: its parameters, seeds ok/total, then the median of each metric."""
    import statistics

    keys = list(sweep.grid)
    groups: dict[str, list[SweepPoint]] = {}
    for p in sweep.points:
        groups.setdefault(_group_key(p.params), []).append(p)
    rows = []
    for members in groups.values():
        ok = [p for p in members if p.status == "ok"]
        row: list[Any] = [members[0].params.get(k) for k in keys]
        row.append(f"{len(ok)}/{len(members)}")
        for metric in metrics:
            summaries = [p.summary or {} for p in ok]
            values = [v for summary in summaries if (v := summary.get(metric)) is not None]
            row.append(round(statistics.median(values), 6) if values else None)
        rows.append(row)
    return rows, [*keys, "seeds ok", *metrics]


def sweep_x(sweep: Sweep) -> str | None:
    """The parameter on the x axis: the declared one, else the first numeric swept key."""
    if sweep.x:
        return sweep.x
    for key, values in sweep.grid.items():
        if plots._numeric(values) and len(values) > 1:
            return key
    return next(iter(sweep.grid), None)


def render_sweep(folder: str | Path) -> Path:
    folder = Path(folder)
    sweep = read_sweep(folder / "sweep.json")
    metrics = list(sweep.metrics or DEFAULT_SWEEP_METRICS)
    base = sweep.base
    config = base.config
    nodes = sweep.grid.get("cluster.nodes")
    n_text = f"{min(nodes)}–{max(nodes)}" if nodes else base.nodes
    title = (
        f"{sweep.scenario} · N={n_text} · seeds {sweep.seeds} · "
        f"{config_label(base.preset, base.config_overrides)}"
    )
    points = sweep.points
    x = sweep_x(sweep)
    drawn: dict[str, Any] = {}
    figures: list[tuple[list[str], str]] = []
    if x is not None:
        for metric in metrics:
            overlay = None
            if x == "network.loss" and metric.startswith(("fp_originated", "fp_healthy_suspect")):
                overlay = plots.swim_fp_overlay(
                    int(config.get("indirect_checks", 3)), float(config.get("probe_interval_s", 1.0))
                )
            elif metric == "first_suspect_periods":
                overlay = plots.swim_detection_overlay()
            elif metric == "dissemination_t99_s" and x in ("cluster.nodes", "network.loss"):
                overlay = plots.serf_overlay(
                    int(config.get("gossip_nodes", 3)),
                    float(config.get("gossip_interval_s", 0.2)),
                    n=None if x == "cluster.nodes" else base.nodes,
                    loss=base.network.loss if x == "cluster.nodes" else None,
                )
            name = (
                "fp_vs_loss"
                if overlay is not None and x == "network.loss" and metric.startswith("fp")
                else f"sweep_{metric}"
            )
            data = plots.sweep_curve(
                points,
                x,
                metric,
                folder / name,
                title,
                ylabel=SUMMARY_METRICS.get(metric, metric),
                overlay=overlay,
            )
            if data is not None:
                drawn[name] = data
                figures.append((data["files"], f"{SUMMARY_METRICS.get(metric, metric)} vs {x}"))
        if x == "cluster.nodes":
            load = plots.load_vs_n(points, x, folder / "load_vs_n", title)
            if load is not None:
                drawn["load_vs_n"] = load
                figures.append((load["files"], "Message load per node vs N"))
    detections = [d for p in points if p.status == "ok" and p.metrics for d in p.metrics.detection]
    cdf = plots.detection_cdf(detections, folder / "detection_cdf", title + " (all points)")
    if cdf is not None:
        drawn["detection_cdf"] = cdf
        figures.append((cdf["files"], "Detection latency CDF, every crash of every point"))
    _write_json(folder / "plots.json", drawn)
    table, header = sweep_table(sweep, metrics)
    page = html.sweep_page(folder, sweep, table, header, figures, title)
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
