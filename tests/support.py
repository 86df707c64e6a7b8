"""Starting a real daemon on a temporary config and talking to it, for end-to-end tests."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SUPERVISOR_VENV = ROOT / ".venv-supervisor"
PY = sys.executable


def reference_bin(name: str) -> str:
    path = SUPERVISOR_VENV / "bin" / name
    assert path.exists(), (
        f"Supervisor 4.3.0 is not installed in {SUPERVISOR_VENV}: run `make supervisor-ref`"
    )
    return str(path)


class UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        path = self._path

        class Connection(http.client.HTTPConnection):
            def connect(self) -> None:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)

        return Connection("localhost")


def unix_proxy(path: str | Path) -> Any:
    return xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=UnixTransport(str(path)))


def wait_until(condition: Callable[[], object], timeout: float = 45.0, what: str = "") -> Any:
    """Poll a condition the test cannot be told about; fail with a message at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


class Daemon:
    """A supervisord (vigil's or Supervisor's) on a config in a temporary directory."""

    def __init__(self, tmp: Path, body: str, *, kind: str = "vigil") -> None:
        self.tmp = tmp
        self.kind = kind
        self.sock = tmp / "supervisor.sock"
        self.conf = tmp / "supervisord.conf"
        self.log = tmp / "supervisord.log"
        header = f"""
            [unix_http_server]
            file={self.sock}

            [supervisord]
            logfile={self.log}
            pidfile={tmp / "supervisord.pid"}
            childlogdir={tmp}
            nodaemon=true
            loglevel=debug

            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

            [supervisorctl]
            serverurl=unix://{self.sock}
        """
        self.conf.write_text(textwrap.dedent(header) + textwrap.dedent(body))
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        if self.kind == "vigil":
            return [PY, "-m", "vigil", "-c", str(self.conf)]
        return [reference_bin("supervisord"), "-c", str(self.conf)]

    def start(self) -> Daemon:
        with open(self.tmp / "daemon.out", "wb") as output:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.tmp,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._answers, what=f"{self.kind} daemon to answer on {self.sock}")
        return self

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            output = (self.tmp / "daemon.out").read_text(errors="replace")
            raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{output}")
        try:
            self.rpc().supervisor.getState()
        except (OSError, xmlrpc.client.Error):
            return False
        return True

    def rpc(self) -> Any:
        return unix_proxy(self.sock)

    def info(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.rpc().supervisor.getProcessInfo(name)
        return result

    def wait_state(self, name: str, *states: str, timeout: float = 45.0) -> dict[str, Any]:
        return wait_until(
            lambda: (info := self.info(name))["statename"] in states and info,
            timeout,
            f"{name} to reach {states}",
        )

    def signal(self, number: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(number)

    def stop(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


@contextlib.contextmanager
def running_daemon(tmp: Path, body: str, *, kind: str = "vigil") -> Iterator[Daemon]:
    daemon = Daemon(tmp, body, kind=kind)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()
