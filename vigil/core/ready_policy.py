"""What makes a process ready, as data for the machine (issue 14).

Without ``ready`` a process is ready once it has stayed up for startsecs (Supervisor's rule)
and the machine decides alone. With a probe the machine waits for a `ready` input from
outside (a probe that succeeded, an sd_notify READY=1), no longer than `timeout`; the probing
itself never runs in the machine. `watchdog` asks for a sign of life (WATCHDOG=1) at least
that often while RUNNING.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config.model import ProcessConfig


@dataclass(frozen=True)
class ReadyPolicy:
    probe: str | None = None  # the ready option as written; None: startsecs
    timeout: float = 60.0
    watchdog: float = 0.0  # seconds; 0: no watchdog

    @classmethod
    def of(cls, config: ProcessConfig) -> ReadyPolicy:
        probe = None if config.ready is None else str(config.ready)
        return cls(probe, config.ready_timeout, config.watchdog_sec)

    @property
    def waits(self) -> bool:
        """Whether RUNNING waits for a ready input instead of startsecs."""
        return self.probe is not None
