"""Start one candidate HTTP stack's server in this (fresh) process, timing its imports first.

`python -m bench.http_stack_launch STACK SOCKET` imports asyncio with ``ssl`` blocked (as
vigil's `supervisord` entry point does), then what STACK needs, binds the unix socket SOCKET
and a TCP port on 127.0.0.1, prints ``bound PORT`` and serves until it is killed. With
``--import-only`` instead of SOCKET it prints the milliseconds of the two imports
(``ASYNCIO_MS STACK_MS``) and exits. This module imports nothing but the standard library's
bootstrap modules before the clock starts, so that what is timed is the stack's cost and
nothing of the benchmark's.
"""

from __future__ import annotations

import importlib
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Stack:
    name: str
    modules: tuple[str, ...]  # what the server needs, imported after asyncio
    ssl_blocked: bool  # False where the stack cannot be imported without ssl
    serves_http: bool = True
    note: str = ""


STACKS: dict[str, Stack] = {
    stack.name: stack
    for stack in (
        Stack(
            "asyncio-only", (), True, False, "baseline: asyncio and two bound sockets, ssl blocked"
        ),
        Stack("asyncio-only+ssl", ("ssl",), False, False, "baseline: the same with ssl loaded"),
        Stack("aiohttp", ("aiohttp.web",), True, note="aiohttp's server, as vigil uses it"),
        Stack("h11", ("h11",), True, note="h11 driven by an asyncio Protocol"),
        Stack("httptools", ("httptools",), True, note="llhttp (httptools), asyncio Protocol"),
        Stack(
            "uvicorn",
            ("uvicorn", "uvicorn.protocols.http.httptools_impl"),
            False,
            note="uvicorn's httptools protocol, a bare ASGI callable",
        ),
        Stack(
            "uvicorn-h11",
            ("uvicorn", "uvicorn.protocols.http.h11_impl"),
            False,
            note="uvicorn's h11 protocol, a bare ASGI callable",
        ),
        Stack(
            "hypercorn",
            ("hypercorn.asyncio", "hypercorn.config"),
            False,
            note="hypercorn (h11, h2, wsproto), a bare ASGI callable",
        ),
        Stack("stdlib", ("http.server", "socketserver"), True, note="http.server in threads"),
    )
}
# The distribution each stack needs installed (the baselines and stdlib need none).
DISTRIBUTIONS = {
    "aiohttp": "aiohttp",
    "h11": "h11",
    "httptools": "httptools",
    "uvicorn": "uvicorn",
    "uvicorn-h11": "uvicorn",
    "hypercorn": "hypercorn",
}


def import_stack(stack: Stack) -> tuple[float, float]:
    """Import asyncio with ssl blocked, as vigil does, then the stack's modules: the
    milliseconds each took. A stack that needs ssl gets it back after asyncio's import, so its
    figure includes loading ssl, which is what it would cost vigil."""
    sys.modules.setdefault("ssl", None)  # type: ignore[arg-type]
    started = time.perf_counter()
    importlib.import_module("asyncio")
    middle = time.perf_counter()
    if not stack.ssl_blocked and sys.modules.get("ssl", 0) is None:
        del sys.modules["ssl"]
    for name in stack.modules:
        importlib.import_module(name)
    done = time.perf_counter()
    return (middle - started) * 1000, (done - middle) * 1000


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in STACKS:
        print(
            f"usage: python -m bench.http_stack_launch {{{','.join(STACKS)}}} SOCKET|--import-only",
            file=sys.stderr,
        )
        return 2
    stack = STACKS[argv[0]]
    asyncio_ms, stack_ms = import_stack(stack)
    if argv[1] == "--import-only":
        print(f"{asyncio_ms:.3f} {stack_ms:.3f}", flush=True)
        return 0
    import asyncio

    from bench.http_stack_servers import SERVERS, bind

    socks = bind(argv[1])
    print(f"bound {socks[1].getsockname()[1]}", flush=True)
    asyncio.run(SERVERS[stack.name](socks))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
