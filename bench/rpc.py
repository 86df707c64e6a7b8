"""An XML-RPC client on a unix socket that can time the daemon apart from itself.

`timed_call` stops the clock when the last byte of the response has arrived and parses it
afterwards: what is measured is the daemon's work and the transport, not how long this
client's XML parser takes over a large answer.
"""

from __future__ import annotations

import http.client
import socket
import time
import xmlrpc.client
from typing import Any

REQUEST_HEADERS = {"Content-Type": "text/xml", "Accept": "text/xml"}


class UnixConnection(http.client.HTTPConnection):
    """HTTP on a unix socket: the daemons' [unix_http_server]."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class RpcClient:
    """Calls on /RPC2; a new connection for every call unless `keep_alive`.

    With keep-alive the connection is reopened transparently when the server closes it, so
    a daemon without persistent connections still gets the same load, only with connects.
    """

    def __init__(self, socket_path: str, *, keep_alive: bool = False, timeout: float = 120.0):
        self.socket_path = socket_path
        self.keep_alive = keep_alive
        self.timeout = timeout
        self._connection: UnixConnection | None = None

    def call(self, method: str, *params: Any) -> Any:
        return self.timed_call(method, *params)[1]

    def timed_call(self, method: str, *params: Any) -> tuple[float, Any]:
        """(seconds from sending the request to the last byte of the answer, parsed answer)."""
        body = xmlrpc.client.dumps(params, method).encode()
        reused = self._connection is not None
        try:
            elapsed, payload = self._exchange(body)
        except (http.client.RemoteDisconnected, ConnectionError):
            if not reused:
                raise
            elapsed, payload = self._exchange(body)  # the server closed an idle connection
        answer, _ = xmlrpc.client.loads(payload)
        return elapsed, answer[0]

    def _exchange(self, body: bytes) -> tuple[float, bytes]:
        connection = self._connection or UnixConnection(self.socket_path, self.timeout)
        self._connection = None
        started = time.perf_counter()
        try:
            connection.request("POST", "/RPC2", body, REQUEST_HEADERS)
            response = connection.getresponse()
            payload = response.read()
        except BaseException:
            connection.close()
            raise
        elapsed = time.perf_counter() - started
        if self.keep_alive and not response.will_close:
            self._connection = connection
        else:
            connection.close()
        if response.status != 200:
            raise xmlrpc.client.ProtocolError(
                f"unix:{self.socket_path}/RPC2", response.status, response.reason, {}
            )
        return elapsed, payload

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
