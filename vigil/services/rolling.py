"""Rolling restarts: a group's processes restarted a batch at a time (Supervisor #456, #723).

Supervisor's ``restart group:*`` stops every member before starting any, so a group that
serves requests is down for the whole restart. A roll restarts ``batch`` members, waits until
each is back (RUNNING, which with readiness configured means ready; healthy too when a
health check is configured), optionally pauses, then goes on with the next batch. The first
member that does not come back ends the roll: the members not reached yet are left running as
they were, and the result names the one that failed and why.

Stopping and starting go through the same methods every wire calls (supervisor.stopProcess
and startProcess), so a roll obeys everything a stop and a start obey (dependencies, stop
timeouts). An update that rolls gives each member its new configuration between its stop and
its start (``between``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from vigil.core.events import Event
from vigil.core.naming import make_namespec, split_namespec
from vigil.core.states import ProcessState
from vigil.faults import Faults, RPCError
from vigil.runtime.process import ProcessRunner
from vigil.runtime.supervisor import Supervisor

MAX_BATCH = 10_000
MAX_PAUSE = 86_400.0


class Control(Protocol):
    """What a roll needs of process control: supervisor.stopProcess and startProcess."""

    async def stopProcess(self, name: str, wait: Any = True) -> Any: ...

    async def startProcess(self, name: str, wait: Any = True) -> Any: ...

    async def stopProcessGroup(self, name: str, wait: Any = True) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class RollPlan:
    batch: int = 1
    pause: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.batch, int) or isinstance(self.batch, bool):
            raise RPCError(Faults.BAD_ARGUMENTS, f"batch must be an integer, not {self.batch!r}")
        if not 1 <= self.batch <= MAX_BATCH:
            raise RPCError(Faults.BAD_ARGUMENTS, f"batch must be 1 to {MAX_BATCH}")
        if not isinstance(self.pause, int | float) or isinstance(self.pause, bool):
            raise RPCError(Faults.BAD_ARGUMENTS, f"pause must be seconds, not {self.pause!r}")
        if not 0 <= self.pause <= MAX_PAUSE:
            raise RPCError(Faults.BAD_ARGUMENTS, f"pause must be 0 to {MAX_PAUSE:g} seconds")


@dataclass(frozen=True)
class Step:
    """One stop or start made by a roll, as a *Group result says it."""

    namespec: str
    action: str  # "stop" or "start"
    code: Faults
    description: str

    def document(self) -> dict[str, Any]:
        """As a *Group result, with the action."""
        group, name = split_namespec(self.namespec)
        return {
            "name": name or group,
            "group": group,
            "action": self.action,
            "status": int(self.code),
            "description": self.description,
        }


@dataclass
class RollResult:
    namespec: str
    restarted: list[str] = field(default_factory=list)
    failed: str | None = None  # the member that did not come back
    reason: str | None = None  # why: the fault of its start, or its health
    untouched: list[str] = field(default_factory=list)  # not reached: left as they were
    steps: list[Step] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.failed is None


# Called between a member's stop and its start (an update gives it its new configuration).
Between = Callable[[str], None]


class Rolls:
    """The rolls under way, one per group at most: two rolls of one group would stop members
    the other is waiting for."""

    def __init__(self, control: Control, supervisor: Supervisor) -> None:
        self._control = control
        self._supervisor = supervisor
        self._rolling: set[str] = set()

    def members(self, namespec: str) -> list[str]:
        """The processes a namespec names (one, ``group:*``, ``all``), in roll order:
        by group, then instances in process_num order (web_2 before web_10)."""
        if namespec == "all":
            runners: Iterable[ProcessRunner] = self._supervisor.runners()
        else:
            group_name, name = split_namespec(namespec)
            group = self._supervisor.groups.get(group_name)
            if group is None or (name is not None and name not in group.runners):
                raise RPCError(Faults.BAD_NAME, namespec)
            runners = group.runners.values() if name is None else [group.runners[name]]
        ordered = sorted(runners, key=lambda r: (r.group, natural_key(r.name)))
        return [make_namespec(r.group, r.name) for r in ordered]

    async def roll(
        self,
        namespec: str,
        members: list[str],
        plan: RollPlan,
        between: Between | None = None,
    ) -> RollResult:
        groups = {split_namespec(member)[0] for member in members}
        busy = groups & self._rolling
        if busy:
            raise RPCError(Faults.FAILED, f"a rolling restart of {min(busy)} is under way")
        self._rolling |= groups
        try:
            return await self._roll(RollResult(namespec), members, plan, between)
        finally:
            self._rolling -= groups

    async def _roll(
        self, outcome: RollResult, names: list[str], plan: RollPlan, between: Between | None
    ) -> RollResult:
        for first in range(0, len(names), plan.batch):
            if first and plan.pause:
                await asyncio.sleep(plan.pause)
            batch = names[first : first + plan.batch]
            made = len(outcome.steps)
            reasons = await asyncio.gather(
                *(self._restart(name, outcome, between) for name in batch)
            )
            # the batch's stops, then its starts, each in member order (not as they ended)
            order = {name: index for index, name in enumerate(batch)}
            outcome.steps[made:] = sorted(
                outcome.steps[made:], key=lambda s: (s.action != "stop", order[s.namespec])
            )
            for name, reason in zip(batch, reasons, strict=True):
                if reason is None:
                    outcome.restarted.append(name)
                elif outcome.failed is None:
                    outcome.failed, outcome.reason = name, reason
            if outcome.failed is not None:
                outcome.untouched = names[first + plan.batch :]
                break
        return outcome

    async def _restart(
        self, namespec: str, outcome: RollResult, between: Between | None
    ) -> str | None:
        """Stop and start one member; None once it is back, otherwise why it is not."""
        try:
            await self._control.stopProcess(namespec, True)
        except RPCError as fault:
            outcome.steps.append(Step(namespec, "stop", fault.code, fault.text))
            if fault.code is not Faults.NOT_RUNNING:
                return f"it did not stop: {fault.text}"
        else:
            outcome.steps.append(Step(namespec, "stop", Faults.SUCCESS, "OK"))
        if between is not None:
            between(namespec)
        try:
            await self._control.startProcess(namespec, True)
        except RPCError as fault:
            outcome.steps.append(Step(namespec, "start", fault.code, fault.text))
            return f"it did not start: {fault.text}"
        outcome.steps.append(Step(namespec, "start", Faults.SUCCESS, "OK"))
        return await self._healthy(namespec)

    async def _healthy(self, namespec: str) -> str | None:
        """With a health check, wait for its first verdict (checks end within their timeout,
        so one always comes); None when healthy, or why not. Without one: None at once."""
        group, name = split_namespec(namespec)
        runner = self._supervisor.find(group, name or group)
        if runner is None or runner.config.healthcheck is None:
            return None
        verdict: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        def look(event: Event | None = None) -> None:
            if event is not None and (event.group, event.process) != (group, name or group):
                return
            current = self._supervisor.find(group, name or group)
            if verdict.done():
                return
            if current is None or current.state is not ProcessState.RUNNING:
                state = "gone" if current is None else current.state.name
                verdict.set_result(f"it left RUNNING ({state}) before it was healthy")
            elif current.health == "healthy":
                verdict.set_result(None)
            elif current.health == "unhealthy":
                output = current.snapshot().health_output or ""
                verdict.set_result(f"it is unhealthy: {output.strip()[:200]}")

        bus = self._supervisor.context.bus
        for type_name in ("PROCESS_HEALTH", "PROCESS_STATE"):
            bus.subscribe(type_name, look)
        try:
            look()
            return await verdict
        finally:
            for type_name in ("PROCESS_HEALTH", "PROCESS_STATE"):
                bus.unsubscribe(type_name, look)


def roll_document(outcome: RollResult) -> dict[str, Any]:
    """A roll's result as XML-RPC carries it: "" for none, each step as a *Group result."""
    return {
        "name": outcome.namespec,
        "done": outcome.done,
        "restarted": outcome.restarted,
        "failed": outcome.failed or "",
        "reason": outcome.reason or "",
        "untouched": outcome.untouched,
        "steps": [step.document() for step in outcome.steps],
    }


def natural_key(name: str) -> list[Any]:
    """web_2 before web_10: instances in process_num order, not text order."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name)]
