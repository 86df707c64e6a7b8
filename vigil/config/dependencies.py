"""Start dependencies as values: ``depends_on``, ``binds_to`` and supervisord-dependent-startup's
``dependent_startup_wait_for``, read into `Dependency`, then checked across the whole file.

Names are resolved once every group is known: a plain NAME is a group (every process of the
program) or, failing that, a process of a ``[group:x]``; ``group:name`` one process;
``group:*`` every process of a group. An unknown name and a cycle are errors of the section
and option that wrote them; a cycle is shown as the chain it makes (``a -> b -> c -> a``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum

from vigil.config.datatypes import ConversionError


class Condition(Enum):
    """What a dependency must be for its dependent to start."""

    STARTED = "started"  # spawned: STARTING, RUNNING (or beyond: it has run)
    RUNNING = "running"  # RUNNING
    READY = "ready"  # RUNNING and not reloading (sd_notify RELOADING=1)
    HEALTHY = "healthy"  # RUNNING and its last health checks passed
    EXITED_OK = "exited_ok"  # ended with one of its exitcodes (a task done: type = oneshot)
    STATES = "states"  # in one of `states` (dependent_startup_wait_for)


# supervisord-dependent-startup's states, as its README lists them
PLUGIN_STATES = ("starting", "running", "backoff", "stopping", "exited", "fatal")
CONDITIONS = {c.value: c for c in Condition if c is not Condition.STATES}


@dataclass(frozen=True)
class Dependency:
    """`target` as written (``db``, ``web:api``, ``web:*``) and the condition it must meet.

    `pull`: starting the dependent also starts the dependency (depends_on, as systemd's
    Requires= and docker compose do); supervisord-dependent-startup only waits.
    `option` is where it was written, for messages."""

    target: str
    condition: Condition = Condition.READY
    states: tuple[str, ...] = ()  # upper-case ProcessState names, for Condition.STATES
    pull: bool = True
    option: str = field(default="depends_on", compare=False)

    def __str__(self) -> str:
        what = "|".join(s.lower() for s in self.states) or self.condition.value
        return f"{self.target} ({what})"


def depends_on(value: str) -> tuple[Dependency, ...]:
    """``NAME[:CONDITION], ...``; NAME may itself hold a colon (``group:name``), so only a
    last part that is a condition is taken as one."""
    found: list[Dependency] = []
    for item in _items(value, ","):
        name, condition = item, Condition.READY
        head, colon, tail = item.rpartition(":")
        if colon and tail.strip().lower() in CONDITIONS:
            name, condition = head.strip(), CONDITIONS[tail.strip().lower()]
        found.append(Dependency(_name(name, item), condition))
    return tuple(found)


def binds_to(value: str) -> tuple[str, ...]:
    return tuple(_name(item, item) for item in _items(value, ","))


def wait_for(value: str) -> tuple[Dependency, ...]:
    """``NAME:STATE[,STATE...] ...`` separated by white space (dependent_startup_wait_for)."""
    found: list[Dependency] = []
    for item in value.split():
        name, colon, states = item.rpartition(":")
        wanted = tuple(s.strip().lower() for s in states.split(",") if s.strip())
        bad = [s for s in wanted if s not in PLUGIN_STATES]
        if not colon or not wanted or bad:
            raise ConversionError(
                f"invalid dependent_startup_wait_for entry {item!r} (NAME:STATE[,STATE] with "
                f"states among {', '.join(PLUGIN_STATES)})"
            )
        found.append(
            Dependency(
                _name(name, item),
                Condition.STATES,
                tuple(s.upper() for s in wanted),
                pull=False,
                option="dependent_startup_wait_for",
            )
        )
    return tuple(found)


def _items(value: str, separator: str) -> Iterator[str]:
    for item in value.split(separator):
        if item.strip():
            yield item.strip()


def _name(name: str, item: str) -> str:
    name = name.strip()
    if not name or " " in name or name.count(":") > 1:
        raise ConversionError(f"{item!r} is not NAME, group:name or group:* (with a condition)")
    return name


# -- across the file ------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One process as the dependency check sees it."""

    group: str
    name: str
    section: str  # where its options are written, for messages
    dependencies: tuple[Dependency, ...]

    @property
    def namespec(self) -> str:
        return self.name if self.name == self.group else f"{self.group}:{self.name}"


def resolve(target: str, members: Iterable[Member]) -> list[Member] | str:
    """The processes `target` names, or why it names none (a message)."""
    members = list(members)
    group, colon, name = target.partition(":")
    if colon:
        found = [m for m in members if m.group == group and name in ("*", m.name)]
        return found or f"{target!r} names no process (no group {group!r} or no {name!r} in it)"
    in_group = [m for m in members if m.group == target]
    if in_group:
        return in_group
    by_name = [m for m in members if m.name == target]
    if len(by_name) == 1:
        return by_name
    if by_name:
        choices = ", ".join(m.namespec for m in by_name)
        return f"{target!r} is ambiguous (one of {choices}): write group:name"
    return f"{target!r} names no program, group or process"


def problems(members: list[Member]) -> Iterator[tuple[Member, str, str]]:
    """(member, option, message) for each unknown name and each cycle."""
    edges: dict[str, list[str]] = {}
    by_spec = {m.namespec: m for m in members}
    for member in members:
        targets: list[str] = []
        for dependency in member.dependencies:
            found = resolve(dependency.target, members)
            if isinstance(found, str):
                yield member, dependency.option, found
                continue
            if member in found:
                yield member, dependency.option, f"{member.namespec} depends on itself"
                continue
            targets += [m.namespec for m in found]
        edges[member.namespec] = targets
    for cycle in _cycles(edges):
        member = by_spec[cycle[0]]
        yield member, "depends_on", "dependency cycle: " + " -> ".join(cycle)


def _cycles(edges: dict[str, list[str]]) -> Iterator[list[str]]:
    """Each cycle once (found by a depth-first walk, iterative: chains may be long)."""
    done: set[str] = set()
    for root in edges:
        if root in done:
            continue
        path: list[str] = [root]
        on_path = {root}
        stack = [iter(edges.get(root, ()))]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                node = path.pop()
                on_path.discard(node)
                done.add(node)
                continue
            if following in on_path:
                yield [*path[path.index(following) :], following]
            elif following not in done:
                path.append(following)
                on_path.add(following)
                stack.append(iter(edges.get(following, ())))
