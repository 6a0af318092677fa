"""A kept restart needs a crashed node: a node that left the cluster comes back only wiped (the
search found `restart` with state kept of a left node crashing the run: LocalProtocolError from
Node.recover)."""

from pathlib import Path

import pytest

from swimlab.protocol.config import preset
from swimlab.scenarios.errors import ScenarioError
from swimlab.scenarios.loader import load_scenario
from swimlab.scenarios.runner import run_scenario
from swimlab.sim.simulation import Simulation

BASE = """
description = "kept restart after a leave"
duration_s = 40.0
[cluster]
nodes = 5
preset = "local"
[[faults]]
at_s = 10.0
op = "leave"
{leave}
[[faults]]
at_s = 20.0
op = "restart"
{restart}
"""


def scenario(tmp_path: Path, leave: str, restart: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(BASE.format(leave=leave, restart=restart), encoding="utf-8")
    return path


def test_a_named_kept_restart_of_a_left_node_is_refused_up_front(tmp_path: Path) -> None:
    path = scenario(tmp_path, 'nodes = ["n1"]', 'nodes = ["n1"]')
    with pytest.raises(
        ScenarioError, match=r'faults\.1\.state: expected a crashed node.*n1 left the cluster.*"wiped"'
    ):
        load_scenario(str(path))
    wiped = load_scenario(str(scenario(tmp_path, 'nodes = ["n1"]', 'nodes = ["n1"]\nstate = "wiped"')))
    result = run_scenario(wiped, 1)
    assert all(o.ok is not False for o in result.result.oracles)


def test_random_kept_restarts_skip_nodes_that_left(tmp_path: Path) -> None:
    loaded = load_scenario(str(scenario(tmp_path, "count = 2", "count = 2")))
    result = run_scenario(loaded, 1)
    assert all(o.ok is not False for o in result.result.oracles), result.result.oracles
    assert any("only 0 eligible" in w["message"] for w in result.warnings), result.warnings


def test_the_runtime_refuses_a_kept_restart_of_a_left_node() -> None:
    sim = Simulation(1, preset("local"), lambda record: None)
    for name in ("n0", "n1"):
        sim.add_node(name)
        sim.boot(name)
    sim.run(3.0)
    sim.leave("n1")
    sim.run(6.0)
    assert not sim.is_up("n1") and sim.has_left("n1")
    with pytest.raises(ValueError, match=r"n1 .state kept.: it left the cluster"):
        sim.restart("n1", wiped=False)
    sim.restart("n1", wiped=True)
    assert sim.is_up("n1") and not sim.has_left("n1")
