"""Health checks of one RUNNING process: a probe every healthcheck_interval, never two at
once, each abandoned at healthcheck_timeout; the results go to the pure HealthTracker, and a
change is published (PROCESS_HEALTH_*, vigil-only) and acted on (healthcheck_action).

Nothing runs for a process that is not RUNNING, and nothing at all without a healthcheck.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from vigil.config.model import HealthAction, LogLevel, ProcessConfig
from vigil.core.bus import EventBus
from vigil.core.events import ProcessHealthChanged
from vigil.core.health import Health, HealthTracker
from vigil.core.ports import MainLog
from vigil.runtime.probes import Check, FoundCommand, ProbeResult, ProbeTarget, start_check


class HealthMonitor:
    def __init__(
        self,
        config: ProcessConfig,
        loop: asyncio.AbstractEventLoop,
        target: Callable[[], ProbeTarget],
        bus: EventBus,
        log: MainLog,
        clock_time: Callable[[], float],
        restart: Callable[[str], None],
        stop: Callable[[], None],
    ) -> None:
        self._config = config
        self._loop = loop
        self._target = target
        self._bus = bus
        self._log = log
        self._time = clock_time
        self._restart = restart
        self._stop = stop
        self.state: str | None = None  # what the status shows: starting, healthy, unhealthy
        self.output: str | None = None  # what the last check saw
        self._tracker = HealthTracker(config.healthcheck_retries, config.healthcheck_start_period)
        self._timer: asyncio.TimerHandle | None = None
        self._check: Check | None = None
        self._probe_target: ProbeTarget | None = None  # made at the first check, then kept
        self._command: FoundCommand | None = None  # an exec: check's, searched once a run

    def start(self) -> None:
        """RUNNING entered: starting, first check one interval from now (as Docker)."""
        self.stop()
        self._tracker.reset(self._loop.time())
        self.state, self.output = Health.STARTING.value, None
        probe = self._config.healthcheck
        self._command = None if probe is None or not probe.command else FoundCommand(probe.command)
        self._schedule()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._check is not None:
            self._check.cancel()
            self._check = None

    def _schedule(self) -> None:
        self._timer = self._loop.call_later(self._config.healthcheck_interval, self._run)

    def _run(self) -> None:
        """One check, on callbacks (no task: see probes.CommandCheck). The program's exec
        environment is built once: it follows from its configuration alone; an exec: check's
        command is searched in PATH once a run (see probes.FoundCommand)."""
        self._timer = None
        probe = self._config.healthcheck
        assert probe is not None
        if self._probe_target is None:
            self._probe_target = self._target()
        self._check = start_check(
            probe,
            self._probe_target,
            self._config.healthcheck_timeout,
            self._checked,
            self._command,
        )

    def _checked(self, result: ProbeResult) -> None:
        self._check = None
        old = self._tracker.state
        changed = self._tracker.record(result.passed, self._loop.time())
        self.state, self.output = self._tracker.state.value, result.output
        self._schedule()
        if changed is None:
            return
        name = self._config.name
        self._log.log(
            LogLevel.INFO if changed is Health.HEALTHY else LogLevel.WARN,
            f"health: {name} is {changed.value} ({result.output})",
        )
        self._bus.publish(
            ProcessHealthChanged(
                name, self._config.group, old.value, changed.value, result.output, self._time()
            )
        )
        if changed is Health.UNHEALTHY:
            self._act(self._config.healthcheck_action, result.output)

    def _act(self, action: HealthAction, output: str) -> None:
        if action is HealthAction.RESTART:
            self._restart(f"unhealthy: {output}")
        elif action is HealthAction.STOP:
            self._log.log(LogLevel.WARN, f"stopping: {self._config.name} (unhealthy: {output})")
            self._stop()
