"""AUTO child log names and their cleanup at startup, checked against Supervisor's own."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from tests.output.support import MemoryLog, run_reference
from vigil.config.model import AUTO, Logfile, LogLevel
from vigil.services.logfiles import (
    RotatingFile,
    auto_log_path,
    auto_log_pattern,
    clean_auto_logs,
    resolve_logfile,
)

SUPERVISOR_NAMES = """
import json, sys, tempfile
from supervisor.options import ServerOptions
spec = json.load(sys.stdin)
options = ServerOptions()
options.childlogdir = spec["dir"]
name = options.get_autochildlog_name(spec["procname"], spec["identifier"], spec["channel"])
print(json.dumps(name))
"""

SUPERVISOR_CLEANUP = """
import json, os, sys
from supervisor.options import ServerOptions
from supervisor.loggers import getLogger
spec = json.load(sys.stdin)
options = ServerOptions()
options.childlogdir = spec["dir"]
options.identifier = spec["identifier"]
options.logger = getLogger()
options.clear_autochildlogdir()
print(json.dumps(sorted(os.listdir(spec["dir"]))))
"""

CANDIDATES = [
    "web-stdout---supervisor-abc123_x.log",
    "web-stderr---supervisor-abc123_x.log.1",
    "web-stderr---supervisor-abc123_x.log.10",
    "web-stderr---supervisor-abc123_x.log.12345",
    "a-b-c-stdout---supervisor-zz.log",
    "web-stdout---other-abc.log",
    "web-stdout---supervisor-.log",
    "---supervisor-x.log",
    "x---supervisor-y.logfile",
    "supervisord.log",
    "web.log",
    "notes---supervisor-x.txt",
]


def test_auto_names_have_supervisors_shape(tmp_path: Path) -> None:
    path = auto_log_path(str(tmp_path), "web", "stdout", "supervisor")
    theirs = run_reference(
        SUPERVISOR_NAMES,
        {"dir": str(tmp_path), "procname": "web", "identifier": "supervisor", "channel": "stdout"},
    )
    shape = re.compile(re.escape(str(tmp_path)) + r"/web-stdout---supervisor-[a-z0-9_]{8}\.log")
    assert shape.fullmatch(path), path
    assert shape.fullmatch(theirs), theirs
    assert path != theirs
    # Created empty and private so nobody can take the name between choosing and opening it.
    info = os.stat(path)
    assert info.st_size == 0
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert auto_log_pattern("supervisor").match(Path(path).name)


def test_an_auto_name_already_taken_is_never_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = tmp_path / "web-stdout---supervisor-aaaaaaaa.log"
    taken.write_bytes(b"someone else's")
    draws = iter([b"\x00" * 8, b"\x00" * 8, b"\x01" * 8])
    monkeypatch.setattr(os, "urandom", lambda size: next(draws))
    path = auto_log_path(str(tmp_path), "web", "stdout", "supervisor")
    assert path == str(tmp_path / "web-stdout---supervisor-bbbbbbbb.log")
    assert taken.read_bytes() == b"someone else's"


def test_auto_names_run_out_as_mkstemps_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "web-stdout---supervisor-aaaaaaaa.log").touch()
    monkeypatch.setattr(os, "urandom", lambda size: b"\x00" * size)
    with pytest.raises(FileExistsError):
        auto_log_path(str(tmp_path), "web", "stdout", "supervisor")


def test_resolving_a_logfile_setting(tmp_path: Path) -> None:
    def resolve(value: Logfile) -> str | None:
        return resolve_logfile(
            value, childlogdir=str(tmp_path), procname="p", channel="stderr", identifier="id"
        )

    assert resolve(None) is None
    assert resolve("/var/log/p.log") == "/var/log/p.log"
    auto = resolve(AUTO)
    assert auto is not None and Path(auto).name.startswith("p-stderr---id-")


def test_cleanup_removes_what_supervisor_removes(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for directory in (ours, theirs):
        directory.mkdir()
        for name in CANDIDATES:
            (directory / name).write_bytes(b"old")
    mainlog = MemoryLog()
    removed = clean_auto_logs(str(ours), "supervisor", mainlog)
    left = run_reference(SUPERVISOR_CLEANUP, {"dir": str(theirs), "identifier": "supervisor"})
    assert sorted(os.listdir(ours)) == left
    assert sorted(Path(p).name for p in removed) == sorted(set(CANDIDATES) - set(left))
    assert "supervisord.log" in left and "web-stdout---supervisor-abc123_x.log" not in left
    assert mainlog.lines == []


def test_cleanup_of_a_missing_directory_warns(tmp_path: Path) -> None:
    mainlog = MemoryLog()
    assert clean_auto_logs(str(tmp_path / "nope"), "supervisor", mainlog) == []
    assert mainlog.lines == [(LogLevel.WARN, "Could not clear childlog dir")]


def test_cleanup_warns_about_what_it_cannot_remove(tmp_path: Path) -> None:
    (tmp_path / "web-stdout---supervisor-x.log").mkdir()
    mainlog = MemoryLog()
    clean_auto_logs(str(tmp_path), "supervisor", mainlog)
    path = tmp_path / "web-stdout---supervisor-x.log"
    assert mainlog.lines == [(LogLevel.WARN, f"Failed to clean up {str(path)!r}")]


def test_an_identifier_with_regex_syntax_matches_literally() -> None:
    pattern = auto_log_pattern("a.b+")
    assert pattern.match("web-stdout---a.b+-x.log")
    assert not pattern.match("web-stdout---aXbb-x.log")


def test_rotating_file_counts_what_it_writes(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"12345")
    rotating = RotatingFile(str(path), maxbytes=10, backups=1)
    rotating.open()
    assert rotating.size == 5
    rotating.write(b"abc")
    assert (rotating.size, rotating.written_total) == (8, 3)
    rotating.write(b"de")
    assert (rotating.size, rotating.written_total) == (0, 5)
    assert Path(f"{path}.1").read_bytes() == b"12345abcde"
    rotating.close()
    assert not rotating.is_open


def test_creating_a_rotating_file_learns_its_size_without_holding_it(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"12345")
    rotating = RotatingFile(str(path), maxbytes=10, backups=1)
    rotating.create()
    assert (rotating.size, rotating.is_open) == (5, False)
    rotating.remove()
    assert (path.read_bytes(), rotating.size, rotating.is_open) == (b"", 0, False)
