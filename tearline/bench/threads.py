"""Timing work spread over threads, from the moment every thread is ready."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def timed_threads(work: Callable[[int], None], threads: int) -> float:
    """Seconds from the moment `threads` threads running `work(t)` are all started until the last is done."""
    started = threading.Barrier(threads + 1)

    def ready_then_work(t: int) -> None:
        started.wait()
        work(t)

    running = [threading.Thread(target=ready_then_work, args=(t,)) for t in range(threads)]
    for thread in running:
        thread.start()
    started.wait()
    began = time.perf_counter()
    for thread in running:
        thread.join()
    return time.perf_counter() - began
