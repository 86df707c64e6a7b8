"""``update`` of one changed group, the way its configuration asks (issue 19).

Supervisor replaces a changed group whole: every process stopped, the group removed and added
again (#1322, #1637). That stays the way unless something opts out of it:

- ``update_strategy = rolling`` on a ``[program:x]``: its changed processes are replaced one
  at a time, each started with its new configuration before the next is stopped (rolling.py);
- ``[supervisord] update_in_place = true``: a process whose changed options are all ones a
  running process can take (config/diff.py's IN_PLACE_OPTIONS) gets them without a restart;
  a group whose only changes are of vigil's own such options (the restart policy, hooks,
  readiness and health settings: VIGIL_IN_PLACE_OPTIONS) gets them so even without it, since
  Supervisor has no behaviour of its own to keep for them;
- a group scaled at run time (scaling.py): its instances are reconciled to the file's
  numprocs, those that remain kept.

In these cases the group is updated process by process: kept, given options in place,
restarted (rolling or not), removed (highest number first) or added, and the group takes
its new configuration once all of it is done.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from vigil.config.diff import IN_PLACE_OPTIONS, GroupChanges, diff, group_changes
from vigil.config.model import Config, GroupConfig, GroupKind, ProcessConfig, UpdateStrategy
from vigil.core.events import ProcessGroupScaled
from vigil.core.naming import make_namespec
from vigil.core.states import RUNNING_STATES
from vigil.faults import Faults, RPCError
from vigil.runtime.supervisor import ProcessGroup, Supervisor
from vigil.services.rolling import Control, RollPlan, RollResult, Rolls, Step, natural_key

RESTART = "restart"  # Supervisor's: the whole group stopped, removed and added again
ROLLING = "rolling"
IN_PLACE = "in place"
RECONCILE = "reconcile"  # process by process, without rolling


@dataclass
class UpdateResult:
    name: str
    how: str
    changes: GroupChanges
    roll: RollResult | None = None
    steps: list[Step] = field(default_factory=list)
    failed: str | None = None
    reason: str | None = None

    def document(self) -> dict[str, Any]:
        """As XML-RPC carries it ("" for none)."""
        roll = self.roll
        steps = [*self.steps, *(roll.steps if roll is not None else [])]
        failed = self.failed or (roll.failed if roll is not None else None)
        reason = self.reason or (roll.reason if roll is not None else None)
        return {
            "name": self.name,
            "how": self.how,
            "done": failed is None,
            "failed": failed or "",
            "reason": reason or "",
            "untouched": [] if roll is None else roll.untouched,
            "kept": list(self.changes.kept),
            "added": list(self.changes.added),
            "removed": list(self.changes.removed),
            "in_place": list(self.changes.in_place),
            "restarted": list(self.changes.restarted),
            "steps": [step.document() for step in steps],
        }


def is_program(config: GroupConfig) -> bool:
    """A group made by one ``[program:x]`` (homogeneous: its processes are its instances)."""
    sections = {process.source.section for process in config.processes}
    return config.kind is GroupKind.PROGRAM and sections == {f"program:{config.name}"}


def takes_in_place(config: Config, changes: GroupChanges) -> bool:
    """Whether the group's processes take their in-place changes without a restart."""
    return config.supervisord.update_in_place or changes.only_vigil_options


def strategy(
    active: ProcessGroup, wanted: GroupConfig, changes: GroupChanges, in_place: bool
) -> str:
    """How the update goes: Supervisor's restart unless the configuration or a scale opts
    out of it, and always when the group changed in a way only a new group can take."""
    if not changes.group_in_place or active.config.kind is not wanted.kind:
        return RESTART
    homogeneous = is_program(active.config) and is_program(wanted)
    if homogeneous and all(p.update_strategy is UpdateStrategy.ROLLING for p in wanted.processes):
        return ROLLING
    if in_place and changes.only_in_place:
        return IN_PLACE
    if in_place or (homogeneous and active.scaled):
        return RECONCILE
    return RESTART


def describe_changes(supervisor: Supervisor, config: Config) -> dict[str, Any]:
    """What ``update`` would do with `config`: the groups added, changed and removed (as
    reloadConfig says them) and, for each changed group, how it would be updated, which of
    its processes would take their changes in place and which would restart, and the
    changed options of each on either side (reread, GET /config/diff)."""
    active = tuple(group.config for group in supervisor.groups.values())
    found = diff(dataclasses.replace(config, groups=active), config)
    wanted = {group.name: group for group in config.groups}
    groups = [
        _group_document(supervisor.groups[name], wanted[name], config) for name in found.changed
    ]
    return {
        "added": list(found.added),
        "changed": list(found.changed),
        "removed": list(found.removed),
        "update_in_place": config.supervisord.update_in_place,
        "groups": groups,
    }


def _group_document(active: ProcessGroup, wanted: GroupConfig, config: Config) -> dict[str, Any]:
    changes = group_changes(active.config, wanted)
    in_place = takes_in_place(config, changes)
    how = strategy(active, wanted, changes, in_place)
    if how == RESTART:  # the whole group is stopped and added again
        taken: list[str] = []
        restarted = sorted(active.runners, key=natural_key)
    elif in_place:
        taken, restarted = list(changes.in_place), list(changes.restarted)
    else:
        taken, restarted = [], sorted([*changes.in_place, *changes.restarted], key=natural_key)
    options = {
        name: {
            "in_place": [o for o in changed if in_place and o in IN_PLACE_OPTIONS],
            "restart": [o for o in changed if not (in_place and o in IN_PLACE_OPTIONS)],
        }
        # the group's own options come last, under its name (which a process may share)
        for name, changed in (changes.options[:-1] if changes.group_options else changes.options)
    }
    return {
        "name": wanted.name,
        "how": how,
        "in_place": taken,
        "restarted": restarted,
        "added": list(changes.added),
        "removed": list(changes.removed),
        "group_options": list(changes.group_options),
        "options": options,
    }


class GroupUpdates:
    def __init__(self, supervisor: Supervisor, control: Control, rolls: Rolls) -> None:
        self._supervisor = supervisor
        self._control = control
        self._rolls = rolls

    async def update(self, name: str, config: Config, plan: RollPlan) -> UpdateResult:
        """Bring the running group `name` to its configuration in `config`."""
        wanted = next((g for g in config.groups if g.name == name), None)
        active = self._supervisor.groups.get(name)
        if wanted is None or active is None:
            raise RPCError(Faults.BAD_NAME, name)
        changes = group_changes(active.config, wanted)
        how = strategy(active, wanted, changes, takes_in_place(config, changes))
        result = UpdateResult(name, how, changes)
        if how == RESTART:
            await self._replace_group(wanted, result)
            return result
        before = list(active.runners)
        try:
            await self._by_process(active, wanted, config, changes, how, result)
        finally:
            announce_instances(self._supervisor, name, before)
        return result

    async def _by_process(
        self,
        active: ProcessGroup,
        wanted: GroupConfig,
        config: Config,
        changes: GroupChanges,
        how: str,
        result: UpdateResult,
    ) -> None:
        """Kept, given options in place, restarted, removed or added, one process at a time;
        the group takes its configuration once all of it is done."""
        if not await self._remove(active, changes.removed, result):
            return
        restarted = list(changes.restarted)
        if takes_in_place(config, changes):
            for process_name in changes.in_place:
                active.runners[process_name].reconfigure(_process(wanted, process_name))
        else:
            restarted.extend(changes.in_place)  # Supervisor's: any change restarts
        if not await self._restart(wanted, sorted(restarted, key=natural_key), how, result):
            return
        await self._add(wanted, changes.added, result)
        self._supervisor.retarget_group(wanted)
        active.scaled = False

    async def _replace_group(self, wanted: GroupConfig, result: UpdateResult) -> None:
        """Supervisor's update of a changed group: stop all, remove, add back."""
        name = wanted.name
        await self._control.stopProcessGroup(name, True)
        result.steps.append(Step(name, "stop", Faults.SUCCESS, "OK"))
        if not self._supervisor.remove_group(name):
            result.failed, result.reason = name, "it did not stop: not removed"
            return
        self._supervisor.add_group(wanted)
        self._supervisor.autostart(self._supervisor.groups[name])

    async def _remove(
        self, active: ProcessGroup, names: tuple[str, ...], result: UpdateResult
    ) -> bool:
        """Stop and forget processes, the highest number first; False at the first failure."""
        for process_name in sorted(names, key=natural_key, reverse=True):
            namespec = make_namespec(active.name, process_name)
            if not await stop_one(self._control, namespec, result.steps):
                result.failed, result.reason = namespec, "it did not stop"
                return False
            self._supervisor.drop_process(active.name, process_name)
            result.steps.append(Step(namespec, "remove", Faults.SUCCESS, "OK"))
        return True

    async def _restart(
        self, wanted: GroupConfig, names: list[str], how: str, result: UpdateResult
    ) -> bool:
        """Give changed processes their new configuration: one by one when rolling, or all
        stopped then all started. The processes that were not running stay stopped."""
        if not names:
            return True
        runners = self._supervisor.groups[wanted.name].runners
        running = {n for n in names if runners[n].state in RUNNING_STATES}
        members = [make_namespec(wanted.name, n) for n in names]
        by_namespec = {make_namespec(wanted.name, n): _process(wanted, n) for n in names}

        def replace(namespec: str) -> None:
            self._supervisor.put_process(by_namespec[namespec])

        if how == ROLLING:
            rolled = [m for m, n in zip(members, names, strict=True) if n in running]
            for namespec in (m for m, n in zip(members, names, strict=True) if n not in running):
                replace(namespec)  # not running: nothing to roll
            result.roll = await self._rolls.roll(wanted.name + ":*", rolled, RollPlan(), replace)
            return result.roll.done
        for namespec in members:
            if not await stop_one(self._control, namespec, result.steps):
                result.failed, result.reason = namespec, "it did not stop"
                return False
            replace(namespec)
        await self._start([m for m, n in zip(members, names, strict=True) if n in running], result)
        return result.failed is None

    async def _add(self, wanted: GroupConfig, names: tuple[str, ...], result: UpdateResult) -> None:
        """New processes of the group, started as a new group's are (autostart)."""
        added = [
            self._supervisor.put_process(_process(wanted, n))
            for n in sorted(names, key=natural_key)
        ]
        await self._start([r.namespec for r in added if r.config.autostart], result)

    async def _start(self, namespecs: list[str], result: UpdateResult) -> None:
        """Start processes together and wait for them; the first failure is the result's."""
        outcomes = await asyncio.gather(
            *(start_one(self._control, namespec, result.steps) for namespec in namespecs)
        )
        for namespec, started in zip(namespecs, outcomes, strict=True):
            if not started and result.failed is None:
                result.failed, result.reason = namespec, "it did not start"


def announce_instances(supervisor: Supervisor, group: str, before: list[str]) -> None:
    """PROCESS_GROUP_SCALED when the group's instances are not those of `before` any more
    (the dashboard drops the rows of the removed ones; new ones say themselves with their
    PROCESS_STATE events)."""
    runners = supervisor.groups[group].runners if group in supervisor.groups else {}
    added = sorted((n for n in runners if n not in before), key=natural_key)
    removed = sorted((n for n in before if n not in runners), key=natural_key, reverse=True)
    if added or removed:
        supervisor.context.bus.publish(ProcessGroupScaled(group, tuple(added), tuple(removed)))


async def stop_one(control: Control, namespec: str, steps: list[Step]) -> bool:
    """Stop a process and wait; True when it is stopped (or was not running)."""
    try:
        await control.stopProcess(namespec, True)
    except RPCError as fault:
        if fault.code is Faults.NOT_RUNNING:
            return True
        steps.append(Step(namespec, "stop", fault.code, fault.text))
        return False
    steps.append(Step(namespec, "stop", Faults.SUCCESS, "OK"))
    return True


async def start_one(control: Control, namespec: str, steps: list[Step]) -> bool:
    """Start a process and wait until it is RUNNING; True when it is."""
    try:
        await control.startProcess(namespec, True)
    except RPCError as fault:
        steps.append(Step(namespec, "start", fault.code, fault.text))
        return False
    steps.append(Step(namespec, "start", Faults.SUCCESS, "OK"))
    return True


def _process(group: GroupConfig, name: str) -> ProcessConfig:
    return next(p for p in group.processes if p.name == name)
