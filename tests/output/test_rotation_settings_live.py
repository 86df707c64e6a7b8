"""ChildLog.set_rotation: new maxbytes and backups apply from the next write on, without a new
log (what an update that changes only them does in place)."""

from __future__ import annotations

from pathlib import Path

from tests.output.support import MemoryLog
from vigil.services.childlog import ChildLog, ChildLogSettings


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_lower_maxbytes_and_more_backups_apply_at_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    settings = ChildLogSettings(name="web", channel="stdout", path=str(path), maxbytes=100)
    log = ChildLog(settings, MemoryLog())
    log.write(b"a" * 30)
    assert _files(tmp_path) == {"web.log": b"a" * 30}  # below 100: no rotation
    log.set_rotation(20, 2)
    assert (log.settings.maxbytes, log.settings.backups) == (20, 2)
    log.write(b"b" * 5)  # the file is past the new maxbytes: it rotates after this write
    assert _files(tmp_path) == {"web.log": b"", "web.log.1": b"a" * 30 + b"b" * 5}
    log.write(b"c" * 25)
    assert _files(tmp_path) == {
        "web.log": b"",
        "web.log.1": b"c" * 25,
        "web.log.2": b"a" * 30 + b"b" * 5,
    }
    log.write(b"d" * 25)  # two backups kept: the oldest goes
    assert _files(tmp_path) == {"web.log": b"", "web.log.1": b"d" * 25, "web.log.2": b"c" * 25}
    log.close()


def test_maxbytes_zero_stops_rotating(tmp_path: Path) -> None:
    path = tmp_path / "web.log"
    settings = ChildLogSettings(
        name="web", channel="stdout", path=str(path), maxbytes=10, backups=1
    )
    log = ChildLog(settings, MemoryLog())
    log.set_rotation(0, 1)
    log.write(b"x" * 50)
    log.write(b"y" * 50)
    assert _files(tmp_path) == {"web.log": b"x" * 50 + b"y" * 50}
    log.close()
