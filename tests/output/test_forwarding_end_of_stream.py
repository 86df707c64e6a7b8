"""forward_output at the end of a run: a last line without a newline goes out (with one) when
the child's pipe reaches end of file, while the daemon goes on, and the next run's first line
is a line of its own. Read from a foreground daemon's real stdout pipe."""

from __future__ import annotations

import os
import select
import subprocess
import textwrap
import time
from pathlib import Path

from tests.daemon.daemonized import Started
from tests.support import PY, unix_proxy, wait_until


class Output:
    """What a pipe has delivered so far, read without blocking past a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.data = b""

    def until(self, wanted: bytes, timeout: float = 45.0) -> bytes:
        deadline = time.monotonic() + timeout
        while wanted not in self.data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {wanted!r} in {self.data[-2000:]!r}")
            readable, _, _ = select.select([self.fd], [], [], left)
            if readable:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    raise AssertionError(f"end of output without {wanted!r}: {self.data!r}")
                self.data += chunk
        return self.data


def test_a_last_line_without_newline_goes_out_when_the_run_ends(
    tmp_path: Path, cleanup: Started
) -> None:
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
            loglevel=warn

            [program:p]
            command=/bin/sh -c "printf 'one\\nlast words'"
            startsecs=0
            autorestart=false
            forward_output=true
            """
        )
    )
    daemon = subprocess.Popen(
        [PY, "-m", "vigil", "-n", "-c", str(conf)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    cleanup.append(daemon.pid)
    assert daemon.stdout is not None
    output = Output(daemon.stdout.fileno())
    output.until(b"p | one\np | last words\n")  # the daemon runs on: no removal flushed it
    rpc = unix_proxy(tmp_path / "s.sock")
    wait_until(lambda: rpc.supervisor.getProcessInfo("p")["statename"] == "EXITED", what="exit")
    rpc.supervisor.startProcess("p")
    text = output.until(b"p | last words\np | one\np | last words\n")
    assert text.count(b"p | ") == 4, text
    rpc.supervisor.shutdown()
    assert daemon.wait(timeout=60) == 0
    daemon.stdout.close()
