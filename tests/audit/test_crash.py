"""Kill -9 the writers at random points, at least 30 times: no acknowledged entry may be lost.

A supervisor process (crash_supervisor.py) forks writers and SIGKILLs them: one appending in
transactions of its own, one serving reads whose callers share group commits. A writer
acknowledges an entry only after its COMMIT returned (for group commit, once its caller's
`append` returned). Afterwards every acknowledged entry must be in the log with
the bytes it was acknowledged with, the whole log must recompute to every checkpoint signed during
the run, an earlier checkpoint must be consistent with one signed now from the recovered state,
and the log must go on appending.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tearline.audit import log, open_checkpoint, verify_consistency
from tearline.node import Node
from tests.audit.support import checkpoint, event

SUPERVISOR = Path(__file__).with_name("crash_supervisor.py")
KILLS = 32
ORIGIN = "tearline.usa.us-demo-narc/log"


def test_no_acknowledged_entry_is_lost_when_writers_are_killed(node: Node) -> None:
    run = subprocess.run(
        [sys.executable, str(SUPERVISOR), str(node.data_dir), str(KILLS), "20261123"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    outcome = json.loads(run.stdout)
    acked = {int(index): hashed for index, hashed in outcome["acked"].items()}
    assert outcome["kills"] >= 30
    assert len(acked) > 100, "the writers were killed before they could write much: the test proves little"
    assert outcome["grouped"] > 50, "group commit acknowledged too little for the test to prove anything of it"

    with node.db.read() as session:
        size = log.log_size(session)
        stored = {leaf.index: leaf.hash.hex() for leaf in log.read_leaves(session, 0, size)}
        report = log.verify_log(session, log.verifier_key(node))
    lost = sorted(index for index, hashed in acked.items() if stored.get(index) != hashed)
    assert lost == [], f"acknowledged entries lost or changed: {lost[:20]}"
    assert report.size == size >= max(acked) + 1
    with node.db.read() as session:
        signed_sizes = {c.checkpoint.size for c in log.checkpoints(session, ORIGIN)}
    # Every acknowledged checkpoint is kept (a writer may have been killed after a commit, before saying so).
    assert set(outcome["checkpoints"]) <= signed_sizes
    assert report.checkpoints == len(signed_sizes)

    # A checkpoint signed from the recovered state has the recomputed root, and extends one signed before.
    recovered = checkpoint(node).checkpoint
    assert (recovered.size, recovered.root_hash) == (report.size, report.root)
    with node.db.read() as session:
        signed_during_run = [c for c in log.checkpoints(session, ORIGIN) if 0 < c.checkpoint.size < recovered.size]
        assert signed_during_run, "no checkpoint was signed during the run"
        earlier, _ = open_checkpoint(signed_during_run[0].note, [log.verifier_key(node)], ORIGIN)
        proof = log.prove_consistency(session, earlier.size, recovered.size)
    assert verify_consistency(earlier.size, recovered.size, earlier.root_hash, recovered.root_hash, proof)

    with node.db.write() as session:
        assert log.record(session, event(0), node.config.name) == size
