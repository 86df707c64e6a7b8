"""A real runtime (loop, reaper, bus) for tests that run real children."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from collections.abc import AsyncIterator, Callable

import pytest

from vigil.clock import Clock, SystemClock
from vigil.config.model import LogLevel, ProcessConfig
from vigil.core.bus import EventBus
from vigil.core.events import Event
from vigil.core.states import ProcessState
from vigil.runtime.process import ProcessContext, ProcessRunner
from vigil.runtime.reaper import Reaper, become_subreaper
from vigil.runtime.spawn import close_on_exec_inherited

PY = sys.executable


class MemorySink:
    """A ChannelLog that keeps the output in memory; `path` and `error` are what it reports."""

    def __init__(self, path: str | None = None) -> None:
        self.data = bytearray()
        self.closed = False
        self.path = path
        self.error: str | None = None

    def write(self, data: bytes) -> None:
        self.data += data

    def reopen(self) -> None:
        pass

    def clear(self) -> None:
        self.data.clear()

    def set_rotation(self, maxbytes: int, backups: int) -> None:
        self.rotation = (maxbytes, backups)

    def close(self) -> None:
        self.closed = True


class MemoryLog:
    def __init__(self) -> None:
        self.lines: list[tuple[LogLevel, str]] = []

    def log(self, level: LogLevel, message: str) -> None:
        self.lines.append((level, message))

    def messages(self) -> list[str]:
        return [m for _, m in self.lines]


class Harness:
    def __init__(self, clock: Clock | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.log = MemoryLog()
        self.bus = EventBus()
        self.events: list[Event] = []
        self.bus.subscribe("EVENT", self.events.append)
        self.reaper = Reaper(self.loop, self.log)
        self.reaper.install()
        self.context = ProcessContext(
            self.loop, clock or SystemClock(), self.reaper, self.bus, self.log, os.environ, None
        )
        self.runners: list[ProcessRunner] = []

    def runner(
        self, command: str, **options: object
    ) -> tuple[ProcessRunner, MemorySink, MemorySink]:
        config = dataclasses.replace(
            ProcessConfig(name="p", group="p", command=command),
            **options,  # type: ignore[arg-type]
        )
        out, err = MemorySink("/logs/p-stdout.log"), MemorySink("/logs/p-stderr.log")
        runner = ProcessRunner(config, self.context, out, err)
        self.runners.append(runner)
        return runner, out, err

    async def reach(
        self, runner: ProcessRunner, *states: ProcessState, timeout: float = 15
    ) -> None:
        await asyncio.wait_for(runner.wait_for(lambda s: s in states), timeout)

    async def until(self, condition: Callable[[], bool], timeout: float = 15) -> None:
        """Wait for a condition that no state change announces (e.g. a file appearing)."""
        deadline = self.loop.time() + timeout
        while not condition():
            assert self.loop.time() < deadline, "condition not met in time"
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        for runner in self.runners:
            if runner.pid:
                runner.stop()
        for runner in self.runners:
            if runner.pid:
                await self.reach(runner, ProcessState.STOPPED, ProcessState.EXITED)
            runner.close()
        self.reaper.uninstall()


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    try:
        yield h
    finally:
        await h.close()


@pytest.fixture(scope="session", autouse=True)
def daemon_like_process() -> None:
    become_subreaper()
    close_on_exec_inherited()
