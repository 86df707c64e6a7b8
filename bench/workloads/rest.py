"""Rest: what the daemon costs while nothing happens, with the fleet RUNNING.

CPU time and voluntary context switches (each one a wake-up from a blocking wait) are read
from the kernel's accounting for the daemon process and all its threads, before and after a
window in which nobody talks to it; memory is read at the end of the window: RSS, and USS
(the memory only this process holds: RSS without the pages of shared libraries such as
libcrypto, which an interpreter that imports ssl maps and other processes share).
"""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from bench.daemons import Daemon
from bench.metrics import Measured, Metric
from bench.profiles import MIB
from bench.waiting import BenchError
from bench.workloads.base import FleetWorkload


def voluntary_switches(pid: int) -> int:
    """Voluntary context switches of every thread of `pid` (/proc/PID/status counts only the
    thread it names)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:
            continue  # a thread that just ended
        for line in status.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


class RestWorkload(FleetWorkload):
    name = "rest"
    description = "CPU, RSS and wake-ups of the daemon at rest with the fleet RUNNING"

    def metrics(self) -> list[Metric]:
        programs = self.sizes.fleet_programs
        return [
            self.metric("cpu", f"CPU at rest, {programs} RUNNING", "ms/s"),
            self.metric("rss", f"RSS at rest, {programs} RUNNING", "MiB"),
            self.metric("uss", f"USS at rest, {programs} RUNNING", "MiB"),
            self.metric("wakeups", f"wake-ups at rest, {programs} RUNNING", "1/s"),
        ]

    def measure_on(self, daemon: Daemon, out: Measured) -> None:
        try:
            process = psutil.Process(daemon.pid)
            before_cpu = _cpu_seconds(process)
            before_switches = voluntary_switches(daemon.pid)
            started = time.monotonic()
            time.sleep(self.sizes.rest_seconds)  # the window itself: the daemon left alone
            after_cpu = _cpu_seconds(process)
            after_switches = voluntary_switches(daemon.pid)
            window = time.monotonic() - started
            memory = process.memory_full_info()
        except (psutil.Error, OSError) as exc:
            raise BenchError(f"{daemon.side}: cannot read the daemon's accounting: {exc}") from exc
        out["rest.cpu"] = [(after_cpu - before_cpu) / window * 1000]
        out["rest.rss"] = [memory.rss / MIB]
        out["rest.uss"] = [memory.uss / MIB]
        out["rest.wakeups"] = [(after_switches - before_switches) / window]


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)
