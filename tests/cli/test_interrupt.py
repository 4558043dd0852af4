"""Ctrl-C while `tearline` is still loading its commands: one line and exit 130, never a traceback."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

# The console script the package installs (scripts/setup.sh), beside the interpreter running the tests.
SCRIPT = shutil.which("tearline", path=str(Path(sys.executable).parent))


def test_an_interrupt_while_the_commands_load_prints_no_traceback(tmp_path: Path) -> None:
    assert SCRIPT is not None, "install the package first: scripts/setup.sh dev"
    # A fresh interpreter with no compiled modules cached for it would be slower still; loading
    # the commands takes more than a second, so a signal at 0.4 s arrives while they load.
    process = subprocess.Popen(
        [SCRIPT, "user", "list", "--data", str(tmp_path / "none")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(0.4)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert process.returncode == 130, (process.returncode, out, err)
    assert "interrupted before the command started" in err
