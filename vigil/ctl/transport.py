"""HTTP/1.1 to supervisord over a UNIX socket or TCP: one persistent connection for calls, and
streams for ``tail -f``.

Small on purpose: supervisorctl needs POST with a body, GET of a chunked stream and Basic auth;
``http.client`` would bring the ``email`` package along for that.
"""

from __future__ import annotations

import socket

from vigil.ctl.errors import BadResponse, RemoteDisconnected

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from collections.abc import Iterator

_MAX_LINE = 65536
_MAX_HEADERS = 100
_READ_SIZE = 65536


class ServerAddress:
    """Where a server URL points: a UNIX socket path, or a TCP host and port (with TLS for
    https://, checked against ``cafile`` or the system's certificates)."""

    def __init__(self, url: str, cafile: str | None = None) -> None:
        self.url = url
        self.socket_path: str | None = None
        self.host = "localhost"
        self.port = 80
        self.tls = False
        self.cafile = cafile
        if url.startswith("unix://"):
            self.socket_path = url[len("unix://") :]
        elif url.startswith("http://"):
            self.host, self.port = _host_and_port(url[len("http://") :])
        elif url.startswith("https://"):
            self.tls = True
            self.host, self.port = _host_and_port(url[len("https://") :], default=443)
        else:
            raise ValueError(f"Unknown protocol for serverurl {url}")

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        return (
            host if self.socket_path is not None or self.port == default else f"{host}:{self.port}"
        )

    def connect(self) -> socket.socket:
        if self.socket_path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.socket_path)
            except BaseException:
                sock.close()
                raise
            return sock
        sock = socket.create_connection((self.host, self.port))
        if not self.tls:
            return sock
        import ssl  # only for https: loading OpenSSL costs every other command time

        context = ssl.create_default_context(cafile=self.cafile)
        try:
            return context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _host_and_port(rest: str, default: int = 80) -> tuple[str, int]:
    """Host and port of the authority part of an http URL (userinfo ignored, port 80 unless
    given), with the error Supervisor's client gives for a port that is not a number."""
    netloc = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        host, _, after = hostport[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else ""
    else:
        host, _, port_text = hostport.partition(":")
    port = default
    if port_text:
        if not port_text.isdigit() or not port_text.isascii():
            raise ValueError(f"Port could not be cast to integer value as {port_text!r}")
        port = int(port_text)
        if port > 65535:
            raise ValueError("Port out of range 0-65535")
    return host.lower(), port


class Response:
    """Status, headers and (for calls) the whole body of one HTTP response."""

    def __init__(self, status: int, reason: str, headers: dict[str, str]) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = b""

    @property
    def is_chunked(self) -> bool:
        return self.headers.get("transfer-encoding", "").lower() == "chunked"

    @property
    def keeps_alive(self) -> bool:
        return self.headers.get("connection", "").lower() != "close"


class HTTPConnection:
    """One connection to the server, opened on first use and reused while the server keeps it
    open."""

    def __init__(self, address: ServerAddress) -> None:
        self.address = address
        self._sock: socket.socket | None = None
        self._reader: _BufferedReader | None = None

    def close(self) -> None:
        if self._sock is not None:
            sock, self._sock, self._reader = self._sock, None, None
            sock.close()

    def interrupt(self) -> None:
        """Make a read blocked in another thread return (used to stop a stream)."""
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                return  # already closed: nothing is blocked on it

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
        """Send a request and read the whole response. A connection the server closed while
        idle is reopened once; a request whose answer had begun is never sent twice."""
        reused = self._sock is not None
        try:
            response = self._send_and_read_head(method, path, headers, body)
        except (RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.close()
            if not reused:
                raise
            response = self._send_and_read_head(method, path, headers, body)
        assert self._reader is not None
        try:
            response.body = _read_body(self._reader, response)
        except BaseException:
            self.close()
            raise
        if not response.keeps_alive:
            self.close()
        return response

    def open_stream(self, path: str, headers: dict[str, str]) -> Response:
        """GET ``path`` and read only the status and headers; `read_stream` yields the body."""
        return self._send_and_read_head("GET", path, headers, b"")

    def read_stream(self, response: Response) -> Iterator[bytes]:
        """The body of a streamed response, piece by piece as the server sends it."""
        reader = self._reader
        if reader is None:
            return
        if response.is_chunked:
            while True:
                size = _chunk_size(reader.readline())
                if size == 0:
                    return
                yield reader.read_exactly(size)
                reader.readline()
        else:
            while data := reader.read_some():
                yield data

    def _send_and_read_head(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> Response:
        if self._sock is None:
            self._sock = self.address.connect()
            self._reader = _BufferedReader(self._sock)
        assert self._reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.address.host_header}"]
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self._sock.sendall(head + body)
            return _read_head(self._reader)
        except BaseException:
            self.close()
            raise


class _BufferedReader:
    """Lines and exact byte counts from a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def _fill(self) -> bool:
        data = self._sock.recv(_READ_SIZE)
        self._buffer += data
        return bool(data)

    def readline(self) -> bytes:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line, self._buffer = self._buffer[: end + 1], self._buffer[end + 1 :]
                return line
            if len(self._buffer) > _MAX_LINE:
                raise BadResponse("header line too long")
            if not self._fill():
                line, self._buffer = self._buffer, b""
                return line

    def read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not self._fill():
                raise BadResponse("connection closed in the middle of a response")
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def read_some(self) -> bytes:
        if not self._buffer:
            self._fill()
        data, self._buffer = self._buffer, b""
        return data

    def read_to_end(self) -> bytes:
        while self._fill():
            pass
        data, self._buffer = self._buffer, b""
        return data


def _read_head(reader: _BufferedReader) -> Response:
    status_line = reader.readline()
    if not status_line:
        raise RemoteDisconnected()
    parts = status_line.decode("latin-1").rstrip("\r\n").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise BadResponse(repr(status_line))
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        line = reader.readline().decode("latin-1").rstrip("\r\n")
        if not line:
            return Response(int(parts[1]), parts[2] if len(parts) > 2 else "", headers)
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    raise BadResponse("too many headers")


def _read_body(reader: _BufferedReader, response: Response) -> bytes:
    if response.is_chunked:
        pieces = []
        while size := _chunk_size(reader.readline()):
            pieces.append(reader.read_exactly(size))
            reader.readline()
        while reader.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailer headers
        return b"".join(pieces)
    length = response.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise BadResponse(f"bad Content-Length {length!r}")
        return reader.read_exactly(int(length))
    response.headers["connection"] = "close"
    return reader.read_to_end()


def _chunk_size(line: bytes) -> int:
    if not line:
        return 0
    size_text = line.split(b";", 1)[0].strip()
    try:
        return int(size_text, 16)
    except ValueError:
        raise BadResponse(f"bad chunk size {size_text!r}") from None
