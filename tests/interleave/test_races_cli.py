"""`swimlab races`: users' files and shipped examples, one table, and an `error:` line (exit 2),
never a traceback, for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from swimlab.scenarios.cli import main as swimlab
from swimlab.sim.interleave.cli import exit_status, format_table, main, run_races

MODELS = """
import asyncio
import threading
from swimlab.sim.interleave import Model, point, race_test


async def bump(state):
    seen = state["n"]
    await point("read")
    state["n"] = seen + 1


def lost_update(state):
    return state["n"] == 2


RACY = Model("counter", lambda: {"n": 0}, lambda s: {"a": bump(s), "b": bump(s)}, at_end=lost_update, expect_bug=True)
UNMARKED = Model("counter", lambda: {"n": 0}, lambda s: {"a": bump(s), "b": bump(s)}, at_end=lost_update)
CALM = Model("calm", lambda: {"n": 0}, lambda s: {"a": bump(s)}, at_end=lambda s: s["n"] == 1, expect_bug=True)
BROKEN_SETUP = Model("broken", lambda: 1 / 0, lambda s: {})
MIXED = Model("mixed", lambda: {"n": 0}, lambda s: {"a": bump(s), "t": lambda: None})


@race_test(budget=50)
async def test_one_bump():
    state = {"n": 0}
    await bump(state)
    assert state["n"] == 1


@race_test()
async def test_with_fixture(tmp_path):
    pass


def helper():
    pass
"""


@pytest.fixture
def models(tmp_path: Path) -> Path:
    path = tmp_path / "my_models.py"
    path.write_text(MODELS)
    return path


def _error(capsys, *argv: str) -> str:  # type: ignore[no-untyped-def]
    assert main(list(argv)) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("error: ")
    return line


def test_a_users_file_runs_with_names_and_the_same_table(models: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([f"{models}:RACY,test_one_bump", "--budget", "50"]) == 0
    out = capsys.readouterr().out
    header, *rows = out.split("\n\n")[0].splitlines()
    assert header.split()[:3] == ["model", "variant", "strategy"]
    assert [r.split()[:2] for r in rows] == [["counter", "RACY"]] * 3 + [["my_models", "test_one_bump"]] * 3
    assert "counter/RACY (random, shrunk): end-of-run check (at_end) failed" in out
    assert "[read]" in out  # the trace follows, with point labels


def test_exit_status_says_which_expectation_failed(models: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert (
        main([f"{models}:UNMARKED", "--budget", "50", "--brief"]) == 1
    )  # a form not expected to fail failed
    assert main([f"{models}:CALM", "--budget", "50", "--brief"]) == 2  # a bug was not found
    capsys.readouterr()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--model", "token_bucket"],
            "error: unknown example 'token_bucket'; shipped examples: pool-eviction,",
        ),
        (["token_bucket"], "error: no such file: token_bucket"),
        (
            ["pool-eviction"],
            "error: no such file: pool-eviction (to run the shipped example, use --model pool-eviction)",
        ),
        (
            ["{models}:NOPE"],
            "error: my_models.py has no model named 'NOPE'; it defines: RACY, UNMARKED, CALM,",
        ),
        (
            ["{models}:helper"],
            "error: my_models.py:helper is a function, not a Model or a @race_test function",
        ),
        (
            ["{models}:test_with_fixture"],
            "error: my_models.py:test_with_fixture takes arguments (pytest fixtures?)",
        ),
        (
            ["{models}:BROKEN_SETUP"],
            "error: a model raised ZeroDivisionError: division by zero at my_models.py:",
        ),
        (
            ["{models}:MIXED"],
            "error: tasks(state) must return coroutines (asyncio) or callables (threads), not a mix",
        ),
        (
            ["{models}", "--replay", "0.1"],
            "error: --replay needs exactly one model, 6 selected: counter/RACY, counter/UNMARKED,",
        ),
        (["--model", "gossip-clone", "--budget", "0"], "error: --budget must be at least 1, got 0"),
        (["{text}"], "error: {text_name}: expected a Python file (FILE.py[:NAME])"),
    ],
)
def test_mistakes_get_one_error_line(
    argv: list[str], expected: str, models: Path, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    text = tmp_path / "notes.txt"
    text.write_text("x")
    fill = {"models": str(models), "text": str(text), "text_name": str(text)}
    line = _error(capsys, *[a.format(**fill) for a in argv])
    assert line.startswith(expected.format(**fill)), line


def test_import_failures_name_the_file_and_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad_import.py"
    bad.write_text("import os\n\nundefined_name + 1\n")
    assert _error(capsys, str(bad)) == (
        "error: cannot import bad_import.py: NameError: name 'undefined_name' is not defined (bad_import.py:3)"
    )
    syntax = tmp_path / "bad_syntax.py"
    syntax.write_text("def f(:\n")
    assert _error(capsys, str(syntax)).startswith("error: cannot import bad_syntax.py: SyntaxError:")
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    assert (
        _error(capsys, str(empty))
        == "error: empty.py defines no Model and no argument-free @race_test function"
    )


def test_replay_prints_the_whole_trace_of_one_schedule(models: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([f"{models}:RACY", "--replay", "0.1"]) == 0  # RACY is expected to fail, and does
    out = capsys.readouterr().out
    assert out.startswith("counter: end-of-run check (at_end) failed after all tasks finished")
    assert "replay: 0.1" in out and "my_models.py:9 [read] → finished" in out


def test_list_and_seeds_work_on_files(models: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([f"{models}:RACY,CALM", "--list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "counter RACY (expected to fail)",
        "calm CALM (expected to fail)",
    ]
    assert main([f"{models}:RACY", "--seeds", "3", "--strategy", "random"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["model", "variant", "strategy", "found"]
    assert lines[1].split()[:4] == ["counter", "RACY", "random", "3/3"] and lines[1].split()[4].isdigit()


def test_the_top_level_command_wires_races(models: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert swimlab(["races", f"{models}:RACY", "--budget", "20", "--brief", "--strategy", "dfs"]) == 0
    assert "counter  RACY" in capsys.readouterr().out
    assert swimlab(["races", "--model", "token_bucket"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown example 'token_bucket'")


def test_shipped_examples_table_and_exit_status(capsys) -> None:  # type: ignore[no-untyped-def]
    rows = run_races(["get-or-create", "select-updates-threads"], ("random", "dfs"), budget=100)
    assert exit_status(rows) == 0 and all(r.as_expected for r in rows)
    table = format_table(rows)
    assert "select-updates-threads" in table and "UNEXPECTED" not in table
    assert main(["--model", "gossip-clone", "--budget", "50", "--strategy", "pct"]) == 0
    out = capsys.readouterr().out
    assert "gossip-clone" in out and "replay" in out
