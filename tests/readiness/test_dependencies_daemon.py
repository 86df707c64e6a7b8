"""Start dependencies (issue 14) on a daemonized vigil with real programs: a chain that starts
as each member becomes ready (the test decides when, through files), a failing member that
keeps its dependents from starting, a start asked for that brings its dependencies up first,
shutdown in reverse dependency order, supervisord-dependent-startup's spelling, and a cycle
refused at start-up with the chain it makes."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.daemonized import Started, config
from tests.daemon.test_daemonize import gone
from tests.readiness.test_ready_daemon import Ready
from tests.support import PY, wait_until

STOPPED = re.compile(r"(?:INFO|WARN) stopped: (\w+) ")
SPAWNED = re.compile(r"INFO spawned: '(\w+)'")


def member(tmp_path: Path, name: str, extra: str = "") -> str:
    """A program that is ready once `<name>.go` exists in the directory."""
    return (
        f"[program:{name}]\ncommand=sleep 100\nstartsecs=0\ndirectory={tmp_path}\n"
        f"ready=exec:test -e {name}.go\nstopwaitsecs=5\n{extra}\n"
    )


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


def test_a_chain_starts_as_each_member_becomes_ready(daemon: Any, tmp_path: Path) -> None:
    d = daemon(
        member(tmp_path, "c", "depends_on=b\npriority=1")
        + member(tmp_path, "b", "depends_on=a:ready\npriority=2")
        + member(tmp_path, "a", "priority=3")
    )
    d.wait("a", "STARTING")
    assert d.info("b")["statename"] == "STOPPED"
    assert d.info("b")["description"] == "waiting for a (ready)"
    assert d.info("c")["description"] == "waiting for b (ready)"
    (tmp_path / "a.go").touch()
    d.wait("b", "STARTING")
    assert d.info("c")["description"] == "waiting for b (ready)"
    (tmp_path / "b.go").touch()
    (tmp_path / "c.go").touch()
    d.wait("c", "RUNNING")
    assert SPAWNED.findall(d.log_text()) == ["a", "b", "c"]


def test_a_failing_member_keeps_its_dependents_from_starting(daemon: Any, tmp_path: Path) -> None:
    d = daemon(
        "[program:a]\ncommand=/bin/sh -c 'exit 3'\nstartretries=0\n"
        + member(tmp_path, "b", "depends_on=a")
        + member(tmp_path, "c", "depends_on=b:started")
    )
    info = d.wait("c", "FATAL")
    assert info["spawnerr"] == "dependency b is FATAL"
    assert d.info("b")["spawnerr"] == "dependency a is FATAL"
    assert d.info("a")["statename"] == "FATAL"
    assert SPAWNED.findall(d.log_text()) == ["a"]
    assert "gave up: b entered FATAL state, dependency a is FATAL" in d.log_text()


def test_a_start_asked_for_brings_its_dependencies_up_first(daemon: Any, tmp_path: Path) -> None:
    for name in "ab":
        (tmp_path / f"{name}.go").touch()
    d = daemon(
        member(tmp_path, "a", "autostart=false")
        + member(tmp_path, "b", "autostart=false\ndepends_on=a")
        + "[program:c]\ncommand=sleep 100\nstartsecs=0\nautostart=false\ndepends_on=b:running\n"
    )
    assert d.rpc.supervisor.startProcess("c") is True  # waits for a, b, then c
    assert [d.info(n)["statename"] for n in "abc"] == ["RUNNING"] * 3
    assert SPAWNED.findall(d.log_text()) == ["a", "b", "c"]
    # stop all: dependents first
    d.rpc.supervisor.stopAllProcesses()
    assert STOPPED.findall(d.log_text()) == ["c", "b", "a"]


def test_shutdown_stops_dependents_first_whatever_the_priorities(
    daemon: Any, tmp_path: Path
) -> None:
    for name in "abc":
        (tmp_path / f"{name}.go").touch()
    # by priority alone, a (999) would stop first and c (1) last
    d = daemon(
        member(tmp_path, "a", "priority=999")
        + member(tmp_path, "b", "priority=500\ndepends_on=a")
        + member(tmp_path, "c", "priority=1\ndepends_on=b")
        + "[program:z]\ncommand=sleep 100\nstartsecs=0\npriority=998\n"
    )
    d.wait("c", "RUNNING")
    d.shutdown()
    order = STOPPED.findall(d.log_text())
    assert order == ["z", "c", "b", "a"], order  # z: priority, unrelated to the chain


def test_a_stop_cancels_a_wait(daemon: Any, tmp_path: Path) -> None:
    d = daemon(member(tmp_path, "a") + member(tmp_path, "b", "depends_on=a"))
    wait_until(lambda: d.info("b")["description"] == "waiting for a (ready)", what="b waits")
    assert d.rpc.supervisor.stopProcess("b") is True
    assert d.info("b")["description"] == "Not started"
    (tmp_path / "a.go").touch()
    d.wait("a", "RUNNING")
    assert d.info("b")["statename"] == "STOPPED"


def test_dependent_startup_spelling(daemon: Any, tmp_path: Path) -> None:
    d = daemon(
        "[program:init]\ncommand=/bin/sh -c 'exit 0'\nstartsecs=0\nautostart=false\n"
        "autorestart=false\ndependent_startup=true\n"
        "[program:app]\ncommand=sleep 100\nstartsecs=0\nautostart=false\n"
        "dependent_startup=true\ndependent_startup_wait_for=init:exited\n"
    )
    d.wait("app", "RUNNING")
    assert SPAWNED.findall(d.log_text()) == ["init", "app"]


def test_binds_to_stops_and_starts_again_with_its_dependency(daemon: Any, tmp_path: Path) -> None:
    (tmp_path / "a.go").touch()
    d = daemon(member(tmp_path, "a") + member(tmp_path, "b", "binds_to=a"))
    (tmp_path / "b.go").touch()
    first = d.wait("b", "RUNNING")["pid"]
    d.rpc.supervisor.stopProcess("a")
    info = d.wait("b", "STOPPED")
    assert info["description"] == "waiting for a (ready)"
    d.rpc.supervisor.startProcess("a")
    assert d.wait("b", "RUNNING")["pid"] != first


def test_a_cycle_is_refused_with_the_chain(tmp_path: Path) -> None:
    conf = config(
        tmp_path,
        "[program:a]\ncommand=sleep 1\ndepends_on=c\n"
        "[program:b]\ncommand=sleep 1\ndepends_on=a:started\n"
        "[program:c]\ncommand=sleep 1\ndepends_on=b\n",
    )
    checked = subprocess.run(
        [PY, "-m", "vigil", "-c", str(conf), "--check-config"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode != 0
    line = conf.read_text().splitlines().index("depends_on=c") + 1
    assert (
        f"{conf}:{line}: [program:a] depends_on = 'c': dependency cycle: a -> c -> b -> a"
        in checked.stdout
    ), checked.stdout
    started = subprocess.run(
        [PY, "-m", "vigil", "-c", str(conf)], capture_output=True, text=True, timeout=60
    )
    assert started.returncode != 0 and "dependency cycle: a -> c -> b -> a" in started.stderr
