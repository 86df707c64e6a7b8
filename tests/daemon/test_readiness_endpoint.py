"""Daemonized: GET /ready for an orchestrator's readiness probe. 503 naming the autostart
programs that are not up (not RUNNING, not ready, not healthy) and what they are instead,
200 once all are; served without credentials where metrics_public says so, as /metrics is."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.ctl.harness import free_port
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.daemon.test_log_formats_and_public_metrics import _get
from tests.support import unix_proxy, wait_until


def _ready(port: int, auth: str | None = None) -> tuple[int, dict[str, object]]:
    status, body = _get(port, "/ready", auth)
    return status, json.loads(body) if status in (200, 503) else {}


def test_ready_names_what_is_not_up_until_all_are(tmp_path: Path, cleanup: Started) -> None:
    public, private = free_port(), free_port()
    gate, sick = tmp_path / "go", tmp_path / "sick"
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

            [program:gated]
            command=sleep 1000
            ready=exec:test -e {gate}

            [program:checked]
            command=sleep 1000
            startsecs=0
            healthcheck=exec:test ! -e {sick}
            healthcheck_interval=0.2
            healthcheck_retries=1
            healthcheck_action=none

            [program:manual]
            command=sleep 1000
            autostart=false
            """
        ),
    )
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "checked"))
    status, body = _ready(public)
    assert status == 503, body
    assert body["ready"] is False
    not_ready = body["not_ready"]
    assert isinstance(not_ready, dict)
    assert not_ready["gated"] == "STARTING" and "manual" not in not_ready, body
    assert _get(private, "/ready")[0] == 401  # credentials, as for /metrics there
    gate.touch()
    wait_until(lambda: _ready(public)[0] == 200, what="everything up")
    assert _ready(public) == (200, {"ready": True, "not_ready": {}})
    assert _ready(private, "admin:s3cret")[0] == 200
    cleanup.append(running_pid(conf, "gated"))
    sick.touch()  # RUNNING still, but unhealthy: no traffic for it
    unhealthy = wait_until(lambda: _ready(public)[0] == 503 and _ready(public)[1], what="503")
    assert unhealthy["not_ready"] == {"checked": "unhealthy"}, unhealthy
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
