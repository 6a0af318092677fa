"""Plots of a run. matplotlib is imported lazily, with the Agg backend (no display needed).

`view_sizes`: each node's view size (members it believes up) against time, with fault
intervals shaded — the figure Rapid uses to show instability.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .metrics import MetricsAccumulator

_COLORS = {
    "down": "tab:red",
    "partition": "tab:orange",
    "pause": "tab:purple",
    "loss": "tab:brown",
    "slow": "tab:pink",
    "latency": "tab:olive",
    "clock": "tab:cyan",
    "ingress": "tab:gray",
}


def view_sizes(acc: MetricsAccumulator, path: str | Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5))
    times = np.asarray(acc.sample_times)
    if acc.samples:
        n = len(acc.names)
        sizes = np.full((len(times), n), np.nan)
        for k, (row, up) in enumerate(zip(acc.samples, acc.sample_up, strict=True)):
            m = min(len(row), n)
            sizes[k, :m] = np.where(up[:m], row[:m] + 1, np.nan)  # +1: a node counts itself
        # Thousands of lines are unreadable and slow: draw at most 200 nodes.
        step = max(1, n // 200)
        ax.plot(times, sizes[:, ::step], linewidth=0.6, alpha=0.6)
    seen = set()
    for interval in acc.intervals:
        label = interval.cause if interval.cause not in seen else None
        seen.add(interval.cause)
        ax.axvspan(
            interval.start,
            interval.end,
            color=_COLORS.get(interval.cause, "tab:gray"),
            alpha=0.08,
            label=label,
        )
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("view size (members believed up)")
    ax.set_title(title or "view size per node")
    if seen:
        ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
