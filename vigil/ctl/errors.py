"""What can go wrong talking to supervisord, as supervisorctl users have always seen it.

Supervisor's supervisorctl is built on ``xmlrpc.client`` and ``http.client``; when one of their
exceptions escapes an action it prints ``error: <class 'xmlrpc.client.Fault'>, ...``. vigil's
client does without those modules (they cost more to import than the whole command takes to
run), so it raises its own exceptions and `displayed_class` names them as scripts expect.
"""

from __future__ import annotations

# The host part Supervisor's client shows in protocol errors: it always builds its proxy for
# "http://127.0.0.1" whatever the real server URL, so a 401 reads "127.0.0.1/RPC2: ...".
PROXY_HOST = "127.0.0.1"


class Fault(Exception):
    """An XML-RPC fault returned by the server."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(code, text)
        self.code = code
        self.text = text

    def __str__(self) -> str:
        return f"<Fault {self.code}: {self.text!r}>"


class ProtocolError(Exception):
    """The server answered with an HTTP status other than 200."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        super().__init__(url, status, reason)
        self.url = url
        self.status = status
        self.reason = reason

    def __str__(self) -> str:
        return f"<ProtocolError for {self.url}: {self.status} {self.reason}>"


class RemoteDisconnected(ConnectionResetError):
    """The server closed the connection before sending a response."""

    def __init__(self) -> None:
        super().__init__("Remote end closed connection without response")


class BadResponse(Exception):
    """The server sent something that is not an HTTP response we can read."""


_DISPLAY_NAMES: dict[type[BaseException], str] = {
    Fault: "xmlrpc.client.Fault",
    ProtocolError: "xmlrpc.client.ProtocolError",
    RemoteDisconnected: "http.client.RemoteDisconnected",
    BadResponse: "http.client.BadStatusLine",
}


def displayed_class(error: BaseException) -> str:
    """``<class '...'>`` as Supervisor's supervisorctl would print it for this error."""
    kind = type(error)
    name = _DISPLAY_NAMES.get(kind)
    if name is None:
        name = (
            kind.__qualname__
            if kind.__module__ == "builtins"
            else (f"{kind.__module__}.{kind.__qualname__}")
        )
    return f"<class '{name}'>"
