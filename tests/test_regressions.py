"""Every shrunk schedule of a real bug the fault search found (scenarios/regressions/) replays
with every invariant oracle holding; where a planted switch restores the old code, the oracle
the search saw fails again with it (so the regression can fail)."""

from pathlib import Path

import pytest

from swimlab.protocol import planted
from swimlab.scenarios.loader import load_scenario
from swimlab.scenarios.runner import run_scenario

REGRESSIONS = Path(__file__).resolve().parent.parent / "scenarios" / "regressions"
FILES = sorted(REGRESSIONS.glob("*.toml"))

REVERTED = {"reconnect_two_survivors": ("reconnect_random", "reachable_not_dead_everywhere")}
"""file stem -> (the planted switch running the code before the fix, the oracle it broke)."""


def test_there_are_regressions() -> None:
    assert {p.stem for p in FILES} >= set(REVERTED)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_regression_holds_every_oracle(path: Path) -> None:
    scenario = load_scenario(str(path))
    result = run_scenario(scenario, scenario.seeds[0])
    violated = [(o.name, o.detail) for o in result.result.oracles if o.ok is False]
    assert not violated, violated


@pytest.mark.parametrize("stem", sorted(REVERTED))
def test_the_regression_fails_with_the_fix_reverted(stem: str) -> None:
    switch, oracle = REVERTED[stem]
    scenario = load_scenario(str(REGRESSIONS / f"{stem}.toml"))
    planted.activate(switch)
    try:
        result = run_scenario(scenario, scenario.seeds[0])
    finally:
        planted.activate("")
    assert oracle in [o.name for o in result.result.oracles if o.ok is False]
