"""`swimlab races`: search the schedules of the shipped examples or of your own models.

    swimlab races [FILE.py[:NAME,...] ...] [--model EXAMPLE ...] [--strategy all|random|pct|dfs|hypothesis]
                  [--budget N] [--seed N] [--seeds K] [--depth D] [--preemptions P]
                  [--replay STRING] [--brief] [--list]

With no FILE and no --model it runs every shipped example (sim/interleave/models/). Parsing
only; the work is `run_races` and `measure`, plain functions tests call directly. The top-level
CLI (scenarios/cli.py) imports this module lazily and calls `add_arguments` and `run`;
`python -m swimlab.sim.interleave` runs it standalone.

Exit status (Jepsen's convention): 0 every form behaved as expected (those marked
`expect_bug=True` failed, the others survived the search); 1 a form not expected to fail
failed; 2 a bug was not found within the budget (unknown), or the command could not run — an
`error:` line then says why.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .explore import ExploreResult, explore, replay
from .model import Model, ModelError, OptimizedModeError
from .targets import Target, TargetError, file_targets, shipped_targets
from .trace import raise_location

STRATEGIES = ("random", "pct", "dfs", "hypothesis")
ALL = ("random", "pct", "dfs")


@dataclass(frozen=True)
class RaceRow:
    example: str
    variant: str
    expect_bug: bool
    result: ExploreResult

    @property
    def as_expected(self) -> bool:
        return self.result.found == self.expect_bug


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="FILE.py[:NAME,...]",
        help="your own models: every module-level Model and argument-free @race_test function in "
        "FILE.py, or only those named (default: the shipped examples)",
    )
    parser.add_argument(
        "--model",
        action="append",
        metavar="EXAMPLE",
        help="a shipped example to run (repeatable; 'all': every one; see --list)",
    )
    parser.add_argument(
        "--strategy",
        choices=(*STRATEGIES, "all"),
        default="all",
        help="search strategy (default all: random, pct and dfs in turn, each with the full budget)",
    )
    parser.add_argument(
        "--budget", type=int, default=500, metavar="N", help="schedules per model and strategy (default 500)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="seed of the random strategies (default 0)"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        metavar="K",
        help="with K > 1: run each search with seeds 0..K-1 (DFS once: it has no seed; no "
        "shrinking) and print the median number of schedules to the first failure",
    )
    parser.add_argument("--depth", type=int, default=3, metavar="D", help="PCT bug depth d (default 3)")
    parser.add_argument(
        "--preemptions", type=int, default=2, metavar="P", help="DFS preemption bound (default 2)"
    )
    parser.add_argument(
        "--replay",
        metavar="STRING",
        help="rerun this one schedule of the (single) selected model and print its trace",
    )
    parser.add_argument("--brief", action="store_true", help="the table and failures, without traces")
    parser.add_argument("--list", action="store_true", help="list the models that would run, and exit")


def _targets(specs: Sequence[str] | Sequence[Target] | None) -> list[Target]:
    if specs and isinstance(specs[0], Target):
        return [t for t in specs if isinstance(t, Target)]
    return shipped_targets([s for s in specs or () if isinstance(s, str)] or None)


def run_races(
    targets: Sequence[Target] | Sequence[str] | None = None,
    strategies: Sequence[str] = ALL,
    budget: int = 500,
    seed: int = 0,
    depth: int = 3,
    preemptions: int = 2,
    *,
    shrink: bool = True,
) -> list[RaceRow]:
    """Search each target with each strategy. Strings name shipped examples (None: all)."""
    rows: list[RaceRow] = []
    for target in _targets(targets):
        for strategy in strategies:
            if strategy == "hypothesis":
                from .hypothesis_glue import hypothesis_search  # hypothesis import is slow

                result = hypothesis_search(target.model, max_examples=budget, seed_=seed)
            else:
                result = explore(
                    target.model,
                    strategy,
                    budget,
                    seed,
                    shrink=shrink,
                    depth=depth,
                    preemption_bound=preemptions,
                )
            rows.append(RaceRow(target.example, target.variant, target.model.expect_bug, result))
    return rows


def _align(lines: Sequence[Sequence[str]], last_free: bool = False) -> str:
    count = len(lines[0]) - (1 if last_free else 0)
    widths = [max(len(line[i]) for line in lines) for i in range(count)]
    out = []
    for line in lines:
        cells = [cell.ljust(w) for cell, w in zip(line[:count], widths, strict=True)]
        out.append("  ".join([*cells, *line[count:]]).rstrip())
    return "\n".join(out)


def format_table(rows: Sequence[RaceRow]) -> str:
    header = ("model", "variant", "strategy", "schedules", "bug found", "first failure",
              "shrunk", "expected", "replay")  # fmt: skip
    lines = [header]
    for row in rows:
        r = row.result
        lines.append(
            (
                row.example,
                row.variant,
                r.strategy,
                f"{r.schedules}" + (" (all)" if r.exhausted else ""),
                "yes" if r.found else "no",
                str(r.first_failure_at) if r.first_failure_at else "-",
                f"{r.found_length}→{r.shrunk_length}" if r.shrunk_length is not None else "-",
                "ok" if row.as_expected else "UNEXPECTED",
                r.replay or "-",
            )
        )
    return _align(lines, last_free=True)


@dataclass(frozen=True)
class Median:
    example: str
    variant: str
    strategy: str
    found: int  # seeds (out of `seeds`) that found a failure within the budget
    seeds: int
    median_to_failure: float | None  # over all seeds, a miss counting as budget + 1
    max_clean: int  # most schedules a seed ran without failure (what a fixed form survived)


def measure(
    targets: Sequence[Target] | Sequence[str] | None,
    strategies: Sequence[str],
    budget: int,
    seeds: int,
    depth: int = 3,
    preemptions: int = 2,
) -> list[Median]:
    """Schedules to the first failure per target and strategy, over seeds 0..seeds-1 (DFS, which
    has no seed, runs once)."""
    chosen = _targets(targets)
    out: list[Median] = []
    for target in chosen:
        for strategy in strategies:
            runs = 1 if strategy == "dfs" else seeds
            results = [
                run_races([target], (strategy,), budget, s, depth, preemptions, shrink=False)[0].result
                for s in range(runs)
            ]
            firsts = [r.first_failure_at or budget + 1 for r in results]
            found = sum(1 for r in results if r.found)
            clean = max((r.schedules for r in results if not r.found), default=0)
            median = statistics.median(firsts) if found else None
            out.append(
                Median(target.example, target.variant, results[0].strategy, found, runs, median, clean)
            )
    return out


def format_medians(rows: Sequence[Median]) -> str:
    lines = [("model", "variant", "strategy", "found", "median schedules to failure", "clean schedules")]
    for m in rows:
        lines.append((m.example, m.variant, m.strategy, f"{m.found}/{m.seeds}",
                      f"{m.median_to_failure:g}" if m.median_to_failure is not None else "-",
                      str(m.max_clean) if m.max_clean else "-"))  # fmt: skip
    return _align(lines)


def exit_status(rows: Sequence[RaceRow]) -> int:
    if any(r.result.found and not r.expect_bug for r in rows):
        return 1
    if any(not r.as_expected for r in rows):
        return 2
    return 0


def _selected(args: argparse.Namespace) -> list[Target]:
    targets = [t for spec in args.targets for t in file_targets(spec)]
    if args.model or not targets:
        targets += shipped_targets(None if args.model == ["all"] else args.model)
    return targets


def _describe(model: Model[Any]) -> str:
    """The model's description, or else the first line of its module's docstring."""
    module = sys.modules.get(getattr(model.tasks, "__module__", ""))
    text = model.description.strip() or ((module.__doc__ if module else None) or "").strip()
    return text.splitlines()[0] if text else ""


def _run(args: argparse.Namespace) -> int:
    for name in ("budget", "seeds", "depth"):
        if getattr(args, name) < 1:
            raise TargetError(f"--{name} must be at least 1, got {getattr(args, name)}")
    if args.preemptions < 0:
        raise TargetError(f"--preemptions must be at least 0, got {args.preemptions}")
    targets = _selected(args)
    if args.list:
        for t in targets:
            print(f"{t.example} {t.variant} ({'expected to fail' if t.model.expect_bug else 'must hold'})"
                  + (f" — {doc}" if (doc := _describe(t.model)) else ""))  # fmt: skip
        return 0
    if args.replay is not None:
        if len(targets) != 1:
            names = ", ".join(f"{t.example}/{t.variant}" for t in targets)
            raise TargetError(f"--replay needs exactly one model, {len(targets)} selected: {names}")
        run = replay(targets[0].model, args.replay)
        print(run.report(last=None))
        return 0 if run.ok != targets[0].model.expect_bug else 1
    strategies = ALL if args.strategy == "all" else (args.strategy,)
    if args.seeds > 1:
        print(
            format_medians(
                measure(targets, strategies, args.budget, args.seeds, args.depth, args.preemptions)
            )
        )
        return 0
    rows = run_races(targets, strategies, args.budget, args.seed, args.depth, args.preemptions)
    print(format_table(rows))
    shown: set[tuple[str, str]] = set()
    for row in rows:
        r = row.result
        if r.failure is None or (row.example, row.variant) in shown:
            continue
        shown.add((row.example, row.variant))
        print(f"\n{row.example}/{row.variant} ({r.strategy}, shrunk): {r.failure}\nreplay: {r.replay}")
        if not args.brief and r.run is not None:
            print(r.run.format_trace())
    return exit_status(rows)


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; an error a user can fix is one `error:` line and exit status 2."""
    try:
        return _run(args)
    except BrokenPipeError:  # `swimlab races --list | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (TargetError, ModelError, OptimizedModeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # raised by a model's setup or tasks(): the user's code, not a race
        at = raise_location(exc)
        print(
            f"error: a model raised {type(exc).__name__}: {exc}" + (f" at {at}" if at else ""),
            file=sys.stderr,
        )
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m swimlab.sim.interleave",
        description="Search task and thread interleavings of the shipped race examples or your own models.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
