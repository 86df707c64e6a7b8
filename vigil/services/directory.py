"""The processes as interfaces read them: snapshots, found by namespec.

The JSON API, streams and metrics read processes through this, never through runners, so
what they show is the read model's and an unknown name fails the same way everywhere (the
BAD_NAME fault XML-RPC gives).
"""

from __future__ import annotations

from collections.abc import Mapping

from vigil.config.probes import Probe
from vigil.core.naming import split_namespec
from vigil.core.snapshot import ProcessSnapshot
from vigil.core.states import SupervisorState
from vigil.faults import Faults, RPCError
from vigil.runtime.process import ProcessRunner
from vigil.runtime.supervisor import Supervisor

ALL = "all"  # the namespec of every process, as supervisorctl spells it


class ProcessDirectory:
    def __init__(self, supervisor: Supervisor) -> None:
        self._supervisor = supervisor

    def check_running(self) -> None:
        """SHUTDOWN_STATE once the daemon is stopping, as every XML-RPC read answers then."""
        if self._supervisor.mood < SupervisorState.RUNNING:
            raise RPCError(Faults.SHUTDOWN_STATE)

    def all(self) -> list[ProcessSnapshot]:
        """Every process, by group then name (getAllProcessInfo's order)."""
        self.check_running()
        groups = self._supervisor.groups
        return [
            snapshot for name in sorted(groups) for snapshot in _snapshots(groups[name].runners)
        ]

    def groups(self) -> dict[str, list[ProcessSnapshot]]:
        """Each group's processes, groups by name."""
        self.check_running()
        groups = self._supervisor.groups
        return {
            group: [
                groups[group].runners[name].snapshot() for name in sorted(groups[group].runners)
            ]
            for group in sorted(groups)
        }

    def one(self, namespec: str) -> ProcessSnapshot:
        """The process ``name`` or ``group:name``; BAD_NAME for anything else."""
        self.check_running()
        group_name, process_name = split_namespec(namespec)
        group = self._supervisor.groups.get(group_name)
        runner = None if group is None or process_name is None else group.runners.get(process_name)
        if runner is None:
            raise RPCError(Faults.BAD_NAME, namespec)
        return runner.snapshot()

    def ready_probe(self, snapshot: ProcessSnapshot) -> Probe | None:
        """The readiness probe of the snapshot's program as configured (None: startsecs, or a
        process gone since): the one fact of its configuration a reader shows beside it."""
        runner = self._supervisor.find(snapshot.group, snapshot.name)
        return None if runner is None else runner.config.ready

    def matching(self, namespec: str) -> list[ProcessSnapshot]:
        """The processes a namespec names: one, a group (``group:*``) or ``all``."""
        if namespec == ALL:
            return self.all()
        group_name, process_name = split_namespec(namespec)
        if process_name is not None:
            return [self.one(namespec)]
        group = self._supervisor.groups.get(group_name)
        if group is None:
            raise RPCError(Faults.BAD_NAME, namespec)
        return _snapshots(group.runners)


def _snapshots(runners: Mapping[str, ProcessRunner]) -> list[ProcessSnapshot]:
    return [runners[name].snapshot() for name in sorted(runners)]
