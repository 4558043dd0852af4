"""Crash supervisor for the release outbox: fork a writer that releases reports, SIGKILL it at random.

Run as `python outbox_crash_worker.py DATA_DIR KILLS SEED`. The node at DATA_DIR holds the demo.
Each round forks one writer that loops: ana requests the release of the convoy report to Mexico,
dan approves, dora approves (the second approval writes the release, its grants, its audit entry
and its outbox message in one transaction). The writer prints `ack <release id> <seconds>` only
after that transaction committed (with the time it took), and `step <request id>` after each
first approval. The supervisor kills the writer at a random moment, then starts the next one:
- one kill in five within 50 ms of the fork (before or while it connects);
- two in five after a first approval committed, within as long as the last disseminating
  transaction took, so mostly inside the next one;
- the others at up to 400 ms after the writer's first acknowledgement.
At the end it prints one JSON object: the acknowledged release ids and the number of kills.

This process imports everything once and forks, so a round costs an open and not an interpreter
start; it holds no database connection itself, so nothing is shared by a fork.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from tearline import clock
from tearline.db.models import Principal
from tearline.markings.release import Recipient
from tearline.node import Node
from tearline.release import workflow

CONVOY = "report--6f1c0a52-1e0b-4c43-9c0e-3d5a2b7e9a01"
DETERMINATION = "Sharing does not threaten national security: no sources or methods leave."


def _principal(session: Session, username: str) -> Principal:
    found = session.scalar(sql_select(Principal).where(Principal.username == username))
    assert found is not None
    return found


def _write(out: int, data_dir: Path, seed: int) -> None:
    """The writer: release forever, acknowledging each release after its transaction committed."""
    rng = random.Random(seed)
    node = Node.open(data_dir)
    while True:
        req = workflow.RequestIn(
            CONVOY,
            Recipient("MEX", "MX-DEMO-FIA"),
            "Interdiction at Jiménez",
            "FIA analysts on the Highway 49 corridor",
            clock.now() + timedelta(days=rng.randrange(1, 60)),
        )
        with node.db.write() as session:
            request_id = workflow.request_release(session, node, _principal(session, "ana.analyst"), req).id
        with node.db.write() as session:
            workflow.approve(session, node, _principal(session, "dan.disclosure"), request_id, DETERMINATION)
        os.write(out, f"step {request_id}\n".encode())  # the next transaction disseminates
        started = time.monotonic()
        with node.db.write() as session:
            release = workflow.approve(session, node, _principal(session, "dora.disclosure"), request_id, DETERMINATION)
            assert release is not None
            release_id = release.id
        # Only now is the release acknowledged: COMMIT has returned.
        os.write(out, f"ack {release_id} {time.monotonic() - started:.4f}\n".encode())


def _spawn(data_dir: Path, seed: int) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        try:
            _write(write_end, data_dir, seed)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(3)
    os.close(write_end)
    return pid, read_end


def _read_until(read_end: int, done: Callable[[str], bool], seen: str) -> str:
    deadline = time.monotonic() + 30
    while not done(seen) and time.monotonic() < deadline:
        ready, _, _ = select.select([read_end], [], [], 1)
        if ready:
            seen += os.read(read_end, 65536).decode()
    return seen


def _wait_for_point(rng: random.Random, read_end: int) -> str:
    """Sleep until a random point of the writer's run; returns what it reported meanwhile."""
    point = rng.random()
    if point < 0.2:  # before or while it connects
        time.sleep(rng.uniform(0.0, 0.05))
        return ""
    seen = _read_until(read_end, lambda text: "ack " in text, "")
    if point < 0.6:  # aim at the disseminating transaction: just after the next first approval
        steps = seen.count("step ")
        took = [float(line.split()[2]) for line in seen.split("\n") if line.startswith("ack ")][-1]
        seen = _read_until(read_end, lambda text: text.count("step ") > steps, seen)
        time.sleep(rng.uniform(0.0, took))
    else:  # anywhere after the first release
        time.sleep(rng.uniform(0.0, 0.4))
    return seen


def _drain(read_end: int) -> str:
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    return b"".join(chunks).decode()


def main(data_dir: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    acked: list[str] = []
    killed = 0
    while killed < kills:
        pid, read_end = _spawn(data_dir, rng.randrange(1 << 30))
        early = _wait_for_point(rng, read_end)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
            raise SystemExit(f"writer {pid} ended on its own (status {status}) instead of being killed")
        killed += 1
        # A line cut short by the kill was never fully acknowledged; only whole lines count.
        for line in (early + _drain(read_end)).split("\n")[:-1]:
            kind, value, *_ = line.split()
            if kind == "ack":
                acked.append(value)
    json.dump({"kills": killed, "acked": acked}, sys.stdout)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
