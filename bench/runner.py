"""Running the families side by side: A, B, A, B..., so drift of the machine hits both.

Within each repetition every family runs against Supervisor, then against vigil, then (where
it has one) its plain-Python floor. A case that fails is reported with its reason and the run
goes on: one broken figure must not cost the other forty.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from bench.daemons import DAEMON_SIDES, Daemon, Side, wait_all_running, workspace
from bench.metrics import Measured, Results
from bench.processes import end_descendants
from bench.profiles import Sizes
from bench.waiting import BenchError
from bench.workloads import fleet, standalone
from bench.workloads.base import FleetWorkload, Unavailable, sleepers

Progress = Callable[[str], None]
Action = Callable[[Measured], None]
FLEET_TIMEOUT_PER_PROGRAM = 0.5


class Runner:
    def __init__(self, sizes: Sizes, only: set[str], progress: Progress) -> None:
        self.sizes = sizes
        self.standalone = standalone(sizes, only)
        self.fleet = fleet(sizes, only)
        metrics = [m for family in self.standalone for m in family.metrics()]
        metrics += [m for family in self.fleet for m in family.metrics()]
        self.results = Results(metrics)
        self.progress = progress
        self.interrupted = False

    def run(self) -> Results:
        """Every repetition of every selected family; stops early (keeping what was measured)
        on KeyboardInterrupt, which SIGTERM is turned into as well."""
        try:
            for repetition in range(1, self.sizes.repetitions + 1):
                self._repetition(repetition)
        except KeyboardInterrupt:
            self.interrupted = True
            self.progress("interrupted: ending every process started, reporting what we have")
        finally:
            end_descendants()
        return self.results

    def _repetition(self, repetition: int) -> None:
        tag = f"[{repetition}/{self.sizes.repetitions}]"
        for family in self.standalone:
            for side in DAEMON_SIDES:
                action = functools.partial(family.measure, side)
                self._attempt(tag, family.name, side, action, sweep=True)
            if any(metric.has_floor for metric in family.metrics()):
                self._attempt(tag, family.name, Side.FLOOR, family.measure_floor, sweep=True)
        if self.fleet:
            for side in DAEMON_SIDES:
                self._on_fleet(tag, side)

    def _attempt(self, tag: str, family: str, side: Side, action: Action, *, sweep: bool) -> None:
        measured: Measured = {}
        started = time.monotonic()
        outcome = "ok"
        try:
            action(measured)
        except Unavailable as exc:
            outcome = f"missing: {exc}"
            self.results.note_problem(family, side, f"missing: {exc}")
        except BenchError as exc:
            outcome = f"FAILED: {exc}"
            self.results.note_problem(family, side, str(exc))
        except Exception as exc:  # an RPC fault, a refused connection: report it, carry on
            reason = f"{side}: {type(exc).__name__}: {exc}"
            outcome = f"FAILED: {reason}"
            self.results.note_problem(family, side, reason)
        finally:
            if sweep:
                end_descendants()
        self.results.add(side, measured)
        elapsed = time.monotonic() - started
        self.progress(f"{tag} {family:<8} {side:<10} {elapsed:6.1f} s  {outcome}")

    def _on_fleet(self, tag: str, side: Side) -> None:
        """One daemon with the fleet RUNNING, measured by every selected fleet family."""
        count = self.sizes.fleet_programs
        started = time.monotonic()
        try:
            with workspace() as tmp, Daemon(side, tmp, sleepers(count)) as daemon:
                daemon.launch()
                wait_all_running(daemon, count, 60.0 + count * FLEET_TIMEOUT_PER_PROGRAM)
                self.progress(
                    f"{tag} {'fleet':<8} {side:<10} {time.monotonic() - started:6.1f} s  "
                    f"{count} programs RUNNING"
                )
                time.sleep(self.sizes.settle_seconds)  # let start-up work die down first
                for family in self.fleet:
                    self._measure_on(tag, family, daemon)
        except Exception as exc:  # the fleet did not come up: every fleet family misses it
            reason = str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"
            for family in self.fleet:
                self.results.note_problem(family.name, side, f"fleet: {reason}")
            self.progress(f"{tag} {'fleet':<8} {side:<10} FAILED: {reason}")

    def _measure_on(self, tag: str, family: FleetWorkload, daemon: Daemon) -> None:
        action = functools.partial(family.measure_on, daemon)
        self._attempt(tag, family.name, daemon.side, action, sweep=False)
