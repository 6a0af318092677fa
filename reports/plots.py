"""The figures of a run and of a sweep, as PNG and SVG. matplotlib is imported lazily with the Agg
backend (no display needed), so importing reports never pays for it.

Every figure function takes the typed contents of `result.json`, `series.json` or `sweep.json`
(swimlab.reports.schema), draws it, writes `<stem>.png` and `<stem>.svg`, and returns the arrays
it plotted and its caption as a JSON-able dict (None: nothing to draw; the caller says why).
`swimlab.reports.render` keeps those in `plots.json` beside the images, so a test (or a
sceptical reader) can check that a figure shows exactly the numbers in the result files.

Rules every figure keeps:
- legends sit outside the data (below the axes);
- every simulated-time axis marks the run's faults from one list (`timeline.fault_spans`):
  intervals shaded in their cause's colour and named above the axes, instants as lines;
- a colour names one thing: at most `len(HIGHLIGHT)` crashes get their own colour (the
  slowest, labelled), the rest are drawn grey under one legend entry; grid points beyond the
  qualitative palette take evenly spaced colours of a sequential map, never a repeat;
- a sweep's x axis is the same on every figure (log2 for N), y axes start at zero, and the band
  around a median is named (min–max over the seeds).

Run figures: `convergence` (suspicion news beside Serf's gossip model; dead verdicts split into
own-timer and news), `detection_cdf`, `view_sizes` (Rapid's per-node view size and distinct
views), `instability` (view changes per live node per second), `remerge` (disagreement with the
truth around each heal). Sweep figures: `sweep_curve` (any summary metric vs the swept
parameter, with the analytic overlays), `load_vs_n`, `sweep_detection_cdf` (one CDF per grid
point).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from swimlab.protocol.faults import CAUSES
from swimlab.protocol.formulas import suspicion_timeout

from . import theory
from .schema import CrashDetection, Dissemination, RunResult, SweepPoint, ViewCounts, ViewSeries
from .summary import SUMMARY_METRICS
from .timeline import Span

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


FAULT_COLORS: Mapping[str, str] = CAUSES  # cause -> colour, from the one fault table
MAX_NODES_DRAWN = 200  # thousands of dot rows are unreadable and slow to draw
HIGHLIGHT = ("tab:red", "tab:blue", "tab:orange", "tab:purple")  # the slowest crashes, slowest first
OTHERS = "0.65"  # the grey of everything not highlighted
PARAM_LABELS = {
    "cluster.nodes": "cluster size N (log2 scale)",
    "network.loss": "packet loss rate (uniform)",
    "variant": "variant",
}


def param_label(key: str) -> str:
    return PARAM_LABELS.get(key, key)


def metric_label(key: str) -> str:
    return SUMMARY_METRICS.get(key, key)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    # SVG element ids come from a hash; a fixed salt keeps re-rendered SVGs byte-identical.
    matplotlib.rcParams["svg.hashsalt"] = "swimlab"
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Figure, stem: Path, fixed: bool = False) -> list[str]:
    """Write `<stem>.png` and `.svg`. A `fixed` figure keeps the layout `_fixed_layout` gave it
    (every sweep figure: axes of one size at one place); any other is fitted tightly."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    bbox = None
    if not fixed:
        fig.tight_layout()
        # The tight box (it keeps the legends placed below the axes inside the image), measured
        # once for both files: bbox_inches="tight" would draw the figure twice per file.
        bbox = fig.get_tightbbox().padded(0.1)
    fig.savefig(paths[0], dpi=100, bbox_inches=bbox)
    # No date stamp: the same data gives the same SVG bytes.
    fig.savefig(paths[1], metadata={"Date": None}, bbox_inches=bbox)
    _pyplot().close(fig)
    return [p.name for p in paths]


# Every sweep figure: axes of this size (inches) at this place, the legend in rows below them.
AXES_W, AXES_H, LEFT, RIGHT, TOP, BELOW_AXES, LEGEND_ROW = 6.6, 3.2, 1.15, 0.35, 0.45, 0.7, 0.21


def _fixed_layout(fig: Figure, ax: Axes, ncols: int = 2) -> None:
    """Size `fig` so that `ax` has the sweep figures' common size and place, with the legend's
    rows below it: the x axes of a sweep's figures line up when the page stacks them."""
    handles, labels = ax.get_legend_handles_labels()
    rows = -(-len(handles) // ncols) if handles else 0
    fig.draw_without_rendering()  # to measure the x axis: tilted category names take more room
    axis = ax.xaxis.get_tightbbox()
    below = BELOW_AXES
    if axis is not None:
        below = max(below, (ax.get_window_extent().y0 - axis.y0) / fig.dpi + 0.15)
    bottom = below + LEGEND_ROW * rows + 0.1
    width, height = LEFT + AXES_W + RIGHT, TOP + AXES_H + bottom
    fig.set_size_inches(width, height)
    ax.set_position((LEFT / width, bottom / height, AXES_W / width, AXES_H / height))
    ax.yaxis.set_label_coords(-0.105, 0.5)
    if handles:
        fig.legend(
            handles,
            labels,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.05 / height),
            ncols=min(ncols, len(handles)),
            fontsize="small",
            frameon=False,
        )


def _legend_below(fig: Figure, ax: Axes, ncols: int = 2) -> None:
    """One legend for the figure, under the axes (never over the data); none if nothing is labelled."""
    handles, labels = [], []
    for axis in fig.axes:
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if handles:
        fig.legend(
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncols=min(ncols, len(handles)),
            fontsize="small",
            frameon=False,
        )


def _nan(values: Sequence[float | None]) -> Any:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# Faults on a time axis ------------------------------------------------------------------------
MAX_NAMED = 8  # more top-level faults than this are named by a legend entry per operation


def mark_faults(ax: Axes, spans: Sequence[Span], name: bool = True) -> list[list[Any]]:
    """Shade the intervals, draw the instants and (`name`) write their names above the axes;
    sub-events of a window (a churn's crashes) are ticks along the top. Returns what it marked."""
    marked: list[list[Any]] = []
    windows = {s.label for s in spans if s.end is not None}
    top = [s for s in spans if s.within not in windows]  # named; the rest belong to a named window
    named = name and len(top) <= MAX_NAMED
    seen: set[str] = set()
    for span in spans:
        if span.end is not None:
            ax.axvspan(span.start, span.end, color=span.color, alpha=0.13, linewidth=0)
        elif span.within in windows:
            ax.plot(
                [span.start],
                [0.985],
                marker="|",
                markersize=9,
                color=span.color,
                transform=ax.get_xaxis_transform(),
                linestyle="none",
                label=f"{span.op} (in {span.within})" if name and span.op not in seen else None,
            )
            seen.add(span.op)
        else:
            ax.axvline(span.start, color=span.color, linewidth=1.0, linestyle="--", alpha=0.8)
        marked.append([span.start, span.end, span.label])
        if span not in top:
            continue
        if named:
            ax.text(
                span.start,
                1.01 + 0.06 * (top.index(span) % 2),
                span.label,
                transform=ax.get_xaxis_transform(),
                fontsize=7,
                color=span.color if span.end is None else "0.25",
                ha="left",
                va="bottom",
                clip_on=False,
            )
        elif name and span.op not in seen:
            seen.add(span.op)
            ax.plot([], [], color=span.color, linewidth=6, alpha=0.4, label=span.op.replace("_", " "))
    return marked


def _title(ax: Axes, title: str, spans: Sequence[Span]) -> None:
    windows = {s.label for s in spans if s.end is not None}
    named = [s for s in spans if s.within not in windows]
    pad = 30 if named and len(named) <= MAX_NAMED else 6
    ax.set_title(title, fontsize="medium", pad=pad)


# Run figures ----------------------------------------------------------------------------------
def slowest_first(detection: Sequence[CrashDetection]) -> list[int]:
    """Crash indices, slowest to be dead everywhere first (never dead everywhere: slowest)."""

    def slowness(i: int) -> float:
        everywhere = detection[i].dead_everywhere_s
        return math.inf if everywhere is None else everywhere

    return sorted(range(len(detection)), key=slowness, reverse=True)


def _fractions(numer: Sequence[int], live: Sequence[int]) -> list[float]:
    return [round(x / n, 6) if n else 0.0 for x, n in zip(numer, live, strict=True)]


def convergence(
    result: RunResult, stem: Path, title: str, spans: Sequence[Span] = ()
) -> dict[str, Any] | None:
    """Per crash, over seconds since the crash: top, the share of the live membership that has
    heard the suspicion, with Serf's gossip model started at each first suspicion; bottom, the
    share that holds the node dead, split into verdicts of the observer's own suspicion timer
    and verdicts learned from others. None when no crash was suspected."""
    m = result.metrics
    episodes = [(d, e) for d, e in zip(m.detection, m.dissemination, strict=True) if e.informed.t_s]
    episodes = [(d, e) for d, e in episodes if d.first_suspect_s is not None]
    if not episodes:
        return None
    config = result.config
    period = float(config.get("probe_interval_s", 1.0))
    gossip_s = float(config.get("gossip_interval_s", 0.2))
    fanout = int(config.get("gossip_nodes", 3))
    loss = result.network.loss
    order = slowest_first([d for d, _ in episodes])
    highlighted = order[: len(HIGHLIGHT)]
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    data: dict[str, Any] = {"episodes": [], "highlighted": [], "serf": []}
    horizon = 0.0
    n_at_suspicion: list[int] = []
    for rank, i in enumerate(order):
        d, e = episodes[i]
        curve = e.informed
        color = HIGHLIGHT[rank] if i in highlighted else OTHERS
        width = 1.6 if i in highlighted else 0.8
        xs = list(curve.t_s)  # starts at the crash (metrics/detection.py records it)
        suspect = _fractions(curve.suspect, curve.live)
        dead = _fractions(curve.dead, curve.live)
        timer = _fractions(curve.dead_by_timer, curve.live)
        news = [round(a - b, 6) for a, b in zip(dead, timer, strict=True)]
        horizon = max(horizon, xs[-1])
        everywhere = "never" if d.dead_everywhere_s is None else f"+{d.dead_everywhere_s:.1f} s"
        label = f"{d.node} (dead everywhere {everywhere})" if i in highlighted else None
        zorder = 3 if i in highlighted else 2
        top.step(xs, suspect, where="post", color=color, linewidth=width, label=label, zorder=zorder)
        bottom.step(xs, dead, where="post", color=color, linewidth=width, zorder=zorder)
        entry: dict[str, Any] = {
            "node": d.node,
            "t_s": xs,
            "suspect": suspect,
            "dead": dead,
            "dead_by_timer": timer,
            "dead_by_news": news,
        }
        if i in highlighted:
            data["highlighted"].append(d.node)
            bottom.step(xs, timer, where="post", color=color, linewidth=1.0, linestyle=":", zorder=zorder)
            bottom.step(xs, news, where="post", color=color, linewidth=1.0, linestyle="-.", zorder=zorder)
            bottom.annotate(
                f"{d.node} {everywhere}",
                (xs[-1], dead[-1]),
                xytext=(3, -3 - 9 * rank),
                textcoords="offset points",
                fontsize=7,
                color=color,
            )
            # Serf's model of the suspicion's gossip, from this crash's first suspicion.
            t0 = float(d.first_suspect_s or 0.0)
            n = max(informed_at(e, t0)[0], 1)
            n_at_suspicion.append(n)
            span = max(horizon - t0, theory.serf_time_to_fraction(n, fanout, gossip_s, 0.999, loss))
            ts = np.linspace(0.0, span, 200)
            model = theory.serf_convergence(n, fanout, ts / gossip_s, loss)
            top.plot(t0 + ts, model, color=color, linewidth=1.0, linestyle="--", alpha=0.8, zorder=4)
            data["serf"].append(
                {"node": d.node, "t_s": (t0 + ts).tolist(), "fraction": model.tolist(), "n": n}
            )
        data["episodes"].append(entry)
    others = len(episodes) - len(highlighted)
    if others:
        top.plot([], [], color=OTHERS, label=f"{others} other crashes")
    top.plot([], [], color="0.2", linestyle="--", label="Serf's gossip model, from each first suspicion")
    bottom.plot([], [], color="0.2", label="dead: all verdicts")
    bottom.plot([], [], color="0.2", linestyle=":", label="dead: own suspicion timer")
    bottom.plot([], [], color="0.2", linestyle="-.", label="dead: learned from others (gossip)")
    swim_t = theory.swim_expected_detection_s(period)
    top.axvline(
        swim_t,
        color="0.4",
        linestyle=(0, (1, 3)),
        label=f"SWIM: first probe of the crashed node, T′·e/(e−1) = {swim_t:.2f} s",
    )
    data["swim_expected_first_detection_s"] = swim_t
    top.set_ylabel("share of live nodes\nthat heard the suspicion")
    bottom.set_ylabel("share of live nodes\nholding it dead")
    bottom.set_xlabel("seconds since the crash")
    for ax in (top, bottom):
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    # The other faults on this axis: only when every crash happened at one instant (else
    # "seconds since the crash" is a different clock for each curve).
    instants = {d.crash_s for d, _ in episodes}
    shifted: list[Span] = []
    if len(instants) == 1:
        t0 = next(iter(instants))
        shifted = [
            dataclasses.replace(s, start=s.start - t0, end=None if s.end is None else s.end - t0)
            for s in spans
            if not (s.op == "crash" and s.start == t0)
            and (s.start if s.end is None else s.end) >= t0
            and s.start <= t0 + horizon
        ]
        data["faults"] = mark_faults(top, shifted)
        mark_faults(bottom, shifted, name=False)
        top.set_xlim(-0.02 * horizon, horizon * 1.04)
    _title(top, title, shifted)
    _legend_below(fig, bottom)
    n_text = _range_text(n_at_suspicion)
    smallest = suspicion_timeout(int(config.get("suspicion_mult", 4)), max(n_at_suspicion), period)
    largest = smallest * int(config.get("suspicion_max_timeout_mult", 6))
    timers = sum(len(e.dead_by_timer_s) for _, e in episodes)
    verdicts = sum(len(e.dead_informed_s) for _, e in episodes)
    data["caption"] = (
        f"Each curve is the share of the nodes live at that instant (the crashed node aside) that "
        f"know of the crash; it reaches 1 when the node is dead everywhere. Top: the suspicion, which "
        f"spreads by gossip, beside Serf's model 1/(1+(n+1)e^(−c·n·r)) started at each crash's first "
        f"suspicion, with n = {n_text} live nodes then, fanout {fanout}, one round per "
        f"{gossip_s:g} s, loss {loss:g}. Bottom: dead verdicts, split into those an observer's own "
        f"suspicion timer raised ({timers} of {verdicts}; the timer runs {smallest:g}–{largest:g} s, "
        f"shrinking with Lifeguard confirmations) and those learned from others; no gossip model is "
        f"laid over the timers. T′ (probe interval) = {period:g} s."
        + (
            f" The {len(highlighted)} slowest crashes are coloured and labelled; the others are grey."
            if others
            else ""
        )
        + (
            " Other faults are marked as in the fault timeline."
            if len(instants) == 1
            else " The crashes happened at different instants, so other faults are not marked here "
            "(see the fault timeline)."
        )
    )
    data["files"] = _save(fig, stem)
    return data


def _range_text(values: Sequence[int]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def detection_cdf(detections: Sequence[CrashDetection], stem: Path, title: str) -> dict[str, Any] | None:
    """Empirical CDFs of first suspicion, first dead and dead-everywhere latencies (None: fewer
    than two crashes, whose latencies the Crashes table already lists)."""
    if len(detections) < 2:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    data: dict[str, Any] = {}
    for key, label, color, latencies in (
        ("first_suspect_s", "first suspicion", "tab:orange", [d.first_suspect_s for d in detections]),
        ("first_dead_s", "first dead verdict", "tab:red", [d.first_dead_s for d in detections]),
        ("dead_everywhere_s", "dead everywhere", "tab:purple", [d.dead_everywhere_s for d in detections]),
    ):
        values = sorted(x for x in latencies if x is not None)
        if not values:
            continue
        ys = [(k + 1) / len(detections) for k in range(len(values))]
        ax.step(
            [0.0, *values],
            [0.0, *ys],
            where="post",
            color=color,
            label=f"{label} ({len(values)} of {len(detections)} crashes)",
        )
        data[key] = {"latency_s": values, "cdf": ys}
    ax.set_xlabel("seconds after the crash")
    ax.set_ylabel("share of crashes")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3)
    _legend_below(fig, ax, ncols=3)
    data["caption"] = (
        f"Share of the {len(detections)} crashes whose first suspicion, first dead verdict and "
        "death everywhere had happened by each latency; a crash never detected keeps its curve below 1."
    )
    data["files"] = _save(fig, stem)
    return data


def view_sizes(series: ViewSeries, spans: Sequence[Span], stem: Path, title: str = "") -> dict[str, Any]:
    """Per-node view size (members believed up, self included) vs time, one dot per node per
    sample; below it, the number of distinct views (Rapid's Fig. 8-10); faults marked on both."""
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
    marked = mark_faults(ax, spans)
    mark_faults(ax2, spans, name=False)
    ax.set_ylabel("view size")
    ax.set_ylim(bottom=0)
    _title(ax, title or "view size per node", spans)
    ax.grid(alpha=0.3)
    ax2.step(times, series.distinct, where="post", color="tab:green", label="distinct views among live nodes")
    ax2.set_ylabel("distinct views")
    ax2.set_ylim(bottom=0)
    ax2.set_xlabel("simulated time (s)")
    ax2.grid(alpha=0.3)
    _legend_below(fig, ax2, ncols=3)
    every = "" if step == 1 else f" (every {step}th of {n} nodes drawn)"
    return {
        "t_s": times.tolist(),
        "nodes_drawn_every": step,
        "distinct": list(series.distinct),
        "faults": marked,
        "caption": (
            f"Top: each live node's view size (members it believes up, itself included) at each "
            f"sample{every}. Bottom: how many different views the live nodes hold (1: all agree). "
            "Faults are shaded and named as in the fault timeline."
        ),
        "files": _save(fig, stem),
    }


def instability(
    views: ViewCounts,
    spans: Sequence[Span],
    warmup_end_s: float | None,
    per_node_hour: float | None,
    stem: Path,
    title: str,
) -> dict[str, Any] | None:
    """View changes per live node per second in each sampling interval, faults marked."""
    t = views.t
    if len(t) < 2:
        return None
    mids, rates = [], []
    for k in range(1, len(t)):
        dt = t[k] - t[k - 1]
        live = views.live[k - 1]
        mids.append(t[k - 1])
        rates.append(views.changes[k] / (live * dt) if live and dt > 0 else 0.0)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.step(mids, rates, where="post", color="tab:blue", label="view changes per live node per second")
    marked = mark_faults(ax, spans)
    if warmup_end_s is not None:
        ax.axvline(warmup_end_s, color="0.3", linestyle=":", label=f"warm-up ends ({warmup_end_s:.1f} s)")
    settled = [r for x, r in zip(mids, rates, strict=True) if warmup_end_s is not None and x >= warmup_end_s]
    storm = max(
        (r for x, r in zip(mids, rates, strict=True) if warmup_end_s is None or x < warmup_end_s), default=0.0
    )
    top = max(settled, default=0.0)
    clipped = bool(settled) and storm > 1.5 * top and top > 0
    if clipped:  # the bootstrap storm would flatten everything after it
        ax.set_ylim(0, top * 1.25)
        ax.text(
            0.005,
            0.97,
            f"bootstrap off the scale (up to {storm:.3g})",
            transform=ax.transAxes,
            fontsize=7,
            va="top",
            color="0.3",
        )
    else:
        ax.set_ylim(bottom=0)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("view changes\nper live node per second")
    ax.grid(alpha=0.3)
    _title(ax, title, spans)
    _legend_below(fig, ax)
    rate = "—" if per_node_hour is None else f"{per_node_hour:.3g}"
    return {
        "t_s": [round(x, 6) for x in mids],
        "rate": [round(x, 6) for x in rates],
        "faults": marked,
        "caption": (
            "Instability: how often live nodes' views of members flip (up to down or back), per live "
            "node per second over each sampling interval; the bootstrap storm comes before warm-up "
            f"ends. After warm-up: {rate} view changes per node-hour."
        ),
        "files": _save(fig, stem),
    }


def remerge(result: RunResult, spans: Sequence[Span], stem: Path, title: str) -> dict[str, Any] | None:
    """Top: over the whole run, per live node, the view entries that disagree with the truth
    (sampled), faults marked. Bottom: after each heal, the same at every change until every
    view matches the live set again (the slowest heals coloured and labelled)."""
    m = result.metrics
    views = m.views
    curves = m.remerge
    if not curves or len(views.t) < 2:
        return None
    wrong = [w / n if n else 0.0 for w, n in zip(views.disagreeing, views.live, strict=True)]
    plt = _pyplot()
    fig, (ax, zoom) = plt.subplots(2, 1, figsize=(10, 6.5), gridspec_kw={"height_ratios": [1, 1]})
    ax.step(views.t, wrong, where="post", color="0.3", label="wrong view entries per live node (sampled)")
    marked = mark_faults(ax, spans)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("wrong entries\nper live node's view")
    ax.grid(alpha=0.3)
    _title(ax, title, spans)
    after = [None if h is None else float(h) for h in m.heal_s()]
    order = sorted(range(len(curves)), key=lambda i: -math.inf if after[i] is None else -after[i])  # type: ignore[operator]
    data: dict[str, Any] = {"t_s": list(views.t), "wrong_per_node": [round(x, 6) for x in wrong], "heals": []}
    for rank, i in enumerate(order):
        curve = curves[i]
        color = HIGHLIGHT[rank] if rank < len(HIGHLIGHT) else OTHERS
        per_node = [w / n if n else 0.0 for w, n in zip(curve.disagreeing, curve.live, strict=True)]
        done = after[i]
        text = "never" if done is None else f"+{done:.2f} s"
        label = f"heal at {curve.heal_t:g} s: re-merged {text}" if rank < len(HIGHLIGHT) else None
        zoom.step(curve.t_s, per_node, where="post", color=color, label=label)
        if done is not None and rank < len(HIGHLIGHT):
            zoom.axvline(done, color=color, linewidth=0.8, linestyle="--")
            ax.axvline(curve.heal_t + done, color=color, linewidth=1.2)
        data["heals"].append(
            {"heal_t": curve.heal_t, "t_s": curve.t_s, "wrong_per_node": per_node, "remerge_s": done}
        )
    if len(curves) > len(HIGHLIGHT):
        zoom.plot([], [], color=OTHERS, label=f"{len(curves) - len(HIGHLIGHT)} other heals")
    zoom.set_xlim(left=0)
    zoom.set_ylim(bottom=0)
    zoom.set_xlabel("seconds after the heal")
    zoom.set_ylabel("wrong entries\nper live node's view")
    zoom.grid(alpha=0.3)
    _legend_below(fig, zoom)
    times = ", ".join(f"{h:.2f} s" if h is not None else "never" for h in after)
    data["faults"] = marked
    data["caption"] = (
        "Re-merge: how many entries of each live node's view disagree with the truth (a live member "
        "held down, or a down one held up), on average. Top: the whole run, sampled, with the faults "
        "and a solid line where views agreed again. Bottom: after each heal, at every change, until "
        f"every live view is the live set again: {times} after the heal."
    )
    data["files"] = _save(fig, stem)
    return data


def informed_at(e: Dissemination, t: float) -> tuple[int, int]:
    """(live, dead) of a crash's informed curve at `t` seconds after the crash."""
    curve = e.informed
    k = max((i for i, x in enumerate(curve.t_s) if x <= t), default=None)
    return (0, 0) if k is None else (curve.live[k], curve.dead[k])


# Sweep figures --------------------------------------------------------------------------------
def group_label(params: Mapping[str, Any], x_key: str) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items() if k != x_key)


def series_stats(
    points: Sequence[SweepPoint], x_key: str, metric: str, grid: Mapping[str, Sequence[Any]] | None = None
) -> dict[str, dict[str, list[Any]]]:
    """Group finished points by every parameter except `x_key` (one line each) and, per x,
    take the median, min and max of `metric` over seeds (None where no seed had a value).
    x values keep the grid's order (`grid`), else sort."""
    groups: dict[str, dict[Any, list[float]]] = {}
    for p in points:
        if p.status != "ok":
            continue
        label = group_label(p.params, x_key)
        value = (p.summary or {}).get(metric)
        per_x = groups.setdefault(label, {})
        per_x.setdefault(p.params[x_key], [])
        if value is not None:
            per_x[p.params[x_key]].append(float(value))
    order = list(grid[x_key]) if grid and x_key in grid else None
    out: dict[str, dict[str, list[Any]]] = {}
    for label, per_x in groups.items():
        if order is not None:
            xs = [x for x in order if x in per_x]
        else:
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


def colors(count: int) -> list[Any]:
    """`count` colours, none repeated: the qualitative palette, or a sequential map beyond it."""
    if count <= 10:
        return [f"C{k}" for k in range(count)]
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(k / max(count - 1, 1)) for k in range(count)]


def x_axis(ax: Axes, x_key: str, xs: Sequence[Any]) -> None:
    """The sweep's x axis, the same on every figure: log2 for cluster sizes, ticks at the grid."""
    ax.set_xlabel(param_label(x_key))
    if not _numeric(xs):
        names = [str(v) for v in xs]
        crowded = max(map(len, names)) * 0.08 > AXES_W / len(names)  # inches: names would collide
        ax.set_xticks(
            range(len(xs)), names, rotation=20 if crowded else 0, ha="right" if crowded else "center"
        )
        ax.set_xlim(-0.5, len(xs) - 0.5)
        return
    if x_key == "cluster.nodes" and min(xs) > 0:
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(xs), [str(v) for v in xs])
        ax.minorticks_off()
    lo, hi = min(xs), max(xs)
    if x_key == "cluster.nodes" and lo > 0:
        ax.set_xlim(lo / 2**0.25, hi * 2**0.25)
    elif hi > lo:
        pad = (hi - lo) * 0.04
        ax.set_xlim(lo - pad, hi + pad)


def sweep_curve(
    points: Sequence[SweepPoint],
    x_key: str,
    metric: str,
    stem: Path,
    title: str,
    grid: Mapping[str, Sequence[Any]],
    overlay: Callable[[Axes, list[float]], dict[str, Any]] | None = None,
    logy: bool = False,
) -> dict[str, Any] | None:
    """`metric` vs the swept `x_key`: median over seeds, the min-max band over seeds, one line
    per combination of the other swept parameters; `overlay(ax, xs)` may draw (and return) a
    model. None when no point has a value."""
    stats = series_stats(points, x_key, metric, grid)
    if not any(v is not None for s in stats.values() for v in s["median"]):
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    x_values = list(grid.get(x_key, [])) or sorted({x for s in stats.values() for x in s["x"]})
    categorical = not _numeric(x_values)
    palette = colors(len(stats))
    seeds = max((n for s in stats.values() for n in s["seeds"]), default=0)
    for k, (label, s) in enumerate(stats.items()):
        pos = [x_values.index(x) for x in s["x"]] if categorical else s["x"]
        med, lo, hi = _nan(s["median"]), _nan(s["low"]), _nan(s["high"])
        name = label or metric_label(metric)
        if categorical:
            offset = (k - (len(stats) - 1) / 2) * 0.08
            at = [p + offset for p in pos]
            ax.errorbar(at, med, yerr=[med - lo, hi - med], fmt="o", color=palette[k], capsize=3, label=name)
        else:
            ax.plot(pos, med, marker="o", color=palette[k], label=name)
            ax.fill_between(pos, lo, hi, color=palette[k], alpha=0.15, linewidth=0)
    band = f"min–max over {seeds} seeds" if seeds > 1 else "one seed per point: no band"
    if categorical:
        ax.plot(
            [],
            [],
            color="0.4",
            marker="|",
            linestyle="none",
            markersize=10,
            label=f"bars: {band}, dot: median",
        )
    else:
        ax.fill_between([], [], [], color="0.5", alpha=0.2, label=f"band: {band}; line: median")
    data: dict[str, Any] = {"x_key": x_key, "metric": metric, "series": stats}
    if overlay is not None and not categorical:
        data["overlay"] = overlay(ax, [float(x) for x in x_values])
    if logy:
        ax.set_yscale("symlog", linthresh=1e-2)
    else:
        ax.set_ylim(bottom=0)
    x_axis(ax, x_key, x_values)
    ax.set_ylabel(_wrap(metric_label(metric)))
    ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3)
    _fixed_layout(fig, ax)
    model = f" Dashed: {data['overlay']['label']}." if "overlay" in data else ""
    lines = "; one line per combination of the other swept parameters" if len(stats) > 1 else ""
    data["caption"] = f"The median over seeds, with the {band}{lines}.{model}"
    data["files"] = _save(fig, stem, fixed=True)
    return data


def _wrap(text: str, width: int = 40) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def swim_fp_overlay(
    indirect_checks: int, probe_interval_s: float
) -> Callable[[Axes, list[float]], dict[str, Any]]:
    """SWIM's analytic failed-probe rate per node-hour vs loss, for `sweep_curve`."""

    def draw(ax: Axes, xs: list[float]) -> dict[str, Any]:
        grid = np.linspace(min(xs), max(xs), 100)
        ys = [theory.swim_false_suspicions_per_node_hour(x, indirect_checks, probe_interval_s) for x in grid]
        label = (
            f"SWIM analysis: failed probes of live members (K={indirect_checks}, T′={probe_interval_s:g} s)"
        )
        ax.plot(grid, ys, color="black", linestyle="--", label=label)
        return {"loss": grid.tolist(), "per_node_hour": ys, "label": label}

    return draw


def swim_detection_overlay() -> Callable[[Axes, list[float]], dict[str, Any]]:
    """SWIM's expected first detection, e/(e-1) protocol periods, flat in N."""

    def draw(ax: Axes, xs: list[float]) -> dict[str, Any]:
        y = theory.swim_expected_detection_periods()
        label = f"SWIM: first probe of the crashed node, e/(e−1) = {y:.3f} periods"
        ax.axhline(y, color="black", linestyle="--", label=label)
        return {"periods": y, "label": label}

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
        fixed = f"n = {n}" if n is not None else f"n = N, loss {loss:g}"
        label = (
            f"Serf's gossip model: 99% informed from one node ({fixed}, fanout {fanout}, "
            f"{gossip_interval_s:g} s rounds)"
        )
        ax.plot(xs, ys, color="black", linestyle="--", marker="x", label=label)
        return {"x": list(xs), "t99_s": ys, "label": label}

    return draw


def load_vs_n(
    points: Sequence[SweepPoint], x_key: str, stem: Path, title: str, grid: Mapping[str, Sequence[Any]]
) -> dict[str, Any] | None:
    """Messages per node per second vs N: mean, p99 and max over nodes (median over seeds)."""
    data: dict[str, Any] = {"x_key": x_key, "series": {}}
    stats = {
        metric: series_stats(points, x_key, metric, grid)
        for metric in (
            "messages_per_node_per_s",
            "messages_per_node_per_s_p99",
            "messages_per_node_per_s_max",
        )
    }
    groups = list(dict.fromkeys(g for s in stats.values() for g in s))
    if not groups:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    palette = colors(len(groups))
    for k, (metric, label) in enumerate(
        (
            ("messages_per_node_per_s", "mean over nodes"),
            ("messages_per_node_per_s_p99", "p99 over nodes"),
            ("messages_per_node_per_s_max", "max over nodes"),
        )
    ):
        for group, s in stats[metric].items():
            ax.plot(
                s["x"],
                _nan(s["median"]),
                marker="o",
                linestyle=["-", "--", ":"][k],
                color=palette[groups.index(group)],
                label=label + (f" ({group})" if group else ""),
            )
            data["series"][f"{metric}|{group}"] = s
    x_axis(ax, x_key, list(grid.get(x_key, [])))
    ax.set_ylabel("messages per node per second")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize="medium")
    ax.grid(alpha=0.3)
    _fixed_layout(fig, ax, ncols=3)
    data["caption"] = (
        "Messages each node sends per second of its up-time: the mean, 99th percentile and maximum "
        "over nodes (median over seeds)."
    )
    data["files"] = _save(fig, stem, fixed=True)
    return data


def sweep_detection_cdf(
    points: Sequence[SweepPoint], stem: Path, title: str, grid: Mapping[str, Sequence[Any]]
) -> dict[str, Any] | None:
    """Per grid point (all its seeds' crashes together), the CDF of first suspicion, first dead
    and dead-everywhere latencies: one panel each, one colour per grid point."""
    by_point: dict[str, list[CrashDetection]] = {}
    order = _grid_order(grid)
    for p in points:
        if p.status == "ok" and p.metrics is not None:
            by_point.setdefault(group_label(p.params, ""), []).extend(p.metrics.detection)
    labels = sorted((k for k, v in by_point.items() if v), key=lambda k: order.get(k, len(order)))
    if not labels:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharey=True)
    palette = colors(len(labels))
    data: dict[str, Any] = {"points": {}}
    for ax, (key, name) in zip(
        axes,
        (
            ("first_suspect_s", "first suspicion"),
            ("first_dead_s", "first dead verdict"),
            ("dead_everywhere_s", "dead everywhere"),
        ),
        strict=True,
    ):
        for k, label in enumerate(labels):
            crashes = by_point[label]
            values = sorted(v for d in crashes if (v := getattr(d, key)) is not None)
            ys = [(i + 1) / len(crashes) for i in range(len(values))]
            ax.step(
                [0.0, *values],
                [0.0, *ys],
                where="post",
                color=palette[k],
                label=f"{label} ({len(crashes)} crashes)",
            )
            data["points"].setdefault(label, {})[key] = {"latency_s": values, "cdf": ys}
        ax.set_title(name, fontsize="medium")
        ax.set_xlabel("seconds after the crash")
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of crashes")
    axes[0].set_ylim(0, 1.02)
    fig.suptitle(title, fontsize="medium")
    _legend_below(fig, axes[1], ncols=4)
    data["caption"] = "Detection latency CDFs split by grid point: each point's crashes over all its seeds."
    data["files"] = _save(fig, stem)
    return data


def _grid_order(grid: Mapping[str, Sequence[Any]]) -> dict[str, int]:
    import itertools

    keys = list(grid)
    combos = itertools.product(*(grid[k] for k in keys))
    return {group_label(dict(zip(keys, combo, strict=True)), ""): i for i, combo in enumerate(combos)}
