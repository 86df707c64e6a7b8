"""What changed between two configurations, group by group (reread, update, avail).

Supervisor's ``diff_to_active`` rules: groups are matched by name; a group changed when its
priority, kind-specific settings or any field of any of its processes differs. AUTO child
log paths compare equal (the model keeps AUTO; the runtime never writes the chosen path back).
One refinement: the order of environment variables is not a change, as Supervisor keeps them
in a dict.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from vigil.config.model import Config, GroupConfig


@dataclass(frozen=True)
class ConfigDiff:
    """Group names, in Supervisor's order: added and changed as in the new configuration,
    removed as in the old one."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def diff(old: Config, new: Config) -> ConfigDiff:
    before = {group.name: group for group in old.groups}
    after = {group.name: group for group in new.groups}
    return ConfigDiff(
        added=tuple(name for name in after if name not in before),
        changed=tuple(
            name
            for name, group in after.items()
            if name in before and _comparable(group) != _comparable(before[name])
        ),
        removed=tuple(name for name in before if name not in after),
    )


def _comparable(group: GroupConfig) -> GroupConfig:
    processes = tuple(
        dataclasses.replace(process, environment=tuple(sorted(process.environment)))
        for process in group.processes
    )
    return dataclasses.replace(group, processes=processes)
