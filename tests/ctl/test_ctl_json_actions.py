"""``--json`` for every action that prints, against a daemonized Supervisor 4.3.0 and vigil:
one JSON document on stdout, everything else (usage mistakes, a server that is not there,
faults that are not per-name results) on stderr, exit statuses those of the text forms.

Per-name results (start, stop, restart, signal, clear, add, remove, update) are records
``{"name", "action", "status", "code", "message"}``: status is ``SUCCESS`` or the fault's
name, message the words the text form prints for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.ctl.harness import PY, TestDaemon, run_ctl, wait_for_text
from tests.ctl.programs import ECHO
from vigil import __version__

PROGRAMS = f"""
[program:sleeper]
command=sleep 1000
startsecs=0

[program:echoer]
command={PY} -u -c "{ECHO}"
startsecs=0

[group:grp]
programs=manual

[program:manual]
command=sleep 1000
autostart=false
startsecs=0
"""

ADDED = """
[program:extra]
command=sleep 1000
startsecs=0
"""

MISSING_SOCKET = "unix:///nonexistent-vigil-test-dir/s.sock"


@pytest.fixture
def daemon(daemon_kind: str, start_daemonized: Callable[..., TestDaemon]) -> TestDaemon:
    started = start_daemonized(daemon_kind, PROGRAMS)
    started.wait_states({"sleeper": "RUNNING", "echoer": "RUNNING"})
    return started


def ctl(daemon: TestDaemon, *args: str) -> tuple[Any, str, int]:
    """vigil's supervisorctl on the daemon: (the JSON on stdout, stderr, exit status)."""
    result = run_ctl("vigil", ["-c", str(daemon.conf), *args])
    try:
        document = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"stdout is not one JSON document:\n{result}") from None
    return document, result.stderr, result.status


def record(name: str, action: str, status: str, code: int, message: str) -> dict[str, Any]:
    return {"name": name, "action": action, "status": status, "code": code, "message": message}


def test_start_stop_and_restart(daemon: TestDaemon) -> None:
    assert ctl(daemon, "start", "--json", "grp:*") == (
        [record("grp:manual", "start", "SUCCESS", 80, "started")],
        "",
        0,
    )
    # already started is not a failure; an unknown name is (exit 1, as the text form)
    assert ctl(daemon, "start", "--json", "sleeper", "nosuch") == (
        [
            record("sleeper", "start", "ALREADY_STARTED", 60, "already started"),
            record("nosuch", "start", "BAD_NAME", 10, "no such process"),
        ],
        "",
        1,
    )
    assert ctl(daemon, "start", "--json", "nogroup:*") == (
        [record("nogroup", "start", "BAD_NAME", 10, "no such group")],
        "",
        2,
    )
    assert ctl(daemon, "stop", "--json", "grp:manual") == (
        [record("grp:manual", "stop", "SUCCESS", 80, "stopped")],
        "",
        0,
    )
    assert ctl(daemon, "stop", "--json", "grp:manual") == (
        [record("grp:manual", "stop", "NOT_RUNNING", 70, "not running")],
        "",
        0,
    )
    before = daemon.rpc().supervisor.getProcessInfo("sleeper")["pid"]
    assert ctl(daemon, "restart", "sleeper", "--json") == (
        [
            record("sleeper", "stop", "SUCCESS", 80, "stopped"),
            record("sleeper", "start", "SUCCESS", 80, "started"),
        ],
        "",
        0,
    )
    assert daemon.rpc().supervisor.getProcessInfo("sleeper")["pid"] not in (0, before)


def test_signal_and_clear(daemon: TestDaemon) -> None:
    assert ctl(daemon, "signal", "--json", "CONT", "sleeper", "grp:manual") == (
        [
            record("sleeper", "signal", "SUCCESS", 80, "signalled"),
            record("grp:manual", "signal", "NOT_RUNNING", 70, "not running"),
        ],
        "",
        7,
    )
    assert ctl(daemon, "signal", "--json", "NOPE", "sleeper") == (
        [record("sleeper", "signal", "BAD_SIGNAL", 11, "bad signal name")],
        "",
        1,
    )
    assert ctl(daemon, "clear", "--json", "sleeper", "nosuch") == (
        [
            record("sleeper", "clear", "SUCCESS", 80, "cleared"),
            record("nosuch", "clear", "BAD_NAME", 10, "no such process"),
        ],
        "",
        1,
    )


def test_reread_update_add_and_remove(daemon: TestDaemon) -> None:
    assert ctl(daemon, "reread", "--json") == ({"added": [], "changed": [], "removed": []}, "", 0)
    daemon.rewrite_programs(PROGRAMS + ADDED)
    assert ctl(daemon, "reread", "--json") == (
        {"added": ["extra"], "changed": [], "removed": []},
        "",
        0,
    )
    assert ctl(daemon, "update", "--json", "extra", "nosuch") == (
        [
            record("nosuch", "update", "BAD_NAME", 10, "no such group"),
            record("extra", "add", "SUCCESS", 80, "added process group"),
        ],
        "",
        1,
    )
    assert ctl(daemon, "add", "--json", "extra", "nosuch") == (
        [
            record("extra", "add", "ALREADY_ADDED", 90, "process group already active"),
            record("nosuch", "add", "BAD_NAME", 10, "no such process/group"),
        ],
        "",
        1,
    )
    daemon.wait_states({"extra": "RUNNING"})
    assert ctl(daemon, "remove", "--json", "extra") == (
        [record("extra", "remove", "STILL_RUNNING", 91, "process/group still running")],
        "",
        1,
    )
    daemon.rewrite_programs(PROGRAMS)
    assert ctl(daemon, "update", "--json") == (
        [record("extra", "remove", "SUCCESS", 80, "removed process group")],
        "",
        0,
    )
    assert ctl(daemon, "update", "--json") == ([], "", 0)


def test_version(daemon: TestDaemon) -> None:
    server_version = "4.3.0" if daemon.kind == "supervisor" else __version__
    assert ctl(daemon, "version", "--json") == (
        {
            "version": "4.3.0",
            "client": {"implementation": "vigil", "version": __version__},
            "server": {"implementation": daemon.kind, "version": server_version},
        },
        "",
        0,
    )


def test_tail_and_maintail(daemon: TestDaemon) -> None:
    info = daemon.rpc().supervisor.getProcessInfo("echoer")
    wait_for_text(Path(info["stderr_logfile"]), "hello err")
    assert ctl(daemon, "tail", "--json", "echoer") == (
        {"name": "echoer", "channel": "stdout", "data": "hello out\n"},
        "",
        0,
    )
    assert ctl(daemon, "tail", "-6", "echoer", "STDERR", "--json") == (
        {"name": "echoer", "channel": "stderr", "data": "o err\n"},
        "",
        0,
    )
    document, stderr, status = ctl(daemon, "maintail", "--json", "-200")
    assert (stderr, status) == ("", 0)
    assert list(document) == ["data"] and 0 < len(document["data"]) <= 200
    assert "INFO" in document["data"]


COMPLAINTS = [
    (["tail", "--json", "nosuch"], "nosuch: ERROR (no such process name)\n", 1),
    (["start", "--json"], "Error: start requires a process name\nstart <name>", 2),
    (["signal", "--json", "HUP"], "Error: signal requires a signal name", 1),
    (["reread", "--json", "x"], "Error: reread accepts no arguments\n", 1),
    (["version", "--json", "x"], "Error: version accepts no arguments\n", 1),
    (["tail", "-f", "--json"], "Error: tail requires process name\n", 1),
]


def test_complaints_go_to_stderr(daemon: TestDaemon) -> None:
    for args, message, status in COMPLAINTS:
        result = run_ctl("vigil", ["-c", str(daemon.conf), *args])
        assert (result.stdout, result.status) == ("", status), (args, result)
        assert result.stderr.startswith(message), (args, result)


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["status", "--json"], 4),
        (["start", "--json", "x"], 7),
        (["version", "--json"], 7),
        (["tail", "--json", "x"], 7),
        (["clear", "--json", "x"], 7),
    ],
)
def test_no_server_is_said_on_stderr(args: list[str], status: int) -> None:
    """Text forms print this on stdout (as Supervisor does); with --json stdout stays empty."""
    text = run_ctl("vigil", ["-s", MISSING_SOCKET, *[a for a in args if a != "--json"]])
    result = run_ctl("vigil", ["-s", MISSING_SOCKET, *args])
    assert text.stdout == f"{MISSING_SOCKET} no such file\n"
    assert (result.stdout, result.stderr, result.status) == ("", text.stdout, text.status)
    assert result.status == status


def test_version_verbose_tells_vigil_from_supervisor(daemon: TestDaemon) -> None:
    plain = run_ctl("vigil", ["-c", str(daemon.conf), "version"])
    assert (plain.stdout, plain.status) == ("4.3.0\n", 0)
    for flag in ("-v", "--verbose"):
        result = run_ctl("vigil", ["-c", str(daemon.conf), "version", flag])
        server = (
            "Supervisor 4.3.0 (supervisord)"
            if daemon.kind == "supervisor"
            else f"vigil-supervisor {__version__} (supervisord, Supervisor 4.3.0 compatible)"
        )
        assert (result.stdout, result.stderr, result.status) == (
            f"vigil-supervisor {__version__} (supervisorctl)\n{server}\n",
            "",
            0,
        )
