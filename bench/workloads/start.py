"""Start and stop: daemon start to N RUNNING, start/stop all with wait, SIGTERM to exit.

The floor is what starting the same sleepers costs a plain Python loop of subprocess.Popen,
the least any supervisor written in Python could need (bench.workloads.floor).
"""

from __future__ import annotations

import time
from typing import Any

from bench.daemons import Daemon, RunningLines, Side, wait_all_running, workspace
from bench.metrics import Measured, Metric
from bench.waiting import BenchError, wait_for
from bench.workloads.base import Workload, sleepers, wait_sleeping
from bench.workloads.floor import spawn_loop

SUCCESS = 80  # Faults.SUCCESS in the result structs of the *AllProcesses calls
LOG_POLL = 0.002


def _running_timeout(count: int) -> float:
    return 60.0 + count * 0.5


class StartWorkload(Workload):
    name = "start"
    description = "daemon start until N programs are RUNNING; start/stop all; SIGTERM to exit"

    def metrics(self) -> list[Metric]:
        found = [
            self.metric(
                f"n{count}.startsecs{secs}",
                f"start to {count} RUNNING, startsecs={secs}",
                "s",
                has_floor=secs == 0,
            )
            for count in self.sizes.start_counts
            for secs in self.sizes.start_secs
        ]
        programs = self.sizes.start_stop_programs
        return [
            *found,
            self.metric("start_all", f"startAllProcesses(wait), {programs} programs", "s"),
            self.metric("stop_all", f"stopAllProcesses(wait), {programs} programs", "s"),
            self.metric("sigterm", f"SIGTERM to daemon exit, {programs} RUNNING", "s"),
        ]

    def measure(self, side: Side, out: Measured) -> None:
        for count in self.sizes.start_counts:
            for secs in self.sizes.start_secs:
                out[f"start.n{count}.startsecs{secs}"] = [_time_to_running(side, count, secs)]
        _start_stop_all(side, self.sizes.start_stop_programs, out)

    def measure_floor(self, out: Measured) -> None:
        for count in self.sizes.start_counts:
            if 0 in self.sizes.start_secs:
                out[f"start.n{count}.startsecs0"] = [spawn_loop(count)]


def _time_to_running(side: Side, count: int, secs: int) -> float:
    """From launching the daemon to its main log saying that all `count` are RUNNING; what
    the log said is then confirmed with getAllProcessInfo, after the clock has stopped."""
    with workspace() as tmp, Daemon(side, tmp, sleepers(count, startsecs=secs)) as daemon:
        lines = RunningLines(daemon.mainlog)
        started = time.perf_counter()
        daemon.launch()

        def all_reported() -> bool:
            daemon.check_alive()
            return lines.update() >= count

        wait_for(
            all_reported,
            timeout=_running_timeout(count),
            interval=LOG_POLL,
            what=f"{side}: the main log to report {count} programs RUNNING",
        )
        elapsed = time.perf_counter() - started
        wait_all_running(daemon, count, _running_timeout(count))
        return elapsed


def _check_results(side: Side, call: str, results: list[dict[str, Any]], count: int) -> None:
    failed = [result for result in results if result["status"] != SUCCESS]
    if failed or len(results) != count:
        detail = failed[0]["description"] if failed else f"{len(results)} results"
        raise BenchError(f"{side}: {call} did not succeed for all {count} programs: {detail}")


def _start_stop_all(side: Side, count: int, out: Measured) -> None:
    programs = sleepers(count, autostart=False)
    with workspace() as tmp, Daemon(side, tmp, programs) as daemon:
        daemon.start()
        client = daemon.client()
        elapsed, results = client.timed_call("supervisor.startAllProcesses", True)
        _check_results(side, "startAllProcesses", results, count)
        out["start.start_all"] = [elapsed]
        wait_sleeping(daemon, count)
        elapsed, results = client.timed_call("supervisor.stopAllProcesses", True)
        _check_results(side, "stopAllProcesses", results, count)
        out["start.stop_all"] = [elapsed]
        client.call("supervisor.startAllProcesses", True)
        wait_sleeping(daemon, count)
        out["start.sigterm"] = [daemon.terminate_timed()]
