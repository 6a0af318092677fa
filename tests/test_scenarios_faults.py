"""Issue 11, items 5-11 and 13: faults you can name, nothing ignored or defaulted silently, and
what was injected recorded. Each test failed on the code before the fix (the commit message
lists the failures); they use only the public API that existed then (load_scenario,
run_scenario, the CLI, plan_sweep / run_sweep), so they can be run against it."""

from __future__ import annotations

import concurrent.futures as cf
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from swimlab.scenarios.cli import main
from swimlab.scenarios.loader import load_scenario
from swimlab.scenarios.runner import run_scenario
from swimlab.scenarios.schema import ScenarioError
from swimlab.scenarios.sweep import plan_sweep, run_sweep

BASE = 'description = "x"\nduration_s = 60\n[cluster]\nnodes = 10\n'


def write(tmp_path: Path, text: str, name: str = "s.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def error_of(tmp_path: Path, text: str, overrides: list[str] | None = None) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text), overrides or [])
    return str(info.value)


def fault(body: str) -> str:
    return BASE + "[[faults]]\nat_s = 10\n" + body + "\n"


def trace(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "trace.jsonl").read_text().splitlines()]


def result_json(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "result.json").read_text()))


# 5. Every selecting fault requires its selector ----------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        'op = "crash"',
        'op = "restart"',
        'op = "mass_restart"',
        'op = "leave"',
        'op = "pause"\nduration_s = 1',
        'op = "slow"\ndelay_s = 1',
        'op = "latency"\nadd_ms = 5',
        'op = "duplicate"\nrate = 0.1',
        'op = "ingress_drop"',
        'op = "clock"\nstep_s = 1',
        'op = "rolling_restart"\ninterval_s = 5',
    ],
)
def test_a_selecting_fault_without_a_selector_is_an_error(tmp_path: Path, body: str) -> None:
    """Before: `op = "crash"` alone crashed every non-seed node and exited 0."""
    message = error_of(tmp_path, fault(body))
    assert "faults.0: expected one of nodes, count or fraction" in message


def test_loss_without_a_selector_is_on_every_link_and_says_so(tmp_path: Path) -> None:
    """The one documented default: no selector = every link. A key that only a selection uses
    is then an error, not ignored."""
    assert load_scenario(write(tmp_path, fault('op = "loss"\nrate = 0.1'))).faults[0].select.given() == []
    message = error_of(tmp_path, fault('op = "loss"\nrate = 0.1\ndirection = "ingress"'))
    assert "faults.0.direction: expected no such key without nodes/count/fraction" in message


def test_include_seeds_with_named_nodes_is_an_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, fault('op = "crash"\nnodes = ["n3"]\ninclude_seeds = true'))
    assert "faults.0.include_seeds: expected no such key with nodes" in message


# 6. Partition shapes declare their parameters ------------------------------------------------
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('shape = "bridge"\nnodes = ["n3"]', "faults.0.nodes: expected no such key for shape = 'bridge'"),
        (
            'shape = "majority"\ngroups = [["n1"]]',
            "faults.0.groups: expected no such key for shape = 'majority'",
        ),
        ('shape = "halves"\ncount = 3', "faults.0.count: expected no such key for shape = 'halves'"),
        ('shape = "majorities-ring"\none_way = true', "faults.0.one_way: expected no such key"),
        ('shape = "one"\nnodes = ["n1", "n2"]', "faults.0.nodes: expected at most one node"),
        ('shape = "groups"\ngroups = [["n1", "n2"], ["n2", "n3"]]', "expected sides that do not overlap"),
    ],
)
def test_a_key_the_shape_does_not_use_is_an_error(tmp_path: Path, body: str, expected: str) -> None:
    """Before: each of these loaded and the key was silently ignored (`one` isolated only the
    first node; overlapping groups gave an arbitrary cut)."""
    assert expected in error_of(tmp_path, fault('op = "partition"\n' + body))


def test_bridge_takes_its_bridge_nodes_and_records_the_cut(tmp_path: Path) -> None:
    """Before: the bridge was random and reported only in the trace."""
    path = write(tmp_path, fault('op = "partition"\nshape = "bridge"\nbridge = ["n3"]\nduration_s = 5'))
    run_scenario(load_scenario(path), 1, out_dir=tmp_path / "run", render=False)
    impaired = {
        r["node"] for r in trace(tmp_path / "run") if r["kind"] == "impair" and r["cause"] == "partition"
    }
    assert "n3" not in impaired and len(impaired) == 9
    (cut, heal) = result_json(tmp_path / "run")["faults"]
    assert cut["bridge"] == ["n3"] and sorted(x for side in cut["sides"] for x in side) == sorted(impaired)
    assert heal["op"] == "heal" and heal["t"] == 15.0


def test_groups_shape_with_named_groups_and_unlisted_nodes(tmp_path: Path) -> None:
    """The documented format: each side a group name or an array of nodes/ranges; the nodes
    listed in no side form one more side."""
    text = BASE.replace("nodes = 10", 'nodes = 10\n[cluster.groups]\ndc_a = "n0..n2"') + (
        '[[faults]]\nat_s = 10\nop = "partition"\nshape = "groups"\ngroups = ["dc_a", ["n3..n4", "n9"]]\n'
    )
    run_scenario(load_scenario(write(tmp_path, text)), 1, out_dir=tmp_path / "run", render=False)
    (cut,) = result_json(tmp_path / "run")["faults"]
    assert cut["sides"] == [["n0", "n1", "n2"], ["n3", "n4", "n9"], ["n5", "n6", "n7", "n8"]]


# 7. Faults outlasting the run, process life that does not add up, negative seeds -------------
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'op = "partition"\nduration_s = 55',
            "faults.0.duration_s: expected <= 50.0 so the fault ends by duration_s = 60.0",
        ),
        ('op = "pause"\nnodes = ["n1"]\nduration_s = 51', "faults.0.duration_s: expected <= 50.0"),
        ('op = "churn"\njoin_rate_per_s = 1\nduration_s = 80', "faults.0.duration_s: expected <= 50.0"),
        ('op = "mass_restart"\ncount = 2\ndowntime_s = 70', "faults.0.downtime_s: expected <= 50.0"),
    ],
)
def test_a_fault_that_outlasts_the_run_is_an_error(tmp_path: Path, body: str, expected: str) -> None:
    assert expected in error_of(tmp_path, fault(body))


def test_restarting_a_node_that_is_up_is_an_error(tmp_path: Path) -> None:
    """Before: the 'restart' crashed the running node and started it again, silently."""
    message = error_of(tmp_path, fault('op = "restart"\nnodes = ["n4"]'))
    assert "faults.0.nodes: expected nodes that are down at 10.0 s" in message and "'n4'" in message


def test_crashing_a_node_twice_is_an_error(tmp_path: Path) -> None:
    """Before: the second crash did nothing and said nothing."""
    text = (
        fault('op = "crash"\nnodes = ["n4"]') + '[[faults]]\nat_s = 20\nop = "crash"\nnodes = ["n2", "n4"]\n'
    )
    message = error_of(tmp_path, text)
    assert (
        "faults.1.nodes: expected nodes that are up at 20.0 s (n4 is down: faults.0 crashed it at 10.0 s)"
        in message
    )


def test_crash_then_restart_then_crash_is_fine(tmp_path: Path) -> None:
    text = (
        fault('op = "crash"\nnodes = ["n4"]\nrepeat = { times = 2, every_s = 20 }')
        + '[[faults]]\nat_s = 15\nop = "restart"\nnodes = ["n4"]\n'
    )
    assert len(load_scenario(write(tmp_path, text)).faults) == 2


def test_what_only_the_run_can_tell_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """After a random crash nobody knows statically whether n4 is down; if it is not, the
    restart leaves it alone and says so (result.json and stderr)."""
    text = fault('op = "crash"\ncount = 2') + '[[faults]]\nat_s = 20\nop = "restart"\nnodes = ["n4"]\n'
    path = write(tmp_path, text)
    result = run_scenario(load_scenario(path), 1, out_dir=tmp_path / "run", render=False)
    crashed = result_json(tmp_path / "run")["faults"][0]["nodes"]
    assert "n4" not in crashed  # this seed's pick; the warning below is the point
    warnings = result_json(tmp_path / "run")["warnings"]
    assert warnings == [{"t": 20.0, "fault": "faults.1", "message": "restart: n4 is up, left alone"}]
    assert result.verdict in ("valid", "invalid")
    assert main(["run", path, "--seed", "1", "--out", str(tmp_path / "runs"), "--quiet"]) in (0, 1)
    assert "warning: faults.1 at 20.0 s: restart: n4 is up, left alone" in capsys.readouterr().err


def test_a_random_pick_that_finds_too_few_nodes_is_a_warning(tmp_path: Path) -> None:
    text = fault('op = "crash"\ncount = 8') + '[[faults]]\nat_s = 20\nop = "crash"\ncount = 3\n'
    run_scenario(load_scenario(write(tmp_path, text)), 1, out_dir=tmp_path / "run", render=False)
    (warning,) = result_json(tmp_path / "run")["warnings"]
    assert (
        warning["fault"] == "faults.1" and warning["message"] == "crash: asked for 3 nodes, only 1 eligible"
    )


def test_a_negative_seed_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "seeds.1: expected an integer >= 0, got -3" in error_of(tmp_path, "seeds = [1, -3]\n" + BASE)
    path = write(tmp_path, BASE)
    assert main(["run", path, "--seed", "-1", "--out", str(tmp_path / "runs"), "--quiet"]) == 2
    assert "--seed: expected an integer >= 0, got -1" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
    with pytest.raises(ScenarioError):
        run_scenario(load_scenario(path), -1)


# 8. A bad --set value is attributed to the --set --------------------------------------------
def test_a_bad_set_value_names_the_set(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("crash_one", ["cluster.nodes=0"])
    assert str(info.value) == "--set cluster.nodes=0: cluster.nodes: expected >= 1, got 0"
    with pytest.raises(ScenarioError) as info:
        load_scenario("crash_one", ["faults.0.at_s=1000"])
    assert str(info.value).startswith("--set faults.0.at_s=1000: faults.0.at_s: expected in [0, duration_s")
    with pytest.raises(ScenarioError) as info:  # the file's value fails because of the --set
        load_scenario("crash_one", ["duration_s=40"])
    assert str(info.value).startswith("crash_one.toml (after --set duration_s=40): faults.0.at_s:")
    assert main(["run", "crash_one", "--set", "network.loss=2", "--quiet"]) == 2
    assert "--set network.loss=2: network.loss: expected a probability" in capsys.readouterr().err


# 9. A sweep folder holds one sweep ----------------------------------------------------------
def _sweep(tmp_path: Path, name: str, text: str, out: Path, force: bool = False) -> Any:
    plan = plan_sweep(write(tmp_path, text, name), {"cluster.nodes": [4, 5]}, 1)
    with cf.ThreadPoolExecutor(1) as pool:
        return run_sweep(plan, out, executor=pool, render=False, force=force)


def test_a_sweep_into_a_folder_of_another_sweep_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: the second sweep replaced sweep.json and the first one's points stayed on disk
    (and a point with the same parameters and seed was reused from the other scenario)."""
    small = 'description = "a"\nduration_s = 4\n[cluster]\nnodes = 4\n'
    other = small.replace("duration_s = 4", "duration_s = 3")
    out = tmp_path / "sweep"
    first = _sweep(tmp_path, "a.toml", small, out)
    assert first.ran == 2
    with pytest.raises(ScenarioError, match="--force replaces it"):
        _sweep(tmp_path, "a.toml", other, out)
    assert main(["sweep", write(tmp_path, other, "a.toml"), "--grid", "cluster.nodes=4,5", "--seeds", "1",
                 "--out", str(out), "--quiet"]) == 2  # fmt: skip
    assert "--force replaces it" in capsys.readouterr().err
    again = _sweep(tmp_path, "a.toml", small, out)  # the same sweep resumes
    assert again.ran == 0 and again.reused == 2
    (out / "points" / "stale-s1").mkdir()  # another sweep's point: its record and run folder
    (out / "points" / "stale-s1.json").write_text("{}")
    forced = _sweep(tmp_path, "a.toml", other, out, force=True)
    assert forced.ran == 2 and forced.reused == 0
    assert len(list((out / "points").glob("*.json"))) == 2 and not (out / "points" / "stale-s1").exists()


def test_a_sweep_folder_of_an_older_sweep_schema_refuses(tmp_path: Path) -> None:
    """Its points hold metrics this swimlab cannot read: reusing them would crash the sweep."""
    small = 'description = "a"\nduration_s = 4\n[cluster]\nnodes = 4\n'
    out = tmp_path / "sweep"
    _sweep(tmp_path, "a.toml", small, out)
    plan = json.loads((out / "plan.json").read_text())
    (out / "plan.json").write_text(json.dumps({**plan, "schema_version": 1}))
    with pytest.raises(
        ScenarioError, match="written under sweep schema 1, whose points this swimlab cannot reuse"
    ):
        _sweep(tmp_path, "a.toml", small, out)
    assert _sweep(tmp_path, "a.toml", small, out, force=True).ran == 2


# 10. Named node groups: in faults, checks and the latency model ------------------------------
GROUPS = """description = "three datacenters"
duration_s = 30
[cluster]
nodes = 12
[cluster.groups]
dc_a = "n0..n3"
dc_b = "n4..n7"
dc_c = ["n8..n10", "n11"]
[network.latency]
model = "groups"
intra_ms = 1.0
inter_ms = 40.0
matrix = { dc_a = { dc_c = 90.0 } }
"""


def test_groups_resolve_and_select(tmp_path: Path) -> None:
    text = GROUPS + '[[faults]]\nat_s = 10\nop = "crash"\ncount = 2\nwithin = ["dc_b"]\n'
    text += '[[faults]]\nat_s = 12\nop = "pause"\nnodes = ["dc_c", "n0"]\nduration_s = 1\n'
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.groups["dc_c"] == ("n8", "n9", "n10", "n11")
    run_scenario(scenario, 1, out_dir=tmp_path / "run", render=False)
    result = result_json(tmp_path / "run")
    assert result["groups"]["dc_a"] == ["n0", "n1", "n2", "n3"]
    crash, pause = result["faults"]
    assert len(crash["nodes"]) == 2 and set(crash["nodes"]) <= {"n4", "n5", "n6", "n7"}
    assert pause["nodes"] == ["n8", "n9", "n10", "n11", "n0"]


def test_group_latency_is_intra_inter_or_the_matrix(tmp_path: Path) -> None:
    from swimlab.scenarios.runner import _latency

    scenario = load_scenario(write(tmp_path, GROUPS))
    model = _latency(scenario.network, scenario.groups)
    ms = {
        (a, b): round(model.sample(a, b, None) * 1000, 6)
        for a in ("n0", "n4", "n8")
        for b in ("n1", "n5", "n9")
    }
    assert ms == {
        ("n0", "n1"): 1.0, ("n0", "n5"): 40.0, ("n0", "n9"): 90.0,
        ("n4", "n1"): 40.0, ("n4", "n5"): 1.0, ("n4", "n9"): 40.0,
        ("n8", "n1"): 90.0, ("n8", "n5"): 40.0, ("n8", "n9"): 1.0,
    }  # fmt: skip
    run_scenario(scenario, 1, out_dir=tmp_path / "run", render=False)  # and it runs


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ('dc_b = "n4..n7"', None),
        ('dc_b = "n3..n7"', "datacenters that do not overlap (n3 is in dc_a and dc_b)"),
        ('dc_b = "n4..n6"', "datacenters covering every node (n7 in none)"),
        ('dc_b = "n4..n99"', 'cluster.groups.dc_b: expected a range "nA..nB" with A <= B <= 11'),
        ('n4 = "n4..n7"', "cluster.groups.n4: expected a group name"),
    ],
)
def test_group_mistakes_are_errors(tmp_path: Path, change: str, expected: str | None) -> None:
    text = GROUPS.replace('dc_b = "n4..n7"', change)
    if expected is None:
        load_scenario(write(tmp_path, text))
    else:
        assert expected in error_of(tmp_path, text)


def test_a_latency_key_the_model_does_not_read_is_an_error(tmp_path: Path) -> None:
    assert "network.latency.ms: expected no such key for model = 'uniform'" in error_of(
        tmp_path, BASE + "[network.latency]\nms = 5\n"
    )


def test_an_unknown_group_in_a_fault_names_the_known_ones(tmp_path: Path) -> None:
    message = error_of(tmp_path, GROUPS + '[[faults]]\nat_s = 1\nop = "crash"\nnodes = ["dc_x"]\n')
    assert (
        "faults.0.nodes.0: expected a node name n0..n11, a range" in message
        and "(dc_a, dc_b, dc_c)" in message
    )


# 11. Repetition ------------------------------------------------------------------------------
def test_repeat_fires_again_with_a_fresh_pick(tmp_path: Path) -> None:
    text = fault('op = "crash"\ncount = 1\nrepeat = { times = 3, every_s = 10 }')
    run_scenario(load_scenario(write(tmp_path, text)), 1, out_dir=tmp_path / "run", render=False)
    crashes = [r for r in trace(tmp_path / "run") if r["kind"] == "fault"]
    assert [r["t"] for r in crashes] == [10.0, 20.0, 30.0] and len({r["nodes"][0] for r in crashes}) == 3
    assert [e["repetition"] for e in result_json(tmp_path / "run")["faults"]] == [0, 1, 2]


def test_a_repeated_fault_must_end_before_it_fires_again(tmp_path: Path) -> None:
    message = error_of(tmp_path, fault('op = "loss"\nrate = 0.1\nrepeat = { times = 2, every_s = 10 }'))
    assert "faults.0.duration_s: expected a duration below repeat.every_s (10.0)" in message
    load_scenario(write(tmp_path, fault('op = "crash"\ncount = 1\nrepeat = { times = 6, every_s = 10 }')))
    message = error_of(tmp_path, fault('op = "crash"\ncount = 1\nrepeat = { times = 7, every_s = 10 }'))
    assert "faults.0.repeat.times: expected <= 6 so the last firing is within duration_s = 60.0" in message


def test_rolling_restart_batch_by_batch(tmp_path: Path) -> None:
    text = fault(
        'op = "rolling_restart"\nnodes = ["n2..n6"]\nbatch = 2\ndowntime_s = 2\ninterval_s = 5\nstate = "wiped"'
    )
    run_scenario(load_scenario(write(tmp_path, text)), 1, out_dir=tmp_path / "run", render=False)
    hosts = [
        (r["t"], r["node"], r["status"])
        for r in trace(tmp_path / "run")
        if r["kind"] == "host" and r["t"] >= 10
    ]
    assert hosts == [
        (10.0, "n2", "down"), (10.0, "n3", "down"), (12.0, "n2", "up"), (12.0, "n3", "up"),
        (15.0, "n4", "down"), (15.0, "n5", "down"), (17.0, "n4", "up"), (17.0, "n5", "up"),
        (20.0, "n6", "down"), (22.0, "n6", "up"),
    ]  # fmt: skip
    first = result_json(tmp_path / "run")["faults"][0]
    assert first["op"] == "rolling_restart" and first["batches"] == [["n2", "n3"], ["n4", "n5"], ["n6"]]


def test_rolling_restart_must_fit_the_run(tmp_path: Path) -> None:
    text = fault('op = "rolling_restart"\ncount = 8\ninterval_s = 10')
    assert "faults.0.interval_s: expected a rolling restart that ends by duration_s = 60.0" in error_of(
        tmp_path, text
    )


def test_repetition_is_sweepable(tmp_path: Path) -> None:
    text = fault('op = "crash"\ncount = 1\nrepeat = { times = 2, every_s = 10 }')
    plan = plan_sweep(
        write(tmp_path, text), {"faults.0.repeat.every_s": [5, 20], "faults.0.repeat.times": [2, 3]}, 1
    )
    assert len(plan.points()) == 4
    with pytest.raises(ScenarioError, match=r"--grid faults.0.repeat.every_s.0"):
        plan_sweep(write(tmp_path, text), {"faults.0.repeat.every_s": [0]}, 1)
    plan = plan_sweep(write(tmp_path, text), {"faults.0.repeat.times": [2, 3]}, 1)
    with cf.ThreadPoolExecutor(1) as pool:
        outcome = run_sweep(plan, tmp_path / "sw", executor=pool, render=False)
    assert outcome.failed == 0 and outcome.ran == 2


# 13. What was injected is recorded ----------------------------------------------------------
def test_result_json_holds_the_timeline_and_the_effective_scenario(tmp_path: Path) -> None:
    scenario = load_scenario(
        "partition_heal", ["cluster.nodes=12", "duration_s=100", "faults.0.shape=halves"]
    )
    run_scenario(scenario, 2, out_dir=tmp_path / "run", render=False)
    result = result_json(tmp_path / "run")
    cut, heal = result["faults"]
    assert cut["t"] == 30.0 and cut["op"] == "partition" and cut["params"]["shape"] == "halves"
    assert sorted(len(side) for side in cut["sides"]) == [6, 6]
    assert heal == {"t": 90.0, "fault": "faults.0", "op": "heal", "nodes": []}
    effective = result["effective_scenario"]
    assert effective["cluster"]["nodes"] == 12 and effective["duration_s"] == 100.0
    assert effective["faults"] == [
        {"op": "partition", "at_s": 30.0, "shape": "halves", "one_way": False, "duration_s": 60.0}
    ]
    assert effective["network"]["latency"] == {"model": "uniform", "low_ms": 0.5, "high_ms": 2.0}


def test_the_run_page_shows_the_timeline_the_warnings_and_the_scenario(tmp_path: Path) -> None:
    text = fault('op = "crash"\ncount = 2') + '[[faults]]\nat_s = 20\nop = "restart"\nnodes = ["n4"]\n'
    run_scenario(load_scenario(write(tmp_path, text)), 1, out_dir=tmp_path / "run")
    page = (tmp_path / "run" / "index.html").read_text()
    assert '<h2 id="faults">Fault timeline</h2>' in page
    assert '<td class="num">20</td><td class="num">—</td><td class="num">—</td><td>restart</td>' in page
    assert "<td>faults.1</td></tr>" in page
    assert "restart: n4 is up, left alone" in page
    assert "Scenario as it ran" in page


# [sweep] seeds_at: fewer seeds at the costly points ----------------------------------------
SEEDS_AT = BASE + '[sweep]\ngrid = { "cluster.nodes" = [4, 5, 6] }\nseeds = 3\n'


def test_seeds_at_caps_the_seeds_of_matching_points(tmp_path: Path) -> None:
    text = SEEDS_AT + 'seeds_at = [{ "cluster.nodes" = 6, seeds = 1 }, { "cluster.nodes" = 5, seeds = 2 }]\n'
    counts = Counter(p.params["cluster.nodes"] for p in plan_sweep(write(tmp_path, text)).points())
    assert counts == {4: 3, 5: 2, 6: 1}
    assert Counter(
        p.params["cluster.nodes"] for p in plan_sweep(write(tmp_path, text), seeds=2).points()
    ) == {
        4: 2,
        5: 2,
        6: 1,
    }


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        ('{ "cluster.nodes" = 6 }', "sweep.seeds_at.0.seeds: expected an integer >= 1"),
        ('{ "cluster.nodes" = 6, seeds = 0 }', "sweep.seeds_at.0.seeds: expected an integer >= 1"),
        ("{ seeds = 1 }", "sweep.seeds_at.0: expected at least one grid key"),
        (
            '{ "network.loss" = 0.1, seeds = 1 }',
            "sweep.seeds_at.0.network.loss: expected a key of sweep.grid",
        ),
        (
            '{ "cluster.nodes" = 7, seeds = 1 }',
            "sweep.seeds_at.0.cluster.nodes: expected a value of sweep.grid",
        ),
        ("3", "sweep.seeds_at: expected"),
    ],
)
def test_a_bad_seeds_at_entry_names_itself(tmp_path: Path, entry: str, where: str) -> None:
    assert where in error_of(tmp_path, SEEDS_AT + f"seeds_at = [{entry}]\n")
