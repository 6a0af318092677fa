"""Loopback QUIC datagram round-trip time, as the live runtime's nodes see it.

Two endpoints of one `LiveCluster` (one loop, uvloop if installed), verified connection first;
then `--count` pings from a to b, each echoed at once, one at a time, with the shim's latency
model off (bare loopback) and on (the scenarios' default: uniform 0.5-2 ms one way), to set
against the simulator, whose round trip is exactly twice its one-way model. Prints median, p90,
p99 and max in ms, with `uptime` (the machine is shared; load inflates the tail).

    python benchmarks/live_rtt.py [--count 500]
"""

from __future__ import annotations

import argparse
import random
import struct
import subprocess
import time
from collections.abc import Callable
from typing import Any

from swimlab.live.cluster import LiveCluster
from swimlab.protocol.config import local


def uniform(low_s: float, high_s: float) -> Callable[[str, str, random.Random], float]:
    def sample(src: str, dst: str, rng: random.Random) -> float:
        return rng.uniform(low_s, high_s)

    return sample


def measure(count: int, latency: Callable[[str, str, random.Random], float] | None) -> list[float]:
    options: dict[str, Any] = {} if latency is None else {"latency": latency}
    cluster = LiveCluster(1, local(), **options)
    try:
        a, b = cluster.add_host("a"), cluster.add_host("b")
        a.up = b.up = True  # processes without Nodes: the endpoints alone
        rtts: list[float] = []

        def b_got(src: str, data: bytes) -> None:
            b.endpoint.send("a", data, None, False)  # type: ignore[arg-type]

        def a_got(src: str, data: bytes) -> None:
            (sent,) = struct.unpack("!d", data[:8])
            rtts.append(time.perf_counter() - sent)  # not loop.time(): uvloop's ticks are 1 ms

        b.endpoint.on_receive = b_got
        a.endpoint.on_receive = a_got
        cluster.connect_all(["a", "b"])
        cluster.connect_all(["b", "a"])
        for _ in range(count):
            before = len(rtts)
            a.endpoint.send("b", struct.pack("!d", time.perf_counter()).ljust(32, b"."), None, False)  # type: ignore[arg-type]
            if cluster.run_until(lambda before=before: len(rtts) > before, 1.0) is None:  # type: ignore[misc]
                continue  # lost: not a sample
        return rtts
    finally:
        cluster.close()


def quantiles(values: list[float]) -> str:
    ordered = sorted(values)

    def q(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1e3

    figures = f"median {q(0.5):.3f}  p90 {q(0.9):.3f}  p99 {q(0.99):.3f}  max {ordered[-1] * 1e3:.3f}"
    return f"{figures} ms (n={len(ordered)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args(argv)
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())
    print("bare loopback          ", quantiles(measure(args.count, None)))
    print("+ uniform 0.5-2 ms/way ", quantiles(measure(args.count, uniform(0.0005, 0.002))))
    print("sim, uniform 0.5-2 ms  ", "median 2.500  (twice the one-way draw: 1-4 ms)")
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
