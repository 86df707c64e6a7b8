"""Slow and idle clients on a real daemonized daemon, on its unix socket and its TCP port: a
connection that does not complete a request head within ``request_timeout`` is closed, a
listener holds at most ``max_connections`` connections (and says so once in the main log), a
malformed request line is answered 400, and long streams outlive the timeout."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http.live import DEADLINE, PY, TRANSPORTS, LiveDaemon, live_daemon
from tests.support import wait_until
from tests.web.support import short_directory

TIMEOUT = 1.0  # the request_timeout of these daemons, in seconds
OK = b"GET /ok.html HTTP/1.1\r\nHost: localhost\r\n\r\n"


@pytest.fixture(scope="module")
def quick() -> Iterator[LiveDaemon]:
    """A daemon whose servers give a client one second to send its request head."""
    with short_directory() as tmp, live_daemon(tmp, f"request_timeout={TIMEOUT}") as daemon:
        yield daemon


def read_all(client: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while data := client.recv(4096):
        received += data
    return received


def drain(client: socket.socket) -> None:
    """Read what has arrived so far; fail if the server has closed the connection."""
    client.settimeout(0)
    try:
        while True:
            assert client.recv(65536), "the stream was closed"
    except BlockingIOError:
        pass
    finally:
        client.settimeout(DEADLINE)


def closed_after(daemon: LiveDaemon, transport: str, send: bytes) -> tuple[bytes, float]:
    """Connect, send ``send``, then wait for the server to close: (its answer, seconds)."""
    with daemon.connect(transport) as client:
        started = time.monotonic()
        client.sendall(send)
        answer = read_all(client)
        return answer, time.monotonic() - started


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("send", [b"", b"\r\n\r\n"], ids=["nothing", "blank-lines"])
def test_a_connection_without_a_request_is_closed_after_the_timeout(
    quick: LiveDaemon, transport: str, send: bytes
) -> None:
    answer, waited = closed_after(quick, transport, send)
    assert answer == b""  # nothing was asked: nothing is answered
    assert waited >= TIMEOUT * 0.9  # closed by the timeout, not at once


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_half_a_request_line_is_answered_408_after_the_timeout(
    quick: LiveDaemon, transport: str
) -> None:
    answer, waited = closed_after(quick, transport, b"GET /ok.ht")
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
    assert waited >= TIMEOUT * 0.9


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_headers_trickling_in_do_not_extend_the_deadline(quick: LiveDaemon, transport: str) -> None:
    with quick.connect(transport) as client:
        client.sendall(b"GET /ok.html HTTP/1.1\r\n")
        deadline = time.monotonic() + DEADLINE
        answer = b""
        # a header every 0.3 s, forever: the connection is still closed
        closed = False
        while not closed and time.monotonic() < deadline:
            client.settimeout(0.3)
            try:
                client.sendall(b"X-Slow: 1\r\n")
                data = client.recv(4096)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                # TCP resets a connection closed with unread input; the 408 may be lost
                closed = True
                continue
            answer += data
            closed = not data
        assert closed, "the connection was never closed"
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    "line",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /ok.html\r\n\r\n",  # HTTP/0.9
        b"GET  /ok.html HTTP/1.1\r\n\r\n",
        b"GET /ok.html HTTP/1.1 extra\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS handshake, no line end
    ],
)
def test_a_malformed_request_line_is_answered_400(
    quick: LiveDaemon, transport: str, line: bytes
) -> None:
    answer, _ = closed_after(quick, transport, line)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer
    assert b"malformed request line" in answer


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_prompt_requests_and_keep_alive_are_unaffected(quick: LiveDaemon, transport: str) -> None:
    with quick.connect(transport) as client:
        for _ in range(3):  # one connection, several requests, each well within the timeout
            client.sendall(OK)
            assert client.recv(4096).startswith(b"HTTP/1.1 200 OK")
        # idle between requests beyond the timeout: the server may close the connection
        assert read_all(client) == b""


def test_the_supervisorctl_shell_outlives_its_idle_connection(quick: LiveDaemon) -> None:
    shell = subprocess.Popen(
        [PY, "-m", "vigil.ctl.main", "-c", str(quick.conf)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert shell.stdin is not None and shell.stdout is not None
        assert "RUNNING" in shell.stdout.readline()  # the shell's opening status
        # idle at the prompt until the server has closed the kept-alive connection
        wait_until(lambda: quick.open_connections() == 0, DEADLINE, "the idle connection closed")
        shell.stdin.write("status talk\n")
        shell.stdin.flush()
        assert "RUNNING" in shell.stdout.readline()
    finally:
        shell.kill()
        shell.wait(DEADLINE)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("path", "news"), [("/logtail/talk", b"tick"), ("/mainlogtail", b"spawned")]
)
def test_a_log_stream_outlives_the_timeout(
    quick: LiveDaemon, transport: str, path: str, news: bytes
) -> None:
    with quick.connect(transport) as client:
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        assert client.recv(65536).startswith(b"HTTP/1.1 200 OK")
        time.sleep(TIMEOUT * 3)  # the point of the test: well past the timeout
        drain(client)
        # then something new is logged, and the stream still brings it
        subprocess.run(
            [PY, "-m", "vigil.ctl.main", "-c", str(quick.conf), "restart", "talk"],
            capture_output=True,
            timeout=DEADLINE,
            check=True,
        )
        received = b""
        while news not in received:
            data = client.recv(65536)
            assert data, "the stream was closed"
            received += data


def test_supervisorctl_tail_f_outlives_the_timeout(quick: LiveDaemon) -> None:
    tail = subprocess.Popen(
        [PY, "-m", "vigil.ctl.main", "-c", str(quick.conf), "tail", "-f", "talk"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert tail.stdout is not None
        started = time.monotonic()
        lines = 0
        while time.monotonic() - started < TIMEOUT * 3:
            line = tail.stdout.readline()
            assert line, f"tail -f ended: {tail.wait(DEADLINE)}"
            lines += b"tick" in line
        assert tail.stdout.readline().strip() == b"tick"
        assert tail.poll() is None
    finally:
        tail.kill()
        tail.wait(DEADLINE)


CAP = 3


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_connections_beyond_the_cap_are_refused_and_logged_once(transport: str) -> None:
    options = f"max_connections={CAP}\nrequest_timeout=600"
    with short_directory() as tmp, live_daemon(tmp, options, programs="") as daemon:
        held = [daemon.connect(transport) for _ in range(CAP)]
        try:
            wait_until(lambda: daemon.open_connections() == CAP, DEADLINE, "connections held")
            for _ in range(5):
                with daemon.connect(transport) as extra:
                    try:
                        answer = read_all(extra)
                    except ConnectionResetError:
                        answer = b""  # closed before the refusal could be read: refused too
                    assert answer in (b"",) or answer.startswith(b"HTTP/1.1 503"), answer
            # the connections within the cap still work
            held[0].sendall(OK)
            assert held[0].recv(4096).startswith(b"HTTP/1.1 200 OK")
            section = "unix_http_server" if transport == "unix" else "inet_http_server"
            lines = [line for line in daemon.main_log().splitlines() if "max_connections" in line]
            assert len(lines) == 1, lines
            assert f"[{section}]" in lines[0] and f"limit of {CAP}" in lines[0]
            assert " WARN " in lines[0]
        finally:
            for client in held:
                client.close()
        # once they are gone, new connections are served again
        wait_until(lambda: daemon.open_connections() == 0, DEADLINE, "connections released")
        with daemon.connect(transport) as client:
            client.sendall(OK)
            assert client.recv(4096).startswith(b"HTTP/1.1 200 OK")


def test_the_limits_are_per_listener(tmp_path: Path) -> None:
    """The unix socket at its cap does not refuse TCP clients."""
    options = f"max_connections={CAP}\nrequest_timeout=600"
    with short_directory() as tmp, live_daemon(tmp, options, programs="") as daemon:
        held = [daemon.connect("unix") for _ in range(CAP)]
        try:
            wait_until(lambda: daemon.open_connections() == CAP, DEADLINE, "connections held")
            with daemon.connect("inet") as client:
                client.sendall(OK)
                assert client.recv(4096).startswith(b"HTTP/1.1 200 OK")
        finally:
            for client in held:
                client.close()
