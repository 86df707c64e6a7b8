"""Scaling at run time: a ``[program:x]`` with numprocs given another number of instances
without touching those that remain (Supervisor #177; PM2's ``scale``, Circus's ``incr``).

New instances are built from the configuration file as the loader builds them, with the next
``process_num`` values and their expansions (config/programs.py), and started; instances
above the new number are stopped, the highest number first, and forgotten. The group keeps
the new number until the next ``update``, which reconciles it to the file's numprocs the same
way (services/updates.py).

The group is not removed and added again, so no PROCESS_GROUP_REMOVED or _ADDED is sent: a
Supervisor listener takes those for the group going away or coming. The vigil-only
PROCESS_GROUP_SCALED says which instances came and went; each new instance also says itself
with its PROCESS_STATE events; getAllProcessInfo and the JSON API show the group as it is now.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any

from vigil.config.diff import changed_options
from vigil.config.errors import ConfigError
from vigil.config.loader import inspect
from vigil.config.model import Config, ProcessConfig
from vigil.config.programs import NUMPROCS_LIMIT, program_instances
from vigil.core.naming import make_namespec
from vigil.faults import Faults, RPCError
from vigil.runtime.supervisor import ConfigSource, ProcessGroup, Supervisor
from vigil.services.rolling import Control, Step, natural_key
from vigil.services.updates import announce_instances, is_program, start_one, stop_one


@dataclass
class ScaleResult:
    name: str
    numprocs: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    failed: str | None = None

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "numprocs": self.numprocs,
            "done": self.failed is None,
            "failed": self.failed or "",
            "added": self.added,
            "removed": self.removed,
            "steps": [step.document() for step in self.steps],
        }


class Scaler:
    def __init__(self, supervisor: Supervisor, control: Control, source: ConfigSource) -> None:
        self._supervisor = supervisor
        self._control = control
        self._config_source = source
        self._scaling: set[str] = set()

    async def scale(self, name: str, numprocs: object) -> ScaleResult:
        if not isinstance(numprocs, int) or isinstance(numprocs, bool):
            raise RPCError(Faults.BAD_ARGUMENTS, f"numprocs must be an integer, not {numprocs!r}")
        if not 1 <= numprocs <= NUMPROCS_LIMIT:
            raise RPCError(Faults.BAD_ARGUMENTS, f"numprocs must be 1 to {NUMPROCS_LIMIT}")
        group = self._supervisor.groups.get(name)
        if group is None:
            raise RPCError(Faults.BAD_NAME, name)
        if not is_program(group.config):
            raise RPCError(
                Faults.FAILED,
                f"{name} is not the group of one [program:x]: only a program's instances scale",
            )
        if name in self._scaling:
            raise RPCError(Faults.FAILED, f"{name} is being scaled already")
        self._scaling.add(name)
        before = list(group.runners)
        try:
            return await self._scale(group, numprocs)
        finally:
            self._scaling.discard(name)
            announce_instances(self._supervisor, name, before)

    async def _scale(self, group: ProcessGroup, numprocs: int) -> ScaleResult:
        built = {process.name: process for process in self._instances(group, numprocs)}
        self._check_unchanged(group, built)
        result = ScaleResult(group.name, numprocs)
        group.scaled = True
        gone = sorted((n for n in group.runners if n not in built), key=natural_key, reverse=True)
        for process_name in gone:  # the highest number first
            namespec = make_namespec(group.name, process_name)
            if not await stop_one(self._control, namespec, result.steps):
                result.failed = namespec
                return result
            self._supervisor.drop_process(group.name, process_name)
            result.removed.append(namespec)
            result.steps.append(Step(namespec, "remove", Faults.SUCCESS, "OK"))
        new = sorted((n for n in built if n not in group.runners), key=natural_key)
        for process_name in new:
            self._supervisor.put_process(built[process_name])
            result.added.append(make_namespec(group.name, process_name))
        started = await asyncio.gather(
            *(start_one(self._control, namespec, result.steps) for namespec in result.added)
        )
        for namespec, ok in zip(result.added, started, strict=True):
            if not ok and result.failed is None:
                result.failed = namespec
        return result

    def _instances(self, group: ProcessGroup, numprocs: int) -> list[ProcessConfig]:
        """The program's processes for `numprocs`, from the configuration files as they are."""
        source = self._config_source
        section = f"program:{group.name}"
        try:
            inspection = inspect(source.config.path)
        except ConfigError as exc:
            raise RPCError(Faults.CANT_REREAD, str(exc)) from None
        config: Config | None = inspection.config
        errors = [p for p in inspection.problems if p.is_error]
        if config is None or errors or inspection.document is None:
            raise RPCError(Faults.CANT_REREAD, "; ".join(str(p) for p in errors))
        if not inspection.document.has_section(section):
            raise RPCError(Faults.CANT_REREAD, f"[{section}] is no longer in the files")
        processes, problems = program_instances(
            inspection.document,
            section,
            numprocs,
            path=config.path,
            base_environment=dict(config.supervisord.environment),
            environ=os.environ,
        )
        if problems:
            raise RPCError(Faults.CANT_REREAD, "; ".join(str(p) for p in problems))
        return processes

    def _check_unchanged(self, group: ProcessGroup, built: dict[str, ProcessConfig]) -> None:
        """The instances that remain must be what the file makes them: a scale adds and
        removes, it never changes a running one behind its back (update does that)."""
        for process_name, runner in sorted(group.runners.items()):
            process = built.get(process_name)
            if process is None:
                continue
            changed = changed_options(runner.config, process)
            if changed:
                raise RPCError(
                    Faults.FAILED,
                    f"{runner.namespec} is not what [program:{group.name}] makes now "
                    f"({', '.join(changed)} changed in the file): update first, then scale",
                )
