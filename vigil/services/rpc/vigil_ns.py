"""The ``vigil.*`` namespace: what vigil offers beyond Supervisor's interface, over XML-RPC.

Kept apart from ``supervisor.*`` so that a client written for Supervisor sees exactly its
methods there, and a client can tell a vigil daemon by ``vigil.*`` being there at all.
Structs carry only what XML-RPC can: a figure that is not known is left out rather than sent
as nil, and sizes are doubles (an <int> stops at 2 GiB).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vigil.core.naming import make_namespec
from vigil.faults import Faults, RPCError
from vigil.runtime.process import ProcessRunner
from vigil.runtime.supervisor import Supervisor
from vigil.services.history import ProcessHistory
from vigil.services.resources import ResourceReader
from vigil.services.rpc.process_control import ProcessLookup, Result, result
from vigil.services.rpc.registry import published

ALL = "all"


class VigilNamespace(ProcessLookup):
    def __init__(
        self,
        supervisor: Supervisor,
        resources: ResourceReader,
        history: ProcessHistory,
        reopen_main_log: Callable[[], None],
    ) -> None:
        self.supervisor = supervisor
        self._resources = resources
        self._history = history
        self._reopen_main_log = reopen_main_log

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
