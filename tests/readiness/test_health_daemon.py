"""Health checks (issue 14) on a daemonized vigil: a check that passes while a file exists,
shown in the status description; removing the file makes the process unhealthy, and
healthcheck_action restarts it (or stops it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.daemonized import Started
from tests.daemon.test_daemonize import gone
from tests.readiness.test_ready_daemon import Ready
from tests.support import wait_until


@pytest.fixture
def daemon(tmp_path: Path, cleanup: Started) -> Iterator[Any]:
    made: list[Ready] = []

    def make(programs: str) -> Ready:
        made.append(Ready(tmp_path, cleanup, programs))
        return made[-1]

    yield make
    for each in made:
        if not gone(each.pid):
            each.shutdown()


def checked(tmp_path: Path, action: str) -> str:
    return (
        f"[program:p]\ncommand=sleep 100\nstartsecs=0\ndirectory={tmp_path}\n"
        "healthcheck=exec:test -e healthy\nhealthcheck_interval=0.2\nhealthcheck_retries=2\n"
        f"healthcheck_timeout=2\nhealthcheck_action={action}\n"
    )


def test_unhealthy_is_restarted(daemon: Any, tmp_path: Path) -> None:
    (tmp_path / "healthy").touch()
    d = daemon(checked(tmp_path, "restart"))
    info = wait_until(
        lambda: (i := d.info("p"))["description"].endswith("; health: healthy") and i,
        what="p healthy",
    )
    assert re.fullmatch(r"pid \d+, uptime \d:\d\d:\d\d; health: healthy", info["description"])
    (tmp_path / "healthy").unlink()
    wait_until(
        lambda: "restarting: p (unhealthy: exit status 1)" in d.log_text(), what="the restart"
    )
    assert "health: p is unhealthy (exit status 1)" in d.log_text()
    again = d.wait("p", "RUNNING", "p RUNNING again")
    assert again["pid"] != info["pid"]


def test_unhealthy_is_stopped_when_asked(daemon: Any, tmp_path: Path) -> None:
    (tmp_path / "healthy").touch()
    d = daemon(checked(tmp_path, "stop"))
    wait_until(lambda: "health: healthy" in d.info("p")["description"], what="p healthy")
    (tmp_path / "healthy").unlink()
    d.wait("p", "STOPPED")
    assert "stopping: p (unhealthy: exit status 1)" in d.log_text()


def test_healthy_condition_gates_a_dependent(daemon: Any, tmp_path: Path) -> None:
    d = daemon(
        checked(tmp_path, "none")
        + "[program:q]\ncommand=sleep 100\nstartsecs=0\ndepends_on=p:healthy\n"
    )
    d.wait("p", "RUNNING")
    assert d.info("q")["description"] == "waiting for p (healthy)"
    (tmp_path / "healthy").touch()
    d.wait("q", "RUNNING")
