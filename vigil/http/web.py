"""The web UI Supervisor serves, served by vigil: the status page, tail.html and ok.html.

``/`` is vigil's live dashboard (dashboard.py); Supervisor's status page stays at
``/index.html``, and ``/`` still serves it to a request that carries the status page's own
parameters (``message``, ``action``, ``processname``) or posts to it, so the redirect after
an action (``/?message=...``), old links and old forms keep reaching the page they expect.

URLs, parameters, messages, status codes and headers are Supervisor's, because dashboards,
health checks and scripts use them: ``index.html?processname=<ns>&action=<verb>`` acts (once
confirmed, see below) and answers 301 to ``<server>/?message=<what happened>``, ``ok.html``
says ``OK``.

Forms and cross-site requests. Supervisor's actions are GETs with no protection against a
page on another site making the browser send them (with the basic-auth credentials it holds).
Here a GET never changes anything: a GET asking for an action answers what it can without
acting (a refresh, an unknown process, a bad action), and otherwise shows a confirmation page
whose one button POSTs the same action, so old links and bookmarks keep working, one click
later. Every button is a POST form carrying a random token made when the daemon starts, and a
POST that asks for an action acts only with that token: a form on another site cannot read
it. A POST with a token from an earlier daemon (a page left open across a restart or a
reload) changes nothing and is sent back to a fresh status page with a message saying so; a
POST with no token at all is refused (403).
"""

from __future__ import annotations

import hmac
import re
import secrets
import traceback
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, parse_qsl, quote

from vigil.config.model import LogLevel
from vigil.core.ports import MainLog
from vigil.faults import Faults, RPCError
from vigil.http.dashboard import Dashboard
from vigil.http.messages import Access, BodyTooLarge, Request, Response, plain_error
from vigil.http.routing import RouteRegistrar, Routes
from vigil.http.web_actions import BadAction, RpcCaller, fault_text, perform, precheck
from vigil.http.web_pages import (
    TOKEN_FIELD,
    ProcessRow,
    confirm_page,
    static_file,
    status_page,
    tail_page,
)

# A form of this UI is a few hundred bytes; anything near this is not one.
MAX_FORM_BYTES = 64 * 1024
TAIL_MINIMUM = 1024
TAIL_DIGITS = 18  # a longer limit would not fit in a 64-bit offset: it means "all of it"
TAIL_ALL = 999_999_999_999_999_999

NO_CACHE = {
    "Pragma": "no-cache",
    "Cache-Control": "no-cache",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
}
HTML_HEADERS = {
    "Content-Type": "text/html;charset=utf-8",
    **NO_CACHE,
    # the page runs no script, loads only its stylesheet, and may not be framed (its buttons
    # act): none of this is visible to scripts that read the page
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# What a Host header may hold to be echoed into a redirect: a name or an address and a port.
_HOST = re.compile(r"(?P<host>[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]*))?")

View = Callable[[Request], Awaitable[Response]]


def web_routes(registry: RpcCaller, main_log: MainLog) -> RouteRegistrar:
    """The registrar that mounts the web UI; every action goes through ``registry``."""
    ui = WebUi(registry, main_log, secrets.token_urlsafe(32))
    dashboard = Dashboard()

    async def front(request: Request) -> Response:
        if request.method == "POST" or _asks_status_page(request.query_string):
            return await ui.status(request)
        return await dashboard.shell(request)

    def register(routes: Routes) -> None:
        dashboard.register(routes)
        for path, view in (
            ("/", front),
            ("/index.html", ui.status),
            ("/tail.html", ui.tail),
            ("/ok.html", ui.ok),
        ):
            routes.add(path, view, ("GET", "POST"))
        routes.add("/stylesheets/supervisor.css", ui.stylesheet, ("GET",))

    return register


class WebUi:
    def __init__(self, rpc: RpcCaller, main_log: MainLog, token: str) -> None:
        self._rpc = rpc
        self._log = main_log
        self._token = token
        self._css = static_file("supervisor.css")
        self.status = self._guarded(self._status)
        self.tail = self._guarded(self._tail)

    async def ok(self, request: Request) -> Response:
        """A liveness probe: answers as soon as the daemon's loop does."""
        return Response(200, b"OK", {"Content-Type": "text/plain"})

    async def stylesheet(self, request: Request) -> Response:
        return Response(
            200, self._css, {"Content-Type": "text/css", "Cache-Control": "max-age=3600"}
        )

    def _guarded(self, view: View) -> View:
        """A bug in a view is logged in the main log with its traceback and answered with a
        plain 500 naming the page; the client never sees the traceback."""

        async def guarded(request: Request) -> Response:
            try:
                return await view(request)
            except BodyTooLarge:
                response = _plain(413, f"the form is larger than {MAX_FORM_BYTES} bytes")
                response.close = True  # the rest of the body is never read
                return response
            except Exception:
                self._log.log(
                    LogLevel.CRIT,
                    f"Web interface error on {request.path}: {traceback.format_exc()}",
                )
                return _plain(500, f"unexpected error while serving {request.path}")

        return guarded

    async def _status(self, request: Request) -> Response:
        form = await read_form(request)
        action = form.get("action")
        read_only = request.access is Access.READ_ONLY
        if action and action != "refresh" and read_only:
            return _plain(403, "this account may read, not act")
        if action and not read_only:
            return await self._action(request, form, action)
        page = await self._status_page(form.get("message"), read_only)
        return Response(200, page.encode("utf-8"), dict(HTML_HEADERS))

    async def _action(self, request: Request, form: dict[str, str], action: str) -> Response:
        """A GET only looks (and confirms); a POST acts, with the page's token."""
        namespec = form.get("processname")
        offered = form.get(TOKEN_FIELD)
        if request.method == "POST" and offered is None:
            return _plain(
                403,
                "this action was posted without the status page's form token; "
                "use the buttons of the status page",
            )
        try:
            if request.method == "POST" and not self._token_matches(offered):
                return _redirect(request, 303, STALE_TOKEN)
            message = await precheck(self._rpc, action, namespec)
            if message is None and request.method != "POST":
                page = confirm_page(action, namespec, self._token)
                return Response(200, page.encode("utf-8"), dict(HTML_HEADERS))
            if message is None:
                message = await perform(self._rpc, action, namespec)
        except BadAction as exc:
            return _plain(400, str(exc))
        return _redirect(request, 301, message)

    async def _status_page(self, message: str | None, read_only: bool = False) -> str:
        token = None if read_only else self._token  # no token, no action controls
        try:
            infos = await self._rpc.call("supervisor.getAllProcessInfo", [])
        except RPCError as fault:
            return status_page(None, message, token, f"ERROR: {fault_text(fault)}")
        rows = sorted(
            (ProcessRow.from_info(info) for info in infos), key=lambda row: (row.group, row.name)
        )
        return status_page(rows, message, token)

    async def _tail(self, request: Request) -> Response:
        form = await read_form(request)
        processname = form.get("processname")
        limit = tail_limit(form.get("limit"))
        if processname is None:
            text = "No process name found"
        else:
            try:
                text = await self._rpc.call(
                    "supervisor.readProcessStdoutLog", [processname, -limit, 0]
                )
            except RPCError as fault:
                if fault.code == Faults.NO_FILE:
                    text = f"No file for {processname}"
                else:
                    text = f"ERROR: {fault_text(fault)}"
        page = tail_page(processname, text, limit)
        return Response(200, page.encode("utf-8"), dict(HTML_HEADERS))

    def _token_matches(self, offered: str | None) -> bool:
        if offered is None:
            return False
        return hmac.compare_digest(offered.encode("utf-8"), self._token.encode("utf-8"))


# The parameters of Supervisor's status page: a request to "/" with any of them is for it.
_STATUS_PAGE_PARAMETERS = frozenset({"message", "action", "processname"})


def _asks_status_page(query_string: str) -> bool:
    return any(key in _STATUS_PAGE_PARAMETERS for key in parse_qs(query_string))


def tail_limit(raw: str | None) -> int:
    """How many bytes tail.html shows: the ``limit`` asked for, at least 1024; anything that
    is not a plain number means 1024, as in Supervisor."""
    if raw is None or not (raw.isascii() and raw.isdigit()):
        return TAIL_MINIMUM
    if len(raw) > TAIL_DIGITS:
        return TAIL_ALL
    return max(TAIL_MINIMUM, int(raw))


async def read_form(request: Request) -> dict[str, str]:
    """The query string's parameters (the first of duplicates), then those of a POSTed
    urlencoded body over them, as Supervisor merges them. Blank values count as absent."""
    query = parse_qs(request.query_string, errors="replace")
    form = {key: values[0] for key, values in query.items()}
    if request.method == "POST":
        body = await request.read(MAX_FORM_BYTES)
        form.update(parse_qsl(body.decode("utf-8", "replace")))
    return form


def server_url(request: Request) -> str:
    """``http://host[:port]`` as the client named the server (its Host header), without the
    default port, as Supervisor builds the redirect after an action. A Host header that is
    not a plain host and port is not echoed: the listening socket's address is used."""
    named = _HOST.fullmatch((request.headers.get("Host") or "").strip().rstrip("/"))
    if named is None:
        hostname, port = _socket_address(request)
    else:
        hostname, port = named["host"], named["port"] or ""
    if port in ("", "80"):
        return f"http://{hostname}"
    return f"http://{hostname}:{port}"


def _socket_address(request: Request) -> tuple[str, str]:
    address = request.sockname
    if isinstance(address, tuple) and len(address) >= 2:
        host = str(address[0])
        return (f"[{host}]" if ":" in host else host), str(address[1])
    return "localhost", ""  # a unix socket has no host name to give


STALE_TOKEN = (
    "ERROR: nothing was done: the page was older than the daemon (it was restarted or "
    "reloaded since); this is a fresh page, try again"
)


def _redirect(request: Request, status: int, message: str) -> Response:
    """Back to the status page showing ``message``, as Supervisor answers an action."""
    location = f"{server_url(request)}/?message={quote(message)}"
    return Response(status, b"", {"Location": location, **NO_CACHE})


def _plain(status: int, detail: str) -> Response:
    return plain_error(status, detail, NO_CACHE)
