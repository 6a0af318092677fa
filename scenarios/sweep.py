"""The sweep engine: a grid of scenario parameters x seeds, each point a separate simulation, run on
a `concurrent.futures` executor - a local process pool by default, a Dask distributed cluster when
given `dask://HOST:PORT`, or any `Executor` a caller passes.

A sweep folder holds `points/<id>.json` (one per finished point, written as it finishes, with
its wall time), `points/<id>/` (the point's run folder: its result.json and page), `sweep.json`
(every planned point's params, seed, status, summary and metrics, in plan order, with nothing
machine- or time-dependent, so the same plan and seeds give the same bytes on any executor) and
the figures + `index.html` from `swimlab.reports.render`. Running a sweep again on the same
folder resumes it: points already finished `ok` with the same params and seed
are read back, not redone; failed points are retried. A point that raises is recorded with its
error and does not stop the sweep. A folder belongs to one sweep (`plan.json`: the overridden
scenario and its variants); a different sweep into it is refused unless forced (`claim_folder`).
The sweep's verdict is its points' (`swimlab.reports.checks.sweep_verdict`: `error` if a point
failed to run, else `invalid` if one is invalid, else `unknown` if one is, else `valid`), and so
is its exit code: 0 valid, 1 invalid, 2 unknown or a point failed to run.

`plan_sweep` reads the grid from the scenario's `[sweep]` table (see scenarios/README.md) or from
`--grid key=v1,v2` arguments; `run_sweep` runs it; `run_point` is the picklable unit of work.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import hashlib
import itertools
import json
import os
import shutil
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swimlab.reports.checks import EXIT_CODES, sweep_verdict
from swimlab.reports.provenance import git_state, scenario_sha256, swimlab_version
from swimlab.reports.schema import (
    SWEEP_SCHEMA_VERSION,
    SweepBase,
    SweepPoint,
    SweepProvenance,
    from_json,
    to_json,
)
from swimlab.reports.schema import Sweep as SweepFile
from swimlab.reports.summary import SUMMARY_METRICS, default_metrics, summarize

from .errors import ScenarioError
from .loader import load_raw, portable_ref, validate_overridden
from .overrides import apply_override, parse_override
from .schema import Sweep, check_override, effective, validate

DASK_PREFIX = "dask://"


class PointFailed(RuntimeError):
    """A point raised; the message names the original exception. Every exception crossing a
    process (or Dask) boundary must pickle, and e.g. `ScenarioError(source, path, ...)` does not:
    unpickling it would break the whole pool, so workers send this instead."""


@dataclass(frozen=True)
class Point:
    index: int
    params: dict[str, Any]
    seed: int
    changes: tuple[tuple[str, Any], ...]  # (dotted key, value) applied to the scenario

    @property
    def id(self) -> str:
        # Content-addressed so a resumed sweep recognises a point even if the grid was reordered.
        digest = hashlib.sha1(json.dumps(self.params, sort_keys=True).encode()).hexdigest()[:8]
        return f"{digest}-s{self.seed}"


@dataclass(frozen=True)
class SweepPlan:
    scenario: str
    source: str
    text: str  # the scenario file's TOML, shipped to workers (they may not share our disk)
    overrides: tuple[str, ...]  # --set arguments, applied before the grid
    grid: dict[str, list[Any]]
    variants: dict[str, dict[str, Any]]
    seeds: list[int]
    description: str = ""
    # ([sweep] seeds_at) grid values -> at most this many seeds for a point that has them all
    seeds_at: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    x: str = ""
    metrics: list[str] = field(default_factory=list)
    base: dict[str, Any] = field(default_factory=dict)
    ref: str = ""  # how a reproduce command names the scenario (loader.portable_ref)
    metrics_chosen: bool = False  # --metrics named them (the command repeats it)
    scenario_sha256: str = ""  # of the base scenario as it would run (reports/provenance.py)

    def points(self) -> list[Point]:
        keys = list(self.grid)
        out = []
        combos = itertools.product(*(self.grid[k] for k in keys)) if keys else [()]
        for index, combo in enumerate(combos):
            params = dict(zip(keys, combo, strict=True))
            changes: list[tuple[str, Any]] = []
            for key, value in params.items():
                if key == "variant":
                    changes.extend(self.variants[value].items())
                else:
                    changes.append((key, value))
            cap = self.seeds_cap(params)
            for seed in self.seeds:
                if seed <= cap:
                    out.append(Point(index, params, seed, tuple(changes)))
        return out

    def seeds_cap(self, params: Mapping[str, Any]) -> int:
        """The most seeds a point with these grid values runs (`[sweep] seeds_at`)."""
        cap = len(self.seeds)
        for values, seeds in self.seeds_at:
            if all(k in params and params[k] == v for k, v in values.items()):
                cap = min(cap, seeds)
        return cap

    def identity(self) -> dict[str, Any]:
        """What makes two sweeps the same sweep: the scenario as overridden (comments and the
        [sweep] table aside) and the variants. Another grid or seed count of the same sweep
        reuses its finished points; anything else is a different sweep."""
        raw = tomllib.loads(self.text)
        for override in self.overrides:
            keys, value = parse_override(override)
            apply_override(raw, keys, value)
        raw.pop("sweep", None)
        body = json.dumps({"scenario": raw, "variants": self.variants}, sort_keys=True, default=str)
        return {
            "schema_version": SWEEP_SCHEMA_VERSION,
            "scenario": self.scenario,
            "source": self.source,
            "overrides": list(self.overrides),
            "digest": hashlib.sha1(body.encode()).hexdigest(),
        }

    def command(self, out_dir: str | Path) -> str:
        """The command that reproduces this sweep: no machine path (`--out` by the folder's
        name), no worker count or executor (they change nothing in sweep.json)."""
        import shlex

        parts = ["swimlab", "sweep", self.ref or self.source]
        parts += [f"--set {shlex.quote(o)}" for o in self.overrides]
        for key, values in self.grid.items():
            parts.append(f"--grid {key}=" + ",".join(_literal(v) for v in values))
        if self.metrics_chosen:
            parts.append("--metrics " + ",".join(self.metrics))
        parts += [f"--seeds {len(self.seeds)}", f"--out {Path(out_dir).name or out_dir}"]
        return " ".join(parts)


def _literal(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def parse_grid(args: Iterable[str]) -> dict[str, list[Any]]:
    """`["cluster.nodes=16,32", "network.loss=0,0.1"]` -> `{"cluster.nodes": [16, 32], ...}`;
    values are TOML literals, a bare word is a string."""
    grid: dict[str, list[Any]] = {}
    for arg in args:
        key, sep, values = arg.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise ScenarioError("--grid", arg, "KEY=V1,V2,... with a dotted key", arg)
        grid[key.strip()] = [parse_override(f"v={v}")[1] for v in values.split(",")]
    return grid


def plan_sweep(
    name_or_path: str,
    grid: Mapping[str, list[Any]] | None = None,
    seeds: int | None = None,
    overrides: Sequence[str] = (),
    metrics: Sequence[str] | None = None,
) -> SweepPlan:
    """The sweep of a scenario: its `[sweep]` table, with `grid` (if given) replacing the file's
    grid, `seeds` its seed count and `metrics` (--metrics) its metrics; without either, the
    metrics are those the scenario's faults test (`reports.summary.default_metrics`). Every
    value is validated now."""
    source, text, raw = load_raw(name_or_path, overrides)
    scenario = validate_overridden(raw, source, overrides)
    for i, metric in enumerate(metrics or ()):
        if metric not in SUMMARY_METRICS:
            raise ScenarioError("--metrics", str(i), f"one of {', '.join(SUMMARY_METRICS)}", metric)
    sweep = scenario.sweep or Sweep()
    variants = {name: dict(changes) for name, changes in sweep.variants.items()}
    if grid:
        for key, values in grid.items():
            for i, value in enumerate(values):
                if key == "variant":
                    if value not in variants:
                        raise ScenarioError(
                            "--grid",
                            f"variant.{i}",
                            f"a name in [sweep.variants] ({', '.join(variants)})",
                            value,
                        )
                else:
                    check_override(source, f"--grid {key}.{i}", raw, key, value)
    final_grid = dict(grid) if grid else {key: list(values) for key, values in sweep.grid.items()}
    x = sweep.x if sweep.x in final_grid else ""
    count = seeds if seeds is not None else sweep.seeds
    if count < 1:
        raise ScenarioError("--seeds", "", "an integer >= 1", count)
    return SweepPlan(
        scenario=scenario.name,
        source=source,
        text=text,
        overrides=tuple(overrides),
        grid=final_grid,
        variants=variants,
        seeds=list(range(1, count + 1)),
        seeds_at=[
            ({k: v for k, v in entry.items() if k != "seeds"}, entry["seeds"]) for entry in sweep.seeds_at
        ],
        description=scenario.description,
        x=x,
        metrics=list(metrics or sweep.metrics or _default_metrics(scenario)),
        metrics_chosen=bool(metrics),
        ref=portable_ref(name_or_path),
        scenario_sha256=scenario_sha256(effective(scenario)),
        base={
            "nodes": scenario.cluster.nodes,
            "preset": scenario.cluster.preset,
            "config_overrides": dict(scenario.cluster.config),
            "config": _config_dict(scenario.config),
            "network": {"loss": scenario.network.loss},
        },
    )


def _default_metrics(scenario: Any) -> list[str]:
    ops = [f.op for f in scenario.faults] + [f.inner.op for f in scenario.faults if f.inner is not None]
    return default_metrics(ops, scenario.network.loss, bootstrap=scenario.cluster.start != "formed")


def _config_dict(config: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(config)


def run_point(
    source: str,
    text: str,
    overrides: Sequence[str],
    changes: Sequence[tuple[str, Any]],
    seed: int,
) -> dict[str, Any]:
    """One simulation of one grid point (picklable: plain arguments, a module-level function).

    Returns the point's verdict, checks, metrics (without the wall time, which depends on the
    machine), summary and wall time."""
    from .runner import run_scenario

    try:
        raw = tomllib.loads(text)
        for override in overrides:
            keys, value = parse_override(override)
            apply_override(raw, keys, value)
        raw.pop("sweep", None)  # validated at plan time; per point it would cost N validations
        for key, value in changes:
            apply_override(raw, key.split("."), copy.deepcopy(value))
        scenario = validate(raw, source, default_name=Path(source).stem)
        result = run_scenario(scenario, seed)
    except Exception as exc:
        raise PointFailed(f"{type(exc).__name__}: {exc}") from None
    return {
        "verdict": result.verdict,
        "verdict_reason": result.result.verdict_reason,
        "checks": [c.as_dict() for c in result.checks],
        "summary": summarize(result.result),
        "metrics": to_json(result.metrics.portable()),
        "wall_s": result.metrics.wall_s,
        "result": to_json(result.result),  # the point's own run folder (run_sweep writes it)
    }


@dataclass
class SweepOutcome:
    out_dir: Path
    sweep: SweepFile
    ran: int
    reused: int
    failed: int

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.sweep.verdicts.verdict]


def _load_done(points_dir: Path) -> dict[str, dict[str, Any]]:
    done = {}
    for path in sorted(points_dir.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # a point cut off mid-write: run it again
        if record.get("status") == "ok":
            done[path.stem] = record
    return done


def _executor(spec: str | cf.Executor | None, workers: int | None) -> tuple[cf.Executor, Any]:
    """(executor, closer) for "local", None, "dask://HOST:PORT" or an Executor instance."""
    if isinstance(spec, cf.Executor):
        return spec, None
    if spec is None or spec == "local":
        return cf.ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1), None
    if spec.startswith(DASK_PREFIX):
        try:
            from distributed import Client
        except ImportError:
            raise ScenarioError(
                "--executor", "", "dask[distributed] installed (pip install 'swimlab[dask]')", spec
            ) from None
        client = Client(spec[len(DASK_PREFIX) :])  # type: ignore[no-untyped-call]  # distributed is untyped
        return client.get_executor(), client  # type: ignore[no-untyped-call]
    raise ScenarioError("--executor", "", f"local or {DASK_PREFIX}HOST:PORT", spec)


PLAN_FILE = "plan.json"


def claim_folder(out: Path, plan: SweepPlan, force: bool = False) -> None:
    """Make `out` this sweep's folder: refuse (a `ScenarioError`) one that holds another sweep
    (`plan.json` with another identity, or results without a `plan.json`) unless `force`, which
    deletes its points (records and run folders) and sweep.json first; then write `plan.json`."""
    identity = plan.identity()
    points_dir = out / "points"
    old_points = sorted(points_dir.glob("*.json")) if points_dir.is_dir() else []
    plan_path = out / PLAN_FILE
    held = None
    if plan_path.exists():
        try:
            held = json.loads(plan_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            held = {}
    if held is not None and held.get("schema_version") != identity["schema_version"]:
        version = held.get("schema_version")
        what = f"a sweep written under sweep schema {version!r}, whose points this swimlab cannot reuse"
    elif held is not None and held.get("digest") != identity["digest"]:
        what = f"a sweep of {held.get('source', '?')} with another scenario, --set or variants"
    elif held is None and (old_points or (out / "sweep.json").exists()):
        what = "sweep results without a plan.json (an older swimlab's, or not a sweep's)"
    else:
        what = ""
    if what and not force:
        raise ScenarioError(
            "--out",
            str(out),
            f"an empty folder or one of this same sweep (it holds {what}; --force replaces it)",
            str(out),
        )
    if what:
        for path in old_points:
            path.unlink()
            shutil.rmtree(path.with_suffix(""), ignore_errors=True)  # the point's run folder
        (out / "sweep.json").unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    plan_path.write_text(json.dumps(identity, indent=1) + "\n", encoding="utf-8")


def run_sweep(
    plan: SweepPlan,
    out_dir: str | Path,
    executor: str | cf.Executor | None = None,
    workers: int | None = None,
    progress: bool = False,
    command: str | None = None,
    render: bool = True,
    force: bool = False,
) -> SweepOutcome:
    """Run every point of `plan` not already finished in `out_dir`; write sweep.json and
    (if `render`) the sweep's figures and index.html. `out_dir` must be new, empty or this
    sweep's (`claim_folder`; `force` replaces another sweep's)."""
    out = Path(out_dir)
    claim_folder(out, plan, force)
    points_dir = out / "points"
    points_dir.mkdir(parents=True, exist_ok=True)
    planned = plan.points()
    done = _load_done(points_dir)
    records: dict[str, dict[str, Any]] = {}
    todo = []
    for point in planned:
        previous = done.get(point.id)
        if previous is not None and previous["params"] == point.params and previous["seed"] == point.seed:
            records[point.id] = previous
        else:
            todo.append(point)
    reused = len(records)
    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="point", desc=f"sweep {plan.scenario}")
    if todo:
        pool, closer = _executor(executor, workers)
        try:
            futures = {
                pool.submit(run_point, plan.source, plan.text, plan.overrides, p.changes, p.seed): p
                for p in todo
            }
            for future in cf.as_completed(futures):
                point = futures[future]
                record: dict[str, Any] = {"id": point.id, "params": point.params, "seed": point.seed}
                try:
                    outcome = future.result()
                except PointFailed as exc:  # a point's failure is data, not the sweep's end
                    record.update(status="error", error=str(exc))
                except Exception as exc:  # the worker itself died, or Dask lost it
                    record.update(status="error", error=f"{type(exc).__name__}: {exc}")
                else:
                    _write_run_folder(points_dir / point.id, outcome.pop("result"))
                    record.update(status="ok", error=None, **outcome)
                record["finished_at"] = time.time()
                (points_dir / f"{point.id}.json").write_text(json.dumps(record) + "\n", encoding="utf-8")
                records[point.id] = record
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
            if closer is not None:
                closer.close()
            elif not isinstance(executor, cf.Executor):
                pool.shutdown()
    points = [_public(records[p.id]) for p in planned]
    sweep = SweepFile(
        schema_version=SWEEP_SCHEMA_VERSION,
        verdicts=sweep_verdict(points),
        scenario=plan.scenario,
        source=plan.source,
        description=plan.description,
        command=command or plan.command(out),
        provenance=_provenance(plan),
        overrides=list(plan.overrides),
        grid=plan.grid,
        variants=plan.variants,
        seeds=plan.seeds,
        x=plan.x,
        metrics=plan.metrics,
        base=from_json(plan.base, SweepBase, "sweep base"),
        points=points,
    )
    (out / "sweep.json").write_text(json.dumps(to_json(sweep), indent=1) + "\n", encoding="utf-8")
    if render:
        try:
            from swimlab.reports.render import render_sweep

            render_sweep(out)
        except ImportError:  # matplotlib missing: sweep.json is still the result
            pass
    failed = sum(1 for p in sweep.points if p.status != "ok")
    return SweepOutcome(out, sweep, ran=len(todo), reused=reused, failed=failed)


def _write_run_folder(folder: Path, result: dict[str, Any]) -> None:
    """A point's run folder: its result.json (its page is rendered with the sweep's)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def _provenance(plan: SweepPlan) -> SweepProvenance:
    commit, dirty = git_state()
    return SweepProvenance(
        swimlab=swimlab_version(), git_commit=commit, git_dirty=dirty, scenario_sha256=plan.scenario_sha256
    )


_MACHINE_DEPENDENT = ("wall_s", "finished_at")


def _public(record: Mapping[str, Any]) -> SweepPoint:
    """A point as sweep.json keeps it: without wall time or timestamps, so any executor on any
    machine writes the same bytes for the same plan."""
    keys = (
        "id",
        "params",
        "seed",
        "status",
        "error",
        "verdict",
        "verdict_reason",
        "checks",
        "summary",
        "metrics",
    )
    point = {k: record.get(k) for k in keys if k not in _MACHINE_DEPENDENT}
    return from_json(point, SweepPoint, f"sweep point {record.get('id')}")
