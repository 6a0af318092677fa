"""`swimlab bench`: the simulator's speed and memory, measured in one run.

Prints the bare SimPy delivery floor (scheduled callbacks, no protocol) and `steady_state` on the
LAN preset, formed start, at N = 1,000, 2,000, 5,000 and 10,000 for 300 simulated seconds
(`--quick`: 100, 200, 400 for 60 s): wall and CPU seconds, wall and CPU microseconds per simulated
node-second (CPU is the steadier one on a shared machine), deliveries per second, peak RSS, and
the per-event cost against the floor; then the slope of log(cost per node-second) against log(N)
(0: cost linear in N; 1: quadratic) and of RSS, and a figure of both against N (`--figure`,
PNG + SVG). Each N runs in its own subprocess so its RSS is its own; the machine's load average
is printed beside the table.

    python benchmarks/bench_sim.py [--quick] [--sizes N ...] [--figure PATH]
    swimlab bench [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
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
    c0 = time.process_time()
    result = run_scenario(scenario, 1)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    counters = result.accumulator.load.counters
    assert counters is not None, "the run wrote no end record"
    return {
        "n": n,
        "wall_s": wall,
        "cpu_s": cpu,
        "sim_per_wall": duration_s / wall,
        "deliveries_per_s": counters["messages_delivered"] / wall,
        "events_per_s": counters["events"] / wall,
        "events": counters["events"],
        "deliveries": counters["messages_delivered"],
        "peak_rss_mib": rss_mib,
        "verdict": result.verdict,
    }


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of log(y) against log(x)."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    den = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / den if den else 0.0


def figure(rows: list[dict[str, Any]], duration: float, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [r["n"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(ns, [r["us_per_node_s"] for r in rows], "o-", label="wall")
    left.plot(ns, [r["cpu_us_per_node_s"] for r in rows], "s--", label="CPU")
    left.legend()
    left.set(xscale="log", xlabel="N (nodes)", ylabel="µs per simulated node-second")
    left.set_ylim(bottom=0)
    left.set_title("cost per node-second (flat = linear in N)")
    right.plot(ns, [r["peak_rss_mib"] / 1024 for r in rows], "o-")
    right.set(xscale="log", yscale="log", xlabel="N (nodes)", ylabel="peak RSS (GiB)")
    right.set_title("memory")
    fig.suptitle(f"steady_state, LAN, formed, {duration:.0f} simulated s, one process each")
    fig.tight_layout()
    for suffix in (".png", ".svg"):
        fig.savefig(str(pathlib.Path(path).with_suffix(suffix)))
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="N = 100, 200, 400 for 60 simulated s")
    parser.add_argument("--one", nargs=2, type=float, help=argparse.SUPPRESS)  # child: N duration
    parser.add_argument("--sizes", type=int, nargs="*", help="override the list of N")
    parser.add_argument("--duration", type=float, help="simulated seconds (default 300; --quick 60)")
    parser.add_argument("--figure", default="bench_sim.png", help="where to write the figure (and .svg)")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(int(args.one[0]), args.one[1])))
        return 0
    sizes = args.sizes or ([100, 200, 400] if args.quick else [1000, 2000, 5000, 10000])
    duration = args.duration or (60.0 if args.quick else 300.0)
    floor = simpy_floor(200_000 if args.quick else 1_000_000)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"bare SimPy floor (Kernel.call_at + callback): {floor:,.0f} callbacks/s")
    print(f"steady_state, LAN preset, formed, {duration:.0f} simulated s, message records off:")
    print(
        f"{'N':>6} {'wall s':>8} {'CPU s':>8} {'wall µs/node-s':>14} {'CPU µs/node-s':>13} "
        f"{'sim-s/wall-s':>12} {'deliveries/s':>13} "
        f"{'events/s':>10} {'floor/ours':>10} {'peak RSS MiB':>12}  verdict"
    )
    rows: list[dict[str, Any]] = []
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
        r["us_per_node_s"] = r["wall_s"] / (n * duration) * 1e6
        r["cpu_us_per_node_s"] = r["cpu_s"] / (n * duration) * 1e6
        rows.append(r)
        print(
            f"{n:>6} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} {r['us_per_node_s']:>14.1f} "
            f"{r['cpu_us_per_node_s']:>13.1f} {r['sim_per_wall']:>12.2f} "
            f"{r['deliveries_per_s']:>13,.0f} {r['events_per_s']:>10,.0f} "
            f"{floor / r['events_per_s']:>9.1f}x {r['peak_rss_mib']:>12.0f}  "
            f"{r['verdict']}",
            flush=True,
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if len(rows) >= 2:
        ns = [r["n"] for r in rows]
        cost = slope(ns, [r["us_per_node_s"] for r in rows])
        cpu = slope(ns, [r["cpu_us_per_node_s"] for r in rows])
        rss = slope(ns, [r["peak_rss_mib"] for r in rows])
        print(
            f"slope of log(wall per node-second) vs log(N): {cost:+.2f}, of CPU per node-second: {cpu:+.2f} "
            f"(0 = cost linear in N, +1 = quadratic); of log(peak RSS) vs log(N): {rss:+.2f} (1 = linear)"
        )
        figure(rows, duration, args.figure)
        print(f"figure: {args.figure} (+ .svg)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    sys.exit(main())
