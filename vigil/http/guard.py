"""A guard in front of each listener's HTTP protocol: a cap on concurrent connections, and a
deadline for a connection's first request head.

Without it a client that connects and sends nothing (or a bare blank line, or half a request
line) holds a connection, and its descriptor, forever, and a few thousand of them exhaust
the daemon's descriptors, which its children's pipes need. The guard sits at the asyncio
level, wrapping the protocol factory the server is created with, so it does not depend on the
HTTP implementation behind it:

- a connection beyond ``max_connections`` is answered 503 and closed at once; the first
  refusal logs one WARN line, and the next line comes only after the count went down again;
- a connection whose first request head (request line, headers, blank line) is not complete
  ``request_timeout`` seconds after it was accepted is closed (408 when part of a request had
  arrived, silently when nothing had);
- a request line that is not ``METHOD target HTTP/x.y`` is answered 400 and closed.

Once the first head is complete the guard only counts the connection: a long response (a log
tail) is never cut. Idle time between requests of a kept-alive connection is bounded by the
HTTP implementation's keep-alive timeout, which the server sets to the same value.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass

from vigil.config.model import LogLevel
from vigil.core.ports import MainLog

ProtocolFactory = Callable[[], asyncio.BaseProtocol]

# METHOD SP request-target SP HTTP-version (RFC 9112 section 3), on the first non-empty line.
_REQUEST_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+ [\x21-\x7e\x80-\xff]+ HTTP/[0-9]\.[0-9]")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
MAX_REQUEST_LINE = 8190  # as the HTTP server's own limit; a longer first line is refused
# A refused episode ends (and may be logged again) once this share of the cap is free.
_RELOG_FREE_SHARE = 10


@dataclass(frozen=True)
class ConnectionLimits:
    request_timeout: float
    max_connections: int


def _answer(status: str, text: str) -> bytes:
    body = f"{status}: {text}\n".encode("ascii")
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


# Where the bytes of a refused or rejected connection are read to, and dropped.
_DISCARD = memoryview(bytearray(4096))


class ConnectionGuard:
    """The guard of one listener; ``wrap`` the protocol factory its server is made with."""

    def __init__(
        self, section: str, where: str, limits: ConnectionLimits, main_log: MainLog
    ) -> None:
        self._section = section
        self._where = where
        self._limits = limits
        self._log = main_log
        self.live = 0  # connections accepted and not yet lost
        self._refusing = False  # in an episode of refusals already logged

    def wrap(self, factory: ProtocolFactory) -> ProtocolFactory:
        def guarded() -> asyncio.BaseProtocol:
            return _GuardedProtocol(self, factory)

        return guarded

    def admit(self) -> bool:
        """Count a new connection, or refuse it when the listener is at its cap."""
        cap = self._limits.max_connections
        if self.live >= cap:
            if not self._refusing:
                self._refusing = True
                self._log.log(
                    LogLevel.WARN,
                    f"HTTP server [{self._section}] ({self._where}) reached its limit of {cap} "
                    "concurrent connections (max_connections); further connections are "
                    "refused until some close",
                )
            return False
        self.live += 1
        return True

    def release(self) -> None:
        self.live -= 1
        cap = self._limits.max_connections
        if self._refusing and self.live <= cap - max(1, cap // _RELOG_FREE_SHARE):
            self._refusing = False

    @property
    def request_timeout(self) -> float:
        return self._limits.request_timeout

    def expired(self, partial: bool) -> None:
        what = "an incomplete request" if partial else "nothing"
        self._log.log(
            LogLevel.DEBG,
            f"HTTP server [{self._section}]: closed a connection that sent {what} within "
            f"{self._limits.request_timeout:g} s (request_timeout)",
        )


class _HeadWatch:
    """Follows the bytes of a connection until its first request head is complete."""

    def __init__(self) -> None:
        self.started = False  # a byte other than the blank lines a client may send first
        self.line_checked = False
        self._line = b""
        self._tail = b""  # the last bytes seen, to find a blank line split across reads

    def feed(self, data: bytes) -> str:
        """``"more"``, ``"complete"`` or ``"bad"`` (the request line is malformed)."""
        if not self.started:
            data = data.lstrip(b"\r\n")
            if not data:
                return "more"
            self.started = True
        if not self.line_checked:
            newline = data.find(b"\n")
            self._line += data if newline < 0 else data[:newline]
            if (
                _CONTROL.search(self._line.removesuffix(b"\r"))
                or len(self._line) > MAX_REQUEST_LINE
            ):
                return "bad"  # e.g. a TLS handshake: no request line can follow
            if newline < 0:
                return "more"
            self.line_checked = True
            if not _REQUEST_LINE.fullmatch(self._line.removesuffix(b"\r")):
                return "bad"
        window = self._tail + data
        if b"\n\r\n" in window or b"\n\n" in window:
            return "complete"
        self._tail = window[-3:]
        return "more"


class _GuardedProtocol(asyncio.BufferedProtocol):
    """Stands between the transport and the HTTP protocol of one connection; reads go
    straight into the HTTP protocol's buffer."""

    def __init__(self, guard: ConnectionGuard, factory: ProtocolFactory) -> None:
        self._guard = guard
        self._factory = factory
        self._inner: asyncio.BufferedProtocol | None = None
        self._buffer = _DISCARD  # where the last read went
        self._transport: asyncio.Transport | None = None
        self._watch: _HeadWatch | None = _HeadWatch()
        self._deadline: asyncio.TimerHandle | None = None
        self._counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if not self._guard.admit():
            self._watch = None
            transport.write(_answer("503 Service Unavailable", "too many connections"))
            transport.close()
            return
        self._counted = True
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(self._guard.request_timeout, self._expire)
        inner = self._factory()
        assert isinstance(inner, asyncio.BufferedProtocol)
        self._inner = inner
        inner.connection_made(transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        self._buffer = (
            _DISCARD if self._inner is None else memoryview(self._inner.get_buffer(sizehint))
        )
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        if self._inner is None:
            return  # refused or rejected: the rest of what the client sends is ignored
        if self._watch is not None:
            progress = self._watch.feed(bytes(self._buffer[:nbytes]))
            if progress == "bad":
                self._reject()
                return
            if progress == "complete":
                self._head_done()
        self._inner.buffer_updated(nbytes)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_done()
        if self._counted:
            self._counted = False
            self._guard.release()
        if self._inner is not None:
            self._inner.connection_lost(exc)

    def _head_done(self) -> None:
        self._watch = None
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _reject(self) -> None:
        """Answer a malformed request line ourselves; the HTTP protocol never sees it."""
        self._head_done()
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(_answer("400 Bad Request", "malformed request line"))
            transport.close()

    def _expire(self) -> None:
        self._deadline = None
        partial = self._watch is not None and self._watch.started
        self._watch = None
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        self._guard.expired(partial)
        if partial:
            transport.write(_answer("408 Request Timeout", "the request head took too long"))
        transport.close()
