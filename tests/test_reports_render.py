"""Run and sweep folders render to valid PNG/SVG figures whose plotted data is the result files'
metrics; a sweep runs on a local pool and on Dask with identical sweep.json, resumes without
redoing finished points, and records a failing point without stopping."""

from __future__ import annotations

import json
import statistics
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from swimlab.reports.render import render
from swimlab.scenarios.cli import main
from swimlab.scenarios.loader import load_scenario
from swimlab.scenarios.runner import run_scenario
from swimlab.scenarios.sweep import parse_grid, plan_sweep, run_sweep

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_figure(folder: Path, stem: str) -> None:
    png, svg = folder / f"{stem}.png", folder / f"{stem}.svg"
    assert png.read_bytes()[:8] == PNG_MAGIC, png
    assert ET.parse(svg).getroot().tag.endswith("svg"), svg


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = load_scenario(
        "crash_one", ["cluster.nodes=12", "duration_s=30", "faults.0.at_s=15", "cluster.join_window_s=2"]
    )
    out = tmp_path_factory.mktemp("run")
    run_scenario(scenario, 3, out_dir=out, command="swimlab run crash_one --seed 3 --set cluster.nodes=12")
    return out


def test_run_folder_figures_match_result(run_dir: Path) -> None:
    for stem in ("convergence", "view_sizes"):
        assert_figure(run_dir, stem)
    assert not (run_dir / "detection_cdf.png").exists()  # one crash: its row in the table says it all
    result = json.loads((run_dir / "result.json").read_text())
    drawn = json.loads((run_dir / "plots.json").read_text())
    m = result["metrics"]
    (crash,) = m["detection"]
    (spread,) = m["dissemination"]
    # Convergence: the measured curves are the saved informed counts over the live membership.
    curve = spread["informed"]
    episode = drawn["convergence"]["episodes"][0]
    assert episode["t_s"] == curve["t_s"]
    assert episode["dead"] == [round(d / n, 6) for d, n in zip(curve["dead"], curve["live"], strict=True)]
    assert spread["observers"] == 11 and episode["dead"][-1] == 1.0
    assert curve["t_s"][-1] == crash["dead_everywhere_s"]
    assert drawn["convergence"]["swim_expected_first_detection_s"] == pytest.approx(1.582, abs=1e-3)
    (serf,) = drawn["convergence"]["serf"]
    assert serf["t_s"][0] == crash["first_suspect_s"] and serf["n"] == 11
    assert drawn["view_sizes"]["distinct"] == m["views"]["distinct"]
    assert drawn["view_sizes"]["t_s"] == m["views"]["t"]
    # Per-node load is there, and the mean over nodes is near the cluster-wide rate.
    per_node = m["load"]["per_node"]["messages_per_s"]
    assert per_node["mean"] <= per_node["p99"] <= per_node["max"]
    assert per_node["mean"] == pytest.approx(m["load"]["messages_per_node_per_s"], rel=0.25)


def test_run_index_html_is_self_contained_and_reproducible(run_dir: Path) -> None:
    page = (run_dir / "index.html").read_text()
    assert "VALID" in page and "swimlab run crash_one --seed 3 --set cluster.nodes=12" in page
    assert "data:image/png;base64," in page
    assert "http://" not in page.replace('xmlns="http://', "") and "https://" not in page
    (run_dir / "index.html").unlink()
    svg_before = (run_dir / "view_sizes.svg").read_bytes()
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "index.html").exists()
    assert (run_dir / "view_sizes.svg").read_bytes() == svg_before  # re-rendering is stable


def _plan():
    # cluster.seeds = 10 is valid against the file's 100 nodes but not with 8: that point fails
    # at run time, inside the worker.
    return plan_sweep(
        "crash_one",
        parse_grid(["cluster.nodes=8,12", "cluster.seeds=1,10"]),
        seeds=2,
        overrides=["duration_s=20", "faults.0.at_s=10", "cluster.join_window_s=1"],
    )


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweep-local")
    outcome = run_sweep(_plan(), out, workers=2, command="swimlab sweep (test)")
    assert (outcome.ran, outcome.reused, outcome.failed) == (8, 0, 2)
    return out


def test_sweep_records_failed_point_and_renders(local_sweep: Path) -> None:
    sweep = json.loads((local_sweep / "sweep.json").read_text())
    failed = [p for p in sweep["points"] if p["status"] != "ok"]
    assert {(p["params"]["cluster.nodes"], p["params"]["cluster.seeds"]) for p in failed} == {(8, 10)}
    assert all("cluster.seeds" in p["error"] for p in failed)
    assert len(sweep["points"]) == 8 and sweep["seeds"] == [1, 2]
    for stem in ("sweep_first_suspect_periods", "load_vs_n", "detection_cdf"):
        assert_figure(local_sweep, stem)
    # Plotted medians are the medians of the summaries in sweep.json.
    drawn = json.loads((local_sweep / "plots.json").read_text())["sweep_messages_per_node_per_s"]
    line = drawn["series"]["cluster.seeds=1"]
    for x, median in zip(line["x"], line["median"], strict=True):
        values = [
            p["summary"]["messages_per_node_per_s"]
            for p in sweep["points"]
            if p["params"] == {"cluster.nodes": x, "cluster.seeds": 1}
        ]
        assert median == pytest.approx(statistics.median(values))
    page = (local_sweep / "index.html").read_text()
    assert "ERROR: " in page and "2 failed to run (of 8)" in page and "Failed points" in page


def test_sweep_resume_skips_finished_points(local_sweep: Path) -> None:
    before = {p.name: p.read_bytes() for p in (local_sweep / "points").glob("*.json")}
    outcome = run_sweep(_plan(), local_sweep, workers=2, command="swimlab sweep (test)", render=False)
    assert (outcome.ran, outcome.reused, outcome.failed) == (2, 6, 2)  # only the failures rerun
    after = {p.name: p.read_bytes() for p in (local_sweep / "points").glob("*.json")}
    kept = [name for name, data in before.items() if b'"status": "ok"' in data]
    assert len(kept) == 6 and all(after[name] == before[name] for name in kept)


def test_dask_and_local_give_identical_sweep_json(local_sweep: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        run_sweep(
            _plan(), tmp_path, executor=f"dask://{address}", command="swimlab sweep (test)", render=False
        )
    assert (tmp_path / "sweep.json").read_bytes() == (local_sweep / "sweep.json").read_bytes()


def test_bad_sweep_table_names_file_key_and_expectation(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    base = 'description = "x"\nduration_s = 10.0\n'
    cases = {
        '[sweep]\ngrid = { "cluster.nodes" = [4] }\nsedes = 3\n': ("sweep.sedes", "no such key"),
        '[sweep]\ngrid = { "cluster.nodez" = [4] }\n': ("sweep.grid.cluster.nodez.0", "no such key"),
        '[sweep]\ngrid = { "cluster.nodes" = [4, 0] }\n': ("sweep.grid.cluster.nodes.1", ">= 1"),
        '[sweep]\ngrid = { variant = ["a"] }\n': ("sweep.grid.variant.0", "[sweep.variants]"),
        '[sweep]\nmetrics = ["speed"]\n': ("sweep.metrics.0", "first_suspect_s"),
    }
    for text, (key, expected) in cases.items():
        path.write_text(base + text)
        with pytest.raises(ValueError) as info:
            load_scenario(str(path))
        message = str(info.value)
        assert message.startswith(f"{path}: {key}: expected") and expected in message, message


def test_report_on_an_empty_folder_exits_2(tmp_path: Path) -> None:
    assert main(["report", str(tmp_path)]) == 2
    with pytest.raises(ValueError):
        render(tmp_path)
