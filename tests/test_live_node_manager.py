"""`swimlab node --manager`: real processes under a cluster manager print the application's events
(read from the manager's bounded event stream) and log the manager's records; bad manager
arguments are refused with exit 2."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from swimlab.scenarios.cli import main

from .test_live_node_cli import FAST, events, free_udp_port, processes, wait_for  # noqa: F401

MANAGER = ["stable_after_s=1.0", "settle_s=0.3", "tick_s=0.2"]


def test_three_managed_processes_down_a_killed_member(tmp_path: Path, processes) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    ca = tmp_path / "ca"
    assert main(["ca", "init", str(ca)]) == 0
    for name in ("n1", "n2", "n3"):
        assert main(["ca", "issue", str(ca), name, "--host", "127.0.0.1"]) == 0
    names = [f"127.0.0.1:{free_udp_port()}" for _ in range(3)]
    logs = [tmp_path / f"n{i + 1}.jsonl" for i in range(3)]
    outs = [tmp_path / f"n{i + 1}.out" for i in range(3)]
    for i in range(3):
        command = [sys.executable, "-m", "swimlab.scenarios.cli", "node", "--listen", names[i]]
        command += ["--ca", str(ca / "ca.crt"), "--cert", str(ca / f"n{i + 1}.crt")]
        command += ["--key", str(ca / f"n{i + 1}.key"), "--preset", "local", "--events", str(logs[i])]
        command += [f"--set={kv}" for kv in FAST] + ["--manager", "keep-majority"]
        command += [f"--manager-set={kv}" for kv in MANAGER]
        if i:
            command += ["--join", names[0]]
        out = open(outs[i], "wb")  # noqa: SIM115
        processes.append(
            subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
        )

    def printed(i: int, text: str) -> bool:
        return text in outs[i].read_text()

    wait_for(
        "each node's application sees the two others up",
        lambda: all(printed(i, f"view {names[j]} up") for i in range(3) for j in range(3) if i != j),
        60.0,
    )
    processes[2].send_signal(signal.SIGKILL)
    wait_for(
        "the survivors decide and down the killed node",
        lambda: all(printed(i, f"view {names[2]} down") for i in (0, 1)),
        60.0,
    )
    assert printed(0, "serving yes (up)")
    assert any(printed(i, "decision keep-majority down-unreachable") for i in (0, 1))
    kinds = {e["kind"] for e in events(logs[0])}
    assert {"state", "view", "serving"} <= kinds  # the manager's records go to --events too
    assert processes[0].poll() is None and processes[1].poll() is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--manager", "lease-majority"], "no lease service"),
        (["--manager-set", "settle_s=1"], "--manager-set needs --manager"),
        (
            ["--manager", "keep-majority", "--manager-set", "quorum_size=2"],
            "applies to strategy 'static-quorum'",
        ),
        (["--manager", "keep-everything"], "'strategy'"),
        (["--manager", "keep-majority", "--manager-set", "tick_s=0"], "'tick_s'"),
    ],
)
def test_bad_manager_arguments_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    ca = tmp_path / "ca"
    assert main(["ca", "init", str(ca)]) == 0 and main(["ca", "issue", str(ca), "n1"]) == 0
    args = ["node", "--listen", "127.0.0.1:1", "--ca", str(ca / "ca.crt"), "--cert", str(ca / "n1.crt")]
    assert main([*args, "--key", str(ca / "n1.key"), *extra]) == 2
    assert message in capsys.readouterr().err
