"""The HTTP connection as clients meet it, byte for byte on a real socket: requests answered in
order, keep-alive by HTTP version, HEAD, 404/405, ``Expect: 100-continue``, a half-closed
client, streams on HTTP/1.1 and 1.0, a handler's bug, and the idle bound between requests."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest

from tests.http.support import DEADLINE, MemoryLog, Target, loopback
from vigil.config.model import LogLevel
from vigil.http.messages import Reply, Request, Response
from vigil.http.routing import Routes
from vigil.http.server import HttpServer

IDLE = 0.5  # the servers' request_timeout here, seconds


def routes(routes: Routes) -> None:
    async def echo(request: Request) -> Reply:
        body = await request.read(1024)
        return Response(200, body or request.path.encode(), {"Content-Type": "text/plain"})

    async def page(request: Request) -> Reply:
        return Response(200, b"a page", {"Content-Type": "text/plain"})

    async def named(request: Request) -> Reply:
        return Response(200, request.match["name"].encode(), {"Content-Type": "text/plain"})

    async def stream(request: Request) -> Reply:
        out = request.stream(headers={"Content-Type": "text/plain"})
        for part in (b"one ", b"two ", b"three"):
            await out.write(part)
        return out

    async def broken(request: Request) -> Reply:
        raise RuntimeError("a bug in a handler")

    routes.add("/echo", echo, ("POST",))
    routes.add("/page", page, ("GET",))
    routes.add("/named/{name}", named)
    routes.add("/stream", stream, ("GET",))
    routes.add("/broken", broken)


@contextlib.asynccontextmanager
async def served() -> AsyncIterator[tuple[Target, MemoryLog]]:
    log = MemoryLog()
    server = HttpServer([routes], (), (loopback(request_timeout=IDLE),), log)
    await server.start()
    try:
        host, port = server.inet_addresses[0]
        yield Target(host=host, port=port), log
    finally:
        await server.stop()


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        """One response: status, headers (lower-case names) and the body, de-chunked."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), DEADLINE)
        status_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
        headers = dict(line.split(": ", 1) for line in lines)
        headers = {name.lower(): value for name, value in headers.items()}
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            body = await self._chunks()
        else:
            body = await asyncio.wait_for(self.reader.read(), DEADLINE)
        return int(status_line.split(" ")[1]), headers, body

    async def _chunks(self) -> bytes:
        body = b""
        while size := int(await asyncio.wait_for(self.reader.readline(), DEADLINE), 16):
            body += await self.reader.readexactly(size)
            assert await self.reader.readexactly(2) == b"\r\n"
        assert await self.reader.readexactly(2) == b"\r\n"
        return body

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(1), DEADLINE) == b""


@pytest.fixture
async def client() -> AsyncIterator[tuple[Client, MemoryLog]]:
    async with served() as (target, log):
        reader, writer = await target.open_raw()
        try:
            yield Client(reader, writer), log
        finally:
            writer.close()


def post(path: str, body: bytes, version: str = "1.1", extra: str = "") -> bytes:
    head = f"POST {path} HTTP/{version}\r\nHost: x\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


async def test_pipelined_requests_are_answered_in_order(client: tuple[Client, MemoryLog]) -> None:
    conn, _ = client
    await conn.send(b"".join(post("/echo", b"request %d" % n) for n in range(5)))
    for n in range(5):
        status, _, body = await conn.response()
        assert (status, body) == (200, b"request %d" % n)


async def test_http_1_0_closes_unless_kept_alive(client: tuple[Client, MemoryLog]) -> None:
    conn, _ = client
    await conn.send(post("/echo", b"first", "1.0", "Connection: keep-alive\r\n"))
    status, headers, body = await conn.response()
    assert (status, body, headers["connection"]) == (200, b"first", "keep-alive")
    await conn.send(post("/echo", b"second", "1.0"))
    status, headers, body = await conn.response()
    assert (status, body, headers["connection"]) == (200, b"second", "close")
    assert await conn.closed()


async def test_head_has_the_length_but_no_body(client: tuple[Client, MemoryLog]) -> None:
    conn, _ = client
    await conn.send(b"HEAD /page HTTP/1.1\r\nHost: x\r\n\r\nGET /page HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), DEADLINE)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: 6\r\n" in head
    status, _, body = await conn.response()  # the next response follows the head at once
    assert (status, body) == (200, b"a page")


async def test_unknown_paths_and_methods(client: tuple[Client, MemoryLog]) -> None:
    conn, _ = client
    await conn.send(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _, body = await conn.response()
    assert (status, body) == (404, b"404 Not Found: nothing is served at /nowhere\n")
    await conn.send(post("/page", b""))
    status, headers, body = await conn.response()
    assert (status, headers["allow"]) == (405, "GET, HEAD")
    assert body == b"405 Method Not Allowed: /page does not take POST\n"


async def test_placeholders_are_percent_decoded(client: tuple[Client, MemoryLog]) -> None:
    conn, _ = client
    await conn.send(b"GET /named/web%3Aapp%2F1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await conn.response())[2] == b"web:app/1"


async def test_expect_100_continue(client: tuple[Client, MemoryLog]) -> None:
    conn, _ = client
    await conn.send(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    )
    interim = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), DEADLINE)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    await conn.send(b"body")
    assert (await conn.response())[::2] == (200, b"body")


async def test_expect_100_continue_with_a_body_over_the_limit_gets_413_at_once(
    client: tuple[Client, MemoryLog],
) -> None:
    conn, _ = client
    await conn.send(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"
    )
    status, headers, _ = await conn.response()
    assert (status, headers["connection"]) == (413, "close")
    assert await conn.closed()


async def test_a_half_closed_client_still_gets_its_answers(
    client: tuple[Client, MemoryLog],
) -> None:
    conn, _ = client
    await conn.send(post("/echo", b"one") + post("/echo", b"two"))
    sock = conn.writer.get_extra_info("socket")
    sock.shutdown(socket.SHUT_WR)
    assert (await conn.response())[2] == b"one"
    assert (await conn.response())[2] == b"two"
    assert await conn.closed()


async def test_streams_are_chunked_on_1_1_and_end_with_the_connection_on_1_0(
    client: tuple[Client, MemoryLog],
) -> None:
    conn, _ = client
    await conn.send(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = await conn.response()
    assert (status, headers["transfer-encoding"], body) == (200, "chunked", b"one two three")
    await conn.send(b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    status, headers, body = await conn.response()
    assert (status, body, headers["connection"]) == (200, b"one two three", "close")
    assert "transfer-encoding" not in headers


async def test_a_handler_bug_is_a_500_and_a_logged_traceback(
    client: tuple[Client, MemoryLog],
) -> None:
    conn, log = client
    await conn.send(b"GET /broken HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _, body = await conn.response()
    assert (status, body) == (
        500,
        b"500 Internal Server Error: unexpected error while serving /broken\n",
    )
    (logged,) = log.at(LogLevel.ERRO)
    assert "GET /broken" in logged and "RuntimeError: a bug in a handler" in logged
    await conn.send(b"GET /page HTTP/1.1\r\nHost: x\r\n\r\n")  # the connection goes on
    assert (await conn.response())[2] == b"a page"


async def test_an_idle_kept_alive_connection_is_closed(client: tuple[Client, MemoryLog]) -> None:
    conn, _ = client
    await conn.send(b"GET /page HTTP/1.1\r\nHost: x\r\n\r\n")
    await conn.response()
    assert await conn.closed()  # after IDLE seconds of nothing


async def test_a_slow_second_head_is_answered_408(client: tuple[Client, MemoryLog]) -> None:
    conn, _ = client
    await conn.send(b"GET /page HTTP/1.1\r\nHost: x\r\n\r\n")
    await conn.response()
    await conn.send(b"GET /page HTTP/1.1\r\nHo")  # and nothing more
    status, headers, _ = await conn.response()
    assert (status, headers["connection"]) == (408, "close")
    assert await conn.closed()


async def test_a_refused_request_gets_its_answer_while_its_body_is_still_coming(
    client: tuple[Client, MemoryLog],
) -> None:
    """The body of a request answered without reading it (here: too large for the route)
    is let in and dropped, so a client still sending it reads the answer, not a reset."""
    conn, _ = client
    await conn.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n")
    status, headers, _ = await conn.response()  # answered before the body is sent
    assert (status, headers["connection"]) == (413, "close")
    for _ in range(4):
        await conn.send(b"x" * 1000)  # the connection still takes the rest of the body
    assert await conn.closed()
