"""Post-heal false deaths with memberlist's protocol and with one proposed change, side by side.

An experiment for issue 11 (the three-datacenter cut-and-heal case), not a test: it prints, per
cut length and seed, the post-heal false deaths raised and heard (result.json's
`false_positives.post_heal_deaths`), the flaps after the heal and the messages per node per
second, for

- `memberlist`: the protocol as it is (protocol/node.py);
- `tell-the-accused`: a node that receives any message from a member it holds suspect sends
  that member the suspicion (one Gossip datagram, at most once per probe interval per member
  and incarnation). Lifeguard's buddy system does this only for the probes of a suspect, which
  at N = 90 and a 5 s period reach a given member about once per 445 s per prober; after a heal
  the accused talks to its accusers within a period or two (its own probes, gossip, relays),
  so it hears the suspicion and refutes before the timers run out.

The variant is a subclass patched in for the run (protocol/node.py is untouched):

    python benchmarks/post_heal_deaths.py --cuts 60,100 --seeds 1,2,3,4,5
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from swimlab.protocol import node as node_module
from swimlab.protocol.effects import Effects, Send
from swimlab.protocol.messages import Gossip, MemberState, Message, NodeId
from swimlab.scenarios.loader import load_scenario
from swimlab.scenarios.runner import run_scenario

Memberlist = node_module.Node


class TellTheAccused(Memberlist):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._told: dict[NodeId, tuple[int, float]] = {}  # member -> (incarnation, when told)

    def handle_message(self, src: NodeId, message: Message, now: float) -> Effects:
        effects = super().handle_message(src, message, now)
        held = self._table.records.get(src)
        if (
            held is None
            or held.state is not MemberState.SUSPECT
            or self.lifecycle is not node_module.Lifecycle.RUNNING
        ):
            return effects
        told = self._told.get(src)
        if told is not None and told[0] == held.incarnation and now - told[1] < self.config.probe_interval_s:
            return effects
        self._told[src] = (held.incarnation, now)
        return Effects((*effects.sends, Send(src, Gossip((held,)))), effects.timers, effects.events)


def run(variant: type[Memberlist], cut_s: float, seed: int) -> tuple[int, int, int, float]:
    node_module.Node = variant  # type: ignore[misc]  # the simulator builds nodes from this name
    try:
        scenario = load_scenario(
            "three_dc_cut_heal",
            ["duration_s=300", f"faults.0.duration_s={cut_s}", "checks.no_flapping.from_s=0"],
        )
        m = run_scenario(scenario, seed).metrics
    finally:
        node_module.Node = Memberlist  # type: ignore[misc]
    heal = 40.0 + cut_s
    deaths = m.false_positives.post_heal_deaths
    flaps = sum(1 for f in m.flaps if f.down_t >= heal)
    return deaths.raised, deaths.heard, flaps, m.load.messages_per_node_per_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", default="60,100", help="cut lengths in seconds (dc_c cut off at 40 s)")
    parser.add_argument("--seeds", default="1,2,3,4,5")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print("cut_s variant            raised (per seed)      heard (per seed)", end="")
    print("          flaps after heal   msg/node/s")
    for cut in (float(c) for c in args.cuts.split(",")):
        for name, variant in (("memberlist", Memberlist), ("tell-the-accused", TellTheAccused)):
            rows = [run(variant, cut, seed) for seed in seeds]
            raised, heard, flaps, load = zip(*rows, strict=True)
            print(
                f"{cut:5.0f} {name:18} {sum(raised):4} {list(raised)!s:18} {sum(heard):5} {list(heard)!s:24}"
                f" {sum(flaps):4} {list(flaps)!s:14} {statistics.mean(load):.3f}"
            )


if __name__ == "__main__":
    main()
