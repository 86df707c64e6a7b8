"""The shape of a workload family, and the programs the families have in common.

A family records samples into the `Measured` it is handed as it goes, so that when one case
of a family fails the samples of the cases before it are kept and the failure is reported
beside them instead of wiping the family out.
"""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from bench.daemons import Daemon, Side, program_section
from bench.metrics import Measured, Metric
from bench.profiles import Sizes
from bench.waiting import wait_for

SLEEP = shutil.which("sleep") or "/bin/sleep"


class Unavailable(Exception):
    """This side cannot be measured at all (a tool does not exist): a missing figure, not a
    failure of the measurement."""


class Family(ABC):
    """A named family of figures (what the table groups by)."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes

    @abstractmethod
    def metrics(self) -> list[Metric]: ...

    def metric(self, key: str, label: str, unit: str, **flags: bool) -> Metric:
        return Metric(f"{self.name}.{key}", self.name, label, unit, **flags)


class Workload(Family):
    """A family of measurements taken on daemons it starts itself."""

    @abstractmethod
    def measure(self, side: Side, out: Measured) -> None: ...

    def measure_floor(self, out: Measured) -> None:
        """The plain-Python floor beside the daemons, for families that have one."""


class FleetWorkload(Family):
    """A family measured on the shared fleet: one daemon per side and repetition, with
    `fleet_programs` RUNNING sleepers, so that the costly start of hundreds of programs is
    paid once for the rest, api and cli families together."""

    @abstractmethod
    def measure_on(self, daemon: Daemon, out: Measured) -> None: ...


def _sleeping(daemon: Daemon, count: int) -> bool:
    infos: list[dict[str, Any]] = daemon.call("supervisor.getAllProcessInfo")
    pids = [info["pid"] for info in infos if info["statename"] == "RUNNING"]
    if len(pids) != count:
        return False
    for pid in pids:
        try:
            if not Path(f"/proc/{pid}/cmdline").read_bytes().startswith(SLEEP.encode()):
                return False
        except OSError:
            return False
    return True


def wait_sleeping(daemon: Daemon, count: int, timeout: float = 60.0) -> None:
    """Wait until all `count` sleepers have really exec'd `sleep`, not only been forked.

    RUNNING with startsecs=0 can be reported between fork and exec. A SIGTERM that lands in
    that window is lost on Supervisor 4.3.0 (the child still runs the daemon's handlers,
    which only take note) and the stop then waits stopwaitsecs for SIGKILL: a real race, but
    measuring it would turn the stop figures into a lottery.
    """
    wait_for(
        lambda: _sleeping(daemon, count),
        timeout=timeout,
        what=f"{daemon.side}: {count} programs to be running sleep",
    )


def sleepers(count: int, *, startsecs: int = 0, autostart: bool = True) -> str:
    """`count` instances of one program that sleeps until it is stopped."""
    return program_section(
        "sleeper",
        {
            "command": f"{SLEEP} 1000",
            "numprocs": count,
            "process_name": "%(program_name)s_%(process_num)03d",
            "startsecs": startsecs,
            "autostart": str(autostart).lower(),
            "autorestart": "false",
        },
    )
