"""One check of a socket, an HTTP server or a command, without blocking the loop.

Each probe answers a `ProbeResult` (passed or not, and what it saw: the status line, the
command's first output, the error) within its timeout; a probe that hangs is abandoned at
the timeout, and a command still running then is killed with its process group. Commands are
spawned as the program is (its user, environment and directory) and their exits come from
the daemon's one reaper, like every child's; CommandChild, which does that, also runs the
program's hooks (runtime/hooks.py).

A health check runs every interval for every program that has one, so `start_check` runs a
command without a task or a future: its exit (from the reaper), its output (a reader on the
pipe) and its timeout (one timer) are callbacks that end in one call of `done`. Hundreds of
``exec:`` checks a second cost the spawns and little beside (see CommandCheck).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from vigil.config.model import ProbeKind, ProcessConfig
from vigil.config.probes import Probe
from vigil.runtime.command import CommandError, resolve_command
from vigil.runtime.reaper import Reaper
from vigil.runtime.spawn import Child, SpawnError, SpawnRequest, spawn
from vigil.runtime.waitstatus import describe_wait_status

OUTPUT_LIMIT = 4096  # bytes of a probe's output kept (Docker keeps as many)
EOF_GRACE = 0.5  # seconds a command's output may go on after its exit (held by a descendant)
READS_AT_EXIT = 4  # reads of its pipe tried at once when a command exits
FIRST_LOOK = 0.1  # seconds a check's command runs before its output is read as it comes


@dataclass(frozen=True)
class ProbeResult:
    passed: bool
    output: str


@dataclass(frozen=True)
class ProbeTarget:
    """What a probe needs of its program: the exec environment, and the reaper."""

    config: ProcessConfig
    env: dict[str, str]
    reaper: Reaper


Done = Callable[[ProbeResult], None]


class Check(Protocol):
    """A check under way: `cancel` ends it (killing its command) without a result."""

    def cancel(self) -> None: ...


def start_check(
    probe: Probe,
    target: ProbeTarget,
    timeout: float,
    done: Done,
    command: FoundCommand | None = None,
) -> Check:
    """Start one check now; `done` gets its result once (from the loop, never from within
    this call), unless the check is cancelled first. `command`: where an exec: probe's
    command was found by the check before (see FoundCommand)."""
    if probe.kind is ProbeKind.EXEC:
        return CommandCheck(command or probe.command, target, timeout, done)
    return _TaskCheck(run_probe(probe, target, timeout), done)


async def run_probe(probe: Probe, target: ProbeTarget, timeout: float) -> ProbeResult:
    """Run one check; never raises (a failure is a result that did not pass)."""
    try:
        if probe.kind is ProbeKind.TCP:
            return await asyncio.wait_for(_tcp(probe), timeout)
        if probe.kind is ProbeKind.HTTP:
            return await asyncio.wait_for(_http(probe), timeout)
        if probe.kind is ProbeKind.EXEC:
            return await _exec(probe, target, timeout)
    except TimeoutError:
        return ProbeResult(False, f"timed out after {timeout:g} seconds")
    except OSError as exc:
        return ProbeResult(False, exc.strerror or str(exc))
    return ProbeResult(False, f"{probe.kind.value} is not a probe that runs")


class _TaskCheck:
    """A socket check, as a task (a connect costs what the task does; no spawn to save)."""

    def __init__(self, probe: Coroutine[Any, Any, ProbeResult], done: Done) -> None:
        self._task = asyncio.get_running_loop().create_task(probe)
        self._task.add_done_callback(self._finished)
        self._done = done

    def _finished(self, task: asyncio.Task[ProbeResult]) -> None:
        if not task.cancelled():
            self._done(task.result())

    def cancel(self) -> None:
        self._task.cancel()


async def _tcp(probe: Probe) -> ProbeResult:
    _, writer = await asyncio.open_connection(probe.host, probe.port)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return ProbeResult(True, f"connected to {probe.host}:{probe.port}")


async def _http(probe: Probe) -> ProbeResult:
    reader, writer = await asyncio.open_connection(probe.host, probe.port)
    try:
        host = f"[{probe.host}]" if ":" in probe.host else probe.host
        writer.write(
            f"GET {probe.path} HTTP/1.1\r\nHost: {host}:{probe.port}\r\n"
            "User-Agent: vigil-probe\r\nConnection: close\r\n\r\n".encode("latin-1")
        )
        await writer.drain()
        line = (await reader.readline())[:OUTPUT_LIMIT].decode("latin-1").strip()
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    parts = line.split(" ", 2)
    code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if not line.startswith("HTTP/") or not code:
        return ProbeResult(False, f"not an HTTP answer: {line!r}")
    return ProbeResult(200 <= code < 400, line)


async def _exec(probe: Probe, target: ProbeTarget, timeout: float) -> ProbeResult:
    """A command check awaited (readiness), on the same callbacks as a health check's."""
    result: asyncio.Future[ProbeResult] = asyncio.get_running_loop().create_future()
    check = CommandCheck(probe.command, target, timeout, result.set_result)
    try:
        return await result
    except asyncio.CancelledError:  # no longer wanted: the command is killed
        check.cancel()
        raise


class CommandFailed(Exception):
    """The command could not be started; `message` says why (as a failed spawn says it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FoundCommand:
    """Where a command was found, kept for the checks that run it again and again (the PATH
    search, a few system calls per folder, cost as much as the rest of a check in Python).
    The owner makes a new one when it wants the search done again (health checks: at each
    RUNNING); a spawn that fails searches again at once, so its message is the one a fresh
    search gives (a command removed since: "can't find command")."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.found: tuple[str, list[str]] | None = None


def spawn_command(command: str | FoundCommand, target: ProbeTarget, *, merge_stderr: bool) -> Child:
    """Spawn `command` as its program is, its stdin /dev/null (the caller watches its pid
    with the reaper and owns its pipes), or raise CommandFailed (a child that failed before
    its exec is reaped quietly)."""
    found = command if isinstance(command, FoundCommand) else FoundCommand(command)
    try:
        if found.found is not None:
            try:
                return _spawn(found.found, target, merge_stderr)
            except CommandFailed:
                found.found = None  # moved or removed: search again, now
        words = resolve_command(found.command, target.env, target.config.directory)
        child = _spawn(words, target, merge_stderr)
    except CommandError as exc:
        raise CommandFailed(exc.message) from None
    found.found = words
    return child


def _spawn(words: tuple[str, list[str]], target: ProbeTarget, merge_stderr: bool) -> Child:
    config = target.config
    filename, argv = words
    try:
        child = spawn(
            SpawnRequest(
                filename,
                argv,
                target.env,
                directory=config.directory,
                umask=config.umask,
                uid=config.uid,
                redirect_stderr=merge_stderr,
                stdin_fd=_null_input(),
                death_signal=int(signal.SIGKILL),
                program=config,  # its limits, nice, OOM score and user environment
            )
        )
    except SpawnError as exc:
        if exc.pid:
            target.reaper.watch(exc.pid, lambda status: None)
        raise CommandFailed(exc.message) from None
    if child.stdin is not None:
        os.close(child.stdin)
    return child


@functools.cache
def _null_input() -> int:
    """/dev/null, opened once, as every command's stdin: it reads end of file at once, as a
    pipe closed at the spawn did, without a pipe made and closed at each check."""
    return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)


class CommandChild:
    """A command started as its program is (user, environment, directory, umask), in a
    process group of its own, its exit told by the daemon's one reaper.

    The caller owns `stdout` (and `stderr`, None when merged into stdout). A wait that times
    out or is cancelled kills the whole process group, so nothing it started is left behind.
    """

    def __init__(self, pid: int, stdout: int, stderr: int | None, exited: asyncio.Future[int]):
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
        self._exited = exited

    @classmethod
    def start(cls, command: str, target: ProbeTarget, *, merge_stderr: bool) -> CommandChild:
        """Spawn `command` now, or raise CommandFailed."""
        child = spawn_command(command, target, merge_stderr=merge_stderr)
        exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def reaped(status: int) -> None:
            if not exited.done():
                exited.set_result(status)

        target.reaper.watch(child.pid, reaped)
        return cls(child.pid, child.stdout, child.stderr, exited)

    @property
    def running(self) -> bool:
        return not self._exited.done()

    async def wait(self, timeout: float) -> int | None:
        """The wait status; None when it ran longer than `timeout` (it is then killed)."""
        try:
            return await asyncio.wait_for(asyncio.shield(self._exited), timeout)
        except TimeoutError:
            self.kill()
            return None
        except asyncio.CancelledError:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL to its process group, unless it was reaped already (its pid and group id
        may then be another's)."""
        if self.running:
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)


class CommandCheck:
    """One command run as a check, on callbacks only: the reaper tells its exit, its output
    (stderr merged; the first OUTPUT_LIMIT bytes kept) is read when it exits, and one timer
    at a time watches it: FIRST_LOOK after the spawn, a command still running has its output
    read as it comes (so that one writing more than a pipe holds is not blocked); at the
    timeout its process group is killed; once it exited, its output may go on EOF_GRACE
    more (a descendant may hold the pipe). `done` is called once.

    Most commands end within FIRST_LOOK with their output: one timer, no reader. (As a task
    awaiting futures under wait_for, reading through a reader, a check cost about twice its
    spawn.)
    """

    def __init__(
        self, command: str | FoundCommand, target: ProbeTarget, timeout: float, done: Done
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._done: Done | None = done
        self._timeout = timeout
        self._data = bytearray()
        self._status: int | None = None
        self._pid = 0
        self._fd = -1
        self._reading = False  # a reader is on the pipe
        self._timer: asyncio.TimerHandle | None = None
        try:
            child = spawn_command(command, target, merge_stderr=True)
        except CommandFailed as exc:
            self._loop.call_soon(self._finish, ProbeResult(False, exc.message))
            return
        self._pid, self._fd = child.pid, child.stdout  # non-blocking, as spawn made it
        target.reaper.watch(child.pid, self._exited)
        self._deadline = self._loop.time() + timeout
        self._timer = self._loop.call_later(min(timeout, FIRST_LOOK), self._look)

    def cancel(self) -> None:
        """No result wanted any more: kill the command if it runs, release what it holds."""
        if self._done is None:
            return
        self._done = None
        self._kill()
        self._release()

    def _look(self) -> None:
        """Still running after FIRST_LOOK: read its output as it comes, until the timeout."""
        self._timer = None
        self._read_as_it_comes()
        if self._loop.time() >= self._deadline:
            self._expired()
        else:
            self._timer = self._loop.call_at(self._deadline, self._expired)

    def _read_as_it_comes(self) -> None:
        if not self._reading and self._fd >= 0:
            self._loop.add_reader(self._fd, self._readable)
            self._reading = True

    def _readable(self) -> None:
        if self._read() and self._status is not None:
            self._conclude()

    def _read(self) -> bool | None:
        """Take what the pipe holds: True at its end (then closed), None if nothing is there
        now, False after some output."""
        try:
            chunk = os.read(self._fd, 65536)
        except BlockingIOError:
            return None
        except OSError:
            chunk = b""
        if not chunk:
            self._close_pipe()
            return True
        room = OUTPUT_LIMIT - len(self._data)
        if room > 0:
            self._data += chunk[:room]
        return False

    def _exited(self, status: int) -> None:
        if self._done is None:
            return  # timed out (and killed) or cancelled before
        self._status = status
        for _ in range(READS_AT_EXIT):  # its output mostly ends with it: read it now
            if self._fd < 0 or self._read() is not False:
                break
        if self._fd < 0:
            self._conclude()
            return
        self._read_as_it_comes()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(EOF_GRACE, self._conclude)

    def _expired(self) -> None:
        self._timer = None
        self._kill()
        self._finish(ProbeResult(False, f"timed out after {self._timeout:g} seconds; killed"))

    def _conclude(self) -> None:
        assert self._status is not None
        code, how = describe_wait_status(self._status)
        text = self._data.decode("utf-8", "replace").strip()
        self._finish(ProbeResult(code == 0, text if text else how))

    def _finish(self, result: ProbeResult) -> None:
        done, self._done = self._done, None
        self._release()
        if done is not None:
            done(result)

    def _kill(self) -> None:
        """SIGKILL to its process group, unless it was reaped (its pid may be another's)."""
        if self._pid and self._status is None:
            with contextlib.suppress(OSError):
                os.killpg(self._pid, signal.SIGKILL)

    def _release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self._fd >= 0:
            if self._reading:
                self._loop.remove_reader(self._fd)
                self._reading = False
            os.close(self._fd)
            self._fd = -1
