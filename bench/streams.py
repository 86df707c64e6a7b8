"""Live streams (issue 12, "Performance"): how soon a state change and a child's line reach a
follower, what 200 subscribers cost a daemon with 500 programs, and the JSON process list
beside getAllProcessInfo.

    python -m bench.streams [--reps N] [--quick | --smoke] [--json PATH]

Every client is a raw socket on the daemon's unix socket (HTTP/1.1, chunked bodies decoded
here, as supervisorctl and browsers read them), driven by one thread through a selector, so
no receive waits for a GIL or another thread; each message is timestamped right after the
recv that completed it. Latencies are given as median and p90 of all samples. A repetition
(`--reps`, default 1) runs all four parts again on fresh daemons; samples are pooled.

1. **State change → SSE subscriber** (vigil): one subscriber on `GET /api/v1/events`; the
   bench alternates `supervisor.stopProcess("toggle", False)` and `startProcess("toggle",
   False)` on a `sleep` program (`startsecs=0`), each on a new connection, a random 5-20 ms
   apart, `CHANGES` RPCs in all (each makes two changes: STOPPING then STOPPED, or STARTING
   then RUNNING; a stop is sent only once the pid has exec'd `sleep`). Three figures:
   - *daemon's change → SSE*: the event's own `at` (the daemon's wall clock, taken when its
     state machine made the change; STOPPED/RUNNING are the daemon seeing the child exit or
     run, not anything the RPC did) to the receipt of its message, on the same machine's
     wall clock; every event, so twice `CHANGES` samples. **Target: median ≤ 5 ms.**
   - *RPC sent → SSE*: from the RPC's request being sent to the receipt of the first change
     it made (STOPPING or STARTING, which the daemon makes before it answers);
   - *RPC round trip*: the same RPC, from sending to the last byte of its answer. The
     difference between the two is how far the stream lags the answer.
2. **Child line → follower**: a child (`ticker`, a Python script) writes `tick <ns>\\n`, the
   `<ns>` being its `time.monotonic_ns()` just before the write, at random intervals of
   `TICK` seconds (uniform; so that a polling server's period cannot line up with the
   writes); the follower computes receipt − the embedded time, both on CLOCK_MONOTONIC.
   `LINES` lines per follower, one follower at a time, in this order: `/logtail/ticker` on
   vigil, `GET /api/v1/processes/ticker/log/stdout/stream?lines=0` on vigil, and
   `/logtail/ticker` on Supervisor 4.3.0 (which checks its tail at most every 0.1 s, when
   its loop wakes up). Lines written before the follower's response head arrived (the
   backlog) are left out. **Target: median ≤ 5 ms** (vigil; Supervisor is the reference).
3. **`PROGRAMS` programs and `SUBSCRIBERS` subscribers** (vigil): `PROGRAMS` `sleep`
   programs RUNNING and one `writer` (`head -c BYTES /dev/zero`, `autostart=false`,
   `stdout_logfile_maxbytes=0`). A subscriber is two connections, `/api/v1/events` and the
   SSE log stream (`?lines=0`) of one sleeper (subscriber i follows sleeper i), all opened
   by one client process (selectors, no threads) that reads and counts every message. The
   daemon's `[unix_http_server]` gets `max_connections` = 2 × subscribers + 64 (its default,
   128, refuses the 129th connection). Figures:
   - *CPU at rest*: utime + stime from /proc/PID/stat over `REST` seconds, without a
     subscriber and with them all connected; also the exact figure from
     /proc/PID/task/*/schedstat (ns on a CPU) and the voluntary context switches (wake-ups).
     vigil writes a keep-alive comment on an idle stream every 15 s, the one thing an idle
     stream costs; the window with subscribers is placed over the first keep-alive of every
     stream (it starts 15 s − REST/2 after the last stream opened), which the client's
     counts confirm, so the figure includes it. **Target: 0**, taken as at most one clock
     tick (10 ms) in the window, the resolution of that accounting.
   - *a child writing BYTES*: from the `startProcess("writer")` RPC until the log file holds
     every byte (watched with stat every 2 ms, as bench.workloads.output does; the log is
     cleared before each write and its size checked after), without subscribers and with
     them, `PAIRS` pairs alternating which goes first (ABBA); the ratio of each pair (with ÷
     without) is a sample. The subscribers follow sleepers, not the writer (a follower of a
     200 MiB writer would measure the fan-out of 200 MiB, not being attached); every event
     stream must have received the writer's state changes. **Target: median ratio ≤ 1.10.**
4. **`GET /api/v1/processes` vs `supervisor.getAllProcessInfo`** on the same daemon before
   any subscriber, `REQUESTS` of each, interleaved, each on a new connection, from
   `connect` to the last byte of the answer (both answers are then parsed and checked: every
   program listed, all sleepers RUNNING). **Target: JSON's median ≤ XML-RPC's** (the ratio
   of the medians, one sample per repetition).

Sizes (full / `--quick` / `--smoke`): CHANGES 200 / 50 / 6; LINES 200 / 50 / 6; TICK
0.01-0.09 / 0.01-0.09 / 0.005-0.02; PROGRAMS 500 / 500 / 20; SUBSCRIBERS 200 / 200 / 5; REST
10 / 5 / 0.5 s (the smoke run does not wait for a keep-alive); BYTES 200 / 50 / 2 MiB;
PAIRS 5 / 1 / 1; REQUESTS 50 / 20 / 3.

The table gives every figure with its sample count, median, p90, the target and whether it
is met; the JSON (default bench/results/streams.json) holds every sample, per-kind details,
the subscriber client's counts and the machine (cores, load average at the start and the end,
kernel, Pythons, versions). Every wait has a deadline; every process started runs in a
session of its own and is ended through its process group or pid (bench.processes), never
by name; only the daemons' unix sockets are used. Ctrl-C or SIGTERM stops the run, ends
them, and still prints and writes what was measured. Exit status: 0, 1 when a measurement
failed (listed under the table and in the JSON), 2 when the run could not start, 130 when
interrupted. The figures never change the exit status.

Run `python -m compileall -q vigil` first (`make bench-streams` does), as for `make bench`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import random
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import quote

from bench.daemons import ROOT, Daemon, Side, program_section, supervisor_executable, workspace
from bench.processes import (
    become_subreaper,
    end_descendants,
    kill_group_and_leader,
    raise_open_file_limit,
)
from bench.report import number, write_json
from bench.scale import machine
from bench.waiting import BenchError, wait_for
from bench.workloads.base import SLEEP, sleepers, wait_sleeping
from bench.workloads.rest import voluntary_switches

DEFAULT_JSON = ROOT / "bench" / "results" / "streams.json"
MIB = 1 << 20
EVENTS = "/api/v1/events"
SOCKET_TIMEOUT = 10.0
STEP_TIMEOUT = 10.0  # one state change, one answer, one subscriber process reporting
CHANGE_PAUSE = (0.005, 0.020)  # seconds between two state changes
SIZE_POLL = 0.002
SLOWEST_RATE = 2 * MIB  # bytes per second below which a write is declared stuck
CLOCK_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
FD_PER_PROGRAM = 5  # the daemon's ends of three pipes, two log files
FD_HEADROOM = 512
HEAD = shutil.which("head") or "/usr/bin/head"
TICKER = """\
import os, random, sys, time
low, high, seed = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
pause = random.Random(seed).uniform
while True:
    time.sleep(pause(low, high))
    os.write(1, b"tick %d\\n" % time.monotonic_ns())
"""
CLIENT = "import sys; from bench.streams import subscribers_main; sys.exit(subscribers_main())"


@dataclass(frozen=True)
class Profile:
    mode: str
    changes: int  # RPCs of part 1, each making two state changes
    lines: int  # lines per follower in part 2
    tick: tuple[float, float]  # seconds between the ticker's lines (uniform)
    programs: int
    subscribers: int
    rest_seconds: float
    over_keepalive: bool  # place the subscribed rest window over the first keep-alive
    write_bytes: int
    pairs: int
    requests: int


FULL = Profile("full", 200, 200, (0.01, 0.09), 500, 200, 10.0, True, 200 * MIB, 5, 50)
QUICK = Profile("quick", 50, 50, (0.01, 0.09), 500, 200, 5.0, True, 50 * MIB, 1, 20)
SMOKE = Profile("smoke", 6, 6, (0.005, 0.02), 20, 5, 0.5, False, 2 * MIB, 1, 3)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    target: str = ""  # the target, as the table shows it
    limit: float | None = None  # met when the median is at most this


def figures(profile: Profile) -> list[Figure]:
    programs, subs = profile.programs, profile.subscribers
    size = f"{profile.write_bytes / MIB:g} MiB"
    one_tick = CLOCK_TICK_MS / profile.rest_seconds
    return [
        Figure("state_at_to_sse", "state change (event's `at`) → SSE subscriber", "ms",
               "median ≤ 5 ms", 5.0),
        Figure("state_rpc_to_sse", "RPC sent → SSE of the change it made", "ms"),
        Figure("state_rpc_round_trip", "that RPC's round trip (sent → answered)", "ms"),
        Figure("line_logtail_vigil", "child line → /logtail follower, vigil", "ms",
               "median ≤ 5 ms", 5.0),
        Figure("line_sse_vigil", "child line → SSE log stream, vigil", "ms", "median ≤ 5 ms",
               5.0),
        Figure("line_logtail_supervisor", "child line → /logtail follower, Supervisor 4.3.0",
               "ms", "(reference)"),
        Figure("rest_cpu_alone", f"CPU at rest, {programs} programs, no subscriber", "ms/s"),
        Figure("rest_cpu_subscribed", f"CPU at rest, {programs} programs, {subs} subscribers",
               "ms/s", f"0 (≤ 1 tick: {one_tick:g} ms/s)", one_tick),
        Figure("rest_exact_alone", "  same, exact (schedstat), no subscriber", "ms/s"),
        Figure("rest_exact_subscribed", f"  same, exact (schedstat), {subs} subscribers",
               "ms/s"),
        Figure("rest_wakeups_alone", "  wake-ups at rest, no subscriber", "1/s"),
        Figure("rest_wakeups_subscribed", f"  wake-ups at rest, {subs} subscribers", "1/s"),
        Figure("write_alone", f"child writes {size} to its log, no subscriber", "s"),
        Figure("write_subscribed", f"child writes {size} to its log, {subs} subscribers", "s"),
        Figure("write_ratio", "  with ÷ without subscribers (per pair)", "×", "≤ 1.10", 1.10),
        Figure("list_json", f"GET /api/v1/processes, {programs} programs", "ms"),
        Figure("list_xmlrpc", f"getAllProcessInfo, {programs} programs", "ms"),
        Figure("list_ratio", "  JSON ÷ XML-RPC (medians)", "×", "≤ 1", 1.0),
    ]  # fmt: skip


# -- HTTP on the unix socket, read as it arrives ----------------------------------------------


def get_request(target: str, *, close: bool = False) -> bytes:
    extra = "Connection: close\r\n" if close else ""
    return f"GET {target} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n".encode()


def rpc_request(method: str, *params: Any) -> bytes:
    body = xmlrpc.client.dumps(params, method).encode()
    head = (
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def log_stream_target(namespec: str, channel: str = "stdout") -> str:
    return f"/api/v1/processes/{quote(namespec, safe=':')}/log/{channel}/stream?lines=0"


class Dechunker:
    """The data of a chunked HTTP/1.1 body, piece by piece as the bytes arrive."""

    def __init__(self) -> None:
        self._buffer = b""
        self._left = 0  # data bytes still to come in the current chunk
        self._crlf = False  # the CRLF after a chunk's data is still to come
        self.ended = False

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        out: list[bytes] = []
        while not self.ended:
            if self._left:
                piece = self._buffer[: self._left]
                out.append(piece)
                self._left -= len(piece)
                self._buffer = self._buffer[len(piece) :]
                if self._left:
                    break
                self._crlf = True
            if self._crlf:
                if len(self._buffer) < 2:
                    break
                self._buffer = self._buffer[2:]
                self._crlf = False
            end = self._buffer.find(b"\r\n")
            if end < 0:
                break
            size = int(self._buffer[:end].split(b";")[0], 16)
            self._buffer = self._buffer[end + 2 :]
            if size == 0:
                self.ended = True
            self._left = size
        return b"".join(out)


class Body:
    """A response read as it arrives: its head, then the decoded body in pieces."""

    def __init__(self) -> None:
        self.head = b""
        self.status: int | None = None
        self._chunks: Dechunker | None = None

    def feed(self, data: bytes) -> bytes:
        if self.status is None:
            self.head += data
            head, found, rest = self.head.partition(b"\r\n\r\n")
            if not found:
                return b""
            self.head = head
            words = head.split(b" ", 2)
            self.status = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
            if b"\r\ntransfer-encoding: chunked" in head.lower():
                self._chunks = Dechunker()
            data = rest
        return self._chunks.feed(data) if self._chunks is not None else data

    @property
    def ended(self) -> bool:
        return self._chunks is not None and self._chunks.ended


class SseParser:
    """Server-Sent Events messages out of a body's pieces: each a dict of field → value (the
    `data` lines joined; comment lines under the key "")."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[dict[str, str]]:
        *complete, self._pending = (self._pending + data).split(b"\n\n")
        messages = []
        for block in complete:
            fields: dict[str, str] = {}
            for line in block.decode("utf-8", "replace").split("\n"):
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                fields[name] = f"{fields[name]}\n{value}" if name in fields else value
            messages.append(fields)
        return messages


class Lines:
    """Complete lines out of a body's pieces."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        *complete, self._pending = (self._pending + data).split(b"\n")
        return complete


class Stream:
    """A GET on the daemon's unix socket whose body is followed as it arrives."""

    def __init__(self, path: Path, target: str) -> None:
        self.target = target
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.body = Body()
        try:
            self.sock.settimeout(SOCKET_TIMEOUT)
            self.sock.connect(str(path))
            self.sock.sendall(get_request(target))
        except OSError as exc:
            self.sock.close()
            raise BenchError(f"GET {target}: {exc}") from exc

    def open(self, timeout: float = SOCKET_TIMEOUT) -> bytes:
        """Wait for the response head (200 or fail); the body that came with it."""
        deadline = time.monotonic() + timeout
        data = b""
        while self.body.status is None:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                fresh = self.sock.recv(65536)
            except TimeoutError:
                raise BenchError(f"GET {self.target}: no answer within {timeout:g} s") from None
            if not fresh:
                raise BenchError(f"GET {self.target}: closed before an answer")
            data = self.body.feed(fresh)
        if self.body.status != 200:
            text = self.body.head[:200].decode(errors="replace")
            raise BenchError(f"GET {self.target} answered {self.body.status}: {text}")
        self.sock.setblocking(False)
        return data

    def read(self) -> bytes:
        """What arrived (after the selector said so); the stream may not end."""
        try:
            fresh = self.sock.recv(65536)
        except BlockingIOError:
            return b""
        if not fresh or self.body.ended:
            raise BenchError(f"GET {self.target}: the daemon ended the stream")
        return self.body.feed(fresh)

    def close(self) -> None:
        self.sock.close()


class PendingCall:
    """One XML-RPC call on a new connection, sent at once, its answer read by the caller's
    selector; `sent` and `answered` are time.monotonic() readings."""

    def __init__(self, path: Path, method: str, *params: Any) -> None:
        self.method = method
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        request = rpc_request(method, *params)
        try:
            self.sock.settimeout(SOCKET_TIMEOUT)
            self.sock.connect(str(path))
            self.sent = time.monotonic()
            self.sock.sendall(request)
        except OSError as exc:
            self.sock.close()
            raise BenchError(f"{method}: {exc}") from exc
        self.sock.setblocking(False)
        self.answered: float | None = None
        self.closed = False  # the server closed the connection (after its answer)
        self._answer = b""

    def on_readable(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        if not data:
            if self.answered is None:
                raise BenchError(f"{self.method}: the connection closed before the answer")
            self.closed = True
            return
        self._answer += data
        if self.answered is None and _complete(self._answer):
            self.answered = time.monotonic()

    def result(self) -> Any:
        status, body = http_body(self._answer)
        if status != 200:
            raise BenchError(f"{self.method} answered HTTP {status}")
        try:
            return xmlrpc.client.loads(body)[0][0]
        except xmlrpc.client.Fault as fault:
            raise BenchError(f"{self.method}: {fault.faultString}") from None

    def close(self) -> None:
        self.sock.close()


def _complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def http_body(raw: bytes) -> tuple[int, bytes]:
    """(status, body) of a whole response."""
    body = Body()
    data = body.feed(raw)
    return body.status or 0, data


def timed_exchange(path: Path, request: bytes) -> tuple[float, bytes]:
    """Seconds from connecting to the last byte of the answer (the server closes), and it."""
    started = time.perf_counter()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(60.0)
        sock.connect(str(path))
        sock.sendall(request)
        pieces = []
        while data := sock.recv(262144):
            pieces.append(data)
    return time.perf_counter() - started, b"".join(pieces)


def _select(selector: selectors.BaseSelector, deadline: float, what: str) -> list[Any]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise BenchError(f"timed out waiting for {what}")
    return [key.data for key, _ in selector.select(remaining)]


# -- 1. state change → SSE subscriber ----------------------------------------------------------


Record = Callable[[str, float], None]


def _runs_sleep(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().startswith(SLEEP.encode())
    except OSError:
        return False


def measure_state_changes(
    daemon: Daemon, count: int, record: Record, details: dict[str, Any]
) -> None:
    def running() -> int | None:
        info = daemon.call("supervisor.getProcessInfo", "toggle")
        return int(info["pid"]) if info["statename"] == "RUNNING" else None

    pid = wait_for(running, timeout=STEP_TIMEOUT, what="toggle to be RUNNING")
    by_state: dict[str, list[float]] = details.setdefault("at_to_sse_ms_by_state", {})
    by_method: dict[str, dict[str, list[float]]] = details.setdefault("rpc_ms_by_method", {})
    rng = random.Random(12)
    stream = Stream(daemon.sock, EVENTS)
    parser = SseParser()
    parser.feed(stream.open())
    selector = selectors.DefaultSelector()
    selector.register(stream.sock, selectors.EVENT_READ, stream)
    try:
        for number in range(count):
            stopping = number % 2 == 0
            method, first, final = (
                ("stopProcess", "STOPPING", "STOPPED")
                if stopping
                else ("startProcess", "STARTING", "RUNNING")
            )
            if stopping:
                wait_for(lambda p=pid: _runs_sleep(p), timeout=STEP_TIMEOUT, what="toggle's exec")
            seen: dict[str, tuple[float, float, float]] = {}  # state: (mono, wall, at)
            call = PendingCall(daemon.sock, f"supervisor.{method}", "toggle", False)
            selector.register(call.sock, selectors.EVENT_READ, call)
            deadline = call.sent + STEP_TIMEOUT
            try:
                while call.answered is None or final not in seen:
                    for ready in _select(selector, deadline, f"{method} and its events"):
                        if ready is call:
                            call.on_readable()
                            if call.closed:  # else the selector reports its EOF forever
                                selector.unregister(call.sock)
                            continue
                        data = stream.read()
                        mono, wall = time.monotonic(), time.time()
                        for message in parser.feed(data):
                            if "data" not in message:
                                continue
                            event = json.loads(message["data"])
                            if event.get("process") != "toggle":
                                continue
                            if event["to"] not in (first, final):
                                raise BenchError(f"toggle went {event['to']} after {method}")
                            seen[event["to"]] = (mono, wall, float(event["at"]))
                            if event["to"] == "RUNNING":
                                pid = int(event["pid"])
            finally:
                if not call.closed:
                    selector.unregister(call.sock)
                call.close()
            call.result()
            if first not in seen or call.answered is None:
                raise BenchError(f"{method}: no {first} event")
            for state in (first, final):
                _, wall, at = seen[state]
                record("state_at_to_sse", (wall - at) * 1000)
                by_state.setdefault(state, []).append((wall - at) * 1000)
            to_sse = (seen[first][0] - call.sent) * 1000
            round_trip = (call.answered - call.sent) * 1000
            record("state_rpc_to_sse", to_sse)
            record("state_rpc_round_trip", round_trip)
            by_method.setdefault(method, {"to_sse_ms": [], "round_trip_ms": []})
            by_method[method]["to_sse_ms"].append(to_sse)
            by_method[method]["round_trip_ms"].append(round_trip)
            time.sleep(rng.uniform(*CHANGE_PAUSE))
    finally:
        selector.close()
        stream.close()


# -- 2. child line → follower --------------------------------------------------------------


def follow_lines(daemon: Daemon, target: str, sse: bool, count: int, timeout: float) -> list[float]:
    """Milliseconds from each tick line's own timestamp to its receipt, `count` of them."""
    stream = Stream(daemon.sock, target)
    sse_parser, lines = SseParser(), Lines()
    samples: list[float] = []

    def take(data: bytes, now: int, opened: int) -> None:
        if sse:
            texts = [
                json.loads(message["data"])["line"].encode()
                for message in sse_parser.feed(data)
                if "data" in message and "event" not in message
            ]
        else:
            texts = lines.feed(data)
        for text in texts:
            if text.startswith(b"tick "):
                written = int(text[5:])
                if written >= opened:  # not the backlog
                    samples.append((now - written) / 1e6)

    try:
        backlog = stream.open()
        opened = time.monotonic_ns()
        take(backlog, opened, opened)
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(stream.sock, selectors.EVENT_READ)
            while len(samples) < count:
                what = f"{daemon.side}: {count} lines on {target} (got {len(samples)})"
                if _select(selector, deadline, what):
                    data = stream.read()
                    take(data, time.monotonic_ns(), opened)
    finally:
        stream.close()
    return samples[:count]


def latency_programs(tmp: Path, profile: Profile) -> str:
    script = tmp / "ticker.py"
    script.write_text(TICKER)
    low, high = profile.tick
    return program_section(
        "toggle",
        {"command": f"{SLEEP} 1000", "startsecs": 0, "autorestart": "false"},
    ) + program_section(
        "ticker",
        {
            "command": f"{sys.executable} {script} {low} {high} 7",
            "autostart": "false",
            "autorestart": "false",
            "startsecs": 0,
            "stdout_logfile": tmp / "ticker.log",
            "stdout_logfile_maxbytes": 0,
        },
    )


def line_timeout(profile: Profile) -> float:
    return 30.0 + profile.lines * profile.tick[1] * 3


# -- 3. programs and subscribers ---------------------------------------------------------------


def fleet_config(daemon: Daemon, profile: Profile) -> None:
    """Rewrite the daemon's config: minfds and max_connections raised for the fleet."""
    text = daemon.conf.read_text()
    minfds = profile.programs * FD_PER_PROGRAM + 4 * profile.subscribers + FD_HEADROOM
    connections = 2 * profile.subscribers + 64
    for section, option in (
        ("[supervisord]\n", f"minfds={max(1024, minfds)}\n"),
        ("[unix_http_server]\n", f"max_connections={connections}\n"),
    ):
        if section not in text:
            raise BenchError(f"bench.daemons.config_text has no {section.strip()} to extend")
        text = text.replace(section, section + option, 1)
    daemon.conf.write_text(text)


def fleet_programs(tmp: Path, profile: Profile) -> str:
    return sleepers(profile.programs) + program_section(
        "writer",
        {
            "command": f"{HEAD} -c {profile.write_bytes} /dev/zero",
            "autostart": "false",
            "autorestart": "false",
            "startsecs": 0,
            "stdout_logfile": tmp / "writer.log",
            "stdout_logfile_maxbytes": 0,
        },
    )


def sleeper_namespecs(count: int) -> list[str]:
    return [f"sleeper:sleeper_{number:03d}" for number in range(count)]


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
        selector.register(sys.stdin.fileno(), selectors.EVENT_READ, None)
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
                try:
                    data = subscription.sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    subscription.closed = True
                    selector.unregister(subscription.sock)
                    continue
                subscription.receive(data)
                if subscription.body.status not in (None, 200):
                    head = subscription.body.head[:200].decode(errors="replace")
                    print(f"failed: a {subscription.kind} stream was answered {head}", flush=True)
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
    except OSError as exc:
        print(f"failed: {exc}", flush=True)
        return 1
    finally:
        selector.close()
        for subscription in subscriptions:
            subscription.sock.close()


def _stat_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def _schedstat_ns(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            total += int((task / "schedstat").read_text().split()[0])
    return total


def rest_window(pid: int, seconds: float) -> dict[str, float]:
    ticks, exact, switches = _stat_ticks(pid), _schedstat_ns(pid), voluntary_switches(pid)
    started = time.monotonic()
    time.sleep(seconds)
    ticks = _stat_ticks(pid) - ticks
    exact = _schedstat_ns(pid) - exact
    switches = voluntary_switches(pid) - switches
    window = time.monotonic() - started
    return {
        "window_s": window,
        "ticks": ticks,
        "cpu_ms_per_s": ticks * CLOCK_TICK_MS / window,
        "exact_ms_per_s": exact / 1e6 / window,
        "wakeups_per_s": switches / window,
    }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def timed_write(daemon: Daemon, log: Path, total: int) -> float:
    """Seconds from startProcess("writer") until its log holds `total` bytes (checked)."""
    daemon.call("supervisor.clearProcessLogs", "writer")
    wait_for(lambda: _size(log) == 0, timeout=STEP_TIMEOUT, what="the writer's log cleared")
    started = time.perf_counter()
    daemon.call("supervisor.startProcess", "writer", False)
    wait_for(
        lambda: _size(log) >= total,
        timeout=30.0 + total / SLOWEST_RATE,
        interval=SIZE_POLL,
        what=f"the writer's log to hold {total} bytes",
    )
    elapsed = time.perf_counter() - started

    def exited() -> dict[str, Any] | None:
        info: dict[str, Any] = daemon.call("supervisor.getProcessInfo", "writer")
        return info if info["statename"] not in ("STARTING", "RUNNING", "STOPPING") else None

    info = wait_for(exited, timeout=60.0, what="the writer to exit")
    if info["statename"] != "EXITED" or info["exitstatus"] != 0 or _size(log) != total:
        raise BenchError(
            f"the writer ended {info['statename']} ({info['exitstatus']}) "
            f"with {_size(log)} bytes logged, not {total}"
        )
    return elapsed


# -- 4. the process list -------------------------------------------------------------------


def timed_lists(daemon: Daemon, profile: Profile, record: Record, details: dict[str, Any]) -> None:
    json_request = get_request("/api/v1/processes", close=True)
    rpc = rpc_request("supervisor.getAllProcessInfo")
    programs = profile.programs
    json_times: list[float] = []
    rpc_times: list[float] = []
    for request in range(profile.requests):
        order = ("json", "rpc") if request % 2 == 0 else ("rpc", "json")
        for which in order:
            if which == "json":
                elapsed, raw = timed_exchange(daemon.sock, json_request)
                status, body = http_body(raw)
                listed = json.loads(body) if status == 200 else []
                states = [entry["state"] for entry in listed]
                json_times.append(elapsed * 1000)
            else:
                elapsed, raw = timed_exchange(daemon.sock, rpc)
                status, body = http_body(raw)
                listed = xmlrpc.client.loads(body)[0][0] if status == 200 else []
                states = [entry["statename"] for entry in listed]
                rpc_times.append(elapsed * 1000)
            if len(states) != programs + 1 or states.count("RUNNING") != programs:
                raise BenchError(
                    f"{which}: HTTP {status}, {len(states)} programs listed, "
                    f"{states.count('RUNNING')} RUNNING ({programs} sleepers and the writer)"
                )
            record("list_json" if which == "json" else "list_xmlrpc", elapsed * 1000)
    record("list_ratio", statistics.median(json_times) / statistics.median(rpc_times))


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Run:
    profile: Profile
    reps: int
    samples: dict[str, list[float]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    interrupted: bool = False

    def __post_init__(self) -> None:
        self.samples = {figure.key: [] for figure in figures(self.profile)}

    def record(self, key: str, value: float) -> None:
        self.samples[key].append(value)

    def measure(self) -> None:
        try:
            for rep in range(1, self.reps + 1):
                details = self.details.setdefault(str(rep), {})
                for part, action in (
                    ("latency, vigil", self._vigil_latency),
                    ("latency, Supervisor 4.3.0", self._supervisor_latency),
                    (f"{self.profile.programs} programs, vigil", self._fleet),
                ):
                    self._attempt(rep, part, lambda a=action, d=details: a(d))
        except KeyboardInterrupt:
            self.interrupted = True
            _progress("interrupted: ending every process started, reporting what we have")
        finally:
            end_descendants()

    def _attempt(self, rep: int, part: str, action: Callable[[], None]) -> None:
        started = time.monotonic()
        outcome = "ok"
        try:
            action()
        except Exception as exc:  # a fault, a refused connection: report it, carry on
            reason = str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"
            outcome = f"FAILED: {reason}"
            self.problems.append(f"repetition {rep}, {part}: {reason}")
        elapsed = time.monotonic() - started
        _progress(f"[{rep}/{self.reps}] {part:32} {elapsed:7.1f} s  {outcome}")

    def _vigil_latency(self, details: dict[str, Any]) -> None:
        profile = self.profile
        with workspace() as tmp, Daemon(Side.VIGIL, tmp, latency_programs(tmp, profile)) as daemon:
            daemon.start()
            measure_state_changes(
                daemon, profile.changes, self.record, details.setdefault("state", {})
            )
            daemon.call("supervisor.startProcess", "ticker", True)
            for key, target, sse in (
                ("line_logtail_vigil", "/logtail/ticker", False),
                ("line_sse_vigil", log_stream_target("ticker"), True),
            ):
                samples = follow_lines(daemon, target, sse, profile.lines, line_timeout(profile))
                self.samples[key].extend(samples)

    def _supervisor_latency(self, details: dict[str, Any]) -> None:
        profile = self.profile
        with workspace() as tmp:
            programs = latency_programs(tmp, profile)
            with Daemon(Side.SUPERVISOR, tmp, programs) as daemon:
                daemon.start()
                daemon.call("supervisor.startProcess", "ticker", True)
                samples = follow_lines(
                    daemon, "/logtail/ticker", False, profile.lines, line_timeout(profile)
                )
                self.samples["line_logtail_supervisor"].extend(samples)

    def _fleet(self, details: dict[str, Any]) -> None:
        profile = self.profile
        fleet = details.setdefault("fleet", {})
        with workspace() as tmp:
            daemon = Daemon(Side.VIGIL, tmp, fleet_programs(tmp, profile))
            with daemon:
                fleet_config(daemon, profile)
                daemon.start()
                wait_sleeping(daemon, profile.programs, timeout=60.0 + profile.programs * 0.1)
                timed_lists(daemon, profile, self.record, fleet)
                time.sleep(1.0)
                alone = rest_window(daemon.pid, profile.rest_seconds)
                fleet["rest_alone"] = alone
                self._rest("alone", alone)
                self._writes(daemon, tmp / "writer.log", fleet)

    def _rest(self, which: str, window: dict[str, float]) -> None:
        self.record(f"rest_cpu_{which}", window["cpu_ms_per_s"])
        self.record(f"rest_exact_{which}", window["exact_ms_per_s"])
        self.record(f"rest_wakeups_{which}", window["wakeups_per_s"])

    def _subscribers(self, daemon: Daemon) -> Subscribers:
        profile = self.profile
        lifetime = 600.0 + profile.write_bytes / SLOWEST_RATE
        namespecs = sleeper_namespecs(min(profile.subscribers, profile.programs))
        return Subscribers(daemon, profile.subscribers, namespecs, lifetime)

    def _writes(self, daemon: Daemon, log: Path, fleet: dict[str, Any]) -> None:
        profile = self.profile
        total = profile.write_bytes
        rested = False
        clients: list[dict[str, Any]] = fleet.setdefault("subscriber_client", [])
        for pair in range(profile.pairs):
            order = ("alone", "subscribed") if pair % 2 == 0 else ("subscribed", "alone")
            timed: dict[str, float] = {}
            for which in order:
                if which == "alone":
                    timed[which] = timed_write(daemon, log, total)
                    self.record("write_alone", timed[which])
                    continue
                with self._subscribers(daemon) as client:
                    client.wait_ready(60.0 + profile.subscribers * 0.2)
                    if not rested:
                        rested = True
                        fleet["rest_subscribed"] = self._rest_subscribed(daemon, client)
                    before = client.stats()
                    timed[which] = timed_write(daemon, log, total)
                    # the writer's EXITED has been published: give the streams a moment
                    after = wait_for(
                        lambda b=before: _writer_seen(client, b, profile.subscribers),
                        timeout=STEP_TIMEOUT,
                        interval=0.05,
                        what="every event stream to receive the writer's state changes",
                    )
                    clients.append({"before_write": before, "after_write": after})
                    if after["closed"] or after["lost"]:
                        raise BenchError(f"subscriber streams closed or lost messages: {after}")
                self.record("write_subscribed", timed[which])
            self.record("write_ratio", timed["subscribed"] / timed["alone"])

    def _rest_subscribed(self, daemon: Daemon, client: Subscribers) -> dict[str, Any]:
        profile = self.profile
        if profile.over_keepalive:
            from vigil.http.event_stream import KEEPALIVE

            assert client.ready_at is not None
            start = client.ready_at + KEEPALIVE - profile.rest_seconds / 2
            time.sleep(max(0.0, start - time.monotonic()))
        else:
            time.sleep(1.0)
        before = client.stats()
        window: dict[str, Any] = dict(rest_window(daemon.pid, profile.rest_seconds))
        after = client.stats()
        window["keepalives_in_window"] = after["keepalives"] - before["keepalives"]
        window["messages_in_window"] = (after["event_messages"] + after["log_messages"]) - (
            before["event_messages"] + before["log_messages"]
        )
        window["streams"] = after["connections"]
        if profile.over_keepalive and after["keepalives_min"] < 1:
            raise BenchError(f"the rest window missed some keep-alives: {after}")
        self._rest("subscribed", window)
        return window


def _writer_seen(client: Subscribers, before: dict[str, Any], count: int) -> dict[str, Any] | None:
    """The client's counts once every event stream has had the writer's three changes
    (STARTING, RUNNING, EXITED) since `before`."""
    after = client.stats()
    wanted = before["event_messages_min"] + 3
    return after if after["event_messages_min"] >= wanted else None


# -- report -------------------------------------------------------------------------------------


def p90(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=10, method="inclusive")[8]


def verdict(figure: Figure, samples: list[float]) -> bool | None:
    if figure.limit is None or not samples:
        return None
    return statistics.median(samples) <= figure.limit


def table(run: Run) -> str:
    headers = ("figure", "unit", "n", "median", "p90", "target", "met")
    body = []
    for figure in figures(run.profile):
        samples = run.samples[figure.key]
        met = verdict(figure, samples)
        body.append(
            (
                figure.label,
                figure.unit,
                str(len(samples)),
                number(statistics.median(samples)) if samples else "missing",
                number(p90(samples)) if samples else "",
                figure.target,
                "" if met is None and not figure.limit else "yes" if met else "**NO**",
            )
        )
    widths = [max(len(row[i]) for row in [headers, *body]) for i in range(len(headers))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(row) for row in body)])


def document(run: Run, meta: dict[str, Any]) -> dict[str, Any]:
    found = []
    for figure in figures(run.profile):
        samples = run.samples[figure.key]
        found.append(
            {
                "key": figure.key,
                "label": figure.label.strip(),
                "unit": figure.unit,
                "samples": samples,
                "count": len(samples),
                "median": statistics.median(samples) if samples else None,
                "p90": p90(samples) if samples else None,
                "min": min(samples) if samples else None,
                "max": max(samples) if samples else None,
                "target": figure.target or None,
                "limit": figure.limit,
                "met": verdict(figure, samples),
            }
        )
    return {
        **meta,
        "interrupted": run.interrupted,
        "figures": found,
        "details": run.details,
        "problems": run.problems,
    }


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.streams",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--reps", type=_count, default=1, help="repetitions (default 1)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="fewer samples, smaller write")
    size.add_argument("--smoke", action="store_true", help="tiny sizes: does it all run")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH")
    args = parser.parse_args(argv)
    args.profile = SMOKE if args.smoke else QUICK if args.quick else FULL
    return args


def _settings(profile: Profile) -> dict[str, Any]:
    return {
        "changes": profile.changes,
        "lines_per_follower": profile.lines,
        "tick_interval_s": list(profile.tick),
        "programs": profile.programs,
        "subscribers": profile.subscribers,
        "streams_per_subscriber": 2,
        "rest_seconds": profile.rest_seconds,
        "rest_window_over_keepalive": profile.over_keepalive,
        "write_bytes": profile.write_bytes,
        "write_pairs": profile.pairs,
        "requests": profile.requests,
        "clock_tick_ms": CLOCK_TICK_MS,
    }


def run(args: argparse.Namespace, argv: list[str]) -> int:
    profile: Profile = args.profile
    supervisor_executable("python")  # fails now, with how to install it, if it is missing
    raise_open_file_limit()
    about = machine(True)
    if about["vigil_stale_bytecode_modules"]:
        _progress(
            f"warning: {about['vigil_stale_bytecode_modules']} of vigil's modules have no "
            "up-to-date byte-code: run `python -m compileall -q vigil` first "
            "(`make bench-streams` does)"
        )
    become_subreaper()
    started, clock = _now(), time.monotonic()
    _progress(f"bench.streams: {profile.mode}, {args.reps} repetition(s)")
    measured = Run(profile, args.reps)
    measured.measure()
    about["load_average_end"] = [round(load, 2) for load in os.getloadavg()]
    meta = {
        "command": " ".join(["python -m bench.streams", *argv]),
        "mode": profile.mode,
        "reps": args.reps,
        "started": started,
        "finished": _now(),
        "duration_s": round(time.monotonic() - clock, 1),
        "settings": _settings(profile),
        "machine": about,
    }
    print(
        f"bench.streams, {profile.mode}, {args.reps} repetition(s); {about['cores']} cores, "
        f"load average {about['load_average_start']} at the start, "
        f"{about['load_average_end']} at the end"
    )
    print(table(measured))
    if measured.problems:
        print("\nNot measured or failed:")
        print("\n".join(f"- {problem}" for problem in measured.problems))
    write_json(args.json, document(measured, meta))
    print(f"\n{meta['duration_s']} s; results written to {args.json}")
    if measured.interrupted:
        return 130
    return 1 if measured.problems else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return run(args, argv)
    except BenchError as exc:
        print(f"python -m bench.streams: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        end_descendants()
        print("python -m bench.streams: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
