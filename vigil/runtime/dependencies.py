"""Start dependencies at run time: a process starts once what it depends on holds, never
before, and nothing polls: a decision is taken again only when a process it waits for changes
state (PROCESS_STATE on the bus) or health, or when groups come or go.

Starting a dependent starts its ``depends_on`` dependencies first (as systemd's Requires= and
docker compose do; dependent_startup_wait_for only waits, as its plugin did). While it waits
the dependent stays STOPPED, described ``waiting for db (ready)``; a dependency that cannot
come (FATAL with no retry pending) makes it FATAL, saying which. ``binds_to`` stops a dependent
whose dependency left RUNNING, and starts it again once the dependency holds again. Stopping
goes the other way: dependents before what they depend on.

The cost of waiting is linear: a dependent's targets are resolved once, when its wait begins
(again only when groups are added or removed); it keeps the set of (dependency, target) pairs
not met yet, and the waiting dependents are indexed by target, so a change of one process
looks only at the dependents waiting on it, and only at that process's pairs. (Deciding again
from scratch at every change made a chain of layers of 50 processes quadratic in the width.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from vigil.config.dependencies import Condition, Dependency
from vigil.core.events import Event
from vigil.core.states import ProcessState, SupervisorState
from vigil.runtime.process import ProcessContext, ProcessRunner

S = ProcessState
STARTABLE = frozenset({S.STOPPED, S.EXITED, S.FATAL})
LEFT_RUNNING = frozenset({S.STOPPING, S.STOPPED, S.EXITED, S.FATAL, S.BACKOFF, S.UNKNOWN})
BOUND_STATES = frozenset({S.RUNNING, S.STARTING, S.BACKOFF})

Key = tuple[str, str]  # (group, name) of a process: a runner replaced under it stays the target
Pair = tuple[int, Key]  # the index of a dependency in depends_on, and one target it names


class Group(Protocol):
    """What the gate reads of a group: its runners, by name and in start order."""

    @property
    def runners(self) -> Mapping[str, ProcessRunner]: ...

    def in_start_order(self) -> list[ProcessRunner]: ...


class Groups(Protocol):
    """What the gate needs of the supervisor: its groups, its mood, and its bus (to hear of
    groups added and removed)."""

    @property
    def mood(self) -> SupervisorState: ...

    @property
    def context(self) -> ProcessContext: ...

    @property
    def groups(self) -> Mapping[str, Group]: ...

    def runners(self) -> Iterator[ProcessRunner]: ...

    def find(self, group: str, name: str) -> ProcessRunner | None: ...


@dataclass(eq=False)
class Wait:
    """One dependent's wait: its targets as resolved when the wait began, and which of the
    (dependency, target) pairs do not hold yet (in depends_on order, for the description)."""

    runner: ProcessRunner
    pulled: bool  # its own dependencies were started when the wait began
    resolved: list[list[Key]] = field(default_factory=list)  # per dependency, its targets
    needs: dict[Key, list[int]] = field(default_factory=dict)  # target -> dependencies naming it
    labels: dict[Pair, str] = field(default_factory=dict)  # every pair -> "web:api (ready)"
    unmet: dict[Pair, str] = field(default_factory=dict)  # the pairs that do not hold, ordered
    missing: list[str] = field(default_factory=list)  # dependencies naming nothing loaded now

    def describe(self) -> str:
        return ", ".join([*self.unmet.values(), *self.missing])


class DependencyGate:
    def __init__(self, groups: Groups) -> None:
        self._groups = groups
        self._waits: dict[ProcessRunner, Wait] = {}  # dependent -> its wait
        self._by_target: dict[Key, set[ProcessRunner]] = {}  # target -> dependents waiting on it
        self._binders: dict[Key, set[Key]] | None = None  # target -> bound processes; lazily
        self.checks = 0  # (dependency, target) pairs checked: what a decision costs, counted
        groups.context.bus.subscribe("PROCESS_GROUP", self.on_group)

    # -- starting -------------------------------------------------------------------------

    def start(self, runner: ProcessRunner, *, pull: bool = True) -> None:
        """Start `runner` now if its dependencies hold, else once they do."""
        if runner.config.binds_to:
            self._note_binder(runner)
        if not runner.config.depends_on:
            runner.start()
            return
        if pull:
            self._pull(runner, {runner})
        self._begin(runner, pulled=pull)

    def cancel(self, runner: ProcessRunner) -> bool:
        """Stop waiting to start `runner` (a stop asked for); whether it was waiting."""
        if runner not in self._waits:
            return False
        self._forget(runner)
        runner.waiting_for = None
        runner.recheck_waiters()
        return True

    def clear(self) -> None:
        """The daemon stops: nothing waits any more."""
        for runner in list(self._waits):
            self.cancel(runner)

    def waiting(self, runner: ProcessRunner) -> bool:
        return runner in self._waits

    def regroup(self) -> None:
        """Processes were added or removed: resolve every wait's targets again (a wait that
        started its dependencies also starts those that came), and forget which processes
        are bound to which."""
        self._binders = None
        for wait in list(self._waits.values()):
            if self._waits.get(wait.runner) is not wait:
                continue  # decided meanwhile (started, blocked) by what a start caused
            known = set(wait.needs)
            self._resolve(wait)
            if wait.pulled:
                self._pull(wait.runner, {wait.runner}, only=set(wait.needs) - known)
            if self._waits.get(wait.runner) is wait:
                self._decide(wait)

    def _pull(
        self, runner: ProcessRunner, seen: set[ProcessRunner], only: set[Key] | None = None
    ) -> None:
        """Start what `runner` depends on (those of `only`, when given), depth first."""
        for dependency in runner.config.depends_on:
            if not dependency.pull:
                continue
            for target in self.resolve(dependency.target):
                if target in seen or not _needs_start(dependency, target):
                    continue
                if only is not None and (target.group, target.name) not in only:
                    continue
                seen.add(target)
                wait = self._waits.get(target)
                if wait is not None and wait.pulled:
                    continue  # waiting already, its own dependencies started
                self._pull(target, seen)
                if target.config.depends_on:
                    self._begin(target, pulled=True)
                else:
                    target.start()

    def _begin(self, runner: ProcessRunner, *, pulled: bool) -> Wait:
        self._forget(runner)
        wait = self._waits[runner] = Wait(runner, pulled)
        self._resolve(wait)
        self._decide(wait)
        return wait

    def _resolve(self, wait: Wait) -> None:
        """Resolve the wait's targets now and index the wait under each."""
        self._unindex(wait)
        wait.resolved, wait.needs, wait.labels, wait.missing = [], {}, {}, []
        for index, dependency in enumerate(wait.runner.config.depends_on):
            targets = self.resolve(dependency.target)
            keys = [(t.group, t.name) for t in targets]
            wait.resolved.append(keys)
            if not targets:
                wait.missing.append(f"{dependency.target} (not loaded)")
            for target, key in zip(targets, keys, strict=True):
                wait.needs.setdefault(key, []).append(index)
                wait.labels[index, key] = f"{target.namespec} ({_wanted(dependency)})"
                self._by_target.setdefault(key, set()).add(wait.runner)

    def _unindex(self, wait: Wait) -> None:
        for key in wait.needs:
            dependents = self._by_target.get(key)
            if dependents is not None:
                dependents.discard(wait.runner)
                if not dependents:
                    del self._by_target[key]

    def _forget(self, runner: ProcessRunner) -> None:
        wait = self._waits.pop(runner, None)
        if wait is not None:
            self._unindex(wait)

    def _still_waits(self, wait: Wait) -> bool:
        """Whether the dependent can be decided for now (STOPPED, EXITED or FATAL, and the
        daemon running); a dependent started by other means waits no more."""
        runner = wait.runner
        if runner.state not in STARTABLE:
            if runner.state not in (S.STOPPING, S.BACKOFF):  # started by other means
                self._forget(runner)
                runner.waiting_for = None
            return False
        return self._groups.mood is SupervisorState.RUNNING

    def _decide(self, wait: Wait) -> None:
        """Start, keep waiting or give up, from every target's state now (when the wait
        begins, when the dependent itself changed, when groups changed). A dependency that
        names nothing loaded (its group removed, or not added yet by an update) is waited
        for, as `missing`."""
        if not self._still_waits(wait):
            return
        wait.unmet = {}
        for index, dependency in enumerate(wait.runner.config.depends_on):
            for key in wait.resolved[index]:
                target = self._groups.find(*key)
                if target is None:
                    continue
                self.checks += 1
                why = _cannot(dependency, target)
                if why is not None:
                    self._block(wait.runner, f"dependency {target.namespec} {why}")
                    return
                if not _holds(dependency, target):
                    wait.unmet[index, key] = wait.labels[index, key]
        self._settle(wait)

    def _update(self, wait: Wait, key: Key, target: ProcessRunner) -> None:
        """`target` changed: check only its pairs, and act if that changed what is unmet."""
        if not self._still_waits(wait):
            return
        changed = False
        for index in wait.needs.get(key, ()):
            dependency = wait.runner.config.depends_on[index]
            self.checks += 1
            why = _cannot(dependency, target)
            if why is not None:
                self._block(wait.runner, f"dependency {target.namespec} {why}")
                return
            pair = (index, key)
            if _holds(dependency, target):
                changed |= wait.unmet.pop(pair, None) is not None
            elif pair not in wait.unmet:
                wait.unmet[pair] = wait.labels[pair]
                wait.unmet = {p: label for p, label in wait.labels.items() if p in wait.unmet}
                changed = True
        if changed:
            self._settle(wait)

    def _settle(self, wait: Wait) -> None:
        """Start the dependent if nothing is left to wait for, else say what it waits for."""
        runner = wait.runner
        if wait.unmet or wait.missing:
            runner.waiting_for = wait.describe()
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
        """A PROCESS_STATE or PROCESS_HEALTH event: decide again for the process itself if it
        waits, and for the dependents waiting on it (only its own pairs)."""
        if event.process is None or event.group is None:
            return
        key = (event.group, event.process)
        changed = self._groups.find(*key)
        if changed is None:
            return
        own = self._waits.get(changed)
        if own is not None:
            self._decide(own)
        for dependent in list(self._by_target.get(key, ())):
            wait = self._waits.get(dependent)
            if wait is not None and wait is not own:
                self._update(wait, key, changed)
        if changed.state in LEFT_RUNNING:
            self._unbind(changed)

    def on_group(self, event: Event) -> None:
        """PROCESS_GROUP_ADDED or _REMOVED: what the waits name may have changed."""
        self.regroup()

    def _unbind(self, left: ProcessRunner) -> None:
        """binds_to: stop what is bound to a process that left RUNNING; start it again later."""
        for key in list(self._binder_index().get((left.group, left.name), ())):
            runner = self._groups.find(*key)
            if runner is None or runner.state not in BOUND_STATES or not runner.config.binds_to:
                continue
            if any(left in self.resolve(name) for name in runner.config.binds_to):
                runner.stop()
                wait = self._begin(runner, pulled=False)  # decided when it is stopped
                if self._waits.get(runner) is wait:
                    runner.waiting_for = f"{left.namespec} (bound)"

    def _binder_index(self) -> dict[Key, set[Key]]:
        if self._binders is None:
            self._binders = {}
            for runner in self._groups.runners():
                if runner.config.binds_to:
                    self._note_binder(runner)
        return self._binders

    def _note_binder(self, runner: ProcessRunner) -> None:
        """Index a process with binds_to under what it is bound to (once the index is made:
        a process started after, as a process added by scaling, is added here)."""
        if self._binders is None:
            self._binder_index()
            return
        for name in runner.config.binds_to:
            for target in self.resolve(name):
                self._binders.setdefault((target.group, target.name), set()).add(
                    (runner.group, runner.name)
                )

    # -- names and order ------------------------------------------------------------------

    def resolve(self, target: str) -> list[ProcessRunner]:
        """The processes `target` names now, in start order (see config.dependencies)."""
        group_name, colon, name = target.partition(":")
        groups = self._groups.groups
        if colon:
            group = groups.get(group_name)
            if group is None:
                return []
            if name == "*":
                return group.in_start_order()
            runner = group.runners.get(name)
            return [] if runner is None else [runner]
        group = groups.get(target)
        in_group = [] if group is None else group.in_start_order()
        return in_group or [r for r in self._groups.runners() if r.name == target]

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
