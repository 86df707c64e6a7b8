"""Log files on disk under Supervisor's names: AUTO child logs, their cleanup, and rotation.

Rotation follows Supervisor's RotatingFileHandler: a write goes to the file whole, and when the
file has then reached ``maxbytes`` it becomes ``<path>.1`` (``.1`` becomes ``.2`` and so on up
to ``backups``; the oldest is dropped) and a new empty file takes its place; with ``backups=0``
the file is truncated instead. Rotating only between writes means a write is never split across
two files: the retained files ``<path>.backups`` ... ``<path>.1``, ``<path>`` always hold a
contiguous tail of everything written, in order, cut only at write boundaries.

Unlike Supervisor, no retained name is ever missing, not even for an instant: each name is
replaced atomically by a rename, never removed first (see ``RotatingFile.rotate``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat

from vigil.config.model import Auto, Logfile, LogLevel
from vigil.core.events import Channel
from vigil.core.ports import MainLog

_OPEN_APPEND = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
# mkstemp's flags: a name already taken (or a symlink planted under it) is never opened
_CREATE_PRIVATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# mkstemp's alphabet, reached from random bytes by one table lookup each (256 is not a multiple
# of 37, so a few letters come up 7/6 as often: harmless, as O_EXCL settles every collision)
_NAME_ALPHABET = b"abcdefghijklmnopqrstuvwxyz0123456789_"
_NAME_TABLE = bytes(_NAME_ALPHABET[value % len(_NAME_ALPHABET)] for value in range(256))
_NAME_ATTEMPTS = 10_000  # as many as mkstemp makes (os.TMP_MAX on Linux is 238,328)


def auto_log_path(childlogdir: str, procname: str, channel: Channel, identifier: str) -> str:
    """Create an AUTO child log and return its path.

    The name is ``<procname>-<channel>---<identifier>-<8 random chars>.log``, created empty with
    mode 0600 so nobody else can take the name first, as Supervisor's mkstemp does; mkstemp's
    bookkeeping (a shared random generator checked against the pid, path normalisation) cost
    as much again as creating the file, twice per program.
    """
    prefix = os.path.abspath(os.path.join(childlogdir, f"{procname}-{channel}---{identifier}-"))
    for _ in range(_NAME_ATTEMPTS):
        path = f"{prefix}{os.urandom(8).translate(_NAME_TABLE).decode()}.log"
        try:
            os.close(os.open(path, _CREATE_PRIVATE, 0o600))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "No usable AUTO log name found", prefix)


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


# link() refused by the filesystem itself (no hard links there): shift by renaming instead.
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK})


def spare_name(path: str, purpose: str) -> str:
    """A name beside ``path`` used for an instant while rotating: hidden, and matched by
    the AUTO cleanup pattern like the log itself, so a crash mid-rotation leaves nothing
    that the next start does not remove."""
    head, tail = os.path.split(path)
    return os.path.join(head, f".{tail}.{purpose}")


def copy_name(source: str, target: str, spare: str) -> bool:
    """Make ``target`` name the file ``source`` names, atomically, keeping ``source``.

    A hard link under ``spare`` is renamed over ``target``: at every instant both names
    exist. False (and ``target`` untouched) when ``source`` is already gone (a cleanup script
    removed it). Where the filesystem has no hard links, ``source`` is renamed instead, and is
    missing until something replaces it.
    """
    try:
        os.link(source, spare)
    except FileNotFoundError:
        return False
    except FileExistsError:  # left by a rotation that crashed half-way
        os.unlink(spare)
        os.link(source, spare)
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        try:
            os.replace(source, target)
        except FileNotFoundError:
            return False
        return True
    try:
        os.replace(spare, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(spare)
        raise
    return True


def _remove_if_present(path: str) -> None:
    """Remove, tolerating a file already gone; on the way out of a failure, any error."""
    with contextlib.suppress(OSError):
        os.unlink(path)


class RotatingFile:
    """One log file written with ``os.write``, its size tracked by arithmetic, rotated by size.

    ``create`` makes the file and ``open`` takes a descriptor for writing, which is then kept:
    a log opened only once something is written costs no descriptor while its program is quiet.

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

    def create(self) -> None:
        """Make sure the file exists and learn its size, holding no descriptor until a write
        opens it (``open``): a daemon with thousands of quiet programs would otherwise hold two
        descriptors for each, which every spawn pays for (the child's descriptor table is
        copied, then swept at exec) and which count against ``ulimit -n``.

        A target that is not a regular file stays open, as it always was: opening a FIFO waits
        for its reader, and closing it again would end that reader's stream.
        """
        self.open()
        if self._regular:
            self.close()

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def write(self, data: bytes | memoryview) -> None:
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
        """Shift the backups and start an empty file, with every retained name present at
        every instant (readers and ``tail -F`` never find a gap).

        Each backup is copied one place up by linking it under a spare name and renaming that
        over the next name, oldest first, then ``path`` is copied to ``.1`` likewise; the new
        empty file, created first under a spare name, is renamed over ``path``. Each name is
        thus replaced in one step, never removed or renamed away first. The dropped oldest
        backup is freed inside the rename that replaces it, which can take milliseconds on a
        busy disk; renaming ``.n-1`` onto ``.n`` used to leave ``.n-1`` missing for all that
        time, and any reader looking for it then held up the rename that would bring it back.

        The new file is created first: if that fails nothing has moved. If a later step fails
        the current file stays open for appending, nothing is lost, no file is left under two
        names, and the next write tries again.
        """
        if self.backups == 0:
            self.open(truncate=True)
            return
        fresh_path = spare_name(self.path, "new")
        fresh = self._create_fresh(fresh_path)
        try:
            self._shift_names(spare_name(self.path, "link"))
            try:
                os.replace(fresh_path, self.path)
            except OSError:
                _remove_if_present(backup_path(self.path, 1))  # the log, not a second name
                raise
        except OSError:
            os.close(fresh)
            _remove_if_present(fresh_path)
            raise
        self.close()
        self._fd = fresh
        self._regular = True
        self.size = 0

    def _shift_names(self, spare: str) -> None:
        """``.n-1`` to ``.n`` ... ``.1`` to ``.2``, then ``path`` to ``.1``, each kept in place.

        A name whose file is gone (removed by hand) leaves a hole one place up, as Supervisor's
        renames would: the copy just shifted up from there is removed, and ``.1`` always is
        (Supervisor removes ``.1`` before renaming the log onto it). When a step fails, the
        source of the last copy is removed, turning that copy into the rename it stands for.
        """
        shifted_up = False  # the name about to be filled was copied one place up just now
        last_source: str | None = None
        try:
            for number in range(self.backups - 1, 0, -1):
                source, target = backup_path(self.path, number), backup_path(self.path, number + 1)
                copied = copy_name(source, target, spare)
                if not copied and shifted_up:
                    _remove_if_present(target)
                shifted_up = copied
                last_source = source if copied else None
            first = backup_path(self.path, 1)
            if not copy_name(self.path, first, spare):
                _remove_if_present(first)
        except OSError:
            if last_source is not None:
                _remove_if_present(last_source)
            raise

    @staticmethod
    def _create_fresh(path: str) -> int:
        """An empty file under the spare name, replacing one a crash may have left."""
        flags = _OPEN_APPEND | os.O_EXCL
        try:
            return os.open(path, flags, 0o666)
        except FileExistsError:
            os.unlink(path)
            return os.open(path, flags, 0o666)

    def remove(self) -> None:
        """Delete the file and create a new one (clearLog, clearProcessLogs), left to be
        opened by the next write as ``create`` leaves it.

        When the removal fails the file is left as it was and the error raised.
        """
        self.close()
        try:
            if stat.S_ISREG(os.stat(self.path).st_mode):
                os.remove(self.path)
        except FileNotFoundError:
            pass
        self.create()
