"""The per-process lifecycle: Supervisor's transition rules as a pure (state, input) table.

The machine never touches the OS. Each input returns the effects the runtime must carry out
(spawn, send a signal, log) and the state changes it made (which become events). The next
moment the machine needs to be woken is `deadline`, in the clock's monotonic time; the runtime
arms a loop timer for it, so nothing ever polls.

Where vigil departs from Supervisor 4.3 on purpose (docs/compatibility.md):
- no one-second granularity: startsecs, backoff delays and stopwaitsecs fire on time;
- BACKOFF -> FATAL happens as soon as the retries are spent, not on the next poll tick;
- durations use the monotonic clock, so no wall-clock rollback adjustment is needed.

vigil's opt-in restart policy (issue 15) is a RestartPolicy value the machine is given, with a
random source for jitter; without the new options it decides exactly as above. What it adds:
- a wait before restarting a program that ran (restart_delay): RUNNING -> EXITED -> BACKOFF,
  then BACKOFF -> STARTING at the deadline (a stop in that BACKOFF ends STOPPED, as Supervisor's);
- flapping (start_limit): a start the daemon would make on its own goes FATAL instead, from
  EXITED or BACKOFF;
- FATAL with a deadline (fatal_retry): FATAL -> STARTING when it comes; a stop or the daemon's
  shutdown drops it;
- a oneshot that exits with an expected code is done: STARTING -> EXITED, whatever startsecs.

Readiness (issue 14) is a ReadyPolicy value; whether the program is ready, alive (sd_notify
WATCHDOG=1) or unhealthy is told to the machine as inputs, never found out by it:
- with a probe, STARTING -> RUNNING on `ready`, not after startsecs; an exit first, or
  ready_timeout passing first (the child is then stopped: STARTING until it is gone), is a
  failed start: STARTING -> BACKOFF, counted by startretries as an exit too quick;
- `extend` pushes the start (or stop) deadline further (EXTEND_TIMEOUT_USEC), never nearer;
- with watchdog_sec, RUNNING holds a deadline that each `watchdog` moves on; missing it is a
  `restart`: RUNNING -> STOPPING -> STOPPED -> STARTING, as a health check's restart is;
- `blocked` (a dependency that cannot be met) turns a process that waited into FATAL.

Hooks (issue 15) run outside the machine: `Spawn` is the decision to start a run, and the
runtime answers `spawned` or `spawn_failed` once its pre_start has passed or failed (a failed
hook is a failed spawn: STARTING -> BACKOFF with the hook's reason in spawnerr). Meanwhile the
process is STARTING without a pid and without a deadline (hook_timeout is the runtime's); a
stop then is STARTING -> STOPPED with `CancelSpawn`. startsecs and ready_timeout count from
the spawn of the child, not from the start of its pre_start.

Options changed in place (issue 19, ``update_in_place``) come as `reconfigure`: the machine
takes the new configuration and policies and keeps its state, pid, counts and any pending
deadline. A wait already decided (BACKOFF's retry, a restart_delay, fatal_retry, startsecs,
stopwaitsecs) keeps its time; the next one is computed with the new values. A start in
progress keeps the readiness rule it began with; the next start takes the new one.
"""

from __future__ import annotations

from collections.abc import Callable

from vigil.clock import Clock
from vigil.config.model import AutoRestart, LogLevel, ProcessConfig
from vigil.core.effects import (
    CancelSpawn,
    Effect,
    Input,
    Kill,
    Log,
    Spawn,
    StateChange,
)
from vigil.core.ready_policy import ReadyPolicy
from vigil.core.restart_policy import RestartPolicy
from vigil.core.snapshot import ExitReason
from vigil.core.states import ProcessState

S = ProcessState
SIGKILL = 9  # fixed by POSIX; the core does not import the signal module

__all__ = [  # the effects and inputs are the machine's vocabulary: importable from here too
    "SIGKILL",
    "CancelSpawn",
    "Effect",
    "Input",
    "Kill",
    "Log",
    "ProcessMachine",
    "Spawn",
    "StateChange",
]


class ProcessMachine:
    """The lifecycle of one configured process.

    `may_spawn` is the daemon's permission to start things on its own (autorestart, backoff
    retries); it is withdrawn while the daemon shuts down or restarts, as in Supervisor.
    `policy` defaults to the one the config describes; `draw` gives numbers in [0, 1) for
    jitter (the runner passes random.random, tests a script).
    """

    def __init__(
        self,
        config: ProcessConfig,
        clock: Clock,
        policy: RestartPolicy | None = None,
        draw: Callable[[], float] = lambda: 0.0,
        ready: ReadyPolicy | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.policy = RestartPolicy.of(config) if policy is None else policy
        self.ready_policy = ReadyPolicy.of(config) if ready is None else ready
        self._draw = draw
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
        # the restart policy's memory
        self.crashes = 0  # automatic restarts in a row of a program that had run
        self.wait_reason: str | None = None  # why it waits for `deadline` (policy not Supervisor's)
        self.completed = False  # a oneshot's last run ended well
        self._running_since: float | None = None  # monotonic time RUNNING was entered
        self._starts: list[float] = []  # monotonic times of recent starts (start_limit)
        # readiness's memory
        self._failing: str | None = None  # why a child that never got ready is being stopped
        self._restart_after_stop: str | None = None  # why a stop is to be followed by a start
        self._next_ready: ReadyPolicy | None = None  # changed in place while a start was on

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def next_attempt(self) -> float | None:
        """When (monotonic) the daemon will start the process on its own, None if it will not."""
        if self.state in (S.BACKOFF, S.FATAL) and self.may_spawn:
            return self.deadline
        return None

    # -- inputs ---------------------------------------------------------------------------

    def start(self) -> list[Effect]:
        """A start request (RPC, autostart): a fresh chance, whatever the policy counted."""
        if self.state in (S.STOPPED, S.EXITED, S.FATAL, S.BACKOFF):
            self._starts = []
            self.crashes = 0
        if self._start():
            self.restarts = 0
        return self._flush()

    def spawned(self, pid: int) -> list[Effect]:
        """The child exists: it must now stay up for startsecs to count as RUNNING."""
        if self.state is S.STARTING and not self.pid:
            self.pid = pid
            self.spawnerr = None
            self._started_at = self.clock.monotonic()  # after pre_start: startsecs from here
            self._log(LogLevel.INFO, f"spawned: '{self.name}' with pid {pid}")
            if self.ready_policy.waits:
                # STARTING until ready, or ready_timeout
                self.deadline = self._started_at + self.ready_policy.timeout
            else:
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
            self._left_running()
            self._change(S.STOPPED)
            self._log(LogLevel.INFO if expected else LogLevel.WARN, f"stopped: {self.name} ({how})")
            self.pid = 0
            self._restart_if_asked()
        elif self.state is S.STARTING and self._failing is not None:
            # STARTING -> BACKOFF: never ready within ready_timeout, and now gone
            self._failed_start(code, signal, how, self._failing)
        elif self.state is S.STARTING and self.policy.oneshot and expected:
            # STARTING -> EXITED: a oneshot that did its job, however quickly
            self.last_exit = ExitReason(code, signal, expected)
            self._exit_from_running(code, how, expected)
        elif self.state is S.STARTING and self.ready_policy.waits:
            # STARTING -> BACKOFF: exited before it was ready, whatever the exit code
            self._failed_start(
                code, signal, how, f"Exited before it was ready (ready = {self.ready_policy.probe})"
            )
        elif self.state is S.STARTING and self._alive_for() < self.config.startsecs:
            # STARTING -> BACKOFF: exited before startsecs, whatever the exit code
            self._failed_start(
                code, signal, how, "Exited too quickly (process log may have details)"
            )
        else:
            self.last_exit = ExitReason(code, signal, expected)
            self._exit_from_running(code, how, expected)
        return self._flush()

    def stop(self) -> list[Effect]:
        """A stop request: the stop signal now, SIGKILL after stopwaitsecs."""
        self._restart_after_stop = None
        if self.state is S.BACKOFF:
            # BACKOFF -> STOPPED: a stop must not wait out the remaining retries
            self.deadline = None
            self.wait_reason = None
            self._change(S.STOPPED)
        elif self.state is S.FATAL and self.deadline is not None:
            # FATAL stays FATAL: a stop drops the fatal_retry
            self.deadline = None
            self.wait_reason = None
        elif self.state in (S.RUNNING, S.STARTING) and self.pid:
            self._failing = None
            self._send_kill(self.config.stopsignal, as_group=self.config.stopasgroup)
        elif self.state is S.STARTING:
            # STARTING -> STOPPED: stopped before the child existed (its pre_start ran)
            self.laststop = self.clock.time()
            self._effects.append(CancelSpawn())
            self._change(S.STOPPED)
            self._log(LogLevel.INFO, f"stopped: {self.name} (before it was spawned)")
        return self._flush()

    def ready(self) -> list[Effect]:
        """The program is ready (its probe succeeded, it sent READY=1)."""
        if (
            self.state is S.STARTING
            and self.pid
            and self.ready_policy.waits
            and self._failing is None
        ):
            # STARTING -> RUNNING: ready
            self._enter_running(f"process is ready (ready = {self.ready_policy.probe})")
        return self._flush()

    def extend(self, seconds: float) -> list[Effect]:
        """Allow `seconds` more from now before the current deadline (EXTEND_TIMEOUT_USEC)."""
        waiting = (self.state is S.STARTING and self.pid and self._failing is None) or (
            self.state is S.STOPPING or (self.state is S.RUNNING and self.ready_policy.watchdog)
        )
        if waiting and self.deadline is not None:
            self.deadline = max(self.deadline, self.clock.monotonic() + max(seconds, 0.0))
        return self._flush()

    def watchdog(self) -> list[Effect]:
        """A sign of life (WATCHDOG=1): the watchdog deadline starts again."""
        if self.state is S.RUNNING and self.ready_policy.watchdog > 0:
            self.deadline = self.clock.monotonic() + self.ready_policy.watchdog
        return self._flush()

    def restart(self, why: str) -> list[Effect]:
        """Stop the child and start it again once it is gone (a missed watchdog, a failed
        health check): the start is one the daemon makes on its own, so start_limit counts it."""
        self._restart_child(why)
        return self._flush()

    def blocked(self, why: str) -> list[Effect]:
        """A process waiting to start cannot (a dependency went FATAL): FATAL, saying why."""
        if self.state in (S.STOPPED, S.EXITED) or (self.state is S.FATAL and self.deadline is None):
            # STOPPED/EXITED -> FATAL: what it waited for will not come
            self.spawnerr = why
            self.backoff = 0
            self.wait_reason = None
            self._change(S.FATAL)
            self._log(LogLevel.INFO, f"gave up: {self.name} entered FATAL state, {why}")
        return self._flush()

    def reconfigure(
        self, config: ProcessConfig, policy: RestartPolicy, ready: ReadyPolicy
    ) -> list[Effect]:
        """New options in place (update_in_place): the state, pid, counts and any pending
        deadline stay as they are; what is decided from now on follows the new values."""
        self.config = config
        self.policy = policy
        if self.state is S.STARTING and self.pid:
            # a start in progress keeps the rule it began with (its probe, ready_timeout)
            self._next_ready = ready
        else:
            self.ready_policy, self._next_ready = ready, None
        waiting = self.state in (S.BACKOFF, S.FATAL) and self.deadline is not None
        if policy.is_supervisors:
            self.wait_reason = None  # descriptions are Supervisor's again
        elif waiting and self.wait_reason is None:
            self.wait_reason = self._retry_reason()
        return self._flush()

    def deadline_reached(self) -> list[Effect]:
        """The moment set in `deadline` has come (a late or early call is harmless)."""
        if self.deadline is None or self.clock.monotonic() < self.deadline:
            return []
        if self.state is S.STARTING and self.pid and self._failing is not None:
            # STARTING (not ready, being stopped): stopwaitsecs passed, SIGKILL
            self._log(LogLevel.WARN, f"killing '{self.name}' ({self.pid}) with SIGKILL")
            self.deadline = self.clock.monotonic() + self.config.stopwaitsecs
            self._effects.append(Kill(SIGKILL, self.config.killasgroup))
        elif self.state is S.STARTING and self.pid and self.ready_policy.waits:
            # STARTING: ready_timeout passed without ready; stop the child, then BACKOFF
            seconds = f"{self.ready_policy.timeout:g}"
            self._failing = f"Not ready within {seconds} seconds (ready_timeout)"
            self._log(LogLevel.WARN, f"not ready: {self.name} ({self._failing}), stopping it")
            self.deadline = self.clock.monotonic() + self.config.stopwaitsecs
            self._effects.append(Kill(self.config.stopsignal, self.config.stopasgroup))
        elif self.state is S.STARTING and self.pid:
            self._enter_running()
        elif self.state is S.RUNNING and self.pid:
            # RUNNING: no WATCHDOG=1 within watchdog_sec; restart
            self._restart_child(f"no WATCHDOG=1 within {self.ready_policy.watchdog:g} seconds")
        elif self.state is S.BACKOFF and self.may_spawn:
            # BACKOFF -> STARTING: the k-th retry, k seconds after the k-th failure (or a
            # restart after restart_delay); BACKOFF -> FATAL when it would be flapping
            self._restart()
        elif self.state is S.FATAL and self.may_spawn:
            # FATAL -> STARTING: fatal_retry's cool-down is over, a fresh chance
            self._starts = []
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
            self.wait_reason = None
            self.backoff = 0
            self._change(S.FATAL)
        elif self.state is S.FATAL:
            # FATAL stays FATAL, without its fatal_retry
            self.deadline = None
            self.wait_reason = None
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
        if self._next_ready is not None:
            self.ready_policy, self._next_ready = self._next_ready, None
        self.killing = False
        self._failing = None
        self.spawnerr = None
        self.exitstatus = None
        self.completed = False
        self.wait_reason = None
        self.laststart = self.clock.time()
        self._started_at = self.clock.monotonic()
        if self.policy.start_limit is not None:  # kept only when counted, trimmed in _restart
            self._starts.append(self._started_at)
        self.deadline = None
        self._change(S.STARTING)
        self._effects.append(Spawn())
        return True

    def _alive_for(self) -> float:
        return self.clock.monotonic() - self._started_at

    def _enter_running(self, why: str = "") -> None:
        # STARTING -> RUNNING: stayed up for startsecs (or ready)
        self.deadline = None
        if self.ready_policy.watchdog > 0:
            self.deadline = self.clock.monotonic() + self.ready_policy.watchdog
        if self.policy.backoff_reset is None:
            self.backoff = 0  # Supervisor's: tries start again at once
        self._running_since = self.clock.monotonic()
        self._change(S.RUNNING)
        why = why or (
            f"process has stayed up for > than {self.config.startsecs} seconds (startsecs)"
        )
        self._log(LogLevel.INFO, f"success: {self.name} entered RUNNING state, {why}")

    def _failed_start(self, code: int, signal: int | None, how: str, why: str) -> None:
        self.last_exit = ExitReason(code, signal, expected=False)
        self.exitstatus = None
        self._failing = None
        self.spawnerr = why
        self._enter_backoff()
        self._log(LogLevel.WARN, f"exited: {self.name} ({how}; not expected)")
        self.pid = 0
        self._give_up_if_spent()

    def _restart_child(self, why: str) -> None:
        if self.state in (S.RUNNING, S.STARTING) and self.pid and self._failing is None:
            self._log(LogLevel.WARN, f"restarting: {self.name} ({why})")
            self._send_kill(self.config.stopsignal, as_group=self.config.stopasgroup)
            self._restart_after_stop = why

    def _restart_if_asked(self) -> None:
        why, self._restart_after_stop = self._restart_after_stop, None
        if why is not None and self.may_spawn:
            # STOPPED -> STARTING: the restart a watchdog or a health check asked for
            self._restart()

    def _enter_backoff(self) -> None:
        self.backoff += 1
        delay = self.policy.retry_delay(self.backoff, self._jitter())
        self.deadline = self.clock.monotonic() + delay
        self.wait_reason = None if self.policy.is_supervisors else self._retry_reason()
        self._change(S.BACKOFF)

    def _retry_reason(self) -> str:
        retries = self.policy.retries
        if retries is None:
            return f"retry {self.backoff}, startretries = -1"
        return f"retry {self.backoff} of {retries}"

    def _give_up_if_spent(self) -> None:
        if self.policy.spent(self.backoff):
            # BACKOFF -> FATAL: too many start retries too quickly
            self._enter_fatal("too many start retries too quickly")

    def _enter_fatal(self, why: str) -> None:
        """FATAL, with the time of the next try when fatal_retry asks for one."""
        self.backoff = 0
        self.deadline = None
        self.wait_reason = None
        if self.policy.fatal_retry > 0 and self.may_spawn:
            self.deadline = self.clock.monotonic() + self.policy.fatal_retry
            self.wait_reason = f"fatal_retry = {self.policy.fatal_retry:g}"
        self._change(S.FATAL)
        self._log(LogLevel.INFO, f"gave up: {self.name} entered FATAL state, {why}")

    def _restart(self) -> None:
        """A start the daemon makes on its own (a retry, an autorestart): refused as FATAL
        when it would make more than start_limit's N starts within its window."""
        limit = self.policy.start_limit
        if limit is not None:
            now = self.clock.monotonic()
            self._starts = [t for t in self._starts if now - t < limit.seconds]
            if len(self._starts) >= limit.count:
                # EXITED/BACKOFF -> FATAL: flapping
                self.spawnerr = (
                    f"Started {len(self._starts)} times within {limit.seconds:g} seconds "
                    f"(start_limit = {limit.count}/{limit.seconds:g})"
                )
                self._enter_fatal("flapping: " + self.spawnerr)
                return
        self._start()
        self.restarts += 1

    def _left_running(self) -> None:
        """The child that had reached RUNNING is gone: a long enough run (backoff_reset)
        starts the counts again; without backoff_reset, Supervisor's reset at RUNNING holds."""
        if self._running_since is None:
            return
        ran_for = self.clock.monotonic() - self._running_since
        self._running_since = None
        if self.policy.resets_after(ran_for):
            self.backoff = 0
            self.crashes = 0

    def _jitter(self) -> float:
        return self._draw() if self.policy.backoff_jitter else 0.0

    def _exit_from_running(self, code: int, how: str, expected: bool) -> None:
        self.deadline = None
        self.exitstatus = code
        done = self.policy.oneshot and expected
        if self.state is S.STARTING and not done:
            # STARTING -> RUNNING first: it did stay up for startsecs
            self._enter_running()
        self._left_running()
        if self.policy.backoff_reset is None or done:
            self.backoff = 0
        if done:
            self.crashes = 0
            self.completed = True
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
            self._autorestart(how)

    def _autorestart(self, how: str) -> None:
        self.crashes += 1
        delay = self.policy.restart_wait(self.crashes, self._jitter())
        if delay <= 0:
            # EXITED -> STARTING: autorestart, immediately (and without limit, unless
            # start_limit says it is flapping: EXITED -> FATAL)
            self._restart()
            return
        # EXITED -> BACKOFF: wait restart_delay (grown by the backoff) before restarting
        self.spawnerr = self.spawnerr or f"Exited ({how})"
        self.deadline = self.clock.monotonic() + delay
        self.wait_reason = f"restart {self.crashes} after a {delay:g} s restart_delay"
        self._change(S.BACKOFF, tries=self.crashes)

    def _send_kill(self, sig: int, *, as_group: bool) -> None:
        # RUNNING/STARTING/STOPPING -> STOPPING
        self.killing = True
        self.deadline = self.clock.monotonic() + self.config.stopwaitsecs
        self._change(S.STOPPING)
        self._effects.append(Kill(int(sig), as_group))

    def _change(
        self, new: ProcessState, *, expected: bool = True, tries: int | None = None
    ) -> None:
        if new is self.state:
            return
        tries = self.backoff if tries is None else tries
        waits = new in (S.BACKOFF, S.FATAL) and self.may_spawn
        self._effects.append(
            StateChange(
                self.state, new, self.pid, tries, expected, self.deadline if waits else None
            )
        )
        self.state = new

    def _log(self, level: LogLevel, message: str) -> None:
        self._effects.append(Log(level, message))

    def _flush(self) -> list[Effect]:
        effects, self._effects = self._effects, []
        return effects
