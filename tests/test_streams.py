"""The seed derivation is written once (protocol/streams.py) and every layer uses it."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from swimlab.protocol.streams import derive_seed, stream
from swimlab.scenarios import nemesis
from swimlab.sim import rng

ROOT = Path(__file__).resolve().parent.parent


def test_only_protocol_streams_hashes_seeds() -> None:
    """A second copy of the SHA-256 recipe could drift from the first and silently change which
    nodes a fault picks; only protocol/streams.py may call hashlib.sha256 on a seed
    (reports/provenance.py hashes the scenario's text for the report pages, never a seed)."""
    callers = []
    for package in ("protocol", "sim", "scenarios", "reports", "live"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr == "sha256":
                    callers.append(str(path.relative_to(ROOT)))
    # scenarios/search.py hashes a trace file (the replay check of a found schedule), never a seed.
    assert sorted(callers) == ["protocol/streams.py", "reports/provenance.py", "scenarios/search.py"], callers


def test_sim_and_nemesis_draw_from_the_same_recipe() -> None:
    assert rng.stream is stream and rng.derive_seed is derive_seed
    assert nemesis.stream is stream
    # The recipe itself, pinned: changing it would change every trace.
    assert derive_seed(1, "net", "n1") == int.from_bytes(hashlib.sha256(b"1:net:n1").digest()[:8], "big")
    assert nemesis._stream(7, 3).random() == stream(7, "nemesis", 3).random()
