"""The large fleet, side by side: N programs started, listed, stopped, started again, shut down.

    python -m bench.scale [--sizes 1000,2000,5000,10000] [--reps 3] [--supervisor-up-to 2000]
                          [--json PATH] [--smoke]

The programs are N `sleep 1000` sleepers (one `[program:sleeper]` with numprocs=N,
`startsecs=0`, `autorestart=false`), the daemon runs in the foreground (`nodaemon`) on the
config of bench.daemons with `minfds` raised to hold N programs, and each side is started as
bench.fixed_costs starts it: `python -m vigil`, and Supervisor 4.3.0 left alone (no client
wakes it up) with `python -m supervisor.supervisord`, for the sizes up to `--supervisor-up-to`
only (Supervisor takes many minutes at 10,000). Every repetition first measures each side's
daemon with 10 programs (the RSS baseline), then for each size: the floor, Supervisor, vigil,
so that the load of a shared machine falls on all of them alike. For each size and side, in
one daemon and in this order:

- **floor**: a plain Python loop of `subprocess.Popen` starting the same N sleepers
  (bench.workloads.floor), the least any supervisor written in Python could need;
- **start to N RUNNING**: from launching the daemon until its main log has said N times
  "entered RUNNING state", read from outside (bench.daemons.RunningLines), so that no
  request wakes the daemon; and **start ÷ floor**, the ratio to the floor of the same
  repetition;
- **supervisorctl status**: the wall time of the side's own supervisorctl as a whole process
  (`python -m vigil.ctl.main` / `python -m supervisor.supervisorctl`, as bench.fixed_costs
  runs it), whose output must be N lines, each RUNNING, with exit status 0;
- **RSS at rest**: VmRSS of the daemon (/proc/PID/status) `SETTLE` seconds after that one
  status call; **memory per program** = (RSS at N - RSS of the same side with 10 programs
  in the same repetition) / (N - 10);
- **getAllProcessInfo** on a new unix-socket connection, from connecting to the last byte
  of the answer (bench.rpc; parsed afterwards): N entries, all RUNNING, each pid running
  `sleep` (exec'd, not only forked);
- **stopAllProcesses(wait=True)**, then **startAllProcesses(wait=True)**, each as one call
  on a new connection: N results, every one SUCCESS;
- **SIGTERM to exit**: once every new pid runs `sleep`, from `kill(SIGTERM)` until the
  daemon has exited (seen through a pidfd) and been reaped; none of its N programs may be
  left alive.

The table gives the median and the min-max of the repetitions. Each "growth" line divides
a metric by N (memory per program is per program already) and sets each size beside the
smallest: a per-program cost at the largest size more than 1.5 times that at the smallest is
flagged as growing worse than linearly. The JSON (default bench/results/scale.json) holds
every sample, the growth figures, the machine (cores, memory, load average at the start and
the end, kernel, Pythons) and the versions of both sides.

Each daemon holds about FDS_PER_PROGRAM descriptors per program (its ends of three pipes and
two log files, measured on both sides), so before anything starts the largest size is checked
against `ulimit -n`: a daemon raises its own limit to `minfds`, the hard limit too when it is
privileged; when it could not, the run stops and says which size does not fit. Every wait has
a deadline that grows with N. Every process started is ended through the process group or
the pid this module created (the daemons in sessions of their own, their orphaned programs by
the workspace's sweep, bench being their subreaper); Ctrl-C or SIGTERM stops the run, ends
them, and still prints and writes what was measured. Exit status: 0, 1 when a measurement
failed (listed under the table and in the JSON), 2 when the run could not start, 130 when
interrupted.

Run `python -m compileall -q vigil` first (`make bench-scale` does), as for `make bench`: an
editable install under PYTHONDONTWRITEBYTECODE would otherwise compile vigil at every start.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import importlib.util
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any

import psutil

from bench.daemons import (
    ROOT,
    RunningLines,
    Side,
    config_text,
    ctl_command,
    daemon_command,
    supervisor_executable,
    workspace,
)
from bench.machine import cpu_model, describe_machine, vigil_version
from bench.processes import become_subreaper, end_descendants, kill_group_and_leader, wait_exit
from bench.report import number, write_json
from bench.rpc import RpcClient
from bench.waiting import BenchError, wait_for
from bench.workloads.base import SLEEP, sleepers
from bench.workloads.floor import spawn_loop

DEFAULT_SIZES = (1000, 2000, 5000, 10000)
DEFAULT_REPS = 3
DEFAULT_SUPERVISOR_UP_TO = 2000
SMOKE_SIZES = (20, 40)
DEFAULT_JSON = ROOT / "bench" / "results" / "scale.json"
BASELINE_PROGRAMS = 10
FDS_PER_PROGRAM = 5  # the daemon's ends of stdin, stdout and stderr pipes; two log files
FD_HEADROOM = 512  # main log, listeners and their connections, the event loop, imports
DEFAULT_MINFDS = 1024  # both sides' default, kept where it is enough
SETTLE = 1.0  # seconds between the status call and reading RSS at rest
LOG_POLL = 0.002
CHECK_INTERVAL = 0.05
DEADLINE_BASE = 60.0
DEADLINE_PER_PROGRAM = 0.1  # seconds: Supervisor needs about 0.01 per program to start them
NONLINEAR = 1.5
SUCCESS = 80  # Faults.SUCCESS in the result structs of the *AllProcesses calls
SIDE_NAMES = {Side.FLOOR: "floor", Side.VIGIL: "vigil", Side.SUPERVISOR: "Supervisor 4.3.0"}
DAEMON_ORDER = (Side.SUPERVISOR, Side.VIGIL)


@dataclass(frozen=True)
class Metric:
    """One figure: its samples are stored in `unit`, shown multiplied by `scale` in `shown`."""

    key: str
    label: str
    unit: str
    shown: str
    scale: float
    digits: int
    growth: str | None  # "per_program": divided by N; "value": per program already; None


METRICS = (
    Metric("floor_s", "floor: Popen loop", "s", "ms", 1000, 0, "per_program"),
    Metric("start_s", "start to N RUNNING", "s", "ms", 1000, 0, "per_program"),
    Metric("start_over_floor", "start ÷ floor", "ratio", "×", 1, 2, None),
    Metric("status_s", "supervisorctl status", "s", "ms", 1000, 0, "per_program"),
    Metric("rss_mib", "RSS at rest", "MiB", "MiB", 1, 1, None),
    Metric("memory_per_program_kib", "memory per program", "KiB", "KiB", 1, 1, "value"),
    Metric("getallprocessinfo_s", "getAllProcessInfo, new connection", "s", "ms", 1000, 1,
           "per_program"),
    Metric("stop_all_s", "stopAllProcesses(wait=True)", "s", "ms", 1000, 0, "per_program"),
    Metric("start_all_s", "startAllProcesses(wait=True)", "s", "ms", 1000, 0, "per_program"),
    Metric("sigterm_s", "SIGTERM to exit (reaped)", "s", "ms", 1000, 0, "per_program"),
)  # fmt: skip
BY_KEY = {metric.key: metric for metric in METRICS}

Samples = dict[str, dict[int, float]]  # metric -> repetition -> value
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


def run_in_session(command: list[str], cwd: Path, timeout: float) -> tuple[int, bytes, bytes]:
    """(exit status, stdout, stderr) of a command run in a session of its own; at the
    deadline, or when we are interrupted, its process group is ended."""
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(command)} did not finish within {timeout:g} s") from None
    finally:
        if proc.returncode is None:
            kill_group_and_leader(proc.pid)
            proc.wait()
    return proc.returncode, stdout, stderr


class Fleet:
    """One daemon of one side with `count` sleepers in a workspace; a context manager that
    always ends it (SIGKILL to the session it was started in) and reaps it."""

    def __init__(self, side: Side, workdir: Path, count: int) -> None:
        self.side = side
        self.workdir = workdir
        self.count = count
        self.conf = workdir / "supervisord.conf"
        self.sock = workdir / "supervisor.sock"
        self.mainlog = workdir / "supervisord.log"
        self.conf.write_text(scale_config(workdir, count))
        self.proc: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    def __enter__(self) -> Fleet:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        proc = self.proc
        if proc is not None and proc.returncode is None:
            kill_group_and_leader(proc.pid)  # its programs, orphaned to us: the workspace's sweep
            proc.wait()
        if self._output is not None:
            self._output.close()
            self._output = None

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise BenchError(f"{self.side} daemon was never started")
        return self.proc.pid

    def what(self, doing: str) -> str:
        return f"{self.side} with {self.count} programs: {doing}"

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            try:
                tail = (self.workdir / "daemon.out").read_bytes()[-600:].decode(errors="replace")
            except OSError:
                tail = ""
            raise BenchError(
                self.what(f"the daemon exited with {self.proc.returncode}: ")
                + (tail.strip() or "(no output)")
            )

    def launch(self) -> float:
        """Seconds from launching the daemon until its main log reports all programs RUNNING."""
        lines = RunningLines(self.mainlog)
        self._output = open(self.workdir / "daemon.out", "wb")  # noqa: SIM115
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            daemon_command(self.side, self.conf),
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

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

    def client(self) -> RpcClient:
        return RpcClient(str(self.sock), timeout=deadline(self.count))

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
        fleet.launch()
        fleet.status()
        return fleet.rss_at_rest()


def measure_fleet(
    side: Side, count: int, record: Record, *, floor: float | None, baseline: float | None
) -> None:
    """Every metric of one side at one size, each recorded as soon as it is taken, so that
    the figures before a failure are kept."""
    with fleet_in_workspace(side, count) as fleet:
        record("start_s", start := fleet.launch())
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


@dataclass
class Run:
    """What is measured and what was: samples per size and side, the RSS baseline of each
    side per repetition, and the reason for each measurement that failed."""

    sizes: tuple[int, ...]
    reps: int
    supervisor_up_to: int
    samples: dict[int, dict[Side, Samples]] = field(default_factory=dict)
    baseline: dict[Side, dict[int, float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    interrupted: bool = False

    def __post_init__(self) -> None:
        self.samples = {count: {side: {} for side in Side} for count in self.sizes}
        self.baseline = {side: {} for side in DAEMON_ORDER}

    def sides_at(self, count: int) -> list[Side]:
        """The daemons measured with `count` programs, in the order they run."""
        return [
            side for side in DAEMON_ORDER if side is Side.VIGIL or count <= self.supervisor_up_to
        ]

    def daemon_sides(self) -> list[Side]:
        return [side for side in DAEMON_ORDER if any(side in self.sides_at(n) for n in self.sizes)]

    def measure(self) -> None:
        """Every repetition: each side's baseline, then per size the floor and the daemons.
        Stops early, keeping what was measured, on KeyboardInterrupt (SIGTERM included)."""
        try:
            for rep in range(1, self.reps + 1):
                self._repetition(rep)
        except KeyboardInterrupt:
            self.interrupted = True
            _progress("interrupted: ending every process started, reporting what we have")
        finally:
            end_descendants()

    def _repetition(self, rep: int) -> None:
        for side in self.daemon_sides():
            self._attempt(
                rep, BASELINE_PROGRAMS, side, functools.partial(self._baseline, rep, side)
            )
        for count in self.sizes:
            self._attempt(rep, count, Side.FLOOR, functools.partial(self._floor, rep, count))
            floor = self.samples[count][Side.FLOOR].get("floor_s", {}).get(rep)
            for side in self.sides_at(count):
                action = functools.partial(
                    measure_fleet,
                    side,
                    count,
                    functools.partial(self._record, count, side, rep),
                    floor=floor,
                    baseline=self.baseline[side].get(rep),
                )
                self._attempt(rep, count, side, action)

    def _baseline(self, rep: int, side: Side) -> None:
        self.baseline[side][rep] = measure_baseline(side)

    def _floor(self, rep: int, count: int) -> None:
        self._record(count, Side.FLOOR, rep, "floor_s", spawn_loop(count))

    def _record(self, count: int, side: Side, rep: int, key: str, value: float) -> None:
        self.samples[count][side].setdefault(key, {})[rep] = value

    def of(self, count: int, side: Side, key: str) -> list[float]:
        """The samples of one metric, in the order of the repetitions."""
        return list(self.samples[count][side].get(key, {}).values())

    def _attempt(self, rep: int, count: int, side: Side, action: Callable[[], None]) -> None:
        started = time.monotonic()
        outcome = "ok"
        try:
            action()
        except Exception as exc:  # an RPC fault, a refused connection: report it, carry on
            reason = str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"
            outcome = f"FAILED: {reason}"
            self.problems.append(f"repetition {rep}, {count} programs, {side}: {reason}")
        elapsed = time.monotonic() - started
        what = "baseline" if count == BASELINE_PROGRAMS else f"{count:>6}"
        _progress(f"[{rep}/{self.reps}] {what:>8} {side:<10} {elapsed:7.1f} s  {outcome}")


def _repetitions(reps: int) -> str:
    return f"{reps} repetition{'s' if reps > 1 else ''}"


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def summary(samples: list[float]) -> dict[str, float]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def cell(samples: list[float] | None, metric: Metric) -> str:
    if not samples:
        return "missing"
    values = [sample * metric.scale for sample in samples]
    median = f"{statistics.median(values):.{metric.digits}f}"
    if len(values) == 1:
        return median
    return f"{median} ({min(values):.{metric.digits}f}–{max(values):.{metric.digits}f})"


def growth(run: Run) -> dict[str, dict[str, dict[str, Any]]]:
    """Per metric and side: the per-program cost (the median divided by N, or the median of
    a per-program figure) at each size, relative to the smallest size measured."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for metric in METRICS:
        if metric.growth is None:
            continue
        for side in (Side.FLOOR, *DAEMON_ORDER):
            medians = {
                count: statistics.median(samples)
                for count in run.sizes
                if (samples := run.of(count, side, metric.key))
            }
            if len(medians) < 2:
                continue
            per_program = {
                count: value / count if metric.growth == "per_program" else value
                for count, value in medians.items()
            }
            smallest, largest = min(per_program), max(per_program)
            base = per_program[smallest]
            relative = {
                count: value / base if base > 0 else None for count, value in per_program.items()
            }
            last = relative[largest]
            found.setdefault(metric.key, {})[str(side)] = {
                "per_program": {str(count): value for count, value in per_program.items()},
                "per_program_unit": metric.unit
                if metric.growth == "value"
                else f"{metric.unit}/program",
                "relative_to_smallest": {str(count): value for count, value in relative.items()},
                "smallest": smallest,
                "largest": largest,
                "worse_than_linear": last is not None and last > NONLINEAR,
            }
    return found


def print_report(run: Run, grown: dict[str, dict[str, dict[str, Any]]]) -> None:
    width = 30
    repetitions = _repetitions(run.reps)
    floor_metric = BY_KEY["floor_s"]
    for count in run.sizes:
        sides = [side for side in (Side.VIGIL, Side.SUPERVISOR) if side in run.sides_at(count)]
        floor = cell(run.of(count, Side.FLOOR, "floor_s"), floor_metric)
        print(f"\n{count} programs, {repetitions}; median (min–max)")
        print(f"floor, a plain Popen loop of the same sleepers: {floor} {floor_metric.shown}")
        print(f"{'metric':38}" + "".join(f"{SIDE_NAMES[side]:>{width}}" for side in sides))
        for metric in METRICS:
            if metric.key == "floor_s":
                continue
            label = metric.label.replace("N RUNNING", f"{count} RUNNING")
            cells = [cell(run.of(count, side, metric.key), metric) for side in sides]
            print(f"{label + ', ' + metric.shown:38}" + "".join(f"{c:>{width}}" for c in cells))
    baselines = ", ".join(
        f"{SIDE_NAMES[side]} {cell(list(run.baseline[side].values()), BY_KEY['rss_mib'])} MiB"
        for side in run.daemon_sides()
    )
    print(f"\nRSS at rest with {BASELINE_PROGRAMS} programs (the baseline): {baselines}")
    print(
        f"\ngrowth: cost per program at each size (time in µs, memory in KiB), × that at the "
        f"smallest size; flagged above {NONLINEAR}× at the largest"
    )
    for metric in METRICS:
        for side, figures in grown.get(metric.key, {}).items():
            steps = []
            for size, value in figures["per_program"].items():
                shown = value * 1e6 if metric.growth == "per_program" else value
                relative = figures["relative_to_smallest"][size]
                ratio = "" if relative is None else f" ×{relative:.2f}"
                steps.append(f"{size}: {number(shown)}{ratio}")
            flag = "  WORSE THAN LINEAR" if figures["worse_than_linear"] else ""
            name = SIDE_NAMES[Side(side)]
            print(f"  {metric.label:36} {name:17} " + "   ".join(steps) + flag)
    if run.problems:
        print("\nNot measured or failed:")
        print("\n".join(f"- {problem}" for problem in run.problems))


def stale_bytecode() -> int:
    """How many of vigil's modules have no valid byte-code cache (each daemon start would
    compile them under PYTHONDONTWRITEBYTECODE)."""
    stale = 0
    for source in (ROOT / "vigil").rglob("*.py"):
        try:
            stat = source.stat()
            cached = Path(importlib.util.cache_from_source(str(source)))
            with cached.open("rb") as file:
                header = file.read(16)
        except (OSError, ValueError):
            stale += 1
            continue
        flags = int.from_bytes(header[4:8], "little")
        mtime = int.from_bytes(header[8:12], "little")
        size = int.from_bytes(header[12:16], "little")
        if len(header) < 16 or (
            flags == 0
            and (mtime != int(stat.st_mtime) & 0xFFFFFFFF or size != stat.st_size & 0xFFFFFFFF)
        ):
            stale += 1
    return stale


def machine(need_supervisor: bool) -> dict[str, Any]:
    """bench.machine's description, the open-file limits and the vigil tree measured."""
    if need_supervisor:
        found = describe_machine()
    else:
        try:
            found = describe_machine()
        except BenchError:
            found = {
                "cpu": cpu_model(),
                "cores": os.cpu_count(),
                "memory_gib": round(psutil.virtual_memory().total / (1 << 30), 1),
                "kernel": f"{platform.system()} {platform.release()}",
                "python": platform.python_version(),
                "python_supervisor": None,
                "supervisor": None,
                "vigil": vigil_version(),
                "load_average_start": [round(load, 2) for load in os.getloadavg()],
            }
    found["ulimit_n"] = list(resource.getrlimit(resource.RLIMIT_NOFILE))
    try:
        _, head, _ = run_in_session(["git", "rev-parse", "HEAD"], ROOT, 30.0)
        _, changed, _ = run_in_session(["git", "status", "--porcelain", "--", "vigil"], ROOT, 30.0)
        found["vigil_commit"] = head.decode().strip()
        found["vigil_tree_modified"] = bool(changed.strip())
    except (OSError, BenchError):
        found["vigil_commit"] = None
    found["vigil_stale_bytecode_modules"] = stale_bytecode()
    return found


def document(run: Run, meta: dict[str, Any], grown: dict[str, Any]) -> dict[str, Any]:
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for count in run.sizes:
        for side in (Side.FLOOR, *run.sides_at(count)):
            results.setdefault(str(count), {})[str(side)] = {
                key: {
                    "samples": list(by_rep.values()),
                    "repetitions": list(by_rep),
                    **summary(list(by_rep.values())),
                }
                for key, by_rep in run.samples[count][side].items()
                if by_rep
            }
    return {
        **meta,
        "interrupted": run.interrupted,
        "metrics": [
            {"key": m.key, "label": m.label, "unit": m.unit, "growth": m.growth} for m in METRICS
        ],
        "baseline_rss_mib": {
            str(side): {
                "programs": BASELINE_PROGRAMS,
                "samples": list(run.baseline[side].values()),
                "repetitions": list(run.baseline[side]),
            }
            for side in run.daemon_sides()
        },
        "results": results,
        "growth": grown,
        "problems": run.problems,
    }


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = sorted({int(word) for word in text.split(",") if word.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not sizes or sizes[0] <= BASELINE_PROGRAMS:
        raise argparse.ArgumentTypeError(
            f"sizes must be above {BASELINE_PROGRAMS}, the programs of the memory baseline"
        )
    return tuple(sizes)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", type=_sizes, metavar="N,N,...", help=f"default {DEFAULT_SIZES}")
    parser.add_argument("--reps", type=_count, help=f"repetitions, default {DEFAULT_REPS}")
    parser.add_argument(
        "--supervisor-up-to",
        type=_count,
        default=DEFAULT_SUPERVISOR_UP_TO,
        metavar="N",
        help="measure Supervisor 4.3.0 at the sizes up to N only (0: never)",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH")
    parser.add_argument(
        "--smoke", action="store_true", help=f"sizes {SMOKE_SIZES}, one repetition: does it run"
    )
    args = parser.parse_args(argv)
    if args.smoke and (args.sizes is not None or args.reps is not None):
        parser.error("--smoke sets the sizes and repetitions itself")
    if args.reps == 0:
        parser.error("--reps must be at least 1")
    args.sizes = SMOKE_SIZES if args.smoke else args.sizes or DEFAULT_SIZES
    args.reps = 1 if args.smoke else args.reps or DEFAULT_REPS
    return args


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace, argv: list[str]) -> int:
    measured = Run(args.sizes, args.reps, args.supervisor_up_to)
    need_supervisor = Side.SUPERVISOR in measured.daemon_sides()
    if need_supervisor:
        supervisor_executable("python")  # fails now, with how to install it, if it is missing
    check_fd_limit(args.sizes)
    about = machine(need_supervisor)
    if about["vigil_stale_bytecode_modules"]:
        _progress(
            f"warning: {about['vigil_stale_bytecode_modules']} of vigil's modules have no "
            "up-to-date byte-code, so every vigil start compiles them: run "
            "`python -m compileall -q vigil` first (`make bench-scale` does)"
        )
    become_subreaper()  # programs orphaned by a killed daemon become ours, and are swept
    started, clock = _now(), time.monotonic()
    _progress(
        f"bench.scale: sizes {', '.join(map(str, args.sizes))}, {_repetitions(args.reps)}, "
        f"Supervisor up to {args.supervisor_up_to}"
    )
    measured.measure()
    about["load_average_end"] = [round(load, 2) for load in os.getloadavg()]
    grown = growth(measured)
    meta = {
        "command": " ".join(["python -m bench.scale", *argv]),
        "mode": "smoke" if args.smoke else "full",
        "started": started,
        "finished": _now(),
        "duration_s": round(time.monotonic() - clock, 1),
        "settings": {
            "sizes": list(args.sizes),
            "reps": args.reps,
            "supervisor_up_to": args.supervisor_up_to,
            "baseline_programs": BASELINE_PROGRAMS,
            "settle_s": SETTLE,
            "fds_per_program": FDS_PER_PROGRAM,
            "fd_headroom": FD_HEADROOM,
            "deadline_s": f"{DEADLINE_BASE:g} + {DEADLINE_PER_PROGRAM:g} per program",
            "nonlinear_factor": NONLINEAR,
            "order": "per repetition: baselines (Supervisor, vigil), then per size the floor, "
            "Supervisor, vigil",
        },
        "machine": about,
    }
    print_report(measured, grown)
    write_json(args.json, document(measured, meta, grown))
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
        print(f"python -m bench.scale: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        end_descendants()
        print("python -m bench.scale: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
