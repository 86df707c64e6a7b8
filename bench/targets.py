"""The goals vigil sets itself against Supervisor 4.3.0 and the plain-Python floors.

Each goal is a minimum "advantage": how many times better vigil's median is than the other
side's median in the same run (time: theirs / ours; throughput: ours / theirs). "At most a
tenth of the CPU" is an advantage of 10; "within 2x of the plain loop" is an advantage of 0.5
over the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.daemons import Side
from bench.metrics import Results, advantage


@dataclass(frozen=True)
class Target:
    metric: str
    against: Side  # Side.SUPERVISOR or Side.FLOOR
    at_least: float  # the advantage vigil must have
    text: str

    def evaluate(self, results: Results) -> tuple[float | None, bool | None]:
        """(vigil's advantage, whether the target is met); None where a figure is missing."""
        metric = results.metric(self.metric)
        if metric is None:
            return None, None
        ours = results.summary(self.metric, Side.VIGIL)
        theirs = results.summary(self.metric, self.against)
        if ours is None or theirs is None:
            return None, None
        value = advantage(metric, ours.median, theirs.median)
        return value, value >= self.at_least


TARGETS = (
    Target("reaction.quiet", Side.SUPERVISOR, 50.0, "≥ 50x faster"),
    Target("start.n500.startsecs0", Side.SUPERVISOR, 3.0, "≥ 3x faster"),
    Target("start.n500.startsecs0", Side.FLOOR, 0.5, "≤ 2x the spawn loop"),
    Target("start.stop_all", Side.SUPERVISOR, 5.0, "≥ 5x faster"),
    Target("start.sigterm", Side.SUPERVISOR, 5.0, "≥ 5x faster"),
    Target("api.getallprocessinfo", Side.SUPERVISOR, 5.0, "≥ 5x faster"),
    Target("output.single", Side.SUPERVISOR, 1.5, "≥ 1.5x faster"),
    Target("output.single", Side.FLOOR, 0.8, "≥ 80% of the pipe loop"),
    Target("rest.cpu", Side.SUPERVISOR, 10.0, "≤ 1/10 of the CPU"),
    Target("rest.rss", Side.SUPERVISOR, 1.0, "≤ Supervisor's RSS"),
    Target("cli.status", Side.SUPERVISOR, 2.0, "≥ 2x faster"),
)


def targets_for(metric: str) -> list[Target]:
    return [target for target in TARGETS if target.metric == metric]
