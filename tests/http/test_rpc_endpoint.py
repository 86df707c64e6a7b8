"""POST /RPC2 over a real unix socket and real loopback TCP: faults travel as XML-RPC faults,
bad requests are 4xx with a reason, server bugs are a logged 500, and a slow call never holds
up another client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from tests.http.support import (
    BILLION_LAUGHS,
    DEADLINE,
    EXTERNAL_ENTITY,
    PLAIN_DTD,
    Served,
    Target,
    call,
    call_body,
    loopback,
    params_body,
    post,
    raw_exchange,
    serve,
    short_directory,
    status_of,
)
from vigil.config.model import LogLevel, UnixServerConfig
from vigil.http.server import HeaderLimits

MAX_BODY = 64 * 1024


@pytest.fixture(params=["unix", "tcp"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def directory() -> Iterator[str]:
    with short_directory() as path:
        yield str(path)


@pytest.fixture
async def served(transport: str, directory: str) -> AsyncIterator[tuple[Served, Target]]:
    if transport == "unix":
        socket_file = f"{directory}/rpc.sock"
        unix = (UnixServerConfig(name="unix_http_server", file=socket_file),)
        async with serve(unix=unix, max_body_bytes=MAX_BODY) as running:
            yield running, Target(socket_file=socket_file)
    else:
        async with serve(inet=(loopback(),), max_body_bytes=MAX_BODY) as running:
            yield running, running.tcp


async def test_a_call_returns_its_result_as_text_xml(served: tuple[Served, Target]) -> None:
    _, target = served
    reply = await call(target, "sample.add", 2, 3)
    assert reply.value() == 5
    assert reply.headers["Content-Type"] == "text/xml"
    assert (await call(target, "sample.getVersion")).value() == "3.0"


@pytest.mark.parametrize(
    ("method", "params", "fault"),
    [
        ("nosuch.method", (), (1, "UNKNOWN_METHOD")),
        ("sample", (), (1, "UNKNOWN_METHOD")),
        ("sample.add.real", (1, 2), (1, "UNKNOWN_METHOD")),
        ("a.b.c", (), (1, "UNKNOWN_METHOD")),
        ("sample._hidden", (), (1, "UNKNOWN_METHOD")),
        ("_sample.add", (1, 2), (1, "UNKNOWN_METHOD")),
        ("sample.__init__", (), (1, "UNKNOWN_METHOD")),
        ("sample.helper", (), (1, "UNKNOWN_METHOD")),
        ("sample.value", (), (1, "UNKNOWN_METHOD")),
        ("sample.add", (1,), (2, "INCORRECT_PARAMETERS")),
        ("sample.add", (1, 2, 3), (2, "INCORRECT_PARAMETERS")),
        ("sample.add", (1, "2"), (2, "INCORRECT_PARAMETERS: b must be int, not string")),
        ("sample.fail", (70, ""), (70, "NOT_RUNNING")),
        ("sample.fail", (10, "foo"), (10, "BAD_NAME: foo")),
        ("system.methodHelp", ("nosuch.x",), (4, "SIGNATURE_UNSUPPORTED")),
    ],
)
async def test_faults_travel_as_xml_rpc_faults(
    served: tuple[Served, Target], method: str, params: tuple[object, ...], fault: tuple[int, str]
) -> None:
    running, target = served
    assert (await call(target, method, *params)).fault() == fault
    assert running.namespace.calls == []


async def test_hand_written_types_the_stdlib_never_sends(served: tuple[Served, Target]) -> None:
    _, target = served
    nil = params_body("sample.add", "<param><value><nil/></value></param>" * 2)
    assert (await post(target, nil)).fault() == (2, "INCORRECT_PARAMETERS: a must be int, not nil")
    eight = params_body("sample.add", "<param><value><i8>1</i8></value></param>" * 2)
    assert (await post(target, eight)).fault() == (
        2,
        "INCORRECT_PARAMETERS: a must be int, not string",
    )


async def test_multicall_over_the_wire(served: tuple[Served, Target]) -> None:
    _, target = served
    reply = await call(
        target,
        "system.multicall",
        [{"methodName": "sample.add", "params": [1, 2]}, {"methodName": "x.y", "params": []}],
    )
    assert reply.value() == [3, {"faultCode": 1, "faultString": "UNKNOWN_METHOD"}]


async def test_a_slow_call_does_not_hold_up_another_client(
    served: tuple[Served, Target],
) -> None:
    running, target = served
    slow = asyncio.create_task(call(target, "sample.slow", "a"))
    await asyncio.wait_for(running.namespace.waiting.wait(), DEADLINE)
    assert (await call(target, "sample.add", 1, 1)).value() == 2
    assert not slow.done()
    running.namespace.gate.set()
    assert (await asyncio.wait_for(slow, DEADLINE)).value() == "a"


async def test_a_call_finishes_even_if_its_client_goes_away(
    served: tuple[Served, Target],
) -> None:
    running, target = served
    body = call_body("sample.slow", "a")
    _, writer = await target.open_raw()
    writer.write(
        b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n%s"
        % (len(body), body)
    )
    await writer.drain()
    await asyncio.wait_for(running.namespace.waiting.wait(), DEADLINE)
    writer.close()
    await writer.wait_closed()
    running.namespace.gate.set()
    await asyncio.wait_for(running.namespace.finished.wait(), DEADLINE)
    assert running.namespace.calls == ["start a", "end a"]


@pytest.mark.parametrize("path", ["/RPC2", "/RPC2/", "/RPC2/deeper/path", "/RPC2x", "/RPC2?q=1"])
async def test_every_path_starting_with_rpc2_is_the_endpoint(
    served: tuple[Served, Target], path: str
) -> None:
    _, target = served
    assert (await call(target, "sample.add", 1, 2, path=path)).value() == 3


async def test_other_paths_are_not_found(served: tuple[Served, Target]) -> None:
    _, target = served
    assert (await call(target, "sample.add", 1, 2, path="/rpc2")).status == 404


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
async def test_methods_other_than_post_are_bad_requests(
    served: tuple[Served, Target], method: str
) -> None:
    _, target = served
    assert (await post(target, b"", method=method)).status == 400


@pytest.mark.parametrize(
    ("body", "logged"),
    [
        (b"", "empty body"),
        (b"  \r\n ", "empty body"),
        (b"<methodCall><params/></methodCall>", "no method name"),
        (b"not xml at all", "not well-formed XML"),
        (call_body("sample.echo", "caf\xe9").replace("é".encode(), b"\xe9"), "invalid token"),
        (
            b"<?xml version='1.0' encoding='x-unknown'?><methodCall/>",
            "unsupported encoding: unknown encoding: x-unknown",
        ),
        (BILLION_LAUGHS, "(DTD) is not allowed"),
        (EXTERNAL_ENTITY, "(DTD) is not allowed"),
        (PLAIN_DTD, "(DTD) is not allowed"),
        (
            params_body("sample.echo", "<param><value><int>4294967296</int></value></param>"),
            "param 1: '4294967296' is outside the 32-bit range of <int>",
        ),
        (
            params_body("sample.echo", "<param><value><boolean>yes</boolean></value></param>"),
            "param 1: <boolean> must be 0 or 1, not 'yes'",
        ),
    ],
)
async def test_unusable_bodies_are_bad_requests_and_logged_with_the_reason(
    served: tuple[Served, Target], body: bytes, logged: str
) -> None:
    running, target = served
    reply = await post(target, body)
    assert reply.status == 400
    assert logged.encode() in reply.body
    (message,) = running.log.at(LogLevel.ERRO)
    assert message.startswith("XML-RPC request data is invalid: ")
    assert logged in message


async def test_a_method_that_raises_is_a_500_logged_without_the_body(
    served: tuple[Served, Target],
) -> None:
    running, target = served
    marker = "secret-marker-in-the-request"
    reply = await call(target, "sample.crash", marker)
    assert reply.status == 500
    (message,) = running.log.at(LogLevel.CRIT)[-1:]
    assert "sample.crash() raised an unexpected exception" in message
    assert "RuntimeError: kaboom" in message and "Traceback" in message
    assert marker not in running.log.text()
    assert (await call(target, "sample.add", 1, 2)).value() == 3  # still serving


@pytest.mark.parametrize("method", ["sample.nothing", "sample.huge"])
async def test_a_result_xml_rpc_cannot_carry_is_a_logged_500(
    served: tuple[Served, Target], method: str
) -> None:
    running, target = served
    assert (await call(target, method)).status == 500
    assert f"XML-RPC method {method}() returned a value XML-RPC cannot carry" in (
        running.log.at(LogLevel.CRIT)[-1]
    )


async def test_a_body_declared_larger_than_the_limit_is_refused_unread(
    served: tuple[Served, Target],
) -> None:
    _, target = served
    reply = await raw_exchange(
        target,
        b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n<methodCall>"
        % (MAX_BODY + 1),
    )
    assert status_of(reply) == 413
    assert b"connection: close" in reply.lower()


async def test_a_chunked_body_is_refused_once_it_grows_past_the_limit(
    served: tuple[Served, Target],
) -> None:
    _, target = served

    async def endless() -> AsyncIterator[bytes]:
        yield b"<methodCall><methodName>sample.echo</methodName>"
        for _ in range(MAX_BODY // 1024 + 1):
            yield b" " * 1024

    async with target.session() as session:
        try:
            async with session.post(target.url(), data=endless()) as response:
                status = response.status
        except aiohttp.ClientError:
            pytest.fail("the server should answer 413, not drop the connection")
    assert status == 413


async def test_a_body_within_the_limit_is_accepted(served: tuple[Served, Target]) -> None:
    _, target = served
    text = "x" * (MAX_BODY - 1024)
    assert (await call(target, "sample.echo", text)).value() == text


async def test_a_non_numeric_content_length_is_a_bad_request(
    served: tuple[Served, Target],
) -> None:
    _, target = served
    reply = await raw_exchange(
        target, b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: ten\r\n\r\n"
    )
    assert status_of(reply) == 400


async def test_oversized_or_too_many_headers_are_refused(directory: str) -> None:
    limits = HeaderLimits(max_line_size=1024, max_field_size=1024, max_headers=20)
    async with serve(inet=(loopback(),), header_limits=limits) as running:
        long_header = b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n" % (b"a" * 2000)
        assert status_of(await raw_exchange(running.tcp, long_header)) in (400, 431)
        many = b"".join(b"X-H%d: v\r\n" % n for n in range(40))
        many_headers = b"POST /RPC2 HTTP/1.1\r\nHost: x\r\n%s\r\n" % many
        assert status_of(await raw_exchange(running.tcp, many_headers)) in (400, 431)
        long_line = b"POST /RPC2/%s HTTP/1.1\r\nHost: x\r\n\r\n" % (b"a" * 2000)
        assert status_of(await raw_exchange(running.tcp, long_line)) in (400, 414, 431)
        assert (await call(running.tcp, "sample.add", 1, 2)).value() == 3
