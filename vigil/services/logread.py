"""Reading the daemon's logs by byte offsets: readLog / readProcess*Log and tailProcess*Log.

The offset arithmetic and the faults are Supervisor's (``options.readFile`` / ``tailFile`` and
their callers in ``rpcinterface``), so clients that page through a log or follow it with
``tail -f`` behave the same. Three things differ, each to keep the daemon safe and answering:

* A read returns at most ``limit`` bytes (64 MiB by default): the first ``limit`` bytes from a
  non-negative offset, the last ``limit`` bytes for a negative one; a tail treats a longer
  ``length`` as ``limit``. Supervisor reads whatever was asked into memory.
* Only regular files are read. Anything else (``/dev/stdout``, a FIFO, a terminal) reads as an
  empty file; Supervisor would block the whole daemon reading a pipe or terminal.
* Bytes that are not UTF-8 become U+FFFD. Supervisor decodes strictly and the request fails
  with an HTTP 500 (or a FAILED fault inside multicall) whenever a read starts or ends inside
  a multi-byte character, which happens routinely with tails.
"""

from __future__ import annotations

import errno
import os
import stat

from vigil.faults import Faults, RPCError

DEFAULT_READ_LIMIT = 64 * 1024 * 1024


def decode_log_bytes(data: bytes) -> str:
    """How log bytes become the string of an RPC answer."""
    return data.decode("utf-8", "replace")


class _LogReader:
    """An open log file; its size is 0 and it holds nothing if it is not a regular file.

    A directory cannot be opened, as with Python's ``open`` in Supervisor (FAILED).
    """

    def __init__(self, path: str) -> None:
        # O_NONBLOCK: opening a FIFO must not wait for a writer.
        self._fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            info = os.fstat(self._fd)
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        except OSError:
            os.close(self._fd)
            raise
        self.regular = stat.S_ISREG(info.st_mode)
        self.size = info.st_size if self.regular else 0

    def __enter__(self) -> _LogReader:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)

    def read(self, position: int, amount: int) -> bytes:
        """Up to ``amount`` bytes at ``position``; fewer at the end of the file."""
        amount = min(amount, self.size - position)  # never allocate for bytes that are not there
        if not self.regular or amount <= 0:
            return b""
        pieces: list[bytes] = []
        while amount > 0:
            piece = os.pread(self._fd, amount, position)
            if not piece:
                break
            pieces.append(piece)
            position += len(piece)
            amount -= len(piece)
        return b"".join(pieces)


def _exists(path: str | None) -> bool:
    return path is not None and os.path.exists(path)


def read_bytes(
    path: str | None, offset: int, length: int, *, limit: int = DEFAULT_READ_LIMIT
) -> bytes:
    """Supervisor's ``readFile``, as bytes.

    * ``offset < 0`` and ``length == 0``: the last ``-offset`` bytes.
    * ``offset >= 0`` and ``length == 0``: from ``offset`` to the end.
    * ``offset >= 0`` and ``length > 0``: ``length`` bytes from ``offset``.
    * anything else: BAD_ARGUMENTS. A missing file: NO_FILE (naming it); a file that cannot be
      opened or read: FAILED (checked before the arguments, as Supervisor does).
    """
    if not _exists(path):
        raise RPCError(Faults.NO_FILE, path)
    assert path is not None
    try:
        with _LogReader(path) as log:
            if offset < 0:
                if length != 0:
                    raise RPCError(Faults.BAD_ARGUMENTS)
                amount = min(-offset, limit)
                return log.read(max(log.size - amount, 0), amount)
            if length < 0:
                raise RPCError(Faults.BAD_ARGUMENTS)
            amount = limit if length == 0 else min(length, limit)
            return log.read(offset, amount)
    except OSError as exc:
        raise RPCError(Faults.FAILED) from exc


def read_file(
    path: str | None, offset: int, length: int, *, limit: int = DEFAULT_READ_LIMIT
) -> str:
    """readLog / readProcessStdoutLog / readProcessStderrLog: see ``read_bytes``."""
    return decode_log_bytes(read_bytes(path, offset, length, limit=limit))


def tail_bytes(
    path: str | None, offset: int, length: int, *, limit: int = DEFAULT_READ_LIMIT
) -> tuple[bytes, int, bool]:
    """Supervisor's ``tailFile``, as bytes: (data, next offset, overflow).

    Up to ``length`` bytes from ``offset``; when the file holds more than ``offset + length``
    bytes, ``overflow`` is set and the last ``length`` bytes are returned instead. The next
    offset is the file size. A missing file gives ``(b"", 0, False)``, one that cannot be read
    ``(b"", offset, False)``; tails never fail.
    """
    if not _exists(path):
        return b"", 0, False
    assert path is not None
    length = min(length, limit)
    try:
        with _LogReader(path) as log:
            size = log.size
            overflow = False
            if size > offset + length:
                overflow = True
                offset = size - 1
            if offset + length > size:
                if offset > size - 1:
                    length = 0
                offset = size - length
            offset = max(offset, 0)
            length = max(length, 0)
            data = log.read(offset, length)
            return data, size, overflow
    except OSError:
        return b"", offset, False


def tail_file(
    path: str | None, offset: int, length: int, *, limit: int = DEFAULT_READ_LIMIT
) -> tuple[str, int, bool]:
    """tailProcessStdoutLog / tailProcessStderrLog: see ``tail_bytes``."""
    data, next_offset, overflow = tail_bytes(path, offset, length, limit=limit)
    return decode_log_bytes(data), next_offset, overflow
