"""Listening sockets for the HTTP servers, opened with Supervisor's rules.

A unix socket file doubles as a lock: the socket is bound under a temporary name and then
hard-linked to its real name, which fails if the name exists. An existing name is probed:
if something answers there, startup is refused (never steal another daemon's socket); if
nothing does, the file is a stale leftover and is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import pwd
import socket
import stat
from dataclasses import dataclass
from enum import Enum

from vigil.config.model import InetServerConfig, LogLevel, UnixServerConfig
from vigil.core.ports import MainLog

BACKLOG = 1024
STALE_SOCKET_ATTEMPTS = 3
PROBE_WRITE_TIMEOUT = 1.0

ADDRESS_IN_USE = (
    "Another program is already listening on a port that one of our HTTP servers is "
    "configured to use.  Shut this program down first before starting supervisord."
)


class ServerStartError(Exception):
    """An HTTP server could not be opened; the daemon prints the message and exits 2."""


@dataclass
class Listener:
    """One bound, listening socket and what it takes to give it back."""

    section: str
    sock: socket.socket
    where: str  # for messages: the socket file or host:port
    socket_file: str | None = None
    socket_inode: int | None = None

    def close(self) -> None:
        """Close the socket and remove its file, but only if the file is still the one we
        made: a successor may already have bound the same name."""
        self.sock.close()
        if self.socket_file is None:
            return
        with contextlib.suppress(OSError):
            if os.lstat(self.socket_file).st_ino == self.socket_inode:
                os.unlink(self.socket_file)


class _Probe(Enum):
    IN_USE = "in use"
    STALE = "stale"
    GONE = "gone"


def bind_inet(config: InetServerConfig) -> Listener:
    where = f"{config.host or '*'}:{config.port}"
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((config.host, config.port))
        sock.listen(BACKLOG)
    except socket.gaierror as exc:
        sock.close()
        raise ServerStartError(
            f"Cannot open an HTTP server: cannot resolve host {config.host!r} "
            f"of [{config.name}]: {exc.strerror}"
        ) from None
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServerStartError(f"{ADDRESS_IN_USE}  ({where} is in use)") from None
        raise ServerStartError(f"{_socket_error_text(exc)} ({where})") from None
    return Listener(config.name, sock, where)


async def bind_unix(config: UnixServerConfig, main_log: MainLog) -> Listener:
    path = config.file
    temporary = f"{path}.{os.getpid()}"
    _remove(temporary)  # left over by an earlier daemon that had our pid
    for _attempt in range(STALE_SOCKET_ATTEMPTS):
        sock = _listen_at(temporary, config.chmod)
        try:
            os.link(temporary, path)
        except FileExistsError:
            sock.close()
            _remove(temporary)
            probe = await _probe(path)
            if probe is _Probe.IN_USE:
                raise ServerStartError(ADDRESS_IN_USE) from None
            if probe is _Probe.STALE:
                main_log.log(LogLevel.WARN, f"Unlinking stale socket {path}")
                _remove_stale(path)
            continue
        except OSError as exc:
            sock.close()
            _remove(temporary)
            raise ServerStartError(f"{_socket_error_text(exc)} ({path})") from None
        _remove(temporary)
        listener = Listener(config.name, sock, path, path, os.lstat(path).st_ino)
        try:
            _chown(path, config.chown)
        except ServerStartError:
            listener.close()
            raise
        return listener
    raise ServerStartError(f"Cannot open an HTTP server: {path} kept reappearing as a stale socket")


def _listen_at(temporary: str, mode: int) -> socket.socket:
    """Bind and listen under the temporary name: listening before the link makes the real name
    answer a probe the moment it exists, so a daemon starting at the same time cannot take it
    for stale."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(temporary)
        os.chmod(temporary, mode)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        _remove(temporary)
        raise ServerStartError(f"{_socket_error_text(exc)} ({temporary})") from None
    return sock


async def _probe(path: str) -> _Probe:
    """Is anything serving at ``path``? Anything we cannot prove dead counts as in use."""
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise ServerStartError(
                f"Cannot open an HTTP server: {path} exists and is not a socket; "
                "refusing to replace it"
            )
    except FileNotFoundError:
        return _Probe.GONE
    try:
        _, writer = await asyncio.open_unix_connection(path)
    except FileNotFoundError:
        return _Probe.GONE
    except ConnectionRefusedError:
        return _Probe.STALE
    except OSError:
        return _Probe.IN_USE
    try:
        # The accepted connection already proves a listener; the request only makes it look
        # like an ordinary client to whoever is there. Its answer is not needed.
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(writer.drain(), PROBE_WRITE_TIMEOUT)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return _Probe.IN_USE


def _chown(path: str, owner: tuple[int, int] | None) -> None:
    if owner is None:
        return
    try:
        os.chown(path, owner[0], owner[1])
    except PermissionError:
        current_user = pwd.getpwuid(os.geteuid()).pw_name
        raise ServerStartError(
            f'Not permitted to chown {path} to uid/gid {owner!r}; adjust "sockchown" value '
            "in config file or on command line to values that the current user "
            f"({current_user}) can successfully chown"
        ) from None
    except OSError as exc:
        raise ServerStartError(f"{_socket_error_text(exc)} ({path})") from None


def _socket_error_text(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0)
    if name is None:
        return f"Cannot open an HTTP server: {exc.strerror or exc}"
    return f"Cannot open an HTTP server: socket.error reported errno.{name} ({exc.errno})"


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _remove_stale(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ServerStartError(
            f"Cannot open an HTTP server: cannot remove stale socket {path}: {exc.strerror}"
        ) from None


async def bind_all(
    unix_servers: tuple[UnixServerConfig, ...],
    inet_servers: tuple[InetServerConfig, ...],
    main_log: MainLog,
) -> list[Listener]:
    """Bind every configured server, TCP first then unix sockets (Supervisor's order), or
    none: on the first failure the others are closed and ServerStartError is raised."""
    listeners: list[Listener] = []
    try:
        for inet in inet_servers:
            listeners.append(bind_inet(inet))
        for unix in unix_servers:
            listeners.append(await bind_unix(unix, main_log))
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    return listeners
