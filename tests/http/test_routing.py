"""The routing table: exact paths, placeholders, prefixes, 404 and 405, fallbacks, and which
route's placeholders a handler sees."""

from __future__ import annotations

from typing import Any

from vigil.http.messages import Headers, Request, Response
from vigil.http.routing import Routes


def _request(method: str, target: str) -> Request:
    return Request(method, target, "1.1", Headers(), wire=None)  # type: ignore[arg-type]


def _handler(label: str) -> Any:
    async def handle(request: Request) -> Response:
        return Response(200, label.encode())

    handle.label = label  # type: ignore[attr-defined]
    return handle


def _label(found: object) -> str:
    assert not isinstance(found, Response), found
    return str(found.label)  # type: ignore[attr-defined]


def test_exact_placeholder_and_prefix_routes() -> None:
    routes = Routes()
    routes.add("/ok.html", _handler("ok"), ("GET",))
    routes.add("/logtail/{name}/{channel}", _handler("tail"), ("GET",))
    routes.add("/RPC2*", _handler("rpc"))
    assert _label(routes.resolve(_request("HEAD", "/ok.html"))) == "ok"
    request = _request("GET", "/logtail/web%3Aweb_0/stderr")
    assert _label(routes.resolve(request)) == "tail"
    assert request.match == {"name": "web:web_0", "channel": "stderr"}
    assert _label(routes.resolve(_request("POST", "/RPC2/anything"))) == "rpc"


def test_unknown_paths_and_methods() -> None:
    routes = Routes()
    routes.add("/ok.html", _handler("ok"), ("GET",))
    routes.add("/api/x", _handler("x"), ("POST",))
    routes.fallback("/api/", _handler("api404"))
    missing = routes.resolve(_request("GET", "/nothing"))
    assert isinstance(missing, Response) and missing.status == 404
    wrong = routes.resolve(_request("DELETE", "/ok.html"))
    assert isinstance(wrong, Response) and wrong.status == 405
    assert wrong.headers["Allow"] == "GET, HEAD"
    assert _label(routes.resolve(_request("GET", "/api/y"))) == "api404"
    # a known API path asked with another method is a 405, not the fallback
    assert routes.resolve(_request("GET", "/api/x")).status == 405  # type: ignore[union-attr]


def test_the_chosen_routes_placeholders_and_no_others() -> None:
    """Two patterns of the same shape: the one that takes the method is chosen, and its
    placeholders are the ones the handler sees (the last matching pattern's used to win)."""
    routes = Routes()
    routes.add("/p/{namespec}/{action}", _handler("act"), ("POST",))
    routes.add("/p/{name}/history", _handler("history"), ("GET",))
    request = _request("POST", "/p/web/history")
    assert _label(routes.resolve(request)) == "act"
    assert request.match == {"namespec": "web", "action": "history"}
    reading = _request("GET", "/p/web/history")
    assert _label(routes.resolve(reading)) == "history"
    assert reading.match == {"name": "web"}
