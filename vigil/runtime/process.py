"""One configured process at run time: its state machine, its child, its pipes, its timer.

The runner carries out what the machine decides and feeds it what the OS reports. It owns no
policy of its own: every rule lives in ProcessMachine.
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
import signal
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING

from vigil.config.model import KillMode, LogLevel, ProbeKind, ProcessConfig
from vigil.core.events import ProcessStateChanged
from vigil.core.machine import (
    CancelSpawn,
    Effect,
    Kill,
    Log,
    ProcessMachine,
    Spawn,
    StateChange,
)
from vigil.core.ports import ChannelLog
from vigil.core.ready_policy import ReadyPolicy
from vigil.core.restart_policy import RestartPolicy
from vigil.core.snapshot import ProcessSnapshot
from vigil.core.states import ProcessState
from vigil.runtime.command import CommandError, resolve_command
from vigil.runtime.deadline_timer import DeadlineTimer
from vigil.runtime.pipes import OutputPump, StdinClosed, StdinWriter
from vigil.runtime.process_context import ProcessContext, child_environment
from vigil.runtime.process_tree import ProcessTree
from vigil.runtime.proctable import HeldProcess, start_time, wait_all_gone
from vigil.runtime.spawn import SpawnError, SpawnRequest, spawn
from vigil.runtime.waitstatus import describe_wait_status, exit_signal, signal_name

__all__ = ["ProcessContext", "ProcessRunner", "child_environment"]

if TYPE_CHECKING:  # loaded at the first spawn of a program that uses them
    from vigil.runtime.health import HealthMonitor
    from vigil.runtime.hooks import ProgramHooks
    from vigil.runtime.notify import ProcessNotifications
    from vigil.runtime.probes import ProbeTarget
    from vigil.runtime.readiness import ReadinessWatch


class ProcessRunner:
    def __init__(
        self,
        config: ProcessConfig,
        context: ProcessContext,
        stdout: ChannelLog,
        stderr: ChannelLog,
        stdin_socket: Callable[[], int | None] | None = None,
    ) -> None:
        self.config = config
        self.machine = ProcessMachine(config, context.clock, draw=random.random)
        self._ctx = context
        self._logs = (stdout, stderr)
        self._stdin_socket = stdin_socket
        self._pumps: list[OutputPump] = []
        self._stdin: StdinWriter | None = None
        self._timer = DeadlineTimer(context.loop, context.clock.monotonic, self._deadline)
        self._waiters: list[tuple[Callable[[ProcessState], bool], asyncio.Future[None]]] = []
        self._child_start_time: int | None = 0  # None: not read from /proc yet
        self._tree = (
            ProcessTree(config.name, config.group) if config.killmode is KillMode.TREE else None
        )
        self._main_exited = False  # reaped, its pid free for reuse: never signal it again
        self._tree_tasks: set[asyncio.Task[None]] = set()
        # readiness (issue 14): what watches a child that is starting, its sd_notify
        # conversation; and what the dependencies keep it waiting for (set from outside)
        self._watch: ReadinessWatch | None = None
        self._notify: ProcessNotifications | None = None
        self.waiting_for: str | None = None
        self._health: HealthMonitor | None = None
        self._hooks: ProgramHooks | None = None  # pre_start, post_stop (issue 15)
        self._spawn_pending = False  # a spawn waits for the hooks (spawn_after_hooks)
        self._hooks_stale = False  # hook options changed in place; made anew once idle

    # -- what callers see -----------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def group(self) -> str:
        return self.config.group

    @property
    def state(self) -> ProcessState:
        return self.machine.state

    @property
    def pid(self) -> int:
        return self.machine.pid

    @property
    def child_start_time(self) -> int:
        """When the current child started (/proc ticks), 0 when unknown: with its pid, this
        names the child beyond doubt.

        Read at the first ask (the children file, within the loop turn of the spawn) rather
        than at the spawn itself, when the child vfork has just let go is still in exec and
        /proc takes twice as long to answer. Never once the child is reaped: its pid may then
        name another process.
        """
        if self._child_start_time is None:
            pid = self.machine.pid
            if not pid or self._main_exited:
                return 0
            self._child_start_time = start_time(pid) or 0
        return self._child_start_time

    def snapshot(self) -> ProcessSnapshot:
        """What every interface shows of this process, as of now (see ProcessSnapshot).

        Built afresh at each call (about 2 us): a kept copy could not hold the time it was
        taken, would have to follow every failed log write, and would save at most a tenth of
        a getAllProcessInfo of 500 programs over HTTP.
        """
        machine = self.machine
        stdout, stderr = self._logs
        clock = self._ctx.clock
        now = clock.time()
        next_attempt = machine.next_attempt
        return ProcessSnapshot(
            name=self.config.name,
            group=self.config.group,
            state=machine.state,
            pid=machine.pid,
            started_at=machine.laststart,
            stopped_at=machine.laststop,
            taken_at=now,
            exit_status=machine.exitstatus,
            spawn_error=machine.spawnerr,
            restarts=machine.restarts,
            last_exit=machine.last_exit,
            stdout_logfile=stdout.path,
            stderr_logfile=stderr.path,
            stdout_log_error=stdout.error,
            stderr_log_error=stderr.error,
            next_attempt_at=None
            if next_attempt is None
            else now + max(0.0, next_attempt - clock.monotonic()),
            wait_reason=machine.wait_reason,
            completed=machine.completed,
            waiting_for=self.waiting_for,
            notify_status=None if self._notify is None else self._notify.status,
            reloading=self.reloading,
            notify_stopping=self._notify is not None and self._notify.stopping,
            health=self.health,
            health_output=None if self._health is None else self._health.output,
            hook=None if self._hooks is None else self._hooks.running,
        )

    @property
    def health(self) -> str | None:
        """starting, healthy or unhealthy; None before the first RUNNING or without a check."""
        return None if self._health is None else self._health.state

    @property
    def reloading(self) -> bool:
        """Whether the program said RELOADING=1 and not READY=1 since."""
        return self._notify is not None and self._notify.reloading

    @property
    def namespec(self) -> str:
        return self.name if self.name == self.group else f"{self.group}:{self.name}"

    def environment(self) -> dict[str, str]:
        """The child's environment, in Supervisor's merge order."""
        return child_environment(self.config, self._ctx.base_env, self._ctx.server_url)

    def check_command(self) -> None:
        """Raise CommandError now if the command cannot be run (before trying to)."""
        resolve_command(self.config.command, self.environment(), self.config.directory)

    # -- inputs ---------------------------------------------------------------------------

    def reconfigure(self, config: ProcessConfig) -> None:
        """Take options changed in place (update_in_place: every changed option is one of
        config/diff.py's IN_PLACE_OPTIONS, and the name and group are the same) without
        touching the child. The machine keeps its state, pid, counts and pending deadline
        and decides with the new policies from now on; a changed health check starts again
        with its new settings while RUNNING; hooks run their new commands from their next
        run (a hook running now finishes as it began)."""
        if (config.name, config.group) != (self.config.name, self.config.group):
            raise ValueError(f"{self.namespec} cannot become {config.group}:{config.name}")
        old, self.config = self.config, config
        policy, ready = RestartPolicy.of(config), ReadyPolicy.of(config)
        self._apply(self.machine.reconfigure(config, policy, ready))
        if _health_options(old) != _health_options(config):
            if self._health is not None:
                self._health.stop()
                self._health = None
            if self.machine.state is ProcessState.RUNNING and config.healthcheck is not None:
                self._start_health()
        for log, channel in zip(self._logs, ("stdout", "stderr"), strict=True):
            log.set_rotation(*_rotation(config, channel))
        if (old.pre_start, old.post_stop, old.hook_timeout) != (
            config.pre_start,
            config.post_stop,
            config.hook_timeout,
        ):
            self._hooks_stale = True
            self._renew_hooks()

    def start(self) -> None:
        self._apply(self.machine.start())

    def stop(self) -> None:
        self._apply(self.machine.stop())

    def give_up(self) -> None:
        self._apply(self.machine.give_up())

    def block(self, why: str) -> None:
        """What this process waited for will not come (a FATAL dependency)."""
        self._apply(self.machine.blocked(why))

    def restart(self, why: str) -> None:
        """Stop the child and start it again (a failed health check)."""
        self._apply(self.machine.restart(why))

    def recheck_waiters(self) -> None:
        """Something beside the state changed (a wait for dependencies began or ended):
        let those waiting on this process look again."""
        for predicate, future in self._waiters:
            if not future.done() and predicate(self.machine.state):
                future.set_result(None)

    def set_may_spawn(self, allowed: bool) -> None:
        self.machine.may_spawn = allowed

    def signal(self, number: int) -> None:
        """Send a signal to the child (not its group), as supervisorctl's `signal` does."""
        pid = self.machine.pid
        if not pid:
            return
        self._debug(f"sending {self.name} (pid {pid}) sig {signal_name(number)}")
        self._kill(pid, number)

    def write_stdin(self, data: bytes) -> None:
        if self._stdin is None:
            raise StdinClosed()
        self._stdin.write(data)

    async def wait_for(self, predicate: Callable[[ProcessState], bool]) -> None:
        """Return once the state satisfies `predicate` (checked now and at every change)."""
        if predicate(self.machine.state):
            return
        future: asyncio.Future[None] = self._ctx.loop.create_future()
        self._waiters.append((predicate, future))
        try:
            await future
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not future]

    def reopen_logs(self) -> None:
        for log in self._logs:
            log.reopen()

    def clear_logs(self) -> None:
        """Empty both logs (clearProcessLogs); OSError when one cannot be removed."""
        for log in self._logs:
            log.clear()

    async def hooks_finished(self) -> None:
        """Return once no post_stop hook of this process runs (each is bounded by
        hook_timeout): the daemon's shutdown waits for them."""
        if self._hooks is not None:
            await self._hooks.finished()

    def close(self) -> None:
        """Release pipes, timer and sinks once the process is gone for good."""
        self._timer.cancel()
        self._end_watch()
        if self._health is not None:
            self._health.stop()
        if self._notify is not None:
            self._notify.close()
            self._notify = None
        if self._hooks is not None:
            self._hooks.close()
        for task in self._tree_tasks:
            task.cancel()
        for pump in self._pumps:
            pump.drain()
            pump.close()
        self._pumps = []
        if self._stdin is not None:
            self._stdin.close()
            self._stdin = None
        for log in self._logs:
            log.close()

    # -- effects --------------------------------------------------------------------------

    def _apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Spawn):
                self._start_run()
            elif isinstance(effect, CancelSpawn) and self._hooks is not None:
                self._spawn_pending = False
                self._hooks.cancel_spawn()
            elif isinstance(effect, Kill):
                self._send_kill(effect)
            elif isinstance(effect, StateChange):
                self._announce(effect)
            elif isinstance(effect, Log):
                self._ctx.log.log(effect.level, effect.message)
        self._timer.arm(self.machine.deadline)

    def _start_run(self) -> None:
        """Spawn now, or once the last post_stop and this run's pre_start are done."""
        self._renew_hooks()
        if self.config.pre_start is None and (self._hooks is None or not self._hooks.busy):
            self._apply(self._spawn())
        else:
            self._spawn_pending = True
            self._hooks_of().spawn_after_hooks(self._spawn_decided)

    def _spawn_decided(self, failure: str | None) -> None:
        self._spawn_pending = False
        if self.machine.state is ProcessState.STARTING and not self.machine.pid:
            self._apply(self._spawn() if failure is None else self.machine.spawn_failed(failure))

    def _renew_hooks(self) -> None:
        """Hooks changed in place are made anew with the new commands, once none runs or
        is awaited (the one object keeps pre_start after post_stop, and a stop's cancel)."""
        hooks = self._hooks
        if not self._hooks_stale:
            return
        if hooks is None or not (hooks.running or hooks.busy or self._spawn_pending):
            self._hooks, self._hooks_stale = None, False

    def _hooks_of(self) -> ProgramHooks:
        if self._hooks is None:
            from vigil.runtime.hooks import ProgramHooks

            self._hooks = ProgramHooks(
                self.config, self._ctx.loop, self._probe_target, self._logs, self._ctx.log
            )
        return self._hooks

    def _spawn(self) -> list[Effect]:
        env = self.environment()
        try:
            self._notify_environment(env)
            filename, argv = resolve_command(self.config.command, env, self.config.directory)
            stdin_fd = self._stdin_socket() if self._stdin_socket else None
            child = spawn(
                SpawnRequest(
                    filename,
                    argv,
                    env,
                    directory=self.config.directory,
                    umask=self.config.umask,
                    uid=self.config.uid,
                    redirect_stderr=self.config.redirect_stderr,
                    stdin_fd=stdin_fd,
                    death_signal=self.config.stopsignal,
                    program=self.config,
                )
            )
        except CommandError as exc:
            return self.machine.spawn_failed(exc.message)
        except OSError as exc:  # the notify socket could not be made
            return self.machine.spawn_failed(f"couldn't make NOTIFY_SOCKET: {exc}")
        except SpawnError as exc:
            if exc.pid:
                self._ctx.reaper.watch(exc.pid, lambda status: None)
            return self.machine.spawn_failed(exc.message)
        self._ctx.reaper.watch(child.pid, self._on_exit)
        self._main_exited = False
        self._child_start_time = None
        loop = self._ctx.loop
        self._pumps = [p for p in self._pumps if p.open]
        self._pumps.append(OutputPump(loop, child.stdout, self._logs[0]))
        if child.stderr is not None:
            self._pumps.append(OutputPump(loop, child.stderr, self._logs[1]))
        if self._stdin is not None:
            self._stdin.close()
        self._stdin = StdinWriter(loop, child.stdin) if child.stdin is not None else None
        effects = self.machine.spawned(child.pid)
        self._watch_readiness()
        return effects

    def _on_exit(self, status: int) -> None:
        for pump in self._pumps:
            pump.drain()  # what the child wrote before exiting is logged before its exit
        if self._stdin is not None:
            self._stdin.close()
            self._stdin = None
        self._main_exited = True
        if self._tree is not None:
            if self.machine.state is ProcessState.STOPPING:
                # STOPPING -> STOPPED only once the whole tree is gone (killmode = tree)
                self._in_background(self._exit_with_tree(self.machine.pid, status))
                return
            self._end_tree_left_behind(self._tree, self.machine.pid)
        self._take_exit(status)

    async def _exit_with_tree(self, pid: int, status: int) -> None:
        assert self._tree is not None
        await self._tree.wait_gone(pid, self.config.stopsignal)
        self._tree.forget()
        self._take_exit(status)

    def _take_exit(self, status: int) -> None:
        """Tell the machine; post_stop starts before a restart's spawn is looked at, so that
        spawn waits for it (the hook itself runs from the next turn of the loop, once every
        state change of the exit is announced)."""
        code, how = describe_wait_status(status)
        effects = self.machine.exited(code, how, exit_signal(status))
        self._renew_hooks()
        if self.config.post_stop is not None:
            self._hooks_of().after_exit()
        self._apply(effects)

    def _end_tree_left_behind(self, tree: ProcessTree, pid: int) -> None:
        """The main process exited by itself: stop what it left (found now, before a restart
        spawns a new tree), SIGKILL after stopwaitsecs; the restart does not wait for it."""
        members = tree.find(pid)
        tree.forget()
        if not members:
            return
        for member in members:
            member.send(self.config.stopsignal)
        self._in_background(self._kill_late(members))

    async def _kill_late(self, members: list[HeldProcess]) -> None:
        try:
            for member in await wait_all_gone(members, self.config.stopwaitsecs):
                member.send(signal.SIGKILL)
        finally:
            for member in members:
                member.close()

    def _in_background(self, work: Coroutine[None, None, None]) -> None:
        task = self._ctx.loop.create_task(work)
        self._tree_tasks.add(task)
        task.add_done_callback(self._tree_tasks.discard)

    def _send_kill(self, kill: Kill) -> None:
        pid = self.machine.pid
        as_group = "process group " if kill.group else ""
        signame = signal_name(kill.signal)
        self._debug(f"killing {self.name} (pid {pid}) {as_group}with signal {signame}")
        if not self._main_exited:
            self._kill(-pid if kill.group else pid, kill.signal)
        if self._tree is not None:
            self._tree.signal(pid, kill.signal)

    def _kill(self, target: int, number: int) -> None:
        try:
            os.kill(target, number)
        except OSError as exc:
            if exc.errno == errno.ESRCH:
                # it exited on its own just now; the reaper will tell the machine
                self._debug(
                    f"unable to signal {self.name} (pid {self.pid}), it probably "
                    f"just exited on its own: {exc}"
                )
                return
            message = f"unknown problem killing {self.name} ({self.pid}):{exc}"
            self._apply(self.machine.signal_failed(message))

    def _announce(self, change: StateChange) -> None:
        clock = self._ctx.clock
        now = clock.time()
        attempt = change.next_attempt
        self._ctx.bus.publish(
            ProcessStateChanged(
                self.name,
                self.group,
                change.old,
                change.new,
                pid=change.pid,
                tries=change.tries,
                expected=change.expected,
                at=now,
                next_attempt_at=None
                if attempt is None
                else now + max(0.0, attempt - clock.monotonic()),
            )
        )
        if change.old is ProcessState.STARTING:
            self._end_watch()
        if self.config.healthcheck is not None:
            self._follow_health(change)
        for predicate, future in self._waiters:
            if not future.done() and predicate(change.new):
                future.set_result(None)

    # -- readiness ------------------------------------------------------------------------

    def _watch_readiness(self) -> None:
        probe = self.config.ready
        if probe is None or probe.kind is ProbeKind.NOTIFY:
            return
        if self.machine.state is not ProcessState.STARTING:
            return
        from vigil.runtime.readiness import ReadinessWatch

        logs = self._logs if self.config.redirect_stderr is False else self._logs[:1]
        self._end_watch()
        self._watch = ReadinessWatch(probe, self._probe_target, logs, self._became_ready)
        self._watch.start(self._ctx.loop)

    def _probe_target(self) -> ProbeTarget:
        from vigil.runtime.probes import ProbeTarget

        return ProbeTarget(self.config, self.environment(), self._ctx.reaper)

    def _became_ready(self) -> None:
        self._watch = None
        self._apply(self.machine.ready())

    def _end_watch(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    def _follow_health(self, change: StateChange) -> None:
        """Health checks run while RUNNING, and only then."""
        if change.new is ProcessState.RUNNING:
            self._start_health()
        elif change.old is ProcessState.RUNNING and self._health is not None:
            self._health.stop()

    def _start_health(self) -> None:
        """Checks from now on: starting, the first one interval from now."""
        if self._health is None:
            from vigil.runtime.health import HealthMonitor

            self._health = HealthMonitor(
                self.config,
                self._ctx.loop,
                self._probe_target,
                self._ctx.bus,
                self._ctx.log,
                self._ctx.clock.time,
                self.restart,
                self.stop,
            )
        self._health.start()

    def _notify_environment(self, env: dict[str, str]) -> None:
        """NOTIFY_SOCKET (and WATCHDOG_USEC) for a program that uses sd_notify."""
        probe = self.config.ready
        uses = (probe is not None and probe.kind is ProbeKind.NOTIFY) or self.config.watchdog_sec
        if not uses:
            return
        if self._notify is None:
            from vigil.runtime.notify import ProcessNotifications

            self._notify = ProcessNotifications(
                self._ctx.loop,
                self.config,
                self.machine,
                lambda: 0 if self._main_exited else self.machine.pid,
                self._apply,
                self._ctx.log,
            )
        self._notify.prepare(env)

    def _debug(self, message: str) -> None:
        self._ctx.log.log(LogLevel.DEBG, message)

    def _deadline(self) -> None:
        self._apply(self.machine.deadline_reached())


def _health_options(config: ProcessConfig) -> tuple[object, ...]:
    return (
        config.healthcheck,
        config.healthcheck_interval,
        config.healthcheck_timeout,
        config.healthcheck_retries,
        config.healthcheck_start_period,
        config.healthcheck_action,
    )


def _rotation(config: ProcessConfig, channel: str) -> tuple[int, int]:
    if channel == "stdout":
        return config.stdout_logfile_maxbytes, config.stdout_logfile_backups
    return config.stderr_logfile_maxbytes, config.stderr_logfile_backups
