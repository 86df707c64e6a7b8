"""HTTP Basic authentication for one listener, applied to every endpoint it serves.

Supervisor checks credentials on every handler (RPC, log tails, web UI, static files) of a
server that has a username, so the server checks them before routing, not inside handlers
that a new route could forget.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from vigil.http.messages import PLAIN_TEXT, Access, Response

REALM = "default"
SHA_PREFIX = "{SHA}"
# What a listener with ``metrics_public = true`` serves without credentials: a Prometheus
# scraper holding none, a liveness probe and a readiness probe. Read-only; everything else
# still asks.
PUBLIC_PATHS = frozenset({"/metrics", "/ok.html", "/ready"})
PUBLIC_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class BasicCredentials:
    username: str
    password: str  # cleartext, or "{SHA}" followed by the hex SHA-1 of the password

    def accepts(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries these credentials.

        Both comparisons always run, in constant time, so neither the response time nor an
        early exit tells a client which half was wrong. Anything malformed is simply a no.
        """
        offered = _decode_basic(authorization)
        if offered is None:
            return False
        username, password = offered
        username_matches = hmac.compare_digest(username, self.username.encode("utf-8"))
        if self.password.startswith(SHA_PREFIX):
            stored = self.password[len(SHA_PREFIX) :].strip().lower().encode("ascii", "replace")
            given = hashlib.sha1(password).hexdigest().encode("ascii")
        else:
            stored = self.password.encode("utf-8")
            given = password
        password_matches = hmac.compare_digest(given, stored)
        return username_matches and password_matches


def credentials_of(username: str | None, password: str | None) -> BasicCredentials | None:
    """The credentials a server section asks for, or None when it asks for none."""
    if username is None:
        return None
    return BasicCredentials(username, password or "")


@dataclass(frozen=True)
class Accounts:
    """Who may use one server: the full account (None: everyone, as without a username) and
    the optional read-only one."""

    full: BasicCredentials | None
    read_only: BasicCredentials | None = None
    metrics_public: bool = False

    def access_to(self, method: str, target: str, authorization: str | None) -> Access | None:
        """``access``, with a public path of a ``metrics_public`` listener read-only to all."""
        access = self.access(authorization)
        public = self.metrics_public and method in PUBLIC_METHODS
        if access is None and public and target.partition("?")[0] in PUBLIC_PATHS:
            return Access.READ_ONLY
        return access

    def access(self, authorization: str | None) -> Access | None:
        """What a request's Authorization header grants; None: nothing (answer 401). Both
        accounts are always checked, so the time taken does not tell which one matched."""
        if self.full is None:
            return Access.FULL
        is_full = self.full.accepts(authorization)
        is_read_only = self.read_only is not None and self.read_only.accepts(authorization)
        if is_full:
            return Access.FULL
        return Access.READ_ONLY if is_read_only else None


def unauthorized() -> Response:
    return Response(
        401,
        b"401 Unauthorized\n",
        {"Content-Type": PLAIN_TEXT, "WWW-Authenticate": f'Basic realm="{REALM}"'},
        # the client may still be sending a body we will not read; closing ends that cleanly
        close=True,
    )


def _decode_basic(authorization: str | None) -> tuple[bytes, bytes] | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    username, colon, password = decoded.partition(b":")
    if not colon:
        return None
    return username, password
