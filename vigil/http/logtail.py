"""/logtail/<name>[/<channel>] and /mainlogtail: follow a log over HTTP, as `tail -f` does.

The stream starts with the last 1 KiB and then follows the file across rotation (a new
inode is reopened from its start) and truncation (announced, as Supervisor does). Only the
logs the daemon itself writes can be named: the path comes from the daemon, never the URL.
Nothing polls: the log wakes the stream when it is written to (the file stays the buffer, so
a slow client lags behind and loses nothing, as with Supervisor).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from email.utils import formatdate
from typing import BinaryIO

from vigil.core.ports import LogFollower
from vigil.http.messages import Reply, Request, ResponseStream, plain_error
from vigil.http.routing import RouteRegistrar, Routes
from vigil.services.log_followers import TailWaker

Follow = Callable[[LogFollower], Callable[[], None]]  # start following; the result stops
LogSource = tuple[str | None, Follow]  # the log's file, and how to follow what it is written
LogFinder = Callable[[str, str], LogSource]  # (namespec, channel); KeyError if unknown
MainLogFinder = Callable[[], LogSource]

BACKLOG = 1024
CHUNK = 64 * 1024
# Nothing needs a wake-up while nothing is written; this only bounds a stream's sleep.
IDLE_CHECK = 30.0
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
            source = find(name, channel)
        except KeyError:
            return plain_error(404, f"no process named {name!r}")
        return await _follow(request, source)

    async def main_tail(request: Request) -> Reply:
        if request.method != "GET":
            return plain_error(400, "log tails are read with GET")
        return await _follow(request, main())

    def register(routes: Routes) -> None:
        routes.add("/logtail/{name}", process_tail)
        routes.add("/logtail/{name}/{channel}", process_tail)
        routes.add("/mainlogtail", main_tail)

    return register


async def _follow(request: Request, source: LogSource) -> Reply:
    path, follow = source
    if path is None or not os.path.exists(path):
        return plain_error(404, "this log has no file")
    handle: BinaryIO = open(path, "rb")  # noqa: SIM115 - open for the life of the stream
    waker = TailWaker()
    stop_following = follow(waker)
    request.on_gone(waker.close)
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
        while not waker.closed and not request.client_gone:
            waker.pending = False  # before reading: a write during the read wakes us again
            handle = await _pump(response, handle, path)
            if not waker.pending:
                await waker.wait(IDLE_CHECK)
        return response
    except ConnectionError:
        # The client went away (supervisorctl tail -f interrupted, a browser tab closed):
        # the normal end of a stream, nothing to report.
        return response
    finally:
        stop_following()
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
