"""One program's NOTIFY_SOCKET: systemd's sd_notify protocol, received without blocking.

Each program that uses it gets its own datagram socket in a directory of its own (mode 0700,
owned by the program's user when the daemon may give it away), so no other user can send to
it and no other program can speak for it. The kernel attaches the sender's credentials to
every datagram (SO_PASSCRED), and only the pid is trusted, never the text: the runner accepts
a message only from its child or the child's descendants.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import struct
import tempfile
from collections.abc import Callable

MESSAGE_LIMIT = 4096  # systemd reads at most a page for the state text
READS_PER_WAKEUP = 64  # then the loop serves others; the rest comes at the next wake-up
_CREDENTIALS = struct.Struct("3i")  # pid, uid, gid (struct ucred)

Receiver = Callable[[int, dict[str, str]], None]


def parse(data: bytes) -> dict[str, str]:
    """``KEY=VALUE`` lines; unknown keys are kept (and ignored by the reader), bad lines dropped."""
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").split("\n"):
        key, equals, value = line.partition("=")
        if equals and key:
            fields[key] = value
    return fields


class NotifySocket:
    """A bound socket whose `path` goes into the child's NOTIFY_SOCKET; `receive(pid, fields)`
    is called for each datagram that carries its sender's credentials."""

    def __init__(self, loop: asyncio.AbstractEventLoop, uid: int | None, receive: Receiver) -> None:
        self._loop = loop
        self._receive = receive
        self.directory = tempfile.mkdtemp(prefix="vigil-notify-")  # 0700
        self.path = os.path.join(self.directory, "notify")
        self._socket = socket.socket(
            socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC
        )
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            self._socket.bind(self.path)
            if uid is not None and uid != os.getuid():
                os.chown(self.directory, uid, -1)
                os.chown(self.path, uid, -1)
        except OSError:
            self.close()
            raise
        loop.add_reader(self._socket.fileno(), self._readable)

    def _readable(self) -> None:
        space = socket.CMSG_SPACE(_CREDENTIALS.size)
        for _ in range(READS_PER_WAKEUP):
            try:
                data, ancillary, _flags, _address = self._socket.recvmsg(MESSAGE_LIMIT, space)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            pid = 0
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = _CREDENTIALS.unpack(payload[: _CREDENTIALS.size])[0]
            if pid > 0:
                self._receive(pid, parse(data))

    def close(self) -> None:
        if self._socket.fileno() >= 0:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(self._socket.fileno())
            self._socket.close()
        shutil.rmtree(self.directory, ignore_errors=True)
