"""Running the real `tearline` executable: one-shot commands and servers on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

TEARLINE = str(Path(sys.executable).parent / "tearline")
START_LIMIT = 60.0  # seconds a server may take to answer before the test gives up on it


def cli_env() -> dict[str, str]:
    """The test's environment without a database override: each node's own URL decides."""
    env = {k: v for k, v in os.environ.items() if k not in ("TEARLINE_DATABASE_URL", "TEARLINE_DATA")}
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    return env


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `tearline ARGS…` to completion and capture what it printed."""
    return subprocess.run(
        [TEARLINE, *map(str, args)], capture_output=True, text=True, env=cli_env(), cwd=cwd, timeout=120, check=False
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text(encoding="utf-8", errors="replace")

    def errors(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")


@contextmanager
def serving(args: list[str], port: int, logs: Path) -> Iterator[Server]:
    """Start `tearline ARGS…` (a command that serves on `port`), wait until it answers, stop it after."""
    logs.mkdir(parents=True, exist_ok=True)
    stdout, stderr = logs / "stdout.txt", logs / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen([TEARLINE, *args], stdout=out, stderr=err, env=cli_env())
    server = Server(f"http://127.0.0.1:{port}", process, stdout, stderr)
    try:
        _wait_until_up(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + START_LIMIT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited {server.process.returncode}:\n{server.output()}\n{server.errors()}")
        try:
            if httpx.get(f"{server.url}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server did not answer within {START_LIMIT} s:\n{server.output()}\n{server.errors()}")
