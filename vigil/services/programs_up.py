"""Whether the programs that start by themselves are up: what a service manager's READY=1
and an orchestrator's readiness probe wait for.

A program is up when it is RUNNING (which, with ``ready =``, already means ready), or when it
is a oneshot whose run did its job. For a readiness probe a program with a health check must
be healthy too: a pod whose program answers but is unhealthy should get no traffic. Programs
with ``autostart = false`` are not waited for: nothing starts them by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from vigil.config.model import ProcessConfig
from vigil.core.bus import EventBus
from vigil.core.events import Event, ProcessStateChanged
from vigil.core.snapshot import ProcessSnapshot
from vigil.core.states import ProcessState

Program = tuple[ProcessConfig, ProcessSnapshot]


def namespec(config: ProcessConfig) -> str:
    return config.name if config.name == config.group else f"{config.group}:{config.name}"


def why_not_up(snapshot: ProcessSnapshot, *, health: bool) -> str | None:
    """None when the process is up; otherwise what it is instead (its state, or its health)."""
    if snapshot.state is ProcessState.EXITED and snapshot.completed:
        return None
    if snapshot.state is not ProcessState.RUNNING:
        return snapshot.state.name
    if health and snapshot.health is not None and snapshot.health != "healthy":
        return snapshot.health
    return None


def not_up(programs: Iterable[Program], *, health: bool) -> dict[str, str]:
    """Each autostart program that is not up, by namespec, with what it is instead."""
    found = {}
    for config, snapshot in programs:
        if config.autostart and (why := why_not_up(snapshot, health=health)) is not None:
            found[namespec(config)] = why
    return found


class AutostartUp:
    """Calls `up` once every autostart program is up, and `progress` each time the count of
    those up changes before that. It follows the bus: each state change re-examines only
    the process it names, so a start of many programs costs one look per change."""

    def __init__(
        self,
        bus: EventBus,
        programs: Callable[[], Iterable[Program]],
        snapshot_of: Callable[[str, str], Program | None],
        up: Callable[[int], None],
        progress: Callable[[int, int], None],
    ) -> None:
        self._bus = bus
        self._snapshot_of = snapshot_of
        self._up = up
        self._progress = progress
        listed = [(config, snapshot) for config, snapshot in programs() if config.autostart]
        self._total = len(listed)
        self._waiting = set(not_up(listed, health=False))
        self._done = False
        bus.subscribe("PROCESS_STATE", self._changed)
        self._settle()

    def close(self) -> None:
        if not self._done:
            self._done = True
            self._bus.unsubscribe("PROCESS_STATE", self._changed)

    def _changed(self, event: Event) -> None:
        assert isinstance(event, ProcessStateChanged)
        found = self._snapshot_of(event.group, event.process)
        name = event.process if event.group == event.process else f"{event.group}:{event.process}"
        if found is not None and not found[0].autostart:
            return
        before = len(self._waiting)
        if found is None or why_not_up(found[1], health=False) is None:  # up, or removed
            self._waiting.discard(name)
        else:
            self._waiting.add(name)
        if len(self._waiting) != before:
            self._settle()

    def _settle(self) -> None:
        if self._done:
            return
        if not self._waiting:
            self.close()
            self._up(self._total)
        else:
            self._progress(self._total - len(self._waiting), self._total)
