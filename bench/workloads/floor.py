"""The floor: what starting the sleepers costs a plain Python loop of subprocess.Popen.

The least any supervisor written in Python could need to start the same programs; the start
workload and bench.scale both set the daemons' start-up beside it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

from bench.workloads.base import SLEEP


def spawn_loop(count: int) -> float:
    """Popen the same sleepers one after another until every one exists; seconds taken.

    The sleepers are ended (SIGKILL, by the pid of each Popen) and reaped before returning,
    and on the way out of an interrupted loop as well.
    """
    children: list[subprocess.Popen[bytes]] = []
    try:
        started = time.perf_counter()
        for _ in range(count):
            children.append(
                subprocess.Popen(
                    [SLEEP, "1000"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for child in children:
            os.kill(child.pid, 0)  # Popen returns after exec; this only confirms it
        return time.perf_counter() - started
    finally:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGKILL)
        for child in children:
            child.wait()
