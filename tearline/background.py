"""A node's background workers: a daemon thread that does a round of work when nudged, and at
least every `every` seconds, until stopped. The courier and the entity-resolution worker are two.

A round that fails is logged and the thread carries on: whatever the round left undone (a message
not delivered, an arrival still queued) is durable, and the next round takes it up.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class Worker:
    """Subclasses give `round()`; `start`, `nudge` and `stop` come from here."""

    def __init__(self, name: str, every: float, stop_wait: float) -> None:
        self.every = every
        self._stop_wait = stop_wait
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=self._stop_wait)

    def round(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.every)
            self._wake.clear()
            try:
                self.round()
            except Exception:  # the worker must outlive any one bad round; the next one retries
                log.exception("%s: a round failed", self._thread.name)
