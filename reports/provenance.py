"""Where a result came from: the swimlab version, the git commit of the checkout it ran from
(and whether that checkout had uncommitted changes to tracked files), and the hash of the
scenario as it ran, so a reader can tell two pages of "the same" run apart.

The git state is read once per process, and only when swimlab runs from a git checkout (an
installed wheel has none: both fields are then None). Untracked files (run folders, notes) do
not make a checkout dirty; edits to tracked files do.
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parent.parent  # reports/ sits at the checkout's top level


@functools.cache
def swimlab_version() -> str:
    try:
        return metadata.version("swimlab")
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def git_state() -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout swimlab runs from; (None, None) outside a checkout."""
    if not (CHECKOUT / ".git").exists():
        return None, None

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(CHECKOUT), *args], capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, dirty


def scenario_sha256(effective_scenario: dict[str, Any]) -> str:
    """sha256 of the scenario as it ran (`scenarios.schema.effective`: --set applied, defaults
    filled), over its canonical JSON without `source` (where the file was): equal scenarios hash
    equal whatever file or folder they came from."""
    content = {k: v for k, v in effective_scenario.items() if k != "source"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
