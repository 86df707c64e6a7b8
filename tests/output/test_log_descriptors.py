"""A child log costs a descriptor only once its program has written something.

The file itself is there from the start (Supervisor creates it at spawn, and users look for
it); the descriptor is opened by the first chunk and kept from then on.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.output.support import MemoryLog
from vigil.services.childlog import ChildLog, ChildLogSettings


def settings(path: Path, **overrides: object) -> ChildLogSettings:
    values: dict[str, object] = {"name": "web", "channel": "stdout", "path": str(path)}
    values.update(overrides)
    return ChildLogSettings(**values)  # type: ignore[arg-type]


def held(path: Path) -> int:
    """How many of this process's descriptors are open on ``path``."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the descriptor listdir itself used
        count += target == str(path)
    return count


def test_a_quiet_log_exists_and_holds_no_descriptor(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    log = ChildLog(settings(path), MemoryLog())
    assert path.read_bytes() == b""
    assert held(path) == 0
    log.close()


def test_the_first_chunk_opens_the_file_and_it_stays_open(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    log = ChildLog(settings(path, maxbytes=10, backups=1), MemoryLog())
    log.write(b"one\n")
    assert held(path) == 1
    log.write(b"two\n")
    log.write(b"three\n")  # reaches maxbytes: rotated, the new file held in its place
    assert held(path) == 1
    log.write(b"four\n")
    log.close()
    assert held(path) == 0
    assert Path(f"{path}.1").read_bytes() == b"one\ntwo\nthree\n"
    assert path.read_bytes() == b"four\n"


def test_reopen_and_clear_leave_the_file_without_a_descriptor(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    log = ChildLog(settings(path), MemoryLog())
    log.write(b"before\n")
    path.rename(tmp_path / "web.log.old")
    log.reopen()
    assert path.read_bytes() == b"" and held(path) == 0
    log.write(b"after\n")
    log.clear()
    assert path.read_bytes() == b"" and held(path) == 0
    log.write(b"cleared\n")
    log.close()
    assert (tmp_path / "web.log.old").read_bytes() == b"before\n"
    assert path.read_bytes() == b"cleared\n"
    assert log.error is None


def test_a_log_removed_before_its_first_chunk_is_made_again(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    mainlog = MemoryLog()
    log = ChildLog(settings(path), mainlog)
    path.unlink()
    log.write(b"kept\n")
    log.close()
    assert path.read_bytes() == b"kept\n"
    assert log.error is None and mainlog.lines == []


def test_content_written_before_the_first_chunk_counts_toward_maxbytes(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    log = ChildLog(settings(path, maxbytes=100, backups=1), MemoryLog())
    path.write_bytes(b"by hand" * 13)
    log.write(b"!")  # 92 bytes: the file's size is learnt when it is opened
    log.write(b"?" * 8)
    log.close()
    assert Path(f"{path}.1").read_bytes() == b"by hand" * 13 + b"!" + b"?" * 8
    assert path.read_bytes() == b""


def test_a_fifo_is_held_open_from_the_start(tmp_path: Path) -> None:
    fifo = tmp_path / "stdout"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        log = ChildLog(settings(fifo), MemoryLog())
        with pytest.raises(BlockingIOError):  # a writer is there: no end of file for the reader
            os.read(reader, 100)
        log.reopen()
        log.write(b"line\n")
        assert os.read(reader, 100) == b"line\n"
        log.close()
        assert os.read(reader, 100) == b""
    finally:
        os.close(reader)
