"""What a route handler sees and answers: a request, and a whole response or a stream.

A handler is ``async def handler(request) -> Response | ResponseStream``. It reads the body
only if it wants it, with its own size limit (``await request.read(limit)``), so a body larger
than the route accepts is refused from its declared length before a byte of it is read. A
stream (a log tail, server-sent events) is started with ``request.stream(...)``, written
with ``await stream.write(data)``, which waits while the client is slow, and returned when
done. A client that hangs up never cancels a handler: what it asked for (a start, a stop)
still happens completely; a stream notices through ``request.client_gone``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from http import HTTPStatus
from urllib.parse import unquote

PLAIN_TEXT = "text/plain; charset=utf-8"


class Access(Enum):
    """What the client's account may do, decided by the server's credentials check."""

    FULL = "full"
    READ_ONLY = "read-only"  # may read everything and change nothing


class BodyTooLarge(Exception):
    """The request body is over the limit its handler reads it with (answer 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than the limit of {limit} bytes")
        self.limit = limit


class Headers:
    """Request headers, looked up without regard to case; a repeated header's values are
    joined with ", " (RFC 9110 section 5.3)."""

    __slots__ = ("_values",)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, str] = {}
        for name, value in pairs:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        key = name.lower()
        known = self._values.get(key)
        self._values[key] = value if known is None else f"{known}, {value}"

    def get(self, name: str) -> str | None:
        return self._values.get(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __len__(self) -> int:
        return len(self._values)


@dataclass
class Response:
    """A whole response: its body is sent with a Content-Length."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False  # end the connection after it (e.g. a body left unread)


def plain_error(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    """The plain-text answer every endpoint gives a request it refuses, saying why."""
    text = f"{status} {HTTPStatus(status).phrase}: {detail}\n"
    return Response(status, text.encode("utf-8"), {"Content-Type": PLAIN_TEXT, **(headers or {})})


class Wire(ABC):
    """What a request needs from its connection: the body as it arrives, and the way out."""

    @abstractmethod
    async def body(self, request: Request, limit: int) -> bytes: ...

    @abstractmethod
    def start_stream(self, request: Request, status: int, headers: dict[str, str]) -> bool:
        """Send a stream's head; whether its data goes out in chunks (else until close)."""

    @abstractmethod
    async def send(self, data: bytes) -> None:
        """Write, then wait while the client reads slower than we write; ConnectionError
        once the client is gone."""

    @property
    @abstractmethod
    def gone(self) -> bool: ...

    @abstractmethod
    def sockname(self) -> object: ...

    @abstractmethod
    def on_gone(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once, when the client leaves or the server closes the
        connection (a stream waiting for something to send must not wait past that)."""


class Request:
    """One request as parsed; its body stays with the connection until read."""

    __slots__ = (
        "_wire",
        "access",
        "headers",
        "keep_alive",
        "match",
        "method",
        "target",
        "version",
    )

    def __init__(
        self, method: str, target: str, version: str, headers: Headers, wire: Wire
    ) -> None:
        self.method = method
        self.target = target  # the request-target as sent: path and query, percent-encoded
        self.version = version  # "1.1" or "1.0"
        self.headers = headers
        self.keep_alive = True
        self.match: dict[str, str] = {}  # the route's {placeholders}, percent-decoded
        self.access = Access.FULL  # set by the server from the credentials sent
        self._wire = wire

    @property
    def raw_path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    @property
    def query_string(self) -> str:
        return self.target.partition("?")[2]

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    @property
    def client_gone(self) -> bool:
        """Whether the client hung up (or the server is closing the connection)."""
        return self._wire.gone

    @property
    def sockname(self) -> object:
        """The address of the listening side: a (host, port, ...) tuple, or a socket path."""
        return self._wire.sockname()

    def on_gone(self, callback: Callable[[], None]) -> None:
        self._wire.on_gone(callback)

    async def read(self, limit: int) -> bytes:
        """The whole body; BodyTooLarge as soon as it is known to be over ``limit`` (from
        its declared length, before reading any of it, or while it arrives)."""
        return await self._wire.body(self, limit)

    def stream(self, status: int = 200, headers: dict[str, str] | None = None) -> ResponseStream:
        """Send the head of a response whose body follows in writes of unknown total size."""
        chunked = self._wire.start_stream(self, status, headers or {})
        return ResponseStream(self._wire, chunked)


class ResponseStream:
    """A response being written: chunked on HTTP/1.1, until the connection closes on 1.0."""

    __slots__ = ("_wire", "chunked")

    def __init__(self, wire: Wire, chunked: bool) -> None:
        self._wire = wire
        self.chunked = chunked

    async def write(self, data: bytes) -> None:
        if not data:
            return  # an empty chunk would end a chunked body
        if self.chunked:
            await self._wire.send(b"%x\r\n%b\r\n" % (len(data), data))
        else:
            await self._wire.send(data)


Reply = Response | ResponseStream
Handler = Callable[[Request], Awaitable[Reply]]
