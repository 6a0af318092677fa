"""`swimlab search`: hypothesis draws fault schedules, the oracles judge them, failures shrink.

A scenario with a `[search]` table declares an *envelope* (`Envelope` below; scenarios/README.md
documents each key): which fault operations, how many, on which nodes, in which time window,
with which parameter ranges. `search` asks hypothesis for schedules inside it, runs each in the
simulator as an ordinary scenario (the file's cluster, network and config; its own `[[faults]]`
and `[checks]` are replaced), and judges the invariant oracles of `reports/oracles.py`. A
violated oracle is a failure: hypothesis shrinks the schedule, keeping that same oracle
violated, and the minimal one is written as a plain scenario file that `swimlab run` replays
byte for byte (same trace; its sha256 is in the file's comment, with the oracle, its detail and
the shrink history).

Rules of a drawn schedule:
- Faults name their nodes, or (a quarter of crashes, leaves and restarts, and all of them once
  the state is unknown: after churn or a random pick) pick at random with `count`; they fire on
  a 0.5 s grid inside `[from_s, to_s)`, and everything with a duration ends by `to_s`.
- Crash, leave and pause hit up nodes; seed nodes are spared unless `include_seeds` (with no
  seed up, nodes that restart wiped or join have nobody to join through: a different
  experiment). At least two initial nodes stay up. A kept restart needs a crashed node; a node
  that left comes back only wiped (and not within the 2 s it lingers).
- The liveness phase (VOPR's): at `to_s` every partition heals and every clock drift is reset;
  the run then settles for `settle_s` (default: the oracles' bound B for the most nodes the
  schedule can have, plus 10 s), so convergence failures are caught, not only safety ones.
- The run seed is drawn too (so schedules explore the network's randomness) and shrinks to 0.

Steering: swarm testing (each schedule enables a random subset of the envelope's operations,
`swarm = true`) and hypothesis's `target()` on the number of coverage situations a run reached
and on the longest a live node was held dead by every other live node (`reports/coverage.py`:
how close the run came to a liveness failure).

Shards: the budget is split into shards with their own hypothesis seeds (seed * 1000 + i), run
on a local process pool or Dask like sweep points; each shard searches and shrinks on its own.
The smallest failure over all shards is kept. Ctrl-C stops the search and keeps what was found
(a failure interrupted mid-shrink is written as it stands, and the comment says so).
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import hashlib
import math
import os
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swimlab.protocol.faults import (
    ABOVE_0,
    AT_LEAST_0,
    AT_LEAST_1,
    LEAVE_LINGER_S,
    PROBABILITY,
    SHAPES,
    param,
)

from .errors import ScenarioError
from .fields import build
from .loader import load_raw
from .nodesets import RefError, expand
from .schema import validate

SEARCH_OPS = (
    "partition",
    "crash",
    "restart",
    "leave",
    "join",
    "pause",
    "slow",
    "loss",
    "latency",
    "duplicate",
    "ingress_drop",
    "clock",
    "churn",
)
ONE_WAY_SHAPES = ("one", "majority", "minority-third", "halves", "groups")
STEP_S = 0.5  # the time grid of a drawn schedule
LINGER_S = LEAVE_LINGER_S + STEP_S  # a leaving process lingers (protocol.faults): restart it after
PLANTED_ENV = "SWIMLAB_PLANTED_BUGS"


@dataclass(frozen=True, kw_only=True)
class Envelope:
    """`[search]`: what a drawn schedule may contain (scenarios/README.md documents each key)."""

    ops: tuple[str, ...] = param(SEARCH_OPS, doc="fault operations the search may use")
    max_faults: int = param(6, bound=AT_LEAST_1, doc="at most this many faults per schedule")
    from_s: float = param(5.0, bound=AT_LEAST_0, doc="faults fire at or after this instant")
    to_s: float = param(60.0, bound=ABOVE_0, doc="... and before this one; the liveness phase starts here")
    settle_s: float | None = param(None, bound=ABOVE_0, doc="the liveness phase (default: bound B + 10 s)")
    nodes: tuple[str, ...] = param((), doc="node references faults may target (default: every node)")
    include_seeds: bool = param(False, doc="crash, leave and pause may hit the seed nodes")
    max_nodes_per_fault: int = param(2, bound=AT_LEAST_1, doc="nodes a crash, pause, ... hits at most")
    shapes: tuple[str, ...] = param(tuple(SHAPES), doc="partition shapes")
    one_way: bool = param(True, doc="partitions may be one-way")
    max_duration_s: float = param(40.0, bound=ABOVE_0, doc="longest toggling fault (partition, loss, ...)")
    loss_max: float = param(0.6, bound=PROBABILITY, doc="highest loss rate")
    slow_max_s: float = param(3.0, bound=ABOVE_0, doc="longest slow-handling delay")
    pause_max_s: float = param(15.0, bound=ABOVE_0, doc="longest pause")
    latency_max_ms: float = param(500.0, bound=ABOVE_0, doc="largest added latency")
    duplicate_max: float = param(0.5, bound=PROBABILITY, doc="highest duplication rate")
    drift_ppm_max: float = param(5000.0, bound=AT_LEAST_0, doc="largest clock drift either way")
    step_max_s: float = param(5.0, bound=AT_LEAST_0, doc="largest forward clock step")
    restart_states: tuple[str, ...] = param(("kept", "wiped"), doc="restart kinds")
    max_new_nodes: int = param(2, bound=AT_LEAST_1, doc="nodes one join adds at most")
    churn_rate_max: float = param(0.2, bound=ABOVE_0, doc="highest churn rate (per second, each process)")
    swarm: bool = param(True, doc="each schedule enables a random subset of ops (swarm testing)")
    oracles: tuple[str, ...] = param((), doc="oracles whose violation is a failure (default: all)")


def envelope(source: str, raw: Mapping[str, Any]) -> tuple[Envelope, list[str]]:
    """The `[search]` table validated, and the node names faults may target."""
    from swimlab.reports.oracles import ORACLES

    if "search" not in raw:
        raise ScenarioError(source, "search", "a [search] table (the envelope of the fault search)", None)
    env = build(Envelope, source, "search", raw["search"])
    for key, allowed in (("ops", SEARCH_OPS), ("shapes", tuple(SHAPES)), ("oracles", ORACLES)):
        for i, value in enumerate(getattr(env, key)):
            if value not in allowed:
                raise ScenarioError(source, f"search.{key}.{i}", f"one of {', '.join(allowed)}", value)
    if not env.ops:
        raise ScenarioError(source, "search.ops", "at least one operation", [])
    for i, state in enumerate(env.restart_states):
        if state not in ("kept", "wiped"):
            raise ScenarioError(source, f"search.restart_states.{i}", "kept or wiped", state)
    if env.to_s - env.from_s < 2 * STEP_S:
        raise ScenarioError(source, "search.to_s", f">= from_s + {2 * STEP_S} ({env.from_s})", env.to_s)
    scenario = validate({k: v for k, v in raw.items() if k not in ("search", "sweep")}, source)
    n = scenario.cluster.nodes
    names = scenario.nodes
    if env.nodes:
        targets: list[str] = []
        for i, entry in enumerate(env.nodes):
            try:
                targets += [x for x in expand(entry, n, scenario.groups) if x not in targets]
            except RefError as exc:
                raise ScenarioError(source, f"search.nodes.{i}", exc.expected, entry) from None
        names = targets
    if n < 3:
        raise ScenarioError(source, "cluster.nodes", ">= 3 for a fault search", n)
    return env, names


# Drawing a schedule -----------------------------------------------------------------------------
@dataclass
class _Life:
    """What the drawing knows of the processes (exact until churn or a random pick)."""

    up: list[str]
    seeds: set[str]
    crashed: list[str] = field(default_factory=list)
    left: dict[str, float] = field(default_factory=dict)  # node -> when it left
    known: bool = True
    joins: int = 0
    drifted: set[str] = field(default_factory=set)


def schedules(env: Envelope, targets: list[str], all_nodes: list[str], seeds: list[str]) -> Any:
    """The hypothesis strategy of (run seed, faults) inside `env`."""
    from hypothesis import strategies as st

    @st.composite
    def draw_schedule(draw: Any) -> dict[str, Any]:
        enabled = list(env.ops)
        if env.swarm and len(enabled) > 1:
            enabled = [op for op in env.ops if draw(st.booleans())] or [draw(st.sampled_from(env.ops))]
        run_seed = draw(st.integers(0, 2**16 - 1))
        slots = round((env.to_s - env.from_s) / STEP_S)
        count = draw(st.integers(1, env.max_faults))
        times = sorted(draw(st.lists(st.integers(0, slots - 1), min_size=count, max_size=count)))
        life = _Life(up=list(all_nodes), seeds=set(seeds))
        faults = []
        for slot in times:
            t = env.from_s + slot * STEP_S
            op = draw(st.sampled_from(enabled))
            fault = _draw_fault(draw, st, env, op, t, life, targets)
            if fault is not None:
                faults.append({"at_s": t, "op": op, **fault})
        return {"seed": run_seed, "faults": faults, "drifted": sorted(life.drifted), "joins": life.joins}

    return draw_schedule()


def _halves(x: float) -> float:
    return round(x * 2) / 2


def _draw_fault(
    draw: Any, st: Any, env: Envelope, op: str, t: float, life: _Life, targets: list[str]
) -> dict[str, Any] | None:
    room = env.to_s - t  # what is left of the window: every duration ends by to_s

    def duration(longest: float) -> float:
        top = max(1, int(min(longest, room) / STEP_S))
        return float(draw(st.integers(1, top)) * STEP_S)

    def pick(pool: list[str], keep_up: bool = False) -> list[str] | None:
        pool = [x for x in pool if x in targets]
        if keep_up:
            spare = len([x for x in life.up if not x.startswith("j")]) - 2
            if spare < 1:
                return None
            limit = min(env.max_nodes_per_fault, spare)
        else:
            limit = env.max_nodes_per_fault
        if not pool:
            return None
        k = draw(st.integers(1, max(1, min(limit, len(pool)))))
        chosen: list[str] = []
        for _ in range(k):
            rest = [x for x in pool if x not in chosen]
            if not rest:
                break
            chosen.append(draw(st.sampled_from(rest)))
        return sorted(chosen, key=pool.index)

    spare_seeds = [x for x in life.up if env.include_seeds or x not in life.seeds]
    if op in ("crash", "leave", "restart") and life.known and draw(st.integers(0, 3)) == 3:
        life.known = False  # a random pick (the scenario language has them too): who is hit is unknown
    if op in ("crash", "leave"):
        if not life.known:
            return {"count": 1}
        nodes = pick(spare_seeds, keep_up=True)
        if nodes is None:
            return None
        for x in nodes:
            life.up.remove(x)
            if op == "crash":
                life.crashed.append(x)
            else:
                life.left[x] = t
        return {"nodes": nodes}
    if op == "restart":
        states = list(env.restart_states)
        state = draw(st.sampled_from(states))
        if not life.known:
            return {"count": 1, "state": state}
        pool = list(life.crashed)
        if state == "wiped":
            pool += [x for x, when in life.left.items() if t - when >= LINGER_S]
        nodes = pick(pool)
        if nodes is None:
            return None
        for x in nodes:
            if x in life.crashed:
                life.crashed.remove(x)
            life.left.pop(x, None)
            life.up.append(x)
        return {"nodes": nodes, "state": state}
    if op == "join":
        n = draw(st.integers(1, env.max_new_nodes))
        life.joins += n
        return {"new_nodes": n}
    if op == "churn":
        rate = st.integers(0, max(1, int(env.churn_rate_max * 20)))
        rates = {k: draw(rate) / 20.0 for k in ("join_rate_per_s", "leave_rate_per_s", "crash_rate_per_s")}
        if not any(rates.values()):
            rates["crash_rate_per_s"] = 0.05
        dur = duration(env.max_duration_s)
        life.joins += math.ceil(rates["join_rate_per_s"] * dur) + 2
        if rates["leave_rate_per_s"] or rates["crash_rate_per_s"]:
            life.known = False
        return rates | {"duration_s": dur}
    if op == "partition":
        shape = draw(st.sampled_from(env.shapes))
        out: dict[str, Any] = {"shape": shape}
        if shape == "one":
            out["nodes"] = [draw(st.sampled_from(life.up))]
        elif shape == "groups":
            side = pick(life.up) or []
            if not side or len(side) >= len(life.up):
                return None
            out["groups"] = [side]
        if env.one_way and shape in ONE_WAY_SHAPES and draw(st.booleans()):
            out["one_way"] = True
        out["duration_s"] = duration(env.max_duration_s)
        return out
    # Node faults on up nodes.
    if op == "loss" and draw(st.booleans()):
        nodes = None  # every link
    else:
        nodes = pick(life.up)
        if nodes is None:
            return None
    sel = {"nodes": nodes} if nodes is not None else {}
    if op == "pause":
        return sel | {"duration_s": duration(env.pause_max_s)}
    if op == "slow":
        delay = STEP_S * draw(st.integers(1, max(1, int(env.slow_max_s / STEP_S))))
        return sel | {"delay_s": delay, "duration_s": duration(env.max_duration_s)}
    if op == "loss":
        rate = draw(st.integers(1, max(1, int(env.loss_max * 20)))) / 20.0
        direction = draw(st.sampled_from(["both", "ingress", "egress"])) if nodes else "both"
        out = sel | {"rate": rate, "duration_s": duration(env.max_duration_s)}
        return out | ({"direction": direction} if direction != "both" else {})
    if op == "latency":
        add = 50.0 * draw(st.integers(1, max(1, int(env.latency_max_ms / 50))))
        return sel | {"add_ms": add, "duration_s": duration(env.max_duration_s)}
    if op == "duplicate":
        rate = draw(st.integers(1, max(1, int(env.duplicate_max * 20)))) / 20.0
        return sel | {"rate": rate, "duration_s": duration(env.max_duration_s)}
    if op == "ingress_drop":
        return sel | {"duration_s": duration(env.max_duration_s)}
    if op == "clock":
        step = STEP_S * draw(st.integers(0, int(env.step_max_s / STEP_S)))
        steps = int(env.drift_ppm_max / 500)
        drift = 500.0 * draw(st.integers(-steps, steps)) if steps else 0.0
        out = dict[str, Any](sel)
        if step:
            out["step_s"] = step
        if drift or not step:
            out["drift_ppm"] = drift
            if drift and nodes:
                life.drifted.update(nodes)
        return out
    raise AssertionError(op)


# Running one schedule ---------------------------------------------------------------------------
def scenario_raw(
    base: Mapping[str, Any], env: Envelope, schedule: Mapping[str, Any], settle_s: float, name: str
) -> dict[str, Any]:
    """The plain scenario (a raw TOML table) of a drawn schedule, liveness phase included."""
    raw = {k: copy.deepcopy(v) for k, v in base.items() if k not in ("search", "sweep", "faults", "checks")}
    raw["name"] = name
    raw["duration_s"] = env.to_s + settle_s
    raw["seeds"] = [schedule["seed"]]
    raw.pop("warmup_s", None)
    faults = [dict(f) for f in schedule["faults"]]
    faults.append({"at_s": env.to_s, "op": "heal"})  # the liveness phase: heal everything ...
    if schedule["drifted"]:
        faults.append({"at_s": env.to_s, "op": "clock", "nodes": list(schedule["drifted"]), "drift_ppm": 0.0})
    raw["faults"] = faults
    return raw


def settle_for(base_config: Any, env: Envelope, nodes: int, joins: int) -> float:
    """The liveness phase's length: `settle_s`, or the oracles' bound B for every node the
    schedule can have (the initial ones and its joins), plus 10 s."""
    from swimlab.reports.oracles import bound_s

    if env.settle_s is not None:
        return env.settle_s
    return float(math.ceil(bound_s(base_config, nodes + joins) + 10.0))


@dataclass
class Outcome:
    failed: str | None  # the first violated oracle counted as a failure (None: all held)
    detail: str
    record: int | None
    coverage: Counter[str]
    reached: int
    held_dead_s: float


def run_schedule(
    base: Mapping[str, Any],
    source: str,
    env: Envelope,
    schedule: Mapping[str, Any],
    name: str,
    out_dir: Path | None = None,
) -> tuple[Outcome, dict[str, Any]]:
    """Run one schedule in the simulator; its outcome and the raw scenario it ran."""
    from swimlab.reports.coverage import Coverage

    from .runner import run_scenario

    probe = validate({k: v for k, v in base.items() if k not in ("search", "sweep")}, source)
    settle = settle_for(probe.config, env, probe.cluster.nodes, schedule["joins"])
    raw = scenario_raw(base, env, schedule, settle, name)
    try:
        scenario = validate(raw, source)
    except ScenarioError as exc:  # the drawing broke a schema rule: a bug of this module
        raise AssertionError(f"search drew an invalid scenario: {exc}\n{raw['faults']}") from None
    coverage = Coverage()
    result = run_scenario(
        scenario, schedule["seed"], out_dir=out_dir, render=False, observers=[coverage.feed]
    )
    counted = set(env.oracles) if env.oracles else None
    failed = next(
        (o for o in result.result.oracles if o.ok is False and (counted is None or o.name in counted)), None
    )
    outcome = Outcome(
        failed=None if failed is None else failed.name,
        detail="" if failed is None else failed.detail,
        record=None if failed is None else failed.record,
        coverage=coverage.counts,
        reached=coverage.reached(),
        held_dead_s=coverage.held_dead_s,
    )
    return outcome, raw


# A shard: one hypothesis search -----------------------------------------------------------------
class _Found(Exception):
    """Raised inside the hypothesis test for a schedule that violates the oracle sought."""


def run_shard(
    text: str,
    source: str,
    overrides: Sequence[str],
    budget: int,
    seed: int,
    name: str,
    on_schedule: Callable[[int, int, Counter[str]], None] | None = None,
) -> dict[str, Any]:
    """One shard (picklable: plain arguments, a module-level function): up to `budget`
    schedules drawn by hypothesis with `seed`, the first failure shrunk. Returns counts,
    coverage and the minimal failure found (or None)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings, target
    from hypothesis import seed as hypothesis_seed

    from swimlab.protocol import planted

    planted.activate(os.environ.get(PLANTED_ENV, ""))
    raw = tomllib.loads(text)
    from .overrides import apply_override, parse_override

    for override in overrides:
        keys, value = parse_override(override)
        apply_override(raw, keys, value)
    env, targets = envelope(source, raw)
    base_scenario = validate({k: v for k, v in raw.items() if k not in ("search", "sweep")}, source)
    seeds = base_scenario.nodes[: base_scenario.cluster.seeds]
    state: dict[str, Any] = {
        "tried": 0,
        "failures": 0,
        "sought": None,
        "found": None,
        "history": [],
        "first_at": None,
        "coverage": Counter(),
        "interrupted": False,
    }

    @settings(
        max_examples=budget,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.target, Phase.shrink),
        report_multiple_bugs=False,
        print_blob=False,
    )
    @hypothesis_seed(seed)
    @given(schedules(env, targets, base_scenario.nodes, seeds))
    def probe(schedule: dict[str, Any]) -> None:
        outcome, scenario = run_schedule(raw, source, env, schedule, name)
        state["tried"] += 1
        state["coverage"].update(outcome.coverage)
        target(float(outcome.reached), label="coverage situations reached")
        target(outcome.held_dead_s, label="longest a live node was held dead everywhere (s)")
        failed = outcome.failed is not None
        if failed:
            state["failures"] += 1
        if on_schedule is not None:
            on_schedule(state["tried"], state["failures"], state["coverage"])
        if failed and state["sought"] in (None, outcome.failed):
            if state["sought"] is None:
                state["first_at"] = state["tried"]
            state["sought"] = outcome.failed
            state["history"].append(len(schedule["faults"]))
            state["found"] = {
                "oracle": outcome.failed,
                "detail": outcome.detail,
                "record": outcome.record,
                "schedule": schedule,
                "scenario": scenario,
            }
            raise _Found(outcome.failed)

    try:
        probe()
    except _Found:
        pass
    except KeyboardInterrupt:
        state["interrupted"] = True
    return {
        "seed": seed,
        "tried": state["tried"],
        "failures": state["failures"],
        "coverage": dict(state["coverage"]),
        "found": state["found"],
        "history": state["history"],
        "first_at": state["first_at"],
        "interrupted": state["interrupted"],
    }


# The search -------------------------------------------------------------------------------------
@dataclass
class SearchOutcome:
    scenario: str
    budget: int
    tried: int = 0
    failures: int = 0
    coverage: Counter[str] = field(default_factory=Counter)
    found: dict[str, Any] | None = None  # the smallest failure over the shards
    shard: dict[str, Any] | None = None  # the shard that found it
    written: Path | None = None
    interrupted: bool = False
    wall_s: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.found is not None else 0


def run_search(
    name_or_path: str,
    budget: int,
    seed: int = 0,
    executor: str | cf.Executor | None = None,
    workers: int | None = None,
    overrides: Sequence[str] = (),
    out_dir: str | Path = "found",
    progress: bool = False,
    shard_size: int | None = None,
) -> SearchOutcome:
    """Search `budget` schedules of the scenario's envelope; write the minimal failure (if any)
    into `out_dir` as `<scenario>-<oracle>-s<seed>.toml`."""
    from .sweep import _executor

    if budget < 1:
        raise ScenarioError("--budget", "", "an integer >= 1", budget)
    if seed < 0:
        raise ScenarioError("--seed", "", "an integer >= 0", seed)
    source, text, raw = load_raw(name_or_path, overrides)
    envelope(source, raw)  # refuse a bad envelope now, not in a worker
    name = str(raw.get("name") or Path(source).stem)
    inline = executor in (None, "local") and (workers or 1) == 1
    size = shard_size or (
        budget if inline else max(5, math.ceil(budget / (4 * (workers or os.cpu_count() or 1))))
    )
    shards = [(seed * 1000 + i, min(size, budget - i * size)) for i in range(math.ceil(budget / size))]
    outcome = SearchOutcome(scenario=name, budget=budget)
    wall0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=budget, unit="schedule", desc=f"search {name}")

    def show(tried: int, failures: int, coverage: Mapping[str, int]) -> None:
        if bar is not None:
            bar.n = min(tried, budget)
            from swimlab.reports.coverage import SITUATIONS

            reached = sum(1 for s in SITUATIONS if coverage.get(s))
            bar.set_postfix_str(f"failures {failures}, coverage {reached}/{len(SITUATIONS)}", refresh=True)

    def take(shard: dict[str, Any]) -> None:
        outcome.tried += shard["tried"]
        outcome.failures += shard["failures"]
        outcome.coverage.update(shard["coverage"])
        outcome.interrupted |= shard["interrupted"]
        found = shard["found"]
        if found is not None and (
            outcome.found is None
            or len(found["schedule"]["faults"]) < len(outcome.found["schedule"]["faults"])
        ):
            outcome.found, outcome.shard = found, shard

    try:
        if inline:
            for shard_seed, shard_budget in shards:
                done = outcome.tried

                def on_schedule(tried: int, failures: int, coverage: Counter[str], done: int = done) -> None:
                    show(done + tried, outcome.failures + failures, outcome.coverage + coverage)

                take(run_shard(text, source, overrides, shard_budget, shard_seed, name, on_schedule))
                show(outcome.tried, outcome.failures, outcome.coverage)
                if outcome.interrupted:
                    break
        else:
            pool, closer = _executor(executor, workers)
            try:
                futures = [
                    pool.submit(run_shard, text, source, tuple(overrides), b, s, name) for s, b in shards
                ]
                for future in cf.as_completed(futures):
                    take(future.result())
                    show(outcome.tried, outcome.failures, outcome.coverage)
            except KeyboardInterrupt:
                outcome.interrupted = True
                for future in futures:
                    future.cancel()
            finally:
                if closer is not None:
                    closer.close()
                elif not isinstance(executor, cf.Executor):
                    pool.shutdown(wait=False, cancel_futures=True)
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        if bar is not None:
            bar.close()
    outcome.wall_s = time.perf_counter() - wall0
    if outcome.found is not None:
        outcome.written = write_found(outcome, source, name_or_path, out_dir, seed, overrides)
    return outcome


def write_found(
    outcome: SearchOutcome,
    source: str,
    name_or_path: str,
    out_dir: str | Path,
    seed: int,
    overrides: Sequence[str],
) -> Path:
    """The minimal failing schedule as a plain scenario file, its story in a comment."""
    import tomli_w

    found = outcome.found
    shard = outcome.shard
    assert found is not None and shard is not None
    scenario = found["scenario"]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{outcome.scenario}-{found['oracle']}-s{seed}.toml"
    body = tomli_w.dumps(scenario)
    digest = trace_digest(body, path.name)
    faults = len(found["schedule"]["faults"])
    history = shrink_history(shard["history"])
    sets = "".join(f" --set {o}" for o in overrides)
    planted = os.environ.get(PLANTED_ENV, "")
    lines = [
        f"# Found by: swimlab search {name_or_path} --budget {outcome.budget} --seed {seed}{sets}",
        *([f"#   with planted bugs {planted} ({PLANTED_ENV})"] if planted else []),
        f"# Violated invariant: {found['oracle']} (reports/oracles.py)",
        f"#   {found['detail']}",
        f"#   first violating record: trace.jsonl line {found['record']}",
        f"# Shrunk to {faults} fault(s) + the liveness phase"
        f" (heal at {scenario['faults'][-1]['at_s']} s, then settle)",
        f"#   found after {shard['first_at']} schedules of shard seed {shard['seed']};"
        f" faults per failing schedule as it shrank: {history}",
        *(["#   (interrupted: the shrink did not finish)"] if outcome.interrupted else []),
        f"# Replay: swimlab run {path.name}   (trace sha256 {digest})",
        "",
    ]
    path.write_text("\n".join(lines) + body, encoding="utf-8")
    return path


def shrink_history(lengths: Sequence[int]) -> str:
    """Faults per failing schedule as the shrink went, runs folded: `5 -> 3 (x12) -> 2`."""
    parts: list[str] = []
    i = 0
    while i < len(lengths):
        j = i
        while j < len(lengths) and lengths[j] == lengths[i]:
            j += 1
        parts.append(f"{lengths[i]}" + (f" (x{j - i})" if j - i > 1 else ""))
        i = j
    return " -> ".join(parts)


def trace_digest(toml_text: str, file_name: str = "replay.toml") -> str:
    """sha256 of the trace a scenario text gives (its first seed), as `swimlab run` writes it."""
    from .loader import load_scenario
    from .runner import run_scenario

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / file_name
        path.write_text(toml_text, encoding="utf-8")
        scenario = load_scenario(str(path))
        run_scenario(scenario, scenario.seeds[0], out_dir=Path(tmp) / "run", render=False)
        return hashlib.sha256((Path(tmp) / "run" / "trace.jsonl").read_bytes()).hexdigest()
