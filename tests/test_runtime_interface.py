"""The runtime interface (scenarios/runtime.py): the simulator implements it, the nemesis uses
nothing else, and a runtime lacking an operation makes the scenario refuse up front."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from swimlab.live.cluster import LiveCluster
from swimlab.protocol.faults import ALL_CAPABILITIES, FAULTS
from swimlab.scenarios.cli import main
from swimlab.scenarios.errors import ScenarioError
from swimlab.scenarios.loader import library_names, load_scenario
from swimlab.scenarios.nemesis import Nemesis
from swimlab.scenarios.runner import check_runtime, run_scenario
from swimlab.scenarios.runtime import FaultRuntime, Runtime
from swimlab.sim.simulation import Simulation

from .fake_runtime import FakeRuntime

EVERY_OP = """
description = "every fault operation once"
duration_s = 100.0
[cluster]
nodes = 12
seeds = 2
[[faults]]
at_s = 1.0
op = "crash"
nodes = ["n5"]
[[faults]]
at_s = 2.0
op = "restart"
nodes = ["n5"]
state = "wiped"
[[faults]]
at_s = 3.0
op = "mass_restart"
count = 2
downtime_s = 1.0
[[faults]]
at_s = 6.0
op = "leave"
nodes = ["n9"]
[[faults]]
at_s = 7.0
op = "join"
new_nodes = 2
[[faults]]
at_s = 8.0
op = "pause"
nodes = ["n3"]
duration_s = 1.0
[[faults]]
at_s = 9.0
op = "slow"
fraction = 0.2
delay_s = 0.5
duration_s = 2.0
[[faults]]
at_s = 12.0
op = "partition"
shape = "halves"
duration_s = 3.0
[[faults]]
at_s = 16.0
op = "partition"
shape = "majority"
[[faults]]
at_s = 17.0
op = "heal"
[[faults]]
at_s = 18.0
op = "loss"
rate = 0.1
duration_s = 2.0
[[faults]]
at_s = 21.0
op = "loss"
count = 2
rate = 0.5
direction = "ingress"
duration_s = 2.0
[[faults]]
at_s = 24.0
op = "latency"
nodes = ["n4"]
add_ms = 30.0
duration_s = 2.0
[[faults]]
at_s = 27.0
op = "duplicate"
nodes = ["n4"]
rate = 0.5
duration_s = 2.0
[[faults]]
at_s = 30.0
op = "ingress_drop"
nodes = ["n6"]
duration_s = 2.0
[[faults]]
at_s = 33.0
op = "clock"
nodes = ["n7"]
step_s = 1.0
drift_ppm = 100.0
[[faults]]
at_s = 35.0
op = "churn"
join_rate_per_s = 0.2
leave_rate_per_s = 0.2
crash_rate_per_s = 0.2
duration_s = 20.0
[[faults]]
at_s = 60.0
op = "flip_flop"
period_s = 5.0
duration_s = 20.0
fault = { op = "ingress_drop", nodes = ["n8"] }
[[faults]]
at_s = 85.0
op = "rolling_restart"
nodes = ["n10", "n11", "n1"]
batch = 2
downtime_s = 1.0
interval_s = 4.0
[checks]
views_agree_at_end = true
"""


def every_op(tmp_path: Path) -> str:
    path = tmp_path / "every_op.toml"
    path.write_text(EVERY_OP)
    return str(path)


def test_the_every_op_scenario_covers_the_whole_table(tmp_path: Path) -> None:
    assert {f.op for f in load_scenario(every_op(tmp_path)).faults} == set(FAULTS)


def _members(protocol: type) -> dict[str, inspect.Signature | None]:
    out: dict[str, inspect.Signature | None] = {}
    for klass in protocol.__mro__:
        if klass in (FaultRuntime, Runtime):
            for name, value in vars(klass).items():
                if name.startswith("_"):
                    continue
                out.setdefault(name, inspect.signature(value) if inspect.isfunction(value) else None)
            out.update({name: None for name in klass.__annotations__})
    return out


@pytest.mark.parametrize("implementation", [Simulation, LiveCluster, FakeRuntime])
def test_implementations_have_every_member_with_the_same_parameters(implementation: type) -> None:
    members = _members(FaultRuntime if implementation is FakeRuntime else Runtime)
    assert {"now", "at", "record_fault", "crash", "partition", "set_default_loss", "run"} <= set(
        _members(Runtime)
    )
    for name, signature in members.items():
        if name in ("name", "capabilities"):
            continue
        # A data member (the factories, `network`) may be an attribute set in __init__.
        set_in_init = f"self.{name} =" in inspect.getsource(implementation.__init__)
        assert hasattr(implementation, name) or set_in_init, f"{implementation.__name__} lacks {name}"
        if signature is not None:
            theirs = list(inspect.signature(getattr(implementation, name)).parameters.values())
            ours = list(signature.parameters)
            # Same names in the same order; an implementation may add optional parameters.
            assert [p.name for p in theirs[: len(ours)]] == ours, name
            assert all(p.default is not inspect.Parameter.empty for p in theirs[len(ours) :]), name


@pytest.mark.parametrize("name", [*library_names(), "every_op"])
def test_the_nemesis_uses_nothing_but_the_interface(name: str, tmp_path: Path) -> None:
    """The fake runtime has no `hosts`, `network` or `kernel`: a nemesis reaching into the
    simulator's internals raises AttributeError here."""
    scenario = load_scenario(every_op(tmp_path) if name == "every_op" else name)
    rt = FakeRuntime(scenario.nodes)
    Nemesis(scenario, rt, 1, tuple(scenario.nodes[: scenario.cluster.seeds])).schedule()
    rt.run(scenario.duration_s)
    if scenario.faults:
        assert any(entry[0] == "fault" for entry in rt.log), name


def test_every_op_runs_on_the_simulator(tmp_path: Path) -> None:
    result = run_scenario(load_scenario(every_op(tmp_path)), 1, out_dir=tmp_path / "run", render=False)
    ops = {
        r["op"]
        for r in map(_json, (tmp_path / "run" / "trace.jsonl").read_text().splitlines())
        if r["kind"] == "fault"
    }
    assert set(FAULTS) - {"flip_flop"} <= ops  # flip_flop records the op it toggles
    assert result.metrics.events > 0


def _json(line: str) -> dict[str, object]:
    import json

    return dict(json.loads(line))


def test_an_unsupported_operation_is_refused_up_front(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A runtime that cannot pause makes a scenario with a pause (even one nested in a
    flip_flop's partner list) exit 2 naming the operation, before any run folder exists."""
    monkeypatch.setattr(Simulation, "capabilities", ALL_CAPABILITIES - {"pause"})
    scenario = load_scenario(every_op(tmp_path))
    with pytest.raises(ScenarioError) as info:
        check_runtime(scenario, "sim")
    assert info.value.path == "faults.5.op" and info.value.got == "pause"
    assert "the sim runtime supports (pause needs pause)" in str(info.value)
    with pytest.raises(ScenarioError):
        run_scenario(scenario, 1, out_dir=tmp_path / "never")
    assert not (tmp_path / "never").exists()
    runs = tmp_path / "runs"
    assert main(["run", every_op(tmp_path), "--out", str(runs), "--quiet"]) == 2
    assert "faults.5.op" in capsys.readouterr().err
    assert not runs.exists()


def test_a_nested_fault_is_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Simulation, "capabilities", ALL_CAPABILITIES - {"set_ingress_drop"})
    with pytest.raises(ScenarioError, match=r"faults\.14\.op.*ingress_drop needs set_ingress_drop"):
        check_runtime(load_scenario(every_op(tmp_path)), "sim")
    with pytest.raises(ScenarioError, match=r"faults\.17\.op.*flip_flop needs set_ingress_drop"):
        check_runtime(
            load_scenario(every_op(tmp_path), ["faults.14.op=latency", "faults.14.add_ms=1"]), "sim"
        )
