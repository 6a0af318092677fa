"""`swimlab`: the command line. It only parses; the work is `run_scenario` and friends.

    swimlab run SCENARIO [--seed N] [--out DIR] [--set KEY=VALUE ...] [--runtime sim|live] [--quiet]
    swimlab sweep SCENARIO [--grid KEY=V1,V2 ...] [--seeds K] [--metrics M1,M2] [--executor local|dask://HOST:PORT]
                  [--workers N] [--set KEY=VALUE ...] --out DIR [--force]
    swimlab fidelity SCENARIO [--seeds K] [--set KEY=VALUE ...] [--out DIR]
    swimlab search SCENARIO --budget N [--seed S] [--executor local|dask://HOST:PORT] [--workers N]
                   [--set KEY=VALUE ...] [--out DIR]   (exit 1: an oracle violated, the shrunk
                   schedule written to DIR)
    swimlab report DIR           (re-render a run or sweep folder from its saved results)
    swimlab split-brain DIR      (a manager sweep's strategy x shape table, as markdown)
    swimlab list
    swimlab bench [--quick] [--sizes N ...] [--figure PATH]
    swimlab races [FILE.py[:NAME] ...]  (the interleaving explorer: sim.interleave.cli)
    swimlab ca init DIR | swimlab ca issue DIR NAME [--host H ...]
    swimlab node --listen HOST:PORT [--join HOST:PORT ...] --ca F --cert F --key F
                 [--preset lan] [--set KEY=VALUE ...] [--events FILE]
                 [--manager STRATEGY [--manager-set KEY=VALUE ...]]

Exit codes: 0 valid, 1 invalid (a check failed), 2 could not run (bad scenario, crash) or a
check could not be judged (unknown). A sweep's is its verdict's: 2 if any point failed to run,
else 1 if any point is invalid, else 2 if any is unknown, else 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .errors import ScenarioError


def _run(args: argparse.Namespace) -> int:
    from swimlab.reports.result import new_run_dir

    from .loader import load_scenario, portable_ref
    from .runner import check_runtime, run_scenario

    try:
        scenario = load_scenario(args.scenario, args.set or ())
        check_runtime(scenario, args.runtime)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else scenario.seeds[0]
    if seed < 0:
        print(f"error: --seed: expected an integer >= 0, got {seed}", file=sys.stderr)
        return 2
    out = new_run_dir(args.out, scenario.name, seed)
    progress = not args.quiet and sys.stderr.isatty()
    try:
        # The command that replays this run exactly: the seed made explicit, --out and machine
        # paths left out.
        replay = ["run", portable_ref(args.scenario), "--seed", str(seed)]
        replay += [f"--set={kv}" for kv in args.set or ()]
        replay += ["--runtime", args.runtime] if args.runtime != "sim" else []
        result = run_scenario(
            scenario,
            seed,
            out_dir=out,
            progress=progress,
            command=_command_line(replay),
            runtime=args.runtime,
        )
    except Exception as exc:  # the run could not complete: say why, exit 2
        if not args.quiet:
            import traceback

            traceback.print_exc()
        print(f"error: {scenario.source}: run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2  # not 1: the run says nothing about the protocol's validity
    for warning in result.warnings:
        print(f"warning: {warning['fault']} at {warning['t']} s: {warning['message']}", file=sys.stderr)
    crashed = next((o for o in result.result.oracles if o.name == "run_completes" and o.ok is False), None)
    if crashed is not None:  # the runtime raised: the run could not complete (exit 2, as before)
        print(f"error: {scenario.source}: run failed: {crashed.detail}", file=sys.stderr)
    if not args.quiet:
        m = result.metrics
        fp = m.false_positives
        on_live = " live" if args.runtime == "live" else ""
        print(
            f"{scenario.name} seed={seed} N={scenario.cluster.nodes}{on_live}: {result.verdict_text}"
            f"  ({m.wall_s or 0.0:.1f} s wall, {m.events:,} events)"
        )
        if (lag := result.result.loop_lag) is not None:
            ms = [f"{x * 1e3:.1f}" for x in (lag.p50_s, lag.p99_s, lag.max_s)]
            print(
                f"  loop lag since t={lag.since_s:.1f} s: p50 / p99 / max {' / '.join(ms)} ms"
                f" (limit p99 {lag.limit_s * 1e3:.0f} ms), {lag.samples:,} timers"
            )
        for check in result.checks:
            mark = {True: "ok  ", False: "FAIL", None: "??  "}[check.ok]
            print(f"  {mark} {check.name}: {check.detail}")
        raised = fp.about_any.raised
        print(
            f"  false positives raised: {raised.suspect} suspect, {raised.dead} dead"
            f" ({fp.post_heal_deaths.raised} post-heal deaths);"
            f" load {m.load.messages_per_node_per_s:.2f} msg/node/s"
        )
        _print_crashes(m.detection)
        _print_oracles(result.result.oracles)
        for r in m.recoveries:
            print(f"  {r.op} at {r.t:g} s: views agreed and stayed agreed {_after(r.converged_s)}")
        if m.manager is not None:
            mm = m.manager
            print(
                f"  manager {mm.strategy}: split brain {mm.split_brain_s} s, availability {mm.availability},"
                f" survivors {mm.survivors} {mm.serving_at_end}, downed {mm.downed}"
            )
        print(f"  -> {out / 'index.html'}")
    return 2 if crashed is not None else result.exit_code


def _print_oracles(oracles: Sequence[Any]) -> None:
    """One line for the oracles that held, one per violation (reports/oracles.py)."""
    violated = [o for o in oracles if o.ok is False]
    held = sum(1 for o in oracles if o.ok)
    unjudged = len(oracles) - held - len(violated)
    print(f"  oracles: {held} held, {len(violated)} violated, {unjudged} not judged")
    for o in violated:
        where = f" (trace.jsonl:{o.record})" if o.record is not None else ""
        print(f"  VIOLATED {o.name}: {o.detail}{where}")


SHOWN_CRASHES = 5  # the console lists the slowest; index.html lists every crash


def _after(seconds: float | None) -> str:
    return "never (not before the run ended)" if seconds is None else f"+{seconds:.2f} s"


def _print_crashes(detection: Sequence[Any]) -> None:
    slowest = sorted(
        detection,
        key=lambda d: float("inf") if d.dead_everywhere_s is None else d.dead_everywhere_s,
        reverse=True,
    )
    shown = slowest[:SHOWN_CRASHES] if len(detection) > SHOWN_CRASHES else detection
    if len(detection) > SHOWN_CRASHES:
        print(f"  {len(detection)} crashes; the {SHOWN_CRASHES} slowest to be dead everywhere:")
    for d in shown:
        print(
            f"  crash {d.node} at {d.crash_s:.2f} s: first suspect {_after(d.first_suspect_s)},"
            f" first dead {_after(d.first_dead_s)}, dead everywhere {_after(d.dead_everywhere_s)}"
        )


def _command_line(argv: Sequence[str]) -> str:
    import shlex

    return "swimlab " + " ".join(shlex.quote(a) for a in argv)


def _sweep(args: argparse.Namespace) -> int:
    from .sweep import parse_grid, plan_sweep, run_sweep

    try:
        grid = parse_grid(args.grid or ())
        metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
        plan = plan_sweep(args.scenario, grid or None, args.seeds, args.set or (), metrics)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    points = len(plan.points())
    if not args.quiet:
        grid_text = ", ".join(f"{k}={v}" for k, v in plan.grid.items()) or "no grid"
        print(f"sweep {plan.scenario}: {grid_text}; seeds {plan.seeds} -> {points} runs")
    try:
        outcome = run_sweep(
            plan,
            args.out,
            executor=args.executor,
            workers=args.workers,
            progress=not args.quiet and sys.stderr.isatty(),
            force=args.force,
        )
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        v = outcome.sweep.verdicts
        print(f"  {outcome.ran} ran, {outcome.reused} reused from {args.out}")
        print(
            f"  {v.verdict.upper()}: {v.valid} valid, {v.invalid} invalid, {v.unknown} unknown,"
            f" {v.error} failed to run"
        )
        for p in outcome.sweep.points:
            if p.status != "ok":
                print(f"  FAILED TO RUN {p.params} seed {p.seed}: {p.error}")
            elif p.verdict != "valid":
                print(f"  {(p.verdict or '').upper()} {p.params} seed {p.seed}: {p.verdict_reason}")
        print(f"  -> {outcome.out_dir / 'index.html'}")
    return outcome.exit_code


def _fidelity(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .fidelity import run_fidelity
    from .loader import load_scenario

    try:
        scenario = load_scenario(args.scenario, args.set or ())
        if args.seeds < 1:
            raise ScenarioError("--seeds", "", "an integer >= 1", args.seeds)
        _, text = run_fidelity(scenario, range(1, args.seeds + 1), Path(args.out), args.command_line)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(text, end="")
    print(f"-> {Path(args.out) / 'index.html'}")
    return 0


def _search(args: argparse.Namespace) -> int:
    from swimlab.reports.coverage import SITUATIONS

    from .search import run_search

    try:
        outcome = run_search(
            args.scenario,
            args.budget,
            seed=args.seed,
            executor=args.executor,
            workers=args.workers,
            overrides=args.set or (),
            out_dir=args.out,
            progress=not args.quiet and sys.stderr.isatty(),
        )
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stopped = " (interrupted: Ctrl-C)" if outcome.interrupted else ""
    print(
        f"search {outcome.scenario}: {outcome.tried} schedules tried, {outcome.failures} failing"
        f" ({outcome.wall_s:.1f} s wall){stopped}"
    )
    width = max(len(s) for s in SITUATIONS)
    print("  coverage (times each situation was reached, over every run):")
    for situation in SITUATIONS:
        print(f"    {situation:{width}}  {outcome.coverage.get(situation, 0):>8}")
    never = [s for s in SITUATIONS if not outcome.coverage.get(s)]
    print(f"  never reached: {', '.join(never) if never else 'none'}")
    if outcome.found is not None and outcome.written is not None:
        found = outcome.found
        print(f"  FOUND {found['oracle']}: {found['detail']}")
        print(f"  shrunk to {len(found['schedule']['faults'])} fault(s): {outcome.written}")
        print(f"  replay: swimlab run {outcome.written}")
    else:
        print("  no oracle violated")
    return outcome.exit_code


def _report(args: argparse.Namespace) -> int:
    from swimlab.reports.render import ReportError, render

    try:
        index = render(args.folder)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(index)
    return 0


def _split_brain(args: argparse.Namespace) -> int:
    from pathlib import Path

    from swimlab.reports.schema import SchemaError, read_sweep
    from swimlab.reports.split_brain import TableError, split_brain_table

    folder = Path(args.folder)
    try:
        sweep = read_sweep(folder / "sweep.json")
        text = split_brain_table(sweep, sweep.command)
    except (OSError, SchemaError, TableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    (folder / "split_brain.md").write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


def _list(args: argparse.Namespace) -> int:
    from .loader import library_names, load_scenario

    for name in library_names():
        try:
            scenario = load_scenario(name)
            print(
                f"{name:24} N={scenario.cluster.nodes:<5} {scenario.duration_s:>6.0f} s  "
                f"{scenario.description}"
            )
        except ScenarioError as exc:
            print(f"{name:24} INVALID: {exc}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    try:
        from benchmarks.bench_sim import main as bench_main
    except ImportError:
        import importlib.util
        from pathlib import Path

        path = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_sim.py"
        spec = importlib.util.spec_from_file_location("bench_sim", path)
        if spec is None or spec.loader is None or not path.exists():
            print(
                "error: benchmarks/bench_sim.py not found (run from a source checkout)",
                file=sys.stderr,
            )
            return 2
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        bench_main = module.main
    argv = ["--quick"] if args.quick else []
    if args.sizes:
        argv += ["--sizes", *map(str, args.sizes)]
    if args.figure:
        argv += ["--figure", args.figure]
    return int(bench_main(argv))


def _ca(args: argparse.Namespace) -> int:
    from swimlab.live import commands  # lazily: scenarios/ stays runtime-neutral

    if args.ca_command == "init":
        return commands.ca_init(args.dir)
    return commands.ca_issue(args.dir, args.name, args.host or [])


def _node(args: argparse.Namespace) -> int:
    from swimlab.live import commands

    return commands.node(
        args.listen,
        args.join or [],
        args.ca,
        args.cert,
        args.key,
        args.preset,
        args.set or [],
        args.events,
        manager=args.manager,
        manager_overrides=args.manager_set or [],
    )


def _add_live_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ca = sub.add_parser("ca", help="a cluster certificate authority for real nodes")
    ca_sub = ca.add_subparsers(dest="ca_command", required=True)
    init = ca_sub.add_parser("init", help="create a cluster CA in DIR (ca.crt, ca.key)")
    init.add_argument("dir")
    issue = ca_sub.add_parser("issue", help="sign a node certificate: DIR/NAME.crt, DIR/NAME.key")
    issue.add_argument("dir")
    issue.add_argument("name", help="file name of the certificate and key")
    issue.add_argument("--host", action="append", help="IP or DNS name the node speaks from (repeatable)")
    ca.set_defaults(func=_ca)
    node = sub.add_parser("node", help="run one real node on QUIC until interrupted (SIGTERM: leave)")
    node.add_argument("--listen", required=True, metavar="HOST:PORT", help="its address, and so its name")
    node.add_argument("--join", action="append", metavar="HOST:PORT", help="a seed to join through")
    node.add_argument("--ca", required=True, help="the cluster CA certificate (PEM)")
    node.add_argument("--cert", required=True, help="this node's certificate (PEM)")
    node.add_argument("--key", required=True, help="this node's private key (PEM)")
    node.add_argument("--preset", default="lan", help="config preset: lan, wan or local (default lan)")
    node.add_argument("--set", action="append", metavar="KEY=VALUE", help="config override (repeatable)")
    node.add_argument("--events", metavar="FILE", help="append membership changes as JSON lines")
    node.add_argument(
        "--manager",
        metavar="STRATEGY",
        help="run under a cluster manager: keep-majority, static-quorum, keep-oldest, keep-referee, "
        "down-all or none; prints its application events",
    )
    node.add_argument(
        "--manager-set", action="append", metavar="KEY=VALUE", help="a manager setting (repeatable)"
    )
    node.set_defaults(func=_node)


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(prog="swimlab", description="SWIM on a deterministic simulator.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario in the simulator (or live, on real sockets)")
    run.add_argument("scenario", help="a library name (see `swimlab list`) or a path to a .toml file")
    run.add_argument("--seed", type=int, default=None, help="run seed (default: the scenario's first seed)")
    run.add_argument(
        "--out",
        default="runs",
        help="parent folder for the new numbered run folder (default: runs)",
    )
    run.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a scenario value by dotted path, e.g. cluster.nodes=1000 (repeatable)",
    )
    run.add_argument(
        "--runtime",
        choices=("sim", "live"),
        default="sim",
        help="sim: the simulator (default); live: real QUIC sockets on loopback, in real time",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    run.set_defaults(func=_run)
    sweep = sub.add_parser("sweep", help="run a parameter grid x seeds on a local pool or Dask")
    sweep.add_argument(
        "scenario", help="a library name or a .toml path (its [sweep] table is the default grid)"
    )
    sweep.add_argument(
        "--grid",
        action="append",
        metavar="KEY=V1,V2,...",
        help="a swept key and its values (repeatable); replaces the file's [sweep] grid",
    )
    sweep.add_argument("--seeds", type=int, default=None, help="seeds 1..K per point (default: the file's)")
    sweep.add_argument(
        "--metrics",
        metavar="M1,M2,...",
        help="the summary metrics to tabulate and plot (default: the file's [sweep] metrics, else "
        "those the scenario's faults test)",
    )
    sweep.add_argument(
        "--executor",
        default="local",
        help="local (a process pool, the default) or dask://HOST:PORT (a Dask scheduler)",
    )
    sweep.add_argument("--workers", type=int, default=None, help="local pool size (default: cores)")
    sweep.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a scenario value before the grid"
    )
    sweep.add_argument("--out", required=True, help="the sweep folder; an existing one is resumed")
    sweep.add_argument(
        "--force",
        action="store_true",
        help="replace a folder that holds another sweep (its points are deleted)",
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    sweep.set_defaults(func=_sweep)
    fid = sub.add_parser(
        "fidelity", help="one scenario on both runtimes, same seeds: sim vs live side by side"
    )
    fid.add_argument("scenario", help="a library name or a .toml path")
    fid.add_argument("--seeds", type=int, default=3, help="seeds 1..K on each runtime (default 3)")
    fid.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a scenario value (repeatable)"
    )
    fid.add_argument("--out", default="fidelity", help="the report folder (default: fidelity)")
    fid.set_defaults(func=_fidelity)
    search = sub.add_parser(
        "search", help="search fault schedules in a scenario's [search] envelope; shrink what fails"
    )
    search.add_argument("scenario", help="a library name or a .toml path with a [search] table")
    search.add_argument("--budget", type=int, required=True, help="how many schedules to try")
    search.add_argument("--seed", type=int, default=0, help="the search's seed (shards use seed*1000+i)")
    search.add_argument(
        "--executor", default="local", help="local (a process pool) or dask://HOST:PORT (a Dask scheduler)"
    )
    search.add_argument("--workers", type=int, default=1, help="parallel shards (default 1: in process)")
    search.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a scenario value")
    search.add_argument("--out", default="found", help="folder for the shrunk scenario (default: found)")
    search.add_argument("--quiet", action="store_true", help="no progress bar")
    search.set_defaults(func=_search)
    report = sub.add_parser("report", help="re-render a run or sweep folder (figures, index.html)")
    report.add_argument("folder", help="a run folder (result.json) or a sweep folder (sweep.json)")
    report.set_defaults(func=_report)
    table = sub.add_parser(
        "split-brain", help="a manager sweep's strategy x shape table (markdown; also DIR/split_brain.md)"
    )
    table.add_argument("folder", help="a sweep folder (sweep.json), e.g. of sweep_split_brain")
    table.set_defaults(func=_split_brain)
    lst = sub.add_parser("list", help="show the scenario library")
    lst.set_defaults(func=_list)
    bench = sub.add_parser("bench", help="simulator speed and memory benchmark")
    bench.add_argument("--quick", action="store_true", help="smaller N for a fast look")
    bench.add_argument("--sizes", type=int, nargs="+", help="N to run (default 1000 2000 5000 10000)")
    bench.add_argument("--figure", help="figure path (default bench_sim.png; .svg beside it)")
    bench.set_defaults(func=_bench)
    races = sub.add_parser(
        "races", help="explore task and thread interleavings: the race examples or your models (FILE.py)"
    )
    _add_live_commands(sub)
    return parser, races


def main(argv: Sequence[str] | None = None) -> int:
    parser, races = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["races"]:
        try:
            from swimlab.sim.interleave import cli as races_cli
        except ImportError as exc:
            print(
                f"error: `swimlab races` needs sim.interleave.cli, which is not available: {exc}",
                file=sys.stderr,
            )
            return 2
        races_cli.add_arguments(races)
        args = parser.parse_args(argv)
        return int(races_cli.run(args))
    args = parser.parse_args(argv)
    args.command_line = _command_line(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
