"""`swimlab fidelity SCENARIO`: the same scenario, seeds and network assumptions on both runtimes.

Each seed runs once on the simulator and once live (real QUIC on loopback, in real time), one
after the other (never two live runs at once: they would share the loop's CPU). Every run keeps
its folder (`OUT/sim/sN`, `OUT/live/sN`: trace, result.json); the comparison itself is
reports/fidelity.py's. The live runs' loop lag is reported beside the table: a live run the
machine's load made `unknown` says so, and its figures are the loop's, not the protocol's.
"""

from __future__ import annotations

import statistics
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from swimlab.reports import fidelity

from .runner import check_runtime, run_scenario
from .schema import Scenario


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "uptime unavailable"


def run_fidelity(
    scenario: Scenario,
    seeds: Sequence[int],
    out: Path,
    command: str,
    say: Callable[[str], None] = print,
) -> tuple[list[fidelity.Row], str]:
    """Run every seed on both runtimes; write the report into `out`; the rows and the markdown."""
    for runtime in ("sim", "live"):
        check_runtime(scenario, runtime)
    sim, live = fidelity.Samples(), fidelity.Samples()
    lags: list[tuple[int, float, float, bool, str]] = []
    load = [_uptime()]
    for seed in seeds:
        for runtime, samples in (("sim", sim), ("live", live)):
            result = run_scenario(
                scenario, seed, out_dir=out / runtime / f"s{seed}", runtime=runtime, render=False
            )
            samples.add(result.metrics)
            lag = result.result.loop_lag
            if lag is not None:
                lags.append((seed, lag.p50_s, lag.p99_s, lag.ok, result.verdict))
            say(f"  {runtime} seed {seed}: {result.verdict_text}")
        load.append(_uptime())
    targets = [key for _label, key in fidelity.TIMINGS]
    rows = fidelity.compare(sim, live, scenario.config.probe_interval_s, targets)
    p99s = [p99 for *_, p99, _ok, _v in lags]
    notes = [
        f"command: `{command}`",
        f"N = {scenario.cluster.nodes}, preset {scenario.cluster.preset}, seeds {list(seeds)}, "
        f"probe interval {scenario.config.probe_interval_s} s; target: medians within "
        f"max({fidelity.TARGET_FRACTION:.0%}, one probe interval)",
        "live loop lag p99 per seed (ms): "
        + ", ".join(
            f"s{seed} {p99 * 1e3:.0f}{'' if ok else ' (unknown: lag)'}" for seed, _p50, p99, ok, _v in lags
        )
        + (f"; median {statistics.median(p99s) * 1e3:.0f}" if p99s else ""),
        "machine load (uptime) before and after each seed: " + " | ".join(load),
        "live: the scenario's latency model is added to loopback's own delay; fault times and targets "
        "come from the seed on both runtimes, real-time scheduling does not",
    ]
    title = f"fidelity: {scenario.name}, sim vs live"
    fidelity.write(out, rows, sim, live, title, notes, {"command": command, "load": load})
    return rows, fidelity.markdown(rows, title, notes)
