"""Moving bytes between the daemon and a child's pipes, without per-byte Python work.

A pump reads one child channel in large chunks whenever the loop says it is readable and hands
each chunk, in order, to its sink. It keeps reading until end of file, so output a child (or a
grandchild holding the pipe) writes just before exiting is never dropped; at end of file a sink
that holds partial lines is told (``ended_stream``), so it sends them out then.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from vigil.core.ports import OutputSink

# Pipes start at the kernel's default size. A child that fills its pipe gets a 1 MiB one
# (fewer wake-ups, larger writes to its log); the others keep theirs, so hundreds of quiet
# programs do not use up the per-user pipe budget (/proc/sys/fs/pipe-user-pages-soft).
READ_SIZE = 1 << 16
LARGE_READ_SIZE = 1 << 20
F_SETPIPE_SZ = 1031
READS_PER_WAKEUP = 4  # then yield, so one flooding child cannot starve the others


@runtime_checkable
class StreamEndAware(Protocol):
    """A sink that holds partial lines and must hear when its stream ended (one run of the
    child), not only when it is closed (the process removed)."""

    def ended_stream(self) -> None: ...


class OutputPump:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        fd: int,
        sink: OutputSink,
        on_eof: Callable[[], None] | None = None,
    ) -> None:
        self._loop = loop
        self._fd: int | None = fd
        self._sink = sink
        self._on_eof = on_eof
        self._read_size = READ_SIZE
        loop.add_reader(fd, self._readable)

    @property
    def open(self) -> bool:
        return self._fd is not None

    def drain(self) -> None:
        """Read what is in the pipe now (used before reporting an exit, so output comes first)."""
        while self._fd is not None and self._read_once():
            pass

    def _readable(self) -> None:
        for _ in range(READS_PER_WAKEUP):
            if not self._read_once():
                return

    def _read_once(self) -> bool:
        """True when a full chunk was read and more may be waiting."""
        fd = self._fd
        if fd is None:
            return False
        try:
            data = os.read(fd, self._read_size)
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno == errno.EINTR:
                return True
            data = b""
        if not data:
            self.close()
            if isinstance(self._sink, StreamEndAware):  # at end of file only: rare
                self._sink.ended_stream()
            if self._on_eof is not None:
                self._on_eof()
            return False
        self._sink.write(data)
        if len(data) < self._read_size:
            return False
        if self._read_size < LARGE_READ_SIZE:
            self._grow(fd)
        return True

    def _grow(self, fd: int) -> None:
        """The child filled what we read at once: give it a large pipe and read in large
        chunks (if the kernel refuses the size, larger reads still help)."""
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, F_SETPIPE_SZ, LARGE_READ_SIZE)
        self._read_size = LARGE_READ_SIZE

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            self._loop.remove_reader(fd)
            os.close(fd)


class StdinClosed(Exception):
    """The child closed its stdin (or never had one)."""


class StdinWriter:
    """Buffered, non-blocking writes to a child's stdin: a slow reader never blocks the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self._loop = loop
        self._fd: int | None = fd
        self._pending = bytearray()

    @property
    def open(self) -> bool:
        return self._fd is not None

    def write(self, data: bytes) -> None:
        if self._fd is None:
            raise StdinClosed()
        if self._pending:
            self._pending += data
            return
        self._pending += data
        self._flush()
        if self._fd is None:
            raise StdinClosed()  # the write found the pipe closed (EPIPE)
        if self._pending:
            self._loop.add_writer(self._fd, self._flush)

    def _flush(self) -> None:
        fd = self._fd
        if fd is None:
            return
        try:
            while self._pending:
                sent = os.write(fd, self._pending)
                del self._pending[:sent]
        except BlockingIOError:
            return
        except OSError:
            self.close()
            return
        self._loop.remove_writer(fd)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        self._pending.clear()
        if fd is not None:
            self._loop.remove_writer(fd)
            os.close(fd)
