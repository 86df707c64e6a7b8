"""The last state changes of each process, with why they happened: "why did it restart"
answered without reading logs.

A consumer of the bus: each PROCESS_STATE event is kept with what the process's snapshot
says at that moment (the exit that ended a child, the spawn error that put it in BACKOFF or
FATAL), in a ring of ``LIMIT`` entries per process, so memory stays bounded however often a
program flaps. A removed group's history goes with it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigil.core.bus import EventBus
from vigil.core.events import Event, ProcessGroupChanged, ProcessStateChanged
from vigil.core.snapshot import ExitReason, ProcessSnapshot
from vigil.core.states import ProcessState
from vigil.runtime.waitstatus import signal_name

LIMIT = 20
SnapshotOf = Callable[[str, str], ProcessSnapshot | None]

_ENDED_BY_EXIT = frozenset({ProcessState.EXITED, ProcessState.BACKOFF, ProcessState.STOPPED})
_HAD_CHILD = frozenset({ProcessState.STARTING, ProcessState.RUNNING, ProcessState.STOPPING})
_FAILED = frozenset({ProcessState.BACKOFF, ProcessState.FATAL})


@dataclass(frozen=True, slots=True)
class Change:
    at: float  # wall time
    old: ProcessState
    new: ProcessState
    pid: int  # the child's, 0 when there was none
    exit: ExitReason | None  # the exit that caused the change, when one did
    spawn_error: str | None  # why the start failed (BACKOFF, FATAL)

    def document(self) -> dict[str, Any]:
        exit_ = self.exit
        return {
            "at": self.at,
            "from": self.old.name,
            "to": self.new.name,
            "pid": self.pid or None,
            "exit": None
            if exit_ is None
            else {"code": exit_.code, "signal": exit_.signal, "expected": exit_.expected},
            "spawn_error": self.spawn_error,
            "reason": self.reason,
        }

    @property
    def reason(self) -> str | None:
        """The change's cause in words, as a status line would say it."""
        parts = []
        if self.exit is not None:
            how = (
                f"exit status {self.exit.code}"
                if self.exit.signal is None
                else f"terminated by {signal_name(self.exit.signal)}"
            )
            parts.append(f"{how} ({'expected' if self.exit.expected else 'not expected'})")
        if self.spawn_error is not None:
            parts.append(self.spawn_error)
        return "; ".join(parts) or None


class ProcessHistory:
    def __init__(self, bus: EventBus, snapshot_of: SnapshotOf, limit: int = LIMIT) -> None:
        self._snapshot_of = snapshot_of
        self._limit = limit
        self._changes: dict[tuple[str, str], deque[Change]] = {}
        bus.subscribe("PROCESS_STATE", self._record)
        bus.subscribe("PROCESS_GROUP_REMOVED", self._forget)

    def of(self, group: str, name: str) -> list[Change]:
        """Oldest first."""
        return list(self._changes.get((group, name), ()))

    def _record(self, event: Event) -> None:
        if not isinstance(event, ProcessStateChanged):
            return
        snapshot = self._snapshot_of(event.group, event.process)
        exit_ = spawn_error = None
        if snapshot is not None:
            if event.pid and event.new in _ENDED_BY_EXIT and event.old in _HAD_CHILD:
                exit_ = snapshot.last_exit
            if event.new in _FAILED:
                spawn_error = snapshot.spawn_error
        change = Change(event.at, event.old, event.new, event.pid, exit_, spawn_error)
        key = (event.group, event.process)
        ring = self._changes.get(key)
        if ring is None:
            ring = self._changes[key] = deque(maxlen=self._limit)
        ring.append(change)

    def _forget(self, event: Event) -> None:
        if isinstance(event, ProcessGroupChanged):
            for key in [key for key in self._changes if key[0] == event.group]:
                del self._changes[key]
