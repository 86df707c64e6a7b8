"""The client side of the HTTP stack comparison: timed calls, load processes, feature checks.

Timed calls use a lean blocking client (`Reader`) that sends prebuilt request bytes and reads
an answer framed by Content-Length, so that the client's own cost stays small and the same for
every stack. The feature checks use `http.client`, an independent parser, so a stack that
frames its answers wrongly fails them.

`python -m bench.http_stack_client ADDRESS START_AT SECONDS MAX_REQUESTS` is one keep-alive
load client: it waits until the wall-clock instant START_AT, calls POST /RPC2 until SECONDS
have passed or it made MAX_REQUESTS calls, and prints ``COUNT FIRST_START LAST_END`` (wall
clock). ADDRESS is ``unix:PATH`` or ``tcp:PORT`` (on 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import sys
import time

from bench.http_stack_servers import (
    EVENT_GAP,
    EVENTS,
    KEEPALIVE,
    MAX_BODY,
    MAX_HEAD,
    RPC_ANSWER,
    STREAM_PART,
    STREAM_PARTS,
)
from bench.waiting import BenchError

RPC_CALL = (
    b"<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getState</methodName>\n"
    b"<params>\n</params>\n</methodCall>\n"
)
RPC_REQUEST = (
    b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
    b"Content-Length: %d\r\n\r\n%b" % (len(RPC_CALL), RPC_CALL)
)
TIMEOUT = 10.0
CHECK_DEADLINE = 5.0


def connect(address: str, timeout: float = TIMEOUT) -> socket.socket:
    kind, _, where = address.partition(":")
    if kind == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: str | tuple[str, int] = where
    elif kind == "tcp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        target = ("127.0.0.1", int(where))
    else:
        raise BenchError(f"address {address!r}: expected unix:PATH or tcp:PORT")
    sock.settimeout(timeout)
    try:
        sock.connect(target)
    except OSError:
        sock.close()
        raise
    return sock


class Reader:
    """Answers framed by Content-Length on one connection (enough for /RPC2)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def answer(self) -> tuple[int, bytes, bool]:
        """(status, body, whether the server said it closes)."""
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._more()
        lines = self.buffer[:end].split(b"\r\n")
        self.buffer = self.buffer[end + 4 :]
        status = int(lines[0].split()[1])
        length: int | None = None
        closing = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                closing = True
        if length is None:
            raise BenchError("an answer to POST /RPC2 came without Content-Length")
        while len(self.buffer) < length:
            self._more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, body, closing

    def _more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionResetError("the server closed the connection")
        self.buffer += data


def checked(status: int, body: bytes) -> None:
    if status != 200 or body != RPC_ANSWER:
        raise BenchError(f"POST /RPC2 answered {status} with {body[:80]!r}")


def one_call(address: str) -> float:
    """Seconds for one POST /RPC2 on a new connection, from connect to the last byte."""
    started = time.perf_counter()
    sock = connect(address)
    try:
        sock.sendall(RPC_REQUEST)
        status, body, _ = Reader(sock).answer()
    finally:
        sock.close()
    elapsed = time.perf_counter() - started
    checked(status, body)
    return elapsed


def latencies(address: str, count: int, seconds: float) -> list[float]:
    """Up to `count` calls on new connections, stopping after `seconds` whatever the count."""
    deadline = time.monotonic() + seconds
    samples: list[float] = []
    while len(samples) < count and time.monotonic() < deadline:
        samples.append(one_call(address))
    return samples


def load(address: str, start_at: float, seconds: float, max_requests: int) -> tuple[int, float]:
    """Keep-alive calls; (count, wall-clock start); reconnects if the server closes."""
    time.sleep(max(0.0, start_at - time.time()))
    began = time.time()
    deadline = time.monotonic() + seconds
    done = 0
    sock: socket.socket | None = None
    reader: Reader | None = None
    while done < max_requests and time.monotonic() < deadline:
        if sock is None or reader is None:
            sock = connect(address)
            reader = Reader(sock)
        sock.sendall(RPC_REQUEST)
        status, body, closing = reader.answer()
        checked(status, body)
        done += 1
        if closing:
            sock.close()
            sock = reader = None
    if sock is not None:
        sock.close()
    return done, began


# --- feature checks (http.client and raw sockets; every wait bounded) ---------------------


class _Connection(http.client.HTTPConnection):
    def __init__(self, address: str) -> None:
        super().__init__("localhost", timeout=TIMEOUT)
        self.address = address

    def connect(self) -> None:
        self.sock = connect(self.address)


def check_rpc(address: str) -> str:
    connection = _Connection(address)
    try:
        connection.request("POST", "/RPC2", RPC_CALL, {"Content-Type": "text/xml"})
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return f"no ({type(exc).__name__})"
    finally:
        connection.close()
    return "yes" if response.status == 200 and body == RPC_ANSWER else f"no ({response.status})"


def check_stream(address: str) -> str:
    connection = _Connection(address)
    try:
        connection.request("GET", "/stream")
        response = connection.getresponse()
        chunked = response.getheader("Transfer-Encoding", "").lower() == "chunked"
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return f"no ({type(exc).__name__})"
    finally:
        connection.close()
    if response.status != 200 or body != STREAM_PART * STREAM_PARTS:
        return f"no ({response.status}, {len(body)} bytes)"
    return "yes, chunked" if chunked else "yes, not chunked"


def stream_seconds(address: str) -> float:
    """Seconds to read the 1 MiB chunked /stream whole, from the request on (new connection)."""
    connection = _Connection(address)
    started = time.perf_counter()
    try:
        connection.request("GET", "/stream")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    if response.status != 200 or body != STREAM_PART * STREAM_PARTS:
        raise BenchError(f"GET /stream answered {response.status} with {len(body)} bytes")
    return elapsed


def _read_until(sock: socket.socket, marker: bytes, seen: bytes, deadline: float) -> bytes | None:
    """Read until `marker` appears (the bytes so far), or None at the deadline or the end."""
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except (TimeoutError, ConnectionError):
            return None
        if not data:
            return None
        seen += data
    return seen


def check_events(address: str) -> str:
    """Each event must arrive as it is written: the first well before the second."""
    sock = connect(address)
    try:
        sock.sendall(
            b"GET /events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n"
        )
        first = _read_until(sock, EVENTS[0], b"", time.monotonic() + CHECK_DEADLINE)
        first_at = time.monotonic()
        if first is None:
            return "no (first event not received)"
        if b"text/event-stream" not in first.lower():
            return "no (content type lost)"
        both = _read_until(sock, EVENTS[1], first, first_at + EVENT_GAP + CHECK_DEADLINE)
        gap = time.monotonic() - first_at
    finally:
        sock.close()
    if both is None:
        return "no (second event not received)"
    return "yes" if gap >= EVENT_GAP / 2 else f"no (buffered: {gap:.2f} s apart)"


def _status_after(sock: socket.socket, request: bytes) -> str:
    """Send what may be refused halfway; the status the server answered, or how it ended."""
    with contextlib.suppress(OSError):
        sock.sendall(request)
    deadline = time.monotonic() + CHECK_DEADLINE
    seen = _read_until(sock, b"\r\n", b"", deadline)
    if seen is None:
        return "closed" if time.monotonic() < deadline else f"no answer in {CHECK_DEADLINE:g} s"
    parts = seen.split(b"\r\n", 1)[0].split()
    return parts[1].decode() if len(parts) > 1 else "garbled"


def check_body_limit(address: str) -> str:
    """A declared body over the limit must be refused without being read."""
    head = b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % (2 * MAX_BODY)
    sock = connect(address)
    try:
        status = _status_after(sock, head + b"x" * 65536)
    finally:
        sock.close()
    return "no (accepted)" if status.startswith("2") else status


def check_head_limit(address: str) -> str:
    """A request head four times the limit must be refused."""
    head = b"GET /stream HTTP/1.1\r\nHost: localhost\r\nX-Big: %b\r\n\r\n" % (b"a" * 4 * MAX_HEAD)
    sock = connect(address)
    try:
        status = _status_after(sock, head)
    finally:
        sock.close()
    return "no (accepted)" if status.startswith("2") else status


def check_keepalive_timeout(address: str) -> str:
    """After one answer, an idle connection must be closed by the server, about on time."""
    sock = connect(address)
    try:
        sock.sendall(RPC_REQUEST)
        reader = Reader(sock)
        checked(*reader.answer()[:2])
        answered = time.monotonic()
        sock.settimeout(KEEPALIVE + CHECK_DEADLINE)
        try:
            data = sock.recv(1)
        except TimeoutError:
            return f"no (open after {KEEPALIVE + CHECK_DEADLINE:g} s)"
        except ConnectionError:
            data = b""
        waited = time.monotonic() - answered
    finally:
        sock.close()
    return f"yes ({waited:.1f} s)" if data == b"" else "no (sent data)"


def features(unix: str, tcp: str) -> dict[str, str]:
    return {
        "unix socket": check_rpc(unix),
        "TCP": check_rpc(tcp),
        "streaming": check_stream(unix),
        "SSE": check_events(unix),
        "body limit": check_body_limit(unix),
        "head limit": check_head_limit(unix),
        "keep-alive timeout": check_keepalive_timeout(unix),
    }


def main(argv: list[str]) -> int:
    try:
        address, start_at, seconds, most = argv[0], float(argv[1]), float(argv[2]), int(argv[3])
    except (IndexError, ValueError):
        print(
            "usage: python -m bench.http_stack_client ADDRESS START_AT SECONDS MAX_REQUESTS",
            file=sys.stderr,
        )
        return 2
    done, began = load(address, start_at, seconds, most)
    print(done, repr(began), repr(time.time()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
