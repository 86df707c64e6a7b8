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


# Options whose new value a running process can take without a restart: they decide what the
# daemon does next (restart policy, stop, order, checks, hooks), not how the running child was
# started. Any other option restarts the process (so does an option added later, until it is
# listed here). Log rotation (*_logfile_maxbytes, *_logfile_backups) restarts for now: a live
# child log has no way yet to take new rotation settings.
IN_PLACE_OPTIONS = frozenset(
    {
        "priority",
        "autostart",
        "autorestart",
        "startsecs",
        "startretries",
        "exitcodes",
        "stopsignal",
        "stopwaitsecs",
        "stopasgroup",
        "killasgroup",
        "type",
        "backoff",
        "backoff_delay",
        "backoff_max",
        "backoff_jitter",
        "backoff_reset",
        "restart_delay",
        "start_limit",
        "fatal_retry",
        "pre_start",
        "post_stop",
        "hook_timeout",
        "update_strategy",
        "ready",
        "ready_timeout",
        "depends_on",
        "binds_to",
        "dependent_startup",
        "healthcheck",
        "healthcheck_interval",
        "healthcheck_timeout",
        "healthcheck_retries",
        "healthcheck_start_period",
        "healthcheck_action",
        "essential",
        "stdout_logfile_maxbytes",
        "stdout_logfile_backups",
        "stderr_logfile_maxbytes",
        "stderr_logfile_backups",
    }
)
# The options of IN_PLACE_OPTIONS that Supervisor does not have: a change of only these is
# applied in place whatever update_in_place says. There is no Supervisor behaviour to keep
# for them, and restarting a running program because its backoff or health check interval
# changed is what the restart policy is meant to spare.
VIGIL_IN_PLACE_OPTIONS = IN_PLACE_OPTIONS - {
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
}
# What a group holds beside its processes that can change without restarting them: its
# priority. (A listener pool's `events` are subscribed when its group is added, so a change
# of them replaces the group, as Supervisor does.)
IN_PLACE_GROUP_OPTIONS = frozenset({"priority"})


@dataclass(frozen=True)
class GroupChanges:
    """What differs between a running group and its configuration, process by process.

    ``in_place`` are the processes whose every changed option is in IN_PLACE_OPTIONS,
    ``restarted`` those with another changed option; ``options`` names every changed option
    of each (group options under the group's name).
    """

    name: str
    kept: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    in_place: tuple[str, ...] = ()
    restarted: tuple[str, ...] = ()
    group_options: tuple[str, ...] = ()
    options: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def group_in_place(self) -> bool:
        return set(self.group_options) <= IN_PLACE_GROUP_OPTIONS

    @property
    def only_in_place(self) -> bool:
        """Whether applying it in place restarts nothing and adds or removes nothing."""
        return not (self.added or self.removed or self.restarted) and self.group_in_place

    @property
    def only_vigil_options(self) -> bool:
        """Whether every change is of an option Supervisor does not have and a running
        process can take (VIGIL_IN_PLACE_OPTIONS), nothing added or removed."""
        if self.added or self.removed or self.group_options or not self.options:
            return False
        return all(set(changed) <= VIGIL_IN_PLACE_OPTIONS for _, changed in self.options)


def changed_options(old: object, new: object) -> tuple[str, ...]:
    """The fields of two configurations (process or group) that differ, in field order."""
    assert dataclasses.is_dataclass(old) and dataclasses.is_dataclass(new)
    names = []
    for field in dataclasses.fields(old):
        if not field.compare or field.name == "processes":
            continue
        before, after = getattr(old, field.name), getattr(new, field.name)
        if field.name == "environment":
            before, after = sorted(before), sorted(after)
        if before != after:
            names.append(field.name)
    return tuple(names)


def group_changes(active: GroupConfig, wanted: GroupConfig) -> GroupChanges:
    """How `active` (as it runs) becomes `wanted` (as configured), process by process."""
    before = {process.name: process for process in active.processes}
    after = {process.name: process for process in wanted.processes}
    kept: list[str] = []
    in_place: list[str] = []
    restarted: list[str] = []
    options: list[tuple[str, tuple[str, ...]]] = []
    for name, process in after.items():
        if name not in before:
            continue
        changed = changed_options(before[name], process)
        if not changed:
            kept.append(name)
            continue
        options.append((name, changed))
        (in_place if set(changed) <= IN_PLACE_OPTIONS else restarted).append(name)
    group_options = changed_options(active, wanted)
    if group_options:
        options.append((wanted.name, group_options))
    return GroupChanges(
        name=wanted.name,
        kept=tuple(kept),
        added=tuple(name for name in after if name not in before),
        removed=tuple(name for name in before if name not in after),
        in_place=tuple(in_place),
        restarted=tuple(restarted),
        group_options=group_options,
        options=tuple(options),
    )
