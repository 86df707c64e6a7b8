"""Fetching the web UI of a real daemon (over its unix socket or TCP) and reading its pages
the way a script that scrapes them would: the status table's rows, states, classes and action
URLs, the status message, the tail text. The same reader reads Supervisor's pages and ours."""

from __future__ import annotations

import base64
import contextlib
import http.client
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    @property
    def message(self) -> str:
        """The message of a redirect after an action, decoded from its Location."""
        location = self.headers["location"]
        marker = "/?message="
        assert marker in location, location
        return unquote(location.split(marker, 1)[1])


class Served(Protocol):
    """A daemon whose unix socket a request can be sent to."""

    @property
    def sock(self) -> Path: ...


def fetch(
    daemon: Served | None,
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    port: int | None = None,
    timeout: float = 60.0,
) -> Reply:
    """One request, on the daemon's unix socket, or on 127.0.0.1:port when a port is given."""
    connection: http.client.HTTPConnection
    if port is not None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    else:
        assert daemon is not None
        connection = _UnixConnection(str(daemon.sock), timeout)
    try:
        connection.request(method, url, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            response.read(),
        )
    finally:
        connection.close()


def basic_auth(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def short_directory() -> Iterator[Path]:
    """A temporary directory with a short path: a unix socket path must fit in 107 bytes."""
    path = Path(tempfile.mkdtemp(prefix="vw-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class Row:
    classes: list[str] = field(default_factory=list)
    state_class: str = ""
    state: str = ""
    description: str = ""
    name: str = ""
    name_href: str = ""
    actions: list[tuple[str, str]] = field(default_factory=list)  # (label, URL)


@dataclass
class StatusPage:
    rows: list[Row]
    message: str | None
    empty: bool  # says "No programs to manage"
    tokens: list[str]  # the form tokens of the page's buttons (none on Supervisor's page)
    page_actions: list[str]  # the URLs of Refresh / Restart All / Stop All


class _StatusReader(HTMLParser):
    """Reads a status page, Supervisor's (links) or ours (POST forms): an action is a link, or
    a form whose URL is the link's, labelled with its button's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = StatusPage([], None, False, [], [])
        self._in_tbody = False
        self._cell = -1
        self._capture: str | None = None  # which text is being collected
        self._text = ""
        self._link: str | None = None  # the URL an action label belongs to
        self._in_buttons = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        classes = attributes.get("class", "").split()
        if tag == "tbody":
            self._in_tbody = True
        elif tag == "ul" and attributes.get("id") == "buttons":
            self._in_buttons = True
        elif tag == "input" and attributes.get("type") == "hidden":
            self.page.tokens.append(attributes.get("value", ""))
        elif tag == "div" and "status_msg" in classes:
            self._start("message")
        elif self._in_buttons and tag in ("a", "form"):
            self.page.page_actions.append(attributes.get("href") or attributes.get("action", ""))
        elif self._in_tbody:
            self._row_tag(tag, attributes, classes)

    def _row_tag(self, tag: str, attributes: dict[str, str], classes: list[str]) -> None:
        row = self.page.rows[-1] if self.page.rows else None
        if tag == "tr":
            self.page.rows.append(Row(classes=classes))
            self._cell = -1
        elif tag == "td":
            self._cell += 1
            if self._cell == 1:
                self._start("description")
        elif row is None:
            return
        elif tag == "span" and self._cell == 0:
            row.state_class = attributes.get("class", "")
            self._start("state")
        elif tag == "a" and self._cell == 2:
            row.name_href = attributes["href"]
            self._start("name")
        elif tag == "a" and self._cell == 3 and "hidden" not in classes:
            self._link = attributes["href"]
            self._start("action")
        elif tag == "form" and self._cell == 3:
            self._link = attributes["action"]
        elif tag == "button" and self._cell == 3:
            self._start("action")

    def _start(self, what: str) -> None:
        self._capture = what
        self._text = ""

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._text += data
        if "No programs to manage" in data:
            self.page.empty = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_tbody = False
        if tag == "ul" and self._in_buttons:
            self._in_buttons = False
        if self._capture is None:
            return
        ends = {"message": "div", "description": "td", "state": "span", "name": "a"}
        if ends.get(self._capture, "") == tag:
            self._finish(self._text.strip())
        elif self._capture == "action" and tag in ("a", "button"):
            assert self._link is not None
            self.page.rows[-1].actions.append((self._text.strip(), self._link))
            self._capture = None

    def _finish(self, text: str) -> None:
        what, self._capture = self._capture, None
        if what == "message":
            self.page.message = text
            return
        row = self.page.rows[-1]
        if what == "description":
            row.description = text
        elif what == "state":
            row.state = text
        elif what == "name":
            row.name = text


def read_status_page(html: str) -> StatusPage:
    reader = _StatusReader()
    reader.feed(html)
    reader.close()
    return reader.page


class _TailReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.tail = ""
        self.refresh: str | None = None
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("title", "pre"):
            self._in = tag
        elif tag == "a" and (href := dict(attrs).get("href") or "").startswith("tail.html"):
            self.refresh = href

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "pre":
            self.tail += data

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None


@dataclass(frozen=True)
class TailPage:
    title: str
    tail: str
    refresh: str | None


def read_tail_page(html: str) -> TailPage:
    reader = _TailReader()
    reader.feed(html)
    reader.close()
    return TailPage(reader.title.strip(), reader.tail, reader.refresh)


@dataclass(frozen=True)
class Confirmation:
    """vigil's page for a GET that asks for an action: its question and the one form that
    performs the action."""

    question: str
    url: str  # where the form posts, relative to the page
    token: str


class _ConfirmationReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.question = ""
        self.forms: list[str] = []
        self.tokens: list[str] = []
        self._in_question = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "div" and attributes.get("data-kind") == "confirm":
            self._in_question = True
        elif tag == "form" and attributes.get("method") == "post":
            self.forms.append(attributes["action"])
        elif tag == "input" and attributes.get("type") == "hidden":
            self.tokens.append(attributes.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._in_question:
            self.question += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self._in_question = False


def read_confirmation(html: str) -> Confirmation:
    reader = _ConfirmationReader()
    reader.feed(html)
    reader.close()
    assert len(reader.forms) == 1 and len(reader.tokens) == 1, html
    return Confirmation(reader.question.strip(), reader.forms[0], reader.tokens[0])


FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def act(daemon: Served | None, url: str, **options: Any) -> Reply:
    """Follow an action link as a user does: Supervisor acts on the GET; vigil shows a
    confirmation (200), whose button is then pressed. The answer to the action is returned."""
    reply = fetch(daemon, url, **options)
    if reply.status != 200:
        return reply
    confirmation = read_confirmation(reply.text)
    headers = {**options.pop("headers", {}), **FORM_HEADERS}
    body = f"csrf_token={quote(confirmation.token)}".encode()
    return fetch(
        daemon, "/" + confirmation.url, method="POST", body=body, headers=headers, **options
    )
