"""supervisord end to end: a real daemon, real children, driven over XML-RPC and signals."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import textwrap
import xmlrpc.client
from pathlib import Path

import psutil
import pytest

from tests.support import PY, Daemon, running_daemon, wait_until

SLEEPER = f"{PY} -c 'import time; time.sleep(600)'"


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_starts_programs_and_stops_them_on_sigterm(tmp_path: Path) -> None:
    body = f"""
        [program:a]
        command={SLEEPER}
        startsecs=0

        [program:b]
        command={SLEEPER}
        startsecs=0
        numprocs=2
        process_name=b_%(process_num)d
    """
    daemon = Daemon(tmp_path, body).start()
    try:
        infos = wait_until(
            lambda: (
                (all_ := daemon.rpc().supervisor.getAllProcessInfo())
                and all(i["statename"] == "RUNNING" for i in all_)
                and all_
            ),
            what="every program RUNNING",
        )
        assert [(i["group"], i["name"]) for i in infos] == [("a", "a"), ("b", "b_0"), ("b", "b_1")]
        pids = [i["pid"] for i in infos]
        assert all(psutil.pid_exists(pid) for pid in pids)
        assert infos[0]["description"].startswith(f"pid {pids[0]}, uptime 0:00:0")
    finally:
        assert daemon.stop() == 0
    assert not any(psutil.pid_exists(pid) for pid in pids)
    log = daemon.log.read_text()
    assert "received SIGTERM indicating exit request" in log
    assert "stopped: a (terminated by SIGTERM)" in log


def test_shutdown_leaves_no_grandchild_or_zombie(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild.pid"
    body = f"""
        [program:parent]
        command=/bin/sh -c 'sleep 600 & echo $! > {marker}; exec sleep 600'
        startsecs=0
    """
    daemon = Daemon(tmp_path, body).start()
    wait_until(lambda: marker.exists() and marker.read_text().strip(), what="grandchild")
    grandchild = int(marker.read_text())
    assert psutil.pid_exists(grandchild)
    assert daemon.stop() == 0
    assert not psutil.pid_exists(grandchild) or (
        psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
        and psutil.Process(grandchild).ppid() != daemon.proc.pid  # type: ignore[union-attr]
    )


def test_rpc_start_stop_and_faults(tmp_path: Path) -> None:
    body = f"""
        [program:sleeper]
        command={SLEEPER}
        startsecs=0
        autostart=false

        [program:quick]
        command=/bin/false
        startsecs=1
        startretries=0
        autostart=false

        [program:missing]
        command=/nonexistent/program
        autostart=false
    """
    with running_daemon(tmp_path, body) as daemon:
        rpc = daemon.rpc()
        assert daemon.info("sleeper")["description"] == "Not started"
        assert rpc.supervisor.startProcess("sleeper") is True
        assert daemon.info("sleeper")["statename"] == "RUNNING"
        with pytest.raises(xmlrpc.client.Fault) as fault:
            rpc.supervisor.startProcess("sleeper")
        assert (fault.value.faultCode, fault.value.faultString) == (60, "ALREADY_STARTED: sleeper")
        with pytest.raises(xmlrpc.client.Fault) as fault:
            rpc.supervisor.startProcess("quick")
        assert fault.value.faultString == "SPAWN_ERROR: quick"
        with pytest.raises(xmlrpc.client.Fault) as fault:
            rpc.supervisor.startProcess("missing")
        assert fault.value.faultString == "NO_FILE: can't find command '/nonexistent/program'"
        with pytest.raises(xmlrpc.client.Fault) as fault:
            rpc.supervisor.startProcess("nosuch")
        assert fault.value.faultString == "BAD_NAME: nosuch"
        assert rpc.supervisor.stopProcess("sleeper") is True
        assert daemon.info("sleeper")["statename"] == "STOPPED"
        with pytest.raises(xmlrpc.client.Fault) as fault:
            rpc.supervisor.stopProcess("sleeper")
        assert fault.value.faultString == "NOT_RUNNING: sleeper"
        assert daemon.info("quick")["statename"] == "FATAL"
        assert daemon.info("quick")["description"] == (
            "Exited too quickly (process log may have details)"
        )


def test_start_order_follows_priority(tmp_path: Path) -> None:
    body = "".join(
        f"""
        [program:p{prio}]
        command={SLEEPER}
        priority={prio}
        startsecs=0
        """
        for prio in (300, 100, 200)
    )
    with running_daemon(tmp_path, body) as daemon:
        for name in ("p100", "p200", "p300"):
            daemon.wait_state(name, "RUNNING")
    spawned = [
        line.split("'")[1] for line in daemon.log.read_text().splitlines() if "spawned: '" in line
    ]
    assert spawned == ["p100", "p200", "p300"]
    stopped = [
        line.split("stopped: ")[1].split()[0]
        for line in daemon.log.read_text().splitlines()
        if "stopped: " in line
    ]
    assert stopped == ["p300", "p200", "p100"]


def test_sighup_restarts_without_losing_or_duplicating_programs(tmp_path: Path) -> None:
    body = f"""
        [program:w]
        command={SLEEPER}
        numprocs=3
        process_name=w%(process_num)d
        startsecs=0
    """
    with running_daemon(tmp_path, body) as daemon:
        before = {f"w{n}": daemon.wait_state(f"w:w{n}", "RUNNING")["pid"] for n in range(3)}
        daemon.signal(signal.SIGHUP)

        def restarted() -> bool:
            try:
                infos = [daemon.info(f"w:w{n}") for n in range(3)]
            except (OSError, xmlrpc.client.Fault):
                return False  # between the two lives of the daemon
            return all(i["statename"] == "RUNNING" and i["pid"] != before[i["name"]] for i in infos)

        wait_until(restarted, what="every worker running again with a new pid")
        assert not any(psutil.pid_exists(pid) for pid in before.values())
        children = [
            p
            for p in descendants(daemon.proc.pid)
            if p.status() != psutil.STATUS_ZOMBIE  # type: ignore[union-attr]
        ]
        assert len(children) == 3


def test_second_daemon_on_the_same_socket_is_refused(tmp_path: Path) -> None:
    body = f"""
        [program:a]
        command={SLEEPER}
    """
    with running_daemon(tmp_path, body) as daemon:
        second = subprocess.run(
            [PY, "-m", "vigil", "-c", str(daemon.conf)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 2
        assert "Another program is already listening" in second.stderr
        assert "Traceback" not in second.stderr
        assert daemon.rpc().supervisor.getState()["statename"] == "RUNNING"


def test_bad_config_is_one_line_per_problem_and_exit_2(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text(
        textwrap.dedent(
            """
            [supervisord]
            logfile_maxbytes=lots

            [program:x]
            command=/bin/true
            startsecs=soon
            """
        )
    )
    result = subprocess.run(
        [PY, "-m", "vigil", "-c", str(conf)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "startsecs" in result.stderr and "soon" in result.stderr
    assert "logfile_maxbytes" in result.stderr


def test_sigusr2_reopens_logs_after_rotation_by_hand(tmp_path: Path) -> None:
    out = tmp_path / "echo.log"
    body = f"""
        [program:echo]
        command={PY} -u -c 'import sys; [print(line.strip(), flush=True) for line in sys.stdin]'
        startsecs=0
        stdout_logfile={out}
    """
    with running_daemon(tmp_path, body) as daemon:
        daemon.wait_state("echo", "RUNNING")
        daemon.rpc().supervisor.sendProcessStdin("echo", "one\n")
        wait_until(lambda: out.exists() and out.read_text() == "one\n", what="first line")
        os.rename(out, tmp_path / "echo.log.old")
        daemon.signal(signal.SIGUSR2)
        wait_until(
            lambda: "received SIGUSR2 indicating log reopen request" in daemon.log.read_text(),
            what="reopen",
        )
        daemon.rpc().supervisor.sendProcessStdin("echo", "two\n")
        wait_until(lambda: out.exists() and out.read_text() == "two\n", what="second line")
        assert (tmp_path / "echo.log.old").read_text() == "one\n"


def test_logtail_streams_the_log_and_follows_it(tmp_path: Path) -> None:
    body = f"""
        [program:talker]
        command={PY} -u -c 'import sys; [print(line.strip(), flush=True) for line in sys.stdin]'
        startsecs=0
    """
    with running_daemon(tmp_path, body) as daemon:
        daemon.wait_state("talker", "RUNNING")
        daemon.rpc().supervisor.sendProcessStdin("talker", "first\n")
        wait_until(lambda: daemon.rpc().supervisor.readProcessStdoutLog("talker", 0, 0))
        conn = http.client.HTTPConnection("localhost")
        conn.sock = socket.socket(socket.AF_UNIX)
        conn.sock.connect(str(daemon.sock))
        conn.request("GET", "/logtail/talker")
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/plain;charset=utf-8"
        assert response.read1(100) == b"first\n"
        daemon.rpc().supervisor.sendProcessStdin("talker", "second\n")
        assert response.read1(100) == b"second\n"
        conn.close()
        missing = http.client.HTTPConnection("localhost")
        missing.sock = socket.socket(socket.AF_UNIX)
        missing.sock.connect(str(daemon.sock))
        missing.request("GET", "/logtail/nosuch")
        assert missing.getresponse().status == 404


def test_reload_config_add_and_remove_groups(tmp_path: Path) -> None:
    body = f"""
        [program:keep]
        command={SLEEPER}
        startsecs=0

        [program:change]
        command={SLEEPER}
        startsecs=0

        [program:gone]
        command={SLEEPER}
        startsecs=0
    """
    with running_daemon(tmp_path, body) as daemon:
        rpc = daemon.rpc()
        daemon.wait_state("gone", "RUNNING")
        text = daemon.conf.read_text()
        text = text.replace("[program:gone]", "[program:new]")
        text = text.replace(
            "[program:change]\ncommand", "[program:change]\nstartretries=7\ncommand"
        )
        daemon.conf.write_text(text)
        assert rpc.supervisor.reloadConfig() == [[["new"], ["change"], ["gone"]]]
        with pytest.raises(xmlrpc.client.Fault) as fault:
            rpc.supervisor.removeProcessGroup("gone")
        assert fault.value.faultString == "STILL_RUNNING: gone"
        rpc.supervisor.stopProcess("gone")
        assert rpc.supervisor.removeProcessGroup("gone") is True
        assert rpc.supervisor.addProcessGroup("new") is True
        daemon.wait_state("new", "RUNNING")  # autostart applies to added groups (issue #214)
        with pytest.raises(xmlrpc.client.Fault) as fault:
            rpc.supervisor.addProcessGroup("new")
        assert fault.value.faultString == "ALREADY_ADDED: new"
        names = [i["name"] for i in rpc.supervisor.getAllProcessInfo()]
        assert names == ["change", "keep", "new"]
        daemon.conf.write_text(text + "\n[program:broken]\n")
        with pytest.raises(xmlrpc.client.Fault) as fault:
            rpc.supervisor.reloadConfig()
        assert (
            fault.value.faultCode == 92 and "does not specify a command" in fault.value.faultString
        )
