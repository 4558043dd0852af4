"""Crash supervisor: fork writers that append to a node's audit log, SIGKILL them at random points.

Run as `python crash_supervisor.py DATA_DIR KILLS SEED`. Each round forks two writers that append
concurrently. One appends in transactions of its own (one entry per commit, small batches, now
and then a 300 KB entry, now and then a signed checkpoint). The other is a node serving reads:
several caller threads hand one entry at a time to its group committer (`Node.audit_group`),
so that entries of many callers share each commit. A writer reports an entry (index and leaf
hash) on its pipe only after the COMMIT returned: for group commit, only once the caller's
`append` returned. The supervisor kills both writers at random moments, reads what they
reported, and at the end prints one JSON object: every acknowledged entry, how many of them came
through group commit, every checkpoint size signed, and the number of kills. The test then
checks the database against it.

This process imports everything once and forks the writers, so a round costs milliseconds rather
than an interpreter start; it holds no database connection itself, so nothing is shared by a fork.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tearline.audit import leaf_hash, log
from tearline.audit.event import AuditEvent
from tearline.node import Node

GROUP_CALLERS = 8


def _event(rng: random.Random, writer: str, serial: int) -> AuditEvent:
    big = rng.random() < 0.03
    return AuditEvent(
        actor=f"{writer}@US-DEMO-NARC",
        action="report.read",
        objects=[f"report--{serial % 97:04d}"],
        marking="SECRET//REL TO USA, MEX",
        policy_version="equivalence-v1",
        rule=None,
        outcome="allowed",
        time=datetime.now(UTC),
        node="USA/US-DEMO-NARC",
        detail={"serial": serial, "pad": "p" * (300_000 if big else rng.randrange(0, 400))},
    )


def _write(out: int, data_dir: Path, writer: str, seed: int) -> None:
    """The writer: append forever, acknowledging each entry after its commit returned."""
    rng = random.Random(seed)
    node = Node.open(data_dir)
    signer = log.node_log_signer(node)
    serial = 0
    while True:
        events = [_event(rng, writer, serial + i) for i in range(rng.choice((1, 1, 1, 2, 5)))]
        serial += len(events)
        with node.db.write() as session:
            indexes = log.record_many(session, events, node.config.name)
        # Only now is the entry acknowledged: COMMIT has returned.
        lines = "".join(f"ack {i} {leaf_hash(e.canonical()).hex()}\n" for i, e in zip(indexes, events, strict=True))
        os.write(out, lines.encode())
        if rng.random() < 0.25:  # often enough that each run signs some before a kill, even on a loaded machine
            with node.db.write() as session:
                size = log.latest_checkpoint(session, signer).checkpoint.size
            os.write(out, f"checkpoint {size}\n".encode())


def _write_grouped(out: int, data_dir: Path, writer: str, seed: int) -> None:
    """Callers of the group committer: each acknowledges its entry only once `append` returned."""
    node = Node.open(data_dir)
    said = threading.Lock()

    def caller(c: int) -> None:
        rng = random.Random(seed + c)
        try:
            for serial in range(c, 1 << 62, GROUP_CALLERS):
                event = _event(rng, f"{writer}-{c}", serial)
                index = node.audit_group.append(event)
                # Only now is the entry acknowledged: its group's COMMIT has returned.
                with said:
                    os.write(out, f"gack {index} {leaf_hash(event.canonical()).hex()}\n".encode())
        except BaseException:
            traceback.print_exc()
            os._exit(3)  # a failed caller must show, not leave the others running

    callers = [threading.Thread(target=caller, args=(c,)) for c in range(GROUP_CALLERS)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join()


Writer = Callable[[int, Path, str, int], None]
WRITERS: tuple[Writer, ...] = (_write, _write_grouped)


def _spawn(write: Writer, data_dir: Path, writer: str, seed: int) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        try:
            write(write_end, data_dir, writer, seed)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(3)
    os.close(write_end)
    return pid, read_end


def _wait_for_point(rng: random.Random, read_end: int) -> str:
    """Sleep until a random point of the writer's run; returns what it reported meanwhile.

    One kill in five comes within 50 ms of the start (before or while connecting); the others come
    after the writer's first acknowledgement (however loaded the machine), at up to 200 ms more.
    """
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0.0, 0.05))
        return ""
    ready, _, _ = select.select([read_end], [], [], 30)
    seen = os.read(read_end, 65536).decode() if ready else ""
    time.sleep(rng.uniform(0.0, 0.2))
    return seen


def _drain(read_end: int) -> str:
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    return b"".join(chunks).decode()


def _collect(text: str, acked: dict[int, str], grouped: set[int], checkpoints: list[int]) -> None:
    # A line cut short by the kill was never fully acknowledged; only whole lines count.
    for line in text.split("\n")[:-1]:
        kind, *fields = line.split()
        if kind in ("ack", "gack"):
            index, hashed = int(fields[0]), fields[1]
            if acked.setdefault(index, hashed) != hashed:
                raise SystemExit(f"index {index} acknowledged twice with different entries")
            if kind == "gack":
                grouped.add(index)
        else:
            checkpoints.append(int(fields[0]))


def main(data_dir: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    acked: dict[int, str] = {}
    grouped: set[int] = set()
    checkpoints: list[int] = []
    killed = 0
    round_no = 0
    while killed < kills:
        seeds = [rng.randrange(1 << 30) for _ in WRITERS]
        writers = [_spawn(write, data_dir, f"writer{round_no}-{w}", seeds[w]) for w, write in enumerate(WRITERS)]
        for pid, read_end in writers:
            early = _wait_for_point(rng, read_end)
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
                raise SystemExit(f"writer {pid} ended on its own (status {status}) instead of being killed")
            killed += 1
            _collect(early + _drain(read_end), acked, grouped, checkpoints)
        round_no += 1
    json.dump({"kills": killed, "acked": acked, "grouped": len(grouped), "checkpoints": checkpoints}, sys.stdout)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
