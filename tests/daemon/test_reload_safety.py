"""A restart (supervisorctl reload, SIGHUP, supervisor.restart) reads the new configuration
before stopping anything: a broken file leaves every program running, says why in the main
log, and the RPC caller gets the problems."""

from __future__ import annotations

import os
import signal
import xmlrpc.client
from pathlib import Path

import pytest

from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.daemon.test_daemonize import gone
from tests.support import unix_proxy, wait_until

BROKEN = "\n[program:broken]\nautostart=maybe\n"


@pytest.fixture
def daemon(tmp_path: Path, cleanup: Started) -> tuple[Path, int, int]:
    conf = config(tmp_path, "[program:web]\ncommand=sleep 1021\nstartsecs=0\n")
    pid = start_daemonized(conf)
    cleanup.append(pid)
    child = running_pid(conf, "web")
    cleanup.append(child)
    return conf, pid, child


def refusals(conf: Path) -> int:
    return (conf.parent / "d.log").read_text().count("restart refused, nothing was stopped")


def test_restart_rpc_with_a_broken_config_touches_nothing(daemon: tuple[Path, int, int]) -> None:
    conf, pid, child = daemon
    conf.write_text(conf.read_text() + BROKEN)
    rpc = unix_proxy(conf.parent / "s.sock")
    with pytest.raises(xmlrpc.client.Fault) as caught:
        rpc.supervisor.restart()
    assert caught.value.faultCode == 92
    assert "[program:broken] autostart = 'maybe'" in caught.value.faultString
    assert rpc.supervisor.getProcessInfo("web")["pid"] == child
    assert rpc.supervisor.getState()["statename"] == "RUNNING"
    log = (conf.parent / "d.log").read_text()
    assert " ERRO restart refused, nothing was stopped: " in log
    assert "ERRO " in log.split("restart refused")[1] and "autostart = 'maybe'" in log
    rpc.supervisor.shutdown()
    wait_until(lambda: gone(pid), what="daemon exit")


def test_sighup_with_a_broken_config_touches_nothing_then_a_fixed_one_restarts(
    daemon: tuple[Path, int, int],
) -> None:
    conf, pid, child = daemon
    good = conf.read_text()
    conf.write_text(good + BROKEN)
    os.kill(pid, signal.SIGHUP)
    wait_until(lambda: refusals(conf) == 1, what="the refusal in the main log")
    rpc = unix_proxy(conf.parent / "s.sock")
    assert rpc.supervisor.getProcessInfo("web")["pid"] == child
    conf.write_text(good)
    os.kill(pid, signal.SIGHUP)
    new_child = running_pid_other_than(conf, child)
    assert new_child != child and gone(child)
    assert refusals(conf) == 1
    rpc.supervisor.shutdown()
    wait_until(lambda: gone(pid), what="daemon exit")


def running_pid_other_than(conf: Path, old: int) -> int:
    rpc = unix_proxy(conf.parent / "s.sock")

    def new_pid() -> int:
        try:  # while the daemon restarts it refuses calls, or has no socket yet
            info = rpc.supervisor.getProcessInfo("web")
        except (OSError, xmlrpc.client.Fault):
            return 0
        running = info["statename"] == "RUNNING" and info["pid"] != old
        return int(info["pid"]) if running else 0

    return int(wait_until(new_pid, what="the restarted program"))


def test_restart_into_an_unusable_childlogdir_is_refused(daemon: tuple[Path, int, int]) -> None:
    """A file that loads but could not start (here: AUTO logs into a missing directory) is
    refused too: the next life would otherwise die at its start, leaving nothing running."""
    conf, pid, child = daemon
    missing = conf.parent / "gone"
    text = conf.read_text()
    conf.write_text(text.replace(f"childlogdir={conf.parent}", f"childlogdir={missing}"))
    rpc = unix_proxy(conf.parent / "s.sock")
    with pytest.raises(xmlrpc.client.Fault) as caught:
        rpc.supervisor.restart()
    assert caught.value.faultCode == 92 and str(missing) in caught.value.faultString
    assert rpc.supervisor.getProcessInfo("web")["pid"] == child
    rpc.supervisor.shutdown()
    wait_until(lambda: gone(pid), what="daemon exit")
