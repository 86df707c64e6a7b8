"""A small client of the JSON API over the daemon's unix socket: JSON calls and SSE reads."""

from __future__ import annotations

import http.client
import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEADLINE = 30.0


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path) -> None:
        super().__init__("localhost", timeout=DEADLINE)
        self._path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(DEADLINE)
        self.sock.connect(self._path)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(sock: Path, method: str, path: str, body: object = None, **headers: str) -> Answer:
    connection = _UnixConnection(sock)
    try:
        data = None if body is None else json.dumps(body).encode()
        connection.request(method, "/api/v1" + path, data, headers)
        response = connection.getresponse()
        return Answer(response.status, response.getheader("Content-Type", ""), response.read())
    finally:
        connection.close()


class EventReader:
    """An SSE connection (to /api/v1/events unless another path is given), read message by
    message with a deadline."""

    def __init__(
        self, sock: Path, query: str = "", last_id: str | None = None, path: str = "/events"
    ) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(DEADLINE)
        self.sock.connect(str(sock))
        extra = f"Last-Event-ID: {last_id}\r\n" if last_id else ""
        request = f"GET /api/v1{path}{query} HTTP/1.1\r\nHost: x\r\n{extra}\r\n"
        self.sock.sendall(request.encode())
        self._buffer = b""
        head = self._until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert b"text/event-stream" in head

    def _until(self, marker: bytes) -> bytes:
        deadline = time.monotonic() + DEADLINE
        while marker not in self._buffer:
            assert time.monotonic() < deadline, f"no {marker!r} within {DEADLINE} s"
            data = self.sock.recv(65536)
            assert data, "the stream ended"
            self._buffer += data
        found, _, self._buffer = self._buffer.partition(marker)
        return found

    def message(self) -> dict[str, str]:
        """The next message's fields (comments skipped), de-chunked."""
        while True:
            lines = self._chunked_text(b"\n\n").split("\n")
            fields = {}
            for line in lines:
                name, _, value = line.partition(": ")
                if name:
                    fields[name] = value
            if "data" in fields or "event" in fields:
                return fields

    def _chunked_text(self, end: bytes) -> str:
        # a message never spans chunks here, but a chunk may hold several: keep the rest
        text = b""
        while end not in text:
            size = int(self._until(b"\r\n"), 16)
            text += self._until_size(size)
            self._until(b"\r\n")
        message, _, rest = text.partition(end)
        if rest:
            self._pending_rest(rest)
        return message.decode()

    def _until_size(self, size: int) -> bytes:
        while len(self._buffer) < size:
            data = self.sock.recv(65536)
            assert data, "the stream ended"
            self._buffer += data
        found, self._buffer = self._buffer[:size], self._buffer[size:]
        return found

    def _pending_rest(self, rest: bytes) -> None:
        # put the rest back as a chunk of its own
        self._buffer = b"%x\r\n%b\r\n" % (len(rest), rest) + self._buffer

    def event(self) -> dict[str, Any]:
        fields = self.message()
        document: dict[str, Any] = json.loads(fields["data"])
        document["_id"] = fields.get("id")
        document["_event"] = fields.get("event")
        return document

    def close(self) -> None:
        self.sock.close()


def get(sock: Path, path: str) -> Answer:
    """A GET of any path the daemon serves (``call`` is for the JSON API under /api/v1)."""
    connection = _UnixConnection(sock)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return Answer(response.status, response.getheader("Content-Type", ""), response.read())
    finally:
        connection.close()
