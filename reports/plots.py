"""The figures of a run and of a sweep, as PNG and SVG. matplotlib is imported lazily with the Agg
backend (no display needed), so importing reports never pays for it.

Every figure function takes the typed contents of `result.json`, `series.json` or `sweep.json`
(swimlab.reports.schema), draws it, writes `<stem>.png` and `<stem>.svg`, and returns the arrays
it plotted as a JSON-able dict. `swimlab.reports.render` keeps those in `plots.json` beside the
images, so a test (or a sceptical reader) can check that a figure shows exactly the numbers in
the result files.

Run figures: `convergence` (fraction informed after a crash, beside Serf's model and SWIM's
expected first detection), `detection_cdf`, `view_sizes` (Rapid's per-node view size, one dot per
node per sample, fault intervals shaded Jepsen-style, distinct views below). Sweep figures:
`sweep_curve` (any summary metric vs any swept parameter, median with a min-max band across
seeds, one line per other-parameter combination), with the analytic overlays of
`false_positives_vs_loss` and the three-statistic `load_vs_n`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import theory
from .schema import CrashDetection, FaultInterval, RunResult, SweepPoint, ViewSeries

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FAULT_COLORS = {
    "down": "tab:red",
    "partition": "tab:orange",
    "pause": "tab:purple",
    "loss": "tab:brown",
    "slow": "tab:pink",
    "latency": "tab:olive",
    "clock": "tab:cyan",
    "ingress": "tab:gray",
}
MAX_NODES_DRAWN = 200  # thousands of dot rows are unreadable and slow to draw


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    # SVG element ids come from a hash; a fixed salt keeps re-rendered SVGs byte-identical.
    matplotlib.rcParams["svg.hashsalt"] = "swimlab"
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Figure, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    fig.tight_layout()
    fig.savefig(paths[0], dpi=100)
    # No date stamp: the same data gives the same SVG bytes.
    fig.savefig(paths[1], metadata={"Date": None})
    _pyplot().close(fig)
    return paths


def _steps(times: Sequence[float], total: int) -> tuple[list[float], list[float]]:
    """Empirical curve: after the k-th sorted time, k/total are informed."""
    xs = [0.0, *times]
    ys = [0.0, *((k + 1) / total for k in range(len(times)))]
    return xs, ys


# Run figures ----------------------------------------------------------------------------------
def convergence(result: RunResult, stem: Path, title: str) -> dict[str, Any] | None:
    """Fraction of live nodes that suspect / declared dead each crashed node vs time since the
    crash, with Serf's model started at the first dead verdict and SWIM's expected first
    detection. None (no figure) when the run crashed nobody."""
    m = result.metrics
    episodes = m.dissemination
    if not episodes:
        return None
    config = result.config
    period = float(config.get("probe_interval_s", 1.0))
    gossip_s = float(config.get("gossip_interval_s", 0.2))
    fanout = int(config.get("gossip_nodes", 3))
    loss = result.network.loss
    detection = {d.node: d for d in m.detection}
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 5))
    data: dict[str, Any] = {"episodes": [], "serf": None, "swim_expected_first_detection_s": None}
    horizon = 0.0
    for k, ep in enumerate(episodes):
        d = detection.get(ep.node)
        n_obs = max(ep.observers, 1)
        entry: dict[str, Any] = {"node": ep.node}
        for name, style, t0, informed in (
            ("suspect", ":", None if d is None else d.first_suspect_s, ep.suspect_informed_s),
            ("dead", "-", None if d is None else d.first_dead_s, ep.dead_informed_s),
        ):
            if t0 is None:
                continue
            xs, ys = _steps(informed, n_obs)
            xs = [t0 + x for x in xs]
            ax.step(
                xs,
                ys,
                where="post",
                linestyle=style,
                color=f"C{k % 10}",
                label=f"{ep.node}: {name} known (measured)" if k < 5 else None,
            )
            entry[name] = {"t_s": xs, "fraction": ys}
            horizon = max(horizon, xs[-1])
        data["episodes"].append(entry)
    first_dead = [d.first_dead_s for d in m.detection if d.first_dead_s is not None]
    n_live = max(ep.observers for ep in episodes) + 1
    if first_dead:
        t0 = float(np.median(first_dead))
        span = max(horizon - t0, theory.serf_time_to_fraction(n_live, fanout, gossip_s, 0.999))
        ts = np.linspace(0.0, span, 200)
        model = theory.serf_convergence(n_live, fanout, ts / gossip_s, loss)
        ax.plot(
            t0 + ts,
            model,
            color="black",
            linewidth=1.5,
            alpha=0.7,
            label=f"Serf model (n={n_live}, fanout {fanout}, {gossip_s:g} s rounds, loss {loss:g})",
        )
        data["serf"] = {"t_s": (t0 + ts).tolist(), "fraction": model.tolist(), "n": n_live}
    swim_t = theory.swim_expected_detection_s(period)
    ax.axvline(
        swim_t, color="gray", linestyle="--", label=f"SWIM E[first detection] = T'·e/(e−1) = {swim_t:.2f} s"
    )
    data["swim_expected_first_detection_s"] = swim_t
    ax.set_xlabel("seconds since the crash")
    ax.set_ylabel("fraction of live nodes informed")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title, fontsize="medium")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    data["files"] = [p.name for p in _save(fig, stem)]
    return data


def detection_cdf(detections: Sequence[CrashDetection], stem: Path, title: str) -> dict[str, Any] | None:
    """Empirical CDFs of first suspicion, first dead and dead-everywhere latencies."""
    if not detections:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    data: dict[str, Any] = {}
    for key, label, latencies in (
        ("first_suspect_s", "first suspicion", [d.first_suspect_s for d in detections]),
        ("first_dead_s", "first dead", [d.first_dead_s for d in detections]),
        ("dead_everywhere_s", "dead everywhere", [d.dead_everywhere_s for d in detections]),
    ):
        values = sorted(x for x in latencies if x is not None)
        if not values:
            continue
        ys = [(k + 1) / len(detections) for k in range(len(values))]
        ax.step([0.0, *values], [0.0, *ys], where="post", label=f"{label} (n={len(values)})")
        data[key] = {"latency_s": values, "cdf": ys}
    ax.set_xlabel("seconds after the crash")
    ax.set_ylabel("fraction of crashes")
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize="medium")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    data["files"] = [p.name for p in _save(fig, stem)]
    return data


def _shade(ax: Axes, intervals: Sequence[FaultInterval]) -> None:
    """One band per stretch of time during which some node suffered each kind of fault: the
    per-node intervals of a cause are merged first, so ten simultaneous crashes shade like one
    instead of stacking into an opaque block."""
    by_cause: dict[str, list[tuple[float, float]]] = {}
    for iv in intervals:
        by_cause.setdefault(iv.cause, []).append((iv.start, iv.start if iv.end is None else iv.end))
    for cause, spans in by_cause.items():
        merged: list[list[float]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for i, (start, end) in enumerate(merged):
            ax.axvspan(
                start,
                end,
                color=FAULT_COLORS.get(cause, "tab:gray"),
                alpha=0.12,
                label=cause if i == 0 else None,
            )


def view_sizes(series: ViewSeries, stem: str | Path, title: str = "") -> dict[str, Any]:
    """Per-node view size (members believed up, self included) vs time, one dot per node per
    sample, fault intervals shaded; below it, the number of distinct views (Rapid's Fig. 8-10)."""
    stem = Path(stem).with_suffix("")
    plt = _pyplot()
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    times = np.asarray(series.t, dtype=float)
    sizes = np.array(
        [[np.nan if v is None else v for v in row] for row in series.sizes], dtype=float
    ).reshape(len(times), -1)
    n = sizes.shape[1]
    step = max(1, n // MAX_NODES_DRAWN)
    drawn = sizes[:, ::step]
    xs = np.repeat(times, drawn.shape[1])
    ys = drawn.reshape(-1)
    keep = ~np.isnan(ys)
    ax.scatter(
        xs[keep], ys[keep], s=2, alpha=0.4, color="tab:blue", rasterized=True, label="one node's view size"
    )
    _shade(ax, series.intervals)
    ax.set_ylabel("view size")
    ax.set_title(title or "view size per node", fontsize="medium")
    ax.legend(loc="lower right", fontsize="small", markerscale=4)
    ax.grid(alpha=0.3)
    ax2.step(times, series.distinct, where="post", color="tab:green")
    _shade(ax2, series.intervals)
    ax2.set_ylabel("distinct views")
    ax2.set_xlabel("simulated time (s)")
    ax2.grid(alpha=0.3)
    files = _save(fig, stem)
    return {
        "t_s": times.tolist(),
        "nodes_drawn_every": step,
        "distinct": list(series.distinct),
        "files": [p.name for p in files],
    }


# Sweep figures --------------------------------------------------------------------------------
def series_stats(
    points: Sequence[SweepPoint], x_key: str, metric: str
) -> dict[str, dict[str, list[float | None]]]:
    """Group finished points by every parameter except `x_key` (one line each) and, per x,
    take the median, min and max of `metric` over seeds (None where no seed had a value)."""
    groups: dict[str, dict[Any, list[float]]] = {}
    for p in points:
        if p.status != "ok":
            continue
        params = p.params
        label = ", ".join(f"{k}={v}" for k, v in params.items() if k != x_key) or metric
        value = (p.summary or {}).get(metric)
        per_x = groups.setdefault(label, {})
        per_x.setdefault(params[x_key], [])
        if value is not None:
            per_x[params[x_key]].append(float(value))
    out: dict[str, dict[str, list[Any]]] = {}
    for label, per_x in groups.items():
        xs = sorted(per_x, key=lambda v: (isinstance(v, str), v))
        out[label] = {
            "x": xs,
            "median": [float(np.median(per_x[x])) if per_x[x] else None for x in xs],
            "low": [min(per_x[x]) if per_x[x] else None for x in xs],
            "high": [max(per_x[x]) if per_x[x] else None for x in xs],
            "seeds": [len(per_x[x]) for x in xs],
        }
    return out


def _numeric(xs: Sequence[Any]) -> bool:
    return all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs)


def sweep_curve(
    points: Sequence[SweepPoint],
    x_key: str,
    metric: str,
    stem: Path,
    title: str,
    ylabel: str = "",
    overlay: Callable[[Axes, list[float]], dict[str, Any]] | None = None,
    logy: bool = False,
) -> dict[str, Any] | None:
    """`metric` vs the swept `x_key`: median over seeds, min-max band, one line per combination
    of the other swept parameters; `overlay(ax, xs)` may draw (and return) a model."""
    stats = series_stats(points, x_key, metric)
    if not stats:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    all_x: list[Any] = []
    for k, (label, s) in enumerate(stats.items()):
        xs = s["x"]
        all_x.extend(xs)
        pos = xs if _numeric(xs) else list(range(len(xs)))
        med = np.array([np.nan if v is None else v for v in s["median"]], dtype=float)
        lo = np.array([np.nan if v is None else v for v in s["low"]], dtype=float)
        hi = np.array([np.nan if v is None else v for v in s["high"]], dtype=float)
        ax.plot(pos, med, marker="o", color=f"C{k % 10}", label=label)
        ax.fill_between(pos, lo, hi, color=f"C{k % 10}", alpha=0.15)
    data: dict[str, Any] = {"x_key": x_key, "metric": metric, "series": stats}
    if not _numeric(all_x):
        labels = stats[next(iter(stats))]["x"]
        ax.set_xticks(range(len(labels)), [str(v) for v in labels])
    elif overlay is not None:
        data["overlay"] = overlay(ax, sorted(set(all_x)))
    if logy:
        ax.set_yscale("symlog", linthresh=1e-2)
    if x_key == "cluster.nodes" and _numeric(all_x) and min(all_x) > 0:
        ax.set_xscale("log", base=2)  # sizes double from point to point
    ax.set_xlabel(x_key)
    ax.set_ylabel(ylabel or metric)
    ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    data["files"] = [p.name for p in _save(fig, stem)]
    return data


def swim_fp_overlay(
    indirect_checks: int, probe_interval_s: float
) -> Callable[[Axes, list[float]], dict[str, Any]]:
    """SWIM's analytic failed-probe rate per node-hour vs loss, for `sweep_curve`."""

    def draw(ax: Axes, xs: list[float]) -> dict[str, Any]:
        grid = np.linspace(min(xs), max(xs), 100)
        ys = [theory.swim_false_suspicions_per_node_hour(x, indirect_checks, probe_interval_s) for x in grid]
        ax.plot(
            grid,
            ys,
            color="black",
            linestyle="--",
            label=f"SWIM analysis (K={indirect_checks}, T'={probe_interval_s:g} s)",
        )
        ax.legend(fontsize="small")
        return {"loss": grid.tolist(), "per_node_hour": ys}

    return draw


def swim_detection_overlay() -> Callable[[Axes, list[float]], dict[str, Any]]:
    """SWIM's expected first detection, e/(e-1) protocol periods, flat in N."""

    def draw(ax: Axes, xs: list[float]) -> dict[str, Any]:
        y = theory.swim_expected_detection_periods()
        ax.axhline(y, color="black", linestyle="--", label=f"SWIM: T'·e/(e−1) = {y:.3f} periods")
        ax.legend(fontsize="small")
        return {"periods": y}

    return draw


def serf_overlay(
    fanout: int, gossip_interval_s: float, n: int | None = None, loss: float | None = None
) -> Callable[[Axes, list[float]], dict[str, Any]]:
    """Serf's model time to 99% vs N (give `loss`) or vs loss (give `n`), for `sweep_curve`."""

    def draw(ax: Axes, xs: list[float]) -> dict[str, Any]:
        ys = [
            theory.serf_time_to_fraction(
                int(x) if n is None else n,
                fanout,
                gossip_interval_s,
                0.99,
                float(loss if loss is not None else x),
            )
            for x in xs
        ]
        ax.plot(
            xs,
            ys,
            color="black",
            linestyle="--",
            marker="x",
            label=f"Serf model, 99% (fanout {fanout}, {gossip_interval_s:g} s rounds)",
        )
        ax.legend(fontsize="small")
        return {"x": list(xs), "t99_s": ys}

    return draw


def load_vs_n(points: Sequence[SweepPoint], x_key: str, stem: Path, title: str) -> dict[str, Any] | None:
    """Messages per node per second vs N: mean, p99 and max over nodes (median over seeds)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    data: dict[str, Any] = {"x_key": x_key, "series": {}}
    for k, (metric, label) in enumerate(
        (
            ("messages_per_node_per_s", "mean"),
            ("messages_per_node_per_s_p99", "p99 over nodes"),
            ("messages_per_node_per_s_max", "max over nodes"),
        )
    ):
        for j, (group, s) in enumerate(series_stats(points, x_key, metric).items()):
            med = np.array([np.nan if v is None else v for v in s["median"]], dtype=float)
            ax.plot(
                s["x"],
                med,
                marker="o",
                linestyle=["-", "--", ":"][k],
                color=f"C{j % 10}",
                label=f"{label}" + (f" ({group})" if group != metric else ""),
            )
            data["series"][f"{metric}|{group}"] = s
    if not data["series"]:
        plt.close(fig)
        return None
    ax.set_xlabel(x_key)
    ax.set_ylabel("messages per node per second")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    data["files"] = [p.name for p in _save(fig, stem)]
    return data
