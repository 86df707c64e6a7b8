"""bench.scale's run: per repetition each side's baseline, then per size the floor and the
daemons, every failure recorded and the run carried on.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.daemons import Side
from bench.entry import progress
from bench.processes import end_descendants
from bench.scale_fleet import BASELINE_PROGRAMS, measure_baseline, measure_fleet
from bench.waiting import BenchError
from bench.workloads.floor import spawn_loop

DAEMON_ORDER = (Side.SUPERVISOR, Side.VIGIL)

Samples = dict[str, dict[int, float]]  # metric -> repetition -> value


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
            progress("interrupted: ending every process started, reporting what we have")
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
        progress(f"[{rep}/{self.reps}] {what:>8} {side:<10} {elapsed:7.1f} s  {outcome}")


def repetitions_text(reps: int) -> str:
    return f"{reps} repetition{'s' if reps > 1 else ''}"
