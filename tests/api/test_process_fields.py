"""What the JSON API shows beyond getProcessInfo, from real programs on a daemonized daemon:
the readiness probe as configured, what a process waits for, its health with the last check's
output, what a notify program said on its socket; and the daemon's host, the start of its life
and the asking account's access (a read-only account is told it is one)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import time
from pathlib import Path
from typing import Any

from tests.api.client import call
from tests.ctl.harness import free_port
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.readiness.programs import NOTIFY_PROGRAM, script
from tests.support import PY, unix_proxy, wait_until

READER = ("viewer", "look")


def _document(sock: Path, namespec: str) -> dict[str, Any]:
    answer = call(sock, "GET", f"/processes/{namespec}?resources=false")
    assert answer.status == 200, answer.body
    document: dict[str, Any] = answer.json()
    return document


def test_readiness_health_notify_and_waiting_are_shown(tmp_path: Path, cleanup: Started) -> None:
    notify = script(tmp_path, "notify.py", NOTIFY_PROGRAM)
    verdict = tmp_path / "healthy"  # the health check passes while it exists
    conf = config(
        tmp_path,
        f"""
        [program:plain]
        command=sleep 1000
        startsecs=0

        [program:checked]
        command=sleep 1000
        startsecs=0
        healthcheck=exec:sh -c 'echo checked; test -e {verdict}'
        healthcheck_interval=0.2
        healthcheck_retries=1
        healthcheck_action=none

        [program:notified]
        command={PY} {notify} {tmp_path}/go {tmp_path}/ping
        ready=notify

        [program:db]
        command=sleep 1000
        autostart=false

        [program:app]
        command=sleep 1000
        depends_on=db:running
        """,
    )
    sock = tmp_path / "s.sock"
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "plain"))

    plain = _document(sock, "plain")
    assert (plain["ready"], plain["health"], plain["notify"], plain["waiting_for"]) == (
        None,
        None,
        None,
        None,
    )

    # a notify program: its STATUS= before READY=1, then its ready status
    loading = wait_until(
        lambda: (d := _document(sock, "notified"))["notify"]["status"] == "loading" and d,
        what="the notify program's first STATUS",
    )
    assert loading["ready"] == "notify"
    assert loading["state"] == "STARTING"
    assert loading["notify"]["reloading"] is False
    (tmp_path / "go").touch()
    cleanup.append(running_pid(conf, "notified"))
    ready = _document(sock, "notified")
    assert ready["notify"]["status"].startswith("serving")
    assert ready["health"] is None

    # a dependent waiting for its dependency, which is not started
    app = _document(sock, "app")
    assert (app["state"], app["waiting_for"]) == ("STOPPED", "db (running)")

    # health: unhealthy with the check's output, then healthy once the check passes
    cleanup.append(running_pid(conf, "checked"))
    unhealthy = wait_until(
        lambda: (
            (d := _document(sock, "checked"))["health"]
            and d["health"]["status"] == "unhealthy"
            and d
        ),
        what="checked unhealthy",
    )
    assert unhealthy["health"]["output"].strip() == "checked"
    assert unhealthy["ready"] is None and unhealthy["notify"] is None
    verdict.touch()
    wait_until(
        lambda: _document(sock, "checked")["health"]["status"] == "healthy",
        what="checked healthy",
    )
    listed = {d["namespec"]: d for d in call(sock, "GET", "/processes").json()}
    assert listed["notified"]["ready"] == "notify"
    assert listed["checked"]["health"]["status"] == "healthy"
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")


def _get(port: int, path: str, account: tuple[str, str] | None) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers: dict[str, str] = {}
        if account is not None:
            token = base64.b64encode(f"{account[0]}:{account[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        connection.request("GET", "/api/v1" + path, None, headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_the_daemon_says_its_host_its_start_and_the_account_access(
    tmp_path: Path, cleanup: Started
) -> None:
    port = free_port()
    before = time.time()
    conf = config(
        tmp_path,
        f"""
        [inet_http_server]
        port=127.0.0.1:{port}
        username=admin
        password=s3cret
        readonly_username={READER[0]}
        readonly_password={READER[1]}

        [program:sleeper]
        command=sleep 1000
        startsecs=0
        """,
    )
    sock = tmp_path / "s.sock"
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "sleeper"))
    status, full = _get(port, "/daemon", ("admin", "s3cret"))
    assert status == 200
    assert full["access"] == "full"
    assert full["hostname"] == socket.gethostname()
    assert before <= full["started_at"] <= time.time()
    status, reader = _get(port, "/daemon", READER)
    assert (status, reader["access"]) == (200, "read-only")
    assert reader["started_at"] == full["started_at"]
    # the unix socket has no credentials here: full access
    assert call(sock, "GET", "/daemon").json()["access"] == "full"

    # a restart of the daemon begins a new life, with its own start
    unix_proxy(sock).supervisor.restart()

    def restarted() -> float:
        try:
            document = call(sock, "GET", "/daemon").json()
        except OSError:
            return 0.0
        started: float = document.get("started_at", 0.0)
        return started if started > full["started_at"] else 0.0

    wait_until(restarted, what="the restarted daemon's new life")
    unix_proxy(sock).supervisor.shutdown()
    wait_until(lambda: not sock.exists(), what="the daemon's exit")
