"""supervisorctl's exit statuses (LSB init-script conventions, as Supervisor 4 uses them)."""

from __future__ import annotations

from enum import IntEnum

from vigil.faults import Faults


class InitExit(IntEnum):
    """Exit statuses of actions other than ``status`` (LSB init script actions)."""

    SUCCESS = 0
    GENERIC = 1
    INVALID_ARGS = 2
    UNIMPLEMENTED_FEATURE = 3
    INSUFFICIENT_PRIVILEGES = 4
    NOT_INSTALLED = 5
    NOT_RUNNING = 7


class StatusExit(IntEnum):
    """Exit statuses of ``status`` (LSB status action)."""

    NOT_RUNNING = 3
    UNKNOWN = 4


# Results that mean the program is dead rather than that the request was wrong.
_DEAD_PROGRAM_FAULTS = frozenset(
    {Faults.SPAWN_ERROR, Faults.ABNORMAL_TERMINATION, Faults.NOT_RUNNING}
)


def status_for_fault(code: int, ignored: int | None = None) -> int | None:
    """The exit status a per-process result sets, or None when it leaves the status as it is
    (success, or the one fault an action does not count as a failure)."""
    if code in (ignored, Faults.SUCCESS):
        return None
    if code in _DEAD_PROGRAM_FAULTS:
        return InitExit.NOT_RUNNING
    return InitExit.GENERIC
