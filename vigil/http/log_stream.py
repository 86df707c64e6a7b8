"""``GET /api/v1/processes/{namespec}/log/{channel}/stream``: live output as Server-Sent Events.

One process, a group (``group:*``) or ``all``, interleaved as written, one message per line:
``{"process": namespec, "channel": ..., "line": ...}``. The stream starts with the last
``lines`` lines of each log (default 10, from its file) and then follows the pipes through
the logs' live followers: nothing polls. A client that reads slower than the processes write
gets, in place of what it missed, a ``dropped`` message with the number of bytes, and never
slows a process or another client. A partial line is held until its newline arrives. A log
that is cleared gives a ``truncated`` message; one whose process is removed (``update``) an
``ended`` one, and the stream ends when every log it follows has.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from vigil.core.events import Channel
from vigil.core.naming import make_namespec
from vigil.core.ports import LogFollower
from vigil.core.snapshot import ProcessSnapshot
from vigil.http.event_stream import KEEPALIVE, RETRY_MS, SSE_HEADERS
from vigil.http.messages import Reply, Request
from vigil.http.problems import problem
from vigil.services.log_followers import ChunkFollower, Dropped, Ended, Truncated
from vigil.services.logread import tail_bytes
from vigil.services.wakeup import Wakeup

MAX_BACKLOG_LINES = 10_000
BACKLOG_BYTES_PER_LINE = 1024  # what is read from the file's end to find the last lines
Follow = Callable[[str, str, Channel, LogFollower], Callable[[], None] | None]


@dataclass
class _Source:
    namespec: str
    follower: ChunkFollower
    stop: Callable[[], None]
    partial: bytes = b""
    lines: list[bytes] = field(default_factory=list)
    ended: bool = False

    def feed(self, data: bytes) -> None:
        *complete, self.partial = (self.partial + data).split(b"\n")
        self.lines.extend(complete)


def _message(namespec: str, channel: str, line: bytes) -> bytes:
    text = line.decode("utf-8", "replace")
    document = {"process": namespec, "channel": channel, "line": text}
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return b"data: " + data.encode() + b"\n\n"


def _event(name: str, document: dict[str, object]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(document, separators=(',', ':'))}\n\n".encode()


def _backlog(snapshot: ProcessSnapshot, channel: Channel, count: int) -> list[bytes]:
    if count == 0:
        return []
    path = snapshot.logfile(channel)
    try:
        data, _, _ = tail_bytes(path, 0, count * BACKLOG_BYTES_PER_LINE)
    except OSError:
        return []
    return data.split(b"\n")[:-1][-count:] if data else []


def _lines_wanted(request: Request) -> int | str:
    raw = parse_qs(request.query_string, keep_blank_values=True).get("lines", ["10"])[0]
    if not raw.isdigit() or int(raw) > MAX_BACKLOG_LINES:
        return f"lines must be a whole number from 0 to {MAX_BACKLOG_LINES}"
    return int(raw)


async def stream_logs(
    request: Request, snapshots: Iterable[ProcessSnapshot], channel: Channel, follow: Follow
) -> Reply:
    count = _lines_wanted(request)
    if isinstance(count, str):
        return problem(400, count)
    sources: list[_Source] = []
    backlog: list[bytes] = []
    wakeup = Wakeup()  # any source's news wakes the one reader
    for snapshot in snapshots:
        follower = ChunkFollower(wakeup)
        stop = follow(snapshot.group, snapshot.name, channel, follower)
        if stop is None:
            continue  # a process whose logs are not made (yet): nothing to follow
        namespec = make_namespec(snapshot.group, snapshot.name)
        sources.append(_Source(namespec, follower, stop))
        backlog += [
            _message(namespec, channel, line) for line in _backlog(snapshot, channel, count)
        ]
    out = request.stream(headers=SSE_HEADERS)
    request.on_gone(wakeup.close)
    try:
        await out.write(f"retry: {RETRY_MS}\n\n".encode() + b"".join(backlog))
        while not wakeup.closed and sources:
            sent = b"".join(_drain(source, channel) for source in sources)
            sources = [source for source in sources if not source.ended]
            if sent:
                await out.write(sent)
                continue
            await wakeup.wait(KEEPALIVE)
            if not wakeup.closed and not any(source.follower.pending() for source in sources):
                await out.write(b": keep-alive\n\n")
    except ConnectionError:
        pass  # the client left: the normal end of a stream
    finally:
        for source in sources:
            source.stop()
    return out


def _drain(source: _Source, channel: str) -> bytes:
    out: list[bytes] = []
    for item in source.follower.take():
        if isinstance(item, bytes):
            source.feed(item)
            continue
        out += _lines(source, channel, flush=True)  # what came before belongs before it
        if isinstance(item, Dropped):
            out.append(_event("dropped", {"process": source.namespec, "bytes": item.count}))
        elif isinstance(item, Truncated):
            out.append(_event("truncated", {"process": source.namespec}))
        elif isinstance(item, Ended):
            out.append(_event("ended", {"process": source.namespec}))
            source.ended = True
    out += _lines(source, channel, flush=False)
    return b"".join(out)


def _lines(source: _Source, channel: str, *, flush: bool) -> list[bytes]:
    """The complete lines held, and with ``flush`` the partial one too (its rest, if any,
    was dropped or is in a file that was cleared)."""
    if flush and source.partial:
        source.lines.append(source.partial)
        source.partial = b""
    found = [_message(source.namespec, channel, line) for line in source.lines]
    source.lines.clear()
    return found
