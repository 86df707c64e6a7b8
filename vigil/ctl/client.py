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
PROCESSES_PATH = "/api/v1/processes?resources=false"  # status needs no figures
USER_AGENT = "vigil supervisorctl"
VIGIL_SERVER = "vigil/"  # how a vigil daemon's answers start their Server header
_INT32_MAX = 2**31 - 1


def basic_auth(username: str | None, password: str | None) -> dict[str, str]:
    """The Authorization header for a user and password, or none when either is missing."""
    if username is None or password is None:
        return {}
    token = binascii.b2a_base64(f"{username}:{password}".encode(), newline=False)
    return {"Authorization": "Basic " + token.decode("ascii")}


class SupervisorClient:
    """Calls ``namespace.method`` on the server, reusing one connection between calls."""

    def __init__(
        self,
        serverurl: str,
        username: str | None,
        password: str | None,
        *,
        cafile: str | None = None,
    ) -> None:
        self.serverurl = serverurl
        self.username = username
        self.password = password
        self.cafile = cafile
        self._address: ServerAddress | None = None
        self._connection: HTTPConnection | None = None
        self.server = ""  # the Server header of the last answer

    @property
    def address(self) -> ServerAddress:
        if self._address is None:
            self._address = ServerAddress(self.serverurl, self.cafile)
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
        self.server = response.headers.get("server", "")
        if response.status != 200:
            self.close()
            raise ProtocolError(PROXY_HOST + RPC_PATH, response.status, response.reason)
        return decode_response(response.body)

    def get(self, path: str) -> Response:
        """``GET path`` on the call connection, with our credentials: the whole answer,
        whatever its status."""
        if self._connection is None:
            self._connection = HTTPConnection(self.address)
        headers = {"User-Agent": USER_AGENT, **basic_auth(self.username, self.password)}
        response = self._connection.request("GET", path, headers, b"")
        self.server = response.headers.get("server", "")
        return response

    def all_process_info(self) -> object:
        """getAllProcessInfo's records. From a vigil daemon (known by its last answer), they
        come from its JSON API: the same records in a third of the bytes and without XML to
        decode, which is most of ``status`` for a large fleet. Anything but a 200 there is
        asked again over XML-RPC, so a fault reads exactly as Supervisor's would."""
        if self.server.startswith(VIGIL_SERVER) and self._connection is not None:
            response = self.get(PROCESSES_PATH)
            if response.status == 200:
                import json  # only here: the XML-RPC commands never need it

                return [_process_info(document) for document in json.loads(response.body)]
        return self.call("supervisor.getAllProcessInfo")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _process_info(document: dict[str, object]) -> dict[str, object]:
    """A JSON API process as getProcessInfo's struct (times as XML-RPC's 32-bit ints)."""
    logs = document["logs"]
    assert isinstance(logs, dict)
    stdout = logs["stdout"] or ""
    return {
        "name": document["name"],
        "group": document["group"],
        "start": _int32(document["started_at"]),
        "stop": _int32(document["stopped_at"]),
        "now": _int32(document["taken_at"]),
        "state": document["statecode"],
        "statename": document["state"],
        "spawnerr": document["spawn_error"] or "",
        "exitstatus": document["exit_status"] or 0,
        "logfile": stdout,
        "stdout_logfile": stdout,
        "stderr_logfile": logs["stderr"] or "",
        "pid": document["pid"] or 0,
        "description": document["description"],
    }


def _int32(seconds: object) -> int:
    whole = int(seconds) if isinstance(seconds, int | float) else 0
    return max(-_INT32_MAX - 1, min(whole, _INT32_MAX))


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
