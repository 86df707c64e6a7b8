"""Log files on disk under Supervisor's names: AUTO child logs, their cleanup, and rotation.

Rotation follows Supervisor's RotatingFileHandler: a write goes to the file whole, and when the
file has then reached ``maxbytes`` it becomes ``<path>.1`` (``.1`` becomes ``.2`` and so on up
to ``backups``; the oldest is dropped) and a new empty file takes its place; with ``backups=0``
the file is truncated instead. Rotating only between writes means a write is never split across
two files: the retained files ``<path>.backups`` ... ``<path>.1``, ``<path>`` always hold a
contiguous tail of everything written, in order, cut only at write boundaries.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from typing import Literal

from vigil.config.model import Auto, Logfile, LogLevel
from vigil.core.ports import MainLog

Channel = Literal["stdout", "stderr"]

_OPEN_APPEND = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC


def auto_log_path(childlogdir: str, procname: str, channel: Channel, identifier: str) -> str:
    """Create an AUTO child log and return its path.

    The name is ``<procname>-<channel>---<identifier>-<8 random chars>.log``, created empty with
    mode 0600 so nobody else can take the name first (Supervisor uses mkstemp the same way).
    """
    prefix = f"{procname}-{channel}---{identifier}-"
    fd, path = tempfile.mkstemp(suffix=".log", prefix=prefix, dir=childlogdir)
    os.close(fd)
    return path


def resolve_logfile(
    logfile: Logfile, *, childlogdir: str, procname: str, channel: Channel, identifier: str
) -> str | None:
    """The concrete path of a child log setting: AUTO becomes a new file in childlogdir."""
    if isinstance(logfile, Auto):
        return auto_log_path(childlogdir, procname, channel, identifier)
    return logfile


def auto_log_pattern(identifier: str) -> re.Pattern[str]:
    """Supervisor's cleanup pattern (matched at the start of a name, not anchored at its end).

    The identifier is escaped: Supervisor inserts it raw, which only differs for identifiers
    holding regex syntax (where Supervisor may fail to start or remove the wrong files).
    """
    return re.compile(rf".+?---{re.escape(identifier)}-\S+\.log\.{{0,1}}\d{{0,4}}")


def clean_auto_logs(childlogdir: str, identifier: str, mainlog: MainLog) -> list[str]:
    """Remove AUTO logs left by an earlier daemon with this identifier; return what was removed.

    Called once at startup unless ``nocleanup``; failures are warnings, as in Supervisor.
    """
    try:
        names = os.listdir(childlogdir)
    except OSError:
        mainlog.log(LogLevel.WARN, "Could not clear childlog dir")
        return []
    pattern = auto_log_pattern(identifier)
    removed: list[str] = []
    for name in sorted(names):
        if not pattern.match(name):
            continue
        path = os.path.join(childlogdir, name)
        try:
            os.remove(path)
        except OSError:
            mainlog.log(LogLevel.WARN, f"Failed to clean up {path!r}")
        else:
            removed.append(path)
    return removed


def backup_path(path: str, number: int) -> str:
    return f"{path}.{number}"


def _replace_if_present(source: str, target: str) -> None:
    """Rename, tolerating a source that is already gone (a cleanup script removed it)."""
    with contextlib.suppress(FileNotFoundError):
        os.replace(source, target)


class RotatingFile:
    """One log file written with ``os.write``, its size tracked by arithmetic, rotated by size.

    Every method that touches the disk raises ``OSError``; deciding what a failure means (report
    once, drop output, retry) belongs to the logs that use this. A target that is not a regular
    file (``/dev/stdout``, a FIFO, a terminal) is never rotated nor removed: Supervisor fails
    with "Illegal seek" there, and would unlink the ``/dev/stdout`` symlink on clear.
    """

    def __init__(self, path: str, maxbytes: int = 0, backups: int = 0) -> None:
        self.path = path
        self.maxbytes = maxbytes
        self.backups = backups
        self.size = 0
        self.written_total = 0  # every byte ever written, across rotations and reopens
        self._fd: int | None = None
        self._regular = True

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    @property
    def rotates(self) -> bool:
        return self.maxbytes > 0 and self._regular

    def fileno(self) -> int:
        if self._fd is None:
            raise OSError(errno.EBADF, "log file is not open", self.path)
        return self._fd

    def open(self, truncate: bool = False) -> None:
        """Open for appending (creating it), or empty it first when ``truncate``."""
        self.close()
        flags = _OPEN_APPEND | (os.O_TRUNC if truncate else 0)
        fd = os.open(self.path, flags, 0o666)
        try:
            info = os.fstat(fd)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        self._regular = stat.S_ISREG(info.st_mode)
        self.size = info.st_size if self._regular else 0

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def write(self, data: bytes) -> None:
        """Write all of ``data``, then rotate if the file has reached ``maxbytes``."""
        fd = self.fileno()
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            self.size += written
            self.written_total += written
            view = view[written:]
        self.rotate_if_full()

    def count_written(self, amount: int) -> None:
        """Account for bytes another path (splice) put into the file descriptor."""
        self.size += amount
        self.written_total += amount

    def rotate_if_full(self) -> None:
        if self.rotates and self.size >= self.maxbytes:
            self.rotate()

    def rotate(self) -> None:
        """Shift the backups and start an empty file.

        If a rename fails the file is reopened for appending, not truncated, so nothing is lost;
        the next write tries again.
        """
        self.close()
        try:
            if self.backups > 0:
                for number in range(self.backups - 1, 0, -1):
                    _replace_if_present(
                        backup_path(self.path, number), backup_path(self.path, number + 1)
                    )
                _replace_if_present(self.path, backup_path(self.path, 1))
        except OSError:
            self.open()
            raise
        self.open(truncate=True)

    def remove(self) -> None:
        """Delete the file and start a new one (clearLog, clearProcessLogs).

        When the removal fails the file is reopened as it was and the error raised.
        """
        self.close()
        try:
            if stat.S_ISREG(os.stat(self.path).st_mode):
                os.remove(self.path)
        except FileNotFoundError:
            pass
        except OSError:
            self.open()
            raise
        self.open()
