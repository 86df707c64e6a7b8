"""Start dependencies at run time: a process starts once what it depends on holds, never
before, and nothing polls: a decision is taken again only when a process it waits for changes
state (PROCESS_STATE on the bus) or health, or when groups come or go.

Starting a dependent starts its ``depends_on`` dependencies first (as systemd's Requires= and
docker compose do; dependent_startup_wait_for only waits, as its plugin did). While it waits
the dependent stays STOPPED, described ``waiting for db (ready)``; a dependency that cannot
come (FATAL with no retry pending) makes it FATAL, saying which. ``binds_to`` stops a dependent
whose dependency left RUNNING, and starts it again once the dependency holds again. Stopping
goes the other way: dependents before what they depend on.

The cost of waiting is linear: the dependents with the same ``depends_on`` (the processes of
one program) share a Need, whose targets are resolved once, when the first begins to wait
(again only when groups are added or removed). It keeps the (dependency, target) pairs not
met yet, the needs are indexed by target, and a change of one process checks only its own
pairs, once per need; its dependents are decided again only when that changed what is
unmet. (Deciding every dependent again from scratch at every change of any of its targets
made a chain of layers of 50 processes quadratic in the width, 3.6 s per layer.)
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
class Need:
    """What the dependents with one same ``depends_on`` wait for (the processes of a program,
    all alike, share one): its targets as resolved when the first began to wait, which
    (dependency, target) pairs do not hold yet and which cannot come, kept current at every
    change of a target, whatever state its dependents are in. Each change is then checked
    once, not once per dependent."""

    dependencies: tuple[Dependency, ...]
    dependents: dict[ProcessRunner, bool] = field(default_factory=dict)  # -> pulled
    resolved: list[list[Key]] = field(default_factory=list)  # per dependency, its targets
    needs: dict[Key, list[int]] = field(default_factory=dict)  # target -> dependencies naming it
    labels: dict[Pair, str] = field(default_factory=dict)  # every pair -> "web:api (ready)"
    unmet: dict[Pair, str] = field(default_factory=dict)  # the pairs that do not hold, ordered
    cannot: dict[Pair, str] = field(default_factory=dict)  # -> "dependency db is FATAL"
    missing: list[str] = field(default_factory=list)  # dependencies naming nothing loaded now
    description: str = ""  # what its dependents wait for, made once per change

    def describe(self) -> None:
        self.description = ", ".join([*self.unmet.values(), *self.missing])


class DependencyGate:
    def __init__(self, groups: Groups) -> None:
        self._groups = groups
        self._waits: dict[ProcessRunner, Need] = {}  # dependent -> what it waits for
        self._needs: dict[tuple[Dependency, ...], Need] = {}  # each shared by its dependents
        self._by_target: dict[Key, set[Need]] = {}  # target -> the needs naming it
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
        """Processes were added or removed: resolve every need's targets again (dependents
        whose start started their dependencies also start those that came), and forget which
        processes are bound to which."""
        self._binders = None
        for need in list(self._needs.values()):
            if self._needs.get(need.dependencies) is not need:
                continue  # left meanwhile (started, blocked) by what a start caused
            known = set(need.needs)
            self._resolve(need)
            pulled = next((r for r, pull in need.dependents.items() if pull), None)
            if pulled is not None:
                self._pull(pulled, {pulled}, only=set(need.needs) - known)
            self._decide_all(need)

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
                need = self._waits.get(target)
                if need is not None and need.dependents.get(target):
                    continue  # waiting already, its own dependencies started
                self._pull(target, seen)
                if target.config.depends_on:
                    self._begin(target, pulled=True)
                else:
                    target.start()

    def _begin(self, runner: ProcessRunner, *, pulled: bool) -> None:
        self._forget(runner)
        dependencies = runner.config.depends_on
        need = self._needs.get(dependencies)
        if need is None:
            need = self._needs[dependencies] = Need(dependencies)
            self._resolve(need)
        need.dependents[runner] = pulled
        self._waits[runner] = need
        self._decide(runner, need)

    def _resolve(self, need: Need) -> None:
        """Resolve the need's targets now, index it under each, and check every pair."""
        self._unindex(need)
        need.resolved, need.needs, need.labels, need.missing = [], {}, {}, []
        for index, dependency in enumerate(need.dependencies):
            targets = self.resolve(dependency.target)
            keys = [(t.group, t.name) for t in targets]
            need.resolved.append(keys)
            if not targets:
                need.missing.append(f"{dependency.target} (not loaded)")
            for target, key in zip(targets, keys, strict=True):
                need.needs.setdefault(key, []).append(index)
                need.labels[index, key] = f"{target.namespec} ({_wanted(dependency)})"
                self._by_target.setdefault(key, set()).add(need)
        need.unmet, need.cannot = {}, {}
        for key in need.needs:
            found = self._groups.find(*key)
            if found is not None:
                self._check(need, key, found, ordered=False)
        need.unmet = {p: label for p, label in need.labels.items() if p in need.unmet}
        need.cannot = {p: why for p, why in sorted(need.cannot.items())}
        need.describe()

    def _unindex(self, need: Need) -> None:
        for key in need.needs:
            needs = self._by_target.get(key)
            if needs is not None:
                needs.discard(need)
                if not needs:
                    del self._by_target[key]

    def _forget(self, runner: ProcessRunner) -> None:
        need = self._waits.pop(runner, None)
        if need is None:
            return
        del need.dependents[runner]
        if not need.dependents:
            self._unindex(need)
            del self._needs[need.dependencies]

    def _check(self, need: Need, key: Key, target: ProcessRunner, *, ordered: bool = True) -> bool:
        """Check `target`'s pairs in `need` now; whether what is unmet or cannot come changed.
        A pair unmet again goes back to its place (`ordered`), for the description."""
        changed = False
        for index in need.needs.get(key, ()):
            dependency = need.dependencies[index]
            pair = (index, key)
            self.checks += 1
            why = _cannot(dependency, target)
            if why is not None:
                changed |= need.cannot.get(pair) is None
                need.cannot[pair] = f"dependency {target.namespec} {why}"
            elif need.cannot.pop(pair, None) is not None:
                changed = True
            if _holds(dependency, target):
                changed |= need.unmet.pop(pair, None) is not None
            elif pair not in need.unmet:
                need.unmet[pair] = need.labels[pair]
                if ordered:
                    need.unmet = {p: label for p, label in need.labels.items() if p in need.unmet}
                changed = True
        return changed

    def _decide(self, runner: ProcessRunner, need: Need) -> None:
        """Start, keep waiting or give up, for one dependent from its need as it is now: a
        dependent that is not STOPPED, EXITED or FATAL is decided when it is (a bound one
        being stopped), or waits no more (started by other means)."""
        if runner.state not in STARTABLE:
            if runner.state not in (S.STOPPING, S.BACKOFF):
                self._forget(runner)
                runner.waiting_for = None
            return
        if self._groups.mood is not SupervisorState.RUNNING:
            return
        if need.cannot:
            self._forget(runner)
            runner.waiting_for = None
            runner.block(next(iter(need.cannot.values())))
        elif need.unmet or need.missing:
            runner.waiting_for = need.description
            runner.recheck_waiters()
        else:
            self._forget(runner)
            runner.waiting_for = None
            runner.start()

    def _decide_all(self, need: Need) -> None:
        for runner in list(need.dependents):
            if self._waits.get(runner) is need:
                self._decide(runner, need)

    # -- what happens to the processes ----------------------------------------------------

    def on_state(self, event: Event) -> None:
        """A PROCESS_STATE or PROCESS_HEALTH event: decide again for the process itself if it
        waits; check the pairs naming it in each need, and decide again for the dependents
        of a need that changed."""
        if event.process is None or event.group is None:
            return
        key = (event.group, event.process)
        changed = self._groups.find(*key)
        if changed is None:
            return
        own = self._waits.get(changed)
        if own is not None:
            self._decide(changed, own)
        for need in list(self._by_target.get(key, ())):
            if self._needs.get(need.dependencies) is need and self._check(need, key, changed):
                need.describe()
                self._decide_all(need)
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
                self._begin(runner, pulled=False)  # decided when it is stopped
                if runner in self._waits:
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
