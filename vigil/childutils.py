"""Helpers for programs run by supervisord, with the names and behaviour of
``supervisor.childutils``: an XML-RPC proxy to the daemon that started them, the event listener
protocol, and capture-mode output.

An event's ``len`` counts characters (as Supervisor sends it), so ``listener.wait`` reads
the payload from the text stdin, as supervisor.childutils does.
"""

from __future__ import annotations

import base64
import http.client
import io
import socket
import sys
import time
import urllib.parse
import xmlrpc.client
from collections.abc import Mapping
from typing import IO, Any

BEGIN_TOKEN = "<!--XSUPERVISOR:BEGIN-->"
END_TOKEN = "<!--XSUPERVISOR:END-->"
READY_TOKEN = "READY\n"
RESULT_TOKEN_START = "RESULT "


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if self.timeout is not None:
            sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


class SupervisorTransport(xmlrpc.client.Transport):
    """XML-RPC over the daemon's ``unix://`` socket or ``http://`` port, with basic auth.

    The address comes from ``serverurl``, never from the proxy's URL, so a proxy made for
    ``http://127.0.0.1`` still talks to the right server.
    """

    def __init__(
        self,
        username: str | None,
        password: str | None,
        serverurl: str,
        timeout: float | None = None,
    ) -> None:
        super().__init__()
        self.serverurl = serverurl
        self._timeout = timeout
        self._auth: str | None = None
        if username:
            token = f"{username}:{password or ''}".encode()
            self._auth = "Basic " + base64.b64encode(token).decode("ascii")
        if serverurl.startswith("unix://"):
            self._unix_path: str | None = serverurl[len("unix://") :]
            self._hostport = "localhost"
        elif serverurl.startswith("http://"):
            self._unix_path = None
            parsed = urllib.parse.urlsplit(serverurl)
            self._hostport = parsed.netloc.rpartition("@")[2] or "localhost"
        else:
            raise ValueError(f"Unknown protocol for serverurl {serverurl}")

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        if self._connection[1] is not None:
            return self._connection[1]
        connection: http.client.HTTPConnection
        if self._unix_path is not None:
            connection = _UnixConnection(self._unix_path, self._timeout)
        else:
            connection = http.client.HTTPConnection(self._hostport, timeout=self._timeout)
        self._connection = (self._hostport, connection)
        return connection

    def send_headers(self, connection: http.client.HTTPConnection, headers: Any) -> None:
        if self._auth is not None:
            connection.putheader("Authorization", self._auth)
        super().send_headers(connection, headers)


def getRPCTransport(env: Mapping[str, str]) -> SupervisorTransport:
    """A transport to the server in ``SUPERVISOR_SERVER_URL`` (set for every child), with
    ``SUPERVISOR_USERNAME``/``SUPERVISOR_PASSWORD`` when the environment has them."""
    return SupervisorTransport(
        env.get("SUPERVISOR_USERNAME", ""),
        env.get("SUPERVISOR_PASSWORD", ""),
        env["SUPERVISOR_SERVER_URL"],
    )


def getRPCInterface(env: Mapping[str, str]) -> xmlrpc.client.ServerProxy:
    """An XML-RPC proxy to the supervisord that started this process."""
    return xmlrpc.client.ServerProxy("http://127.0.0.1", getRPCTransport(env))


def get_headers(line: str) -> dict[str, str]:
    """``key:value`` tokens separated by spaces, as in an event's header or payload line."""
    headers: dict[str, str] = {}
    for token in line.split():
        key, _, value = token.partition(":")
        headers[key] = value
    return headers


def eventdata(payload: str) -> tuple[dict[str, str], str]:
    """Split an event payload into its header tokens and the data after the first newline."""
    headerinfo, data = payload.split("\n", 1)
    return get_headers(headerinfo), data


def get_asctime(now: float | None = None) -> str:
    """Local time as the main log writes it: ``2024-01-31 12:00:00,123``."""
    if now is None:
        now = time.time()
    msecs = (now - int(now)) * 1000
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(now))},{int(msecs):03d}"


def _write(stream: IO[Any], text: str) -> None:
    """Write text to a text stream, or its UTF-8 bytes to a binary one (Supervisor's helpers
    write bytes tokens to text streams and fail there)."""
    if isinstance(stream, io.BufferedIOBase | io.RawIOBase):
        stream.write(text.encode("utf-8"))
    else:
        stream.write(text)


class ProcessCommunicationsProtocol:
    """Capture mode: text between the tokens becomes a PROCESS_COMMUNICATION event when the
    channel has ``*_capture_maxbytes`` set."""

    def send(self, msg: str, fp: IO[Any] | None = None) -> None:
        stream = sys.stdout if fp is None else fp
        _write(stream, BEGIN_TOKEN)
        _write(stream, msg)
        _write(stream, END_TOKEN)
        stream.flush()

    def stdout(self, msg: str) -> None:
        self.send(msg, sys.stdout)

    def stderr(self, msg: str) -> None:
        self.send(msg, sys.stderr)


pcomm = ProcessCommunicationsProtocol()


class EventListenerProtocol:
    """The listener's side of the event protocol, on stdin and stdout."""

    def wait(
        self, stdin: IO[Any] | None = None, stdout: IO[Any] | None = None
    ) -> tuple[dict[str, str], str]:
        """Say READY, then read one event: its header tokens and its payload."""
        self.ready(stdout)
        source = sys.stdin if stdin is None else stdin
        line = source.readline()
        headers = get_headers(line.decode("utf-8") if isinstance(line, bytes) else line)
        payload = source.read(int(headers["len"]))
        return headers, payload.decode("utf-8") if isinstance(payload, bytes) else payload

    def ready(self, stdout: IO[Any] | None = None) -> None:
        stream = sys.stdout if stdout is None else stdout
        _write(stream, READY_TOKEN)
        stream.flush()

    def ok(self, stdout: IO[Any] | None = None) -> None:
        self.send("OK", stdout)

    def fail(self, stdout: IO[Any] | None = None) -> None:
        self.send("FAIL", stdout)

    def send(self, data: str, stdout: IO[Any] | None = None) -> None:
        """Answer the event: ``RESULT <len>\\n<data>``."""
        stream = sys.stdout if stdout is None else stdout
        body = data.encode("utf-8")
        _write(stream, f"{RESULT_TOKEN_START}{len(body)}\n{data}")
        stream.flush()


listener = EventListenerProtocol()
