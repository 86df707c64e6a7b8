"""bench.streams' HTTP/1.1 on a daemon's unix socket, read as it arrives: requests, chunked
bodies, server-sent events, a follower's stream and an RPC sent without waiting.
"""

from __future__ import annotations

import selectors
import socket
import time
import xmlrpc.client
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.waiting import BenchError

EVENTS = "/api/v1/events"
SOCKET_TIMEOUT = 10.0


def get_request(target: str, *, close: bool = False) -> bytes:
    extra = "Connection: close\r\n" if close else ""
    return f"GET {target} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n".encode()


def rpc_request(method: str, *params: Any) -> bytes:
    body = xmlrpc.client.dumps(params, method).encode()
    head = (
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def log_stream_target(namespec: str, channel: str = "stdout") -> str:
    return f"/api/v1/processes/{quote(namespec, safe=':')}/log/{channel}/stream?lines=0"


class Dechunker:
    """The data of a chunked HTTP/1.1 body, piece by piece as the bytes arrive."""

    def __init__(self) -> None:
        self._buffer = b""
        self._left = 0  # data bytes still to come in the current chunk
        self._crlf = False  # the CRLF after a chunk's data is still to come
        self.ended = False

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        out: list[bytes] = []
        while not self.ended:
            if self._left:
                piece = self._buffer[: self._left]
                out.append(piece)
                self._left -= len(piece)
                self._buffer = self._buffer[len(piece) :]
                if self._left:
                    break
                self._crlf = True
            if self._crlf:
                if len(self._buffer) < 2:
                    break
                self._buffer = self._buffer[2:]
                self._crlf = False
            end = self._buffer.find(b"\r\n")
            if end < 0:
                break
            size = int(self._buffer[:end].split(b";")[0], 16)
            self._buffer = self._buffer[end + 2 :]
            if size == 0:
                self.ended = True
            self._left = size
        return b"".join(out)


class Body:
    """A response read as it arrives: its head, then the decoded body in pieces."""

    def __init__(self) -> None:
        self.head = b""
        self.status: int | None = None
        self._chunks: Dechunker | None = None

    def feed(self, data: bytes) -> bytes:
        if self.status is None:
            self.head += data
            head, found, rest = self.head.partition(b"\r\n\r\n")
            if not found:
                return b""
            self.head = head
            words = head.split(b" ", 2)
            self.status = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
            if b"\r\ntransfer-encoding: chunked" in head.lower():
                self._chunks = Dechunker()
            data = rest
        return self._chunks.feed(data) if self._chunks is not None else data

    @property
    def ended(self) -> bool:
        return self._chunks is not None and self._chunks.ended


class SseParser:
    """Server-Sent Events messages out of a body's pieces: each a dict of field → value (the
    `data` lines joined; comment lines under the key "")."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[dict[str, str]]:
        *complete, self._pending = (self._pending + data).split(b"\n\n")
        messages = []
        for block in complete:
            fields: dict[str, str] = {}
            for line in block.decode("utf-8", "replace").split("\n"):
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                fields[name] = f"{fields[name]}\n{value}" if name in fields else value
            messages.append(fields)
        return messages


class Lines:
    """Complete lines out of a body's pieces."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        *complete, self._pending = (self._pending + data).split(b"\n")
        return complete


class Stream:
    """A GET on the daemon's unix socket whose body is followed as it arrives."""

    def __init__(self, path: Path, target: str) -> None:
        self.target = target
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.body = Body()
        try:
            self.sock.settimeout(SOCKET_TIMEOUT)
            self.sock.connect(str(path))
            self.sock.sendall(get_request(target))
        except OSError as exc:
            self.sock.close()
            raise BenchError(f"GET {target}: {exc}") from exc

    def open(self, timeout: float = SOCKET_TIMEOUT) -> bytes:
        """Wait for the response head (200 or fail); the body that came with it."""
        deadline = time.monotonic() + timeout
        data = b""
        while self.body.status is None:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                fresh = self.sock.recv(65536)
            except TimeoutError:
                raise BenchError(f"GET {self.target}: no answer within {timeout:g} s") from None
            if not fresh:
                raise BenchError(f"GET {self.target}: closed before an answer")
            data = self.body.feed(fresh)
        if self.body.status != 200:
            text = self.body.head[:200].decode(errors="replace")
            raise BenchError(f"GET {self.target} answered {self.body.status}: {text}")
        self.sock.setblocking(False)
        return data

    def read(self) -> bytes:
        """What arrived (after the selector said so); the stream may not end."""
        try:
            fresh = self.sock.recv(65536)
        except BlockingIOError:
            return b""
        if not fresh or self.body.ended:
            raise BenchError(f"GET {self.target}: the daemon ended the stream")
        return self.body.feed(fresh)

    def close(self) -> None:
        self.sock.close()


class PendingCall:
    """One XML-RPC call on a new connection, sent at once, its answer read by the caller's
    selector; `sent` and `answered` are time.monotonic() readings."""

    def __init__(self, path: Path, method: str, *params: Any) -> None:
        self.method = method
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        request = rpc_request(method, *params)
        try:
            self.sock.settimeout(SOCKET_TIMEOUT)
            self.sock.connect(str(path))
            self.sent = time.monotonic()
            self.sock.sendall(request)
        except OSError as exc:
            self.sock.close()
            raise BenchError(f"{method}: {exc}") from exc
        self.sock.setblocking(False)
        self.answered: float | None = None
        self.closed = False  # the server closed the connection (after its answer)
        self._answer = b""

    def on_readable(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        if not data:
            if self.answered is None:
                raise BenchError(f"{self.method}: the connection closed before the answer")
            self.closed = True
            return
        self._answer += data
        if self.answered is None and _complete(self._answer):
            self.answered = time.monotonic()

    def result(self) -> Any:
        status, body = http_body(self._answer)
        if status != 200:
            raise BenchError(f"{self.method} answered HTTP {status}")
        try:
            return xmlrpc.client.loads(body)[0][0]
        except xmlrpc.client.Fault as fault:
            raise BenchError(f"{self.method}: {fault.faultString}") from None

    def close(self) -> None:
        self.sock.close()


def _complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def http_body(raw: bytes) -> tuple[int, bytes]:
    """(status, body) of a whole response."""
    body = Body()
    data = body.feed(raw)
    return body.status or 0, data


def timed_exchange(path: Path, request: bytes) -> tuple[float, bytes]:
    """Seconds from connecting to the last byte of the answer (the server closes), and it."""
    started = time.perf_counter()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(60.0)
        sock.connect(str(path))
        sock.sendall(request)
        pieces = []
        while data := sock.recv(262144):
            pieces.append(data)
    return time.perf_counter() - started, b"".join(pieces)


def select_ready(selector: selectors.BaseSelector, deadline: float, what: str) -> list[Any]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise BenchError(f"timed out waiting for {what}")
    return [key.data for key, _ in selector.select(remaining)]
