"""Finding out that a program that has just been spawned is ready, and saying so once.

A socket, HTTP or command probe is tried again and again (after 0.1 s, then twice as long
each time, at most a second apart) until it passes; the machine's ready_timeout ends the
attempts by leaving STARTING. ``log:`` does not poll at all: it follows the program's output
as the pipe reader hands it out, and searches each chunk's complete lines (with the regular
expression engine: no per-byte Python work), only for the programs that ask for it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from vigil.config.model import ProbeKind
from vigil.config.probes import Probe
from vigil.core.ports import ChannelLog
from vigil.runtime.probes import ProbeTarget, run_probe

FIRST_RETRY = 0.1
LONGEST_RETRY = 1.0
ATTEMPT_TIMEOUT = 5.0
LINE_LIMIT = 64 * 1024  # a partial line kept for the next chunk; longer ones are cut


class ReadinessWatch:
    """Watches one child until it is ready (`on_ready`, once) or `cancel` is called."""

    def __init__(
        self,
        probe: Probe,
        target: Callable[[], ProbeTarget],
        logs: tuple[ChannelLog, ...],
        on_ready: Callable[[], None],
    ) -> None:
        self._probe = probe
        self._target = target
        self._logs = logs
        self._on_ready = on_ready
        self._task: asyncio.Task[None] | None = None
        self._unfollow: list[Callable[[], None]] = []
        self.last_output = ""

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._probe.kind is ProbeKind.LOG:
            matcher = LineMatcher(self._probe.pattern, self._matched)
            self._unfollow = [log.follow(matcher) for log in self._logs]
        elif self._probe.kind is not ProbeKind.NOTIFY:
            self._task = loop.create_task(self._attempts())

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for stop in self._unfollow:
            stop()
        self._unfollow = []

    def _matched(self) -> None:
        self.cancel()
        self._on_ready()

    async def _attempts(self) -> None:
        delay = FIRST_RETRY
        while True:
            result = await run_probe(self._probe, self._target(), ATTEMPT_TIMEOUT)
            self.last_output = result.output
            if result.passed:
                self._task = None
                self._on_ready()
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, LONGEST_RETRY)


class LineMatcher:
    """A log follower that calls `on_match` once a complete line matches `pattern`."""

    def __init__(self, pattern: str, on_match: Callable[[], None]) -> None:
        self._pattern = re.compile(pattern.encode(), re.MULTILINE)
        self._on_match = on_match
        self._partial = b""
        self._done = False

    def written(self, data: bytes) -> None:
        if self._done:
            return
        end = data.rfind(b"\n")
        if end < 0:
            self._partial = (self._partial + data)[:LINE_LIMIT]
            return
        lines = self._partial + data[:end]
        self._partial = data[end + 1 :][:LINE_LIMIT]
        if self._pattern.search(lines) is not None:
            self._done = True
            self._on_match()

    def truncated(self) -> None:
        self._partial = b""

    def ended(self) -> None:
        self._done = True
