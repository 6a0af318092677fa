"""`run_scenario`: one scenario, one seed, one runtime -> trace, metrics, verdict, files.

The CLI only parses arguments and calls this; tests and notebooks call it directly. Records
stream from the runtime into the metrics accumulator and, when an output folder is given, into
`trace.jsonl` - the trace is never re-read to compute the result.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swimlab.protocol import trace_schema
from swimlab.protocol.manager.driver import lease_service, manager_factories
from swimlab.protocol.streams import stream
from swimlab.reports.checks import EXIT_CODES, CheckResult, run_checks, verdict
from swimlab.reports.metrics import MetricsAccumulator
from swimlab.reports.metrics.manager import window_s
from swimlab.reports.oracles import Oracles
from swimlab.reports.result import build_result, write_result
from swimlab.reports.schema import Metrics, RunResult, to_json
from swimlab.reports.trace import TraceWriter

from .errors import ScenarioError
from .nemesis import Nemesis
from .runtime import Runtime, check_supported
from .schema import Network, Scenario, effective


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
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def verdict_text(self) -> str:
        """`VALID (no checks)`, `INVALID (failed: no_false_dead)`, ..."""
        return f"{self.verdict.upper()} ({self.result.verdict_reason})"


def _latency(network: Network, groups: Mapping[str, Sequence[str]]) -> Any:
    from swimlab.sim.latency import Constant, GroupLatency, LogNormal, Topology, Uniform, named_graph

    lat = network.latency
    model = lat.model
    if model == "groups":
        between: dict[tuple[str, str], float] = {}
        for a, row in lat.matrix.items():
            for b, ms in row.items():
                between[(a, b)] = ms / 1000.0
                if b not in lat.matrix or a not in lat.matrix[b]:  # one entry: both ways
                    between[(b, a)] = ms / 1000.0
        group_of = {node: name for name in lat.groups for node in groups[name]}
        return GroupLatency(group_of, lat.intra_ms / 1000.0, lat.inter_ms / 1000.0, between)
    if model == "constant":
        return Constant(lat.ms / 1000.0)
    if model == "uniform":
        return Uniform(lat.low_ms / 1000.0, lat.high_ms / 1000.0)
    if model == "lognormal":
        return LogNormal(lat.median_ms / 1000.0, lat.sigma)
    graph = named_graph(lat.graph, lat.routers, lat.hop_ms)
    return Topology(graph, base_s=lat.low_ms / 1000.0)


def _reliable(network: Network) -> Any:
    from swimlab.sim.network import ReliableModel

    rel = network.reliable
    return ReliableModel(
        rel.model,
        rel.rto_ms / 1000.0,
        rel.backoff,
        rel.max_rto_ms / 1000.0,
        rel.max_attempts,
        rel.segment_bytes,
    )


RUNTIMES = ("sim", "live")


def runtime_class(runtime: str) -> type[Runtime]:
    """The class implementing `runtime` (imported lazily: scenarios/ reaches runtimes by name)."""
    if runtime == "sim":
        from swimlab.sim.simulation import Simulation

        return Simulation
    if runtime == "live":
        from swimlab.live.cluster import LiveCluster

        return LiveCluster  # type: ignore[return-value]
    raise ScenarioError("--runtime", "", f"one of {', '.join(RUNTIMES)}", runtime)


def check_runtime(scenario: Scenario, runtime: str = "sim") -> None:
    """Refuse up front (a `ScenarioError`) a scenario whose faults the runtime cannot apply."""
    cls = runtime_class(runtime)
    check_supported(scenario, cls.capabilities, runtime)
    if scenario.trace.messages is True and not getattr(cls, "records_messages", True):
        raise ScenarioError(
            scenario.source,
            "trace.messages",
            f'false or "auto" (the {runtime} runtime writes no per-message records)',
            True,
        )


def _runtime(runtime: str, scenario: Scenario, seed: int, sink: trace_schema.TraceSink) -> Runtime:
    return _live(scenario, seed, sink) if runtime == "live" else _sim(scenario, seed, sink)


def _live(scenario: Scenario, seed: int, sink: trace_schema.TraceSink) -> Runtime:
    """Every node on real QUIC sockets on loopback, one event loop; the scenario's latency model
    adds its delay to loopback's own (tens of microseconds)."""
    from swimlab.live.cluster import LiveCluster

    net = scenario.network
    return LiveCluster(  # type: ignore[return-value]
        seed,
        scenario.config,
        sink,
        latency=_latency(net, scenario.groups).sample,
        join_seeds=scenario.nodes[: scenario.cluster.seeds],
        jitter_s=net.jitter_ms / 1000.0,
        loss=net.loss,
        duplicate=net.duplicate,
        reorder=net.reorder,
        reorder_delay_s=net.reorder_delay_ms / 1000.0,
        bandwidth_bytes_per_s=net.bandwidth_bytes_per_s,
        prepare=True,  # connect every pair before time zero
    )


def _sim(scenario: Scenario, seed: int, sink: trace_schema.TraceSink) -> Runtime:
    from swimlab.sim.simulation import Simulation

    net = scenario.network
    return Simulation(
        seed,
        scenario.config,
        sink,
        latency=_latency(net, scenario.groups),
        join_seeds=scenario.nodes[: scenario.cluster.seeds],
        jitter_s=net.jitter_ms / 1000.0,
        loss=net.loss,
        duplicate=net.duplicate,
        reorder=net.reorder,
        reorder_delay_s=net.reorder_delay_ms / 1000.0,
        bandwidth_bytes_per_s=net.bandwidth_bytes_per_s,
        reliable=_reliable(net),
        full_decode=net.full_decode,
        trace_messages=scenario.trace_messages,
        track_timers=any(f.op == "clock" for f in scenario.faults),
    )


def attach_manager(rt: Runtime, scenario: Scenario) -> None:
    """Run every node of `rt` under a cluster manager (`[manager]`): set the runtime's node and
    driver factories (`Runtime.node_factory`, `driver_factory`) before any node is added, and for
    lease-majority put the lease beside its node, reachable through the runtime's own link
    state (`Runtime.network`) and on its clock."""
    section = scenario.manager
    assert section is not None
    settings = section.settings(scenario.cluster.nodes)
    lease = None
    if settings.strategy == "lease-majority":
        near, rtt_s = section.lease_placement
        lease = lease_service(
            settings, near, rt.network, lambda: rt.now, lambda delay, fn: rt.at(rt.now + delay, fn), rtt_s
        )
    rt.node_factory, rt.driver_factory = manager_factories(settings, lease)


def _default_command(scenario: Scenario, seed: int, runtime: str) -> str:
    return f"swimlab run {scenario.source} --seed {seed}" + (
        f" --runtime {runtime}" if runtime != "sim" else ""
    )


def run_scenario(
    scenario: Scenario,
    seed: int,
    out_dir: str | Path | None = None,
    progress: bool = False,
    on_progress: Callable[[float], None] | None = None,
    command: str | None = None,
    render: bool = True,
    runtime: str = "sim",
    observers: Sequence[Callable[[trace_schema.TraceRecord], None]] = (),
) -> Result:
    """Run `scenario` on `runtime` with `seed`; write files into `out_dir` if given.

    `command` is the command line that reproduces the run, shown in index.html (default:
    `swimlab run SOURCE --seed SEED`, which misses any `--set` the caller applied).
    `observers` see every trace record too (the fault search counts its coverage with one).
    """
    check_runtime(scenario, runtime)
    if seed < 0:
        raise ScenarioError("--seed", "", "an integer >= 0", seed)
    wall0 = time.perf_counter()
    names = scenario.nodes
    join_seeds = tuple(names[: scenario.cluster.seeds])
    manager = None
    if scenario.manager is not None:
        settings = scenario.manager.settings(scenario.cluster.nodes)
        manager = (settings.strategy, window_s(settings))
    acc = MetricsAccumulator(
        warmup_s=scenario.warmup_s,
        sample_every_s=max(scenario.duration_s / 300.0, 0.1),
        manager=manager,
    )
    out = Path(out_dir) if out_dir is not None else None
    trace_file = None
    oracles = Oracles()
    acc_feed, oracle_feed = acc.feed, oracles.feed

    def feed(record: trace_schema.TraceRecord) -> None:
        acc_feed(record)
        oracle_feed(record)
        for observe in observers:
            observe(record)

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        trace_file = open(out / "trace.jsonl", "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        writer = TraceWriter(trace_file)

        def sink(record: trace_schema.TraceRecord) -> None:
            writer(record)
            feed(record)
    else:
        sink = feed
    rt: Runtime | None = None
    try:
        rt = _runtime(runtime, scenario, seed, sink)
        if scenario.manager is not None:
            attach_manager(rt, scenario)
        sink(
            trace_schema.meta(
                0.0,
                scenario=scenario.name,
                seed=seed,
                runtime=rt.name,
                duration_s=scenario.duration_s,
                nodes=names,
                preset=scenario.cluster.preset,
                config_overrides=dict(scenario.cluster.config),
            )
        )
        clock_rng = stream(seed, "clocks")
        boot_rng = stream(seed, "boot")
        offset_max = scenario.clocks.offset_ms_max / 1000.0
        drift_max = scenario.clocks.drift_ppm_max
        window = scenario.cluster.join_window_s
        formed = scenario.cluster.start == "formed"
        for i, name in enumerate(names):
            offset = offset_max * clock_rng.random()
            drift = drift_max * (2.0 * clock_rng.random() - 1.0)
            rt.add_node(name, offset_s=offset, drift_ppm=drift)
            if not formed:
                # Seeds boot first, in order; the rest join at random instants across the window.
                rt.at(
                    i * 1e-3 if name in join_seeds else window * boot_rng.random() + 1e-2,
                    rt.boot,
                    name,
                )
        if formed:
            rt.at(0.0, rt.boot_formed, names)
        nemesis = Nemesis(scenario, rt, seed, join_seeds)
        nemesis.schedule()
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

        try:
            rt.run(scenario.duration_s, tick if (bar is not None or on_progress) else None)
        except Exception as exc:  # a finding (oracle run_completes), not a crash of the tool
            oracles.crashed(exc)
        if bar is not None:
            bar.close()
        sink(trace_schema.end(rt.now, **rt.counters()))
    finally:
        if trace_file is not None:
            trace_file.close()
        close = getattr(rt, "close", None)  # a real-time runtime holds sockets and a loop
        if close is not None:
            close()
    wall_s = time.perf_counter() - wall0
    metrics = acc.finish(scenario.duration_s, wall_s)
    checks = run_checks(metrics, scenario.checks)
    oracle_results = oracles.finish(rt.now)
    v = verdict(checks)
    loop_lag, lag_reason = None, None
    lag_of = getattr(rt, "loop_lag", None)  # only a real-time runtime has a loop to lag
    if lag_of is not None:
        from swimlab.reports import loop_lag as lag_rule

        since = metrics.first_converged_s or 0.0
        loop_lag = lag_rule.judge(lag_of(since), since, scenario.config.probe_timeout_s)
        if not loop_lag.ok:
            v, lag_reason = "unknown", lag_rule.reason(loop_lag)
    result = build_result(
        scenario=scenario.name,
        seed=seed,
        runtime=runtime,
        checks=checks,
        verdict=v,
        metrics=metrics,
        description=scenario.description,
        nodes=scenario.cluster.nodes,
        preset=scenario.cluster.preset,
        duration_s=scenario.duration_s,
        config_overrides=dict(scenario.cluster.config),
        config=dataclasses.asdict(scenario.config),
        loss=scenario.network.loss,
        command=command or _default_command(scenario, seed, runtime),
        groups={name: list(nodes) for name, nodes in scenario.groups.items()},
        faults=nemesis.resolved_timeline(),
        warnings=nemesis.warnings,
        effective_scenario=effective(scenario),
        loop_lag=loop_lag,
        verdict_reason=lag_reason,
        oracles=oracle_results,
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
    return Result(scenario.name, seed, v, checks, metrics, out, result, acc, nemesis.warnings)
