"""/logtail/<name>[/<channel>] and /mainlogtail: follow a log over HTTP, as `tail -f` does.

The stream starts with the last 1 KiB and then follows the file across rotation (a new
inode is reopened from its start) and truncation (announced, as Supervisor does). Only the
logs the daemon itself writes can be named: the path comes from the daemon, never the URL.
A file is checked for growth only while a client is connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from email.utils import formatdate
from typing import BinaryIO

from aiohttp import web

from vigil.http.server import RouteRegistrar

LogFinder = Callable[[str, str], str | None]  # (namespec, channel) -> path; KeyError if unknown
MainLogFinder = Callable[[], str | None]

BACKLOG = 1024
CHUNK = 64 * 1024
FOLLOW_INTERVAL = 0.2
TRUNCATED = b"==> File truncated <==\n"


def logtail_routes(find: LogFinder, main: MainLogFinder) -> RouteRegistrar:
    async def process_tail(request: web.Request) -> web.StreamResponse:
        if request.method != "GET":
            raise web.HTTPBadRequest()
        name = request.match_info["name"]
        channel = request.match_info.get("channel") or "stdout"
        if channel not in ("stdout", "stderr"):
            raise web.HTTPNotFound()
        try:
            path = find(name, channel)
        except KeyError:
            raise web.HTTPNotFound() from None
        return await _follow(request, path)

    async def main_tail(request: web.Request) -> web.StreamResponse:
        if request.method != "GET":
            raise web.HTTPBadRequest()
        return await _follow(request, main())

    def register(app: web.Application) -> None:
        app.router.add_route("*", "/logtail/{name}", process_tail)
        app.router.add_route("*", "/logtail/{name}/{channel}", process_tail)
        app.router.add_route("*", "/mainlogtail", main_tail)

    return register


async def _follow(request: web.Request, path: str | None) -> web.StreamResponse:
    if path is None or not os.path.exists(path):
        raise web.HTTPNotFound()
    handle: BinaryIO = open(path, "rb")  # noqa: SIM115 - open for the life of the stream
    try:
        stat = os.fstat(handle.fileno())
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/plain;charset=utf-8",
                "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
                "X-Accel-Buffering": "no",
            }
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        handle.seek(max(0, stat.st_size - BACKLOG))
        while not _client_gone(request):
            handle = await _pump(response, handle, path)
            await asyncio.sleep(FOLLOW_INTERVAL)
        return response
    except ConnectionError:
        # The client went away (supervisorctl tail -f interrupted, a browser tab closed):
        # the normal end of a stream, nothing to report.
        return response
    finally:
        handle.close()


def _client_gone(request: web.Request) -> bool:
    """Whether the client hung up: then a quiet log no longer keeps its stream, and its file,
    open until the next write would fail."""
    transport = request.transport
    return transport is None or transport.is_closing()


async def _pump(response: web.StreamResponse, handle: BinaryIO, path: str) -> BinaryIO:
    """Send what was appended; reopen after rotation; announce truncation."""
    while data := handle.read(CHUNK):
        await response.write(data)
    position = handle.tell()
    try:
        current = os.stat(path)
    except OSError:
        return handle  # between a rename and the new file: try again later
    if current.st_ino != os.fstat(handle.fileno()).st_ino:
        with contextlib.suppress(OSError):
            fresh = open(path, "rb")  # noqa: SIM115 - replaces the rotated-away handle
            handle.close()
            return fresh
    elif current.st_size < position:
        await response.write(TRUNCATED)
        handle.seek(0)
    return handle
