"""``GET /api/v1/events``: the daemon's events as Server-Sent Events, typed JSON each.

Every message carries its ``id``; a client that reconnects with ``Last-Event-ID`` (browsers'
EventSource do it by themselves) gets what it missed from the feed's ring, or an ``event:
missed`` message saying it must re-read the state because the ring cannot tell. A comment is
sent when nothing happened for ``KEEPALIVE`` seconds, so proxies keep the connection and a
dead client is noticed. ``process`` and ``group`` (comma-separated namespecs and group names)
narrow the stream.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from vigil.core.events import Event
from vigil.core.naming import split_namespec
from vigil.faults import Faults, RPCError
from vigil.http.messages import Reply, Request
from vigil.http.problems import problem
from vigil.services.directory import ALL, ProcessDirectory
from vigil.services.event_feed import Accept, EventFeed, FeedEntry, Missed

KEEPALIVE = 15.0  # seconds
RETRY_MS = 2000
SSE_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",
}
# Field names that read better in JSON than the dataclass's own (and REMOTE_COMMUNICATION's
# own "type", which would hide the event's).
_RENAMED = {"old": "from", "new": "to", "type": "comm_type"}


def event_document(event: Event) -> dict[str, Any]:
    """An event as JSON: its type, then its fields (states by name, output as text)."""
    document: dict[str, Any] = {"type": event.name}
    if dataclasses.is_dataclass(event):
        for item in dataclasses.fields(event):
            document[_RENAMED.get(item.name, item.name)] = _plain(getattr(event, item.name))
    if document.get("pid") == 0:
        document["pid"] = None  # no child, as the process documents say it
    return document


def _plain(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def message(item: FeedEntry | Missed) -> bytes:
    if isinstance(item, Missed):
        data = json.dumps({"missed": item.count}, separators=(",", ":"))
        return f"event: missed\ndata: {data}\n\n".encode()
    data = json.dumps(event_document(item.event), separators=(",", ":"), ensure_ascii=False)
    return f"id: {item.id}\ndata: {data}\n\n".encode()


def stream_filter(query: dict[str, list[str]], directory: ProcessDirectory) -> Accept | str:
    """What the ``process`` and ``group`` parameters accept, or the reason they are wrong;
    a name the daemon does not know is BAD_NAME (RPCError), as anywhere else."""
    processes = _listed(query.get("process", ()))
    groups = set(_listed(query.get("group", ())))
    if ALL in processes:
        return lambda event: True
    wanted: set[tuple[str, str | None]] = set()
    for namespec in processes:
        group, name = split_namespec(namespec)
        if not group:
            return f"process={namespec!r} is not a namespec (name, group:name, group:* or all)"
        directory.matching(namespec)
        wanted.add((group, name))
    known = directory.groups()
    for group in groups:
        if group not in known:
            raise RPCError(Faults.BAD_NAME, group)
    if not wanted and not groups:
        return lambda event: True

    def accept(event: Event) -> bool:
        group, name = event.group, event.process
        if group is None:
            return False
        return group in groups or (group, None) in wanted or (group, name) in wanted

    return accept


def _listed(values: Iterable[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


async def stream_events(request: Request, feed: EventFeed, directory: ProcessDirectory) -> Reply:
    query = parse_qs(request.query_string)
    accept = stream_filter(query, directory)
    if isinstance(accept, str):
        return problem(400, accept)
    last_id = request.headers.get("Last-Event-ID") or _first(query.get("last_event_id"))
    subscription = feed.subscribe(accept, last_id)
    request.on_gone(subscription.close)
    out = request.stream(headers=SSE_HEADERS)
    # A new stream starts with the id of the last event before it: a client that reconnects
    # before the first event resumes from there (EventSource takes an id without data as
    # its own). A resumed one does not: its replay comes first and carries its own ids.
    opening = f"id: {feed.last_id}\n" if last_id is None else ""
    try:
        await out.write(f"retry: {RETRY_MS}\n{opening}\n".encode())
        while not subscription.closed:
            items = await subscription.next(KEEPALIVE)
            if items:
                await out.write(b"".join(message(item) for item in items))
            elif not subscription.closed:
                await out.write(b": keep-alive\n\n")
    except ConnectionError:
        pass  # the client left: the normal end of a stream
    finally:
        subscription.close()
    return out


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None
