"""The simulator against real sockets: one scenario's figures from both runtimes, side by side.

`swimlab fidelity` (scenarios/fidelity.py) runs a scenario on the simulator and on the live
runtime with the same seeds and hands each run's `Metrics` here. Rules:

- Per metric, every sample of every seed is pooled per runtime: a crash gives one first
  suspicion, first dead and dead-everywhere time; a heal one re-merge time (views agreed and
  stayed agreed); a run one false-positive count (suspect + dead verdicts raised about any member
  while it was reachable) and one send rate (messages per node per second).
- Each row shows the median and p90 (nearest rank) per runtime and the live/sim ratio of the
  medians; a timing row is within target when the medians differ by at most
  max(`TARGET_FRACTION` x the simulator's median, one probe interval) (issue 9 §5). A false-positive
  row is within target when neither runtime raised any. A sample that never happened (a crash
  never declared dead, a heal never agreed) counts as missing and is shown as such.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .schema import Metrics

TARGET_FRACTION = 0.20
TIMINGS = (
    ("first suspicion (s after crash)", "first_suspect"),
    ("first dead (s after crash)", "first_dead"),
    ("dead everywhere (s after crash)", "dead_everywhere"),
    ("re-merge (s after heal)", "remerge"),
)
RATES = (
    ("false positives (verdicts per run)", "false_positives"),
    ("messages per node per second", "messages_per_node_per_s"),
)


@dataclass
class Samples:
    """One runtime's pooled samples of every metric (None: it never happened)."""

    values: dict[str, list[float | None]] = field(default_factory=dict)

    def add(self, metrics: Metrics) -> None:
        put = self.values.setdefault
        for d in metrics.detection:
            put("first_suspect", []).append(d.first_suspect_s)
            put("first_dead", []).append(d.first_dead_s)
            put("dead_everywhere", []).append(d.dead_everywhere_s)
        for heal in metrics.heal_s():
            put("remerge", []).append(heal)
        raised = metrics.false_positives.about_any.raised
        put("false_positives", []).append(float(raised.suspect + raised.dead))
        put("messages_per_node_per_s", []).append(metrics.load.messages_per_node_per_s)


@dataclass(frozen=True)
class Row:
    label: str
    key: str
    sim_median: float | None
    sim_p90: float | None
    live_median: float | None
    live_p90: float | None
    ratio: float | None  # live median / sim median
    missing: tuple[int, int]  # samples that never happened: sim, live
    count: tuple[int, int]
    within: bool | None  # None: not a target row, or nothing to compare


def quantile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank quantile (None for no values)."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def compare(sim: Samples, live: Samples, probe_interval_s: float, targets: Sequence[str]) -> list[Row]:
    """The side-by-side rows; `targets` are the timing keys judged against the target."""
    rows = []
    for label, key in TIMINGS + RATES:
        a, b = sim.values.get(key, []), live.values.get(key, [])
        if not a and not b:
            continue
        sa = [v for v in a if v is not None]
        sb = [v for v in b if v is not None]
        ma, mb = quantile(sa, 0.5), quantile(sb, 0.5)
        ratio = mb / ma if ma and mb is not None else None
        within: bool | None = None
        if key == "false_positives":
            within = not any(sa) and not any(sb)
        elif key in targets and ma is not None and mb is not None:
            within = abs(mb - ma) <= max(TARGET_FRACTION * ma, probe_interval_s) and len(sa) == len(a)
            within = within and len(sb) == len(b)
        rows.append(
            Row(
                label,
                key,
                ma,
                quantile(sa, 0.9),
                mb,
                quantile(sb, 0.9),
                ratio,
                (len(a) - len(sa), len(b) - len(sb)),
                (len(a), len(b)),
                within,
            )
        )
    return rows


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(rows: Sequence[Row], title: str, notes: Sequence[str]) -> str:
    lines = [
        f"# {title}",
        "",
        "| metric | sim median | sim p90 | live median | live p90 | live/sim | n (sim, live) | never "
        "| target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        target = {True: "within", False: "**outside**", None: ""}[r.within]
        never = "" if r.missing == (0, 0) else f"{r.missing[0]}, {r.missing[1]}"
        lines.append(
            f"| {r.label} | {_num(r.sim_median)} | {_num(r.sim_p90)} | {_num(r.live_median)} | "
            f"{_num(r.live_p90)} | {_num(r.ratio)} | {r.count[0]}, {r.count[1]} | {never} | {target} |"
        )
    lines += ["", *[f"- {note}" for note in notes], ""]
    return "\n".join(lines)


def write(
    out: Path,
    rows: Sequence[Row],
    sim: Samples,
    live: Samples,
    title: str,
    notes: Sequence[str],
    extra: dict[str, Any],
) -> list[Path]:
    """fidelity.md, fidelity.json, fidelity.png/.svg (both CDFs per timing) and index.html."""
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(rows, title, notes)
    (out / "fidelity.md").write_text(text, encoding="utf-8")
    data = {"title": title, "rows": [asdict(r) for r in rows], "sim": sim.values, "live": live.values}
    (out / "fidelity.json").write_text(json.dumps({**data, **extra}, indent=2) + "\n", encoding="utf-8")
    written = [out / "fidelity.md", out / "fidelity.json"]
    try:
        written += _figure(out, sim, live, title)
    except ImportError:  # matplotlib missing: the table is the result
        return written
    from .html import _page, e, table

    header = ["metric", "sim median", "sim p90", "live median", "live p90", "live/sim", "target"]
    body_rows = [
        [
            r.label,
            r.sim_median,
            r.sim_p90,
            r.live_median,
            r.live_p90,
            r.ratio,
            {True: "within", False: "outside", None: ""}[r.within],
        ]
        for r in rows
    ]
    notes_html = "".join(f"<li>{e(n)}</li>" for n in notes)
    body = (
        f"<h1>{e(title)}</h1>{table(body_rows, header)}<ul>{notes_html}</ul>"
        '<figure><img src="fidelity.png" alt="CDFs of the timings on both runtimes">'
        "<figcaption>Each timing's CDF over every crash (or heal) of every seed: simulator solid, live "
        "dashed.</figcaption></figure>"
    )
    (out / "index.html").write_text(_page(title, body), encoding="utf-8")
    return [*written, out / "index.html"]


def _figure(out: Path, sim: Samples, live: Samples, title: str) -> list[Path]:
    from .plots import _pyplot, _save

    plt = _pyplot()
    shown = [(label, key) for label, key in TIMINGS if sim.values.get(key) or live.values.get(key)]
    fig, axes = plt.subplots(1, max(1, len(shown)), figsize=(4.2 * max(1, len(shown)), 3.4), squeeze=False)
    for ax, (label, key) in zip(axes[0], shown, strict=False):
        for name, samples, style in (("sim", sim, "-"), ("live", live, "--")):
            values = sorted(v for v in samples.values.get(key, []) if v is not None)
            if values:
                ys = [(i + 1) / len(values) for i in range(len(values))]
                ax.step(values, ys, style, where="post", label=f"{name} (n={len(values)})")
        ax.set_xlabel(label)
        ax.set_ylabel("fraction")
        ax.set_ylim(0, 1.02)
        ax.legend(loc="lower right", fontsize="small")
    fig.suptitle(title, fontsize="medium")
    return [out / name for name in _save(fig, out / "fidelity")]
