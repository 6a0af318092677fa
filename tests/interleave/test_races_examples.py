"""The four components a user writes (docs/examples/races_*.py): every buggy form is found by
every strategy and shrunk, every fixed form survives, and the files run both ways a user runs
them — `swimlab races FILE.py` and `pytest FILE.py`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from swimlab.sim.interleave import explore, replay
from swimlab.sim.interleave.cli import main
from swimlab.sim.interleave.targets import Target, file_targets

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "docs" / "examples").glob("races_*.py"))
TARGETS = [t for f in FILES for t in file_targets(str(f))]
STRATEGIES = ("random", "pct", "dfs")
FIXED_BUDGET = 200  # per strategy; DFS: its bound or this, whichever comes first


def _id(target: Target) -> str:
    return f"{target.example}:{target.variant}"


def test_the_four_components_are_all_there_in_both_forms() -> None:
    names = {t.model.name for t in TARGETS} | {t.example for t in TARGETS}
    for component in (
        "races_token_bucket",
        "read-through-cache",
        "wait-for-leak",
        "two-locks",
        "two-locks-threads",
    ):
        assert component in names
    assert sum(t.model.expect_bug for t in TARGETS) == sum(not t.model.expect_bug for t in TARGETS) == 5


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("target", [t for t in TARGETS if t.model.expect_bug], ids=_id)
def test_each_buggy_form_is_found_and_shrunk(target: Target, strategy: str) -> None:
    result = explore(target.model, strategy, budget=500, seed=0)
    assert result.found, result.summary()
    assert result.shrunk_length is not None and result.found_length is not None
    assert result.shrunk_length <= result.found_length
    again = replay(target.model, result.replay or "-")
    assert again.failure is not None and again.failure.kind == result.failure.kind  # type: ignore[union-attr]
    assert again.steps == result.run.steps  # type: ignore[union-attr]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("target", [t for t in TARGETS if not t.model.expect_bug], ids=_id)
def test_each_fixed_form_survives(target: Target, strategy: str) -> None:
    result = explore(target.model, strategy, budget=FIXED_BUDGET, seed=0)
    assert not result.found, result.report()
    assert result.exhausted or result.schedules == FIXED_BUDGET


def test_the_command_line_runs_each_file(capsys) -> None:  # type: ignore[no-untyped-def]
    for path in FILES:
        assert main([str(path), "--budget", "100", "--brief"]) == 0, capsys.readouterr().out
        out = capsys.readouterr().out
        assert "UNEXPECTED" not in out and "bug found" in out


def _pytest(*args: str, optimize: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_XDIST_WORKER", None)
    python = [sys.executable, "-O"] if optimize else [sys.executable]
    return subprocess.run(
        [*python, "-m", "pytest", "-o", "addopts=", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


def test_pytest_runs_the_example_files() -> None:
    done = _pytest(*map(str, FILES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{2 * len(FILES)} passed" in done.stdout


def test_a_failing_race_test_fails_with_the_replay_string_and_the_trace(tmp_path: Path) -> None:
    test_file = tmp_path / "test_bucket.py"
    test_file.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(FILES[0].parent)!r})\n"
        "from races_token_bucket import TokenBucket, three_callers\n"
        "from swimlab.sim.interleave import race_test\n\n"
        "@race_test(strategy='pct', budget=500)\n"
        "async def test_buggy_bucket() -> None:\n"
        "    await three_callers(TokenBucket(tokens=1))\n\n"
        "@race_test(replay='0.1')\n"
        "async def test_buggy_bucket_replayed() -> None:\n"
        "    await three_callers(TokenBucket(tokens=1))\n\n"
        "@race_test(replay='0.1')\n"
        "async def test_fixed_bucket_replayed() -> None:\n"
        "    await three_callers(TokenBucket(tokens=1, fixed=True))\n"
    )
    done = _pytest(str(test_file))
    assert done.returncode == 1
    out = done.stdout
    assert "2 failed, 1 passed" in out
    assert "race found in test_buggy_bucket: invariant violated after step 5: the bucket went negative" in out
    assert "replay: 0.1" in out
    assert "TokenBucket.take#1  races_token_bucket.py:17 [record the grant] → finished  | tokens=-1" in out
    assert "test_buggy_bucket_replayed: replay '0.1' failed" in out


def test_python_dash_o_is_refused_not_passed() -> None:
    done = _pytest(str(FILES[0]), optimize=True)
    assert done.returncode != 0
    assert "refusing to explore under python -O" in done.stdout
    cli = subprocess.run(
        [sys.executable, "-O", "-m", "swimlab.sim.interleave", "--model", "gossip-clone", "--budget", "5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 2 and cli.stderr.startswith("error: refusing to explore under python -O")
