"""The trace file: one JSON object per line, the records of `swimlab.protocol.trace_schema`.

Writing is byte-stable: keys keep the order the record was built with (every kind's order is
fixed by its constructor in `trace_schema`, `t` and `kind` first), `t` is written with exactly
six decimals, and everything else goes through `json.dumps` with fixed separators (Python's float
repr is deterministic). Same records, same bytes.

Reading checks the `meta` record's schema version: a trace written under another version is
refused with a message that says so, instead of being misread.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, cast

from swimlab.protocol.trace_schema import TRACE_SCHEMA_VERSION, TraceRecord

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class TraceError(ValueError):
    """A trace file this version of swimlab cannot read."""


def format_record(record: Mapping[str, Any]) -> str:
    """One trace line (without newline), byte-stable for equal records."""
    body = _dumps({k: v for k, v in record.items() if k != "t"})
    t = record["t"]
    return f'{{"t":{t:.6f},{body[1:]}' if len(body) > 2 else f'{{"t":{t:.6f}}}'


class TraceWriter:
    """Appends records to a `trace.jsonl` stream."""

    def __init__(self, stream: IO[str]) -> None:
        self._write = stream.write
        self.lines = 0

    def __call__(self, record: TraceRecord) -> None:
        self._write(format_record(record))
        self._write("\n")
        self.lines += 1


def read_trace(path: str | Path) -> Iterator[TraceRecord]:
    """The records of a trace file, in order; refuses a trace of another schema version."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            if record.get("kind") == "meta" and record.get("schema") != TRACE_SCHEMA_VERSION:
                raise TraceError(
                    f"{path}:{number}: trace schema {record.get('schema')!r}, but this swimlab reads "
                    f"schema {TRACE_SCHEMA_VERSION} (rerun the scenario to get a trace it can read)"
                )
            yield cast(TraceRecord, record)
