"""The `tearline` console script: the command line, with an interrupt during start-up taken as one.

Loading the commands takes about a second and a half (SQLAlchemy, Alembic, the TAXII client). A
Ctrl-C in that time arrived before the command line could handle it, as a Python traceback.
"""

from __future__ import annotations

import sys


def main() -> None:  # pragma: no cover - console entry point (tests run the app in process)
    try:
        from tearline.cli.main import app
    except KeyboardInterrupt:
        print("interrupted before the command started; nothing was done", file=sys.stderr)
        sys.exit(130)
    app()
