"""FcgiSocket on its own: made once on first use, with its file's mode and owner, errors worded
as spawn errors, and a close that never removes a file it did not make."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from tests.runtime.conftest import MemoryLog
from vigil.config.model import FcgiSocketConfig
from vigil.runtime.fcgi_socket import FcgiSocket
from vigil.runtime.spawn import SpawnError


def unix(path: Path, mode: int = 0o700, owner: tuple[int, int] | None = None) -> FcgiSocketConfig:
    return FcgiSocketConfig(url=f"unix://{path}", backlog=16, owner=owner, mode=mode)


def test_tcp_socket_is_made_once_listens_and_is_given_back(unused_tcp_port: int) -> None:
    log = MemoryLog()
    url = f"tcp://127.0.0.1:{unused_tcp_port}"
    fcgi = FcgiSocket(FcgiSocketConfig(url=url, backlog=16), log)
    fd = fcgi.fileno()
    assert fcgi.fileno() == fd  # every spawn gets the same socket
    listener = socket.socket(fileno=os.dup(fd))
    with listener:
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
        assert listener.getsockname() == ("127.0.0.1", unused_tcp_port)
    socket.create_connection(("127.0.0.1", unused_tcp_port), timeout=5).close()
    fcgi.close()
    fcgi.close()  # once only
    assert log.messages() == [f"Creating socket {url}", f"Closing socket {url}"]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", unused_tcp_port), timeout=5)


def test_unix_socket_file_gets_mode_and_owner_and_goes_with_close(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    owner = (65534, 65534) if os.getuid() == 0 else (os.getuid(), os.getgid())
    fcgi = FcgiSocket(unix(path, 0o640, owner), MemoryLog())
    fcgi.fileno()
    info = path.stat()
    assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o640
    assert (info.st_uid, info.st_gid) == owner
    fcgi.close()
    assert not path.exists()


def test_close_leaves_a_file_someone_else_put_at_the_path(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    fcgi = FcgiSocket(unix(path), MemoryLog())
    fcgi.fileno()
    path.unlink()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as successor:
        successor.bind(str(path))
        fcgi.close()
        assert path.exists()


def test_failure_is_a_spawn_error_and_the_next_use_tries_again(tmp_path: Path) -> None:
    path = tmp_path / "later" / "app.sock"
    fcgi = FcgiSocket(unix(path), MemoryLog())
    with pytest.raises(SpawnError) as failure:
        fcgi.fileno()
    assert failure.value.message == (
        f"Could not create FastCGI socket unix://{path}: [Errno 2] No such file or directory"
    )
    assert failure.value.pid == 0
    path.parent.mkdir()
    fcgi.fileno()
    assert path.exists()
    fcgi.close()
