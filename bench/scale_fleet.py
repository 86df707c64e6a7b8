"""bench.scale's fleets: one daemon with N sleepers, its limits and deadlines, and every
metric taken on it.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil

from bench.daemons import (
    Daemon,
    RunningLines,
    Side,
    config_text,
    ctl_command,
    workspace,
)
from bench.processes import run_in_session, wait_exit
from bench.rpc import RpcClient
from bench.waiting import BenchError, wait_for
from bench.workloads.base import SLEEP, sleepers

BASELINE_PROGRAMS = 10
FDS_PER_PROGRAM = 5  # the daemon's ends of stdin, stdout and stderr pipes; two log files
FD_HEADROOM = 512  # main log, listeners and their connections, the event loop, imports
DEFAULT_MINFDS = 1024  # both sides' default, kept where it is enough
SETTLE = 1.0  # seconds between the status call and reading RSS at rest
LOG_POLL = 0.002
CHECK_INTERVAL = 0.05
DEADLINE_BASE = 60.0
DEADLINE_PER_PROGRAM = 0.1  # seconds: Supervisor needs about 0.01 per program to start them
SUCCESS = 80  # Faults.SUCCESS in the result structs of the *AllProcesses calls

Record = Callable[[str, float], None]


def deadline(count: int) -> float:
    """Seconds any one wait on a daemon with `count` programs may take before it fails."""
    return DEADLINE_BASE + count * DEADLINE_PER_PROGRAM


def fds_needed(count: int) -> int:
    return max(DEFAULT_MINFDS, count * FDS_PER_PROGRAM + FD_HEADROOM)


def check_fd_limit(sizes: tuple[int, ...]) -> None:
    """Fail before starting anything if a daemon could not raise its limit to hold a size.

    A daemon raises its soft limit to `minfds` up to the hard limit, and beyond it only when
    it may (CAP_SYS_RESOURCE, which root in a container often lacks). The probe raises this
    process's hard limit (the soft limit untouched) and puts it back: it succeeds exactly when
    a daemon started by us could do the same.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    too_big = [n for n in sizes if hard != resource.RLIM_INFINITY and fds_needed(n) > hard]
    if not too_big:
        return
    needed = fds_needed(max(too_big))
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, needed))
    except (ValueError, OSError):
        fits = max(0, (hard - FD_HEADROOM) // FDS_PER_PROGRAM)
        each = ", ".join(f"{n} programs need {fds_needed(n)}" for n in too_big)
        raise BenchError(
            f"too many programs for `ulimit -n`: {each} file descriptors in the daemon "
            f"({FDS_PER_PROGRAM} per program: its ends of 3 pipes and 2 log files; plus "
            f"{FD_HEADROOM}), but `ulimit -n` is {soft}, its hard limit {hard}, and this "
            f"process may not raise it (that needs CAP_SYS_RESOURCE): raise the hard limit "
            f"before the run (`ulimit -n {needed}` where that is allowed) or keep --sizes at "
            f"or below {fits}"
        ) from None
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def scale_config(workdir: Path, count: int) -> str:
    """bench.daemons' config of `count` sleepers, with minfds raised to hold them."""
    text = config_text(workdir, sleepers(count))
    header = "[supervisord]\n"
    if header not in text:
        raise BenchError("bench.daemons.config_text has no [supervisord] section to extend")
    return text.replace(header, f"{header}minfds={fds_needed(count)}\n", 1)


class Fleet(Daemon):
    """One daemon of one side with `count` sleepers in a workspace (bench.daemons' Daemon,
    with minfds raised to hold them and deadlines that grow with `count`)."""

    def __init__(self, side: Side, workdir: Path, count: int) -> None:
        super().__init__(side, workdir, sleepers(count))
        self.count = count
        self.conf.write_text(scale_config(workdir, count))

    def what(self, doing: str) -> str:
        return f"{self.side} with {self.count} programs: {doing}"

    def launch_timed(self) -> float:
        """Seconds from launching the daemon until its main log reports all programs RUNNING."""
        lines = RunningLines(self.mainlog)
        started = time.perf_counter()
        self.launch()

        def all_reported() -> bool:
            self.check_alive()
            return lines.update() >= self.count

        wait_for(
            all_reported,
            timeout=deadline(self.count),
            interval=LOG_POLL,
            what=self.what(f"the main log to report {self.count} programs RUNNING"),
        )
        return time.perf_counter() - started

    def status(self) -> float:
        """Wall time of one `supervisorctl status`; its output must list every program RUNNING."""
        command = [*ctl_command(self.side, self.conf), "status"]
        started = time.perf_counter()
        returncode, stdout, stderr = run_in_session(command, self.workdir, deadline(self.count))
        elapsed = time.perf_counter() - started
        lines = stdout.decode(errors="replace").splitlines()
        running = sum(" RUNNING " in f"{line} " for line in lines)
        if returncode != 0 or len(lines) != self.count or running != self.count:
            problem = stderr.decode(errors="replace").strip()[-300:] or (lines or ["no output"])[0]
            raise BenchError(
                self.what(
                    f"supervisorctl status exited {returncode} with {len(lines)} lines, "
                    f"{running} RUNNING, {self.count} expected: {problem}"
                )
            )
        return elapsed

    def rss_at_rest(self) -> float:
        """VmRSS in MiB after SETTLE seconds of quiet."""
        time.sleep(SETTLE)
        self.check_alive()
        return wait_for(lambda: _vmrss_mib(self.pid), timeout=5.0, what=self.what("VmRSS"))

    def client(self, *, keep_alive: bool = False) -> RpcClient:
        return RpcClient(str(self.sock), keep_alive=keep_alive, timeout=deadline(self.count))

    def get_all_process_info(self) -> tuple[float, list[dict[str, Any]]]:
        """(seconds on a new connection, the answer), checked: every program, RUNNING."""
        elapsed, infos = self.client().timed_call("supervisor.getAllProcessInfo")
        running = sum(info["statename"] == "RUNNING" for info in infos)
        if len(infos) != self.count or running != self.count:
            raise BenchError(
                self.what(f"getAllProcessInfo answered {len(infos)} entries, {running} RUNNING")
            )
        return elapsed, infos

    def all_call(self, method: str) -> float:
        """Seconds of one stopAllProcesses / startAllProcesses(wait=True): all must succeed."""
        elapsed, results = self.client().timed_call(f"supervisor.{method}", True)
        failed = [result for result in results if result["status"] != SUCCESS]
        if failed or len(results) != self.count:
            detail = failed[0]["description"] if failed else f"{len(results)} results"
            raise BenchError(self.what(f"{method} did not succeed for every program: {detail}"))
        return elapsed

    def sleeping_pids(self, infos: list[dict[str, Any]] | None = None) -> list[int] | None:
        """The programs' pids once all are RUNNING and have exec'd `sleep`, else None.

        RUNNING with startsecs=0 can be reported between fork and exec; a SIGTERM in that
        window is lost on Supervisor 4.3.0 and a stop then waits stopwaitsecs (see
        bench.workloads.base.wait_sleeping), so no stop is timed before this holds.
        """
        if infos is None:
            self.check_alive()
            infos = self.client().call("supervisor.getAllProcessInfo")
        pids = [int(info["pid"]) for info in infos if info["statename"] == "RUNNING"]
        if len(pids) != self.count or not all(_runs_sleep(pid) for pid in pids):
            return None
        return pids

    def wait_sleeping(self) -> list[int]:
        return wait_for(
            self.sleeping_pids,
            timeout=deadline(self.count),
            interval=CHECK_INTERVAL,
            what=self.what(f"{self.count} programs to be RUNNING and running sleep"),
        )

    def sigterm_to_exit(self, pids: list[int]) -> float:
        """Seconds from SIGTERM until the daemon is reaped; none of `pids` may outlive it."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            raise BenchError(self.what("the daemon is not running"))
        started = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        if not wait_exit(proc.pid, deadline(self.count)):
            raise BenchError(self.what("the daemon did not exit in time after SIGTERM"))
        proc.wait()
        elapsed = time.perf_counter() - started
        left = [pid for pid in pids if _left_behind(pid)]
        if left:
            raise BenchError(self.what(f"the daemon exited leaving {len(left)} programs alive"))
        return elapsed


def _vmrss_mib(pid: int) -> float | None:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def _runs_sleep(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().startswith(SLEEP.encode())
    except OSError:
        return False


def _left_behind(pid: int) -> bool:
    """A program its daemon left alive: orphaned, it has been reparented to us (the
    subreaper); a dead one waiting for us to reap it, or a pid reused by anyone else, is not."""
    try:
        proc = psutil.Process(pid)
        return proc.ppid() == os.getpid() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@contextlib.contextmanager
def fleet_in_workspace(side: Side, count: int) -> Iterator[Fleet]:
    """A Fleet in a workspace of its own, which ends every process left below us on exit."""
    with workspace() as workdir, Fleet(side, workdir, count) as fleet:
        yield fleet


def measure_baseline(side: Side) -> float:
    """RSS at rest of `side` with BASELINE_PROGRAMS, taken exactly as at every size."""
    with fleet_in_workspace(side, BASELINE_PROGRAMS) as fleet:
        fleet.launch_timed()
        fleet.status()
        return fleet.rss_at_rest()


def measure_fleet(
    side: Side, count: int, record: Record, *, floor: float | None, baseline: float | None
) -> None:
    """Every metric of one side at one size, each recorded as soon as it is taken, so that
    the figures before a failure are kept."""
    with fleet_in_workspace(side, count) as fleet:
        record("start_s", start := fleet.launch_timed())
        if floor is not None:
            record("start_over_floor", start / floor)
        record("status_s", fleet.status())
        record("rss_mib", rss := fleet.rss_at_rest())
        if baseline is not None:
            per_program = (rss - baseline) * 1024 / (count - BASELINE_PROGRAMS)
            record("memory_per_program_kib", per_program)
        elapsed, infos = fleet.get_all_process_info()
        record("getallprocessinfo_s", elapsed)
        if fleet.sleeping_pids(infos) is None:
            fleet.wait_sleeping()
        record("stop_all_s", fleet.all_call("stopAllProcesses"))
        record("start_all_s", fleet.all_call("startAllProcesses"))
        pids = fleet.wait_sleeping()
        record("sigterm_s", fleet.sigterm_to_exit(pids))
