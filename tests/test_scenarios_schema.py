"""Scenario files: the library is valid, bad files get precise errors, overrides work."""

from __future__ import annotations

from pathlib import Path

import pytest

from swimlab.scenarios.cli import main
from swimlab.scenarios.loader import library_names, load_scenario
from swimlab.scenarios.schema import ScenarioError

REQUIRED = {
    "steady_state",
    "crash_one",
    "crash_many",
    "partition_heal",
    "asymmetric_partition",
    "flip_flop",
    "lossy_nodes",
    "uniform_loss",
    "slow_nodes",
    "clock_drift",
    "churn",
    "mass_restart",
    "bootstrap",
}


def test_library_has_every_required_scenario_and_all_are_valid() -> None:
    assert set(library_names()) >= REQUIRED
    for name in library_names():
        scenario = load_scenario(name)
        assert scenario.description and scenario.checks, name


def test_overrides_on_every_scenario() -> None:
    for name in library_names():
        s = load_scenario(name, ["cluster.nodes=1000", "cluster.preset=local"])
        assert s.cluster.nodes == 1000 and s.config.probe_timeout_s == 0.2


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return str(path)


GOOD = 'description = "x"\nduration_s = 10\n[cluster]\nnodes = 5\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD + "colour = 1\n", "cluster.colour: expected no such key"),
        (
            GOOD.replace("nodes = 5", 'nodes = "five"'),
            "cluster.nodes: expected an integer, got 'five'",
        ),
        (GOOD.replace("nodes = 5", "nodes = 0"), "cluster.nodes: expected >= 1, got 0"),
        (
            GOOD + '[[faults]]\nat_s = 1\nop = "crash"\nnodes = ["n5"]\n',
            "faults.0.nodes.0: expected a node name n0..n4, got 'n5'",
        ),
        (
            GOOD + '[[faults]]\nat_s = 99\nop = "crash"\n',
            "faults.0.at_s: expected in [0, duration_s = 10.0]",
        ),
        (
            GOOD + '[[faults]]\nat_s = 1\nop = "clock"\nstep_s = -1\n',
            "faults.0.step_s: expected >= 0",
        ),
        (GOOD + '[[faults]]\nat_s = 1\nop = "explode"\n', "faults.0.op: expected one of"),
        (GOOD + "[checks]\nno_such = true\n", "checks.no_such: expected a known check"),
        (GOOD + "[config]\n", "config: expected no such key"),
        (GOOD + "[network]\nloss = 2\n", "network.loss: expected a probability in [0, 1], got 2"),
        (
            GOOD.replace("nodes = 5", "nodes = 5\nconfig = { probe_interval_s = -1 }"),
            "cluster.config: expected valid",
        ),
        ("duration_s = 10\n", "description: expected a string (required)"),
    ],
)
def test_bad_files_name_file_key_and_expectation(
    tmp_path: Path, text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)
    assert main(["run", path, "--out", str(tmp_path / "runs"), "--quiet"]) == 2
    assert message in capsys.readouterr().err


def test_set_typo_is_an_error() -> None:
    with pytest.raises(ScenarioError, match=r"cluster\.nodez: expected no such key"):
        load_scenario("crash_one", ["cluster.nodez=3"])


def test_unknown_scenario_name() -> None:
    with pytest.raises(ScenarioError, match="expected a library scenario"):
        load_scenario("no_such_scenario")


def test_races_subcommand_is_guarded(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        import swimlab.sim.interleave.cli  # noqa: F401
    except ImportError:
        assert main(["races"]) == 2
        assert "swimlab.sim.interleave.cli" in capsys.readouterr().err
