"""A log that cannot be written never raises into the daemon: the failure is recorded, said
once, retried with every later chunk, and the recovery reported with what was lost."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.output.support import REPO, MemoryLog
from vigil.config.model import LogLevel
from vigil.services.childlog import ChildLog, ChildLogSettings
from vigil.services.mainlog import MainLogger

# Runs in a process that cannot write the directory, reports, waits for the test to make the
# directory writable, and writes on. Root writes anywhere, so as root the process first gives up
# the capabilities that bypass file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): it
# stays the owner, and the owner's mode bits apply to it.
UNWRITABLE_SCENARIO = """
import ctypes, json, os, sys

def drop_permission_bypass():
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
    class Data(ctypes.Structure):
        _fields_ = [(name, ctypes.c_uint32) for name in ("effective", "permitted", "inheritable")]
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = Header(0x20080522, 0), (Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    bypass = (1 << 1) | (1 << 2)
    data[0].effective &= ~bypass
    data[0].permitted &= ~bypass
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")

if os.geteuid() == 0:
    drop_permission_bypass()

from vigil.services.childlog import ChildLog, ChildLogSettings

class Log:
    def __init__(self):
        self.lines = []
    def log(self, level, message):
        self.lines.append([int(level), message])

def report():
    print(json.dumps({"error": log.error, "lines": mainlog.lines}), flush=True)

mainlog = Log()
log = ChildLog(ChildLogSettings("web", "stdout", sys.argv[1]), mainlog)
log.write(b"lost 1\\n")
log.write(b"lost 2\\n")
report()
sys.stdin.readline()
log.write(b"kept\\n")
log.close()
report()
"""


def settings(path: Path, **overrides: object) -> ChildLogSettings:
    values: dict[str, object] = {"name": "web", "channel": "stdout", "path": str(path)}
    values.update(overrides)
    return ChildLogSettings(**values)  # type: ignore[arg-type]


def test_an_unwritable_directory_is_reported_once_and_retried(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    logs.chmod(0o555)
    path = logs / "web.log"
    child = subprocess.Popen(
        [sys.executable, "-c", UNWRITABLE_SCENARIO, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(REPO),
    )
    assert child.stdin is not None and child.stdout is not None
    first = json.loads(child.stdout.readline())
    logs.chmod(0o755)
    child.stdin.write("go\n")
    child.stdin.flush()
    second = json.loads(child.stdout.readline())
    assert child.wait(timeout=60) == 0
    assert first["error"] == f"{path}: Permission denied"
    assert first["lines"] == [
        [
            int(LogLevel.ERRO),
            f"cannot write stdout log of 'web' to {path}: Permission denied; "
            "output is dropped until writing works again",
        ]
    ]
    assert second["error"] is None
    assert second["lines"][-1] == [
        int(LogLevel.INFO),
        f"writing stdout log of 'web' to {path} again (14 bytes lost)",
    ]
    assert path.read_bytes() == b"kept\n"


def test_a_removed_directory_is_retried_until_it_is_back(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    path = logs / "web.log"
    mainlog = MemoryLog()
    log = ChildLog(settings(path, maxbytes=10, backups=1), mainlog)
    log.write(b"0123456789")  # reaches maxbytes: rotated into web.log.1
    shutil.rmtree(logs)
    log.write(b"to the unlinked file")  # the open file still takes it
    log.reopen()
    assert log.error == f"{path}: No such file or directory"
    log.write(b"lost")
    log.write(b"lost too")
    assert len(mainlog.at(LogLevel.ERRO)) == 1
    logs.mkdir()
    log.write(b"back\n")
    log.close()
    assert log.error is None
    assert path.read_bytes() == b"back\n"
    assert mainlog.at(LogLevel.INFO) == [
        f"writing stdout log of 'web' to {path} again (12 bytes lost)"
    ]


def test_a_log_created_before_its_directory_starts_writing_once_it_exists(
    tmp_path: Path,
) -> None:
    path = tmp_path / "later" / "web.log"
    mainlog = MemoryLog()
    log = ChildLog(settings(path), mainlog)
    assert log.error is not None and len(mainlog.at(LogLevel.ERRO)) == 1
    log.write(b"early\n")
    path.parent.mkdir()
    log.write(b"late\n")
    log.close()
    assert path.read_bytes() == b"late\n"


def test_strict_open_raises_for_a_spawn_to_fail(tmp_path: Path) -> None:
    mainlog = MemoryLog()
    with pytest.raises(FileNotFoundError):
        ChildLog(settings(tmp_path / "missing" / "web.log"), mainlog, strict_open=True)
    assert mainlog.lines == []


def test_clear_failure_raises_for_the_caller_to_report(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    log = ChildLog(settings(logs / "web.log"), MemoryLog())
    shutil.rmtree(logs)
    with pytest.raises(FileNotFoundError):
        log.clear()
    assert log.error is not None
    log.close()


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB filesystem: the only honest way to see ENOSPC."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs to fill it up needs root; this user is not root")
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"root, but mounting a tmpfs was refused here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def test_a_full_disk_drops_output_until_space_returns(tiny_tmpfs: Path) -> None:
    filler = tiny_tmpfs / "filler"
    filler.write_bytes(b"f" * 56 * 1024)
    mainlog = MemoryLog()
    path = tiny_tmpfs / "web.log"
    log = ChildLog(settings(path), mainlog)
    attempted = 0
    for n in range(8):
        chunk = bytes([65 + n]) * 3000
        log.write(chunk)
        attempted += len(chunk)
    assert log.error == f"{path}: No space left on device"
    assert len(mainlog.at(LogLevel.ERRO)) == 1
    written_before = path.stat().st_size
    filler.unlink()
    log.write(b"room again\n")
    log.close()
    assert log.error is None
    lost = attempted - written_before
    assert mainlog.at(LogLevel.INFO) == [
        f"writing stdout log of 'web' to {path} again ({lost} bytes lost)"
    ]
    assert path.read_bytes().endswith(b"room again\n")
    assert path.stat().st_size == written_before + len(b"room again\n")


def test_a_full_disk_under_the_main_log_is_said_once_on_stderr(tiny_tmpfs: Path) -> None:
    filler = tiny_tmpfs / "filler"
    filler.write_bytes(b"f" * 60 * 1024)
    errors = io.StringIO()
    path = tiny_tmpfs / "supervisord.log"
    logger = MainLogger(str(path), errors=errors)
    for n in range(200):
        logger.log(LogLevel.INFO, f"message {n} " + "x" * 100)
    assert logger.error == f"{path}: No space left on device"
    assert errors.getvalue() == (
        f"Error writing the main log {path}: No space left on device;"
        " will retry with each message\n"
    )
    filler.unlink()
    logger.log(LogLevel.INFO, "recovered")
    logger.close()
    assert logger.error is None
    assert path.read_text().endswith(" INFO recovered\n")
