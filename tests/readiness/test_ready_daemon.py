"""Readiness (issue 14) on a daemonized vigil with real programs: an HTTP server that becomes
ready when the test says so, a log line, a command, an sd_notify program with its status and
watchdog, a readiness that never comes (ready_timeout). Each program waits for a file the test
creates, so what is checked before it is created cannot depend on timing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ctl.harness import free_port
from tests.daemon.daemonized import Started, config, start_daemonized
from tests.daemon.test_daemonize import gone
from tests.readiness.programs import HTTP_SERVER, NOTIFY_PROGRAM, script
from tests.support import PY, unix_proxy, wait_until


class Ready:
    """A daemon on `programs`, with its RPC proxy and main log."""

    def __init__(self, tmp_path: Path, cleanup: Started, programs: str) -> None:
        self.tmp = tmp_path
        self.conf = config(tmp_path, programs)
        self.log = tmp_path / "d.log"
        self.pid = start_daemonized(self.conf)
        cleanup.append(self.pid)
        self.rpc = unix_proxy(tmp_path / "s.sock")

    def info(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.rpc.supervisor.getProcessInfo(name)
        return found

    def wait(self, name: str, state: str, what: str = "", timeout: float = 30) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            info = self.info(name)
            return info if info["statename"] == state else None

        found: dict[str, Any] = wait_until(reached, timeout, what or f"{name} {state}")
        return found

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def shutdown(self) -> None:
        self.rpc.supervisor.shutdown()
        wait_until(lambda: gone(self.pid), what="daemon exit")


@pytest.fixture
def ready(tmp_path: Path, cleanup: Started) -> Iterator[Any]:
    made: list[Ready] = []

    def make(programs: str) -> Ready:
        made.append(Ready(tmp_path, cleanup, programs))
        return made[-1]

    yield make
    for daemon in made:
        if not gone(daemon.pid):
            daemon.shutdown()


def test_http_server_is_running_only_once_it_answers(ready: Any, tmp_path: Path) -> None:
    port = free_port()
    server = script(tmp_path, "server.py", HTTP_SERVER)
    go = tmp_path / "go"
    d = ready(
        f"[program:web]\ncommand={PY} {server} {port} {go}\nstartsecs=0\n"
        f"ready=http://127.0.0.1:{port}/health\nready_timeout=60\n"
    )
    wait_until(lambda: d.info("web")["pid"], what="web spawned")
    # not listening until `go` exists: it cannot be ready, whatever the time it took
    wait_until(lambda: "spawned: 'web'" in d.log_text(), what="the spawn logged")
    assert d.info("web")["statename"] == "STARTING"
    go.touch()
    d.wait("web", "RUNNING")
    assert (
        f"success: web entered RUNNING state, process is ready "
        f"(ready = http://127.0.0.1:{port}/health)" in d.log_text()
    )


def test_an_answer_that_is_not_2xx_or_3xx_is_not_ready(ready: Any, tmp_path: Path) -> None:
    port = free_port()
    server = script(tmp_path, "server.py", HTTP_SERVER)
    (tmp_path / "go").touch()
    d = ready(
        f"[program:web]\ncommand={PY} {server} {port} {tmp_path / 'go'}\nstartretries=0\n"
        f"ready=http://127.0.0.1:{port}/other\nready_timeout=1.5\nstopwaitsecs=2\n"
    )
    info = d.wait("web", "FATAL")
    assert info["spawnerr"] == "Not ready within 1.5 seconds (ready_timeout)"
    assert "not ready: web (Not ready within 1.5 seconds (ready_timeout)), stopping it" in (
        d.log_text()
    )


def test_a_log_line_makes_it_ready(ready: Any, tmp_path: Path) -> None:
    go = tmp_path / "go"
    program = (
        f"/bin/sh -c 'echo starting up; while [ ! -e {go} ]; do sleep 0.02; done; "
        'echo "server listening on 8080"; exec sleep 100\''
    )
    d = ready(f"[program:p]\ncommand={program}\nstartsecs=0\nready=log:listening on \\d+$\n")
    wait_until(
        lambda: "starting up" in "".join(p.read_text() for p in tmp_path.glob("p-stdout*")),
        what="the first line",
    )
    assert d.info("p")["statename"] == "STARTING"  # a line that does not match
    go.touch()
    d.wait("p", "RUNNING")


def test_a_command_exiting_0_makes_it_ready(ready: Any, tmp_path: Path) -> None:
    go = tmp_path / "go"
    d = ready(
        f"[program:p]\ncommand=sleep 100\nstartsecs=0\ndirectory={tmp_path}\n"
        "ready=exec:/bin/sh -c 'test -e go'\n"
    )
    wait_until(lambda: d.info("p")["pid"], what="p spawned")
    assert d.info("p")["statename"] == "STARTING"
    go.touch()  # relative to the program's directory: the probe runs there too
    d.wait("p", "RUNNING")


def test_an_exit_before_ready_is_a_failed_start(ready: Any) -> None:
    d = ready(
        "[program:p]\ncommand=/bin/sh -c 'sleep 0.3; exit 0'\nstartsecs=0\nstartretries=1\n"
        "ready=tcp://127.0.0.1:1\n"
    )
    info = d.wait("p", "FATAL")
    assert info["spawnerr"] == "Exited before it was ready (ready = tcp://127.0.0.1:1)"
    assert d.log_text().count("spawned: 'p'") == 2


def test_notify_ready_status_and_watchdog(ready: Any, tmp_path: Path) -> None:
    program = script(tmp_path, "notify.py", NOTIFY_PROGRAM)
    go, ping = tmp_path / "go", tmp_path / "ping"
    ping.touch()
    d = ready(
        f"[program:n]\ncommand={PY} {program} {go} {ping}\nstartsecs=0\nready=notify\n"
        "watchdog_sec=1\nstopwaitsecs=2\n"
    )
    info = wait_until(
        lambda: (i := d.info("n"))["description"] == "status: loading" and i, what="STATUS="
    )
    assert info["statename"] == "STARTING"
    go.touch()
    info = d.wait("n", "RUNNING")
    assert re.fullmatch(
        r"pid \d+, uptime \d:\d\d:\d\d; status: serving 1000000", info["description"]
    ), info["description"]
    first = info["pid"]
    assert "process is ready (ready = notify)" in d.log_text()
    ping.unlink()  # no more WATCHDOG=1: restarted after a second
    wait_until(
        lambda: "restarting: n (no WATCHDOG=1 within 1 seconds)" in d.log_text(),
        what="the missed watchdog",
    )
    info = d.wait("n", "RUNNING", "n RUNNING again")
    assert info["pid"] != first


STOPPING_PROGRAM = """
import os, socket, sys, time
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
while not os.path.exists(sys.argv[1]):
    time.sleep(0.02)
sock.sendto(b"STOPPING=1\\nSTATUS=draining", os.environ["NOTIFY_SOCKET"])
time.sleep(100)
"""


def test_stopping_is_shown_until_the_child_is_gone(ready: Any, tmp_path: Path) -> None:
    program = script(tmp_path, "stopping.py", STOPPING_PROGRAM)
    go = tmp_path / "go"
    d = ready(f"[program:n]\ncommand={PY} {program} {go}\nstartsecs=0\nready=notify\n")
    info = d.wait("n", "RUNNING")
    assert re.fullmatch(r"pid \d+, uptime \d:\d\d:\d\d", info["description"])
    go.touch()
    info = wait_until(
        lambda: (
            (i := d.info("n"))["description"].endswith("stopping (STOPPING=1); status: draining")
            and i
        ),
        what="STOPPING=1 in the description",
    )
    assert info["statename"] == "RUNNING"  # news, not a request
    go.unlink()
    d.rpc.supervisor.stopProcess("n")
    d.rpc.supervisor.startProcess("n")
    info = d.wait("n", "RUNNING")
    assert "stopping" not in info["description"]
