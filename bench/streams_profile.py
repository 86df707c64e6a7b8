"""bench.streams: the sizes of each mode (full, --quick, --smoke), the figures the table
reports and the limits every wait is held to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MIB = 1 << 20
STEP_TIMEOUT = 10.0  # one state change, one answer, one subscriber process reporting
CHANGE_PAUSE = (0.005, 0.020)  # seconds between two state changes
SIZE_POLL = 0.002
SLOWEST_RATE = 2 * MIB  # bytes per second below which a write is declared stuck
CLOCK_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
FD_PER_PROGRAM = 5  # the daemon's ends of three pipes, two log files
FD_HEADROOM = 512


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
