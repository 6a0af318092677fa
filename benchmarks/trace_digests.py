"""Print the sha256 of every library scenario's trace at its full size, for one seed.

Run before and after a change that claims to preserve behaviour, and diff the two outputs:

    python benchmarks/trace_digests.py --seed 7 > before.txt   # ... change ...
    python benchmarks/trace_digests.py --seed 7 | diff before.txt -

(`tests/test_trace_digests.py` pins the same at a small N in the test suite.)
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

from swimlab.scenarios.loader import library_names, load_scenario
from swimlab.scenarios.runner import run_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("names", nargs="*", help="scenarios (default: every non-sweep library scenario)")
    args = parser.parse_args()
    names = args.names or [n for n in library_names() if not n.startswith("sweep_")]
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            result = run_scenario(load_scenario(name), args.seed, out_dir=tmp, render=False)
            data = (Path(tmp) / "trace.jsonl").read_bytes()
        lines = data.count(b"\n")
        print(f"{name} {hashlib.sha256(data).hexdigest()[:16]} {lines} {result.verdict}", flush=True)


if __name__ == "__main__":
    main()
