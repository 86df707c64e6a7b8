"""Telling a service manager (systemd, ``Type=notify``) how the daemon itself is doing.

systemd starts a ``Type=notify`` service with ``NOTIFY_SOCKET`` in its environment: a path,
or a Linux abstract socket name written with a leading ``@``. The service sends datagrams of
newline-separated assignments to it: ``READY=1`` once it serves, ``RELOADING=1`` (with
``MONOTONIC_USEC=``, which systemd 253's ``Type=notify-reload`` checks) when a reload begins,
``STOPPING=1`` when it shuts down, ``MAINPID=`` when the process to watch changes (a daemon
that detached), ``STATUS=`` a line for ``systemctl status``.

A notification is news, never a precondition: a missing socket, a refusal or a full queue
is logged once and otherwise ignored, so the daemon runs exactly as it
would without a service manager. Each message opens its own socket: they are a handful per
life of the daemon, and nothing is left open across the fork of daemonizing or in children.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping

VARIABLE = "NOTIFY_SOCKET"


def socket_address(value: str) -> str | None:
    """The address of a NOTIFY_SOCKET value: a path, an abstract name (``@`` becomes the
    leading NUL byte), or None for what this daemon cannot send to (vsock: addresses)."""
    if value.startswith("/"):
        return value
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    return None


class ServiceNotifier:
    """Sends the daemon's state to the socket the service manager gave it."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._failed = False
        self._unreported: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ServiceNotifier | None:
        """The notifier for ``$NOTIFY_SOCKET``; None when there is none (or none usable)."""
        value = environ.get(VARIABLE, "")
        address = socket_address(value)
        return None if address is None else cls(address)

    def send(self, *assignments: str) -> bool:
        """Send one datagram of these assignments; False when it could not be sent (the
        first failure's reason waits in `unreported` for the daemon's log)."""
        message = "\n".join(assignments).encode("utf-8", "replace")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.setblocking(False)  # a full queue loses a message, never the daemon
                sock.sendto(message, self.address)
        except OSError as exc:
            if not self._failed:
                self._failed = True
                shown = self.address.replace("\0", "@", 1)
                reason = exc.strerror or str(exc)
                self._unreported = f"could not notify the service manager at {shown}: {reason}"
            return False
        return True

    def unreported(self) -> str | None:
        """The first failure to send, once (then None): logged once, then sending goes on
        quietly (a service manager that went away must not fill the log)."""
        reason, self._unreported = self._unreported, None
        return reason

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={_line(status)}")

    def reloading(self) -> bool:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send("RELOADING=1", f"MONOTONIC_USEC={usec}", "STATUS=Reloading")

    def stopping(self) -> bool:
        return self.send("STOPPING=1", "STATUS=Stopping")

    def main_pid(self, pid: int | None = None) -> bool:
        return self.send(f"MAINPID={os.getpid() if pid is None else pid}")

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={_line(text)}")


def _line(text: str) -> str:
    """STATUS= takes one line."""
    return " ".join(text.splitlines())


def without_notify_socket(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment children inherit: without NOTIFY_SOCKET, as systemd's own sd_notify
    unsets it, so that no child can speak for the daemon (a program that should may set it
    in its ``environment``, e.g. ``NOTIFY_SOCKET="%(ENV_NOTIFY_SOCKET)s"``)."""
    return {name: value for name, value in environ.items() if name != VARIABLE}
