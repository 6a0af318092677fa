"""Print the sha256 of every library scenario's metrics (result.json without its wall time and
machine versions) and series.json at full size, for one seed.

The metrics counterpart of `trace_digests.py`: run before and after a change to the metrics that
claims to preserve their values, and diff the two outputs:

    python benchmarks/result_digests.py --seed 7 > before.txt   # ... change ...
    python benchmarks/result_digests.py --seed 7 | diff before.txt -

It reads the files a run writes, so it runs on any version that writes them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path

from swimlab.scenarios.loader import library_names, load_scenario
from swimlab.scenarios.runner import run_scenario


def _digest(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("names", nargs="*", help="scenarios (default: every non-sweep library scenario)")
    args = parser.parse_args()
    names = args.names or [n for n in library_names() if not n.startswith("sweep_")]
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            run_scenario(load_scenario(name), args.seed, out_dir=tmp, render=False)
            result = json.loads((Path(tmp) / "result.json").read_text(encoding="utf-8"))
            series = json.loads((Path(tmp) / "series.json").read_text(encoding="utf-8"))
        result["metrics"].pop("wall_s", None)
        result.pop("versions", None)
        digests = f"metrics {_digest(result['metrics'])} result {_digest(result)} series {_digest(series)}"
        print(f"{name} {digests}", flush=True)


if __name__ == "__main__":
    main()
