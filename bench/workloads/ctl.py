"""CLI: each side's supervisorctl as a whole process against its own daemon, on the fleet.

The wall time covers everything a user waits for: interpreter start, config, the calls and
the printing. Each command runs once untimed first (warming the page cache for both sides
alike) and its output is checked, so a broken client cannot post a fast time.
"""

from __future__ import annotations

import importlib.util
import subprocess
import time

from bench.daemons import Daemon, Side, ctl_command
from bench.metrics import Measured, Metric
from bench.waiting import BenchError
from bench.workloads.base import FleetWorkload, Unavailable

CTL_TIMEOUT = 120.0
VIGIL_CTL_MODULE = "vigil.ctl.main"


class CtlWorkload(FleetWorkload):
    name = "cli"
    description = "supervisorctl status and pid all as whole processes"

    def metrics(self) -> list[Metric]:
        programs = self.sizes.fleet_programs
        return [
            self.metric("status", f"supervisorctl status, {programs} programs", "s"),
            self.metric("pid_all", f"supervisorctl pid all, {programs} programs", "s"),
        ]

    def measure_on(self, daemon: Daemon, out: Measured) -> None:
        if daemon.side is Side.VIGIL and importlib.util.find_spec(VIGIL_CTL_MODULE) is None:
            raise Unavailable(f"vigil's supervisorctl ({VIGIL_CTL_MODULE}) does not exist yet")
        for key, args in (("status", ["status"]), ("pid_all", ["pid", "all"])):
            self._run(daemon, args)
            out[f"cli.{key}"] = [self._run(daemon, args) for _ in range(self.sizes.ctl_runs)]

    def _run(self, daemon: Daemon, args: list[str]) -> float:
        command = [*ctl_command(daemon.side, daemon.conf), *args]
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=CTL_TIMEOUT, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise BenchError(f"{daemon.side}: supervisorctl {' '.join(args)} hung") from None
        elapsed = time.perf_counter() - started
        self._check(daemon.side, args, done)
        return elapsed

    def _check(self, side: Side, args: list[str], done: subprocess.CompletedProcess[bytes]) -> None:
        lines = done.stdout.decode(errors="replace").splitlines()
        expected = self.sizes.fleet_programs
        if args == ["status"]:
            good = sum(" RUNNING " in f"{line} " for line in lines)
        else:
            good = sum(line.strip().isdigit() for line in lines)
        if done.returncode != 0 or good != expected or len(lines) != expected:
            problem = done.stderr.decode(errors="replace").strip()[-300:]
            shown = problem or (lines[0] if lines else "no output")
            raise BenchError(
                f"{side}: supervisorctl {' '.join(args)} exited {done.returncode} with "
                f"{good} of {expected} expected lines: {shown}"
            )
