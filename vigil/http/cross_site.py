"""Refusing cross-site requests that would change something (CSRF).

A browser that has the daemon's Basic credentials cached sends them with any request a page
from another site makes, form posts included. The JSON API's actions therefore refuse a
request a browser marks as coming from another origin: ``Sec-Fetch-Site`` (every current
browser) or, where it is missing, an ``Origin`` whose host and port are not the ``Host``
asked. Bodies of the three content types a plain HTML form can send are refused as well,
for browsers that send neither header. Clients that are not browsers (curl, supervisorctl,
scripts) send no such headers and are unaffected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from vigil.http.messages import Request

# what an HTML form (or a "simple" cross-origin fetch) can send without a preflight
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def cross_site_reason(request: Request) -> str | None:
    """Why the request must be refused as cross-site, None when it may go on."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.lower() not in ("same-origin", "none"):
        return f"a request from another site (Sec-Fetch-Site: {site}) may not change anything"
    origin = request.headers.get("Origin")
    if site is None and origin is not None and not _same_origin(origin, request):
        return f"a request from {origin} may not change anything here"
    kind = (request.headers.get("Content-Type") or "").partition(";")[0].strip().lower()
    if kind in _FORM_TYPES:
        return f"Content-Type {kind} is not taken here: send application/json"
    return None


def _same_origin(origin: str, request: Request) -> bool:
    if origin == "null":  # sandboxed frames, file: pages, some redirects
        return False
    host = request.headers.get("Host")
    try:
        parts = urlsplit(origin)
        return host is not None and parts.netloc.lower() == host.lower()
    except ValueError:
        return False
