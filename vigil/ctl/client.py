"""The XML-RPC client supervisorctl drives supervisord with, over ``unix://`` or ``http://``."""

from __future__ import annotations

import binascii

from vigil.ctl.errors import PROXY_HOST, ProtocolError
from vigil.ctl.transport import HTTPConnection, Response, ServerAddress
from vigil.ctl.wire import decode_response, encode_call

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from collections.abc import Iterator

RPC_PATH = "/RPC2"
USER_AGENT = "vigil supervisorctl"


def basic_auth(username: str | None, password: str | None) -> dict[str, str]:
    """The Authorization header for a user and password, or none when either is missing."""
    if username is None or password is None:
        return {}
    token = binascii.b2a_base64(f"{username}:{password}".encode(), newline=False)
    return {"Authorization": "Basic " + token.decode("ascii")}


class SupervisorClient:
    """Calls ``namespace.method`` on the server, reusing one connection between calls."""

    def __init__(self, serverurl: str, username: str | None, password: str | None) -> None:
        self.serverurl = serverurl
        self.username = username
        self.password = password
        self._address: ServerAddress | None = None
        self._connection: HTTPConnection | None = None

    @property
    def address(self) -> ServerAddress:
        if self._address is None:
            self._address = ServerAddress(self.serverurl)
        return self._address

    def call(self, method: str, *params: object) -> object:
        """The method's result; `Fault` for an XML-RPC fault, `ProtocolError` for a non-200
        HTTP status, OSError when the server cannot be reached."""
        if self._connection is None:
            self._connection = HTTPConnection(self.address)
        headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "text/xml",
            "Accept": "text/xml",
            **basic_auth(self.username, self.password),
        }
        response = self._connection.request("POST", RPC_PATH, headers, encode_call(method, params))
        if response.status != 200:
            self.close()
            raise ProtocolError(PROXY_HOST + RPC_PATH, response.status, response.reason)
        return decode_response(response.body)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class LogStream:
    """A ``GET`` of one of supervisord's endless log-tail URLs, on its own connection."""

    def __init__(self, client: SupervisorClient, path: str) -> None:
        self.url = client.serverurl + path
        self._path = path
        self._auth = basic_auth(client.username, client.password)
        self._connection = HTTPConnection(client.address)
        self._response: Response | None = None

    def open(self) -> int:
        """Connect and send the request; the HTTP status of the answer."""
        headers = {"Accept": "*/*", "User-Agent": USER_AGENT, **self._auth}
        self._response = self._connection.open_stream(self._path, headers)
        return self._response.status

    def chunks(self) -> Iterator[bytes]:
        if self._response is not None:
            yield from self._connection.read_stream(self._response)

    def interrupt(self) -> None:
        """Stop a stream being read in another thread."""
        self._connection.interrupt()

    def close(self) -> None:
        self._connection.close()
