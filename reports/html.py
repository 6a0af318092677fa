"""The static `index.html` of a run or a sweep: verdict, checks, metrics table, figures, and the
exact command that reproduces it.

Self-contained on purpose (a design review may happen offline, or the folder gets mailed): no
CDN, no script, the PNGs are inlined as data URIs; each figure links its SVG sibling.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .schema import InjectedFault, RunResult, Sweep

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{display:inline-block;padding:.2em .7em;border-radius:.3em;font-weight:bold;color:#fff}
.valid{background:#2a7d2a}.invalid{background:#b22}.unknown{background:#888}.error{background:#b22}
pre{background:#f6f6f6;padding:.7em;overflow-x:auto} figure{margin:1em 0}
img{max-width:100%;border:1px solid #eee} .muted{color:#777}
"""

VERDICT_MARK = {True: "ok", False: "FAIL", None: "??"}


def _e(value: Any) -> str:
    return html.escape(str(value))


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _figure(folder: Path, files: Sequence[str], caption: str) -> str:
    png = next((f for f in files if f.endswith(".png")), None)
    svg = next((f for f in files if f.endswith(".svg")), None)
    if png is None:
        return ""
    data = base64.b64encode((folder / png).read_bytes()).decode("ascii")
    link = f' <a href="{_e(svg)}">SVG</a>' if svg else ""
    return (
        f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(caption)}{link}</figcaption></figure>"
    )


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_e(_fmt(c))}</td>'
            if isinstance(c, int | float) or c is None
            else f"<td>{_e(c)}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def run_page(
    folder: Path,
    result: RunResult,
    summary: Mapping[str, Any],
    labels: Mapping[str, str],
    figures: Sequence[tuple[Sequence[str], str]],
    title: str,
) -> str:
    """index.html of one run."""
    verdict = result.verdict
    checks = _table(
        [(VERDICT_MARK[c.ok], c.name, c.detail) for c in result.checks],
        ("", "check", "measured"),
    )
    metrics = _table([(labels.get(k, k), v) for k, v in summary.items()], ("metric", "value"))
    m = result.metrics
    detection = _table(
        [(d.node, d.crash_s, d.first_suspect_s, d.first_dead_s, d.dead_everywhere_s) for d in m.detection],
        ("crashed", "at (s)", "first suspect (+s)", "first dead (+s)", "dead everywhere (+s)"),
    )
    fp = m.false_positives
    command = result.command or f"swimlab run {result.scenario} --seed {result.seed}"
    body = [
        f"<h1>{_e(result.scenario)}</h1>",
        f'<p><span class="verdict {_e(verdict)}">{_e(verdict.upper())}</span> '
        f"{_e(result.verdict_reason)} "
        f'<span class="muted">{_e(title)}</span></p>',
        f"<p>{_e(result.description)}</p>",
        "<h2>Reproduce</h2>",
        f'<pre>{_e(command)}</pre><p class="muted">seed {_e(result.seed)}, runtime '
        f"{_e(result.runtime)}, python {_e(result.versions.python)}</p>",
        "<h2>Checks</h2>",
        checks if result.checks else '<p class="muted">no checks requested</p>',
        "<h2>Metrics</h2>",
        metrics,
    ]
    if m.detection:
        body += ["<h3>Crashes</h3>", detection]
    if fp.verdicts:
        body += [
            "<h3>False positives (first 20 accusations; rule: reports/metrics/false_positives.py)</h3>",
            _table(
                [(x.t, x.accuser, x.event, x.member, x.heard, x.post_heal) for x in fp.verdicts[:20]],
                ("t (s)", "accuser", "verdict", "about", "held by", "post-heal"),
            ),
        ]
    body += _injected(result)
    body.append("<h2>Figures</h2>")
    body += [_figure(folder, files, caption) for files, caption in figures]
    body.append("<h2>Configuration</h2><pre>" + _e(json.dumps(result.config, indent=1)) + "</pre>")
    if result.effective_scenario:
        scenario = json.dumps(result.effective_scenario, indent=1)
        body.append("<h3>Scenario as it ran</h3><pre>" + _e(scenario) + "</pre>")
    return _page(f"{result.scenario} seed {result.seed}", "\n".join(body))


def _injected(result: RunResult) -> list[str]:
    """The resolved fault timeline and the warnings (result.json `faults`, `warnings`)."""
    out = []
    if result.faults:

        def nodes(entry: InjectedFault) -> str:
            names = entry.nodes
            return ", ".join(names[:8]) + (f" ... ({len(names)})" if len(names) > 8 else "")

        def detail(entry: InjectedFault) -> str:
            parts = [f"{k}={v}" for k, v in (entry.params or {}).items() if v is not None]
            if entry.sides:
                parts.append("sides of " + " / ".join(str(len(side)) for side in entry.sides))
            if entry.bridge:
                parts.append("bridge " + ", ".join(entry.bridge))
            return "; ".join(parts)

        timeline = [(e.t, e.fault, e.op, nodes(e), detail(e)) for e in result.faults]
        out += ["<h3>Faults injected</h3>", _table(timeline, ("t (s)", "fault", "op", "nodes", "details"))]
    if result.warnings:
        warnings = [(w.t, w.fault, w.message) for w in result.warnings]
        out += ["<h3>Warnings</h3>", _table(warnings, ("t (s)", "fault", "warning"))]
    return out


def sweep_page(
    folder: Path,
    sweep: Sweep,
    table: Sequence[Sequence[Any]],
    header: Sequence[str],
    figures: Sequence[tuple[Sequence[str], str]],
    title: str,
) -> str:
    """index.html of a sweep: how many points ran, the per-grid-point medians, the figures,
    the failed points with their errors, and the command."""
    points = sweep.points
    failed = [p for p in points if p.status != "ok"]
    v = sweep.verdicts
    summary = (
        f"{v.verdict.upper()}: {v.valid} valid, {v.invalid} invalid, {v.unknown} unknown, "
        f"{v.error} failed to run (of {len(points)})"
    )
    body = [
        f"<h1>sweep: {_e(sweep.scenario)}</h1>",
        f'<p><span class="verdict {v.verdict}">{_e(summary)}</span> '
        f'<span class="muted">{_e(title)}</span></p>',
        f"<p>{_e(sweep.description)}</p>",
        "<h2>Reproduce</h2>",
        f"<pre>{_e(sweep.command)}</pre>",
        f'<p class="muted">seeds {_e(sweep.seeds)}; grid {_e(json.dumps(sweep.grid))}</p>',
        "<h2>Medians over seeds</h2>",
        _table(table, header),
        "<h2>Figures</h2>",
        *[_figure(folder, files, caption) for files, caption in figures],
    ]
    judged = [p for p in points if p.status == "ok" and p.verdict != "valid"]
    if judged:
        body += [
            "<h2>Points not valid</h2>",
            _table(
                [(json.dumps(p.params), p.seed, (p.verdict or "").upper(), p.verdict_reason) for p in judged],
                ("params", "seed", "verdict", "why"),
            ),
        ]
    if failed:
        body += [
            "<h2>Failed points</h2>",
            _table(
                [(json.dumps(p.params), p.seed, p.error) for p in failed],
                ("params", "seed", "error"),
            ),
        ]
    return _page(f"sweep {sweep.scenario}", "\n".join(body))
