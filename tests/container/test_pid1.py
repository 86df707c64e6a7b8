"""vigil as PID 1 of a real PID namespace: orphans reaped, SIGTERM an orderly stop, and the
container's exit status chosen by its essential program."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.container.namespace import Pid1, container_config
from tests.daemon.daemonized import Started
from tests.support import wait_until

# Makes 20 orphans (subshells whose child outlives them a moment) that exit, then waits.
ORPHAN_MAKER = """\
for i in $(seq 20); do ( sleep 0.05 & ) done
echo made
exec sleep 1000
"""


def test_pid1_reaps_every_orphan_of_the_namespace(tmp_path: Path, cleanup: Started) -> None:
    (tmp_path / "forker.sh").write_text(ORPHAN_MAKER)
    conf = container_config(
        tmp_path,
        f"""
        [program:forker]
        command=/bin/sh {tmp_path}/forker.sh
        startsecs=0
        stdout_logfile={tmp_path}/forker.log
        """,
    )
    pid1 = Pid1(conf, cleanup)
    wait_until(
        lambda: (
            "made" in (tmp_path / "forker.log").read_text(errors="replace")
            if (tmp_path / "forker.log").exists()
            else False
        ),
        what="the orphans made",
    )
    # each orphan was re-parented to PID 1 and reaped when it exited: none stays a zombie
    wait_until(lambda: pid1.log().count("reaped unknown pid") >= 20, what="20 orphans reaped")
    wait_until(lambda: not pid1.zombies(), what="no zombie left in the namespace")
    pid1.vigil.send_signal(signal.SIGTERM)
    assert pid1.wait() == 0


def test_sigterm_stops_every_program_in_order_within_its_stop_timeout(
    tmp_path: Path, cleanup: Started
) -> None:
    conf = container_config(
        tmp_path,
        """
        [program:slow]
        command=/bin/sh -c "trap 'sleep 0.5; echo bye; exit 0' TERM; while :; do sleep 0.1; done"
        priority=1
        stopwaitsecs=5
        startsecs=0
        [program:quick]
        command=sleep 1000
        priority=2
        startsecs=0
        """,
    )
    pid1 = Pid1(conf, cleanup)
    wait_until(lambda: pid1.log().count("entered RUNNING") >= 2, what="both programs RUNNING")
    started = time.monotonic()
    pid1.vigil.send_signal(signal.SIGTERM)
    status = pid1.wait()
    took = time.monotonic() - started
    log = pid1.log()
    assert status == 0, log
    assert took < 5 + 10, log  # within slow's stopwaitsecs, with room for a loaded machine
    assert "received SIGTERM indicating exit request" in log
    # the highest priority stops first; slow stopped on its own, not killed at the timeout
    assert log.index("stopped: quick") < log.index("stopped: slow (exit status 0)"), log
    assert "SIGKILL" not in log


def test_an_essential_programs_exit_code_becomes_vigils(tmp_path: Path, cleanup: Started) -> None:
    conf = container_config(
        tmp_path,
        f"""
        [program:app]
        command=/bin/sh -c "test -e {tmp_path}/go || sleep 1000; exit 7"
        essential=true
        autorestart=false
        startsecs=0
        [program:sidecar]
        command=sleep 1000
        startsecs=0
        """,
    )
    pid1 = Pid1(conf, cleanup)
    wait_until(lambda: pid1.log().count("entered RUNNING") >= 2, what="both programs RUNNING")
    app = next(p for p in pid1.namespace_pids() if "test -e" in " ".join(p.cmdline()))
    (tmp_path / "go").touch()
    app.children()[0].kill()  # ends the sleep: the script goes on and exits 7
    assert pid1.wait() == 7, pid1.log()
    log = pid1.log()
    assert "essential program app exited: exiting with status 7" in log
    assert "stopped: sidecar" in log


def test_an_essential_program_killed_by_a_signal_gives_128_plus_it(
    tmp_path: Path, cleanup: Started
) -> None:
    conf = container_config(
        tmp_path,
        """
        [program:app]
        command=sleep 1000
        essential=true
        autorestart=false
        startsecs=0
        """,
    )
    pid1 = Pid1(conf, cleanup)
    wait_until(lambda: "entered RUNNING" in pid1.log(), what="app RUNNING")
    (app,) = pid1.namespace_pids()
    app.send_signal(signal.SIGKILL)
    assert pid1.wait() == 128 + signal.SIGKILL, pid1.log()


def test_an_essential_program_restarted_by_autorestart_has_not_ended(
    tmp_path: Path, cleanup: Started
) -> None:
    conf = container_config(
        tmp_path,
        """
        [program:app]
        command=sleep 1000
        essential=true
        autorestart=true
        startsecs=0
        """,
    )
    pid1 = Pid1(conf, cleanup)
    wait_until(lambda: "entered RUNNING" in pid1.log(), what="app RUNNING")
    (app,) = pid1.namespace_pids()
    app.send_signal(signal.SIGKILL)
    wait_until(lambda: pid1.log().count("entered RUNNING") >= 2, what="app started again")
    assert pid1.unshare.poll() is None, pid1.log()
    assert "essential program" not in pid1.log()
    pid1.vigil.send_signal(signal.SIGTERM)
    assert pid1.wait() == 0, pid1.log()


def test_an_essential_program_that_never_starts_exits_1(tmp_path: Path, cleanup: Started) -> None:
    conf = container_config(
        tmp_path,
        """
        [program:app]
        command=/nonexistent/app
        essential=true
        startretries=1
        [program:sidecar]
        command=sleep 1000
        startsecs=0
        """,
    )
    pid1 = Pid1(conf, cleanup)
    assert pid1.wait() == 1, pid1.log()
    log = pid1.log()
    assert "gave up: app entered FATAL state" in log
    assert "essential program app is FATAL: exiting with status 1" in log
    assert "stopped: sidecar" in log


def test_without_an_essential_program_a_requested_shutdown_exits_0(
    tmp_path: Path, cleanup: Started
) -> None:
    conf = container_config(
        tmp_path,
        """
        [program:crashy]
        command=/bin/sh -c "exit 3"
        autorestart=false
        startsecs=0
        """,
    )
    pid1 = Pid1(conf, cleanup)
    wait_until(lambda: "exited: crashy (exit status 3" in pid1.log(), what="crashy to exit")
    assert pid1.unshare.poll() is None  # not essential: vigil goes on
    pid1.vigil.send_signal(signal.SIGINT)
    assert pid1.wait() == 0, pid1.log()
