"""bench.streams' subscriber client: one process holding every subscriber's two streams
(events and a log), and the handle the bench drives it through.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.daemons import ROOT, Daemon
from bench.processes import kill_group_and_leader
from bench.streams_http import (
    EVENTS,
    SOCKET_TIMEOUT,
    Body,
    SseParser,
    get_request,
    log_stream_target,
)
from bench.streams_profile import STEP_TIMEOUT
from bench.waiting import BenchError

CLIENT = (
    "import sys; from bench.streams_subscribers import subscribers_main; "
    "sys.exit(subscribers_main())"
)


class Subscribers:
    """The client process holding every subscriber's two connections; ended by its process
    group whatever happens."""

    def __init__(self, daemon: Daemon, count: int, namespecs: list[str], lifetime: float):
        self._errors = open(daemon.workdir / "subscribers.err", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CLIENT,
                str(daemon.sock),
                str(count),
                repr(lifetime),
                *namespecs,
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            start_new_session=True,
        )
        self._pending = b""
        self.ready_at: float | None = None

    def __enter__(self) -> Subscribers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _line(self, timeout: float, what: str) -> str:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            readable = remaining > 0 and selectors_ready(fd, remaining)
            if not readable:
                raise BenchError(f"the subscriber client did not {what} within {timeout:g} s")
            data = os.read(fd, 65536)
            if not data:
                raise BenchError(f"the subscriber client ended: {self._error_text()}")
            self._pending += data
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode(errors="replace").strip()

    def wait_ready(self, timeout: float) -> None:
        line = self._line(timeout, "open every stream")
        if line != "ready":
            raise BenchError(f"the subscriber client failed: {line} {self._error_text()}")
        self.ready_at = time.monotonic()

    def stats(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"stats\n")
        self.proc.stdin.flush()
        line = self._line(STEP_TIMEOUT, "report")
        try:
            found: dict[str, Any] = json.loads(line)
        except ValueError:
            raise BenchError(f"the subscriber client failed: {line}") from None
        return found

    def close(self) -> None:
        """Close its stdin (it then closes every stream and exits); end it if it does not."""
        try:
            if self.proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(STEP_TIMEOUT)
        finally:
            if self.proc.returncode is None:
                kill_group_and_leader(self.proc.pid)
                self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self._errors.close()

    def _error_text(self) -> str:
        try:
            text = Path(self._errors.name).read_bytes()[-400:].decode(errors="replace")
        except OSError:
            return ""
        return text.strip()


def selectors_ready(fd: int, timeout: float) -> bool:
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        return bool(selector.select(timeout))


@dataclass
class _Subscription:
    kind: str  # "events" or "log"
    sock: socket.socket
    body: Body = field(default_factory=Body)
    parser: SseParser = field(default_factory=SseParser)
    started: bool = False  # the first message (retry:) has arrived
    messages: int = 0
    keepalives: int = 0
    lost: int = 0  # "missed" / "dropped" messages
    closed: bool = False

    def receive(self, data: bytes) -> None:
        for message in self.parser.feed(self.body.feed(data)):
            self.started = True
            if message.get("event") in ("missed", "dropped"):
                self.lost += 1
            elif "data" in message:
                self.messages += 1
            elif "keep-alive" in message.get("", ""):
                self.keepalives += 1


def _client_stats(subscriptions: list[_Subscription]) -> dict[str, Any]:
    events = [s for s in subscriptions if s.kind == "events"]
    logs = [s for s in subscriptions if s.kind == "log"]
    return {
        "connections": len(subscriptions),
        "closed": sum(s.closed for s in subscriptions),
        "event_messages": sum(s.messages for s in events),
        "event_messages_min": min((s.messages for s in events), default=0),
        "log_messages": sum(s.messages for s in logs),
        "keepalives": sum(s.keepalives for s in subscriptions),
        "keepalives_min": min((s.keepalives for s in subscriptions), default=0),
        "lost": sum(s.lost for s in subscriptions),
    }


def _subscribe(
    path: str,
    count: int,
    namespecs: list[str],
    selector: selectors.BaseSelector,
    subscriptions: list[_Subscription],
) -> None:
    """Open COUNT × (events, one log stream), each added to `subscriptions` before it
    connects (so that it is closed whatever happens) and registered with `selector`."""
    for number in range(count):
        for kind, target in (
            ("events", EVENTS),
            ("log", log_stream_target(namespecs[number % len(namespecs)])),
        ):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            subscriptions.append(_Subscription(kind, sock))
            sock.settimeout(SOCKET_TIMEOUT)
            sock.connect(path)
            sock.sendall(get_request(target))
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, subscriptions[-1])


def _receive(selector: selectors.BaseSelector, subscription: _Subscription) -> str | None:
    """Read what one stream has sent; the failure to report, if its answer was not 200."""
    try:
        data = subscription.sock.recv(65536)
    except BlockingIOError:
        return None
    except OSError:
        data = b""
    if not data:
        subscription.closed = True
        selector.unregister(subscription.sock)
        return None
    subscription.receive(data)
    if subscription.body.status not in (None, 200):
        head = subscription.body.head[:200].decode(errors="replace")
        return f"failed: a {subscription.kind} stream was answered {head}"
    return None


def _serve(
    selector: selectors.BaseSelector, subscriptions: list[_Subscription], deadline: float
) -> int:
    """Count what arrives, answer `stats`, print `ready` once every stream has started; the
    exit status once stdin closes, a stream fails or the deadline passes."""
    ready = False
    while time.monotonic() < deadline:
        for key, _ in selector.select(1.0):
            subscription = key.data
            if subscription is None:
                command = os.read(sys.stdin.fileno(), 4096)
                if not command:
                    return 0
                for _ in range(command.count(b"stats")):
                    print(json.dumps(_client_stats(subscriptions)), flush=True)
                continue
            failure = _receive(selector, subscription)
            if failure is not None:
                print(failure, flush=True)
                return 1
        if not ready:
            if any(s.closed for s in subscriptions):
                print("failed: a stream closed before it started", flush=True)
                return 1
            if all(s.started for s in subscriptions):
                for subscription in subscriptions:
                    subscription.messages = subscription.keepalives = subscription.lost = 0
                ready = True
                print("ready", flush=True)
    print("failed: lifetime over", flush=True)
    return 1


def subscribers_main(argv: list[str] | None = None) -> int:
    """The subscriber client process: SOCKET COUNT LIFETIME NAMESPEC...

    Opens COUNT × (events, one log stream), prints `ready` once every stream has sent its
    first message, then counts what arrives (since `ready`), prints its counts as JSON for
    each `stats` line on stdin, and closes everything when stdin closes or LIFETIME ends."""
    argv = sys.argv[1:] if argv is None else argv
    path, count, lifetime, namespecs = argv[0], int(argv[1]), float(argv[2]), argv[3:]
    deadline = time.monotonic() + lifetime
    subscriptions: list[_Subscription] = []
    selector = selectors.DefaultSelector()
    try:
        _subscribe(path, count, namespecs, selector, subscriptions)
        selector.register(sys.stdin.fileno(), selectors.EVENT_READ, None)
        return _serve(selector, subscriptions, deadline)
    except OSError as exc:
        print(f"failed: {exc}", flush=True)
        return 1
    finally:
        selector.close()
        for subscription in subscriptions:
            subscription.sock.close()
