"""A real vigil daemon serving on a unix socket and a loopback TCP port, started the way users
start it (daemonized, or in the foreground with ``-n`` and its stderr in a file as a container
runs it), and raw clients for either transport."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.support import PY, unix_proxy, wait_until
from tests.web.support import free_port

DEADLINE = 30.0  # seconds; only a bound on waiting for something that should happen
TRANSPORTS = ("unix", "inet")

# prints a line every 0.2 s: its log always has something new for a tail to send
TALKER = """
[program:talk]
command=sh -c "while true; do echo tick; sleep 0.2; done"
startsecs=0
"""


@dataclass
class LiveDaemon:
    tmp: Path
    port: int
    pid: int
    foreground: subprocess.Popen[bytes] | None

    @property
    def sock(self) -> Path:
        return self.tmp / "s.sock"

    @property
    def conf(self) -> Path:
        return self.tmp / "supervisord.conf"

    @property
    def stderr(self) -> str:
        """What the daemon wrote on its stderr (foreground only: a daemon detaches from it)."""
        path = self.tmp / "stderr"
        return path.read_text(errors="replace") if path.exists() else ""

    def main_log(self) -> str:
        return (self.tmp / "d.log").read_text(errors="replace")

    def connect(self, transport: str) -> socket.socket:
        if transport == "unix":
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(DEADLINE)
            client.connect(str(self.sock))
            return client
        return socket.create_connection(("127.0.0.1", self.port), timeout=DEADLINE)

    def open_connections(self) -> int:
        """How many client connections the daemon holds right now (on either transport)."""
        process = psutil.Process(self.pid)
        tcp = [
            c
            for c in process.net_connections(kind="tcp")
            if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == self.port
        ]
        # the socket is bound under a temporary name (s.sock.<pid>) and then linked to its
        # own; the listening socket and those it accepted all carry the name it was bound to
        unix = [
            c
            for c in process.net_connections(kind="unix")
            if isinstance(c.laddr, str) and c.laddr.startswith(str(self.sock))
        ]
        return len(tcp) + len(unix) - 1  # less the listening unix socket

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        if self.foreground is not None:
            self.foreground.wait(DEADLINE)
        wait_until(lambda: _gone(self.pid), DEADLINE, "the daemon to exit")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _config(tmp: Path, port: int, server_options: str, programs: str) -> str:
    options = textwrap.dedent(server_options)
    return textwrap.dedent(
        f"""
            [unix_http_server]
            file={tmp / "s.sock"}
            {{options}}
            [inet_http_server]
            port=127.0.0.1:{port}
            {{options}}
            [supervisord]
            logfile={tmp / "d.log"}
            pidfile={tmp / "d.pid"}
            childlogdir={tmp}
            directory={tmp}
            loglevel=info

            [supervisorctl]
            serverurl=unix://{tmp / "s.sock"}
            """
    ).replace("{options}", options) + textwrap.dedent(programs)


@contextlib.contextmanager
def live_daemon(
    tmp: Path, server_options: str = "", programs: str = TALKER, *, foreground: bool = False
) -> Iterator[LiveDaemon]:
    """A daemon with ``server_options`` in both server sections; a few ports are tried, since
    another test may take a free port between our finding it and the daemon binding it."""
    for _ in range(5):
        port = free_port()
        (tmp / "supervisord.conf").write_text(_config(tmp, port, server_options, programs))
        daemon = _start(tmp, port, foreground)
        if daemon is not None:
            break
    else:
        raise AssertionError("no free TCP port could be bound")
    try:
        yield daemon
    finally:
        daemon.stop()


def _start(tmp: Path, port: int, foreground: bool) -> LiveDaemon | None:
    command = [PY, "-m", "vigil", "-c", str(tmp / "supervisord.conf")]
    proc: subprocess.Popen[bytes] | None = None
    if foreground:
        with open(tmp / "stderr", "wb") as stderr:
            proc = subprocess.Popen(
                [*command, "-n"], cwd=tmp, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr
            )
    else:
        launched = subprocess.run(command, cwd=tmp, capture_output=True, text=True, timeout=60)
        if launched.returncode != 0:
            if "in use" in launched.stderr:
                return None
            raise AssertionError(f"the daemon did not start: {launched.stderr}")
    rpc = unix_proxy(tmp / "s.sock")

    def answers() -> bool:
        if proc is not None and proc.poll() is not None:
            return True
        try:
            rpc.supervisor.getState()
        except OSError:
            return False
        return True

    wait_until(answers, 60, "the daemon to answer")
    if proc is not None and proc.poll() is not None:
        if "in use" in (tmp / "stderr").read_text(errors="replace"):
            return None
        raise AssertionError(f"the daemon exited: {(tmp / 'stderr').read_text()}")
    pid = int(rpc.supervisor.getPID())
    return LiveDaemon(tmp, port, pid, proc)
