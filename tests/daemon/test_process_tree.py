"""The process tree belongs to the daemon in the mode users run it (daemonized): orphans are
reaped by it, children die with it, and what a killed daemon left is ended at the next start."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from pathlib import Path

import psutil

from tests.daemon.daemonized import (
    Started,
    config,
    descendants_running,
    running_pid,
    start_daemonized,
    text_of,
)
from tests.daemon.test_daemonize import gone
from tests.support import PY, unix_proxy, wait_until


def test_orphaned_grandchild_belongs_to_a_daemonized_daemon(
    tmp_path: Path, cleanup: Started
) -> None:
    conf = config(
        tmp_path,
        """
        [program:forker]
        command=/bin/sh -c "(sleep 779 &); exec sleep 1000"
        startsecs=0
        """,
    )
    daemon = start_daemonized(conf)
    cleanup.append(daemon)
    cleanup.append(running_pid(conf, "forker"))
    grandchild = wait_until(lambda: descendants_running(daemon, "sleep", "779"), what="orphan")[0]
    cleanup.append(grandchild.pid)
    assert grandchild.ppid() == daemon  # re-parented to the daemon, not to PID 1
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
    wait_until(lambda: gone(daemon), what="daemon exit")
    wait_until(lambda: gone(grandchild.pid), what="the orphan ended by the shutdown")


def test_children_die_with_a_daemon_killed_by_sigkill(tmp_path: Path, cleanup: Started) -> None:
    conf = config(
        tmp_path,
        """
        [program:web]
        command=sleep 1002
        startsecs=0

        [program:elsewhere]
        command=sleep 1006
        directory=/
        startsecs=0
        """,
    )
    daemon = start_daemonized(conf)
    cleanup.append(daemon)
    # a plain program (vfork path) and one with a directory (fork path)
    children = [running_pid(conf, "web"), running_pid(conf, "elsewhere")]
    for child in children:
        cleanup.append(child)
    os.kill(daemon, signal.SIGKILL)
    wait_until(lambda: all(gone(child) for child in children), what="children to die with it")


def test_leftovers_of_a_killed_daemon_are_stopped_before_the_next_start(
    tmp_path: Path, cleanup: Started
) -> None:
    conf = config(
        tmp_path,
        """
        [program:stubborn]
        command=/bin/sh -c "trap '' TERM; exec sleep 1003"
        startsecs=0
        stopwaitsecs=1
        """,
    )
    # an unrelated process the file will claim, with another start time: never signalled
    bystander = subprocess.Popen(["sleep", "1004"])
    cleanup.append(bystander.pid)
    daemon = start_daemonized(conf)
    cleanup.append(daemon)
    first = running_pid(conf, "stubborn")
    cleanup.append(first)
    children_file = tmp_path / "d.pid.children"
    wait_until(lambda: str(first) in children_file.read_text(), what="the children file")
    os.kill(daemon, signal.SIGKILL)
    wait_until(lambda: gone(daemon), what="the killed daemon")
    assert not gone(first)  # it ignores its parent-death signal (SIGTERM)
    document = json.loads(children_file.read_text())
    claimed = dict(document["children"][0], name="bystander", pid=bystander.pid)
    claimed["start_time"] = psutil.Process(bystander.pid).create_time()  # not /proc's ticks
    document["children"].append(claimed)
    children_file.write_text(json.dumps(document))

    second_daemon = start_daemonized(conf)
    cleanup.append(second_daemon)
    second = running_pid(conf, "stubborn")
    cleanup.append(second)
    assert gone(first) and second != first
    log = (tmp_path / "d.log").read_text()
    assert f"stopping stubborn (pid {first}), left running by a supervisord" in log
    assert f"killing stubborn (pid {first}) with SIGKILL: still running 1s after" in log
    assert "bystander" not in log
    assert bystander.poll() is None
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
    wait_until(lambda: gone(second_daemon), what="daemon exit")
    assert not children_file.exists()
    bystander.kill()
    bystander.wait()


def test_a_live_daemons_children_are_left_alone(tmp_path: Path, cleanup: Started) -> None:
    """A second daemon sharing the pidfile (a foreground one is not refused) never touches
    the children of the first, which is still running."""
    conf = config(
        tmp_path,
        """
        [program:web]
        command=sleep 1005
        startsecs=0
        """,
    )
    daemon = start_daemonized(conf)
    cleanup.append(daemon)
    child = running_pid(conf, "web")
    cleanup.append(child)
    children_file = tmp_path / "d.pid.children"
    wait_until(lambda: str(child) in children_file.read_text(), what="the children file")
    other = tmp_path / "other"
    other.mkdir()
    second_conf = other / "supervisord.conf"
    second_conf.write_text(
        conf.read_text()
        .replace(f"file={tmp_path}/s.sock", f"file={other}/s.sock")
        .replace(f"logfile={tmp_path}/d.log", f"logfile={other}/d.log")
        .split("[program:web]")[0]
    )
    second = subprocess.Popen([PY, "-m", "vigil", "-n", "-c", str(second_conf)])
    cleanup.append(second.pid)
    try:
        wait_until(
            lambda: f"belongs to supervisord pid {daemon}, which is still running"
            in text_of(other / "d.log"),
            what="the second daemon to see the first alive",
        )
    finally:
        second.terminate()
        assert second.wait(30) == 0
    assert running_pid(conf, "web") == child
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
    wait_until(lambda: gone(daemon), what="daemon exit")


ESCAPING = (
    # stays below the main process, in a session of its own
    "setsid sleep {n}1 & "
    # orphaned: re-parented to the daemon, still in the program's process group
    "(sleep {n}2 &); "
    # orphaned and in a session of its own: only the environment tells whose it is
    "(setsid sleep {n}3 &); "
    # orphaned, its own session, and deaf to the stop signal
    "(setsid sh -c 'trap \"\" TERM; exec sleep {n}4' &); "
    "exec sleep {n}0"
)


def test_killmode_tree_stops_every_descendant_before_stopped(
    tmp_path: Path, cleanup: Started
) -> None:
    conf = config(
        tmp_path,
        f"""
        [program:tree]
        command=/bin/sh -c "{ESCAPING.format(n=201)}"
        killmode=tree
        startsecs=0
        stopwaitsecs=1

        [program:plain]
        command=/bin/sh -c "{ESCAPING.format(n=202)}"
        stopasgroup=true
        startsecs=0
        stopwaitsecs=1
        """,
    )
    daemon = start_daemonized(conf)
    cleanup.append(daemon)

    def family(n: int) -> dict[str, psutil.Process]:
        found = {}
        for process in psutil.Process(daemon).children(recursive=True):
            with contextlib.suppress(psutil.Error):  # a subshell exiting meanwhile
                argv = process.cmdline()
                if argv[:1] == ["sleep"] and argv[1].startswith(str(n)):
                    found[argv[1]] = process
        return found if len(found) == 5 else {}

    tree = wait_until(lambda: family(201), what="the tree program's five processes")
    plain = wait_until(lambda: family(202), what="the plain program's five processes")
    for process in (*tree.values(), *plain.values()):
        cleanup.append(process.pid)
    rpc = unix_proxy(tmp_path / "s.sock")
    assert rpc.supervisor.stopProcess("tree") is True
    assert rpc.supervisor.getProcessInfo("tree")["statename"] == "STOPPED"
    assert [name for name, process in tree.items() if not gone(process.pid)] == []
    log = (tmp_path / "d.log").read_text()
    assert "stopped: tree (terminated by SIGTERM)" in log

    # Supervisor's way (stopasgroup) misses those that left the group (Supervisor #1101)
    assert rpc.supervisor.stopProcess("plain") is True
    # the group's SIGTERM reaches 2022 with the main process, but it may die a moment after
    # the main one, whose exit ends the stop
    wait_until(lambda: gone(plain["2022"].pid), what="2022 ended by the group's SIGTERM")
    survivors = sorted(name for name, process in plain.items() if not gone(process.pid))
    assert survivors == ["2021", "2023", "2024"]
    rpc.supervisor.shutdown()
    wait_until(lambda: gone(daemon), what="daemon exit")
    # the shutdown still ends what the daemon's subtree holds
    wait_until(lambda: all(gone(p.pid) for p in plain.values()), what="orphans ended")


def test_killmode_tree_ends_what_a_crashed_main_process_left(
    tmp_path: Path, cleanup: Started
) -> None:
    conf = config(
        tmp_path,
        """
        [program:crashy]
        command=/bin/sh -c "(setsid sleep 2031 &); sleep 2030"
        killmode=tree
        startsecs=0
        autorestart=false
        """,
    )
    daemon = start_daemonized(conf)
    cleanup.append(daemon)
    main = running_pid(conf, "crashy")
    cleanup.append(main)
    escapee = wait_until(lambda: descendants_running(daemon, "sleep", "2031"), what="escapee")[0]
    cleanup.append(escapee.pid)
    os.kill(main, signal.SIGKILL)
    wait_until(lambda: gone(escapee.pid), what="what the crashed program left to be ended")
    rpc = unix_proxy(tmp_path / "s.sock")
    assert rpc.supervisor.getProcessInfo("crashy")["statename"] == "EXITED"
    rpc.supervisor.shutdown()
    wait_until(lambda: gone(daemon), what="daemon exit")
