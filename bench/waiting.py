"""Waiting for a condition with a deadline, the only way the benchmark waits.

A measurement that can hang would make the whole run worthless, so every wait is bounded and
says what it was waiting for when it gives up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class BenchError(Exception):
    """A measurement could not be taken; the message says which and why."""


def wait_for(
    condition: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.01,
) -> T:
    """Call `condition` until it returns something other than None or False.

    The interval is the pause between attempts, so the cost of the condition itself (an RPC
    round trip, say) does not eat into the time the daemon has to itself.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
