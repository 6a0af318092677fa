"""`swimlab ca` and `swimlab node`: a cluster CA on disk, and one real node per process.

The CLI (`scenarios/cli.py`) only parses; these functions do the work and return exit codes
(0 done, 2 could not run). `swimlab node` runs one Node on a QUIC endpoint at `--listen`, named
after that address, until interrupted:

- it prints every membership change as it happens ("+1.23 s 127.0.0.1:7002 joined"), and writes
  each as a JSON line to `--events` when given (flushed per line, so others can follow it);
- Ctrl-C or SIGTERM is a graceful leave: the node announces it, lingers `LEAVE_LINGER_S` so the
  news spreads (peers record *left*, not *dead*), then closes; SIGKILL is a crash.

With `--manager STRATEGY` (and `--manager-set KEY=VALUE` for its settings) the node runs under a
cluster manager (protocol/manager/): the application's events (members up / unreachable / down /
removed, serving or not, downing decisions, the partition detector's verdict) are read from the
manager's bounded event stream by a consumer task and printed ("+12.40 s view 127.0.0.1:7003
unreachable"; a consumer that fell behind prints how many events it lost); every record, the
manager's included, goes to `--events`. lease-majority is refused: `swimlab node` has no lease.
"""

from __future__ import annotations

import ast
import asyncio
import json
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, TextIO

from swimlab.protocol import trace_schema
from swimlab.protocol.config import preset
from swimlab.protocol.errors import ConfigError
from swimlab.protocol.events import Event, EventsDropped
from swimlab.protocol.faults import LEAVE_LINGER_S
from swimlab.protocol.manager.config import ManagerConfig, check_applies
from swimlab.protocol.manager.driver import manager_factories
from swimlab.protocol.manager.events import (
    DowningDecision,
    MemberStatusChanged,
    PartitionStatusChanged,
    ServingChanged,
)
from swimlab.protocol.manager.manager import ClusterManager
from swimlab.protocol.messages import NodeId

from .clock import LiveClock
from .credentials import ClusterCA, CredentialsError, load_credentials
from .endpoint import parse_address
from .host import LiveHost
from .udp import new_event_loop


def ca_init(directory: str, out: TextIO = sys.stdout) -> int:
    try:
        ClusterCA().save(directory)
    except (CredentialsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"cluster CA written: {Path(directory) / 'ca.crt'} (key {Path(directory) / 'ca.key'})", file=out)
    return 0


def ca_issue(directory: str, name: str, hosts: Sequence[str], out: TextIO = sys.stdout) -> int:
    try:
        cert, key = ClusterCA.load(directory).issue_to(directory, name, list(hosts) or ["127.0.0.1"])
    except (CredentialsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"node certificate for {', '.join(hosts or ['127.0.0.1'])}: {cert} (key {key})", file=out)
    return 0


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """KEY=VALUE pairs; values are Python literals (1, 0.5, true/false) or else strings."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {pair!r}: expected KEY=VALUE")
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            overrides[key] = lowered == "true"
            continue
        try:
            overrides[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            overrides[key] = text
    return overrides


def node(
    listen: str,
    joins: Sequence[str],
    ca_file: str,
    cert_file: str,
    key_file: str,
    preset_name: str = "lan",
    overrides: Sequence[str] = (),
    events_file: str | None = None,
    out: TextIO = sys.stdout,
    manager: str | None = None,
    manager_overrides: Sequence[str] = (),
) -> int:
    """Run one node until SIGINT/SIGTERM (graceful leave); the exit code."""
    address = parse_address(listen)
    bad_joins = [j for j in joins if parse_address(j) is None]
    if address is None or bad_joins:
        print(
            f"error: expected HOST:PORT, got {listen if address is None else bad_joins[0]!r}", file=sys.stderr
        )
        return 2
    try:
        credentials = load_credentials(ca_file, cert_file, key_file)
        config = preset(preset_name, **parse_overrides(overrides))
        settings = manager_settings(manager, manager_overrides)
    except (CredentialsError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    loop = new_event_loop()
    events: IO[str] | None = open(events_file, "a", encoding="utf-8") if events_file else None  # noqa: SIM115
    started = time.monotonic()

    def on_event(name: NodeId, event: Event) -> None:
        # The trace's own `state` record (t: seconds since the node started), plus wall time.
        record: dict[str, Any] = dict(
            trace_schema.notification(round(time.monotonic() - started, 6), name, event)
        )
        record["wall"] = time.time()
        if record["kind"] == "state":  # the manager's own news is printed by its consumer
            member = record.get("member", "")
            print(f"+{record['t']:.2f} s {member} {record['event']}", file=out, flush=True)
        if events is not None:
            events.write(json.dumps(record) + "\n")
            events.flush()

    factories: dict[str, Any] = {}
    if settings is not None:
        node_factory, driver_factory = manager_factories(settings, None, events_capacity=APP_EVENTS_CAPACITY)
        factories = {"node_factory": node_factory, "driver_factory": driver_factory}
    try:
        host = LiveHost(
            "", loop, address, credentials, config, LiveClock(loop), on_event=on_event, **factories
        )
    except OSError as exc:
        print(f"error: cannot listen on {listen}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(
        f"node {host.name} listening (preset {preset_name}); joining {list(joins) or 'nobody'}",
        file=out,
        flush=True,
    )
    stop = asyncio.Event()

    def request_leave() -> None:
        stop.set()

    async def main() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, request_leave)
        host.boot(join_seeds=joins)
        consumer = None
        if isinstance(host.node, ClusterManager):
            consumer = loop.create_task(consume(host.node, started, out))
        await stop.wait()
        if consumer is not None:
            consumer.cancel()
        print(f"+{time.monotonic() - started:.2f} s leaving", file=out, flush=True)
        host.leave()
        await asyncio.sleep(LEAVE_LINGER_S)
        host.crash()

    try:
        loop.run_until_complete(main())
    finally:
        if events is not None:
            events.close()
        loop.close()
    return 0


APP_EVENTS_CAPACITY = 1024
"""How many manager events wait for `swimlab node`'s consumer before the oldest are dropped."""


def manager_settings(strategy: str | None, overrides: Sequence[str]) -> ManagerConfig | None:
    """The ManagerConfig of `--manager STRATEGY --manager-set ...` (None without --manager);
    ConfigError for anything invalid, inapplicable, or lease-majority (no lease here)."""
    if strategy is None:
        if overrides:
            raise ConfigError("--manager-set needs --manager STRATEGY")
        return None
    if strategy == "lease-majority":
        raise ConfigError(
            "--manager lease-majority: swimlab node has no lease service; choose another strategy"
        )
    given = parse_overrides(overrides)
    check_applies(strategy, given)
    return ManagerConfig(strategy=strategy, **given)  # type: ignore[arg-type]


def describe(event: Event) -> str | None:
    """One line for an application event of the manager (None for others)."""
    if isinstance(event, MemberStatusChanged):
        return f"view {event.member} {event.status.value}"
    if isinstance(event, ServingChanged):
        return f"serving {'yes' if event.serving else 'no'} ({event.reason})"
    if isinstance(event, DowningDecision):
        return f"decision {event.strategy} {event.decision}: down {list(event.down)}"
    if isinstance(event, PartitionStatusChanged):
        return f"partition detector: {event.status}"
    if isinstance(event, EventsDropped):
        return f"{event.count} events dropped (the consumer fell behind)"
    return None


async def consume(manager: ClusterManager, started: float, out: TextIO, every_s: float = 0.1) -> None:
    """The application side: read the manager's bounded event stream and print each event."""
    stream = manager.events
    assert stream is not None
    while True:
        for event in stream.drain():
            line = describe(event)
            if line is not None:
                print(f"+{time.monotonic() - started:.2f} s {line}", file=out, flush=True)
        await asyncio.sleep(every_s)
