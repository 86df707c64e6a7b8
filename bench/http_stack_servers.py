"""The minimal servers the HTTP stack comparison measures, one per candidate stack.

They run in a process of their own, started by `bench.http_stack_launch` (which times the
imports first). Every server answers the same routes with the same bytes (`reply`):

- ``POST /RPC2``: a fixed small XML-RPC answer, with a Content-Length;
- ``GET /stream``: 1 MiB as a chunked response, 64 writes of 16 KiB, each awaited (flow
  control), as a log tail does;
- ``GET /events``: two Server-Sent Events a second apart, each flushed as it is written.

Every server refuses a body over `MAX_BODY` (413), a request head over `MAX_HEAD`, and closes
a connection idle for `KEEPALIVE` seconds. The HTTP parsing is always the library's: the glue
here (for h11 and httptools) only moves bytes and events between asyncio and the parser, and
writes the response head, as uvicorn's protocols do.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

RPC_PATH = "/RPC2"
RPC_ANSWER = (
    b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n"
    b"<member>\n<name>statecode</name>\n<value><int>1</int></value>\n</member>\n"
    b"<member>\n<name>statename</name>\n<value><string>RUNNING</string></value>\n</member>\n"
    b"</struct></value>\n</param>\n</params>\n</methodResponse>\n"
)
STREAM_PART = b"0123456789abcdef" * 1024  # 16 KiB
STREAM_PARTS = 64
EVENT_GAP = 1.0
EVENTS = (b"data: 1\n\n", b"data: 2\n\n")
MAX_BODY = 1 << 20
MAX_HEAD = 16 * 1024
KEEPALIVE = 1.0


@dataclass(frozen=True)
class Reply:
    """What a route answers: a whole body, or parts written one by one (a float is a pause)."""

    status: int
    content_type: str
    body: bytes | None = None
    parts: tuple[bytes | float, ...] = ()


def reply(method: str, path: str) -> Reply:
    """The one routing table every stack serves."""
    if path == RPC_PATH:
        if method != "POST":
            return Reply(405, "text/plain", b"POST only\n")
        return Reply(200, "text/xml", RPC_ANSWER)
    if path == "/stream" and method == "GET":
        return Reply(200, "application/octet-stream", parts=(STREAM_PART,) * STREAM_PARTS)
    if path == "/events" and method == "GET":
        return Reply(200, "text/event-stream", parts=(EVENTS[0], EVENT_GAP, EVENTS[1]))
    return Reply(404, "text/plain", b"not found\n")


def plain(status: int) -> Reply:
    return Reply(status, "text/plain", f"{status} {HTTPStatus(status).phrase}\n".encode())


class _Flow:
    """asyncio write flow control for one transport: `drain` waits while it is paused."""

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None
        self.paused = False
        self.lost = False

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def connection_lost(self) -> None:
        self.lost = True
        self.resume()

    async def drain(self) -> None:
        if self.lost:
            raise ConnectionResetError("the client went away")
        if self.paused:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
            if self.lost:
                raise ConnectionResetError("the client went away")


class _GlueProtocol(asyncio.Protocol, metaclass=abc.ABCMeta):
    """What the h11 and httptools glue share: flow control, the idle deadline, the response."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.flow = _Flow()
        self.idle: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm_idle()
        self.flow.connection_lost()
        if self.task is not None:
            self.task.cancel()

    def pause_writing(self) -> None:
        self.flow.pause()

    def resume_writing(self) -> None:
        self.flow.resume()

    def arm_idle(self) -> None:
        """Close the connection unless a request head begins within the keep-alive timeout."""
        self.disarm_idle()
        assert self.transport is not None
        self.idle = asyncio.get_running_loop().call_later(KEEPALIVE, self.transport.close)

    def disarm_idle(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
            self.idle = None

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        if not self.transport.is_closing():
            self.transport.write(data)

    async def send(self, answer: Reply) -> None:
        """Write one response through the subclass's framing (`head`, `frame`, `tail`)."""
        if answer.body is not None:
            self.write(self.head(answer.status, answer.content_type, len(answer.body)))
            self.write(self.frame(answer.body))
            self.write(self.tail())
            return
        self.write(self.head(answer.status, answer.content_type, None))
        for part in answer.parts:
            if isinstance(part, float):
                await asyncio.sleep(part)
                continue
            self.write(self.frame(part))
            await self.flow.drain()
        self.write(self.tail())

    @abc.abstractmethod
    def head(self, status: int, content_type: str, length: int | None) -> bytes:
        """The wire form of this part of a response, in the stack's own way."""

    @abc.abstractmethod
    def frame(self, data: bytes) -> bytes:
        """The wire form of this part of a response, in the stack's own way."""

    @abc.abstractmethod
    def tail(self) -> bytes:
        """The wire form of this part of a response, in the stack's own way."""


class H11Protocol(_GlueProtocol):
    """h11 parses the requests and frames the responses; this moves the bytes."""

    def __init__(self) -> None:
        super().__init__()
        import h11

        self.h11 = h11
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self.method = self.target = ""
        self.body: list[bytes] = []
        self.size = 0

    def data_received(self, data: bytes) -> None:
        self.conn.receive_data(data)
        self.advance()

    def eof_received(self) -> bool | None:
        self.conn.receive_data(b"")
        self.advance()
        return None

    def advance(self) -> None:
        h11 = self.h11
        while self.task is None and self.transport is not None and not self.transport.is_closing():
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                self.refuse(exc.error_status_hint)
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self.disarm_idle()
                self.method, self.target = event.method.decode(), event.target.decode()
                self.body, self.size = [], 0
                declared = dict(event.headers).get(b"content-length")
                if declared is not None and int(declared) > MAX_BODY:
                    self.refuse(413)
                    return
            elif isinstance(event, h11.Data):
                self.size += len(event.data)
                if self.size > MAX_BODY:
                    self.refuse(413)
                    return
                self.body.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self.task = asyncio.get_running_loop().create_task(self.respond())
            else:  # ConnectionClosed
                self.transport.close()

    async def respond(self) -> None:
        try:
            await self.send(reply(self.method, self.target))
        except ConnectionError:
            return
        self.task = None
        h11 = self.h11
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
            self.arm_idle()
            self.advance()
        elif self.transport is not None:
            self.transport.close()

    def refuse(self, status: int) -> None:
        assert self.transport is not None
        if self.conn.our_state in (self.h11.IDLE, self.h11.SEND_RESPONSE):
            body = plain(status).body or b""
            headers = [("Content-Length", str(len(body))), ("Connection", "close")]
            with contextlib.suppress(self.h11.LocalProtocolError):
                self.write(self.conn.send(self.h11.Response(status_code=status, headers=headers)))
                self.write(self.conn.send(self.h11.Data(data=body)))
                self.write(self.conn.send(self.h11.EndOfMessage()))
        self.transport.close()

    def head(self, status: int, content_type: str, length: int | None) -> bytes:
        headers = [("Content-Type", content_type)]
        if length is not None:
            headers.append(("Content-Length", str(length)))
        return self.conn.send(self.h11.Response(status_code=status, headers=headers)) or b""

    def frame(self, data: bytes) -> bytes:
        return self.conn.send(self.h11.Data(data=data)) or b""

    def tail(self) -> bytes:
        return self.conn.send(self.h11.EndOfMessage()) or b""


class HttpToolsProtocol(_GlueProtocol):
    """llhttp (through httptools) parses; the response head and chunk framing are written here,
    as uvicorn's httptools protocol does."""

    def __init__(self) -> None:
        super().__init__()
        import httptools

        self.httptools = httptools
        self.parser = httptools.HttpRequestParser(self)
        self.queue: deque[tuple[str, str, bool, bool]] = deque()
        self.url = b""
        self.in_head = False
        self.head_bytes = 0
        self.head_size = 0
        self.size = 0
        self.too_large = False
        self.http11 = True
        self.chunked = False
        self.keep_alive = True

    def data_received(self, data: bytes) -> None:
        # llhttp has no bound on a request head (Node.js counts in its own glue): count the
        # bytes received since the head began, and refuse once the head is still unfinished
        # past the bound, before httptools buffers any more of it
        self.head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except self.httptools.HttpParserUpgrade:
            self.refuse(400)
        except self.httptools.HttpParserError:
            self.refuse(400)
        if self.too_large:
            self.refuse(413)
        elif self.head_size > MAX_HEAD or (self.in_head and self.head_bytes > MAX_HEAD):
            self.refuse(431)

    # llhttp's callbacks
    def on_message_begin(self) -> None:
        self.disarm_idle()
        self.url, self.in_head, self.size, self.head_bytes, self.head_size = b"", True, 0, 0, 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.head_size += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_size += len(name) + len(value) + 4  # a head that came whole, in one read
        if name.lower() == b"content-length" and int(value) > MAX_BODY:
            self.too_large = True

    def on_headers_complete(self) -> None:
        self.in_head, self.head_bytes = False, 0

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        self.too_large = self.too_large or self.size > MAX_BODY

    def on_message_complete(self) -> None:
        if self.too_large or self.head_size > MAX_HEAD:
            return
        parser = self.parser
        method = parser.get_method().decode()
        http11 = parser.get_http_version() == "1.1"
        target = self.httptools.parse_url(self.url).path.decode()
        self.queue.append((method, target, parser.should_keep_alive(), http11))
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self.respond())

    async def respond(self) -> None:
        while self.queue:
            method, target, self.keep_alive, self.http11 = self.queue.popleft()
            try:
                await self.send(reply(method, target))
            except ConnectionError:
                return
            if not self.keep_alive:
                assert self.transport is not None
                self.transport.close()
                return
        self.task = None
        self.arm_idle()

    def refuse(self, status: int) -> None:
        self.keep_alive = False
        assert self.transport is not None
        if self.task is None:
            body = plain(status).body or b""
            self.write(self.head(status, "text/plain", len(body)) + body)
        self.transport.close()

    def head(self, status: int, content_type: str, length: int | None) -> bytes:
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", f"Content-Type: {content_type}"]
        self.chunked = length is None and self.http11
        if length is not None:
            lines.append(f"Content-Length: {length}")
        elif self.chunked:
            lines.append("Transfer-Encoding: chunked")
        else:
            self.keep_alive = False  # an HTTP/1.0 client: the end of the body is the close
        if not self.keep_alive:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def frame(self, data: bytes) -> bytes:
        return b"%x\r\n%b\r\n" % (len(data), data) if self.chunked else data

    def tail(self) -> bytes:
        return b"0\r\n\r\n" if self.chunked else b""


async def serve_protocol(
    factory: Callable[[], asyncio.Protocol], socks: list[socket.socket]
) -> None:
    loop = asyncio.get_running_loop()
    for sock in socks:
        await loop.create_server(factory, sock=sock)
    await loop.create_future()  # until killed


async def serve_aiohttp(socks: list[socket.socket]) -> None:
    """As vigil serves: an AppRunner's protocol factory on its own create_server."""
    from aiohttp import web

    async def handle(request: web.Request) -> web.StreamResponse:
        if (request.content_length or 0) > MAX_BODY:  # as vigil's XML-RPC handler does
            raise web.HTTPRequestEntityTooLarge(MAX_BODY, request.content_length or 0)
        await request.read()  # a chunked body over client_max_size: 413 too
        answer = reply(request.method, request.path)
        if answer.body is not None:
            return web.Response(
                status=answer.status, body=answer.body, content_type=answer.content_type
            )
        response = web.StreamResponse(status=answer.status)
        response.content_type = answer.content_type
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in answer.parts:
            if isinstance(part, float):
                await asyncio.sleep(part)
            else:
                await response.write(part)
        await response.write_eof()
        return response

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log=None,
        keepalive_timeout=KEEPALIVE,
        max_line_size=MAX_HEAD,
        max_field_size=MAX_HEAD,
    )
    await runner.setup()
    assert runner.server is not None
    await serve_protocol(runner.server, socks)


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI application (no framework) for uvicorn and hypercorn."""
    if scope["type"] != "http":
        return
    declared = dict(scope["headers"]).get(b"content-length")
    size, more = 0, True
    while more and (declared is None or int(declared) <= MAX_BODY) and size <= MAX_BODY:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    too_large = size > MAX_BODY or (declared is not None and int(declared) > MAX_BODY)
    answer = plain(413) if too_large else reply(scope["method"], scope["path"])
    headers = [(b"content-type", answer.content_type.encode())]
    if answer.body is not None:
        headers.append((b"content-length", str(len(answer.body)).encode()))
        if too_large:
            headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    if answer.body is not None:
        await send({"type": "http.response.body", "body": answer.body})
        return
    for part in answer.parts:
        if isinstance(part, float):
            await asyncio.sleep(part)
        else:
            await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def uvicorn_server(http: str) -> Callable[[list[socket.socket]], Coroutine[Any, Any, None]]:
    async def serve(socks: list[socket.socket]) -> None:
        import uvicorn

        config = uvicorn.Config(
            asgi_app,
            http=http,
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_keep_alive=int(KEEPALIVE),
            h11_max_incomplete_event_size=MAX_HEAD,
        )
        await uvicorn.Server(config).serve(sockets=socks)

    return serve


async def serve_hypercorn(socks: list[socket.socket]) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"fd://{sock.fileno()}" for sock in socks]
    config.keep_alive_timeout = KEEPALIVE
    config.h11_max_incomplete_size = MAX_HEAD
    config.accesslog = config.errorlog = None
    await serve(asgi_app, config, mode="asgi")  # type: ignore[arg-type]


async def serve_stdlib(socks: list[socket.socket]) -> None:
    """http.server in threads (one per connection); asyncio idles in the main thread."""
    import http.server
    import socketserver

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = KEEPALIVE  # an idle keep-alive connection ends its thread

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            self.answer()

        do_POST = do_GET

        def answer(self) -> None:
            declared = int(self.headers.get("Content-Length") or 0)
            if declared > MAX_BODY:
                self.send_error(413)
                self.close_connection = True
                return
            self.rfile.read(declared)
            answer = reply(self.command, self.path.split("?")[0])
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            if answer.body is not None:
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in answer.parts:
                if isinstance(part, float):
                    time.sleep(part)
                else:
                    self.wfile.write(b"%x\r\n%b\r\n" % (len(part), part))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

    class Server(socketserver.ThreadingMixIn, socketserver.BaseServer):
        daemon_threads = True

        def __init__(self, sock: socket.socket) -> None:
            super().__init__(sock.getsockname(), Handler)
            self.socket = sock

        def fileno(self) -> int:
            return self.socket.fileno()

        def get_request(self) -> tuple[socket.socket, Any]:
            conn, address = self.socket.accept()
            return conn, address or ("unix", 0)

        def shutdown_request(self, request: Any) -> None:
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_WR)
            request.close()

    for sock in socks:
        threading.Thread(target=Server(sock).serve_forever, daemon=True).start()
    await asyncio.get_running_loop().create_future()


async def serve_nothing(socks: list[socket.socket]) -> None:
    """The baseline: asyncio and the sockets, no HTTP at all."""
    await asyncio.get_running_loop().create_future()


SERVERS: dict[str, Callable[[list[socket.socket]], Coroutine[Any, Any, None]]] = {
    "asyncio-only": serve_nothing,
    "asyncio-only+ssl": serve_nothing,
    "aiohttp": serve_aiohttp,
    "h11": lambda socks: serve_protocol(H11Protocol, socks),
    "httptools": lambda socks: serve_protocol(HttpToolsProtocol, socks),
    "uvicorn": uvicorn_server("httptools"),
    "uvicorn-h11": uvicorn_server("h11"),
    "hypercorn": serve_hypercorn,
    "stdlib": serve_stdlib,
}


def bind(unix_path: str) -> list[socket.socket]:
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(unix_path)
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY on accepted connections only for a
    # socket that says it is TCP (proto 0 does not), and aiohttp alone sets it itself. Without
    # it a response written in two pieces (head, then body) waits for the client's delayed ACK,
    # 40 ms per keep-alive request. On Linux accepted sockets inherit it from the listener,
    # which covers the threads of http.server too.
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tcp.bind(("127.0.0.1", 0))
    for sock in (unix, tcp):
        sock.listen(1024)
        sock.setblocking(False)
    return [unix, tcp]
