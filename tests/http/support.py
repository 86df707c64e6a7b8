"""Shared pieces of the HTTP and RPC tests: a sample namespace, a main log in memory, servers
on real sockets, a small HTTP client, and Supervisor 4.3.0 run as a subprocess."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import subprocess
import tempfile
import xmlrpc.client
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from vigil.config.model import InetServerConfig, LogLevel, UnixServerConfig
from vigil.faults import Faults, RPCError
from vigil.http.rpc_handler import rpc_routes
from vigil.http.server import HeaderLimits, HttpServer
from vigil.services.rpc.registry import RpcRegistry, published
from vigil.services.rpc.system_ns import add_system_namespace

REPO = Path(__file__).resolve().parents[2]
SUPERVISOR_PYTHON = REPO / ".venv-supervisor" / "bin" / "python"
DEADLINE = 30.0  # seconds; only ever a bound on waiting for something that should happen


def supervisor_python() -> Path:
    if not SUPERVISOR_PYTHON.exists():
        pytest.fail(
            f"the Supervisor 4.3.0 reference is missing at {SUPERVISOR_PYTHON}: "
            "run `make supervisor-ref`"
        )
    return SUPERVISOR_PYTHON


def run_supervisor_python(script: str, stdin: str = "") -> Any:
    """Run ``script`` with Supervisor's interpreter; it prints one JSON document."""
    completed = subprocess.run(
        [str(supervisor_python()), "-c", script],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


class MemoryLog:
    """A MainLog that remembers what it was told."""

    def __init__(self) -> None:
        self.lines: list[tuple[LogLevel, str]] = []

    def log(self, level: LogLevel, message: str) -> None:
        self.lines.append((level, message))

    def at(self, level: LogLevel) -> list[str]:
        return [message for lvl, message in self.lines if lvl == level]

    def text(self) -> str:
        return "\n".join(message for _, message in self.lines)


class SampleNamespace:
    """Methods of every shape the registry must handle: quick ones that never await, one that
    waits on a gate the test opens, ones that fail in each way, and unpublished ones."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()
        self.finished = asyncio.Event()
        self.calls: list[str] = []
        self.value = 42  # a plain attribute: never callable over RPC

    @published
    async def getAPIVersion(self) -> str:
        """ Return the version of the sample API

        @return string version   The version
        """
        return "3.0"

    getVersion = getAPIVersion  # an alias, published under both names

    @published
    async def add(self, a: int, b: int) -> int:
        """ Add two integers

        @param int a   The first
        @param int b   The second
        @return int result  Their sum
        """
        return a + b

    @published
    async def greet(self, name: str, excited: bool = True) -> str:
        """ Greet someone

        @param string name  Who
        @param boolean excited  How
        @return string greeting
        """
        return f"hello {name}" + ("!" if excited else "")

    @published
    async def echo(self, value: Any) -> Any:
        """Return the value as received (no tags: methodSignature is unsupported)."""
        return value

    @published
    async def total(self, *numbers: int) -> int:
        return sum(numbers)

    @published
    async def fail(self, code: int, extra: str) -> bool:
        raise RPCError(Faults(code), extra or None)

    @published
    async def crash(self, marker: str) -> bool:
        raise RuntimeError("kaboom")

    @published
    async def nothing(self) -> None:
        return None

    @published
    async def huge(self) -> int:
        return 2**40

    @published
    async def slow(self, tag: str) -> str:
        self.calls.append(f"start {tag}")
        self.waiting.set()
        await self.gate.wait()
        self.calls.append(f"end {tag}")
        self.finished.set()
        return tag

    @published
    async def record(self, tag: str) -> str:
        self.calls.append(tag)
        return tag

    async def helper(self) -> str:
        return "not published"

    async def _hidden(self) -> str:
        return "not published either"


def sample_registry() -> tuple[RpcRegistry, SampleNamespace]:
    registry = RpcRegistry()
    add_system_namespace(registry)
    namespace = SampleNamespace()
    registry.add_namespace("sample", namespace)
    return registry, namespace


@contextlib.contextmanager
def short_directory() -> Iterator[Path]:
    """A directory with a short path: unix socket paths are limited to about 100 bytes."""
    path = Path(tempfile.mkdtemp(prefix="vigil-http-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class Served:
    server: HttpServer
    log: MemoryLog
    registry: RpcRegistry
    namespace: SampleNamespace

    @property
    def tcp(self) -> Target:
        host, port = self.server.inet_addresses[0]
        return Target(host=host, port=port)


@contextlib.asynccontextmanager
async def serve(
    unix: tuple[UnixServerConfig, ...] = (),
    inet: tuple[InetServerConfig, ...] = (),
    *,
    max_body_bytes: int = 64 * 1024,
    header_limits: HeaderLimits | None = None,
) -> AsyncIterator[Served]:
    registry, namespace = sample_registry()
    log = MemoryLog()
    server = HttpServer(
        [rpc_routes(registry, log, max_body_bytes=max_body_bytes)],
        unix,
        inet,
        log,
        header_limits=header_limits,
    )
    await server.start()
    try:
        yield Served(server, log, registry, namespace)
    finally:
        await server.stop()


def loopback(name: str = "inet_http_server", **options: Any) -> InetServerConfig:
    return InetServerConfig(name=name, host="127.0.0.1", port=0, **options)


@dataclass(frozen=True)
class Target:
    """Where a test client connects: a unix socket file, or a loopback host and port."""

    socket_file: str | None = None
    host: str = "127.0.0.1"
    port: int = 0

    def session(self) -> aiohttp.ClientSession:
        if self.socket_file is not None:
            return aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=self.socket_file))
        return aiohttp.ClientSession()

    def url(self, path: str = "/RPC2") -> str:
        if self.socket_file is not None:
            return f"http://localhost{path}"
        return f"http://{self.host}:{self.port}{path}"

    async def open_raw(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.socket_file is not None:
            return await asyncio.open_unix_connection(self.socket_file)
        return await asyncio.open_connection(self.host, self.port)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def value(self) -> Any:
        """The decoded XML-RPC result; a fault raises xmlrpc.client.Fault."""
        assert self.status == 200, (self.status, self.body)
        assert self.headers["Content-Type"] == "text/xml"
        (value,), _ = xmlrpc.client.loads(self.body)
        return value

    def fault(self) -> tuple[int, str]:
        try:
            value = self.value()
        except xmlrpc.client.Fault as fault:
            return fault.faultCode, fault.faultString
        raise AssertionError(f"expected a fault, got {value!r}")


def call_body(method: str, *params: Any) -> bytes:
    return xmlrpc.client.dumps(params, methodname=method).encode("utf-8")


def params_body(method: str, params_xml: str) -> bytes:
    """A call whose params are written by hand, for types the stdlib client never sends."""
    return (
        f"<?xml version='1.0'?><methodCall><methodName>{method}</methodName>"
        f"<params>{params_xml}</params></methodCall>"
    ).encode()


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


async def post(
    target: Target,
    body: bytes,
    *,
    path: str = "/RPC2",
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> Reply:
    async with (
        target.session() as session,
        session.request(
            method,
            target.url(path),
            data=body,
            headers={"Content-Type": "text/xml", **(headers or {})},
            timeout=aiohttp.ClientTimeout(total=DEADLINE),
        ) as response,
    ):
        return Reply(response.status, dict(response.headers), await response.read())


async def call(target: Target, method: str, *params: Any, **options: Any) -> Reply:
    return await post(target, call_body(method, *params), **options)


async def raw_exchange(target: Target, request: bytes) -> bytes:
    """Send bytes as they are and read the head of the reply (status line and headers)."""
    reader, writer = await target.open_raw()
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def status_of(raw_reply: bytes) -> int:
    return int(raw_reply.split(b" ", 2)[1])


# Hostile documents: each must be refused before any entity is expanded or fetched.
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<methodCall><methodName>sample.echo</methodName>
<params><param><value>&lol4;</value></param></params></methodCall>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE call [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<methodCall><methodName>sample.echo</methodName>
<params><param><value>&secret;</value></param></params></methodCall>"""

PLAIN_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE methodCall SYSTEM "http://127.0.0.1:9/call.dtd">
<methodCall><methodName>sample.echo</methodName></methodCall>"""
