"""One check of a socket, an HTTP server or a command, without blocking the loop.

Each probe answers a `ProbeResult` (passed or not, and what it saw: the status line, the
command's first output, the error) within its timeout; a probe that hangs is abandoned at
the timeout, and a command still running then is killed with its process group. Commands are
spawned as the program is (its user, environment and directory) and their exits come from
the daemon's one reaper, like every child's; CommandChild, which does that, also runs the
program's hooks (runtime/hooks.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass

from vigil.config.model import ProbeKind, ProcessConfig
from vigil.config.probes import Probe
from vigil.runtime.command import CommandError, resolve_command
from vigil.runtime.reaper import Reaper
from vigil.runtime.spawn import SpawnError, SpawnRequest, spawn
from vigil.runtime.waitstatus import describe_wait_status

OUTPUT_LIMIT = 4096  # bytes of a probe's output kept (Docker keeps as many)


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
    try:
        command = CommandChild.start(probe.command, target, merge_stderr=True)
    except CommandFailed as exc:
        return ProbeResult(False, exc.message)
    output = _Collector(asyncio.get_running_loop(), command.stdout)
    try:
        status = await command.wait(timeout)
    except asyncio.CancelledError:  # the check is no longer wanted: the command was killed
        output.close()
        raise
    if status is None:
        output.close()
        return ProbeResult(False, f"timed out after {timeout:g} seconds; killed")
    await output.done(0.5)  # what it wrote before it exited (a descendant may keep the pipe)
    code, how = describe_wait_status(status)
    text = output.text()
    return ProbeResult(code == 0, text if text else how)


class CommandFailed(Exception):
    """The command could not be started; `message` says why (as a failed spawn says it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
        config = target.config
        try:
            filename, argv = resolve_command(command, target.env, config.directory)
            child = spawn(
                SpawnRequest(
                    filename,
                    argv,
                    target.env,
                    directory=config.directory,
                    umask=config.umask,
                    uid=config.uid,
                    redirect_stderr=merge_stderr,
                    death_signal=int(signal.SIGKILL),
                )
            )
        except CommandError as exc:
            raise CommandFailed(exc.message) from None
        except SpawnError as exc:
            if exc.pid:
                target.reaper.watch(exc.pid, lambda status: None)
            raise CommandFailed(exc.message) from None
        if child.stdin is not None:
            os.close(child.stdin)
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


class _Collector:
    """Reads a command's output pipe as it comes, keeping the first OUTPUT_LIMIT bytes."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self._loop = loop
        self._fd = fd
        self._data = bytearray()
        self._eof: asyncio.Future[None] = loop.create_future()
        os.set_blocking(fd, False)
        loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            chunk = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.close()
            return
        room = OUTPUT_LIMIT - len(self._data)
        if room > 0:
            self._data += chunk[:room]

    async def done(self, grace: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._eof), grace)
        self.close()

    def close(self) -> None:
        if self._fd < 0:
            return
        self._loop.remove_reader(self._fd)
        os.close(self._fd)
        self._fd = -1
        if not self._eof.done():
            self._eof.set_result(None)

    def text(self) -> str:
        return self._data.decode("utf-8", "replace").strip()
