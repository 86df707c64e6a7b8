"""Essential programs (``essential = true``): when one ends for good, the daemon ends too.

A container whose main program died should stop, so that its orchestrator sees the failure
and acts (Supervisor #712 and its duplicates; there an event listener had to kill the daemon,
and the exit status was lost: #733). This follows the bus: an essential program that goes
FATAL, or exits when autorestart will not start it again (``false``, or ``unexpected`` and the
exit was expected), ends the daemon's life with that program's exit status: its exit code,
128 + the signal that killed it, 1 when it never ran (or went FATAL after exiting 0). The
daemon then stops everything in order, as for any shutdown. A program stopped on request is
not an end: an operator may stop it to look at something.
"""

from __future__ import annotations

from collections.abc import Callable

from vigil.config.model import AutoRestart, ProcessConfig
from vigil.core.bus import EventBus
from vigil.core.events import Event, ProcessStateChanged
from vigil.core.snapshot import ProcessSnapshot
from vigil.core.states import ProcessState

ConfigOf = Callable[[str, str], ProcessConfig | None]
SnapshotOf = Callable[[str, str], ProcessSnapshot | None]
SIGNAL_STATUS_BASE = 128  # a shell's (and Docker's) status of a process a signal ended
NEVER_RAN = 1


def exit_status_of(snapshot: ProcessSnapshot) -> int:
    """The status the daemon exits with for an essential program's end."""
    last = snapshot.last_exit
    if last is not None and last.signal is not None:
        return SIGNAL_STATUS_BASE + last.signal
    if snapshot.state is ProcessState.FATAL:
        return last.code if last is not None and last.code > 0 else NEVER_RAN
    return last.code if last is not None and last.code >= 0 else NEVER_RAN


def ends_for_good(config: ProcessConfig, event: ProcessStateChanged) -> bool:
    """Whether the daemon will not start the process again by itself after this change."""
    if event.new is ProcessState.FATAL:
        return True
    if event.new is not ProcessState.EXITED:
        return False
    if config.autorestart is AutoRestart.NEVER:
        return True
    return config.autorestart is AutoRestart.UNEXPECTED and event.expected


class EssentialPrograms:
    """Watches the essential programs and calls `end(status, reason)` at the first one's end."""

    def __init__(
        self,
        bus: EventBus,
        config_of: ConfigOf,
        snapshot_of: SnapshotOf,
        end: Callable[[int, str], None],
    ) -> None:
        self._config_of = config_of
        self._snapshot_of = snapshot_of
        self._end = end
        bus.subscribe("PROCESS_STATE_EXITED", self._changed)
        bus.subscribe("PROCESS_STATE_FATAL", self._changed)

    def _changed(self, event: Event) -> None:
        assert isinstance(event, ProcessStateChanged)
        config = self._config_of(event.group, event.process)
        if config is None or not config.essential or not ends_for_good(config, event):
            return
        snapshot = self._snapshot_of(event.group, event.process)
        if snapshot is None:
            return
        status = exit_status_of(snapshot)
        how = "is FATAL" if event.new is ProcessState.FATAL else "exited"
        self._end(status, f"essential program {event.process} {how}: exiting with status {status}")
