"""A client that goes away in the middle of a log stream is normal: the daemon writes no
traceback, neither on its stderr (which is what ``docker logs`` and the journal show of a
daemon run with ``-n``) nor in its main log, daemonized or not."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import pytest

from tests.http.live import DEADLINE, PY, TRANSPORTS, LiveDaemon, live_daemon
from tests.support import wait_until
from tests.web.support import short_directory

MODES = ("foreground", "daemonized")
# what the disconnect of a client must never leave behind, at any level above DEBUG
NOISE = ("Traceback", "Error handling request", "ConnectionResetError", "closing transport")


@pytest.fixture(params=MODES)
def daemon(request: pytest.FixtureRequest) -> Iterator[LiveDaemon]:
    with (
        short_directory() as tmp,
        live_daemon(tmp, foreground=request.param == "foreground") as started,
    ):
        yield started


def assert_quiet(daemon: LiveDaemon) -> None:
    for where, text in (("stderr", daemon.stderr), ("main log", daemon.main_log())):
        for noise in NOISE:
            assert noise not in text, f"{noise!r} in the daemon's {where}:\n{text}"


def ctl(daemon: LiveDaemon, *args: str) -> None:
    subprocess.run(
        [PY, "-m", "vigil.ctl.main", "-c", str(daemon.conf), *args],
        capture_output=True,
        timeout=DEADLINE,
        check=True,
    )


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_killing_supervisorctl_tail_f_leaves_no_traceback(
    daemon: LiveDaemon, how: signal.Signals
) -> None:
    for _ in range(3):
        tail = subprocess.Popen(
            [PY, "-m", "vigil.ctl.main", "-c", str(daemon.conf), "tail", "-f", "talk"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert tail.stdout is not None
        while b"tick" not in tail.stdout.readline():  # until it streams
            assert tail.poll() is None, "tail -f ended"
        assert daemon.open_connections() >= 1  # the stream (and maybe an idle RPC one)
        tail.send_signal(how)
        tail.wait(DEADLINE)
        tail.stdout.close()
        # the daemon has noticed: the stream's connection is gone
        wait_until(lambda: daemon.open_connections() == 0, DEADLINE, "the stream closed")
    ctl(daemon, "status")  # and it serves on
    assert_quiet(daemon)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("path", ["/logtail/talk", "/logtail/talk/stderr", "/mainlogtail"])
def test_a_raw_client_closing_a_stream_midway_leaves_no_traceback(
    daemon: LiveDaemon, transport: str, path: str
) -> None:
    with daemon.connect(transport) as client:
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        assert client.recv(65536).startswith(b"HTTP/1.1 200 OK")
        wait_until(lambda: daemon.open_connections() == 1, DEADLINE, "the stream to start")
    # the log grows after the client left, so a stream still running would write into it
    ctl(daemon, "restart", "talk")
    wait_until(lambda: daemon.open_connections() == 0, DEADLINE, "the stream closed")
    assert_quiet(daemon)
