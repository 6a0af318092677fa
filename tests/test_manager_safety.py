"""No safe downing strategy ever leaves two serving sides apart past its window, under random
partitions: hypothesis draws the cluster size, the strategy and a schedule of partitions (random
sides, sometimes one-way, each healed or replaced by the next), the simulator runs it with the
real managers, and the manager metrics judge it (split-brain time must be 0).

`none` (no downing) is the control: the same search finds its split brain at once, which shows
the property can fail.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st

from swimlab.protocol.manager.config import SAFE_STRATEGIES
from swimlab.reports.schema import ManagerMetrics
from swimlab.scenarios.runner import run_scenario
from swimlab.scenarios.schema import validate

DURATION_S = 90.0


@st.composite
def schedules(draw: st.DrawFn, strategies: tuple[str, ...] = SAFE_STRATEGIES) -> dict[str, Any]:
    n = draw(st.integers(3, 7))
    nodes = [f"n{i}" for i in range(n)]
    faults: list[dict[str, Any]] = []
    t = draw(st.sampled_from([5.0, 10.0]))
    for _ in range(draw(st.integers(1, 3))):
        if t > DURATION_S - 10:
            break
        sides = draw(st.integers(2, min(3, n)))
        assignment = draw(st.lists(st.integers(0, sides - 1), min_size=n, max_size=n))
        groups = [[x for x, side in zip(nodes, assignment, strict=True) if side == k] for k in range(sides)]
        groups = [g for g in groups if g]
        if len(groups) < 2:
            continue
        duration = draw(st.sampled_from([5.0, 20.0, 40.0]))
        duration = min(duration, DURATION_S - t)
        one_way = draw(st.booleans()) and draw(st.booleans())  # one in four
        faults.append(
            {"at_s": t, "op": "partition", "shape": "groups", "groups": groups[:-1], "one_way": one_way,
             "duration_s": duration}
        )  # fmt: skip
        t += duration + draw(st.sampled_from([0.0, 5.0, 20.0]))
    strategy = draw(st.sampled_from(strategies))
    manager: dict[str, Any] = {"strategy": strategy, "stable_after_s": 5.0, "settle_s": 0.5, "tick_s": 0.5}
    if strategy == "lease-majority":
        manager["lease_near"] = draw(st.sampled_from(nodes))
    return {
        "description": "random partitions under a cluster manager",
        "duration_s": DURATION_S,
        "cluster": {
            "nodes": n,
            "start": "formed",
            "preset": "local",
            "config": {"probe_interval_s": 0.5, "probe_timeout_s": 0.2, "gossip_interval_s": 0.1},
        },
        "manager": manager,
        "faults": faults,
        "checks": {"no_split_brain": True},
        "trace": {"messages": False},
    }


def _manager_metrics(raw: dict[str, Any], seed: int) -> ManagerMetrics:
    result = run_scenario(validate(raw, "hypothesis.toml"), seed)
    assert result.metrics.manager is not None
    return result.metrics.manager


@given(schedules(), st.integers(0, 2**16))
def test_no_safe_strategy_leaves_two_serving_sides_apart(raw: dict[str, Any], seed: int) -> None:
    note(repr(raw))
    mm = _manager_metrics(raw, seed)
    note(f"{mm.strategy}: split brain {mm.split_brain}, serving at the end {mm.serving_at_end}")
    assert mm.split_brain_s == 0.0


def test_the_control_without_downing_does_split() -> None:
    """The same kind of schedule with `none`: a long clean split is split brain."""
    base = {
        "description": "control",
        "duration_s": DURATION_S,
        "cluster": {"nodes": 5, "start": "formed", "preset": "local", "config": {"probe_interval_s": 0.5}},
        "manager": {"strategy": "none", "stable_after_s": 5.0, "settle_s": 0.5, "tick_s": 0.5},
        "faults": [
            {"at_s": 10.0, "op": "partition", "shape": "groups", "groups": [["n0", "n1"]], "duration_s": 40.0}
        ],
    }
    assert _manager_metrics(base, 1).split_brain_s > 0.0
