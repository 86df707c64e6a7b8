"""One check of a socket, an HTTP server or a command, without blocking the loop.

Each probe answers a `ProbeResult` (passed or not, and what it saw: the status line, the
command's first output, the error) within its timeout; a probe that hangs is abandoned at
the timeout, and a command still running then is killed with its process group. Commands are
spawned as the program is (its user, environment and directory) and their exits come from
the daemon's one reaper, like every child's.
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
    config = target.config
    try:
        filename, argv = resolve_command(probe.command, target.env, config.directory)
        child = spawn(
            SpawnRequest(
                filename,
                argv,
                target.env,
                directory=config.directory,
                umask=config.umask,
                uid=config.uid,
                redirect_stderr=True,
                death_signal=int(signal.SIGKILL),
            )
        )
    except CommandError as exc:
        return ProbeResult(False, exc.message)
    except SpawnError as exc:
        if exc.pid:
            target.reaper.watch(exc.pid, lambda status: None)
        return ProbeResult(False, exc.message)
    if child.stdin is not None:
        os.close(child.stdin)
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[int] = loop.create_future()

    def reaped(status: int) -> None:
        if not exited.done():
            exited.set_result(status)

    target.reaper.watch(child.pid, reaped)
    output = _Collector(loop, child.stdout)
    try:
        status = await asyncio.wait_for(asyncio.shield(exited), timeout)
    except TimeoutError:
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL)  # the command and what it started
        output.close()
        return ProbeResult(False, f"timed out after {timeout:g} seconds; killed")
    await output.done(0.5)  # what it wrote before it exited (a descendant may keep the pipe)
    code, how = describe_wait_status(status)
    text = output.text()
    return ProbeResult(code == 0, text if text else how)


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
