"""Issue 10's table on the simulator: suspicions raised per node-hour and probes per second
under uniform loss, with the fallback ping off, on (loss on UDP only) and on (loss everywhere).

An experiment, not a test. Each run is `uniform_loss` at N nodes (lan preset), `warmup_s` 20 s
and `measure_s` more, with per-message trace records; from the trace it counts, after the
warmup,

- suspicions raised: `suspect` records whose accuser is the recording node (its own probe
  failed; every node is healthy under uniform loss, so each one is false);
- probes: Ping sends minus PingReq deliveries (a relay sends one Ping per request it gets).

Variants (memberlist's counterparts in brackets):

- `off`: `fallback_ping = false` [DisableTcpPings = true];
- `udp_only`: the fallback on, loss on datagrams only (`[network.reliable] model = "exempt"`)
  [the default, measured with UDP loss only, as in the issue];
- `everywhere`: the fallback on, loss on the reliable channel too, as retransmission delay
  (sim/network.py) [the default on a link that loses every kind of packet].

    python benchmarks/fidelity_loss.py --losses 0.05,0.1,0.2 --seeds 1,2,3 --nodes 32
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from swimlab.scenarios.loader import load_scenario
from swimlab.scenarios.runner import run_scenario

VARIANTS = {
    "off": ["cluster.config.fallback_ping=false"],
    "udp_only": ["network.reliable.model=exempt"],
    "everywhere": [],
}
WARMUP_S = 20.0


def measure(variant: str, loss: float, seed: int, nodes: int, measure_s: float) -> tuple[float, float]:
    """(suspicions raised per node-hour, probes per node per second) of one run."""
    overrides = [
        f"cluster.nodes={nodes}",
        f"duration_s={WARMUP_S + measure_s}",
        f"warmup_s={WARMUP_S}",
        f"network.loss={loss}",
        "trace.messages=true",
        *VARIANTS[variant],
    ]
    with tempfile.TemporaryDirectory() as tmp:
        run_scenario(load_scenario("uniform_loss", overrides), seed, out_dir=Path(tmp), render=False)
        pings = requests = suspicions = 0
        with open(Path(tmp) / "trace.jsonl") as trace:
            for line in trace:
                record = json.loads(line)
                if record["t"] < WARMUP_S:
                    continue
                kind = record["kind"]
                if kind == "send" and record["msg"] == "Ping":
                    pings += 1
                elif kind == "deliver" and record["msg"] == "PingReq":
                    requests += 1
                elif kind == "state" and record["event"] == "suspect" and record["accuser"] == record["node"]:
                    suspicions += 1
    return suspicions * 3600 / (nodes * measure_s), (pings - requests) / (nodes * measure_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--losses", default="0.05,0.1,0.2")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--nodes", type=int, default=32)
    parser.add_argument("--measure-s", type=float, default=120.0)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print("| UDP loss | variant | suspicions raised per node-hour (mean; per seed) | probes per node per s |")
    print("|---|---|---|---|")
    for loss in (float(x) for x in args.losses.split(",")):
        for variant in args.variants.split(","):
            rows = [measure(variant, loss, seed, args.nodes, args.measure_s) for seed in seeds]
            raised = [r for r, _ in rows]
            rate = statistics.mean(p for _, p in rows)
            per_seed = ", ".join(f"{r:.0f}" for r in raised)
            mean = statistics.mean(raised)
            print(f"| {loss:.0%} | {variant} | {mean:.1f} ({per_seed}) | {rate:.3f} |", flush=True)


if __name__ == "__main__":
    main()
