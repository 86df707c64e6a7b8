"""HTTP Basic auth per server section, on every endpoint: good credentials pass, anything
else (missing, wrong, malformed) is a 401 asking for Basic realm="default", never a 500."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator

import pytest

from tests.http.support import (
    MemoryLog,
    Target,
    basic,
    call,
    loopback,
    post,
    sample_registry,
    short_directory,
)
from vigil.config.model import LogLevel, UnixServerConfig
from vigil.http.auth import BasicCredentials, credentials_of
from vigil.http.messages import Request, Response
from vigil.http.routing import Routes
from vigil.http.rpc_handler import rpc_routes
from vigil.http.server import HttpServer

SHA_OF_SECRET = hashlib.sha1(b"s3cret").hexdigest()


def ok_page(routes: Routes) -> None:
    """Another route, as the web UI will add: auth must cover it without it asking."""

    async def ok(request: Request) -> Response:
        return Response(200, b"OK", {"Content-Type": "text/plain"})

    routes.add("/ok.html", ok, ("GET",))


class Both:
    def __init__(self, server: HttpServer, log: MemoryLog, socket_file: str) -> None:
        self.server = server
        self.log = log
        self.unix = Target(socket_file=socket_file)

    @property
    def tcp(self) -> Target:
        host, port = self.server.inet_addresses[0]
        return Target(host=host, port=port)


@pytest.fixture(params=["cleartext", "sha"])
async def servers(request: pytest.FixtureRequest) -> AsyncIterator[Both]:
    """TCP requires user/s3cret (stored in clear or as {SHA}); the unix socket requires none."""
    password = "s3cret" if request.param == "cleartext" else "{SHA}" + SHA_OF_SECRET
    registry, _ = sample_registry()
    log = MemoryLog()
    with short_directory() as directory:
        socket_file = str(directory / "auth.sock")
        server = HttpServer(
            [rpc_routes(registry, log), ok_page],
            (UnixServerConfig(name="unix_http_server", file=socket_file),),
            (loopback(username="user", password=password),),
            log,
        )
        await server.start()
        try:
            yield Both(server, log, socket_file)
        finally:
            await server.stop()


async def test_good_credentials_are_let_through(servers: Both) -> None:
    good = {"Authorization": basic("user", "s3cret")}
    reply = await call(servers.tcp, "sample.add", 1, 2, headers=good)
    assert reply.value() == 3


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        basic("user", "wrong"),
        basic("other", "s3cret"),
        basic("user", "s3cret" + "x"),
        basic("user", SHA_OF_SECRET),  # the stored hash is not a password
        basic("user", ""),
        "Basic",
        "Basic ",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no colon here").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Bearer " + base64.b64encode(b"user:s3cret").decode(),
        "Digest username=user",
        "",
        "Basic dXNlcjpzM2NyZXQ=  extra",
        "Basic é",
    ],
)
async def test_anything_else_is_a_401_asking_for_basic(
    servers: Both, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    reply = await call(servers.tcp, "sample.add", 1, 2, headers=headers)
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="default"'
    assert reply.headers["Connection"].lower() == "close"


async def test_the_scheme_name_is_case_insensitive(servers: Both) -> None:
    authorization = basic("user", "s3cret").replace("Basic", "bAsIc")
    reply = await call(servers.tcp, "sample.add", 1, 2, headers={"Authorization": authorization})
    assert reply.value() == 3


async def test_every_endpoint_is_covered_not_only_rpc(servers: Both) -> None:
    assert (await post(servers.tcp, b"", path="/ok.html", method="GET")).status == 401
    assert (await post(servers.tcp, b"", path="/nosuch", method="GET")).status == 401
    assert (await post(servers.tcp, b"", path="/RPC2", method="GET")).status == 401
    good = {"Authorization": basic("user", "s3cret")}
    page = await post(servers.tcp, b"", path="/ok.html", method="GET", headers=good)
    assert (page.status, page.body) == (200, b"OK")
    assert (await post(servers.tcp, b"", path="/nosuch", method="GET", headers=good)).status == 404


async def test_credentials_belong_to_one_server_section(servers: Both) -> None:
    assert (await call(servers.unix, "sample.add", 1, 2)).value() == 3
    assert servers.log.at(LogLevel.CRIT) == [
        "Server 'unix_http_server' running without any HTTP authentication checking"
    ]


def test_sha_hashes_compare_whatever_the_case_of_their_hex_digits() -> None:
    credentials = BasicCredentials("user", "{SHA}" + SHA_OF_SECRET.upper())
    assert credentials.accepts(basic("user", "s3cret"))


def test_non_ascii_credentials_are_compared_as_utf8() -> None:
    credentials = BasicCredentials("usér", "pässword")
    token = base64.b64encode("usér:pässword".encode()).decode()
    assert credentials.accepts("Basic " + token)
    assert not credentials.accepts(basic("user", "password"))


def test_a_password_may_contain_colons() -> None:
    assert BasicCredentials("user", "a:b:c").accepts(basic("user", "a:b:c"))


def test_no_username_means_no_authentication() -> None:
    assert credentials_of(None, None) is None
    assert credentials_of("user", "pw") == BasicCredentials("user", "pw")
