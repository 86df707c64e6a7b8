"""The per-process lifecycle: Supervisor's transition rules as a pure (state, input) table.

The machine never touches the OS. Each input returns the effects the runtime must carry out
(spawn, send a signal, log) and the state changes it made (which become events). The next
moment the machine needs to be woken is `deadline`, in the clock's monotonic time; the runtime
arms a loop timer for it, so nothing ever polls.

Where vigil departs from Supervisor 4.3 on purpose (docs/compatibility.md):
- no one-second granularity: startsecs, backoff delays and stopwaitsecs fire on time;
- BACKOFF -> FATAL happens as soon as the retries are spent, not on the next poll tick;
- durations use the monotonic clock, so no wall-clock rollback adjustment is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.clock import Clock
from vigil.config.model import AutoRestart, LogLevel, ProcessConfig
from vigil.core.snapshot import ExitReason
from vigil.core.states import ProcessState

S = ProcessState
SIGKILL = 9  # fixed by POSIX; the core does not import the signal module


@dataclass(frozen=True)
class Spawn:
    """Fork and exec the program now; answer with spawned() or spawn_failed()."""


@dataclass(frozen=True)
class Kill:
    """Send `signal` to the child, or to its whole process group when `group`."""

    signal: int
    group: bool


@dataclass(frozen=True)
class StateChange:
    """One transition, with what the PROCESS_STATE event of the new state reports."""

    old: ProcessState
    new: ProcessState
    pid: int
    tries: int
    expected: bool


@dataclass(frozen=True)
class Log:
    level: LogLevel
    message: str


Effect = Spawn | Kill | StateChange | Log


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

    ALL = (START, STOP, SPAWNED, SPAWN_FAILED, EXITED, DEADLINE, SIGNAL_FAILED, GIVE_UP)


class ProcessMachine:
    """The lifecycle of one configured process.

    `may_spawn` is the daemon's permission to start things on its own (autorestart, backoff
    retries); it is withdrawn while the daemon shuts down or restarts, as in Supervisor.
    """

    def __init__(self, config: ProcessConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.state = S.STOPPED
        self.pid = 0
        self.backoff = 0
        self.spawnerr: str | None = None
        self.exitstatus: int | None = None
        self.laststart = 0.0  # wall time of the last spawn, 0 if never started
        self.laststop = 0.0  # wall time of the last exit
        self.last_exit: ExitReason | None = None
        self.restarts = 0  # spawns on its own since the last requested start (ProcessSnapshot)
        self.deadline: float | None = None
        self.killing = False
        self.may_spawn = True
        self._started_at = 0.0  # monotonic time of the last spawn
        self._effects: list[Effect] = []

    @property
    def name(self) -> str:
        return self.config.name

    # -- inputs ---------------------------------------------------------------------------

    def start(self) -> list[Effect]:
        """A start request (RPC, autostart)."""
        if self._start():
            self.restarts = 0
        return self._flush()

    def spawned(self, pid: int) -> list[Effect]:
        """The child exists: it must now stay up for startsecs to count as RUNNING."""
        if self.state is S.STARTING and not self.pid:
            self.pid = pid
            self.spawnerr = None
            self._log(LogLevel.INFO, f"spawned: '{self.name}' with pid {pid}")
            self.deadline = self._started_at + self.config.startsecs
            if self.config.startsecs <= 0:
                self._enter_running()
        return self._flush()

    def spawn_failed(self, message: str) -> list[Effect]:
        """Spawning failed before a child existed (command not found, fork failed, ...)."""
        if self.state is S.STARTING and not self.pid:
            self.spawnerr = message
            self._log(LogLevel.INFO, f"spawnerr: {message}")
            # STARTING -> BACKOFF: the spawn itself failed
            self._enter_backoff()
            self._give_up_if_spent()
        return self._flush()

    def exited(self, code: int, how: str, signal: int | None = None) -> list[Effect]:
        """The reaper collected the child's exit status.

        `code` is the exit code, or -1 when a signal ended the child (`signal`, when known);
        `how` is the phrase the log uses ("exit status 1", "terminated by SIGTERM").
        """
        if not self.pid:
            return []
        self.laststop = self.clock.time()
        expected = code in self.config.exitcodes
        if self.killing:
            # STOPPING -> STOPPED: the end of a stop request
            self.last_exit = ExitReason(code, signal, expected=True)  # what was asked for
            self.killing = False
            self.deadline = None
            self.exitstatus = code
            self._change(S.STOPPED)
            self._log(LogLevel.INFO if expected else LogLevel.WARN, f"stopped: {self.name} ({how})")
            self.pid = 0
        elif self.state is S.STARTING and self._alive_for() < self.config.startsecs:
            # STARTING -> BACKOFF: exited before startsecs, whatever the exit code
            self.last_exit = ExitReason(code, signal, expected=False)
            self.exitstatus = None
            self.spawnerr = "Exited too quickly (process log may have details)"
            self._enter_backoff()
            self._log(LogLevel.WARN, f"exited: {self.name} ({how}; not expected)")
            self.pid = 0
            self._give_up_if_spent()
        else:
            self.last_exit = ExitReason(code, signal, expected)
            self._exit_from_running(code, how, expected)
        return self._flush()

    def stop(self) -> list[Effect]:
        """A stop request: the stop signal now, SIGKILL after stopwaitsecs."""
        if self.state is S.BACKOFF:
            # BACKOFF -> STOPPED: a stop must not wait out the remaining retries
            self.deadline = None
            self._change(S.STOPPED)
        elif self.state in (S.RUNNING, S.STARTING) and self.pid:
            self._send_kill(self.config.stopsignal, as_group=self.config.stopasgroup)
        return self._flush()

    def deadline_reached(self) -> list[Effect]:
        """The moment set in `deadline` has come (a late or early call is harmless)."""
        if self.deadline is None or self.clock.monotonic() < self.deadline:
            return []
        if self.state is S.STARTING and self.pid:
            self._enter_running()
        elif self.state is S.BACKOFF and self.may_spawn:
            # BACKOFF -> STARTING: the k-th retry, k seconds after the k-th failure
            self._start()
            self.restarts += 1
        elif self.state is S.STOPPING and self.pid:
            # STOPPING: stopwaitsecs passed, SIGKILL (and again every stopwaitsecs)
            self._log(LogLevel.WARN, f"killing '{self.name}' ({self.pid}) with SIGKILL")
            self._send_kill(SIGKILL, as_group=self.config.killasgroup)
        return self._flush()

    def give_up(self) -> list[Effect]:
        """The daemon is stopping: a process still retrying will not get another chance."""
        if self.state is S.BACKOFF:
            # BACKOFF -> FATAL: stopped while retrying, as Supervisor's shutdown does
            self.deadline = None
            self.backoff = 0
            self._change(S.FATAL)
        return self._flush()

    def signal_failed(self, message: str) -> list[Effect]:
        """Sending a signal failed for a reason other than the child being gone."""
        self._log(LogLevel.CRIT, message)
        # any -> UNKNOWN: we no longer know what the child is doing
        self.killing = False
        self.deadline = None
        self._change(S.UNKNOWN)
        return self._flush()

    # -- rules ----------------------------------------------------------------------------

    def _start(self) -> bool:
        if self.state not in (S.STOPPED, S.EXITED, S.FATAL, S.BACKOFF):
            return False
        self.killing = False
        self.spawnerr = None
        self.exitstatus = None
        self.laststart = self.clock.time()
        self._started_at = self.clock.monotonic()
        self.deadline = None
        self._change(S.STARTING)
        self._effects.append(Spawn())
        return True

    def _alive_for(self) -> float:
        return self.clock.monotonic() - self._started_at

    def _enter_running(self) -> None:
        # STARTING -> RUNNING: stayed up for startsecs
        self.deadline = None
        self.backoff = 0
        self._change(S.RUNNING)
        self._log(
            LogLevel.INFO,
            f"success: {self.name} entered RUNNING state, process has stayed up for > than "
            f"{self.config.startsecs} seconds (startsecs)",
        )

    def _enter_backoff(self) -> None:
        self.backoff += 1
        self.deadline = self.clock.monotonic() + self.backoff
        self._change(S.BACKOFF)

    def _give_up_if_spent(self) -> None:
        if self.backoff > self.config.startretries:
            # BACKOFF -> FATAL: too many start retries too quickly
            self.deadline = None
            self.backoff = 0
            self._change(S.FATAL)
            self._log(
                LogLevel.INFO,
                f"gave up: {self.name} entered FATAL state, too many start retries too quickly",
            )

    def _exit_from_running(self, code: int, how: str, expected: bool) -> None:
        self.deadline = None
        self.backoff = 0
        self.exitstatus = code
        if self.state is S.STARTING:
            # STARTING -> RUNNING first: it did stay up for startsecs
            self._enter_running()
        # RUNNING -> EXITED: the program ended on its own
        if expected:
            self._change(S.EXITED, expected=True)
            self._log(LogLevel.INFO, f"exited: {self.name} ({how}; expected)")
        else:
            self.spawnerr = f"Bad exit code {code}"
            self._change(S.EXITED, expected=False)
            self._log(LogLevel.WARN, f"exited: {self.name} ({how}; not expected)")
        self.pid = 0
        policy = self.config.autorestart
        if self.may_spawn and (
            policy is AutoRestart.ALWAYS or (policy is AutoRestart.UNEXPECTED and not expected)
        ):
            # EXITED -> STARTING: autorestart, immediately and without limit
            self._start()
            self.restarts += 1

    def _send_kill(self, sig: int, *, as_group: bool) -> None:
        # RUNNING/STARTING/STOPPING -> STOPPING
        self.killing = True
        self.deadline = self.clock.monotonic() + self.config.stopwaitsecs
        self._change(S.STOPPING)
        self._effects.append(Kill(int(sig), as_group))

    def _change(self, new: ProcessState, *, expected: bool = True) -> None:
        if new is self.state:
            return
        self._effects.append(StateChange(self.state, new, self.pid, self.backoff, expected))
        self.state = new

    def _log(self, level: LogLevel, message: str) -> None:
        self._effects.append(Log(level, message))

    def _flush(self) -> list[Effect]:
        effects, self._effects = self._effects, []
        return effects
