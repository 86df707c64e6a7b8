"""A child log kept in memory: the last output of a channel that has no log file.

A forwarded channel (``forward_output``) without a log file of its own still answers
``tail``, ``readProcessStdoutLog`` and live streams: its output is kept in an anonymous
memory file (``memfd_create``) that readers open by its ``/proc/<pid>/fd/<n>`` name, as they
open any log file. The file is bounded: once it holds ``limit`` bytes, the older half is
dropped, at a line boundary, with one read and one write (readers see it shrink, as after a
rotation). Nothing is ever seeked on the daemon's own stdout (Supervisor's "Illegal seek" on
``/dev/stdout``: #1078, #935, #1224, #753, #1654): that stream only gets whole lines.
"""

from __future__ import annotations

import os

MEMORY_LOG_LIMIT = 1024 * 1024


class MemoryFile:
    """What ChildLog needs of a file (``RotatingFile``'s methods), in memory."""

    def __init__(self, name: str, limit: int = MEMORY_LOG_LIMIT) -> None:
        self.limit = limit
        self.size = 0
        self.written_total = 0
        self._fd: int | None = os.memfd_create(f"vigil:{name}", os.MFD_CLOEXEC)
        self.path = f"/proc/{os.getpid()}/fd/{self._fd}"

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def create(self) -> None:
        """Already made: nothing to do (a reopen after logrotate does not concern it)."""

    def open(self) -> None:
        if self._fd is None:
            raise OSError("the memory log is closed")

    def write(self, data: bytes | memoryview) -> None:
        fd = self._fd
        if fd is None:
            raise OSError("the memory log is closed")
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            self.size += written
            self.written_total += written
            view = view[written:]
        if self.size > self.limit:
            self._drop_older_half(fd)

    def _drop_older_half(self, fd: int) -> None:
        keep = os.pread(fd, self.limit // 2, self.size - self.limit // 2)
        cut = keep.find(b"\n")
        if 0 <= cut < len(keep) - 1:
            keep = keep[cut + 1 :]  # from the start of a line
        os.ftruncate(fd, 0)
        os.pwrite(fd, keep, 0)
        os.lseek(fd, len(keep), os.SEEK_SET)
        self.size = len(keep)

    def remove(self) -> None:
        """clearProcessLogs: start empty."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.lseek(self._fd, 0, os.SEEK_SET)
            self.size = 0

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
