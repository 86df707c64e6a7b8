"""The read model: one immutable record of a process, what every interface shows of it.

Interfaces (XML-RPC and the web page through it, /logtail; the JSON API, streams and metrics
to come) read a ProcessSnapshot instead of reaching into runners, machines or log sinks, so
what they show is taken at one moment and cannot change under them. The record holds plain
values (floats, None for "never" or "none"); shaping them for a wire (Supervisor's 32-bit
integers, empty strings for None) belongs to that wire's namespace, not here.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

from vigil.core.events import Channel
from vigil.core.states import ProcessState

_INT32_MAX = 2**31 - 1
_NOT_STARTED = frozenset({ProcessState.STOPPED, ProcessState.EXITED})


@dataclass(frozen=True, slots=True)
class ExitReason:
    """How the last child ended and whether the daemon took it for a normal end.

    `expected` is True when the exit answered a stop request, or when the code is one of the
    program's exitcodes and the child had stayed up for startsecs. An exit before startsecs
    is never expected (it is what BACKOFF counts), whatever its code.
    """

    code: int  # the exit code; -1 when a signal ended the child (Supervisor's exitstatus)
    signal: int | None  # the signal that ended the child, None when it exited by itself
    expected: bool


@dataclass(frozen=True, slots=True)
class ProcessSnapshot:
    """One process as it was at `taken_at` (wall time), built by ProcessRunner.snapshot().

    Times are wall-clock seconds as Supervisor reports them, 0.0 for "never". `restarts`
    counts the spawns the daemon made on its own (autorestart after an exit, a retry out of
    BACKOFF) since the last start that was asked for (an RPC, autostart): 0 after a start
    that held, 3 for a program that crashed and was started again three times. `exit_status`
    is Supervisor's: the last exit's code, cleared by the next start and by an exit too quick
    to count; `last_exit` keeps the last exit whatever came after it.
    """

    name: str
    group: str
    state: ProcessState
    pid: int  # 0 when there is no child
    started_at: float  # the last start (spawn attempt)
    stopped_at: float  # the last exit of a child
    taken_at: float  # when this record was made: the "now" of uptimes
    exit_status: int | None
    spawn_error: str | None  # why the last start failed, as Supervisor words it
    restarts: int
    last_exit: ExitReason | None  # None until a child has exited
    stdout_logfile: str | None  # None: the channel has no log file
    stderr_logfile: str | None
    stdout_log_error: str | None  # what keeps output from the log file now, None when nothing
    stderr_log_error: str | None
    # vigil's restart policy (issue 15): when (wall time) the daemon will next start the
    # process on its own, None when it will not; why, when the policy is not Supervisor's
    # (only then does the description say it, so Supervisor's texts stay as they were);
    # whether a oneshot's last run did its job.
    next_attempt_at: float | None = None
    wait_reason: str | None = None
    completed: bool = False
    # readiness, dependencies and health (issue 14): what a process that is not started yet
    # waits for ("db (ready)"); what it said on its NOTIFY_SOCKET (STATUS=, RELOADING=1);
    # its health ("starting", "healthy", "unhealthy", None without a healthcheck) and the
    # last check's output. The description says them after Supervisor's text.
    waiting_for: str | None = None
    notify_status: str | None = None
    reloading: bool = False
    notify_stopping: bool = False  # STOPPING=1: the program said it is shutting down
    health: str | None = None
    health_output: str | None = None
    # hooks (issue 15): the one running now, "pre_start" or "post_stop", None when none
    hook: str | None = None

    def logfile(self, channel: Channel) -> str | None:
        return self.stdout_logfile if channel == "stdout" else self.stderr_logfile

    @property
    def description(self) -> str:
        """The text Supervisor's getProcessInfo puts beside the state, followed by what keeps
        output from a log (a full disk, a removed directory), so the status a user looks at
        says it, not only the main log."""
        if self.waiting_for is not None and self.state in _NOT_STARTED:
            text = f"waiting for {self.waiting_for}"  # in place of "Not started" or a time
        else:
            text = self._supervisor_description() + self._vigil_description()
        if self.stdout_log_error is not None:
            text += f" (stdout log: {self.stdout_log_error})"
        if self.stderr_log_error is not None:
            text += f" (stderr log: {self.stderr_log_error})"
        return text

    def _vigil_description(self) -> str:
        """What vigil's opt-in features add; empty without them, so Supervisor's text stays."""
        parts: list[str] = []
        if self.waiting_for is not None and self.state is ProcessState.FATAL:
            parts.append(f"waiting for {self.waiting_for}")
        if self.health is not None and self.state is ProcessState.RUNNING:
            health = f"health: {self.health}"
            if self.health == "unhealthy" and self.health_output:
                health += f" ({self.health_output.splitlines()[0][:120]})"
            parts.append(health)
        if self.reloading:
            parts.append("reloading")
        if self.notify_stopping and self.pid:
            parts.append("stopping (STOPPING=1)")
        if self.notify_status is not None and self.pid:
            parts.append(f"status: {self.notify_status}")
        if self.hook is not None:
            parts.append(f"{self.hook} running")
        if not parts:
            return ""
        # Supervisor leaves STARTING and STOPPING blank: vigil's text stands alone there
        return ("; " if self._supervisor_description() else "") + "; ".join(parts)

    def _supervisor_description(self) -> str:
        # Supervisor derives the text from the times as getProcessInfo reports them (whole
        # seconds in 32 bits), so the text follows those, not the exact times.
        state = self.state
        if state is ProcessState.RUNNING:
            # the difference of the two times is what Supervisor's difference of UTC dates is
            uptime = max(_reported(self.taken_at) - _reported(self.started_at), 0)
            return f"pid {self.pid}, uptime {datetime.timedelta(0, uptime)}"
        if state is ProcessState.FATAL or state is ProcessState.BACKOFF:
            text = self.spawn_error or f'unknown error (try "tail {self.name}")'
            if self.wait_reason is not None and self.next_attempt_at is not None:
                text += f"; next try at {_local_second(self.next_attempt_at)} ({self.wait_reason})"
            return text
        if state is ProcessState.STOPPED or state is ProcessState.EXITED:
            if not _reported(self.started_at):
                return "Not started"
            if self.completed and state is ProcessState.EXITED:
                return "completed at " + _local_minute(_reported(self.stopped_at))
            return _local_minute(_reported(self.stopped_at))
        return ""


def _reported(seconds: float) -> int:
    whole = int(seconds)
    if -_INT32_MAX - 1 <= whole <= _INT32_MAX:
        return whole
    return _INT32_MAX if whole > 0 else -_INT32_MAX - 1


@functools.lru_cache(maxsize=4096)
def _local_minute(seconds: int) -> str:
    # Remembered: a stopped process shows the same text at every status call, and formatting
    # it costs more than the rest of its getProcessInfo. The local zone is the daemon's for
    # its whole life (nothing calls time.tzset), so a remembered text never goes stale.
    return datetime.datetime.fromtimestamp(seconds).strftime("%b %d %I:%M %p")


def _local_second(seconds: float) -> str:
    # to the second: a retry a few seconds away must not read as "now"
    return datetime.datetime.fromtimestamp(seconds).strftime("%b %d %H:%M:%S")
