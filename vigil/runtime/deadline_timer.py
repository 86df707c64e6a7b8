"""The one timer of a process's machine: its one deadline, armed on the event loop.

The machine says when its next decision is due (startsecs passed, a stop timeout, a retry);
the timer is moved only when that time moves, so an effect that leaves the deadline where it
was costs no call to the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class DeadlineTimer:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        monotonic: Callable[[], float],
        reached: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._monotonic = monotonic
        self._reached = reached
        self._handle: asyncio.TimerHandle | None = None
        self._at: float | None = None

    def arm(self, deadline: float | None) -> None:
        """Fire at `deadline` (monotonic seconds), or never for None."""
        if deadline == self._at and self._handle is not None:
            return
        self.cancel()
        if deadline is None:
            return
        self._at = deadline
        self._handle = self._loop.call_later(max(0.0, deadline - self._monotonic()), self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._at = None

    def _fire(self) -> None:
        self._handle = None
        self._at = None
        self._reached()
