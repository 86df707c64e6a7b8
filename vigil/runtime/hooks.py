"""pre_start and post_stop (issue 15): the commands run around each run of a program.

A hook is spawned as the program is (its user, its child environment, directory and umask),
in a process group of its own, its exit told by the daemon's one reaper (probes.CommandChild),
and its output goes to the program's own stdout and stderr logs, so a ``tail`` shows it
beside the program's. Each is bounded by hook_timeout: one that outlasts it is killed with its
process group.

- pre_start runs before each spawn of the program (a start asked for, autostart, an
  autorestart, a retry out of BACKOFF), after the previous run's post_stop has finished.
  Exiting non-zero, not being spawned at all or outlasting hook_timeout makes the start a
  failed one; the reason is what `before_spawn` answers.
- post_stop runs once for each child that was spawned, as soon as the daemon has taken its
  exit (the process is then STOPPED, EXITED, BACKOFF or FATAL, or about to be restarted), and
  never after a start that failed before a child existed. Its failure is logged and changes
  nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from vigil.config.model import LogLevel, ProcessConfig
from vigil.core.ports import ChannelLog, MainLog
from vigil.runtime.pipes import OutputPump
from vigil.runtime.probes import CommandChild, CommandFailed, ProbeTarget
from vigil.runtime.waitstatus import describe_wait_status


class ProgramHooks:
    def __init__(
        self,
        config: ProcessConfig,
        loop: asyncio.AbstractEventLoop,
        target: Callable[[], ProbeTarget],
        logs: tuple[ChannelLog, ChannelLog],
        log: MainLog,
    ) -> None:
        self._config = config
        self._loop = loop
        self._target = target
        self._logs = logs
        self._log = log
        self._live: dict[CommandChild, str] = {}  # running hooks and which they are
        self._pumps: list[OutputPump] = []
        self._post_stop: asyncio.Task[None] | None = None
        self._pending_spawn: asyncio.Task[None] | None = None

    @property
    def running(self) -> str | None:
        """The hook running now ("pre_start", "post_stop"), None when none is."""
        return next(iter(self._live.values()), None)

    @property
    def busy(self) -> bool:
        """Whether a post_stop still runs (the next spawn waits for it)."""
        return self._post_stop is not None and not self._post_stop.done()

    async def before_spawn(self) -> str | None:
        """Wait for the last run's post_stop, then run pre_start: None when the spawn may go
        on, else why the start failed ("pre_start exited with status 3"). A cancelled wait
        kills pre_start; it never cuts a post_stop short."""
        if self._post_stop is not None:
            await asyncio.shield(self._post_stop)
        command = self._config.pre_start
        if command is None:
            return None
        failure = await self._run("pre_start", command)
        return None if failure is None else f"pre_start {failure}"

    def after_exit(self) -> None:
        """The child is gone and its exit taken: run post_stop (after any earlier one)."""
        if self._config.post_stop is None:
            return
        self._post_stop = self._loop.create_task(self._run_post_stop(self._post_stop))

    async def finished(self) -> None:
        """Return once no post_stop runs (shutdown waits for them; each is bounded)."""
        while self._post_stop is not None and not self._post_stop.done():
            await asyncio.wait({self._post_stop})  # its own end, cancelled or not

    def spawn_after_hooks(self, decided: Callable[[str | None], None]) -> None:
        """Run `before_spawn` in the background, then tell `decided` its answer (unless
        `cancel_spawn` comes first)."""
        self.cancel_spawn()
        self._pending_spawn = self._loop.create_task(self._decide(decided))

    async def _decide(self, decided: Callable[[str | None], None]) -> None:
        try:
            failure = await self.before_spawn()
        except OSError as exc:  # no pipe or reader for its output: it could not run
            failure = f"pre_start could not be run: {exc}"
        self._pending_spawn = None
        decided(failure)

    def cancel_spawn(self) -> None:
        """The start was called off: kill a running pre_start and its group now, not at the
        next turn of the loop, and forget the spawn."""
        if self._pending_spawn is None:
            return
        self._pending_spawn.cancel()
        self._pending_spawn = None
        for command, which in self._live.items():
            if which == "pre_start":
                command.kill()

    def close(self) -> None:
        """The program is gone for good: kill what still runs, release the pipes."""
        self.cancel_spawn()
        for command in self._live:
            command.kill()
        if self._post_stop is not None:
            self._post_stop.cancel()
        for pump in self._pumps:
            pump.drain()
            pump.close()
        self._pumps = []

    async def _run_post_stop(self, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await asyncio.shield(previous)
        command = self._config.post_stop
        assert command is not None
        failure = await self._run("post_stop", command)
        if failure is not None:
            self._log.log(LogLevel.WARN, f"post_stop failed: {self._config.name} ({failure})")

    async def _run(self, which: str, command: str) -> str | None:
        """Run one hook to its end; None when it exited 0, else what went wrong."""
        name, timeout = self._config.name, self._config.hook_timeout
        try:
            child = CommandChild.start(
                command, self._target(), merge_stderr=self._config.redirect_stderr
            )
        except CommandFailed as exc:
            return f"could not be spawned: {exc.message}"
        self._log.log(LogLevel.DEBG, f"{which}: '{name}' hook spawned with pid {child.pid}")
        self._live[child] = which
        pumps = [self._pump(child.stdout, self._logs[0])]
        if child.stderr is not None:
            pumps.append(self._pump(child.stderr, self._logs[1]))
        try:
            status = await child.wait(timeout)
        finally:
            del self._live[child]
            for pump in pumps:
                pump.drain()  # what it wrote before it ended is logged before what follows
        if status is None:
            return f"timed out after {timeout:g} seconds (hook_timeout); killed"
        code, how = describe_wait_status(status)
        self._log.log(LogLevel.DEBG, f"{which}: '{name}' hook ended ({how})")
        if code == 0:
            return None
        return f"exited with status {code}" if code > 0 else f"was {how}"

    def _pump(self, fd: int, log: ChannelLog) -> OutputPump:
        """Copies a hook's pipe to the program's log until end of file (a descendant that
        keeps the pipe open is read as long as it writes)."""
        pump: OutputPump

        def ended() -> None:
            if pump in self._pumps:
                self._pumps.remove(pump)

        pump = OutputPump(self._loop, fd, log, on_eof=ended)
        self._pumps.append(pump)
        return pump
