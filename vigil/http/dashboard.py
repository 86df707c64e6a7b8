"""The live dashboard served at ``/``: an HTML shell and its assets, nothing else.

Everything the dashboard shows and does goes through the JSON API (``/api/v1``): this module
only serves files shipped in ``dashboard_assets/``. The shell carries, in ``<meta>`` tags,
the few facts the API does not give and the server knows while it answers: whether the
account may act (a read-only account gets a page without action controls), the host name,
and when this daemon life began.

Every answer has a strict Content-Security-Policy (scripts, styles and connections from this
origin only, no inline code), so neither a process name nor a log line could run as script
even if a bug ever put one into markup. Assets carry an ETag (their content's hash) and are
revalidated on each load (``no-cache``): an upgraded daemon is never shown stale code, and an
unchanged asset costs a 304. They are gzipped once, on first use, for clients that accept it.
"""

from __future__ import annotations

import functools
import html
import socket
import string
import time
from dataclasses import dataclass
from pathlib import Path

from vigil import __version__
from vigil.http.messages import Access, Request, Response, plain_error
from vigil.http.routing import Routes

ASSETS = Path(__file__).with_name("dashboard_assets")
ASSET_PREFIX = "/dashboard/"
SHELL = "index.html"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
}
# Under this size gzip saves less than the header it costs.
GZIP_FROM = 1024


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    etag: str
    content_type: str


@functools.cache
def load_asset(name: str) -> Asset | None:
    """An asset by file name (one path segment, a known type), or None. Read once: a daemon
    that dropped privileges (``user=``) may no longer be able to read its installation."""
    suffix = Path(name).suffix
    if "/" in name or name.startswith(".") or suffix not in CONTENT_TYPES or name == SHELL:
        return None
    path = ASSETS / name
    if not path.is_file():
        return None
    body = path.read_bytes()
    # loaded here, when a browser first asks: hashlib's OpenSSL alone would add half a MiB
    # to every daemon's memory at rest
    import gzip
    import hashlib

    gzipped = gzip.compress(body, 9, mtime=0) if len(body) >= GZIP_FROM else None
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return Asset(body, gzipped, etag, CONTENT_TYPES[suffix])


@functools.cache
def _shell_template() -> string.Template:
    return string.Template((ASSETS / SHELL).read_text(encoding="utf-8"))


def preload() -> None:
    """Read the shell and every asset now, while the daemon can still read its files."""
    _shell_template()
    for path in ASSETS.iterdir():
        load_asset(path.name)


def accepts_gzip(request: Request) -> bool:
    accepted = (request.headers.get("Accept-Encoding") or "").lower()
    for part in accepted.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class Dashboard:
    """The shell at ``/`` and the assets under ``/dashboard/``."""

    def __init__(self, started_at: float | None = None) -> None:
        self._started_at = time.time() if started_at is None else started_at
        self._host = socket.gethostname()
        preload()

    def register(self, routes: Routes) -> None:
        routes.add(ASSET_PREFIX + "{asset}", self.asset, ("GET",))

    async def shell(self, request: Request) -> Response:
        read_only = request.access is Access.READ_ONLY
        page = _shell_template().substitute(
            access=html.escape("read-only" if read_only else "full", quote=True),
            host=html.escape(self._host, quote=True),
            started=html.escape(f"{self._started_at:.3f}", quote=True),
            version=html.escape(__version__, quote=True),
        )
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            **SECURITY_HEADERS,
        }
        return Response(200, page.encode("utf-8"), headers)

    async def asset(self, request: Request) -> Response:
        name = request.match.get("asset", "")
        found = load_asset(name)
        if found is None:
            return plain_error(404, f"no dashboard asset {name!r}", dict(SECURITY_HEADERS))
        headers = {
            "Content-Type": found.content_type,
            "Cache-Control": "no-cache",
            "ETag": found.etag,
            "Vary": "Accept-Encoding",
            **SECURITY_HEADERS,
        }
        if _matches(request.headers.get("If-None-Match"), found.etag):
            return Response(304, b"", headers)
        if found.gzipped is not None and accepts_gzip(request):
            headers["Content-Encoding"] = "gzip"
            return Response(200, found.gzipped, headers)
        return Response(200, found.body, headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in offered or "*" in offered
