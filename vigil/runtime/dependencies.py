"""Start dependencies at run time: a process starts once what it depends on holds, never
before, and nothing polls: every decision is taken again when a process it watches changes
state (PROCESS_STATE on the bus) or health.

Starting a dependent starts its ``depends_on`` dependencies first (as systemd's Requires= and
docker compose do; dependent_startup_wait_for only waits, as its plugin did). While it waits
the dependent stays STOPPED, described ``waiting for db (ready)``; a dependency that cannot
come (FATAL with no retry pending) makes it FATAL, saying which. ``binds_to`` stops a dependent
whose dependency left RUNNING, and starts it again once the dependency holds again. Stopping
goes the other way: dependents before what they depend on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from vigil.config.dependencies import Condition, Dependency
from vigil.core.events import Event
from vigil.core.states import ProcessState, SupervisorState
from vigil.runtime.process import ProcessRunner

S = ProcessState
STARTABLE = frozenset({S.STOPPED, S.EXITED, S.FATAL})
LEFT_RUNNING = frozenset({S.STOPPING, S.STOPPED, S.EXITED, S.FATAL, S.BACKOFF, S.UNKNOWN})


class Groups(Protocol):
    """What the gate needs of the supervisor: its processes and its mood."""

    @property
    def mood(self) -> SupervisorState: ...

    def runners(self) -> Iterator[ProcessRunner]: ...

    def find(self, group: str, name: str) -> ProcessRunner | None: ...


class DependencyGate:
    def __init__(self, groups: Groups) -> None:
        self._groups = groups
        self._pending: dict[ProcessRunner, set[ProcessRunner]] = {}  # dependent -> watched
        self._watchers: dict[ProcessRunner, set[ProcessRunner]] = {}  # watched -> dependents

    # -- starting -------------------------------------------------------------------------

    def start(self, runner: ProcessRunner, *, pull: bool = True) -> None:
        """Start `runner` now if its dependencies hold, else once they do."""
        if not runner.config.depends_on:
            runner.start()
            return
        if pull:
            self._pull(runner, {runner})
        self._wait(runner)
        self._decide(runner)

    def cancel(self, runner: ProcessRunner) -> bool:
        """Stop waiting to start `runner` (a stop asked for); whether it was waiting."""
        if runner not in self._pending:
            return False
        self._forget(runner)
        runner.waiting_for = None
        runner.recheck_waiters()
        return True

    def clear(self) -> None:
        """The daemon stops: nothing waits any more."""
        for runner in list(self._pending):
            self.cancel(runner)

    def waiting(self, runner: ProcessRunner) -> bool:
        return runner in self._pending

    def _pull(self, runner: ProcessRunner, seen: set[ProcessRunner]) -> None:
        for dependency in runner.config.depends_on:
            if not dependency.pull:
                continue
            for target in self.resolve(dependency.target):
                if target in seen or not _needs_start(dependency, target):
                    continue
                seen.add(target)
                self._pull(target, seen)
                if target.config.depends_on:
                    self._wait(target)
                    self._decide(target)
                else:
                    target.start()

    def _wait(self, runner: ProcessRunner) -> None:
        watched = {runner}
        for dependency in runner.config.depends_on:
            watched.update(self.resolve(dependency.target))
        self._forget(runner)
        self._pending[runner] = watched
        for target in watched:
            self._watchers.setdefault(target, set()).add(runner)

    def _forget(self, runner: ProcessRunner) -> None:
        for target in self._pending.pop(runner, ()):
            dependents = self._watchers.get(target)
            if dependents is not None:
                dependents.discard(runner)
                if not dependents:
                    del self._watchers[target]

    def _decide(self, runner: ProcessRunner) -> None:
        """Start, keep waiting or give up, from the dependencies' states now."""
        if runner.state not in STARTABLE:
            if runner.state not in (S.STOPPING, S.BACKOFF):  # started by other means
                self._forget(runner)
                runner.waiting_for = None
            return
        if self._groups.mood is not SupervisorState.RUNNING:
            return
        waits: list[str] = []
        for dependency in runner.config.depends_on:
            targets = self.resolve(dependency.target)
            if not targets:
                self._block(runner, f"dependency {dependency.target} is not loaded")
                return
            for target in targets:
                why = _cannot(dependency, target)
                if why is not None:
                    self._block(runner, f"dependency {target.namespec} {why}")
                    return
                if not _holds(dependency, target):
                    waits.append(f"{target.namespec} ({_wanted(dependency)})")
        if waits:
            runner.waiting_for = ", ".join(waits)
            runner.recheck_waiters()
            return
        self._forget(runner)
        runner.waiting_for = None
        runner.start()

    def _block(self, runner: ProcessRunner, why: str) -> None:
        self._forget(runner)
        runner.waiting_for = None
        runner.block(why)

    # -- what happens to the processes ----------------------------------------------------

    def on_state(self, event: Event) -> None:
        """A PROCESS_STATE event: decide again for whoever watches that process."""
        if event.process is None or event.group is None:
            return
        changed = self._groups.find(event.group, event.process)
        if changed is None:
            return
        for dependent in list(self._watchers.get(changed, ())):
            if dependent in self._pending:
                self._decide(dependent)
        if changed.state in LEFT_RUNNING:
            self._unbind(changed)

    def _unbind(self, left: ProcessRunner) -> None:
        """binds_to: stop what is bound to a process that left RUNNING; start it again later."""
        for runner in list(self._groups.runners()):
            if runner.state not in (S.RUNNING, S.STARTING, S.BACKOFF) or not runner.config.binds_to:
                continue
            if any(left in self.resolve(name) for name in runner.config.binds_to):
                runner.stop()
                self._wait(runner)  # decided again when it is stopped, without pulling
                runner.waiting_for = f"{left.namespec} (bound)"

    # -- names and order ------------------------------------------------------------------

    def resolve(self, target: str) -> list[ProcessRunner]:
        group, colon, name = target.partition(":")
        runners = list(self._groups.runners())
        if colon:
            return [r for r in runners if r.group == group and name in ("*", r.name)]
        in_group = [r for r in runners if r.group == target]
        return in_group or [r for r in runners if r.name == target]

    def dependents(
        self, runners: Iterable[ProcessRunner]
    ) -> dict[ProcessRunner, set[ProcessRunner]]:
        """For each of `runners`, those among them that depend on it."""
        among = list(runners)
        found: dict[ProcessRunner, set[ProcessRunner]] = {r: set() for r in among}
        for runner in among:
            for dependency in runner.config.depends_on:
                for target in self.resolve(dependency.target):
                    if target in found and target is not runner:
                        found[target].add(runner)
        return found

    def stop_waves(self, runners: Iterable[ProcessRunner]) -> Iterator[list[ProcessRunner]]:
        """`runners` in the order to stop them: each wave holds those no remaining runner
        depends on (dependents first), in the order given."""
        remaining = list(runners)
        dependents = self.dependents(remaining)
        while remaining:
            left = set(remaining)
            wave = [r for r in remaining if not dependents[r] & left]
            wave = wave or remaining  # a cycle cannot load; stop the rest together
            yield wave
            remaining = [r for r in remaining if r not in wave]


def _holds(dependency: Dependency, target: ProcessRunner) -> bool:
    state, condition = target.state, dependency.condition
    if condition is Condition.STATES:
        return state.name in dependency.states
    if condition is Condition.STARTED:
        return state in (S.STARTING, S.RUNNING)
    if condition is Condition.RUNNING:
        return state is S.RUNNING
    if condition is Condition.READY:
        return state is S.RUNNING and not target.reloading
    if condition is Condition.HEALTHY:
        return state is S.RUNNING and target.health == "healthy"
    last = target.machine.last_exit
    return state is S.EXITED and last is not None and last.expected


def _cannot(dependency: Dependency, target: ProcessRunner) -> str | None:
    """Why the condition will not come by itself, or None."""
    state = target.state
    if dependency.condition is Condition.STATES and state.name in dependency.states:
        return None
    if state is S.FATAL and target.machine.next_attempt is None:
        return "is FATAL"
    if state is S.UNKNOWN:
        return "is in an unknown state"
    return None


def _needs_start(dependency: Dependency, target: ProcessRunner) -> bool:
    if target.state not in STARTABLE or target.state is S.FATAL:
        return False
    return not _holds(dependency, target)


def _wanted(dependency: Dependency) -> str:
    if dependency.condition is Condition.STATES:
        return "|".join(state.lower() for state in dependency.states)
    return str(dependency.condition.value)
