"""A process's health from its check results, as Docker's HEALTHCHECK counts them.

Pure: the results and the time come in from outside (the runtime's probe timer), so every
rule is tested without sleeping. A process is ``starting`` until a check passes or enough
fail; ``healthcheck_retries`` failures in a row make it ``unhealthy``; one pass makes it
``healthy`` again. Failures within ``healthcheck_start_period`` of RUNNING do not count,
unless a check has passed already (then the start is over).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Health(Enum):
    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


@dataclass
class HealthTracker:
    retries: int = 3
    start_period: float = 0.0
    state: Health = Health.STARTING
    failures: int = 0  # in a row
    since: float = 0.0  # monotonic time RUNNING was entered
    passed_once: bool = False

    def reset(self, now: float) -> None:
        """A new run begins (RUNNING entered): starting again, nothing counted."""
        self.state, self.failures, self.since, self.passed_once = Health.STARTING, 0, now, False

    def record(self, passed: bool, now: float) -> Health | None:
        """One check's result at `now`; the new health when it changed, else None."""
        if passed:
            self.failures = 0
            self.passed_once = True
            return self._become(Health.HEALTHY)
        if not self.passed_once and now - self.since < self.start_period:
            return None  # still starting: not counted
        self.failures += 1
        if self.failures >= self.retries:
            return self._become(Health.UNHEALTHY)
        return None

    def _become(self, health: Health) -> Health | None:
        if health is self.state:
            return None
        self.state = health
        return health
