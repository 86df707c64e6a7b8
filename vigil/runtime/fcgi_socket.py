"""The listening socket of one fcgi-program group, handed to each of its processes as fd 0.

FastCGI programs do not open their own socket: they accept connections on the one their
parent bound. So every process of the group shares a single socket, made by the daemon the
first time one of them spawns. Creating it at the first spawn rather than when the group is
added means a failure (port in use, missing directory, chown refused) becomes that process's
spawn error, visible in its state and retried by its backoff, instead of stopping the daemon
or failing an `update`. Once made, the socket lives as long as the group: restarting the
processes reuses it, so connections that arrive meanwhile wait in its backlog instead of being
refused. It is closed, and its file unlinked, when the group goes away.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat

from vigil.config.model import FcgiSocketConfig, LogLevel
from vigil.core.ports import MainLog
from vigil.runtime.spawn import SpawnError

UNIX_PREFIX = "unix://"
TCP_PREFIX = "tcp://"


class SocketSetupError(Exception):
    """One step of making the socket failed; the message says which and why."""


class FcgiSocket:
    """Made on first use, shared by every spawn of the group, closed once."""

    def __init__(self, config: FcgiSocketConfig, log: MainLog) -> None:
        self.config = config
        self._log = log
        self._sock: socket.socket | None = None
        self._inode: int | None = None  # of the socket file we bound, for a safe unlink

    @property
    def url(self) -> str:
        return self.config.url

    def fileno(self) -> int:
        """The listening socket's descriptor, making the socket on first call.

        Raises SpawnError with the reason when it cannot be made, so the process about to
        start fails to spawn with that reason (and tries again at its next spawn).
        """
        if self._sock is None:
            self._log.log(LogLevel.INFO, f"Creating socket {self.url}")
            try:
                self._sock = self._create()
            except SocketSetupError as exc:
                raise SpawnError(f"Could not create FastCGI socket {self.url}: {exc}") from None
        return self._sock.fileno()

    def close(self) -> None:
        """Stop listening and remove the socket file; nothing to do if never made."""
        if self._sock is None:
            return
        self._log.log(LogLevel.INFO, f"Closing socket {self.url}")
        self._release(self._sock)
        self._sock = None

    # -- making it ----------------------------------------------------------------------

    def _unix_path(self) -> str | None:
        url = self.config.url
        return url[len(UNIX_PREFIX) :] if url.startswith(UNIX_PREFIX) else None

    def _create(self) -> socket.socket:
        path = self._unix_path()
        sock = self._bind_unix(path) if path is not None else _bind_tcp(self.config.url)
        try:
            sock.listen(self.config.backlog)
        except OSError as exc:
            self._release(sock)
            raise SocketSetupError(f"cannot listen: {describe(exc)}") from None
        return sock

    def _bind_unix(self, path: str) -> socket.socket:
        """Bind at `path` (replacing a stale socket file), then set its owner and mode."""
        _clear_stale(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            self._inode = os.lstat(path).st_ino
        except OSError as exc:
            sock.close()
            raise SocketSetupError(describe(exc)) from None
        owner, mode = self.config.owner, self.config.mode
        step = ""
        try:
            if owner is not None:
                step = f"cannot change the owner of {path} to {owner[0]}:{owner[1]}"
                os.chown(path, owner[0], owner[1])
            step = f"cannot change the mode of {path} to {mode:o}"
            os.chmod(path, mode)
        except OSError as exc:
            self._release(sock)
            raise SocketSetupError(f"{step}: {describe(exc)}") from None
        return sock

    def _release(self, sock: socket.socket) -> None:
        """Close `sock` and remove its file, but only if the file is still the one we bound:
        a successor may have bound the same name since."""
        sock.close()
        path, inode = self._unix_path(), self._inode
        self._inode = None
        if path is None or inode is None:
            return
        with contextlib.suppress(OSError):
            if os.lstat(path).st_ino == inode:
                os.unlink(path)


def _bind_tcp(url: str) -> socket.socket:
    host, _, port = url[len(TCP_PREFIX) :].rpartition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
    except socket.gaierror as exc:
        sock.close()
        raise SocketSetupError(f"cannot resolve host {host!r}: {exc.strerror}") from None
    except OSError as exc:
        sock.close()
        raise SocketSetupError(describe(exc)) from None
    return sock


def _clear_stale(path: str) -> None:
    """Remove a socket file nobody listens on any more; refuse to touch anything else.

    Supervisor unlinks whatever is at the path. A regular file there is someone's data, and a
    socket that accepts connections is someone's server (another daemon, or the processes a
    killed daemon left running): taking its name would silently split the traffic.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SocketSetupError(f"cannot inspect {path}: {describe(exc)}") from None
    if not stat.S_ISSOCK(mode):
        raise SocketSetupError(f"{path} exists and is not a socket; refusing to replace it")
    if _answers(path):
        raise SocketSetupError(f"another program is listening on {path}")
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise SocketSetupError(f"cannot remove the stale socket {path}: {describe(exc)}") from None


def _answers(path: str) -> bool:
    """Whether something listens at the socket file `path`, without ever blocking."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.setblocking(False)
        try:
            probe.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except BlockingIOError:
            return True  # a listener whose backlog is full
        except OSError as exc:
            raise SocketSetupError(f"cannot probe {path}: {describe(exc)}") from None
    return True


def describe(exc: OSError) -> str:
    """An OS error as Python words it, without the file name some calls append."""
    number = exc.errno or 0
    if not number:
        return str(exc)
    return f"[Errno {number}] {exc.strerror or os.strerror(number)}"
