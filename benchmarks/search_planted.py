"""Schedules to find each planted bug (protocol/planted.py) and the shrunk length, per seed.

    python benchmarks/search_planted.py [--envelope search_partition] [--budget 200] [--seeds 3]
        [--bugs a,b] [--out DIR]

For each bug and seed 1..K: `swimlab search ENVELOPE --budget B --seed S` with the bug switched
on (SWIMLAB_PLANTED_BUGS); prints the schedules drawn before the first failure (hypothesis
counts, shrink runs excluded), the faults left after shrinking, the oracle and the wall time,
then the median per bug. A bug not found within the budget counts as > B.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from swimlab.protocol.planted import BUGS
from swimlab.scenarios.search import PLANTED_ENV, run_search


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--envelope", default="search_partition")
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--bugs", default=",".join(BUGS))
    parser.add_argument("--out", default="found-planted")
    args = parser.parse_args(argv)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"# {args.envelope}, budget {args.budget}, seeds 1..{args.seeds}; uptime: {load}", flush=True)
    print("| bug | seed | schedules to find | shrunk faults | oracle | wall s |")
    print("|---|---|---|---|---|---|", flush=True)
    summary = []
    for bug in args.bugs.split(","):
        os.environ[PLANTED_ENV] = bug
        finds, lengths = [], []
        for seed in range(1, args.seeds + 1):
            t0 = time.perf_counter()
            outcome = run_search(args.envelope, args.budget, seed=seed, out_dir=Path(args.out) / bug)
            wall = time.perf_counter() - t0
            if outcome.found is None or outcome.shard is None:
                finds.append(args.budget + 1)
                print(f"| {bug} | {seed} | > {args.budget} | - | - | {wall:.0f} |", flush=True)
                continue
            first = outcome.shard["first_at"]
            faults = len(outcome.found["schedule"]["faults"])
            finds.append(first)
            lengths.append(faults)
            print(
                f"| {bug} | {seed} | {first} | {faults} | {outcome.found['oracle']} | {wall:.0f} |",
                flush=True,
            )
        med = statistics.median(finds)
        shown = f"> {args.budget}" if med > args.budget else f"{med:g}"
        summary.append((bug, shown, statistics.median(lengths) if lengths else None))
    os.environ.pop(PLANTED_ENV, None)
    print("\n| bug | median schedules to find | median shrunk faults |")
    print("|---|---|---|")
    for bug, med, length in summary:
        print(f"| {bug} | {med} | {'-' if length is None else f'{length:g}'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
