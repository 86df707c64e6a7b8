"""The ``vigil.*`` namespace: what vigil offers beyond Supervisor's interface, over XML-RPC.

Kept apart from ``supervisor.*`` so that a client written for Supervisor sees exactly its
methods there, and a client can tell a vigil daemon by ``vigil.*`` being there at all.
Structs carry only what XML-RPC can: a figure that is not known is left out rather than sent
as nil, and sizes are doubles (an <int> stops at 2 GiB).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vigil.config.errors import ConfigError
from vigil.core.naming import make_namespec
from vigil.faults import Faults, RPCError
from vigil.runtime.process import ProcessRunner
from vigil.runtime.supervisor import ConfigSource, Supervisor
from vigil.services.history import ProcessHistory
from vigil.services.resources import ResourceReader
from vigil.services.rpc.process_control import ProcessControl, ProcessLookup, Result, result
from vigil.services.rpc.registry import published

if TYPE_CHECKING:  # loaded at the first roll, update or scale: most daemons never make one
    from vigil.services.rolling import Rolls
    from vigil.services.scaling import Scaler
    from vigil.services.updates import GroupUpdates

ALL = "all"


class _Control(ProcessControl):
    """supervisor.*'s process control, for the rolls, updates and scales made here."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor


class VigilNamespace(ProcessLookup):
    def __init__(
        self,
        supervisor: Supervisor,
        resources: ResourceReader,
        history: ProcessHistory,
        reopen_main_log: Callable[[], None],
        config_source: ConfigSource,
    ) -> None:
        self.supervisor = supervisor
        # what rereads the files: update and scale change groups to what they say
        self._config_source = config_source
        self._resources = resources
        self._history = history
        self._reopen_main_log = reopen_main_log
        # stops and starts as supervisor.stopProcess and startProcess make them
        self._control = _Control(supervisor)

    @functools.cached_property
    def _rolls(self) -> Rolls:
        from vigil.services.rolling import Rolls

        return Rolls(self._control, self.supervisor)

    @functools.cached_property
    def _updates(self) -> GroupUpdates:
        from vigil.services.updates import GroupUpdates

        return GroupUpdates(self.supervisor, self._control, self._rolls)

    @functools.cached_property
    def _scaler(self) -> Scaler:
        from vigil.services.scaling import Scaler

        return Scaler(self.supervisor, self._control, self._config_source)

    def _named(self, name: str) -> list[ProcessRunner]:
        """One process, a group (``group:*`` or ``group:``) or ``all``; BAD_NAME otherwise."""
        if name == ALL:
            return self._all_runners()
        group, runner = self._lookup(name)
        return self._group_runners(group) if runner is None else [runner]

    @published
    async def reopenLogs(self, name: str) -> list[Result]:
        """Reopen the log files of a process, a group or all, by their paths: after an
        external rotation (logrotate's mv), output goes to a new file at the configured path.
        Nothing is restarted. 'all' reopens the main log too, as SIGUSR2 does.

        @param string name The process name, 'group:*' or 'all'
        @return array result An array of process status info structs
        """
        self._check_running()
        runners = self._named(name)
        if name == ALL:
            self._reopen_main_log()
        results = []
        for runner in runners:
            runner.reopen_logs()
            results.append(result(runner))
        return results

    @published
    async def getProcessStats(self) -> list[dict[str, Any]]:
        """What each process costs, read now: CPU (percent since the previous reading,
        seconds), resident memory and open descriptors of its tree and of its main process,
        the number of processes in its tree, and its restarts. A figure that is not known
        (no child) is left out.

        @return array result An array of structs, one per process
        """
        self._check_running()
        snapshots = [runner.snapshot() for runner in self._all_runners()]
        figures = self._resources.read(snapshots, complete=True)
        records = []
        for snapshot in snapshots:
            known = figures[(snapshot.group, snapshot.name)]
            record: dict[str, Any] = {
                "name": snapshot.name,
                "group": snapshot.group,
                "restarts": snapshot.restarts,
                "processes": known.processes,
            }
            for key, value in (
                ("cpu_percent", known.cpu_percent),
                ("cpu_seconds", known.cpu_seconds),
                ("rss_bytes", known.rss_bytes),
                ("rss_bytes_main", known.rss_bytes_main),
                ("open_fds", known.open_fds),
            ):
                if value is not None:
                    record[key] = value if key in ("open_fds",) else float(value)
            records.append(record)
        return records

    @published
    async def getProcessHistory(self, name: str) -> list[dict[str, Any]]:
        """The last state changes of one process, oldest first, with their causes.

        @param string name The process name (or 'group:name')
        @return array result An array of structs (at, from, to, pid, reason)
        """
        self._check_running()
        _, runner = self._lookup(name)
        if runner is None:
            raise RPCError(Faults.BAD_NAME, name)
        changes = []
        for change in self._history.of(runner.group, runner.name):
            entry: dict[str, Any] = {
                "namespec": make_namespec(runner.group, runner.name),
                "at": change.at,
                "from": change.old.name,
                "to": change.new.name,
                "pid": change.pid,
            }
            if change.reason is not None:
                entry["reason"] = change.reason
            changes.append(entry)
        return changes

    @published
    async def restartRolling(self, name: str, batch: int = 1, pause: float = 0) -> dict[str, Any]:
        """Restart processes a batch at a time: the next batch is stopped only once the
        previous one is RUNNING again (ready, and healthy when a health check is set), after
        pause seconds. The first process that does not come back ends it: the ones not
        reached yet are left running as they were.

        @param string name The process name, 'group:*' or 'all'
        @param int batch How many processes at a time (1 unless given)
        @param double pause Seconds to wait between batches (0 unless given)
        @return struct result name, done, restarted, failed, reason, untouched, steps
        """
        self._check_running()
        from vigil.services.rolling import RollPlan, roll_document

        plan = RollPlan(batch, pause)
        members = self._rolls.members(name)
        return roll_document(await self._rolls.roll(name, members, plan))

    @published
    async def updateProcessGroup(self, name: str) -> dict[str, Any]:
        """Apply the configuration as last read (reloadConfig) to one running group, as its
        options ask: process by process when it rolls (update_strategy = rolling), takes
        changes in place ([supervisord] update_in_place) or was scaled; otherwise as
        Supervisor's update does (stopped, removed, added again).

        @param string name The group name
        @return struct result name, how, done, failed, reason, kept, added, removed, steps
        """
        self._check_running()
        source = self._config_source
        from vigil.services.rolling import RollPlan

        outcome = await self._updates.update(name, source.config, RollPlan())
        return outcome.document()

    @published
    async def getConfigChanges(self, reread: bool = False) -> dict[str, Any]:
        """What update would do, group by group: the groups added, changed and removed, and
        for each changed group how it would be updated, which of its processes would take
        their changes in place ([supervisord] update_in_place) and which would restart.

        @param boolean reread Read the files now without keeping them (true), or take them as
        last read by reloadConfig (false, the default)
        @return struct changes added, changed, removed, update_in_place, groups
        """
        from vigil.services.updates import describe_changes

        self._check_running()
        source = self._config_source
        if not reread:
            return describe_changes(self.supervisor, source.config)
        try:
            config = source.reread()
        except ConfigError as exc:
            raise RPCError(Faults.CANT_REREAD, str(exc)) from None
        return describe_changes(self.supervisor, config)

    @published
    async def scaleProcessGroup(self, name: str, numprocs: int) -> dict[str, Any]:
        """Give the group of a [program:x] numprocs instances: new ones built from the
        configuration file with the next process_num values and started, those above the
        number stopped (the highest first) and removed; the others are not touched. Lasts
        until the next update.

        @param string name The group name
        @param int numprocs How many instances
        @return struct result name, numprocs, done, failed, added, removed, steps
        """
        self._check_running()
        return (await self._scaler.scale(name, numprocs)).document()
