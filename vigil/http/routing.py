"""The routing table: every path the servers answer, in one place.

A route is a path, a handler and the methods it takes (all, when none are named). A path is
exact (``/ok.html``), has ``{name}`` placeholders that each match one non-empty segment
(``/logtail/{name}/{channel}``), or ends in ``*`` to match everything under a prefix
(``/RPC2*``, as Supervisor serves any path that starts with ``/RPC2``). A route taking GET
takes HEAD too. A path that matches no route is 404; a known path asked with another method
is 405, naming the methods it takes, unless a fallback covers the path (the JSON API
answers its own 404 in JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from vigil.http.messages import Handler, Request, Response, plain_error

RouteRegistrar = Callable[["Routes"], None]


@dataclass(frozen=True)
class _Route:
    segments: tuple[str, ...]  # for a placeholder route: literals, and "{name}" for each
    prefix: str | None  # for a prefix route: what the path starts with
    methods: frozenset[str] | None
    handler: Handler

    def takes(self, method: str) -> bool:
        return self.methods is None or method in self.methods


class Routes:
    def __init__(self) -> None:
        self._exact: dict[str, list[_Route]] = {}
        self._patterns: list[_Route] = []
        self._fallbacks: list[tuple[str, Handler]] = []

    def add(self, path: str, handler: Handler, methods: Iterable[str] | None = None) -> None:
        allowed = None if methods is None else frozenset(m.upper() for m in methods)
        if allowed is not None and "GET" in allowed:
            allowed |= {"HEAD"}
        if path.endswith("*"):
            self._patterns.append(_Route((), path[:-1], allowed, handler))
        elif "{" in path:
            self._patterns.append(_Route(tuple(path.split("/")), None, allowed, handler))
        else:
            self._exact.setdefault(path, []).append(_Route((), None, allowed, handler))

    def fallback(self, prefix: str, handler: Handler) -> None:
        """Answer requests under ``prefix`` that no route matches."""
        self._fallbacks.append((prefix, handler))

    def resolve(self, request: Request) -> Handler | Response:
        """The handler for a request (its placeholders put in ``request.match``), or the
        404 or 405 answer."""
        path = request.path
        found: list[tuple[_Route, dict[str, str]]] = [(r, {}) for r in self._exact.get(path, ())]
        for route in self._patterns:
            if route.prefix is not None:
                if path.startswith(route.prefix):
                    found.append((route, {}))
            elif (match := _match(route.segments, request.raw_path)) is not None:
                found.append((route, match))
        for route, match in found:
            if route.takes(request.method):
                request.match = match  # the placeholders of the route chosen, no other's
                return route.handler
        if not found:
            for prefix, handler in self._fallbacks:
                if path.startswith(prefix):
                    return handler
            return plain_error(404, f"nothing is served at {path}")
        allowed = sorted({m for route, _ in found for m in route.methods or ()})
        return plain_error(
            405,
            f"{path} does not take {request.method}",
            {"Allow": ", ".join(allowed)},
        )


def _match(segments: tuple[str, ...], raw_path: str) -> dict[str, str] | None:
    """The placeholders' values when the path has the pattern's shape (each one segment,
    percent-decoded after splitting, so an encoded "/" stays inside its segment)."""
    parts = raw_path.split("/")
    if len(parts) != len(segments):
        return None
    found: dict[str, str] = {}
    for pattern, part in zip(segments, parts, strict=True):
        if pattern.startswith("{"):
            if not part:
                return None
            found[pattern[1:-1]] = unquote(part)
        elif unquote(part) != pattern:
            return None
    return found
