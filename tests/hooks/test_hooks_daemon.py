"""pre_start and post_stop (issue 15) on a daemonized vigil with real commands: a pre_start that
prepares what the program needs, one that fails (BACKOFF, then FATAL with its reason), one that
hangs (killed at hook_timeout with its whole process group), a stop while pre_start runs, and
post_stop after a stop and after each crash, its output in the program's log. Every wait is for
a condition with a deadline; hooks that must be slow wait for a file the test creates."""

from __future__ import annotations

import os
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.daemonized import Started, config, start_daemonized, text_of
from tests.daemon.test_daemonize import gone
from tests.support import unix_proxy, wait_until

SPAWN_ERROR = 50


class Hooked:
    """A daemon with the programs of `programs`, its RPC proxy, its main and child logs."""

    def __init__(self, tmp_path: Path, cleanup: Started, programs: str) -> None:
        self.tmp = tmp_path
        self.conf = config(tmp_path, programs)
        self.pid = start_daemonized(self.conf)
        cleanup.append(self.pid)
        self.rpc = unix_proxy(tmp_path / "s.sock")

    def info(self, name: str = "p") -> dict[str, Any]:
        found: dict[str, Any] = self.rpc.supervisor.getProcessInfo(name)
        return found

    def wait(self, state: str, name: str = "p", timeout: float = 30) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            info = self.info(name)
            return info if info["statename"] == state else None

        found: dict[str, Any] = wait_until(reached, timeout, f"{name} {state}")
        return found

    def main_log(self) -> str:
        return text_of(self.tmp / "d.log")

    def child_log(self, name: str = "p", channel: str = "stdout") -> str:
        return "".join(path.read_text() for path in self.tmp.glob(f"{name}-{channel}*"))

    def shutdown(self) -> None:
        self.rpc.supervisor.shutdown()
        wait_until(lambda: gone(self.pid), what="daemon exit")


@pytest.fixture
def hooked(tmp_path: Path, cleanup: Started) -> Iterator[Any]:
    made: list[Hooked] = []

    def make(programs: str) -> Hooked:
        made.append(Hooked(tmp_path, cleanup, programs))
        return made[-1]

    yield make
    for daemon in made:
        if not gone(daemon.pid):
            daemon.shutdown()


def group_members(pgid: int) -> list[int]:
    """The processes (zombies included) whose process group is `pgid`."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
            members.append(int(entry))
    return members


def test_pre_start_prepares_what_the_program_needs_as_the_program(
    hooked: Any, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    pre = "sh -c 'echo \"pre_start $SUPERVISOR_PROCESS_NAME $PWD $(umask) $GREETING\"; touch need'"
    d = hooked(
        f"[program:p]\ncommand=/bin/sh -c 'test -e need && echo running && exec sleep 100'\n"
        f"directory={work}\numask=027\nenvironment=GREETING=hello\n"
        f"startsecs=1\nstartretries=0\npre_start={pre}\n"
    )
    d.wait("RUNNING")
    assert (work / "need").exists()
    out = d.child_log()
    assert f"pre_start p {work} 0027 hello\nrunning\n" in out
    assert "spawnerr" not in d.main_log()


def test_a_failing_pre_start_is_a_failed_start_until_fatal(hooked: Any, tmp_path: Path) -> None:
    d = hooked(
        "[program:p]\ncommand=sleep 100\nautostart=false\nstartretries=1\n"
        "pre_start=sh -c 'echo not today >&2; exit 3'\n"
    )
    with pytest.raises(xmlrpc.client.Fault) as fault:
        d.rpc.supervisor.startProcess("p")
    assert fault.value.faultCode == SPAWN_ERROR
    info = d.wait("FATAL")
    assert info["spawnerr"] == "pre_start exited with status 3"
    assert info["description"] == "pre_start exited with status 3"
    log = d.main_log()
    assert log.count("spawnerr: pre_start exited with status 3") == 2  # the start, one retry
    assert "entered FATAL state, too many start retries too quickly" in log
    assert "spawned: 'p'" not in log  # the program itself never ran
    assert d.child_log(channel="stderr").count("not today\n") == 2


def test_a_failing_pre_start_backs_off_before_the_retry(hooked: Any, tmp_path: Path) -> None:
    go = tmp_path / "go"
    d = hooked(
        f"[program:p]\ncommand=sleep 100\nstartretries=3\nbackoff_delay=60\n"
        f"pre_start=sh -c 'test -e {go}'\n"
    )
    info = d.wait("BACKOFF")
    assert info["spawnerr"] == "pre_start exited with status 1"
    assert info["description"].startswith("pre_start exited with status 1; next try at ")


def test_a_hanging_pre_start_is_killed_with_its_group_at_hook_timeout(
    hooked: Any, tmp_path: Path
) -> None:
    leader = tmp_path / "leader"
    d = hooked(
        f"[program:p]\ncommand=sleep 100\nstartretries=0\nhook_timeout=0.5\n"
        f"pre_start=sh -c 'sleep 100 & echo $$ > {leader}; wait'\n"
    )
    info = d.wait("FATAL")
    assert info["spawnerr"] == "pre_start timed out after 0.5 seconds (hook_timeout); killed"
    pgid = int(leader.read_text())
    wait_until(lambda: not group_members(pgid), what="the hook's process group gone")
    assert "spawned: 'p'" not in d.main_log()


def test_a_stop_while_pre_start_runs_kills_it_and_ends_stopped(hooked: Any, tmp_path: Path) -> None:
    leader = tmp_path / "leader"
    d = hooked(
        f"[program:p]\ncommand=sleep 100\nhook_timeout=60\n"
        f"pre_start=sh -c 'echo $$ > {leader}; exec sleep 100'\n"
    )
    wait_until(lambda: text_of(leader).strip(), what="pre_start running")
    info = d.info()
    assert (info["statename"], info["pid"]) == ("STARTING", 0)
    assert info["description"] == "pre_start running"
    assert d.rpc.supervisor.stopProcess("p") is True
    info = d.info()
    assert info["statename"] == "STOPPED" and info["spawnerr"] == ""
    pgid = int(text_of(leader))
    wait_until(lambda: not group_members(pgid), what="pre_start's process group gone")
    assert "stopped: p (before it was spawned)" in d.main_log()
    assert "spawned: 'p'" not in d.main_log()


def test_post_stop_runs_after_a_stop_with_its_output_in_the_log(
    hooked: Any, tmp_path: Path
) -> None:
    d = hooked(
        "[program:p]\ncommand=sleep 100\nstartsecs=0\n"
        "post_stop=sh -c 'echo \"post_stop $SUPERVISOR_PROCESS_NAME\"'\n"
    )
    d.wait("RUNNING")
    assert "post_stop" not in d.child_log()
    d.rpc.supervisor.stopProcess("p")
    wait_until(lambda: "post_stop p\n" in d.child_log(), what="post_stop's output in p's log")
    assert d.info()["statename"] == "STOPPED"


def test_post_stop_runs_after_each_crash_and_the_restart_waits_for_it(
    hooked: Any, tmp_path: Path
) -> None:
    order = tmp_path / "order"
    d = hooked(
        f"[program:p]\ncommand=sh -c 'echo run >> {order}; exit 5'\nstartsecs=0\n"
        f"autorestart=unexpected\nstartretries=0\n"
        f"pre_start=sh -c 'echo pre >> {order}'\n"
        f"post_stop=sh -c 'sleep 0.2; echo post >> {order}; echo cleaned up'\n"
    )

    def cycles() -> list[str]:
        return text_of(order).split()

    wait_until(lambda: len(cycles()) >= 9, what="three runs")
    d.rpc.supervisor.stopProcess("p")
    seen = cycles()
    assert seen[: len(seen) - len(seen) % 3] == ["pre", "run", "post"] * (len(seen) // 3)
    assert "cleaned up\n" in d.child_log()


def test_a_failing_post_stop_is_logged_and_changes_nothing(hooked: Any, tmp_path: Path) -> None:
    d = hooked("[program:p]\ncommand=sleep 100\nstartsecs=0\npost_stop=sh -c 'exit 4'\n")
    d.wait("RUNNING")
    d.rpc.supervisor.stopProcess("p")
    wait_until(
        lambda: "WARN post_stop failed: p (exited with status 4)" in d.main_log(),
        what="post_stop's failure logged",
    )
    info = d.info()
    assert info["statename"] == "STOPPED" and info["spawnerr"] == ""
    d.rpc.supervisor.startProcess("p")
    assert d.info()["statename"] == "RUNNING"


def test_shutdown_waits_for_post_stop(hooked: Any, tmp_path: Path) -> None:
    """The daemon's shutdown ends once every post_stop has: the marker the hook writes a
    second after the program's exit is there as soon as the daemon is gone."""
    marker = tmp_path / "cleaned"
    d = hooked(
        "[program:p]\ncommand=sleep 100\nstartsecs=0\n"
        f"post_stop=sh -c 'sleep 1; echo done > {marker}'\n"
    )
    d.wait("RUNNING")
    d.shutdown()
    assert marker.read_text() == "done\n"
