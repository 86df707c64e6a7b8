"""What the event stream (GET /api/v1/events) says of restart decisions and health, on a
daemonized vigil: a BACKOFF carries its try count and the time of the next attempt (the same
time the process document gives), a FATAL waiting for fatal_retry carries its retry, and the
vigil-only PROCESS_HEALTH_* events come through with the check's output."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.client import EventReader
from tests.daemon.daemonized import Started, config, start_daemonized
from tests.daemon.test_daemonize import gone
from tests.support import unix_proxy, wait_until


@pytest.fixture
def daemon(tmp_path: Path, cleanup: Started) -> Iterator[Any]:
    made: list[tuple[Path, int]] = []

    def make(programs: str) -> Path:
        conf = config(tmp_path, programs)
        pid = start_daemonized(conf)
        cleanup.append(pid)
        made.append((tmp_path / "s.sock", pid))
        return made[-1][0]

    yield make
    for sock, pid in made:
        if not gone(pid):
            unix_proxy(sock).supervisor.shutdown()
            wait_until(lambda pid=pid: gone(pid), what="daemon exit")


def events_until(reader: EventReader, wanted: str, limit: int = 50) -> list[dict[str, Any]]:
    """The events up to and including the first of type `wanted`."""
    seen: list[dict[str, Any]] = []
    for _ in range(limit):
        message = reader.message()
        if "data" not in message:
            continue
        seen.append(json.loads(message["data"]))
        if seen[-1]["type"] == wanted:
            return seen
    raise AssertionError(f"no {wanted} in {limit} events: {seen}")


def test_backoff_and_fatal_carry_tries_and_next_attempt(daemon: Any, tmp_path: Path) -> None:
    sock = daemon(
        '[program:p]\ncommand=/bin/sh -c "exit 1"\nautostart=false\nstartretries=1\n'
        "backoff_delay=0.5\nfatal_retry=600\n"
    )
    reader = EventReader(sock, "?process=p")
    before = time.time()
    unix_proxy(sock).supervisor.startProcess("p", False)
    seen = events_until(reader, "PROCESS_STATE_BACKOFF")
    backoff = seen[-1]
    assert backoff["tries"] == 1
    assert before + 0.5 <= backoff["next_attempt_at"] <= time.time() + 0.5
    seen = events_until(reader, "PROCESS_STATE_FATAL")
    retry = [e for e in seen if e["type"] == "PROCESS_STATE_BACKOFF"][-1]
    assert retry["tries"] == 2 and retry["next_attempt_at"] is not None
    fatal = seen[-1]
    assert fatal["next_attempt_at"] == pytest.approx(fatal["at"] + 600, abs=1)
    # the process document gives the same time
    info = unix_proxy(sock).supervisor.getProcessInfo("p")
    assert info["statename"] == "FATAL" and "next try at" in info["description"]
    started = [e for e in seen if e["type"] == "PROCESS_STATE_STARTING"]
    assert all(e["next_attempt_at"] is None for e in started)


def test_health_events_come_through_the_stream(daemon: Any, tmp_path: Path) -> None:
    sock = daemon(
        f"[program:p]\ncommand=sleep 100\nstartsecs=0\ndirectory={tmp_path}\nautostart=false\n"
        "healthcheck=exec:sh -c 'echo checked; test -e healthy'\nhealthcheck_interval=0.2\n"
        "healthcheck_retries=1\nhealthcheck_action=none\n"
    )
    reader = EventReader(sock, "?process=p")
    (tmp_path / "healthy").touch()
    unix_proxy(sock).supervisor.startProcess("p")
    healthy = events_until(reader, "PROCESS_HEALTH_HEALTHY")[-1]
    assert (healthy["process"], healthy["from"], healthy["to"]) == ("p", "starting", "healthy")
    assert healthy["output"] == "checked"
    (tmp_path / "healthy").unlink()
    unhealthy = events_until(reader, "PROCESS_HEALTH_UNHEALTHY")[-1]
    assert (unhealthy["from"], unhealthy["to"]) == ("healthy", "unhealthy")
