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
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.daemons import ROOT, supervisor_executable
from bench.entry import main_of, now, progress
from bench.machine import machine
from bench.processes import become_subreaper, raise_open_file_limit
from bench.report import write_json
from bench.streams_profile import CLOCK_TICK_MS, FULL, QUICK, SMOKE, Profile
from bench.streams_profile import figures as figures
from bench.streams_report import document, table
from bench.streams_run import Run

DEFAULT_JSON = ROOT / "bench" / "results" / "streams.json"


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
        progress(
            f"warning: {about['vigil_stale_bytecode_modules']} of vigil's modules have no "
            "up-to-date byte-code: run `python -m compileall -q vigil` first "
            "(`make bench-streams` does)"
        )
    become_subreaper()
    started, clock = now(), time.monotonic()
    progress(f"bench.streams: {profile.mode}, {args.reps} repetition(s)")
    measured = Run(profile, args.reps)
    measured.measure()
    about["load_average_end"] = [round(load, 2) for load in os.getloadavg()]
    meta = {
        "command": " ".join(["python -m bench.streams", *argv]),
        "mode": profile.mode,
        "reps": args.reps,
        "started": started,
        "finished": now(),
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
    return main_of("python -m bench.streams", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
