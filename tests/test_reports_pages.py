"""The run and sweep pages a design review reads (issue 12): what they show is asserted on their
content - the HTML, plots.json (the arrays each figure drew), the matplotlib figures themselves -
and, when Chromium is installed, on what a browser renders at 1400 px and at a phone's 420 px."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import msgspec
import pytest

from swimlab.protocol import events, trace_schema
from swimlab.reports import plots, render
from swimlab.reports.html import fmt
from swimlab.reports.metrics import MetricsAccumulator
from swimlab.reports.provenance import CHECKOUT
from swimlab.reports.schema import InjectedFault, read_result, read_sweep
from swimlab.reports.timeline import fault_spans
from swimlab.scenarios.cli import main
from swimlab.scenarios.errors import ScenarioError
from swimlab.scenarios.loader import load_scenario
from swimlab.scenarios.runner import run_scenario
from swimlab.scenarios.sweep import plan_sweep

from .browser import Chromium, find_chromium


def run(tmp: Path, name: str, *sets: str, seed: int = 1) -> Path:
    out = tmp / name
    run_scenario(
        load_scenario(name, list(sets)), seed, out_dir=out, command=f"swimlab run {name} --seed {seed}"
    )
    return out


def drawn(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "plots.json").read_text())
    return data


def page(folder: Path) -> str:
    return (folder / "index.html").read_text()


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library's churn scenario as it is, seed 1: the run where the old fixed denominator
    ended one crash's curve at 0.933 and took another's to 1.012."""
    return run(tmp_path_factory.mktemp("pages"), "churn")


@pytest.fixture(scope="module")
def heal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run(tmp_path_factory.mktemp("pages"), "partition_heal", "cluster.nodes=20")


@pytest.fixture(scope="module")
def flip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run(tmp_path_factory.mktemp("pages"), "flip_flop", "cluster.nodes=30")


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run(tmp_path_factory.mktemp("pages"), "crash_many", "cluster.nodes=40", "duration_s=75")


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run(tmp_path_factory.mktemp("pages"), "steady_state", "cluster.nodes=12", "duration_s=40")


SWEEP_SETS = ["duration_s=24", "faults.0.at_s=12", "cluster.join_window_s=1"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A crash sweep run from the command line, as a user would, with a worker count."""
    out = tmp_path_factory.mktemp("sweeps") / "crash-sweep"
    args = ["sweep", "crash_one", "--grid", "cluster.nodes=8,16", "--seeds", "2", "--workers", "2"]
    args += [f"--set={s}" for s in SWEEP_SETS] + ["--out", str(out), "--quiet"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a figure that warns (matplotlib's empty legend, ...) fails
        assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def quiet_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweeps") / "quiet-sweep"
    args = ["sweep", "steady_state", "--grid", "cluster.nodes=8,12", "--seeds", "1", "--workers", "2"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main([*args, "--set", "duration_s=30", "--out", str(out), "--quiet"]) == 0
    return out


# 1. Convergence over the live membership ------------------------------------------------------
def test_convergence_fractions_are_over_the_membership_live_at_each_instant(churn: Path) -> None:
    result = read_result(churn / "result.json")
    figure = drawn(churn)["convergence"]
    crashes = {d.node: d for d in result.metrics.detection}
    assert len(figure["episodes"]) == len(crashes) == 12
    for episode in figure["episodes"]:
        crash = crashes[episode["node"]]
        for key in ("suspect", "dead", "dead_by_timer", "dead_by_news"):
            assert all(0.0 <= f <= 1.0 for f in episode[key]), (episode["node"], key)
        assert crash.dead_everywhere_s is not None
        # It reaches 1 exactly when the table says "dead everywhere", and not before.
        assert episode["dead"][-1] == 1.0 and episode["t_s"][-1] == crash.dead_everywhere_s
        assert all(f < 1.0 for f in episode["dead"][:-1])
    # The old denominator (observers frozen at the crash) is wrong on this very run.
    old = [len(e.dead_informed_s) / e.observers for e in result.metrics.dissemination]
    assert min(old) < 0.95 and max(old) > 1.0, old
    assert "share of the nodes live at that instant" in figure["caption"]


def state(t: float, node: str, event: str, member: str, accuser: str | None) -> trace_schema.StateRecord:
    record = trace_schema.notification(t, node, events.MemberJoined(member, 0))
    record["event"] = event  # type: ignore[typeddict-item]
    record["accuser"] = accuser
    return record


def test_dead_verdicts_are_split_into_own_timer_and_news() -> None:
    acc = MetricsAccumulator(sample_every_s=0)
    acc.feed(trace_schema.meta(0.0, "t", 1, "sim", 30.0, list("abcd"), "lan", {}))
    for n in "abcd":
        acc.feed(trace_schema.host(0.0, n, "up", "formed"))
    acc.feed(trace_schema.host(10.0, "d", "down", "crash"))
    acc.feed(state(11.0, "a", "suspect", "d", "a"))
    acc.feed(state(11.2, "b", "suspect", "d", "a"))
    acc.feed(trace_schema.host(12.0, "e", "up", "join"))  # joins after the crash, never knew d
    acc.feed(state(15.0, "a", "dead", "d", "a"))  # a's own suspicion timer
    acc.feed(state(15.1, "b", "dead", "d", "a"))  # news from a
    acc.feed(state(16.0, "c", "dead", "d", "c"))  # c never heard the suspicion: its own timer
    (spread,) = acc.finish(30.0, 0.0).dissemination
    assert spread.dead_informed_s == [0.0, 0.1, 1.0] and spread.dead_by_timer_s == [0.0, 1.0]
    curve = spread.informed
    assert curve.t_s[0] == 0.0 and curve.live[0] == 3
    # e counts as live from 12 s, and as informed of the death (it holds d down), not of the suspicion.
    assert (curve.live[-1], curve.suspect[-1], curve.dead[-1], curve.dead_by_timer[-1]) == (4, 4, 4, 2)
    at_join = curve.t_s.index(2.0)
    assert (curve.live[at_join], curve.suspect[at_join], curve.dead[at_join]) == (4, 3, 1)
    assert curve.t_s[-1] == 6.0  # dead everywhere: c's verdict


def test_own_timer_verdicts_are_the_traces_self_accused_dead_records(churn: Path) -> None:
    result = read_result(churn / "result.json")
    crashed = {d.node for d in result.metrics.detection}
    own: dict[str, int] = dict.fromkeys(crashed, 0)
    for line in (churn / "trace.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["kind"] == "state" and r["event"] == "dead" and r["member"] in crashed:
            own[r["member"]] += r["accuser"] == r["node"]
    for spread in result.metrics.dissemination:
        assert len(spread.dead_by_timer_s) == own[spread.node] > 0
        assert 0 < len(spread.dead_by_timer_s) < len(spread.dead_informed_s)


def test_serf_model_is_laid_over_the_suspicion_only(churn: Path, sweep: Path) -> None:
    result = read_result(churn / "result.json")
    figure = drawn(churn)["convergence"]
    crashes = {d.node: d for d in result.metrics.detection}
    spreads = {s.node: s for s in result.metrics.dissemination}
    assert figure["serf"] and {s["node"] for s in figure["serf"]} == set(figure["highlighted"])
    for model in figure["serf"]:
        assert model["t_s"][0] == crashes[model["node"]].first_suspect_s  # starts at the first suspicion
        assert model["n"] == plots.informed_at(spreads[model["node"]], model["t_s"][0])[0]
    caption = figure["caption"]
    for words in ("spreads by gossip", "started at each crash's first suspicion", "n = ", "fanout 3"):
        assert words in caption
    assert "T′ (probe interval) = 1 s" in caption and "own suspicion timer" in caption
    assert "no gossip model is laid over the timers" in caption
    # On a sweep: beside the suspicion's spread, never beside the dead verdict's.
    s = read_sweep(sweep / "sweep.json")
    assert render._overlay("suspicion_t99_s", "cluster.nodes", s) is not None
    assert render._overlay("dissemination_t99_s", "cluster.nodes", s) is None


# 2. Warm-up, empty figures, defaults ----------------------------------------------------------
def test_after_warm_up_starts_when_the_bootstrap_ends() -> None:
    acc = MetricsAccumulator(sample_every_s=1.0)
    acc.feed(trace_schema.meta(0.0, "t", 1, "sim", 30.0, list("abc"), "lan", {}))
    for n in "abc":
        acc.feed(trace_schema.host(0.1, n, "up", "boot"))
    acc.feed(state(1.5, "a", "joined", "b", None))  # a storm of partial views
    acc.feed(state(2.5, "b", "joined", "a", None))
    for o, m in ("ac", "bc", "ca", "cb"):
        acc.feed(state(4.5, o, "joined", m, None))  # everyone agrees from 4.5 s
    acc.feed(state(20.0, "a", "suspect", "b", "a"))  # suspect keeps b up: views do not change
    acc.feed(trace_schema.end(30.0, 0, 0, 0, 0, {}, {}))
    m = acc.finish(30.0, 0.0)
    assert max(m.views.distinct) == 3 and m.warmup_end_s == 4.5 and m.max_distinct_views == 1
    never = MetricsAccumulator(sample_every_s=1.0)
    never.feed(trace_schema.meta(0.0, "t", 1, "sim", 30.0, list("ab"), "lan", {}))
    never.feed(trace_schema.host(0.1, "a", "up", "boot"))  # b never comes up
    assert never.finish(30.0, 0.0).max_distinct_views is None


def test_the_churn_runs_distinct_views_are_counted_after_its_bootstrap(churn: Path) -> None:
    m = read_result(churn / "result.json").metrics
    assert m.warmup_end_s is not None and m.warmup_end_s > 5.0
    storm = max(d for t, d in zip(m.views.t, m.views.distinct, strict=True) if t < m.warmup_end_s)
    assert m.max_distinct_views is not None and m.max_distinct_views < storm
    assert "after warm-up" in page(churn) and f"from {m.warmup_end_s:.1f} s" in page(churn)


def test_a_run_without_crashes_skips_the_crash_figures_and_says_why(quiet: Path) -> None:
    assert not (quiet / "convergence.png").exists() and not (quiet / "detection_cdf.png").exists()
    html = page(quiet)
    assert "Not drawn: crash figures — nothing crashed in this run." in html
    assert "first suspicion" not in html and "re-merge" not in html
    assert "No faults were injected" in html


def test_a_sweeps_metrics_follow_its_faults_and_metrics_chooses_them(tmp_path: Path) -> None:
    def metrics(name: str, chosen: list[str] | None = None) -> list[str]:
        return plan_sweep(name, seeds=1, metrics=chosen).metrics

    assert metrics("crash_one")[:4] == [
        "first_suspect_periods",
        "first_dead_s",
        "dead_everywhere_s",
        "suspicion_t99_s",
    ]
    assert metrics("partition_heal")[0] == "heal_converged_s"
    assert "view_changes_per_node_hour" in metrics("flip_flop") and "view_changes_per_node_hour" in metrics(
        "churn"
    )
    assert metrics("steady_state")[0] == "fp_originated_suspect_per_node_hour"
    assert "first_dead_s" not in metrics("steady_state")
    assert metrics("crash_one", ["dead_everywhere_s"]) == ["dead_everywhere_s"]
    with pytest.raises(ScenarioError, match=r"--metrics: 0: expected one of .*got 'speed'"):
        metrics("crash_one", ["speed"])
    assert main(["sweep", "crash_one", "--metrics", "speed", "--out", str(tmp_path)]) == 2


def test_a_crash_free_sweep_plots_what_it_tests_and_explains_the_rest(quiet_sweep: Path) -> None:
    s = read_sweep(quiet_sweep / "sweep.json")
    assert s.metrics[0] == "fp_originated_suspect_per_node_hour"
    assert not (quiet_sweep / "detection_cdf.png").exists()
    assert (quiet_sweep / "sweep_fp_originated_suspect_per_node_hour.png").exists()
    assert "detection CDF — no crash in any point of this sweep." in page(quiet_sweep)


def test_a_metric_no_point_measured_is_not_drawn_and_the_page_says_so(
    quiet_sweep: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(quiet_sweep, folder)
    data = json.loads((folder / "sweep.json").read_text())
    data["metrics"] = ["first_dead_s", "messages_per_node_per_s"]  # nothing crashed: no first dead
    (folder / "sweep.json").write_text(json.dumps(data))
    render.render_sweep(folder, point_pages=False)
    assert (
        not (folder / "sweep_first_dead_s.png").exists()
        and (folder / "sweep_messages_per_node_per_s.png").exists()
    )
    assert "first dead verdict after a crash (s) — no point measured it" in page(folder)


def test_the_console_rounds_times_and_never_prints_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "crash_many", "--seed", "1", "--out", str(tmp_path)]
    args += ["--set=cluster.nodes=16", "--set=duration_s=47", "--set=faults.0.count=7"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's legend warning (and any other) fails the test
        main(args)
    out = capsys.readouterr().out
    crashes = [line for line in out.splitlines() if line.strip().startswith("crash ")]
    # (A check's own detail is reports/checks.py's wording, not this console's.)
    assert not any("None" in line for line in crashes) and "never (not before the run ended)" in out
    assert len(crashes) == 5 and "7 crashes; the 5 slowest" in out
    assert not any(re.search(r"\d\.\d{3,} s", line) for line in crashes), crashes


# 3. The fault timeline, and the figure each scenario tests -----------------------------------
def timeline_marks(folder: Path) -> list[list[Any]]:
    result = read_result(folder / "result.json")
    return [[s.start, s.end, s.label] for s in fault_spans(result)]


def test_every_time_axis_marks_the_fault_timeline(heal: Path, flip: Path, churn: Path) -> None:
    for folder, figures in (
        (heal, ("view_sizes", "remerge")),
        (flip, ("view_sizes", "instability")),
        (churn, ("view_sizes", "instability")),
    ):
        marks = timeline_marks(folder)
        assert marks
        for name in figures:
            assert drawn(folder)[name]["faults"] == marks, (folder.name, name)
    assert timeline_marks(heal) == [[30.0, 90.0, "partition (majority)"], [90.0, None, "heal"]]
    flips = [m for m in timeline_marks(flip) if m[1] is not None]
    assert [(m[0], m[1]) for m in flips] == [(30.0, 50.0), (70.0, 90.0), (110.0, 130.0)]
    assert all(m[2].startswith("ingress drop ") for m in flips)


def test_the_timeline_pairs_each_fault_with_its_end(quiet: Path) -> None:
    result = read_result(quiet / "result.json")

    def spans(*entries: dict[str, Any]) -> list[tuple[float, float | None, str, str]]:
        faults = [msgspec.convert(e, InjectedFault) for e in entries]
        return [
            (s.start, s.end, s.label, s.ended_by)
            for s in fault_spans(msgspec.structs.replace(result, faults=faults))
        ]

    partition = {
        "t": 10.0,
        "fault": "faults.0",
        "op": "partition",
        "nodes": [],
        "params": {"shape": "halves"},
    }
    assert spans(partition, {"t": 25.0, "fault": "faults.1", "op": "heal", "nodes": []}) == [
        (10.0, 25.0, "partition (halves)", "heal"),  # a heal of its own ends every partition
        (25.0, None, "heal", ""),
    ]
    assert spans(partition) == [(10.0, 40.0, "partition (halves)", "end of run")]
    flip = [
        {"t": t, "fault": "faults.0.fault", "op": op, "nodes": ["n3"]}
        for t, op in ((5.0, "loss"), (10.0, "loss_off"), (15.0, "loss"), (20.0, "loss_off"))
    ]
    assert spans(*flip) == [(5.0, 10.0, "loss n3", "loss_off"), (15.0, 20.0, "loss n3", "loss_off")]
    rolling = [
        {"t": 5.0, "fault": "faults.0", "op": "rolling_restart", "nodes": ["a", "b"], "batches": [["a"], ["b"]],
         "params": {"interval_s": 10.0, "downtime_s": 2.0}},
        {"t": 5.0, "fault": "faults.0", "op": "crash", "nodes": ["a"], "batch": 0},
        {"t": 7.0, "fault": "faults.0", "op": "restart", "nodes": ["a"], "batch": 0},
        {"t": 15.0, "fault": "faults.0", "op": "crash", "nodes": ["b"], "batch": 1},
        {"t": 17.0, "fault": "faults.0", "op": "restart", "nodes": ["b"], "batch": 1},
    ]  # fmt: skip
    assert spans(*rolling) == [
        (5.0, 17.0, "rolling restart", ""),
        (5.0, 7.0, "batch 0 down", "restart"),
        (15.0, 17.0, "batch 1 down", "restart"),
    ]
    mass = [
        {
            "t": 5.0,
            "fault": "faults.0",
            "op": "mass_restart",
            "nodes": ["a", "b", "c"],
            "params": {"downtime_s": 3.0},
        },
        {"t": 8.0, "fault": "faults.0", "op": "restart", "nodes": ["a", "b", "c"]},
    ]
    assert spans(*mass) == [(5.0, 8.0, "mass restart (3 nodes)", ""), (8.0, None, "restart (3 nodes)", "")]


def test_the_convergence_axis_marks_the_other_faults_when_the_crashes_share_an_instant(
    tmp_path: Path, many: Path, churn: Path
) -> None:
    scenario = tmp_path / "crash_in_loss.toml"
    scenario.write_text(
        'description = "a crash, then loss"\nduration_s = 60.0\n[cluster]\nnodes = 12\njoin_window_s = 2.0\n'
        '[[faults]]\nat_s = 30.0\nop = "crash"\ncount = 1\n'
        '[[faults]]\nat_s = 33.0\nop = "loss"\nrate = 0.1\nduration_s = 6.0\n'
    )
    run_scenario(load_scenario(str(scenario)), 1, out_dir=tmp_path / "run")
    figure = drawn(tmp_path / "run")["convergence"]
    assert figure["faults"] == [[3.0, 9.0, "loss"]]  # in seconds since the crash
    assert "Other faults are marked as in the fault timeline." in figure["caption"]
    assert drawn(many)["convergence"]["faults"] == []  # ten crashes at one instant, nothing else
    assert "faults" not in drawn(churn)["convergence"]
    assert "crashes happened at different instants" in drawn(churn)["convergence"]["caption"]


def test_every_run_page_has_a_fault_timeline(heal: Path, churn: Path, quiet: Path) -> None:
    html = page(heal)
    row = re.search(
        r"<tr><td class=\"num\">30</td><td class=\"num\">90</td><td class=\"num\">60</td><td>partition \(majority\)</td>",
        html,
    )
    assert row, "the partition's row: start, end, duration, name"
    assert "sides of 9 / 11 nodes" in html and "<td>heal</td>" in html
    churned = page(churn)
    assert re.search(
        r"<details><summary>\d+ events during the churn \(\d+ crash, \d+ leave, \d+ join\)</summary>", churned
    )
    assert "n82" in churned
    assert '<h2 id="faults">Fault timeline</h2>' in page(quiet)


def test_the_remerge_figure_shows_each_heal(heal: Path) -> None:
    m = read_result(heal / "result.json").metrics
    (after,) = m.heal_s()
    (curve,) = m.remerge
    assert after is not None and curve.converged and curve.heal_t == 90.0
    assert curve.t_s[-1] == after and curve.disagreeing[-1] == 0 and curve.disagreeing[0] > 0
    (figure,) = drawn(heal)["remerge"]["heals"]
    assert figure["remerge_s"] == after and figure["t_s"] == curve.t_s
    assert f"{after:.2f} s after the heal" in drawn(heal)["remerge"]["caption"]
    assert "views re-merge after the heal (s)" in page(heal)


def test_churn_and_flip_flop_get_an_instability_figure(churn: Path, flip: Path, heal: Path) -> None:
    assert not (heal / "instability.png").exists()
    for folder in (churn, flip):
        m = read_result(folder / "result.json").metrics
        figure = drawn(folder)["instability"]
        v = m.views
        k = 10
        expected = v.changes[k + 1] / (v.live[k] * (v.t[k + 1] - v.t[k]))
        assert figure["t_s"][k] == v.t[k] and figure["rate"][k] == pytest.approx(expected, abs=1e-6)
        assert max(figure["rate"]) > 0
        assert "view changes per node-hour after warm-up" in page(folder)


# 4. Links, provenance, reproduce commands ----------------------------------------------------
def local_links(html: str) -> list[str]:
    return [h for h in re.findall(r'href="([^"#]+)"', html) if not h.startswith(("http:", "https:"))]


def test_a_run_page_links_its_files_and_each_figure_opens_its_svg(many: Path) -> None:
    html = page(many)
    links = local_links(html)
    for name in (
        "result.json",
        "series.json",
        "trace.jsonl",
        "plots.json",
        "convergence.svg",
        "detection_cdf.svg",
    ):
        assert name in links, name
    assert all((many / link).exists() for link in links), links
    images = re.findall(r"<a href=\"([^\"]+)\" title=\"open the SVG\"><img ", html)
    assert sorted(images) == sorted(f"{name}.svg" for name in drawn(many)) and len(images) == html.count(
        "<img "
    )


def test_a_sweep_page_links_sweep_json_and_every_points_result_and_page(sweep: Path) -> None:
    html = page(sweep)
    links = local_links(html)
    assert "sweep.json" in links
    assert all((sweep / link).exists() for link in links), links
    s = read_sweep(sweep / "sweep.json")
    for p in s.points:
        assert f"points/{p.id}/result.json" in links and f"points/{p.id}/index.html" in links
        point_page = (sweep / "points" / p.id / "index.html").read_text()
        assert (
            '<a href="../../index.html">' in point_page
            and (sweep / "points" / p.id / "../../index.html").exists()
        )
        assert read_result(sweep / "points" / p.id / "result.json").seed == p.seed


def test_provenance_is_recorded_and_shown(many: Path) -> None:
    result = read_result(many / "result.json")
    v = result.versions
    assert v.swimlab == metadata.version("swimlab")
    if (CHECKOUT / ".git").exists():
        head = subprocess.run(
            ["git", "-C", str(CHECKOUT), "rev-parse", "HEAD"], capture_output=True, text=True
        )
        assert v.git_commit == head.stdout.strip() and isinstance(v.git_dirty, bool)
    content = {k: v for k, v in result.effective_scenario.items() if k != "source"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    assert result.scenario_sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    html = page(many)
    assert f"swimlab {v.swimlab}" in html and f"scenario sha256 {result.scenario_sha256[:16]}" in html
    if v.git_commit:
        assert f"git {v.git_commit[:12]}" in html


def test_reproduce_commands_carry_no_machine_path_or_worker_count(sweep: Path, tmp_path: Path) -> None:
    command = read_sweep(sweep / "sweep.json").command
    assert command == (
        "swimlab sweep crash_one --set duration_s=24 --set faults.0.at_s=12 --set cluster.join_window_s=1 "
        "--grid cluster.nodes=8,16 --seeds 2 --out crash-sweep"
    )
    assert read_sweep(sweep / "sweep.json").provenance.scenario_sha256
    library_file = CHECKOUT / "scenarios" / "library" / "crash_one.toml"
    args = ["run", str(library_file), "--set=cluster.nodes=6", "--set=duration_s=12", "--set=faults.0.at_s=6"]
    assert main([*args, "--out", str(tmp_path), "--quiet"]) in (0, 1)
    (folder,) = tmp_path.iterdir()
    command = read_result(folder / "result.json").command
    assert (
        command
        == "swimlab run crash_one --seed 1 --set=cluster.nodes=6 --set=duration_s=12 --set=faults.0.at_s=6"
    )
    reproduce = page(folder).split('<h2 id="reproduce">')[1].split("<h2")[0]
    assert str(tmp_path) not in reproduce and str(CHECKOUT) not in reproduce


# 5. Readable figures --------------------------------------------------------------------------
def axes_inches(fig: Any, ax: Any) -> tuple[float, ...]:
    """The axes' size and place in inches, from the figure's left and top edges."""
    width, height = fig.get_size_inches()
    x0, y0, w, h = ax.get_position().bounds
    return tuple(round(float(v), 3) for v in (x0 * width, (1 - y0 - h) * height, w * width, h * height))


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The matplotlib figures a render draws, by file stem, kept open for inspection."""
    kept: dict[str, Any] = {}
    save = plots._save

    def keep(fig: Any, stem: Path, fixed: bool = False) -> list[str]:
        fig.canvas.draw()
        kept[stem.name] = {
            "axes": [
                {
                    "inches": axes_inches(fig, ax),
                    "legend": ax.get_legend(),
                    "xscale": ax.get_xscale(),
                    "xlim": ax.get_xlim(),
                    "ylim": ax.get_ylim(),
                    "xlabel": ax.get_xlabel(),
                    "ylabel": ax.get_ylabel(),
                    "lines": [(line.get_label(), line.get_color()) for line in ax.get_lines()],
                    "bottom": ax.get_window_extent().y0,
                }
                for ax in fig.axes
            ],
            "legends": [
                ([t.get_text() for t in leg.get_texts()], leg.get_window_extent().y1) for leg in fig.legends
            ],
        }
        return save(fig, stem, fixed)

    monkeypatch.setattr(plots, "_save", keep)
    yield kept


def test_run_figures_keep_legends_off_the_data_and_name_the_slowest_crashes(
    many: Path, figures: dict[str, Any]
) -> None:
    render.render_run(many)
    for name, fig in figures.items():
        assert all(ax["legend"] is None for ax in fig["axes"]), name  # no legend inside any axes
        (legend,) = fig["legends"]
        assert legend[1] <= min(ax["bottom"] for ax in fig["axes"]), name  # it sits below them all
    result = read_result(many / "result.json")
    slowest = sorted(result.metrics.detection, key=lambda d: d.dead_everywhere_s or 1e9, reverse=True)
    assert drawn(many)["convergence"]["highlighted"] == [d.node for d in slowest[: len(plots.HIGHLIGHT)]]
    top = figures["convergence"]["axes"][0]["lines"]
    coloured = [
        (label, color) for label, color in top if label.startswith("n") and "dead everywhere" in label
    ]
    assert [c for _, c in coloured] == list(plots.HIGHLIGHT)  # one colour each, none repeated
    assert f"{len(slowest) - len(plots.HIGHLIGHT)} other crashes" in figures["convergence"]["legends"][0][0]
    assert len({str(c) for c in plots.colors(25)}) == 25 and len({str(c) for c in plots.colors(7)}) == 7


def test_sweep_figures_share_one_x_axis_start_at_zero_and_name_things(
    sweep: Path, figures: dict[str, Any]
) -> None:
    render.render_sweep(sweep, point_pages=False)
    curves = {name: fig for name, fig in figures.items() if name.startswith("sweep_") or name == "load_vs_n"}
    assert len(curves) >= 5
    assert len({fig["axes"][0]["inches"] for fig in curves.values()}) == 1  # one size, one place
    assert len({fig["axes"][0]["xlim"] for fig in curves.values()}) == 1  # one x range
    for name, fig in curves.items():
        (ax,) = fig["axes"]
        assert ax["xscale"] == "log" and ax["xlabel"] == "cluster size N (log2 scale)", name
        assert ax["ylim"][0] == 0 and "_" not in ax["ylabel"], name
        if name != "load_vs_n":
            assert any("min–max over 2 seeds" in text for text in fig["legends"][0][0]), name
    cdf = drawn(sweep)["detection_cdf"]
    assert set(cdf["points"]) == {"cluster.nodes=8", "cluster.nodes=16"}


# 6. Small screens, the metrics table, the sweep's points -------------------------------------
def test_pages_fit_small_screens(many: Path, sweep: Path) -> None:
    for html in (page(many), page(sweep)):
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert html.count("<table>") == html.count('<div class="scroll"><table>') > 0


def test_the_metrics_table_fits_the_scenario(many: Path, heal: Path, churn: Path) -> None:
    crash, healed, churned = page(many), page(heal), page(churn)
    assert (
        "first suspicion (s after the crash)" in crash and "share of dead verdicts from the observer" in crash
    )
    assert "first suspicion" not in healed and "views re-merge after the heal (s)" in healed
    assert "view changes per node-hour" in churned and "view changes per node-hour" not in crash
    for html in (crash, healed, churned):
        for definition in render.FP_DEFINITIONS.values():
            assert definition.replace("'", "&#x27;") in html


def test_the_sweep_page_shows_each_points_verdict_configuration_and_values(sweep: Path) -> None:
    s = read_sweep(sweep / "sweep.json")
    html = page(sweep)
    assert "grid</td><td>cluster.nodes = 8, 16" in html and "seeds</td><td>1, 2" in html
    metric = s.metrics[0]
    for p in s.points:
        value = (p.summary or {})[metric]
        row = (
            f'<tr><td class="num">{p.params["cluster.nodes"]}</td><td class="num">{p.seed}</td>'
            f'<td>{p.verdict}</td><td></td><td class="num">{fmt(value)}</td>'
        )
        assert row in html, row


# 7. In a browser ------------------------------------------------------------------------------
@pytest.mark.skipif(
    find_chromium() is None, reason="needs Debian's chromium (apt-get install chromium) or SWIMLAB_CHROMIUM"
)
def test_pages_in_a_browser_decode_every_image_and_never_overflow(
    many: Path, sweep: Path, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("SWIMLAB_SCREENSHOTS", tmp_path))
    with Chromium() as browser:
        for folder in (many, sweep):
            expected = page(folder).count("<img ")
            for width in (1400, 420):
                shot = shots / f"{folder.name}-{width}.png"
                found = browser.check(folder / "index.html", width, screenshot=shot)
                assert found["images"] == expected > 0 and found["broken"] == [], found
                assert found["overflowing"] == [] and found["scroll_width"] <= found["width"], found
                if width == 420:
                    assert found["width"] == 420, found  # the viewport tag is honoured, as on a phone
                assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
