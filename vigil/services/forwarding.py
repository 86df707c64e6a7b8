"""Forwarded output (``forward_output``): each line of a child on the daemon's own stdout or
stderr, prefixed with the process name (``web_0 | ...``), as a container's log expects.

Whole lines only. The pipe reader's chunks are cut at their last newline with bytes methods
(no per-byte Python work); the lines before it go out with one write, prefixed by one
``bytes.replace``; the rest waits for its newline. A partial line longer than
``PARTIAL_LINE_LIMIT`` is written with `` [...]`` at its end, and its continuation starts
with ``[...] ``; at the end of the output a last partial line gets its newline. Each write
carries whole lines of one process, and everything written to one descriptor goes through
one ``ConsoleStream``, which never starts a block before the previous one is out: lines of
different processes never interleave.

Nothing seeks or rotates here. When the daemon's stdout is a pipe (a container runtime's),
it is written without blocking: what the reader has not taken yet waits in memory, up to
``CONSOLE_BACKLOG_LIMIT`` bytes, and a reader that is slow for a moment never stalls the
daemon. Past that the daemon waits for the reader rather than lose a line: it reads its
children no further meanwhile, so they wait on their pipes in turn (backpressure, as
without vigil in between). Nothing is ever dropped.
"""

from __future__ import annotations

import asyncio
import io
import os
import stat
import time
from collections import deque
from collections.abc import Callable

from vigil.services.line_stamps import Rfc3339

PARTIAL_LINE_LIMIT = 64 * 1024
CONSOLE_BACKLOG_LIMIT = 4 * 1024 * 1024
CUT_MARK = b" [...]"
CONTINUED_MARK = b"[...] "


class ConsoleStream:
    """One of the daemon's own descriptors (1 or 2), written block by block."""

    def __init__(self, fd: int, limit: int = CONSOLE_BACKLOG_LIMIT) -> None:
        self.fd = fd
        self.limit = limit
        self._pending: deque[bytes | memoryview] = deque()
        self._pending_bytes = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._nonblocking = False
        self._checked = False

    def write(self, block: bytes | memoryview) -> None:
        if not self._checked:
            self._prepare()
        if self._pending:
            self._queue(block)
            return
        written = self._write_now(block)
        if written < len(block):
            self._pending.append(block[written:])
            self._pending_bytes += len(block) - written
            self._arm()

    def _prepare(self) -> None:
        """A pipe or socket is written without blocking; a file or terminal as it is."""
        self._checked = True
        try:
            mode = os.fstat(self.fd).st_mode
            if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
                asyncio.get_running_loop()  # only with a loop to wait for it on
                os.set_blocking(self.fd, False)
                self._nonblocking = True
        except (OSError, RuntimeError):
            pass

    def _write_now(self, block: bytes | memoryview) -> int:
        view = memoryview(block)
        written = 0
        while written < len(block):
            try:
                written += os.write(self.fd, view[written:])
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            except OSError:
                return len(block)  # stdout closed (EPIPE): nobody reads it any more
        return written

    def _queue(self, block: bytes | memoryview) -> None:
        self._pending.append(block)
        self._pending_bytes += len(block)
        if self._pending_bytes > self.limit:
            self._write_all_blocking()

    def _write_all_blocking(self) -> None:
        """The reader is this far behind: wait for it, rather than lose output. The daemon
        stops reading its children meanwhile, so they wait on their pipes in turn."""
        os.set_blocking(self.fd, True)
        try:
            while self._pending:
                block = self._pending.popleft()
                self._pending_bytes -= len(block)
                self._write_now(block)
        finally:
            os.set_blocking(self.fd, False)
        assert self._loop is not None
        self._loop.remove_writer(self.fd)

    def _arm(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        self._loop.add_writer(self.fd, self._drain)

    def _drain(self) -> None:
        while self._pending:
            block = self._pending[0]
            written = self._write_now(block)
            self._pending_bytes -= written
            if written < len(block):
                self._pending[0] = block[written:]
                return
            self._pending.popleft()
        assert self._loop is not None
        self._loop.remove_writer(self.fd)

    def close(self) -> None:
        """Write what waits (blocking), and give the descriptor back as it was."""
        if self._loop is not None and self._pending:
            self._loop.remove_writer(self.fd)
        if self._nonblocking:
            os.set_blocking(self.fd, True)
            self._nonblocking = False
        while self._pending:
            self._write_now(self._pending.popleft())
        self._pending_bytes = 0


class Consoles:
    """The daemon's stdout and stderr as forwarding targets; `container` says whether
    forwarding is the default (container mode)."""

    def __init__(self, *, container: bool) -> None:
        self.container = container
        self.stdout = ConsoleStream(1)
        self.stderr = ConsoleStream(2)

    def close(self) -> None:
        self.stdout.close()
        self.stderr.close()


class LineForwarder:
    """One channel of one process, forwarded to a console stream line by line."""

    __slots__ = ("_clock", "_console", "_format", "_partial", "_prefix")

    def __init__(
        self,
        name: str,
        console: ConsoleStream,
        *,
        timestamps: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._prefix = f"{name} | ".encode()
        self._console = console
        self._format = Rfc3339() if timestamps else None
        self._clock = clock
        self._partial = b""

    def feed(self, data: bytes) -> None:
        if self._partial:
            data = self._partial + data
        cut = data.rfind(b"\n")
        if cut < 0:
            self._partial = data
            if len(data) > PARTIAL_LINE_LIMIT:
                self._partial = b""
                self._send(data + CUT_MARK + b"\n")
                self._partial = CONTINUED_MARK
            return
        self._partial = data[cut + 1 :]
        self._send(data[: cut + 1])
        if len(self._partial) > PARTIAL_LINE_LIMIT:
            self._send(self._partial + CUT_MARK + b"\n")
            self._partial = CONTINUED_MARK

    def finish(self) -> None:
        """The output ended: a last line without a newline still goes out, with one."""
        if self._partial and self._partial != CONTINUED_MARK:
            self._send(self._partial + b"\n")
        self._partial = b""

    def _send(self, lines: bytes) -> None:
        """Whole lines, each ending in a newline, prefixed in one replace; the prefix before
        the first line comes from the newline put before them, and the one after the last
        is cut off by a view's bound (slices and concatenations would each copy it all)."""
        prefix = self._prefix
        if self._format is not None:
            prefix = self._format(self._clock()) + b" " + prefix
        out = (b"\n" + lines).replace(b"\n", b"\n" + prefix)
        self._console.write(memoryview(out)[1 : len(out) - len(prefix)])


class ConsoleText(io.TextIOBase):
    """The main log's echo written through a ConsoleStream, so that its records and the
    forwarded lines share one writer and never cut into each other."""

    def __init__(self, stream: ConsoleStream) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            data = text.encode("utf-8", "backslashreplace")
        self._stream.write(data)
        return len(text)

    def flush(self) -> None:
        """Each write is already handed on whole."""
