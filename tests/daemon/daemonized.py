"""Daemonized vigil daemons for tests that kill, restart and inspect them by pid: a config in a
temporary directory, a start as users start it (the command detaches), and the processes a
test started, remembered with their start times so that ending them never hits a reused pid."""

from __future__ import annotations

import contextlib
import subprocess
import textwrap
from pathlib import Path

import psutil

from tests.daemon.test_daemonize import gone
from tests.support import PY, unix_proxy, wait_until


def config(tmp_path: Path, programs: str) -> Path:
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        textwrap.dedent(
            f"""
            [unix_http_server]
            file={tmp_path}/s.sock

            [supervisord]
            logfile={tmp_path}/d.log
            pidfile={tmp_path}/d.pid
            childlogdir={tmp_path}
            loglevel=debug
            """
        )
        + textwrap.dedent(programs)
    )
    return conf


def start_daemonized(conf: Path) -> int:
    launched = subprocess.run(
        [PY, "-m", "vigil", "-c", str(conf)], capture_output=True, text=True, timeout=60
    )
    assert launched.returncode == 0, launched.stderr
    pidfile = conf.parent / "d.pid"

    def live_pid() -> int:
        text = pidfile.read_text().strip() if pidfile.exists() else ""
        return int(text) if text and not gone(int(text)) else 0  # not a killed one's

    return int(wait_until(live_pid, what="the new daemon's pidfile"))


def running_pid(conf: Path, name: str) -> int:
    rpc = unix_proxy(conf.parent / "s.sock")

    def pid() -> int:
        try:
            info = rpc.supervisor.getProcessInfo(name)
        except OSError:
            return 0
        return int(info["pid"]) if info["statename"] == "RUNNING" else 0

    return int(wait_until(pid, what=f"{name} RUNNING"))


def descendants_running(daemon: int, *argv: str) -> list[psutil.Process]:
    found = []
    for process in psutil.Process(daemon).children(recursive=True):
        try:
            if process.cmdline() == list(argv):
                found.append(process)
        except psutil.Error:
            continue
    return found


class Started:
    """Processes this test started (directly or through a daemon), ended when it ends."""

    def __init__(self) -> None:
        self.processes: list[psutil.Process] = []

    def append(self, pid: int) -> None:
        with contextlib.suppress(psutil.Error):
            self.processes.append(psutil.Process(pid))  # remembers its start time

    def end(self) -> None:
        for process in self.processes:
            with contextlib.suppress(psutil.Error):
                process.kill()  # refuses a process that merely reuses the pid


def text_of(path: Path) -> str:
    return path.read_text() if path.exists() else ""
