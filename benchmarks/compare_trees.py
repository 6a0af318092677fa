"""CPU seconds of the simulator on two source trees, side by side, alternating runs.

Wall-clock figures on a shared machine swing by 2x from one minute to the next; CPU seconds of
a child process, alternated between the trees, are what a before/after comparison can trust.
Each tree is a checkout of this repository (e.g. `git worktree add /tmp/base main`, or
`git archive main | tar -x -C /tmp/base`); both run with this interpreter.

    python benchmarks/compare_trees.py /tmp/base . [--nodes 1000] [--duration 120] [--pairs 4]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys

CHILD = """
import sys
from swimlab.scenarios.loader import load_scenario
from swimlab.scenarios.runner import run_scenario
n, duration = int(sys.argv[1]), float(sys.argv[2])
overrides = [f"cluster.nodes={n}", f"duration_s={duration}", "trace.messages=false", "warmup_s=0"]
result = run_scenario(load_scenario("steady_state", overrides), 1)
assert result.verdict == "valid", result.verdict
"""


def cpu_seconds(tree: str, nodes: int, duration: float) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "PYTHONPATH": os.path.abspath(tree)}
    subprocess.run([sys.executable, "-c", CHILD, str(nodes), str(duration)], env=env, check=True, cwd=tree)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--pairs", type=int, default=4)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {"before": [], "after": []}
    for i in range(args.pairs):
        for label, tree in (("before", args.before), ("after", args.after)):
            runs[label].append(cpu_seconds(tree, args.nodes, args.duration))
            print(f"pair {i + 1} {label:6s} {runs[label][-1]:7.2f} CPU s", flush=True)
    b, a = statistics.median(runs["before"]), statistics.median(runs["after"])
    print(
        f"steady_state N={args.nodes}, {args.duration:g} simulated s, median of {args.pairs}: "
        f"before {b:.2f} CPU s, after {a:.2f} CPU s, after/before {a / b:.3f}"
    )


if __name__ == "__main__":
    main()
