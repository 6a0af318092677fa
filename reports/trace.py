"""The trace: one JSON object per line, stamped with global simulated time `t` (seconds).

Writing is byte-stable: keys keep the order the producer gave (the runtime builds every record
with `t` and `kind` first), `t` is written with exactly six decimals, and everything else goes
through `json.dumps` with fixed separators (Python's float repr is deterministic). Same records,
same bytes.

Record kinds (fields after `t`, `kind`):

- `meta`: schema, scenario, seed, runtime, duration_s, nodes, preset, config_overrides (first line)
- `host`: node, status (`up` / `down` / `left`), how (`boot`, `crash`, `restart-kept`,
  `restart-wiped`, `leave`, `join`) - ground truth about a process
- `impair`: node, cause (`partition`, `pause`, `loss`, `slow`, `latency`, `ingress`), on -
  ground truth: a fault starts / stops affecting a node
- `fault`: op, nodes, then the operation's parameters - the scenario's fault operation
- `state`: node, event (`joined`, `suspect`, `alive`, `updated`, `dead`, `left`, `removed`,
  `refuted`, `events_dropped`), member, incarnation, accuser - a notification `node` emitted
- `send` (src, dst, msg, bytes, reliable), `deliver` (src, dst, msg), `drop` (src, dst, msg,
  reason: `partition` / `loss` / `down` / `unknown`) - per message, only if enabled
- `end`: events, messages_sent, bytes_sent, messages_delivered, messages_dropped, and
  `sent_by_node` (node -> [messages, bytes] it sent over all its lives) (last line)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

SCHEMA_VERSION = 1

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def format_record(record: dict[str, Any]) -> str:
    """One trace line (without newline), byte-stable for equal records."""
    body = _dumps({k: v for k, v in record.items() if k != "t"})
    t = record["t"]
    return f'{{"t":{t:.6f},{body[1:]}' if len(body) > 2 else f'{{"t":{t:.6f}}}'


class TraceWriter:
    """Appends records to a `trace.jsonl` stream."""

    def __init__(self, stream: IO[str]) -> None:
        self._write = stream.write
        self.lines = 0

    def __call__(self, record: dict[str, Any]) -> None:
        self._write(format_record(record))
        self._write("\n")
        self.lines += 1


def read_trace(path: str | Path) -> Iterator[dict[str, Any]]:
    """The records of a trace file, in order."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)
