"""`result.json` and run folders.

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

from .checks import CheckResult

RESULT_SCHEMA_VERSION = 1


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


def build_result(
    *,
    scenario: str,
    seed: int,
    runtime: str,
    checks: list[CheckResult],
    verdict: str,
    metrics: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "schema_version": RESULT_SCHEMA_VERSION,
        "scenario": scenario,
        "seed": seed,
        "runtime": runtime,
        "verdict": verdict,
        "checks": [c.as_dict() for c in checks],
        "metrics": metrics,
        "versions": {"python": sys.version.split()[0], "platform": platform.platform()},
        **(extra or {}),
    }


def write_result(path: str | Path, result: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
