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

from vigil.http.messages import Reply, Request, ResponseStream, plain_error
from vigil.http.routing import RouteRegistrar, Routes

LogFinder = Callable[[str, str], str | None]  # (namespec, channel) -> path; KeyError if unknown
MainLogFinder = Callable[[], str | None]

BACKLOG = 1024
CHUNK = 64 * 1024
FOLLOW_INTERVAL = 0.2
TRUNCATED = b"==> File truncated <==\n"


def logtail_routes(find: LogFinder, main: MainLogFinder) -> RouteRegistrar:
    async def process_tail(request: Request) -> Reply:
        if request.method != "GET":
            return plain_error(400, "log tails are read with GET")
        name = request.match["name"]
        channel = request.match.get("channel") or "stdout"
        if channel not in ("stdout", "stderr"):
            return plain_error(404, f"no channel {channel!r}: it is stdout or stderr")
        try:
            path = find(name, channel)
        except KeyError:
            return plain_error(404, f"no process named {name!r}")
        return await _follow(request, path)

    async def main_tail(request: Request) -> Reply:
        if request.method != "GET":
            return plain_error(400, "log tails are read with GET")
        return await _follow(request, main())

    def register(routes: Routes) -> None:
        routes.add("/logtail/{name}", process_tail)
        routes.add("/logtail/{name}/{channel}", process_tail)
        routes.add("/mainlogtail", main_tail)

    return register


async def _follow(request: Request, path: str | None) -> Reply:
    if path is None or not os.path.exists(path):
        return plain_error(404, "this log has no file")
    handle: BinaryIO = open(path, "rb")  # noqa: SIM115 - open for the life of the stream
    try:
        stat = os.fstat(handle.fileno())
        response = request.stream(
            headers={
                "Content-Type": "text/plain;charset=utf-8",
                "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
                "X-Accel-Buffering": "no",
            }
        )
        handle.seek(max(0, stat.st_size - BACKLOG))
        while not request.client_gone:
            handle = await _pump(response, handle, path)
            await asyncio.sleep(FOLLOW_INTERVAL)
        return response
    except ConnectionError:
        # The client went away (supervisorctl tail -f interrupted, a browser tab closed):
        # the normal end of a stream, nothing to report.
        return response
    finally:
        handle.close()


async def _pump(response: ResponseStream, handle: BinaryIO, path: str) -> BinaryIO:
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
