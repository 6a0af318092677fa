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
        if load_scenario(name).network.latency.model == "groups":
            continue  # its datacenters name every node: its size is fixed
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
        (
            GOOD + "[checks]\nno_false_dead = 3\n",
            "checks.no_false_dead: expected true, false or a table of its parameters, got 3",
        ),
        (
            GOOD + "[checks]\nall_crashed_detected_within = true\n",
            "checks.all_crashed_detected_within: expected a number (within_s) or a table of its parameters",
        ),
        (
            GOOD + "[checks]\nall_crashed_detected_within = -1\n",
            "checks.all_crashed_detected_within: expected >= 0, got -1",
        ),
        (
            GOOD + '[checks.no_false_dead]\ncount = "all"\n',
            "checks.no_false_dead.count: expected one of 'raised', 'raised_by_healthy', 'heard', got 'all'",
        ),
        (
            GOOD + '[checks]\nno_false_dead = [{}, { about = "lossy" }]\n',
            "checks.no_false_dead.1.about: expected one of 'any', 'healthy', got 'lossy'",
        ),
        (
            GOOD + '[checks.partition_detected_within]\nwithin_s = 30\ngroup = "dc_c"\n',
            "checks.partition_detected_within.group: expected a group of [cluster.groups] (none defined)",
        ),
        (
            GOOD + '[checks.partition_detected_within]\ngroup = "dc_c"\n',
            "checks.partition_detected_within.within_s: expected a number (required), got None",
        ),
        (
            GOOD + "[checks.no_flapping]\nfrom_s = 5\nto_s = 2\n",
            "checks.no_flapping.to_s: expected in [from_s = 5.0, duration_s = 10.0], got 2.0",
        ),
        (
            GOOD + '[checks.views_agree_at_end]\ngroup = "a"\n',
            "checks.views_agree_at_end.group: expected no such key (it takes none)",
        ),
        (
            GOOD + "[checks.converged_within]\nwithin_s = 5\nfrom_s = 1\n",
            "checks.converged_within.from_s: expected no such key (known: within_s)",
        ),
        (GOOD + "[config]\n", "config: expected no such key"),
        (GOOD + "[network]\nloss = 2\n", "network.loss: expected a probability in [0, 1], got 2"),
        (
            GOOD + "[network.reliable]\nrto = 30\n",
            "network.reliable.rto: expected no such key (known: backoff, max_attempts, max_rto_ms, model,",
        ),
        (
            GOOD + '[network.reliable]\nmodel = "exempt"\nrto_ms = 30\n',
            "network.reliable.rto_ms: expected no such key for model = 'exempt' (it takes: nothing else)",
        ),
        (
            GOOD + '[network.reliable]\nmodel = "tcp"\n',
            "network.reliable.model: expected one of 'retransmit', 'exempt', got 'tcp'",
        ),
        (
            GOOD + "[network.reliable]\nrto_ms = 500\nmax_rto_ms = 200\n",
            "network.reliable.max_rto_ms: expected >= rto_ms (500.0), got 200",
        ),
        (GOOD + "[network.reliable]\nbackoff = 0.5\n", "network.reliable.backoff: expected >= 1, got 0.5"),
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


def test_checks_take_bare_values_tables_and_arrays_and_keep_every_default() -> None:
    text = GOOD.replace("nodes = 5", 'nodes = 5\ngroups = { dc_a = "n0..n2" }') + (
        "[checks]\nno_false_dead = true\nall_crashed_detected_within = 30\n"
        'no_false_positives = [{ about = "healthy" }, { count = "heard" }]\n'
        "views_agree_at_end = false\n"
        '[checks.partition_detected_within]\nwithin_s = 8\ngroup = "dc_a"\nfrom_s = 1\n'
    )
    import tomllib

    from swimlab.scenarios.schema import effective, validate

    scenario = validate(tomllib.loads(text), "t.toml")
    labels = [c.label for c in scenario.checks]
    assert labels == [
        "no_false_dead",
        "all_crashed_detected_within",
        "no_false_positives[about=healthy]",
        "no_false_positives[count=heard]",
        "partition_detected_within[from_s=1.0, group=dc_a, within_s=8.0]",
    ]  # views_agree_at_end = false: off
    partition = scenario.checks[-1]
    assert partition.scope.nodes == frozenset({"n0", "n1", "n2"}) and partition.scope.from_s == 1.0
    checks = effective(scenario)["checks"]
    assert checks["all_crashed_detected_within"] == {
        "from_s": 0.0,
        "to_s": None,
        "group": None,
        "within_s": 30.0,
    }
    assert [c["about"] for c in checks["no_false_positives"]] == ["healthy", "any"]


def test_the_readme_documents_every_check_and_its_parameters() -> None:
    import dataclasses

    from swimlab.reports.checks import CHECKS

    readme = (Path(__file__).resolve().parent.parent / "scenarios" / "README.md").read_text()
    section = readme[readme.index("### Checks") : readme.index("### Runtimes")]
    rows = {line.split("|")[1].strip(" `"): line for line in section.splitlines() if line.startswith("| `")}
    for name, spec in CHECKS.items():
        assert name in rows, f"no row for {name}"
        for field in dataclasses.fields(spec.params):
            assert f"`{field.name}`" in rows[name], f"{name}: {field.name} undocumented"
