"""What the process machine answers with (effects) and the names of what it is told (inputs).

Effects are plain values the runtime carries out; they hold no behaviour, so the machine, its
tests and the runtime share them without depending on one another.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config.model import LogLevel
from vigil.core.states import ProcessState


@dataclass(frozen=True)
class Spawn:
    """Fork and exec the program now; answer with spawned() or spawn_failed()."""


@dataclass(frozen=True)
class CancelSpawn:
    """The spawn asked for has not happened yet (its pre_start hook still runs): drop it, and
    end the hook with its process group."""


@dataclass(frozen=True)
class Kill:
    """Send `signal` to the child, or to its whole process group when `group`."""

    signal: int
    group: bool


@dataclass(frozen=True)
class StateChange:
    """One transition, with what the PROCESS_STATE event of the new state reports, and when
    (monotonic) the daemon will next start the process on its own: BACKOFF's retry, FATAL's
    fatal_retry; None when it will not."""

    old: ProcessState
    new: ProcessState
    pid: int
    tries: int
    expected: bool
    next_attempt: float | None = None


@dataclass(frozen=True)
class Log:
    level: LogLevel
    message: str


Effect = Spawn | CancelSpawn | Kill | StateChange | Log


class Input:
    """Names of the inputs, for the exhaustive (state, input) table tests."""

    START = "start"
    STOP = "stop"
    SPAWNED = "spawned"
    SPAWN_FAILED = "spawn_failed"
    EXITED = "exited"
    DEADLINE = "deadline"
    SIGNAL_FAILED = "signal_failed"
    GIVE_UP = "give_up"
    READY = "ready"
    EXTEND = "extend"
    WATCHDOG = "watchdog"
    RESTART = "restart"
    BLOCKED = "blocked"
    RECONFIGURE = "reconfigure"

    ALL = (
        START,
        STOP,
        SPAWNED,
        SPAWN_FAILED,
        EXITED,
        DEADLINE,
        SIGNAL_FAILED,
        GIVE_UP,
        READY,
        EXTEND,
        WATCHDOG,
        RESTART,
        BLOCKED,
        RECONFIGURE,
    )
