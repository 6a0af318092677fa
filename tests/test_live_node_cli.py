"""`swimlab node`: three real processes on 127.0.0.1 form a cluster; SIGKILL of one is detected
as dead by both others; SIGTERM of another is recorded as a graceful leave.

Waits are bounded by generous timeouts (a loaded 2-core machine starts Python slowly) and end
as soon as the events files show what is awaited.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from swimlab.scenarios.cli import main

FAST = ["probe_interval_s=0.3", "probe_timeout_s=0.15", "gossip_interval_s=0.05", "push_pull_interval_s=2.0"]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def events(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for(what: str, done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout_s} s: {what}")
        time.sleep(0.1)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_three_node_processes_converge_detect_a_kill_and_record_a_leave(tmp_path: Path, processes) -> None:  # type: ignore[no-untyped-def]
    ca = tmp_path / "ca"
    assert main(["ca", "init", str(ca)]) == 0
    for name in ("n1", "n2", "n3"):
        assert main(["ca", "issue", str(ca), name, "--host", "127.0.0.1"]) == 0
    ports = [free_udp_port() for _ in range(3)]
    names = [f"127.0.0.1:{port}" for port in ports]
    logs = [tmp_path / f"n{i + 1}.jsonl" for i in range(3)]
    for i in range(3):
        command = [sys.executable, "-m", "swimlab.scenarios.cli", "node", "--listen", names[i]]
        command += [
            "--ca",
            str(ca / "ca.crt"),
            "--cert",
            str(ca / f"n{i + 1}.crt"),
            "--key",
            str(ca / f"n{i + 1}.key"),
        ]
        command += ["--preset", "local", "--events", str(logs[i])]
        command += [f"--set={kv}" for kv in FAST]
        if i:
            command += ["--join", names[0]]
        out = open(tmp_path / f"n{i + 1}.out", "wb")  # noqa: SIM115
        processes.append(
            subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
        )

    def saw(log: Path, member: str, event: str) -> bool:
        return any(e.get("member") == member and e["event"] == event for e in events(log))

    wait_for(
        "every node sees the two others join",
        lambda: all(saw(logs[i], names[j], "joined") for i in range(3) for j in range(3) if i != j),
        timeout_s=60.0,
    )
    processes[2].send_signal(signal.SIGKILL)
    wait_for(
        "n1 and n2 declare the killed n3 dead",
        lambda: saw(logs[0], names[2], "dead") and saw(logs[1], names[2], "dead"),
        60.0,
    )
    processes[1].send_signal(signal.SIGTERM)
    wait_for("n1 records n2 as left", lambda: saw(logs[0], names[1], "left"), 30.0)
    assert processes[1].wait(timeout=30) == 0  # a graceful exit after its leave
    assert not saw(logs[0], names[1], "dead")  # left, never dead
    assert processes[0].poll() is None  # the survivor runs on
    stdout = (tmp_path / "n1.out").read_text()
    assert f"{names[1]} left" in stdout and f"{names[2]} dead" in stdout  # printed as they happen


def test_bad_arguments_are_refused_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["node", "--listen", "nowhere", "--ca", "x", "--cert", "y", "--key", "z"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err
    assert (
        main(
            [
                "node",
                "--listen",
                "127.0.0.1:1",
                "--ca",
                str(tmp_path / "missing.crt"),
                "--cert",
                "y",
                "--key",
                "z",
            ]
        )
        == 2
    )
    assert "missing.crt" in capsys.readouterr().err
    ca = tmp_path / "ca"
    assert main(["ca", "init", str(ca)]) == 0 and main(["ca", "issue", str(ca), "n1"]) == 0
    args = ["node", "--listen", "127.0.0.1:1", "--ca", str(ca / "ca.crt"), "--cert", str(ca / "n1.crt")]
    assert main([*args, "--key", str(ca / "ca.key")]) == 2  # not the certificate's key
    assert "is not the key of" in capsys.readouterr().err
    assert main([*args, "--key", str(ca / "n1.key"), "--set", "probe_interval_s=-1"]) == 2
    assert "probe_interval_s" in capsys.readouterr().err
