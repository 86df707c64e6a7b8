"""THE single owner of exit statuses.

SIGCHLD wakes the loop; one waitpid(-1, WNOHANG) loop collects every status, for our children
and for orphaned grandchildren re-parented to us (the daemon is a subreaper), and hands each to
whoever registered the pid. Nothing else in vigil may wait on a child.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
from collections.abc import Callable

from vigil.config.model import LogLevel
from vigil.core.ports import MainLog
from vigil.runtime.waitstatus import describe_wait_status

PR_SET_CHILD_SUBREAPER = 36

ExitCallback = Callable[[int], None]


def become_subreaper() -> bool:
    """Ask Linux to re-parent our orphaned descendants to us, so none lingers as a zombie."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)  # our own symbols: no ldconfig run to find libc
    return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def quiet_signal_wakeups() -> None:
    """Call after the last ``add_signal_handler`` (each one resets it).

    Thousands of children ending at once (a stop of everything) send as many SIGCHLDs, and
    each writes a byte to asyncio's wake-up socket; once it is full Python prints a traceback
    to stderr for every signal it could not note there. One byte wakes the loop, and the
    reaper collects every exit at that wake-up, so a full socket loses nothing: say nothing.
    """
    fd = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(fd, warn_on_full_buffer=False)


class Reaper:
    def __init__(self, loop: asyncio.AbstractEventLoop, log: MainLog) -> None:
        self._loop = loop
        self._log = log
        self._watched: dict[int, ExitCallback] = {}
        self._installed = False

    def install(self) -> None:
        self._loop.add_signal_handler(signal.SIGCHLD, self._on_sigchld)
        self._installed = True
        self.reap()  # anything that exited before the handler existed

    def uninstall(self) -> None:
        if self._installed:
            self._loop.remove_signal_handler(signal.SIGCHLD)
            self._installed = False

    def watch(self, pid: int, on_exit: ExitCallback) -> None:
        """Call `on_exit(wait_status)` once `pid` has been reaped."""
        self._watched[pid] = on_exit

    @property
    def watched(self) -> int:
        return len(self._watched)

    def _on_sigchld(self) -> None:
        # Supervisor's debug line, once per wake-up (not per child): its own end-to-end
        # tests wait for it, and below DEBUG it costs one level comparison.
        self._log.log(LogLevel.DEBG, "received SIGCHLD indicating a child quit")
        self.reap()

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            callback = self._watched.pop(pid, None)
            if callback is None:
                _, how = describe_wait_status(status)
                self._log.log(LogLevel.INFO, f"reaped unknown pid {pid} ({how})")
            else:
                callback(status)
