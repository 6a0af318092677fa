"""The live runtime's speed and memory: N nodes on real QUIC sockets in one process, one core.

For N = 8, 16, 32, 64 with the `lan` and `local` presets (`--quick`: 8 and 16), each in its own
subprocess so its RSS is its own:

1. N hosts boot as a formed cluster (mutual TLS, a throwaway CA); every pair then connects
   (one connection per pair, as SWIM's probing ends up doing) — the handshakes per second and
   the memory per connection come from this phase;
2. the heap is frozen (`gc.freeze`, see `LiveCluster.freeze_heap`; `--no-freeze` to compare),
   a settling pause, then a steady-state window: CPU per node per second (process CPU time /
   N / window), RSS per node (process RSS over an empty process's, / N), and the event loop's
   lag (how late node timers fire: p50 / p99 / max), against 10% of the probe timeout.

It prints one table and the largest N whose p99 loop lag stays under 10% of the probe timeout
for each preset. Timing on a shared machine is noisy: compare rows of one run.

    python benchmarks/bench_live.py [--quick] [--window S] [--loop uvloop|asyncio] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

LAG_FRACTION = 0.10
WAVE = 8  # handshakes in flight at once while connecting every pair


def rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def measure(
    n: int, preset_name: str, window_s: float, use_uvloop: bool, freeze: bool = True
) -> dict[str, Any]:
    from swimlab.live.cluster import LiveCluster
    from swimlab.live.udp import new_event_loop
    from swimlab.protocol.config import preset
    from swimlab.protocol.messages import MemberState

    config = preset(preset_name)
    rss_empty = rss_bytes()
    suspicions = [0]

    def sink(record: dict[str, Any]) -> None:
        if record.get("event") == "suspect":
            suspicions[0] += 1

    cluster = LiveCluster(1, config, sink, loop=new_event_loop(use_uvloop))
    names = [f"n{i:02d}" for i in range(n)]
    for name in names:
        cluster.add_host(name)
    rss_nodes = rss_bytes()
    hosts = [cluster.hosts[name] for name in names]

    # Phase 1: every pair connects (the lower-numbered node dials), WAVE handshakes at a time,
    # so the rate measured is one the loop sustains; then the nodes boot, formed.
    def handshakes() -> int:
        return sum(h.endpoint.stats.handshakes_completed for h in hosts)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    connected = cluster.connect_all(names, wave=WAVE)
    hs_wall, hs_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    handshaken = handshakes() // 2  # both ends count a completed handshake
    cluster.boot_formed(names)
    if freeze:
        cluster.freeze_heap()  # no full GC pass over the set-up heap in the window (docs/live.md)
    rss_connected = rss_bytes()

    # Phase 2: settle, then the steady-state window.
    cluster.run(cluster.now + 3.0)
    cluster.lag.reset()
    suspicions_before = suspicions[0]
    cpu1, t1 = time.process_time(), cluster.now
    cluster.run(cluster.now + window_s)
    cpu_s, elapsed = time.process_time() - cpu1, cluster.now - t1
    rss_steady = rss_bytes()
    lag = cluster.lag.summary()
    alive = all(
        h.node is not None and all(u.state is MemberState.ALIVE for u in h.node.view().values())
        for h in hosts
    )
    result = {
        "n": n,
        "preset": preset_name,
        "loop": "uvloop" if use_uvloop else "asyncio",
        "gc_frozen": freeze,
        "probe_timeout_s": config.probe_timeout_s,
        "window_s": round(elapsed, 2),
        "cpu_per_node_per_s_ms": 1000 * cpu_s / (n * elapsed),
        "cpu_share_of_core": cpu_s / elapsed,
        "rss_per_node_kib": (rss_steady - rss_empty) / n / 1024,
        "lag_p50_ms": 1000 * float(lag["p50_s"]),
        "lag_p99_ms": 1000 * float(lag["p99_s"]),
        "lag_max_ms": 1000 * float(lag["max_s"]),
        "lag_samples": lag["samples"],
        "lag_ok": float(lag["p99_s"]) < LAG_FRACTION * config.probe_timeout_s,
        "connections": connected,
        "handshakes_per_s": handshaken / hs_wall if hs_wall else 0.0,
        "handshake_cpu_ms": 1000 * hs_cpu / max(1, handshaken),
        "kib_per_connection": (rss_connected - rss_nodes) / max(1, connected) / 1024,
        "suspicions_in_window": suspicions[0] - suspicions_before,
        "all_alive": alive,
    }
    cluster.close()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 8 and 16 only, 5 s windows")
    parser.add_argument("--window", type=float, default=None, help="steady-state window, s (default 10)")
    parser.add_argument(
        "--loop", choices=["uvloop", "asyncio"], default=None, help="default: uvloop if installed"
    )
    parser.add_argument("--presets", default="lan,local")
    parser.add_argument("--sizes", default=None, help="comma-separated N (default 8,16,32,64)")
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    parser.add_argument("--no-freeze", action="store_true", help="leave the set-up heap to the GC")
    parser.add_argument("--one", nargs=2, metavar=("N", "PRESET"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from swimlab.live.udp import uvloop_available

    use_uvloop = uvloop_available() if args.loop is None else args.loop == "uvloop"
    window = args.window or (5.0 if args.quick else 10.0)
    if args.one:
        print(json.dumps(measure(int(args.one[0]), args.one[1], window, use_uvloop, not args.no_freeze)))
        return 0
    sizes = [int(x) for x in (args.sizes or ("8,16" if args.quick else "8,16,32,64")).split(",")]
    rows = []
    for preset_name in args.presets.split(","):
        for n in sizes:
            command = [sys.executable, __file__, "--one", str(n), preset_name, "--window", str(window)]
            command += ["--loop", "uvloop" if use_uvloop else "asyncio"] + (
                ["--no-freeze"] if args.no_freeze else []
            )
            out = subprocess.run(command, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(f"N={n} {preset_name}: failed\n{out.stderr}", file=sys.stderr)
                return 2
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            _print_row(row, header=len(rows) == 1)
    print()
    for preset_name in args.presets.split(","):
        ok = [r["n"] for r in rows if r["preset"] == preset_name and r["lag_ok"]]
        bound = next(r["probe_timeout_s"] for r in rows if r["preset"] == preset_name) * LAG_FRACTION * 1000
        print(
            f"{preset_name}: largest N with p99 loop lag < {bound:.0f} ms (10% of the probe timeout): "
            f"{max(ok) if ok else 'none'} (of {sizes})"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)
    return 0


def _print_row(row: dict[str, Any], header: bool) -> None:
    if header:
        print(
            f"{'preset':7} {'N':>3} {'loop':8} {'CPU/node/s':>11} {'core':>6} {'RSS/node':>9} "
            f"{'lag p50':>8} {'p99':>7} {'max':>7} {'ok':>3} {'conns':>6} {'hs/s':>6} {'hs CPU':>7} "
            f"{'KiB/conn':>8} {'susp':>4}"
        )
    print(
        f"{row['preset']:7} {row['n']:>3} {row['loop']:8} {row['cpu_per_node_per_s_ms']:>8.2f} ms "
        f"{row['cpu_share_of_core']:>6.1%} {row['rss_per_node_kib']:>6.0f} KiB "
        f"{row['lag_p50_ms']:>5.1f} ms {row['lag_p99_ms']:>4.1f} ms {row['lag_max_ms']:>4.0f} ms "
        f"{'yes' if row['lag_ok'] else 'NO':>3} {row['connections']:>6} {row['handshakes_per_s']:>6.0f} "
        f"{row['handshake_cpu_ms']:>4.1f} ms {row['kib_per_connection']:>8.0f} "
        f"{row['suspicions_in_window']:>4}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
