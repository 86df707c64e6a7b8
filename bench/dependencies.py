"""What start dependencies and health checks cost vigil (issue 14).

    python -m bench.dependencies [--layers 10] [--width 50] [--delay 0.2] [--reps 3]
                                 [--checks 500] [--seconds 20]

- **chain**: `layers` x `width` programs (500 by default), layer k's `depends_on = l<k-1>:*`
  with the default condition (`ready`), each ready by `log:` once it printed a line `delay`
  seconds after its spawn. From launching `python -m vigil` until the main log says every
  program is RUNNING, against the sum of the readiness delays along the chain (layers x
  delay: what no daemon can beat) and against the same programs with no dependencies (one
  layer's delay: the spawning itself). The overhead is what the chain adds beyond both.
- **checks**: `checks` sleepers with `healthcheck_interval = 1`, once with `exec:true`
  (a process spawned per check) and once with `tcp://` to a socket this benchmark listens on;
  the daemon's CPU (utime + stime from /proc/PID/stat) over `seconds` once all are RUNNING,
  as a percentage of one core. The target is under 5 %.

Only vigil runs: Supervisor has neither feature.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.daemons import Daemon, RunningLines, Side, program_section, workspace
from bench.scale_fleet import deadline, fds_needed
from bench.waiting import BenchError, wait_for
from bench.workloads.base import SLEEP

TICKS = os.sysconf("SC_CLK_TCK")


def chain(layers: int, width: int, delay: float, *, linked: bool = True) -> str:
    """`layers` programs of `width` processes each; with `linked`, each layer waits for the
    previous one to be ready."""
    command = f"/bin/sh -c 'sleep {delay:g}; echo ready; exec {SLEEP} 1000'"
    sections = []
    for layer in range(layers):
        options: dict[str, object] = {
            "command": command,
            "numprocs": width,
            "process_name": "%(program_name)s_%(process_num)03d",
            "startsecs": 0,
            "autorestart": "false",
            "ready": "log:^ready$",
            "ready_timeout": 120,
            "stdout_logfile_maxbytes": 0,
        }
        if linked and layer:
            options["depends_on"] = f"l{layer - 1}:*"
        sections.append(program_section(f"l{layer}", options))
    return "".join(sections)


def checked(count: int, check: str) -> str:
    return program_section(
        "checked",
        {
            "command": f"{SLEEP} 1000",
            "numprocs": count,
            "process_name": "%(program_name)s_%(process_num)03d",
            "startsecs": 0,
            "autorestart": "false",
            "healthcheck": check,
            "healthcheck_interval": 1,
            "healthcheck_timeout": 5,
            "healthcheck_action": "none",
        },
    )


class Workload(Daemon):
    """A vigil daemon on `programs`, with minfds raised to hold `count` of them."""

    def __init__(self, workdir: Path, programs: str, count: int) -> None:
        super().__init__(Side.VIGIL, workdir, programs)
        self.count = count
        text = self.conf.read_text()
        header = "[supervisord]\n"
        if header not in text:
            raise BenchError("bench.daemons.config_text has no [supervisord] section to extend")
        self.conf.write_text(text.replace(header, f"{header}minfds={fds_needed(count)}\n", 1))

    def launch_until_running(self) -> float:
        """Seconds from the launch until the main log has said RUNNING `count` times."""
        lines = RunningLines(self.mainlog)
        started = time.perf_counter()
        self.launch()

        def all_running() -> bool:
            self.check_alive()
            return lines.update() >= self.count

        wait_for(all_running, timeout=deadline(self.count), what="every program RUNNING")
        return time.perf_counter() - started

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def time_chain(layers: int, width: int, delay: float, *, linked: bool) -> float:
    with workspace() as workdir:
        programs = chain(layers, width, delay, linked=linked)
        with Workload(workdir, programs, layers * width) as daemon:
            return daemon.launch_until_running()


@contextmanager
def listening() -> Iterator[int]:
    """A loopback port that accepts connections (the kernel completes them; never read)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(4096)
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()


def check_cost(count: int, check: str, seconds: float) -> float:
    """The daemon's CPU over `seconds`, as a percentage of one core, with `count` checks."""
    with workspace() as workdir, Workload(workdir, checked(count, check), count) as daemon:
        daemon.launch_until_running()
        time.sleep(2.0)  # the first round of checks comes one interval after RUNNING
        before, started = daemon.cpu_seconds(), time.monotonic()
        time.sleep(seconds)  # measuring a steady state over a fixed span
        used, elapsed = daemon.cpu_seconds() - before, time.monotonic() - started
        health = daemon.call("supervisor.getProcessInfo", "checked:checked_000")["description"]
        if "health: healthy" not in health:
            raise BenchError(f"the checks do not pass: {health!r}")
        return 100.0 * used / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=10)
    parser.add_argument("--width", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    total = args.layers * args.width
    floor = args.layers * args.delay
    flat, linked = [], []
    for _ in range(args.reps):  # alternated, so that the machine's load falls on both alike
        flat.append(time_chain(args.layers, args.width, args.delay, linked=False))
        linked.append(time_chain(args.layers, args.width, args.delay, linked=True))
    flat_median, linked_median = statistics.median(flat), statistics.median(linked)
    print(f"{total} programs, {args.layers} layers, ready {args.delay:g} s after each spawn")
    print(f"  no dependencies:  median {flat_median:6.2f} s   (runs: {_runs(flat)})")
    print(f"  chain:            median {linked_median:6.2f} s   (runs: {_runs(linked)})")
    print(f"  sum of the readiness delays along the chain: {floor:.2f} s")
    print(
        f"  chain overhead beyond the delays and the spawning: "
        f"{linked_median - floor - (flat_median - args.delay):.2f} s "
        f"({(linked_median - floor - (flat_median - args.delay)) / args.layers * 1000:.0f} ms "
        "per layer)"
    )
    with listening() as port:
        for check in ("exec:true", f"tcp://127.0.0.1:{port}"):
            share = check_cost(args.checks, check, args.seconds)
            name = check.split(":")[0]
            print(
                f"{args.checks} health checks ({name}) every second: daemon CPU {share:.1f} % "
                f"of one core over {args.seconds:g} s, {share * 10_000 / args.checks:.0f} us "
                "per check (target < 5 %)"
            )


def _runs(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    main()
