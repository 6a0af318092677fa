"""`run_scenario`: one scenario, one seed, one runtime -> trace, metrics, verdict, files.

The CLI only parses arguments and calls this; tests and notebooks call it directly. Records
stream from the runtime into the metrics accumulator and, when an output folder is given, into
`trace.jsonl` - the trace is never re-read to compute the result.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swimlab.protocol import trace_schema
from swimlab.protocol.formulas import suspicion_timeout
from swimlab.reports.checks import CheckResult, run_checks, verdict
from swimlab.reports.metrics import MetricsAccumulator
from swimlab.reports.result import build_result, write_result
from swimlab.reports.schema import Metrics, RunResult, to_json
from swimlab.reports.trace import TraceWriter

from .loader import Scenario
from .nemesis import Nemesis


@dataclass
class Result:
    scenario: str
    seed: int
    verdict: str
    checks: list[CheckResult]
    metrics: Metrics
    out_dir: Path | None
    result: RunResult = field(repr=False)
    accumulator: MetricsAccumulator = field(repr=False)

    @property
    def exit_code(self) -> int:
        return {"valid": 0, "invalid": 1}.get(self.verdict, 2)


def fp_grace_s(scenario: Scenario) -> float:
    """How long after a fault ends a verdict may still be deserved: the longest suspicion
    (memberlist: max_mult x mult x log10(N) x probe interval) plus one probe round."""
    c = scenario.config
    shortest = suspicion_timeout(c.suspicion_mult, scenario.cluster["nodes"], c.probe_interval_s)
    return c.suspicion_max_timeout_mult * shortest + c.probe_interval_s


def _latency(network: dict[str, Any]) -> Any:
    from swimlab.sim.latency import Constant, LogNormal, Topology, Uniform, named_graph

    lat = network["latency"]
    model = lat["model"]
    if model == "constant":
        return Constant(lat["ms"] / 1000.0)
    if model == "uniform":
        return Uniform(lat["low_ms"] / 1000.0, lat["high_ms"] / 1000.0)
    if model == "lognormal":
        return LogNormal(lat["median_ms"] / 1000.0, lat["sigma"])
    graph = named_graph(lat["graph"], lat["routers"], lat["hop_ms"])
    return Topology(graph, base_s=lat["low_ms"] / 1000.0)


def run_scenario(
    scenario: Scenario,
    seed: int,
    out_dir: str | Path | None = None,
    progress: bool = False,
    on_progress: Callable[[float], None] | None = None,
    command: str | None = None,
    render: bool = True,
) -> Result:
    """Run `scenario` in the simulator with `seed`; write files into `out_dir` if given.

    `command` is the command line that reproduces the run, shown in index.html (default:
    `swimlab run SOURCE --seed SEED`, which misses any `--set` the caller applied).
    """
    from swimlab.protocol.driver import Driver
    from swimlab.sim.rng import stream
    from swimlab.sim.simulation import Simulation

    wall0 = time.perf_counter()
    names = scenario.nodes
    join_seeds = tuple(names[: scenario.cluster["seeds"]])
    acc = MetricsAccumulator(
        fp_grace_s=fp_grace_s(scenario),
        warmup_s=scenario.warmup_s,
        sample_every_s=max(scenario.duration_s / 300.0, 0.1),
    )
    out = Path(out_dir) if out_dir is not None else None
    trace_file = None
    feed = acc.feed
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        trace_file = open(out / "trace.jsonl", "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        writer = TraceWriter(trace_file)

        def sink(record: trace_schema.TraceRecord) -> None:
            writer(record)
            feed(record)
    else:
        sink = feed
    # Every Driver ever built per node (a wiped restart builds a new one): their send counters,
    # summed, are the per-node load (Rapid's Table 2) without per-message trace records.
    drivers: dict[str, list[Driver]] = {}

    def driver_factory(node: Any, transport: Any, clock: Any, on_event: Any) -> Driver:
        driver = Driver(node, transport, clock, on_event)
        drivers.setdefault(node.name, []).append(driver)
        return driver

    try:
        net = scenario.network
        sim = Simulation(
            seed,
            scenario.config,
            sink,
            latency=_latency(net),
            join_seeds=join_seeds,
            jitter_s=net["jitter_ms"] / 1000.0,
            loss=net["loss"],
            duplicate=net["duplicate"],
            reorder=net["reorder"],
            reorder_delay_s=net["reorder_delay_ms"] / 1000.0,
            bandwidth_bytes_per_s=net["bandwidth_bytes_per_s"],
            full_decode=net["full_decode"],
            trace_messages=scenario.trace_messages,
            driver_factory=driver_factory,
        )
        sink(
            trace_schema.meta(
                0.0,
                scenario=scenario.name,
                seed=seed,
                runtime="sim",
                duration_s=scenario.duration_s,
                nodes=names,
                preset=scenario.cluster["preset"],
                config_overrides=dict(scenario.cluster["config"]),
            )
        )
        clock_rng = stream(seed, "clocks")
        boot_rng = stream(seed, "boot")
        track = any(f["op"] == "clock" for f in scenario.faults)
        offset_max = scenario.clocks["offset_ms_max"] / 1000.0
        drift_max = scenario.clocks["drift_ppm_max"]
        window = scenario.cluster["join_window_s"]
        formed = scenario.cluster["start"] == "formed"
        for i, name in enumerate(names):
            offset = offset_max * clock_rng.random()
            drift = drift_max * (2.0 * clock_rng.random() - 1.0)
            sim.add_host(name, offset_s=offset, drift_ppm=drift, track_timers=track)
            if not formed:
                # Seeds boot first, in order; the rest join at random instants across the window.
                sim.at(
                    i * 1e-3 if name in join_seeds else window * boot_rng.random() + 1e-2,
                    sim.boot,
                    name,
                )
        if formed:
            sim.at(0.0, sim.boot_formed, names)
        Nemesis(scenario, sim, seed, join_seeds).schedule()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=scenario.duration_s, unit="sim-s", desc=scenario.name, leave=False)
        last = [0.0]

        def tick(now: float) -> None:
            if bar is not None:
                bar.update(now - last[0])
            last[0] = now
            if on_progress is not None:
                on_progress(now)

        sim.run(scenario.duration_s, tick if (bar is not None or on_progress) else None)
        if bar is not None:
            bar.close()
        sent_by_node = {
            name: [
                sum(d.stats.messages_sent for d in drivers[name]),
                sum(d.stats.bytes_sent for d in drivers[name]),
            ]
            for name in sorted(drivers, key=lambda n: (len(n), n))
        }
        sink(trace_schema.end(sim.now, **sim.counters(), sent_by_node=sent_by_node))
    finally:
        if trace_file is not None:
            trace_file.close()
    wall_s = time.perf_counter() - wall0
    metrics = acc.finish(scenario.duration_s, wall_s)
    checks = run_checks(metrics, scenario.checks)
    v = verdict(checks)
    result = build_result(
        scenario=scenario.name,
        seed=seed,
        runtime="sim",
        checks=checks,
        verdict=v,
        metrics=metrics,
        description=scenario.description,
        nodes=scenario.cluster["nodes"],
        preset=scenario.cluster["preset"],
        duration_s=scenario.duration_s,
        config_overrides=dict(scenario.cluster["config"]),
        config=dataclasses.asdict(scenario.config),
        loss=scenario.network["loss"],
        command=command or f"swimlab run {scenario.source} --seed {seed}",
    )
    if out is not None:
        write_result(out / "result.json", result)
        (out / "series.json").write_text(json.dumps(to_json(acc.series())) + "\n", encoding="utf-8")
        if render:
            try:
                from swimlab.reports.render import render_run

                render_run(out)
            except ImportError:  # matplotlib missing: the run itself is still good
                pass
    return Result(scenario.name, seed, v, checks, metrics, out, result, acc)
