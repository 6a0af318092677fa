"""`swimlab bench`: the simulator's speed and memory, measured in one run.

Prints the bare SimPy delivery floor (scheduled callbacks, no protocol) and `steady_state` on the
LAN preset at N = 100, 1,000 and 2,000 for 300 simulated seconds (`--quick`: 50, 200, 400 for
60 s): wall seconds, simulated seconds per wall second, deliveries per second, peak RSS, and
the per-event cost against the floor. Each N runs in its own subprocess so its RSS is its own.

    python benchmarks/bench_sim.py [--quick]      or      swimlab bench [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any


def simpy_floor(n: int = 500_000, pending: int = 2_000) -> float:
    """Callbacks per second through the simulator's scheduling path with no protocol work.

    Like a running simulation, the heap stays at `pending` events: each callback schedules the
    next delivery a random delay ahead.
    """
    from swimlab.sim.kernel import Kernel

    kernel = Kernel(random.Random(1))
    rng = random.Random(2)
    left = [n]

    def deliver() -> None:
        if left[0] > 0:
            left[0] -= 1
            kernel.call_at(kernel.now + rng.random(), deliver)

    for _ in range(pending):
        kernel.call_at(rng.random(), deliver)
    t0 = time.perf_counter()
    kernel.run()
    return (n + pending) / (time.perf_counter() - t0)


def one_run(n: int, duration_s: float) -> dict[str, Any]:
    from swimlab.scenarios.loader import load_scenario
    from swimlab.scenarios.runner import run_scenario

    scenario = load_scenario(
        "steady_state",
        [f"cluster.nodes={n}", f"duration_s={duration_s}", "trace.messages=false", "warmup_s=0"],
    )
    t0 = time.perf_counter()
    result = run_scenario(scenario, 1)
    wall = time.perf_counter() - t0
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    counters = result.accumulator.load.counters
    assert counters is not None, "the run wrote no end record"
    return {
        "n": n,
        "wall_s": wall,
        "sim_per_wall": duration_s / wall,
        "deliveries_per_s": counters["messages_delivered"] / wall,
        "events_per_s": counters["events"] / wall,
        "events": counters["events"],
        "deliveries": counters["messages_delivered"],
        "peak_rss_mib": rss_mib,
        "verdict": result.verdict,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--one", nargs=2, type=float, help=argparse.SUPPRESS)  # child: N duration
    parser.add_argument("--sizes", type=int, nargs="*", help="override the list of N")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(int(args.one[0]), args.one[1])))
        return 0
    sizes = args.sizes or ([50, 200, 400] if args.quick else [100, 1000, 2000])
    duration = 60.0 if args.quick else 300.0
    floor = simpy_floor(200_000 if args.quick else 1_000_000)
    print(f"bare SimPy floor (Kernel.call_at + callback): {floor:,.0f} callbacks/s")
    print(f"steady_state, LAN preset, {duration:.0f} simulated s, message records off:")
    print(
        f"{'N':>6} {'wall s':>8} {'sim-s/wall-s':>12} {'deliveries/s':>13} {'events/s':>10} "
        f"{'floor/ours':>10} {'peak RSS MiB':>12}  verdict"
    )
    for n in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), str(duration)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            print(f"{n:>6} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{n:>6} {r['wall_s']:>8.1f} {r['sim_per_wall']:>12.2f} "
            f"{r['deliveries_per_s']:>13,.0f} {r['events_per_s']:>10,.0f} "
            f"{floor / r['events_per_s']:>9.1f}x {r['peak_rss_mib']:>12.0f}  "
            f"{r['verdict']}"
        )
    return 0


if __name__ == "__main__":
    import pathlib

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    sys.exit(main())
