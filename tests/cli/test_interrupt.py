"""Ctrl-C while `tearline` is still loading its commands: one line and exit 130, never a traceback."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

# The console script the package installs (scripts/setup.sh), beside the interpreter running the tests.
SCRIPT = shutil.which("tearline", path=str(Path(sys.executable).parent))


def test_an_interrupt_while_the_commands_load_prints_no_traceback(tmp_path: Path) -> None:
    assert SCRIPT is not None, "install the package first: scripts/setup.sh dev"
    # -X importtime reports each module as its import ends: the signal is sent once SQLAlchemy's
    # engine has loaded, with the store, the web app and the TAXII client still to come.
    process = subprocess.Popen(
        [sys.executable, "-X", "importtime", SCRIPT, "user", "list", "--data", str(tmp_path / "none")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    for line in process.stderr:
        if line.rsplit("|", 1)[-1].strip() == "sqlalchemy.engine":
            process.send_signal(signal.SIGINT)
            break
    out, err = process.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert process.returncode == 130, (process.returncode, out, err[-2000:])
    assert "interrupted before the command started" in err
