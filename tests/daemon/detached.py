"""A daemon started the way users start it: without -n, so it forks and detaches.

`Daemon` from tests.support keeps its daemon in the foreground (nodaemon=true); this one runs
the same configuration with nodaemon=false, waits for the launching command to return, and
knows the detached daemon by its pidfile. Both vigil's supervisord and Supervisor's work.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path

import psutil

from tests.support import Daemon, wait_until

LAUNCH_TIMEOUT = 60.0


class DetachedDaemon(Daemon):
    def __init__(self, tmp: Path, body: str, *, kind: str = "vigil") -> None:
        super().__init__(tmp, body, kind=kind)
        self.conf.write_text(self.conf.read_text().replace("nodaemon=true", "nodaemon=false", 1))
        self.pidfile = tmp / "supervisord.pid"
        self.pid = 0

    def start(self) -> DetachedDaemon:
        with open(self.tmp / "daemon.out", "wb") as output:
            launched = subprocess.run(
                self.command(),
                cwd=self.tmp,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=LAUNCH_TIMEOUT,
            )
        if launched.returncode != 0:
            text = (self.tmp / "daemon.out").read_text(errors="replace")
            raise AssertionError(f"{self.kind} exited with {launched.returncode}:\n{text}")
        self.pid = int(wait_until(self._pid_written, what=f"{self.kind} to write its pidfile"))
        wait_until(self.answers, what=f"{self.kind} daemon to answer on {self.sock}")
        return self

    def _pid_written(self) -> int:
        with contextlib.suppress(OSError, ValueError):
            return int(self.pidfile.read_text().strip())
        return 0

    def answers(self) -> bool:
        if not self.alive():
            text = (self.tmp / "daemon.out").read_text(errors="replace")
            raise AssertionError(f"{self.kind} daemon (pid {self.pid}) died:\n{text}")
        try:
            self.rpc().supervisor.getState()
        except (OSError, xmlrpc.client.Error):
            return False
        return True

    def alive(self) -> bool:
        """Running: a detached daemon may be re-parented to this test process (when another
        test made it a subreaper) and then lingers here as a zombie."""
        try:
            return psutil.Process(self.pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    def signal(self, number: int) -> None:
        os.kill(self.pid, number)

    def stop(self, timeout: float = 30.0) -> int:
        if not self.pid or not self.alive():
            return 0
        os.kill(self.pid, signal.SIGTERM)
        try:
            wait_until(lambda: not self.alive(), timeout, f"{self.kind} daemon to exit")
        except AssertionError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            raise
        return 0


@contextlib.contextmanager
def detached_daemon(tmp: Path, body: str, *, kind: str = "vigil") -> Iterator[DetachedDaemon]:
    daemon = DetachedDaemon(tmp, body, kind=kind).start()
    try:
        yield daemon
    finally:
        daemon.stop()
