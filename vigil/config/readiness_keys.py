"""The options of readiness, dependencies and health checks (issue 14): how each is read, and
the checks that need the whole file (names that must exist, cycles, conditions a dependency
cannot meet)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from vigil.config import datatypes as dt
from vigil.config import dependencies as deps
from vigil.config import probes
from vigil.config.model import GroupConfig, GroupKind
from vigil.config.reading import OptionReader

READINESS_OPTIONS: tuple[tuple[str, Callable[[str], Any]], ...] = (
    ("ready", probes.ready_probe),
    ("ready_timeout", probes.positive_seconds),
    ("depends_on", deps.depends_on),
    ("binds_to", deps.binds_to),
    ("dependent_startup", dt.boolean),
    ("healthcheck", probes.health_probe),
    ("healthcheck_interval", probes.positive_seconds),
    ("healthcheck_timeout", probes.positive_seconds),
    ("healthcheck_retries", probes.positive_integer),
    ("healthcheck_start_period", dt.seconds),
    ("healthcheck_action", probes.health_action),
    ("watchdog_sec", dt.seconds),
)
# supervisord-dependent-startup's keys that are not fields: its wait list joins depends_on;
# inheriting priority is what waiting for the dependencies already does.
PLUGIN_KEYS = frozenset({"dependent_startup_wait_for", "dependent_startup_inherit_priority"})


def read_plugin_keys(
    settings: dict[str, Any], value: Callable[[str, Callable[[str], Any], Any], Any]
) -> None:
    """Add dependent_startup_wait_for's entries to depends_on; the dependencies named there
    are also bound (binds_to) when they are listed in both."""
    waits: tuple[deps.Dependency, ...] = value("dependent_startup_wait_for", deps.wait_for, ())
    value("dependent_startup_inherit_priority", dt.boolean, False)
    settings["depends_on"] = (*settings["depends_on"], *waits)
    written = {d.target for d in settings["depends_on"]}
    settings["depends_on"] += tuple(
        deps.Dependency(name) for name in settings["binds_to"] if name not in written
    )


def check_across(groups: Iterable[GroupConfig], reader: OptionReader) -> None:
    """Report unknown names, cycles and conditions a dependency cannot meet."""
    processes = [
        process
        for group in groups
        if group.kind is not GroupKind.EVENTLISTENER
        for process in group.processes
    ]
    if not any(p.depends_on for p in processes):
        return
    members = [deps.Member(p.group, p.name, p.source.section, p.depends_on) for p in processes]
    for member, option, message in deps.problems(members):
        reader.error(member.section, message, option)
    by_spec = {m.namespec: p for m, p in zip(members, processes, strict=True)}
    for member in members:
        for dependency in member.dependencies:
            if dependency.condition is not deps.Condition.HEALTHY:
                continue
            found = deps.resolve(dependency.target, members)
            for target in [] if isinstance(found, str) else found:
                if by_spec[target.namespec].healthcheck is None:
                    reader.error(
                        member.section,
                        f"{target.namespec} has no healthcheck, so it is never healthy",
                        dependency.option,
                    )
