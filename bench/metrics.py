"""What a figure is (Metric), its samples per side (Results), and their summary (Summary)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from bench.daemons import Side

Measured = dict[str, list[float]]  # metric name -> samples taken by one case


@dataclass(frozen=True)
class Metric:
    name: str  # stable key in the JSON, e.g. "start.n500.startsecs0"
    family: str  # the workload that measures it
    label: str  # what a reader of the table sees
    unit: str
    higher_is_better: bool = False
    has_floor: bool = False  # a plain-Python floor is measured beside the two daemons
    vigil_only: bool = False  # uses what Supervisor does not have: no figure of its own


@dataclass(frozen=True)
class Summary:
    count: int
    mean: float  # beside the median for the bimodal figures (Supervisor's 1 s poll)
    median: float
    minimum: float
    maximum: float
    q1: float
    q3: float

    @classmethod
    def of(cls, samples: list[float]) -> Summary | None:
        if not samples:
            return None
        ordered = sorted(samples)
        if len(ordered) >= 2:
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            q1 = q3 = ordered[0]
        return cls(
            count=len(ordered),
            mean=statistics.fmean(ordered),
            median=statistics.median(ordered),
            minimum=ordered[0],
            maximum=ordered[-1],
            q1=q1,
            q3=q3,
        )


def advantage(metric: Metric, vigil: float, other: float) -> float:
    """How many times better vigil's figure is than `other` (above 1: vigil is better).

    Zero is a real reading (no CPU tick in the window): nothing against something is an
    infinite advantage, nothing against nothing is a tie.
    """
    better, worse = (vigil, other) if metric.higher_is_better else (other, vigil)
    if worse <= 0:
        return math.inf if better > 0 else 1.0
    return better / worse


@dataclass
class Results:
    """Samples of every metric for every side, and why a side has none when it has none."""

    metrics: list[Metric]
    samples: dict[str, dict[Side, list[float]]] = field(default_factory=dict)
    problems: dict[str, dict[Side, list[str]]] = field(default_factory=dict)

    def metric(self, name: str) -> Metric | None:
        return next((metric for metric in self.metrics if metric.name == name), None)

    def sides_of(self, metric: Metric) -> tuple[Side, ...]:
        if metric.has_floor:
            return (Side.SUPERVISOR, Side.VIGIL, Side.FLOOR)
        return (Side.SUPERVISOR, Side.VIGIL)

    def add(self, side: Side, measured: Measured) -> None:
        for name, values in measured.items():
            if self.metric(name) is None:
                raise ValueError(f"no metric named {name!r}")
            self.samples.setdefault(name, {}).setdefault(side, []).extend(values)

    def note_problem(self, family: str, side: Side, reason: str) -> None:
        reasons = self.problems.setdefault(family, {}).setdefault(side, [])
        if reason not in reasons:
            reasons.append(reason)

    def of(self, name: str, side: Side) -> list[float]:
        return self.samples.get(name, {}).get(side, [])

    def summary(self, name: str, side: Side) -> Summary | None:
        return Summary.of(self.of(name, side))
