"""Opening the servers with Supervisor's rules: a unix socket file is a lock (a live one is
never taken over, a stale one is replaced), its mode and owner are applied, several unix and
TCP servers run at once, and a port in use is a clear startup error."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http.support import (
    MemoryLog,
    Target,
    call,
    loopback,
    sample_registry,
    serve,
    short_directory,
)
from vigil.config.model import InetServerConfig, LogLevel, UnixServerConfig
from vigil.http.rpc_handler import rpc_routes
from vigil.http.server import HttpServer, ServerStartError

IN_USE = (
    "Another program is already listening on a port that one of our HTTP servers is "
    "configured to use.  Shut this program down first before starting supervisord."
)


@pytest.fixture
def directory() -> Iterator[Path]:
    with short_directory() as path:
        yield path


def unix(path: Path, **options: object) -> UnixServerConfig:
    return UnixServerConfig(name="unix_http_server", file=str(path), **options)  # type: ignore[arg-type]


def new_server(
    log: MemoryLog,
    unix_servers: tuple[UnixServerConfig, ...] = (),
    inet_servers: tuple[InetServerConfig, ...] = (),
) -> HttpServer:
    registry, _ = sample_registry()
    return HttpServer([rpc_routes(registry, log)], unix_servers, inet_servers, log)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def leftover_socket_file(path: Path) -> None:
    """What a daemon killed with SIGKILL leaves behind: a socket file nobody listens on."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()


async def test_a_live_socket_is_never_taken_over(directory: Path) -> None:
    path = directory / "rpc.sock"
    async with serve(unix=(unix(path),)) as first:
        inode = path.stat().st_ino
        log = MemoryLog()
        second = new_server(log, (unix(path),))
        with pytest.raises(ServerStartError) as refused:
            await second.start()
        assert str(refused.value) == IN_USE
        assert path.stat().st_ino == inode
        assert (await call(Target(socket_file=str(path)), "sample.add", 1, 2)).value() == 3
        assert sorted(p.name for p in directory.iterdir()) == ["rpc.sock"]  # no temp file
        assert "Unlinking" not in log.text()
        assert first.log.at(LogLevel.WARN) == []


async def test_a_socket_that_listens_without_answering_counts_as_in_use(directory: Path) -> None:
    path = directory / "rpc.sock"
    squatter = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    squatter.bind(str(path))
    squatter.listen(8)
    try:
        with pytest.raises(ServerStartError, match="Another program is already listening"):
            await new_server(MemoryLog(), (unix(path),)).start()
        assert path.exists()
    finally:
        squatter.close()


async def test_a_stale_socket_file_is_replaced_and_logged(directory: Path) -> None:
    path = directory / "rpc.sock"
    leftover_socket_file(path)
    async with serve(unix=(unix(path),)) as running:
        assert f"Unlinking stale socket {path}" in running.log.at(LogLevel.WARN)
        assert (await call(Target(socket_file=str(path)), "sample.add", 2, 2)).value() == 4


async def test_a_file_that_is_not_a_socket_is_left_alone(directory: Path) -> None:
    path = directory / "rpc.sock"
    path.write_text("precious")
    with pytest.raises(ServerStartError, match="exists and is not a socket"):
        await new_server(MemoryLog(), (unix(path),)).start()
    assert path.read_text() == "precious"


@pytest.mark.parametrize(("options", "mode"), [({}, 0o700), ({"chmod": 0o660}, 0o660)])
async def test_the_socket_mode_is_applied(
    directory: Path, options: dict[str, object], mode: int
) -> None:
    path = directory / "rpc.sock"
    async with serve(unix=(unix(path, **options),)):
        info = path.lstat()
        assert stat.S_ISSOCK(info.st_mode)
        assert stat.S_IMODE(info.st_mode) == mode


@pytest.mark.parametrize("owner", [(os.getuid(), os.getgid()), (-1, os.getgid()), (-1, -1)])
async def test_the_socket_owner_is_applied(directory: Path, owner: tuple[int, int]) -> None:
    path = directory / "rpc.sock"
    async with serve(unix=(unix(path, chown=owner),)):
        info = path.lstat()
        assert (info.st_uid, info.st_gid) == (os.getuid(), os.getgid())


async def test_the_socket_file_is_removed_at_stop(directory: Path) -> None:
    path = directory / "rpc.sock"
    async with serve(unix=(unix(path),)):
        assert path.exists()
    assert not path.exists()
    assert list(directory.iterdir()) == []


async def test_stop_leaves_a_successors_socket_file_alone(directory: Path) -> None:
    path = directory / "rpc.sock"
    async with serve(unix=(unix(path),)):
        path.unlink()
        successor = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        successor.bind(str(path))
    try:
        assert path.exists()
    finally:
        successor.close()


async def test_several_unix_and_tcp_servers_at_once(directory: Path) -> None:
    sockets = (unix(directory / "a.sock"), unix(directory / "b.sock"))
    inets = (loopback("inet_http_server"), loopback("inet_http_server:second"))
    async with serve(unix=sockets, inet=inets) as running:
        targets = [Target(socket_file=config.file) for config in sockets]
        addresses = running.server.inet_addresses
        assert len(addresses) == 2 and addresses[0][1] != addresses[1][1]
        targets += [Target(host=host, port=port) for host, port in addresses]
        for number, target in enumerate(targets):
            assert (await call(target, "sample.add", number, 1)).value() == number + 1
        assert running.log.at(LogLevel.CRIT) == [
            f"Server {name!r} running without any HTTP authentication checking"
            for name in ("inet_http_server", "inet_http_server:second", "unix_http_server",
                         "unix_http_server")
        ]


async def test_a_tcp_port_in_use_is_refused_naming_it() -> None:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        config = InetServerConfig(name="inet_http_server", host="127.0.0.1", port=port)
        with pytest.raises(ServerStartError) as refused:
            await new_server(MemoryLog(), inet_servers=(config,)).start()
        assert str(refused.value) == f"{IN_USE}  (127.0.0.1:{port} is in use)"
    finally:
        blocker.close()


async def test_a_failure_releases_what_was_already_opened(directory: Path) -> None:
    path = directory / "rpc.sock"
    async with serve(unix=(unix(path),)):
        port = free_port()
        inet = InetServerConfig(name="inet_http_server", host="127.0.0.1", port=port)
        log = MemoryLog()
        server = new_server(log, (unix(path),), (inet,))
        with pytest.raises(ServerStartError):
            await server.start()  # TCP is opened first, then the unix socket is refused
        assert server.inet_addresses == []
        assert log.at(LogLevel.CRIT) == []  # nothing was served, so nothing was announced
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen(1)  # fails with EADDRINUSE if the refused server still held the port
        finally:
            probe.close()


async def test_a_missing_directory_is_a_clear_error(directory: Path) -> None:
    path = directory / "no" / "such" / "rpc.sock"
    with pytest.raises(ServerStartError) as refused:
        await new_server(MemoryLog(), (unix(path),)).start()
    assert str(refused.value).startswith(
        "Cannot open an HTTP server: socket.error reported errno.ENOENT (2)"
    )
    assert str(path.parent) in str(refused.value)


async def test_routes_can_be_added_only_before_start(directory: Path) -> None:
    server = new_server(MemoryLog(), (unix(directory / "rpc.sock"),))
    server.add_routes(lambda app: None)
    await server.start()
    try:
        with pytest.raises(RuntimeError, match="before the HTTP server starts"):
            server.add_routes(lambda app: None)
    finally:
        await server.stop()


async def test_a_stopped_server_can_start_again_on_the_same_socket(directory: Path) -> None:
    path = directory / "rpc.sock"
    log = MemoryLog()
    server = new_server(log, (unix(path),))
    for attempt in range(2):
        await server.start()
        try:
            reply = await call(Target(socket_file=str(path)), "sample.add", attempt, 1)
            assert reply.value() == attempt + 1
        finally:
            await server.stop()
        assert not path.exists()
    assert log.at(LogLevel.WARN) == []  # the file was removed at stop, never found stale
