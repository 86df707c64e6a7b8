"""Orphans at shutdown: what a program left behind (re-parented to the daemonized daemon, its
subreaper) is sent SIGTERM when the daemon shuts down, and SIGKILL if it outlives the grace
period, each step named in the main log."""

from __future__ import annotations

from pathlib import Path

from tests.daemon.daemonized import (
    Started,
    config,
    descendants_running,
    running_pid,
    start_daemonized,
    text_of,
)
from tests.daemon.test_daemonize import gone
from tests.support import unix_proxy, wait_until


def test_an_orphan_deaf_to_sigterm_is_killed_at_shutdown(tmp_path: Path, cleanup: Started) -> None:
    conf = config(
        tmp_path,
        """
        [program:forker]
        command=/bin/sh -c "(trap '' TERM; exec sleep 778) & exec sleep 1000"
        startsecs=0
        """,
    )
    daemon = start_daemonized(conf)
    cleanup.append(daemon)
    forker = running_pid(conf, "forker")
    cleanup.append(forker)
    orphan = wait_until(lambda: descendants_running(daemon, "sleep", "778"), what="child")[0]
    cleanup.append(orphan.pid)
    # the program ends first, leaving its child to the daemon; then the daemon shuts down
    rpc = unix_proxy(tmp_path / "s.sock")
    rpc.supervisor.stopProcess("forker")
    wait_until(lambda: orphan.ppid() == daemon, what="the child re-parented to the daemon")
    rpc.supervisor.shutdown()
    wait_until(lambda: gone(daemon), what="daemon exit", timeout=30)
    assert gone(orphan.pid)
    log = text_of(tmp_path / "d.log")
    assert f"sent SIGTERM to orphan pid {orphan.pid}" in log
    assert f"sent SIGKILL to orphan pid {orphan.pid}" in log
    assert log.index(f"sent SIGTERM to orphan pid {orphan.pid}") < log.index(
        f"sent SIGKILL to orphan pid {orphan.pid}"
    )
