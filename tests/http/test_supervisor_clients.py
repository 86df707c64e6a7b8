"""The clients that talk to Supervisor talk to us: the standard library's ServerProxy (what
supervisorctl is built on) over TCP, Supervisor 4.3.0's own SupervisorTransport over the unix
socket, and the real supervisorctl program."""

from __future__ import annotations

import asyncio
import json
import xmlrpc.client
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.http.support import (
    DEADLINE,
    MemoryLog,
    loopback,
    sample_registry,
    short_directory,
    supervisor_python,
)
from vigil.config.model import UnixServerConfig
from vigil.http.rpc_handler import rpc_routes
from vigil.http.server import HttpServer
from vigil.services.rpc.registry import published

USERNAME = "user"
PASSWORD = "s3cret"


class MiniSupervisorNamespace:
    """Just what ``supervisorctl version`` asks: the API version, then the program version."""

    @published
    async def getAPIVersion(self) -> str:
        return "3.0"

    getVersion = getAPIVersion

    @published
    async def getSupervisorVersion(self) -> str:
        return "served-by-the-test"


@dataclass
class Running:
    server: HttpServer
    socket_file: str
    authenticated: bool

    @property
    def tcp_url(self) -> str:
        host, port = self.server.inet_addresses[0]
        return f"http://{host}:{port}/RPC2"


async def start(directory: Path, authenticated: bool, *, supervisor_ns: bool = True) -> Running:
    registry, _ = sample_registry()
    if supervisor_ns:
        registry.add_namespace("supervisor", MiniSupervisorNamespace())
    log = MemoryLog()
    credentials: dict[str, Any] = (
        {"username": USERNAME, "password": PASSWORD} if authenticated else {}
    )
    socket_file = str(directory / "ctl.sock")
    server = HttpServer(
        [rpc_routes(registry, log)],
        (UnixServerConfig(name="unix_http_server", file=socket_file, **credentials),),
        (loopback(**credentials),),
        log,
    )
    await server.start()
    return Running(server, socket_file, authenticated)


@pytest.fixture(params=[False, True], ids=["open", "authenticated"])
async def running(request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    with short_directory() as directory:
        served = await start(directory, bool(request.param))
        try:
            yield served
        finally:
            await served.server.stop()


@pytest.fixture
async def locked() -> AsyncIterator[Running]:
    with short_directory() as directory:
        served = await start(directory, authenticated=True)
        try:
            yield served
        finally:
            await served.server.stop()


def stdlib_session(url: str) -> dict[str, Any]:
    """What a supervisorctl-like client does, several calls on one persistent proxy."""
    with xmlrpc.client.ServerProxy(url) as proxy:
        return _session_on(proxy)


def _session_on(proxy: xmlrpc.client.ServerProxy) -> dict[str, Any]:
    results: dict[str, Any] = {
        "methods": proxy.system.listMethods(),
        "add": proxy.sample.add(2, 3),
        "text": proxy.sample.echo("é <&> ☃ 𝄞"),
        "struct": proxy.sample.echo({"nested": [1, True, 2.5, {"x": ""}]}),
        "multicall": proxy.system.multicall(
            [
                {"methodName": "sample.add", "params": [1, 1]},
                {"methodName": "sample.nosuch", "params": []},
            ]
        ),
        "signature": proxy.system.methodSignature("sample.greet"),
    }
    try:
        proxy.sample.fail(10, "foo")
    except xmlrpc.client.Fault as fault:
        results["fault"] = [fault.faultCode, fault.faultString]
    return results


EXPECTED_SESSION = {
    "add": 5,
    "text": "é <&> ☃ 𝄞",
    "struct": {"nested": [1, True, 2.5, {"x": ""}]},
    "multicall": [2, {"faultCode": 1, "faultString": "UNKNOWN_METHOD"}],
    "signature": ["string", "string", "boolean"],
    "fault": [10, "BAD_NAME: foo"],
}


async def test_the_stdlib_server_proxy_over_tcp(running: Running) -> None:
    url = running.tcp_url
    if running.authenticated:
        url = url.replace("http://", f"http://{USERNAME}:{PASSWORD}@")
    results = await asyncio.to_thread(stdlib_session, url)
    assert "system.multicall" in results.pop("methods")
    assert results == EXPECTED_SESSION


async def test_the_stdlib_server_proxy_sees_a_401_as_a_protocol_error(locked: Running) -> None:
    url = locked.tcp_url.replace("http://", f"http://{USERNAME}:no@")
    with (
        xmlrpc.client.ServerProxy(url) as proxy,
        pytest.raises(xmlrpc.client.ProtocolError) as refused,
    ):
        await asyncio.to_thread(proxy.sample.add, 1, 2)
    assert refused.value.errcode == 401


SUPERVISOR_TRANSPORT_SESSION = """
import json, sys
from supervisor.compat import xmlrpclib
from supervisor.xmlrpc import SupervisorTransport
args = json.load(sys.stdin)
transport = SupervisorTransport(args["username"], args["password"], "unix://" + args["socket"])
proxy = xmlrpclib.ServerProxy("http://127.0.0.1", transport=transport)
results = {
    "add": proxy.sample.add(2, 3),
    "text": proxy.sample.echo("é <&> ☃ 𝄞"),
    "struct": proxy.sample.echo({"nested": [1, True, 2.5, {"x": ""}]}),
    "multicall": proxy.system.multicall([
        {"methodName": "sample.add", "params": [1, 1]},
        {"methodName": "sample.nosuch", "params": []},
    ]),
    "signature": proxy.system.methodSignature("sample.greet"),
}
try:
    proxy.sample.fail(10, "foo")
except xmlrpclib.Fault as fault:
    results["fault"] = [fault.faultCode, fault.faultString]
print(json.dumps(results))
"""


async def run_program(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """Run a program without blocking the loop that serves its requests."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), DEADLINE)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_supervisors_own_transport_over_the_unix_socket(running: Running) -> None:
    credentials = [USERNAME, PASSWORD] if running.authenticated else [None, None]
    arguments = {
        "socket": running.socket_file,
        "username": credentials[0],
        "password": credentials[1],
    }
    status, out, err = await run_program(
        str(supervisor_python()), "-c", SUPERVISOR_TRANSPORT_SESSION, stdin=json.dumps(arguments)
    )
    assert status == 0, err
    assert json.loads(out) == EXPECTED_SESSION


def supervisorctl() -> str:
    return str(supervisor_python().parent / "supervisorctl")


async def test_the_real_supervisorctl_over_the_unix_socket(running: Running) -> None:
    options = ["-u", USERNAME, "-p", PASSWORD] if running.authenticated else []
    status, out, _ = await run_program(
        supervisorctl(), "-s", f"unix://{running.socket_file}", *options, "version"
    )
    assert (status, out) == (0, "served-by-the-test\n")


async def test_the_real_supervisorctl_with_wrong_credentials(locked: Running) -> None:
    status, out, _ = await run_program(
        supervisorctl(), "-s", f"unix://{locked.socket_file}", "-u", USERNAME, "-p", "no",
        "version",
    )
    assert status == 1
    assert out.startswith(
        "Server requires authentication\nerror: <class 'xmlrpc.client.ProtocolError'>, "
        "<ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>"
    )


async def test_the_real_supervisorctl_without_the_supervisor_namespace() -> None:
    with short_directory() as directory:
        served = await start(directory, authenticated=False, supervisor_ns=False)
        try:
            status, out, _ = await run_program(
                supervisorctl(), "-s", f"unix://{served.socket_file}", "version"
            )
        finally:
            await served.server.stop()
    assert out.startswith("Sorry, supervisord responded but did not recognize the supervisor")
    assert status == 3
