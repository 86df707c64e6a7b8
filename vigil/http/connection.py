"""One HTTP/1.1 connection: bytes in through llhttp (httptools), responses out.

Requests on a connection are answered one after the other, in order (pipelined requests wait
their turn, and reading pauses while one is waiting). A handler runs as a task of its own and
is never cancelled when the client hangs up. What a client may send is bounded: the request
line and each header by ``HeaderLimits``, the number of headers, the head as a whole, and a
body by whatever its handler reads it with; a body nobody reads is not buffered beyond
``_READ_AHEAD`` (reading pauses instead). Between requests of a kept-alive connection, the
next head must be complete within ``keepalive_timeout`` (as the guard bounds the first one).
"""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

import httptools

from vigil import __version__
from vigil.config.model import LogLevel
from vigil.core.ports import MainLog
from vigil.http.messages import (
    BodyTooLarge,
    Headers,
    Reply,
    Request,
    Response,
    ResponseStream,
    Wire,
    plain_error,
)

_READ_AHEAD = 256 * 1024  # body bytes buffered before its handler asks for them
# After answering a request whose body was not read (401, 413), the rest of a body up to this
# size is read and thrown away before closing, for at most LINGER_SECONDS: a client still
# sending it would otherwise get a reset instead of the answer.
_LINGER_BYTES = 1024 * 1024
_LINGER_SECONDS = 2.0
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_REASONS = {status.value: status.phrase for status in HTTPStatus}
# Names the daemon, so vigil's supervisorctl knows it may use the JSON API (Supervisor's
# answers say "Medusa/1.12").
_SERVER = f"Server: vigil/{__version__}"


@dataclass(frozen=True)
class HeaderLimits:
    """Bounds on what a client may send before its request reaches a handler (over → 400)."""

    max_line_size: int = 8190  # the request line
    max_field_size: int = 8190  # any one header line
    max_headers: int = 100

    @property
    def max_head(self) -> int:
        return self.max_line_size + self.max_field_size * (self.max_headers + 1)


class _HeadTooLarge(Exception):
    pass


class _Incoming:
    """A request and its body as it arrives."""

    __slots__ = ("chunks", "complete", "limit", "reading", "request", "size", "too_large")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.chunks: list[bytes] = []
        self.size = 0
        self.limit = sys.maxsize
        self.complete = False
        self.too_large = False
        self.reading = False  # its handler asked for the body


Dispatch = Callable[[Request], Awaitable[Reply]]


class _Date:
    """The Date header's value, formatted at most once a second."""

    second = -1
    text = ""

    @classmethod
    def now(cls) -> str:
        second = int(time.time())
        if second != cls.second:
            cls.second, cls.text = second, formatdate(second, usegmt=True)
        return cls.text


_RECEIVE_BUFFER = 64 * 1024


class HttpConnection(asyncio.BufferedProtocol, Wire):
    """Reads into a buffer of its own (``get_buffer``): a plain Protocol makes asyncio
    allocate a 256 KiB bytes object for every read, which costs more than the read."""

    def __init__(
        self,
        dispatch: Dispatch,
        limits: HeaderLimits,
        keepalive_timeout: float,
        main_log: MainLog,
        on_lost: Callable[[HttpConnection], None],
    ) -> None:
        self._dispatch = dispatch
        self._limits = limits
        self._keepalive_timeout = keepalive_timeout
        self._log = main_log
        self._on_lost = on_lost
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._queue: deque[_Incoming | Response] = deque()  # a Response: refused, then close
        self._parsing: _Incoming | None = None  # the request whose body is arriving
        self._serving: _Incoming | None = None
        self.task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None  # a body reader or a writer waits
        self._url: list[bytes] = []
        self._url_size = 0
        self._headers: list[tuple[str, str]] = []
        self._in_head = False
        self._head_bytes = 0
        self._paused = False
        self._writable = True
        self._gone = False
        self._closing = False  # the server is stopping, or the client sent its last request
        self._streaming = False
        self._idle: asyncio.TimerHandle | None = None
        self._gone_callbacks: list[Callable[[], None]] = []
        self._lingering: _Incoming | None = None
        self._buffer = memoryview(bytearray(_RECEIVE_BUFFER))

    # --- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._buffer[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        if self._closing and self._lingering is None:
            return  # after a refusal or an upgrade: nothing more is parsed
        if self._in_head or not self._queue:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._closing = True  # no protocol switch is offered: the request is the last
        except httptools.HttpParserCallbackError as exc:
            if not isinstance(exc.__context__, _HeadTooLarge):
                raise
            self._refuse(400, str(exc.__context__))
        except httptools.HttpParserError as exc:
            self._refuse(400, f"malformed request ({_first_line(exc)})")
        else:
            if self._in_head and self._head_bytes > self._limits.max_head:
                self._refuse(400, "the request head is too large")

    def eof_received(self) -> bool:
        """The client sent all it will: answer what it asked, then close. A stream's client
        that stops sending has left (a browser tab, ``tail -f`` interrupted)."""
        self._closing = True
        if self.task is None or self._streaming:
            self._close()
        return True  # keep the way back open for the answers

    def pause_writing(self) -> None:
        self._writable = False

    def resume_writing(self) -> None:
        self._writable = True
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self._gone = True
        self._cancel_idle()
        self._wake()
        self._notify_gone()
        self._on_lost(self)

    # --- httptools callbacks -----------------------------------------------------------

    def on_message_begin(self) -> None:
        self._in_head = True
        self._url.clear()
        self._url_size = 0
        self._headers = []

    def on_url(self, url: bytes) -> None:
        self._url.append(url)
        self._url_size += len(url)
        if self._url_size > self._limits.max_line_size:
            raise _HeadTooLarge(f"the request line is over {self._limits.max_line_size} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        limits = self._limits
        if len(name) + len(value) + 2 > limits.max_field_size:
            raise _HeadTooLarge(f"a header line is over {limits.max_field_size} bytes")
        if len(self._headers) >= limits.max_headers:
            raise _HeadTooLarge(f"more than {limits.max_headers} headers")
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._cancel_idle()
        parser = self._parser
        request = Request(
            parser.get_method().decode("ascii"),
            b"".join(self._url).decode("utf-8", "replace"),
            parser.get_http_version(),
            Headers(self._headers),
            self,
        )
        request.keep_alive = parser.should_keep_alive()
        incoming = _Incoming(request)
        self._parsing = incoming
        self._queue.append(incoming)
        if len(self._queue) > 1:
            self._pause()  # pipelined: this one waits for the answers before it
        self._run()

    def on_body(self, body: bytes) -> None:
        incoming = self._parsing
        if incoming is None or incoming.too_large:
            return
        incoming.size += len(body)
        if incoming.size > incoming.limit:
            incoming.too_large = True
            incoming.chunks.clear()
            self._wake()
            return
        incoming.chunks.append(body)
        if not incoming.reading and incoming.size > _READ_AHEAD:
            self._pause()

    def on_message_complete(self) -> None:
        if self._parsing is not None:
            self._parsing.complete = True
            if self._parsing is self._lingering:
                self._close()  # the unread body is through: the client has read the answer
            self._parsing = None
            self._wake()

    # --- Wire: what requests and streams use ------------------------------------------

    async def body(self, request: Request, limit: int) -> bytes:
        incoming = self._serving
        assert incoming is not None and incoming.request is request
        declared = request.content_length
        if (declared is not None and declared > limit) or incoming.size > limit:
            raise BodyTooLarge(limit)
        incoming.limit = limit
        incoming.reading = True
        if not incoming.complete and incoming.size == 0 and _expects_continue(request):
            self._write(_CONTINUE)
        self._resume()
        while not (incoming.complete or incoming.too_large):
            await self._wait("the client hung up before its request body was complete")
        if incoming.too_large:
            raise BodyTooLarge(limit)
        return b"".join(incoming.chunks)

    def start_stream(self, request: Request, status: int, headers: dict[str, str]) -> bool:
        chunked = request.version == "1.1"
        framing = {"Transfer-Encoding": "chunked"} if chunked else {}
        if not chunked:
            self._closing = True  # a body without length or chunks ends with the connection
        self._streaming = True
        self._write(_head(request, status, {**headers, **framing}, close=not chunked))
        return chunked

    async def send(self, data: bytes) -> None:
        if self.gone:
            raise ConnectionResetError("the client is gone")
        self._write(data)
        while not self._writable:
            await self._wait("the client is gone")

    @property
    def gone(self) -> bool:
        transport = self._transport
        return self._gone or transport is None or transport.is_closing()

    def sockname(self) -> object:
        return self._transport.get_extra_info("sockname") if self._transport else None

    def on_gone(self, callback: Callable[[], None]) -> None:
        if self.gone:
            callback()
        else:
            self._gone_callbacks.append(callback)

    # --- for the server ----------------------------------------------------------------

    def shutdown(self) -> None:
        """Answer the request being served, then close. A stream is ended now: cleanly (its
        last chunk sent) when it waits on ``on_gone``, else by closing the connection."""
        self._closing = True
        if self.task is None:
            self._close()
        elif self._streaming:
            if self._gone_callbacks:
                self._notify_gone()
            else:
                self._close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # --- serving ----------------------------------------------------------------------

    def _run(self) -> None:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._serve_queue())

    async def _serve_queue(self) -> None:
        try:
            while self._queue and not self.gone:
                item = self._queue[0]
                if isinstance(item, Response):
                    self._write(_whole(None, item, close=True))
                    self._close()
                    return
                self._serving = item
                reply = await self._handle(item.request)
                self._queue.popleft()
                self._serving = None
                if not self._finish(item, reply):
                    self._close_after(item)
                    return
                self._resume()
            if self._closing:
                self._close()
            elif not self.gone:
                self._idle = asyncio.get_running_loop().call_later(
                    self._keepalive_timeout, self._idle_expired
                )
        finally:
            self.task = None
            self._serving = None

    async def _handle(self, request: Request) -> Reply:
        try:
            return await self._dispatch(request)
        except BodyTooLarge as exc:
            response = plain_error(413, str(exc))
            response.close = True  # the rest of the body is never read
            return response
        except ConnectionError:
            return Response(close=True)  # the client hung up mid-request
        except Exception:
            self._log.log(
                LogLevel.ERRO,
                f"HTTP server: error while serving {request.method} {request.path}\n"
                + traceback.format_exc().rstrip(),
            )
            if self._streaming:
                return Response(close=True)  # a stream's head is out: all we can do is end
            return plain_error(500, f"unexpected error while serving {request.path}")

    def _finish(self, incoming: _Incoming, reply: Reply) -> bool:
        """Send the end of the reply; whether the connection may serve another request."""
        request = incoming.request
        streamed = self._streaming
        self._streaming = False
        keep = request.keep_alive and incoming.complete and not self._closing
        if isinstance(reply, ResponseStream):
            if reply.chunked and not self.gone:
                self._write(b"0\r\n\r\n")
            return keep and reply.chunked
        keep = keep and not reply.close
        if not streamed and not self.gone:
            self._write(_whole(request, reply, close=not keep))
        return keep and not streamed

    # --- plumbing ---------------------------------------------------------------------

    def _refuse(self, status: int, detail: str) -> None:
        """Answer a request we could not parse (after those before it), then close."""
        self._log.log(LogLevel.DEBG, f"HTTP server: refused a request: {detail}")
        self._closing = True
        self._in_head = False
        self._queue.append(plain_error(status, detail))
        self._run()

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    async def _wait(self, why: str) -> None:
        if self.gone:
            raise ConnectionResetError(why)
        self._wakeup = asyncio.get_running_loop().create_future()
        try:
            await self._wakeup
        finally:
            self._wakeup = None

    def _notify_gone(self) -> None:
        callbacks, self._gone_callbacks = self._gone_callbacks, []
        for callback in callbacks:
            callback()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _pause(self) -> None:
        if not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()

    def _resume(self) -> None:
        if self._paused and self._transport is not None and not self._closing:
            self._paused = False
            self._transport.resume_reading()

    def _close_after(self, incoming: _Incoming) -> None:
        """Close once the answer is out; first let a small unread body arrive (and drop it)."""
        declared = incoming.request.content_length
        remaining = None if declared is None else declared - incoming.size
        if incoming.complete or remaining is None or remaining > _LINGER_BYTES or self.gone:
            self._close()
            return
        self._closing = True
        self._lingering = incoming
        incoming.too_large = True  # what still arrives is thrown away
        if self._transport is not None:
            self._paused = False
            self._transport.resume_reading()  # whatever paused it (a no-op if nothing did)
        asyncio.get_running_loop().call_later(_LINGER_SECONDS, self._close)

    def _close(self) -> None:
        self._cancel_idle()
        if self._transport is not None:
            self._transport.close()

    def _idle_expired(self) -> None:
        self._idle = None
        if self._in_head:
            self._write(_whole(None, plain_error(408, "the request head took too long"), True))
        self._close()

    def _cancel_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None


def _head(request: Request | None, status: int, headers: dict[str, str], *, close: bool) -> bytes:
    version = request.version if request is not None else "1.1"
    lines = [f"HTTP/{version} {status} {_REASONS.get(status, 'Unknown')}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    lines.append(f"Date: {_Date.now()}")
    lines.append(_SERVER)
    if close:
        lines.append("Connection: close")
    elif version == "1.0":
        lines.append("Connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _whole(request: Request | None, response: Response, close: bool) -> bytes:
    """A whole response: head and body (no body to a HEAD request)."""
    headers = {**response.headers, "Content-Length": str(len(response.body))}
    head = _head(request, response.status, headers, close=close)
    if request is not None and request.method == "HEAD":
        return head
    return head + response.body


def _expects_continue(request: Request) -> bool:
    return (request.headers.get("Expect") or "").lower() == "100-continue"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
