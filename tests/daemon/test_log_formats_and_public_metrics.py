"""Daemonized: child log lines stamped with RFC 3339 times, the main log as JSON lines, and
/metrics served without credentials on the listener that says so (and only there, and only
/metrics and /ok.html)."""

from __future__ import annotations

import base64
import http.client
import json
import re
import textwrap
from pathlib import Path

from tests.ctl.harness import free_port
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.support import unix_proxy, wait_until

STAMP = rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "


def test_each_line_of_the_child_log_starts_with_its_time(tmp_path: Path, cleanup: Started) -> None:
    conf = config(
        tmp_path,
        f"""
        [program:talker]
        command=/bin/sh -c "printf 'one\\ntw'; sleep 0.3; printf 'o\\nthree\\n'; exec sleep 1000"
        startsecs=0
        stdout_logfile={tmp_path}/talker.log
        stdout_logfile_timestamps=true
        """,
    )
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "talker"))
    log = tmp_path / "talker.log"
    data = wait_until(lambda: log.read_bytes().count(b"\n") >= 3 and log.read_bytes(), what="3")
    assert re.fullmatch(STAMP + b"one\n" + STAMP + b"two\n" + STAMP + b"three\n", data), data
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()


def test_the_main_log_as_json_lines(tmp_path: Path, cleanup: Started) -> None:
    conf = config(
        tmp_path,
        """
        [program:quick]
        command=/bin/sh -c "exit 3"
        startsecs=0
        autorestart=false
        """,
    )
    text = conf.read_text().replace("loglevel=debug", "loglevel=info\nlogformat=json")
    conf.write_text(text)
    cleanup.append(start_daemonized(conf))
    main_log = tmp_path / "d.log"
    wait_until(lambda: "exited: quick" in main_log.read_text(), what="quick to exit")
    records = [json.loads(line) for line in main_log.read_text().splitlines()]
    for record in records:
        assert re.fullmatch(STAMP.decode().strip(), record["time"]), record
        assert record["level"] in ("CRIT", "ERRO", "WARN", "INFO", "DEBG")
    spawned = next(r for r in records if r.get("event") == "spawned")
    assert spawned["process"] == "quick" and spawned["pid"] > 0
    assert spawned["message"] == f"spawned: 'quick' with pid {spawned['pid']}"
    exited = next(r for r in records if r.get("event") == "exited")
    assert exited["process"] == "quick" and exited["level"] == "WARN"
    assert "exit status 3" in exited["message"]
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()


def _get(port: int, path: str, auth: str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_metrics_without_credentials_only_on_the_listener_that_says_so(
    tmp_path: Path, cleanup: Started
) -> None:
    public, private = free_port(), free_port()
    conf = config(
        tmp_path,
        textwrap.dedent(
            f"""
            [inet_http_server]
            port=127.0.0.1:{public}
            username=admin
            password=s3cret
            metrics_public=true

            [inet_http_server:private]
            port=127.0.0.1:{private}
            username=admin
            password=s3cret

            [program:p]
            command=sleep 1000
            startsecs=0
            """
        ),
    )
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "p"))
    status, body = _get(public, "/metrics")
    assert status == 200 and b'vigil_process_up{group="p",name="p"} 1.0' in body
    assert _get(public, "/metrics?compat=node_exporter")[0] == 200
    assert _get(public, "/ok.html")[0] == 200
    # everything else on that listener still asks for credentials
    for path in ("/", "/api/v1/processes", "/logtail/p", "/index.html"):
        assert _get(public, path)[0] == 401, path
    assert _get(public, "/api/v1/processes", "admin:s3cret")[0] == 200
    # the other listener asks for them on /metrics too
    assert _get(private, "/metrics")[0] == 401
    assert _get(private, "/metrics", "admin:s3cret")[0] == 200
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
