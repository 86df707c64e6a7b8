"""bench.streams' measurements: state changes to an SSE subscriber, a child's lines to a
follower, CPU at rest, a child's write to its log and the process list, each on a daemon.
"""

from __future__ import annotations

import contextlib
import json
import random
import selectors
import shutil
import statistics
import sys
import time
import xmlrpc.client
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.daemons import Daemon, program_section
from bench.streams_http import (
    EVENTS,
    Lines,
    PendingCall,
    SseParser,
    Stream,
    get_request,
    http_body,
    rpc_request,
    select_ready,
    timed_exchange,
)
from bench.streams_profile import (
    CHANGE_PAUSE,
    CLOCK_TICK_MS,
    FD_HEADROOM,
    FD_PER_PROGRAM,
    SIZE_POLL,
    SLOWEST_RATE,
    STEP_TIMEOUT,
    Profile,
)
from bench.waiting import BenchError, wait_for
from bench.workloads.base import SLEEP, sleepers
from bench.workloads.rest import voluntary_switches

HEAD = shutil.which("head") or "/usr/bin/head"
TICKER = """\
import os, random, sys, time
low, high, seed = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
pause = random.Random(seed).uniform
while True:
    time.sleep(pause(low, high))
    os.write(1, b"tick %d\\n" % time.monotonic_ns())
"""


# -- 1. state change → SSE subscriber ----------------------------------------------------------


Record = Callable[[str, float], None]


def _runs_sleep(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().startswith(SLEEP.encode())
    except OSError:
        return False


Seen = dict[str, tuple[float, float, float]]  # state: (mono, wall, at)


def _changes_of(
    selector: selectors.BaseSelector,
    stream: Stream,
    parser: SseParser,
    call: PendingCall,
    step: tuple[str, str, str],
) -> tuple[Seen, int | None]:
    """Read `call`'s answer and toggle's events until it went `final`: when each of its
    changes arrived, and its new pid if it is RUNNING again."""
    method, first, final = step
    seen: Seen = {}
    pid: int | None = None
    deadline = call.sent + STEP_TIMEOUT
    while call.answered is None or final not in seen:
        for ready in select_ready(selector, deadline, f"{method} and its events"):
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
    return seen, pid


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
            call = PendingCall(daemon.sock, f"supervisor.{method}", "toggle", False)
            selector.register(call.sock, selectors.EVENT_READ, call)
            try:
                seen, started = _changes_of(selector, stream, parser, call, (method, first, final))
            finally:
                if not call.closed:
                    selector.unregister(call.sock)
                call.close()
            if started is not None:
                pid = started
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
                if select_ready(selector, deadline, what):
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
