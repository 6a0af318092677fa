"""`result.json` and run folders (the file's fields: `swimlab.reports.schema.RunResult`).

A run folder is new and numbered (`runs/0007-crash_one-s1`), never reused: results are kept
side by side like pytest-benchmark's saved runs.
"""

from __future__ import annotations

import json
import platform
import re
import sys
from pathlib import Path
from typing import Any

import msgspec

from .checks import verdict_reason as reason
from .provenance import git_state, scenario_sha256, swimlab_version
from .schema import (
    CheckResult,
    FaultWarning,
    InjectedFault,
    LoopLag,
    Metrics,
    NetworkSummary,
    OracleResult,
    RunResult,
    Verdict,
    Versions,
    to_json,
)


def new_run_dir(root: str | Path, scenario: str, seed: int) -> Path:
    """Create and return the next numbered folder under `root`."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in root.iterdir() if (m := re.match(r"(\d+)-", p.name))]
    n = max(numbers, default=0) + 1
    while True:
        path = root / f"{n:04d}-{scenario}-s{seed}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            n += 1


def versions() -> Versions:
    commit, dirty = git_state()
    return Versions(
        python=sys.version.split()[0],
        platform=platform.platform(),
        swimlab=swimlab_version(),
        git_commit=commit,
        git_dirty=dirty,
    )


def build_result(
    *,
    scenario: str,
    seed: int,
    runtime: str,
    checks: list[CheckResult],
    verdict: Verdict,
    metrics: Metrics,
    description: str,
    nodes: int,
    preset: str,
    duration_s: float,
    config_overrides: dict[str, Any],
    config: dict[str, Any],
    loss: float,
    command: str,
    groups: dict[str, list[str]] | None = None,
    faults: list[dict[str, Any]] | None = None,
    warnings: list[dict[str, Any]] | None = None,
    effective_scenario: dict[str, Any] | None = None,
    loop_lag: LoopLag | None = None,
    verdict_reason: str | None = None,
    oracles: list[OracleResult] | None = None,
) -> RunResult:
    """`verdict_reason` overrides the one read from the checks (a run judged by its loop lag)."""
    return RunResult(
        scenario=scenario,
        seed=seed,
        runtime=runtime,
        verdict=verdict,
        verdict_reason=verdict_reason or reason(checks),
        checks=checks,
        metrics=metrics,
        versions=versions(),
        description=description,
        nodes=nodes,
        preset=preset,
        duration_s=duration_s,
        config_overrides=config_overrides,
        config=config,
        network=NetworkSummary(loss=loss),
        command=command,
        scenario_sha256=scenario_sha256(effective_scenario or {}),
        groups=groups or {},
        faults=[msgspec.convert(entry, InjectedFault) for entry in faults or ()],
        warnings=[msgspec.convert(entry, FaultWarning) for entry in warnings or ()],
        effective_scenario=effective_scenario or {},
        loop_lag=loop_lag,
        oracles=oracles or [],
    )


def write_result(path: str | Path, result: RunResult) -> None:
    Path(path).write_text(json.dumps(to_json(result), indent=2) + "\n", encoding="utf-8")
