"""Trace digests of library scenarios varied to reach code paths no library scenario reaches.

`trace_digests.py` covers the library as it is; no library scenario restarts a node with its
state kept (`Node.recover`) or runs the phi detector outside a sweep. Run this before and after
a change that claims to preserve behaviour, and diff the outputs:

    python benchmarks/trace_digests_variants.py > before.txt   # ... change ...
    python benchmarks/trace_digests_variants.py | diff before.txt -
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from swimlab.scenarios.loader import load_scenario
from swimlab.scenarios.runner import run_scenario

PHI = [
    "cluster.config.detector=phi",
    "cluster.config.lifeguard_lhm=false",
    "cluster.config.lifeguard_dynamic_suspicion=false",
]
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "mass_restart/kept": ("mass_restart", ["faults.0.state=kept", "cluster.nodes=40"]),
    "crash_one/phi": ("crash_one", [*PHI, "cluster.nodes=40"]),
    "lossy_nodes/phi": ("lossy_nodes", [*PHI, "cluster.nodes=40"]),
    "churn/messages": ("churn", ["cluster.nodes=30", "trace.messages=true"]),
}


def main() -> None:
    for label, (name, overrides) in VARIANTS.items():
        with tempfile.TemporaryDirectory() as tmp:
            result = run_scenario(load_scenario(name, overrides), 7, out_dir=tmp, render=False)
            data = (Path(tmp) / "trace.jsonl").read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:16]
        lines = data.count(b"\n")
        print(f"{label} {digest} {lines} {result.verdict}", flush=True)


if __name__ == "__main__":
    main()
