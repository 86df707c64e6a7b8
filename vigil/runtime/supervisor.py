"""The set of running groups: start order, ordered shutdown, adding and removing groups.

Priority orders start (ascending) and shutdown (descending, one group at a time, each group
stopped completely before the next), as Supervisor does. Waiting is awaiting state changes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from vigil.config.model import Config, GroupConfig, GroupKind, LogLevel, ProcessConfig
from vigil.core.events import ProcessGroupChanged, SupervisorStateChanged
from vigil.core.ports import ChannelLog
from vigil.core.states import STOPPED_STATES, ProcessState, SupervisorState
from vigil.runtime.fcgi_socket import FcgiSocket
from vigil.runtime.process import ProcessContext, ProcessRunner
from vigil.runtime.proctable import HeldProcess, ProcessTable, wait_all_gone

if TYPE_CHECKING:  # loaded once a program has dependencies
    from vigil.runtime.dependencies import DependencyGate

LogFactory = Callable[[ProcessConfig], tuple[ChannelLog, ChannelLog]]
WAIT_REPORT_SECONDS = 3.0
ORPHAN_GRACE_SECONDS = 5.0


class ConfigSource(Protocol):
    """Where the configuration files are read, for what changes groups at run time (scale,
    update): ``config`` as last read (reloadConfig keeps it), ``reread`` to read them now."""

    config: Config

    def reread(self) -> Config: ...


@dataclass
class ProcessGroup:
    config: GroupConfig
    runners: dict[str, ProcessRunner] = field(default_factory=dict)
    fcgi_socket: FcgiSocket | None = None  # fcgi-program groups: the socket all runners share
    scaled: bool = False  # its numprocs changed at run time, until the next update

    @property
    def name(self) -> str:
        return self.config.name

    def in_start_order(self) -> list[ProcessRunner]:
        return sorted(self.runners.values(), key=lambda r: r.config.priority)

    def process_configs(self) -> tuple[ProcessConfig, ...]:
        """The configuration of each process the group has now, in the loader's order."""
        return tuple(sorted((r.config for r in self.runners.values()), key=_load_order))

    def all_stopped(self) -> bool:
        return all(r.state in STOPPED_STATES for r in self.runners.values())

    def close(self) -> None:
        """Release what the group holds once its processes are gone for good: each runner's
        pipes and logs, and the fcgi socket (which would otherwise keep its port bound)."""
        for runner in self.runners.values():
            runner.close()
        if self.fcgi_socket is not None:
            self.fcgi_socket.close()


class Supervisor:
    def __init__(self, context: ProcessContext, logs: LogFactory) -> None:
        self.context = context
        self.mood = SupervisorState.RUNNING
        self.groups: dict[str, ProcessGroup] = {}
        self._logs = logs
        self.dependencies: DependencyGate | None = None  # made by the first depends_on
        # set by the RPC interface that rereads the files (see ConfigSource)

    # -- groups ---------------------------------------------------------------------------

    def add_group(self, config: GroupConfig) -> bool:
        """Create the group's processes (not started); False if the name is taken."""
        if config.name in self.groups:
            return False
        group = ProcessGroup(config, fcgi_socket=self._fcgi_socket(config))
        for process in config.processes:
            group.runners[process.name] = self._runner(group, process)
        self.groups[config.name] = group
        self._gate_for(config.processes)
        self.context.bus.publish(ProcessGroupChanged(config.name, added=True))
        return True

    def remove_group(self, name: str) -> bool:
        """Forget a group whose processes are all stopped; False if any still runs."""
        group = self.groups.get(name)
        if group is None or not group.all_stopped():
            return False
        group.close()
        del self.groups[name]
        self.context.bus.publish(ProcessGroupChanged(name, added=False))
        return True

    def _gate_for(self, processes: tuple[ProcessConfig, ...]) -> None:
        """Make the dependency gate when the first process with dependencies comes."""
        if self.dependencies is None and any(p.depends_on or p.binds_to for p in processes):
            from vigil.runtime.dependencies import DependencyGate

            self.dependencies = DependencyGate(self)
            self.context.bus.subscribe("PROCESS_STATE", self.dependencies.on_state)
            self.context.bus.subscribe("PROCESS_HEALTH", self.dependencies.on_state)

    def _runner(self, group: ProcessGroup, process: ProcessConfig) -> ProcessRunner:
        stdout, stderr = self._logs(process)
        stdin_socket = None if group.fcgi_socket is None else group.fcgi_socket.fileno
        return ProcessRunner(process, self.context, stdout, stderr, stdin_socket)

    # -- processes of a group that stays (scaling, rolling updates) -----------------------

    def put_process(self, process: ProcessConfig) -> ProcessRunner:
        """Give the group a runner (not started) for `process`: a new instance, or a new
        configuration for a stopped one, whose old runner is released. The group's
        configuration follows its processes, so a diff against the files sees them."""
        group = self.groups[process.group]
        old = group.runners.get(process.name)
        if old is not None:
            if old.state not in STOPPED_STATES:
                raise ValueError(f"{old.namespec} is {old.state.name}, not stopped")
            old.close()
        runner = group.runners[process.name] = self._runner(group, process)
        self._gate_for((process,))
        group.config = dataclasses.replace(group.config, processes=group.process_configs())
        self._regroup()
        return runner

    def drop_process(self, group_name: str, name: str) -> bool:
        """Forget one stopped process of a group that stays (scaled down); False if it runs."""
        group = self.groups[group_name]
        runner = group.runners.get(name)
        if runner is None or runner.state not in STOPPED_STATES:
            return False
        runner.close()
        del group.runners[name]
        group.config = dataclasses.replace(group.config, processes=group.process_configs())
        self._regroup()
        return True

    def _regroup(self) -> None:
        """The processes a dependency names (``group:*``) changed without a group being
        added or removed: the waits resolve their targets again."""
        if self.dependencies is not None:
            self.dependencies.regroup()

    def retarget_group(self, config: GroupConfig) -> None:
        """Take `config` as the group's once its processes are the configured ones (an update
        applied process by process): its priority and the rest of what the group holds."""
        group = self.groups[config.name]
        group.config = dataclasses.replace(config, processes=group.process_configs())
        self._gate_for(group.config.processes)  # depends_on may have come in place

    def _fcgi_socket(self, config: GroupConfig) -> FcgiSocket | None:
        """An fcgi-program group's socket, made at its first spawn (see FcgiSocket)."""
        if config.kind is not GroupKind.FCGI or config.fcgi_socket is None:
            return None
        return FcgiSocket(config.fcgi_socket, self.context.log)

    def groups_in_start_order(self) -> list[ProcessGroup]:
        return sorted(self.groups.values(), key=lambda g: g.config.priority)

    def runners(self) -> Iterator[ProcessRunner]:
        for group in self.groups_in_start_order():
            yield from group.in_start_order()

    def find(self, group: str, name: str) -> ProcessRunner | None:
        found = self.groups.get(group)
        return None if found is None else found.runners.get(name)

    # -- lifecycle ------------------------------------------------------------------------

    def autostart(self, group: ProcessGroup | None = None) -> None:
        """Start what is configured to start by itself and never ran, in priority order."""
        if self.mood is not SupervisorState.RUNNING:
            return
        groups = [group] if group is not None else self.groups_in_start_order()
        for each in groups:
            for runner in each.in_start_order():
                config = runner.config
                if (config.autostart or config.dependent_startup) and not runner.machine.laststart:
                    self.start(runner)

    def start(self, runner: ProcessRunner) -> None:
        """Start a process, once its dependencies hold (at once when it has none)."""
        if self.dependencies is None:
            runner.start()
        else:
            self.dependencies.start(runner)

    def stop_waves(self, runners: list[ProcessRunner]) -> list[list[ProcessRunner]]:
        """`runners` in waves to stop one after the other: dependents before what they
        depend on; one wave (all together) without dependencies, as in Supervisor."""
        if self.dependencies is None:
            return [runners]
        return list(self.dependencies.stop_waves(runners))

    async def stop_everything(self, mood: SupervisorState) -> None:
        """Shutdown or restart: stop groups from the highest priority down, one at a time."""
        self.mood = mood
        self.context.bus.publish(SupervisorStateChanged(running=False))
        for runner in self.runners():
            runner.set_may_spawn(False)
        if self.dependencies is not None:
            self.dependencies.clear()
        for batch in self._shutdown_batches():
            for runner in batch:
                if runner.state in (ProcessState.RUNNING, ProcessState.STARTING):
                    runner.stop()
                elif runner.state is ProcessState.BACKOFF:
                    runner.give_up()
            await self._wait_stopped(batch)
            # each post_stop (bounded by hook_timeout) ends before the next batch stops
            await asyncio.gather(*(runner.hooks_finished() for runner in batch))
        await self.reap_orphans()

    def _shutdown_batches(self) -> Iterator[list[ProcessRunner]]:
        """Groups from the highest priority down, one at a time, as Supervisor; with
        dependencies, a group's process waits until its dependents (in any group) are
        stopped, and the batch is then the first group's processes that may stop."""
        descending = [
            runner
            for group in reversed(self.groups_in_start_order())
            for runner in reversed(group.in_start_order())
        ]
        if self.dependencies is None:
            for group in reversed(self.groups_in_start_order()):
                yield list(reversed(group.in_start_order()))
            return
        remaining = descending
        while remaining:
            free = next(iter(self.dependencies.stop_waves(remaining)))
            first = free[0].group
            batch = [r for r in free if r.group == first]
            yield batch
            remaining = [r for r in remaining if r not in batch]

    async def _wait_stopped(self, runners: list[ProcessRunner]) -> None:
        while True:
            pending = [r for r in runners if r.state not in STOPPED_STATES]
            if not pending:
                return
            stopped = STOPPED_STATES.__contains__
            waits = [asyncio.ensure_future(r.wait_for(stopped)) for r in pending]
            done, rest = await asyncio.wait(waits, timeout=WAIT_REPORT_SECONDS)
            for task in rest:
                task.cancel()
            if not done:
                names = ", ".join(r.name for r in pending)
                self.context.log.log(LogLevel.INFO, f"waiting for {names} to die")

    async def reap_orphans(self) -> None:
        """End descendants our children left behind (the subreaper made them ours)."""
        if not _has_children():
            return  # nothing below us at all: no need to read the whole process table
        orphans = _descendants(os.getpid())
        if not orphans:
            return
        try:
            for held in orphans:
                self._signal_orphan(held, signal.SIGTERM)
            left = await wait_all_gone(orphans, ORPHAN_GRACE_SECONDS)
            for held in left:
                self._signal_orphan(held, signal.SIGKILL)
        finally:
            for held in orphans:
                held.close()

    def _signal_orphan(self, held: HeldProcess, number: int) -> None:
        if held.send(number):
            self.context.log.log(
                LogLevel.INFO, f"sent {signal.Signals(number).name} to orphan pid {held.pid}"
            )


def _load_order(process: ProcessConfig) -> tuple[int, str]:
    return process.priority, process.name  # as the loader lists a program's processes


def _has_children() -> bool:
    """Whether this process has a child, live or not yet reaped (which is left waitable for
    the reaper: WNOWAIT). A descendant of ours always has an ancestor among our children,
    or is one itself once orphaned under the subreaper."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def _descendants(root: int) -> list[HeldProcess]:
    """Every live process below `root`, each held by a pidfd (read from /proc: the daemon
    loads no process-table library for the one look it takes at shutdown)."""
    table = ProcessTable()
    return table.hold(table.children.get(root, ()))
