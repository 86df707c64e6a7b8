"""One program's NOTIFY_SOCKET: systemd's sd_notify protocol, received without blocking.

Each program that uses it gets its own datagram socket in a directory of its own (mode 0700,
owned by the program's user when the daemon may give it away), so no other user can send to
it and no other program can speak for it. The kernel attaches the sender's credentials to
every datagram (SO_PASSCRED), and only the pid is trusted, never the text: the runner accepts
a message only from its child or the child's descendants. ProcessNotifications turns what a
program says into the inputs of its state machine.
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

from vigil.config.model import LogLevel, ProbeKind, ProcessConfig
from vigil.core.machine import Effect, ProcessMachine
from vigil.core.ports import MainLog
from vigil.runtime.proctable import read_entry

MESSAGE_LIMIT = 4096  # systemd reads at most a page for the state text
READS_PER_WAKEUP = 64  # then the loop serves others; the rest comes at the next wake-up
DESCENDANT_DEPTH = 32  # how far up from a sender the check looks for the child
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


class ProcessNotifications:
    """One program's sd_notify conversation: its socket (made at the first spawn and kept
    for the program's life), what its current child said there, and the machine inputs that
    becomes. `child()` is the pid of the live child, 0 when there is none; `apply` carries
    out the machine's effects."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        config: ProcessConfig,
        machine: ProcessMachine,
        child: Callable[[], int],
        apply: Callable[[list[Effect]], None],
        log: MainLog,
    ) -> None:
        self._loop = loop
        self._config = config
        self._machine = machine
        self._child = child
        self._apply = apply
        self._log = log
        self._socket: NotifySocket | None = None
        self.status: str | None = None  # STATUS=
        self.reloading = False  # RELOADING=1 until READY=1
        self.stopping = False  # STOPPING=1: the program said it is shutting down
        self.main_pid = 0  # MAINPID=, also allowed to notify

    @staticmethod
    def wanted(config: ProcessConfig) -> bool:
        probe = config.ready
        return (probe is not None and probe.kind is ProbeKind.NOTIFY) or bool(config.watchdog_sec)

    def prepare(self, env: dict[str, str]) -> None:
        """A new child is about to be spawned: what the last one said is forgotten, and
        NOTIFY_SOCKET (and WATCHDOG_USEC) go into its environment. OSError when the socket
        cannot be made."""
        self.status, self.reloading, self.stopping, self.main_pid = None, False, False, 0
        if self._socket is None:
            self._socket = NotifySocket(self._loop, self._config.uid, self._received)
        env["NOTIFY_SOCKET"] = self._socket.path
        if self._config.watchdog_sec:
            env["WATCHDOG_USEC"] = str(int(self._config.watchdog_sec * 1_000_000))

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _received(self, sender: int, fields: dict[str, str]) -> None:
        if not self._from_child(sender):
            self._log.log(
                LogLevel.DEBG,
                f"{self._config.name}: notification from pid {sender} ignored (not its process)",
            )
            return
        machine = self._machine
        effects: list[Effect] = []
        if "STATUS" in fields:
            self.status = fields["STATUS"][:256] or None
        if fields.get("MAINPID", "").isdigit():
            self.main_pid = int(fields["MAINPID"])
        if fields.get("RELOADING") == "1":
            self.reloading = True
        if fields.get("READY") == "1":
            self.reloading = False
            effects += machine.ready()
        if fields.get("STOPPING") == "1":
            self.stopping = True
        if "EXTEND_TIMEOUT_USEC" in fields and fields["EXTEND_TIMEOUT_USEC"].isdigit():
            effects += machine.extend(int(fields["EXTEND_TIMEOUT_USEC"]) / 1_000_000)
        if fields.get("WATCHDOG") == "1":
            effects += machine.watchdog()
        elif fields.get("WATCHDOG") == "trigger":
            effects += machine.restart("WATCHDOG=trigger")
        self._apply(effects)

    def _from_child(self, sender: int) -> bool:
        """Whether `sender` is the child, its MAINPID, or below the child in the tree."""
        child = self._child()
        if not child:
            return False
        current = sender
        for _ in range(DESCENDANT_DEPTH):
            if current in (child, self.main_pid):
                return True
            entry = read_entry(current)
            if entry is None or entry.ppid <= 1:
                return False
            current = entry.ppid
        return False
