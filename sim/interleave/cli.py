"""`swimlab races`: search the worked examples' schedules and print what was found.

Parsing only; the work is `run_races`, a plain function tests call directly. The top-level CLI
(scenarios/cli.py) imports this module lazily and calls `add_arguments` and `run`;
`python -m swimlab.sim.interleave` runs it standalone.

Exit status (Jepsen's convention): 0 every buggy variant was caught and every fixed one
survived; 1 a fixed variant failed; 2 some bug was not found within the budget.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from .explore import ExploreResult, explore

STRATEGIES = ("pct", "random", "dfs", "hypothesis")


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
    parser.add_argument("--budget", type=int, default=500, help="schedules per model (default 500)")
    parser.add_argument(
        "--strategy",
        choices=(*STRATEGIES, "all"),
        default="random",
        help="search strategy (default random: the only one that finds every example's bug at "
        "the default depth/bound); 'all' runs pct, random and dfs in turn",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random strategies")
    parser.add_argument(
        "--model",
        action="append",
        metavar="NAME",
        help="example to run (repeatable; default: all). See --list.",
    )
    parser.add_argument("--depth", type=int, default=3, help="PCT bug depth d (default 3)")
    parser.add_argument("--preemptions", type=int, default=2, help="DFS preemption bound (default 2)")
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="with N > 1: rerun each search with seeds 0..N-1 and print the median number of "
        "schedules to the first failure (the figures quoted in docs/races.md)",
    )
    parser.add_argument("--list", action="store_true", help="list the examples and exit")


def run_races(
    models: Sequence[str] | None = None,
    strategies: Sequence[str] = ("pct",),
    budget: int = 500,
    seed: int = 0,
    depth: int = 3,
    preemptions: int = 2,
) -> list[RaceRow]:
    from .models import EXAMPLES

    names = list(models) if models else list(EXAMPLES)
    unknown = [n for n in names if n not in EXAMPLES]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; known: {', '.join(EXAMPLES)}")
    rows: list[RaceRow] = []
    for name in names:
        for variant, model in EXAMPLES[name].items():
            for strategy in strategies:
                if strategy == "hypothesis":
                    from .hypothesis_glue import hypothesis_search  # hypothesis import is slow

                    result = hypothesis_search(model, max_examples=budget, seed_=seed)
                else:
                    result = explore(model, strategy, budget, seed, depth=depth, preemption_bound=preemptions)
                rows.append(RaceRow(name, variant, model.expect_bug, result))
    return rows


def format_table(rows: Sequence[RaceRow]) -> str:
    header = ("model", "variant", "strategy", "schedules", "bug found", "first failure",
              "shrunk", "expected", "replay")  # fmt: skip
    lines = [header]
    for row in rows:
        r = row.result
        explored = f"{r.schedules}" + (" (all)" if r.exhausted else "")
        lines.append(
            (
                row.example,
                row.variant,
                r.strategy,
                explored,
                "yes" if r.found else "no",
                str(r.first_failure_at) if r.first_failure_at else "-",
                f"{r.found_length}→{r.shrunk_length}" if r.shrunk_length is not None else "-",
                "ok" if row.as_expected else "UNEXPECTED",
                r.replay or "-",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    out = []
    for line in lines:
        cells = [cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=True)]
        out.append("  ".join([*cells, line[-1]]))
    return "\n".join(out)


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
    models: Sequence[str] | None,
    strategies: Sequence[str],
    budget: int,
    seeds: int,
    depth: int = 3,
    preemptions: int = 2,
) -> list[Median]:
    import statistics

    per_seed = [run_races(models, strategies, budget, seed, depth, preemptions) for seed in range(seeds)]
    out: list[Median] = []
    for i, row in enumerate(per_seed[0]):
        results = [rows[i].result for rows in per_seed]
        firsts = [r.first_failure_at or budget + 1 for r in results]
        found = sum(1 for r in results if r.found)
        clean = max((r.schedules for r in results if not r.found), default=0)
        median = statistics.median(firsts) if found else None
        out.append(Median(row.example, row.variant, results[0].strategy, found, seeds, median,
                          clean))  # fmt: skip
    return out


def format_medians(rows: Sequence[Median]) -> str:
    lines = [("model", "variant", "strategy", "found", "median schedules to failure",
              "clean schedules")]  # fmt: skip
    for m in rows:
        lines.append((m.example, m.variant, m.strategy, f"{m.found}/{m.seeds}",
                      f"{m.median_to_failure:g}" if m.median_to_failure is not None else "-",
                      str(m.max_clean) if m.max_clean else "-"))  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines)


def exit_status(rows: Sequence[RaceRow]) -> int:
    if any(r.result.found and not r.expect_bug for r in rows):
        return 1
    if any(not r.as_expected for r in rows):
        return 2
    return 0


def run(args: argparse.Namespace) -> int:
    from .models import EXAMPLES

    if args.list:
        for name, variants in EXAMPLES.items():
            doc = (next(iter(variants.values())).description or "").strip()
            print(f"{name}: {', '.join(variants)}" + (f" — {doc}" if doc else ""))
        return 0
    strategies = STRATEGIES[:3] if args.strategy == "all" else (args.strategy,)
    if args.seeds > 1:
        print(format_medians(measure(args.model, strategies, args.budget, args.seeds, args.depth,
                                     args.preemptions)))  # fmt: skip
        return 0
    rows = run_races(args.model, strategies, args.budget, args.seed, args.depth, args.preemptions)
    print(format_table(rows))
    failures = [r for r in rows if r.result.failure is not None]
    if failures:
        print("\nfirst failure of each buggy variant (shrunk):")
        seen: set[tuple[str, str]] = set()
        for row in failures:
            if (row.example, row.variant) in seen:
                continue
            seen.add((row.example, row.variant))
            print(f"- {row.example}/{row.variant}: {row.result.failure}")
    return exit_status(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m swimlab.sim.interleave", description="Search the seed's race examples."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
