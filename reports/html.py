"""The static `index.html` of a run or a sweep: verdict, reproduce command and provenance, checks,
fault timeline, the metrics that fit the scenario, figures, links to every file of the folder.

Rules:
- Self-contained (a design review may happen offline, or the folder gets mailed): no CDN, no
  script; PNGs are inlined as data URIs, and each figure links its SVG sibling.
- Readable on a phone: a viewport tag; wide tables and code scroll inside their own box, so the
  page itself never scrolls sideways.
- A number is shown rounded for a reader (`fmt`); the files keep full precision.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .schema import CrashDetection, Dissemination, RunResult, Sweep, SweepPoint, Versions
from .timeline import Span, describe

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1100px;color:#222;padding:0 1em}
body{line-height:1.4}
h1{font-size:1.5em;margin-bottom:.2em;overflow-wrap:anywhere}
h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
h3{font-size:1em}
.scroll{overflow-x:auto;max-width:100%;margin:.5em 0}
table{border-collapse:collapse;font-size:.9em}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4} td.links{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.section th{background:#e8eef6;text-align:left}
.verdict{display:inline-block;padding:.2em .7em;border-radius:.3em;font-weight:bold;color:#fff}
.valid{background:#2a7d2a}.invalid{background:#b22}.unknown{background:#888}.error{background:#b22}
pre{background:#f6f6f6;padding:.7em;overflow-x:auto;max-width:100%}
figure{margin:1em 0} figcaption{font-size:.9em;color:#333}
img{max-width:100%;height:auto;border:1px solid #eee} .muted{color:#666} .note{color:#555;font-style:italic}
nav{font-size:.9em;overflow-wrap:anywhere} nav a{margin-right:.8em}
a{overflow-wrap:anywhere}
"""

VERDICT_MARK = {True: "ok", False: "FAIL", None: "??"}


def e(value: Any) -> str:
    return html.escape(str(value))


def fmt(value: Any) -> str:
    """A number as a reader wants it: 4 significant digits, thousands separated; None is —."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.4g}" if abs(value) >= 1e-3 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def seconds(value: float | None, plus: bool = False) -> str:
    if value is None:
        return "—"
    return f"{'+' if plus else ''}{value:.2f}"


@dataclass(frozen=True)
class Figure:
    files: Sequence[str]  # the PNG and SVG file names, in the folder
    caption: str
    title: str


@dataclass(frozen=True)
class Row:
    """One metric on a page: `section` groups rows; `note` is its one-line definition."""

    section: str
    label: str
    value: Any
    note: str = ""


def _figure(folder: Path, figure: Figure) -> str:
    png = next((f for f in figure.files if f.endswith(".png")), None)
    svg = next((f for f in figure.files if f.endswith(".svg")), None)
    if png is None:
        return ""
    data = base64.b64encode((folder / png).read_bytes()).decode("ascii")
    img = f'<img alt="{e(figure.title)}" src="data:image/png;base64,{data}">'
    if svg:
        img = f'<a href="{e(svg)}" title="open the SVG">{img}</a>'
    link = f' <a href="{e(svg)}">SVG</a>' if svg else ""
    return (
        f'<figure id="fig-{e(Path(png).stem)}">{img}<figcaption><b>{e(figure.title)}.</b> '
        f"{e(figure.caption)}{link}</figcaption></figure>"
    )


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def table(rows: Sequence[Sequence[Any]], header: Sequence[str], raw: Sequence[int] = ()) -> str:
    """A table in its own scrolling box; columns listed in `raw` hold trusted HTML (links)."""
    head = "<tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>" if any(header) else ""

    def cell(k: int, c: Any) -> str:
        if k in raw:
            return f'<td class="links">{c}</td>'
        if (isinstance(c, int | float) and not isinstance(c, bool)) or c is None:
            return f'<td class="num">{e(fmt(c))}</td>'
        return f"<td>{e(c)}</td>"

    body = "".join("<tr>" + "".join(cell(k, c) for k, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="scroll"><table>{head}{body}</table></div>'


def metrics_table(rows: Sequence[Row]) -> str:
    out = ['<div class="scroll"><table><tr><th>metric</th><th>value</th><th>what it is</th></tr>']
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            out.append(f'<tr class="section"><th colspan="3">{e(section)}</th></tr>')
        value = row.value if isinstance(row.value, str) else fmt(row.value)
        cells = f'<td>{e(row.label)}</td><td class="num">{e(value)}</td><td class="muted">{e(row.note)}</td>'
        out.append(f"<tr>{cells}</tr>")
    out.append("</table></div>")
    return "".join(out)


def link(href: str, text: str | None = None) -> str:
    return f'<a href="{e(href)}">{e(text or href)}</a>'


def provenance(versions: Versions | None, scenario_sha256: str, extra: str = "") -> str:
    parts = []
    if versions is not None:
        parts.append(f"swimlab {versions.swimlab}")
        if versions.git_commit:
            dirty = " with uncommitted changes" if versions.git_dirty else ""
            parts.append(f"git {versions.git_commit[:12]}{dirty}")
        else:
            parts.append("not run from a git checkout")
        parts.append(f"python {versions.python}")
    if scenario_sha256:
        parts.append(f"scenario sha256 {scenario_sha256[:16]}")
    if extra:
        parts.append(extra)
    return f'<p class="muted">{e(" · ".join(parts))}</p>'


def _nav(sections: Sequence[tuple[str, str]]) -> str:
    return "<nav>" + "".join(f'<a href="#{e(anchor)}">{e(name)}</a>' for anchor, name in sections) + "</nav>"


def _figures(folder: Path, figures: Sequence[Figure], notes: Sequence[str]) -> list[str]:
    out = [_figure(folder, f) for f in figures]
    if notes:
        out.append('<p class="note">Not drawn: ' + " ".join(e(n) for n in notes) + "</p>")
    if not figures and not notes:
        out.append('<p class="note">No figures.</p>')
    return out


def fault_timeline(spans: Sequence[Span], duration_s: float) -> list[str]:
    """The timeline table; the events inside a window (a churn's crashes, a rolling restart's
    batches) are listed under it, folded, so a long churn does not bury the rest."""
    if not spans:
        return [f'<p class="note">No faults were injected: the {duration_s:g} s run is fault-free.</p>']
    header = (
        "start (s)",
        "end (s)",
        "lasts (s)",
        "fault",
        "nodes",
        "parameters",
        "ended by",
        "scenario entry",
    )

    def row(s: Span) -> tuple[Any, ...]:
        end = None if s.end is None else round(s.end, 3)
        return (round(s.start, 3), end, s.duration, s.label, describe(s), s.detail, s.ended_by, s.fault)

    windows = {s.label for s in spans if s.end is not None}
    top = [s for s in spans if s.within not in windows]
    out = [table([row(s) for s in top], header)]
    for window in dict.fromkeys(s.within for s in spans if s.within in windows):
        inside = [s for s in spans if s.within == window]
        counts: dict[str, int] = {}
        for s in inside:
            counts[s.op] = counts.get(s.op, 0) + 1
        tally = ", ".join(f"{n} {op.replace('_', ' ')}" for op, n in counts.items())
        out.append(
            f"<details><summary>{len(inside)} events during the {e(window)} ({e(tally)})</summary>"
            f"{table([row(s) for s in inside], header)}</details>"
        )
    return out


def crashes_table(detection: Sequence[CrashDetection], dissemination: Sequence[Dissemination]) -> str:
    rows = []
    for d, spread in zip(detection, dissemination, strict=True):
        verdicts = len(spread.dead_informed_s)
        rows.append(
            (
                d.node,
                round(d.crash_s, 3),
                seconds(d.first_suspect_s, True),
                seconds(d.first_dead_s, True),
                seconds(d.dead_everywhere_s, True)
                if d.dead_everywhere_s is not None
                else "not before the end",
                seconds(d.restarted_s, True),
                f"{len(spread.dead_by_timer_s)} of {verdicts}" if verdicts else "—",
            )
        )
    header = (
        "crashed",
        "at (s)",
        "first suspect (s)",
        "first dead (s)",
        "dead everywhere (s)",
        "restarted (s)",
        "dead verdicts by own timer",
    )
    return table(rows, header)


def oracles_section(result: RunResult) -> list[str]:
    """The invariant oracles (reports/oracles.py): judged on every run, apart from the verdict."""
    if not result.oracles:
        return []
    rows = [
        (VERDICT_MARK[o.ok], o.name, o.detail, "" if o.record is None else f"trace.jsonl:{o.record}")
        for o in result.oracles
    ]
    return [
        '<h3 id="oracles">Invariant oracles</h3>',
        '<p class="note">Properties every run must have (reports/oracles.py); they do not change the '
        "verdict. A violation names its first record.</p>",
        table(rows, ("", "oracle", "judged", "first violation")),
    ]


def run_page(
    folder: Path,
    result: RunResult,
    title: str,
    command: str,
    spans: Sequence[Span],
    rows: Sequence[Row],
    figures: Sequence[Figure],
    notes: Sequence[str],
    files: Sequence[tuple[Sequence[str], str]],
    back: str | None = None,
) -> str:
    """index.html of one run. `files`: (file name, what it holds) for the Files section;
    `back`: a link to the sweep this run belongs to."""
    m = result.metrics
    verdict = result.verdict
    checks = table(
        [(VERDICT_MARK[c.ok], c.name, c.detail) for c in result.checks],
        ("", "check", "measured"),
    )
    body = []
    if back:
        body.append(f"<p>{link(back, '← the sweep')}</p>")
    body += [
        f"<h1>{e(result.scenario)}</h1>",
        f'<p><span class="verdict {e(verdict)}">{e(verdict.upper())}</span> '
        f"{e(result.verdict_reason)} "
        f'<span class="muted">{e(title)}</span></p>',
        f"<p>{e(result.description)}</p>",
        _nav(
            [
                ("reproduce", "Reproduce"),
                ("checks", "Checks"),
                ("faults", "Fault timeline"),
                ("metrics", "Metrics"),
                ("figures", "Figures"),
                ("files", "Files"),
                ("configuration", "Configuration"),
            ]
        ),
        '<h2 id="reproduce">Reproduce</h2>',
        f"<pre>{e(command)}</pre>",
        provenance(result.versions, result.scenario_sha256, f"seed {result.seed} · runtime {result.runtime}"),
        '<h2 id="checks">Checks</h2>',
        checks
        if result.checks
        else '<p class="note">No checks requested: VALID only in that nothing was asked of the run.</p>',
        *oracles_section(result),
        '<h2 id="faults">Fault timeline</h2>',
        *fault_timeline(spans, result.duration_s),
    ]
    if result.warnings:
        warnings = [(w.t, w.fault, w.message) for w in result.warnings]
        body += ["<h3>Warnings</h3>", table(warnings, ("t (s)", "scenario entry", "warning"))]
    body += ['<h2 id="metrics">Metrics</h2>', metrics_table(rows)]
    if m.detection:
        body += ["<h3>Crashes</h3>", crashes_table(m.detection, m.dissemination)]
    fp = m.false_positives
    if fp.verdicts:
        body += [
            "<h3>False positives (first 20 accusations; rule: reports/metrics/false_positives.py)</h3>",
            table(
                [(x.t, x.accuser, x.event, x.member, x.heard, x.post_heal) for x in fp.verdicts[:20]],
                ("t (s)", "accuser", "verdict", "about", "held by", "post-heal"),
            ),
        ]
    body.append('<h2 id="figures">Figures</h2>')
    body += _figures(folder, figures, notes)
    body += ['<h2 id="files">Files</h2>', _files(files)]
    body.append('<h2 id="configuration">Configuration</h2>')
    body.append("<pre>" + e(json.dumps(result.config, indent=1)) + "</pre>")
    if result.effective_scenario:
        scenario = json.dumps(result.effective_scenario, indent=1)
        body.append("<h3>Scenario as it ran</h3><pre>" + e(scenario) + "</pre>")
    return _page(f"{result.scenario} seed {result.seed}", "\n".join(body))


def _files(files: Sequence[tuple[Sequence[str], str]]) -> str:
    items = "".join(f"<li>{' · '.join(link(n) for n in names)} — {e(what)}</li>" for names, what in files)
    return f"<ul>{items}</ul>"


def sweep_page(
    folder: Path,
    sweep: Sweep,
    title: str,
    command: str,
    medians: tuple[Sequence[Sequence[Any]], Sequence[str]],
    points: tuple[Sequence[Sequence[Any]], Sequence[str], Sequence[int]],
    figures: Sequence[Figure],
    notes: Sequence[str],
    files: Sequence[tuple[Sequence[str], str]],
) -> str:
    """index.html of a sweep: how many points ran and their verdicts, the configuration, the
    per-grid-point medians, the figures, every point with its own values and links, the
    failed points with their errors."""
    all_points: Sequence[SweepPoint] = sweep.points
    failed = [p for p in all_points if p.status != "ok"]
    v = sweep.verdicts
    status = v.verdict
    summary = (
        f"{v.verdict.upper()}: {v.valid} valid, {v.invalid} invalid, {v.unknown} unknown, "
        f"{v.error} failed to run (of {len(all_points)})"
    )
    base = sweep.base
    overrides = ", ".join(f"{k}={v}" for k, v in base.config_overrides.items()) or "none"
    config_rows: list[tuple[str, str]] = [
        ("scenario", sweep.source),
        (
            "base cluster",
            f"N={base.nodes}, preset {base.preset}, config overrides: {overrides}, "
            f"loss {base.network.loss:g}",
        ),
        ("--set", ", ".join(sweep.overrides) or "none"),
        ("grid", "; ".join(f"{k} = {', '.join(map(str, v))}" for k, v in sweep.grid.items()) or "none"),
        ("seeds", ", ".join(map(str, sweep.seeds))),
        ("x axis", sweep.x or "(first numeric swept key)"),
        ("metrics", ", ".join(sweep.metrics)),
    ]
    for name, changes in sweep.variants.items():
        config_rows.append(
            (f"variant {name}", ", ".join(f"{k}={v}" for k, v in changes.items()) or "the defaults")
        )
    body = [
        f"<h1>sweep: {e(sweep.scenario)}</h1>",
        f'<p><span class="verdict {status}">{e(summary)}</span> <span class="muted">{e(title)}</span></p>',
        f"<p>{e(sweep.description)}</p>",
        _nav(
            [
                ("reproduce", "Reproduce"),
                ("configuration", "Configuration"),
                ("medians", "Medians"),
                ("figures", "Figures"),
                ("points", "Points"),
                ("files", "Files"),
            ]
        ),
        '<h2 id="reproduce">Reproduce</h2>',
        f"<pre>{e(command)}</pre>",
        provenance(None, sweep.provenance.scenario_sha256, _sweep_versions(sweep)),
        '<h2 id="configuration">Configuration</h2>',
        table(config_rows, ("", "")),
        '<h2 id="medians">Medians over seeds, per grid point</h2>',
        table(*medians),
        '<h2 id="figures">Figures</h2>',
        *_figures(folder, figures, notes),
        '<h2 id="points">Points</h2>',
        '<p class="muted">Every run of the sweep with its own values; each links its result.json '
        "and its page.</p>",
        table(points[0], points[1], raw=points[2]),
    ]
    judged = [p for p in all_points if p.status == "ok" and p.verdict != "valid"]
    if judged:
        body += [
            "<h2>Points not valid</h2>",
            table(
                [(json.dumps(p.params), p.seed, (p.verdict or "").upper(), p.verdict_reason) for p in judged],
                ("params", "seed", "verdict", "why"),
            ),
        ]
    if failed:
        body += [
            "<h2>Failed points</h2>",
            table([(json.dumps(p.params), p.seed, p.error) for p in failed], ("params", "seed", "error")),
        ]
    body += ['<h2 id="files">Files</h2>', _files(files)]
    return _page(f"sweep {sweep.scenario}", "\n".join(body))


def _sweep_versions(sweep: Sweep) -> str:
    p = sweep.provenance
    parts = [f"swimlab {p.swimlab}"]
    if p.git_commit:
        parts.append(f"git {p.git_commit[:12]}" + (" with uncommitted changes" if p.git_dirty else ""))
    else:
        parts.append("not run from a git checkout")
    return " · ".join(parts)
