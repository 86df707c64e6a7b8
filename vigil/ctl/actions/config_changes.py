"""``avail``, ``reread``, ``update``, ``add`` and ``remove``: the configuration on disk against
the process groups the daemon runs.

Like Supervisor's, these do not check first that the server answers: when it does not, the
connection error itself is what gets printed.
"""

from __future__ import annotations

from vigil.ctl.actions.base import (
    COMPLETE_GROUPS,
    Action,
    Outcomes,
    print_json,
    take_json_flag,
)
from vigil.ctl.actions.operations import failure_line, show_steps
from vigil.ctl.errors import Fault
from vigil.ctl.exit_codes import InitExit
from vigil.ctl.names import make_namespec
from vigil.ctl.output import avail_line
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from vigil.ctl.controller import Controller

AVAIL_JSON_FIELDS = ("group", "name", "inuse", "autostart", "group_prio", "process_prio")
GROUP_RESULTS_JSON_HELP = (
    "\t\t\tWith --json: a JSON array of one object per group with the keys",
    "\t\t\tname, action, status (SUCCESS or the fault's name), code, message",
)


class AvailAction(Action):
    name = "avail"
    speaks_json = True
    help_lines = ("avail\t\t\tDisplay all configured processes",)
    more_help_lines = (
        "avail --json\t\tThe same as a JSON array of one object per process with the",
        "\t\t\tkeys namespec, " + ", ".join(AVAIL_JSON_FIELDS),
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        words, as_json = take_json_flag(arg.split())
        if self.refuse_arguments(ctl, " ".join(words)):
            return False
        try:
            infos = ctl.supervisor("getAllConfigInfo")
        except Fault as fault:
            ctl.exit_status = InitExit.GENERIC
            if fault.code != Faults.SHUTDOWN_STATE:
                raise
            ctl.output("ERROR: supervisor shutting down")
            return False
        assert isinstance(infos, list)
        if as_json:
            print_json(ctl, [_avail_record(info) for info in infos])
        else:
            for info in infos:
                ctl.output(avail_line(info))
        return False


def _avail_record(info: dict[str, object]) -> dict[str, object]:
    record: dict[str, object] = {"namespec": make_namespec(str(info["group"]), str(info["name"]))}
    record.update((field, info.get(field)) for field in AVAIL_JSON_FIELDS)
    return record


def reload_config(ctl: Controller) -> tuple[list[str], list[str], list[str]]:
    """Ask the daemon to reread its files: (added, changed, removed) group names."""
    result = ctl.supervisor("reloadConfig")
    assert isinstance(result, list) and result and isinstance(result[0], list)
    added, changed, removed = result[0]
    return list(added), list(changed), list(removed)


class RereadAction(Action):
    name = "reread"
    speaks_json = True
    help_lines = ("reread \t\t\tReload the daemon's configuration files without add/remove",)
    more_help_lines = (
        'reread --json\t\tThe changes as JSON: {"added": [...], "changed": [...],',
        '\t\t\t"removed": [...]}, group names in each',
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        words, as_json = take_json_flag(arg.split())
        if self.refuse_arguments(ctl, " ".join(words)):
            return False
        try:
            added, changed, removed = reload_config(ctl)
        except Fault as fault:
            ctl.exit_status = InitExit.GENERIC
            if fault.code == Faults.SHUTDOWN_STATE:
                ctl.output("ERROR: supervisor shutting down")
            elif fault.code == Faults.CANT_REREAD:
                ctl.output(f"ERROR: {fault.text}")
            else:
                raise
            return False
        if as_json:
            kinds = {"added": added, "changed": changed, "removed": removed}
            print_json(ctl, {kind: sorted(names) for kind, names in kinds.items()})
            return False
        changes = {name: "available" for name in added}
        changes.update((name, "changed") for name in changed)
        changes.update((name, "disappeared") for name in removed)
        if changed:
            changes.update(in_place_notes(ctl))
        for name in sorted(changes):
            ctl.output(f"{name}: {changes[name]}")
        if not changes:
            ctl.output("No config updates to processes")
        return False


def in_place_notes(ctl: Controller) -> dict[str, str]:
    """With [supervisord] update_in_place on a vigil daemon: each changed group's line says
    what would apply in place and what restart (``web: changed (in place)``). Nothing
    otherwise, so reread prints Supervisor's lines to the byte."""
    try:
        found = ctl.client.call("vigil.getConfigChanges")
    except Fault as fault:
        if fault.code == Faults.UNKNOWN_METHOD:  # Supervisor's daemon
            return {}
        raise
    assert isinstance(found, dict)
    if not found["update_in_place"]:
        return {}
    return {group["name"]: "changed " + _in_place_note(group) for group in found["groups"]}


def _in_place_note(group: Mapping[str, Any]) -> str:
    """``(in place)`` or ``(restart)`` when that is all; else each part with its processes:
    ``(in place: web:web_0; restart: web:web_1; remove: web:web_2)``."""
    name = str(group["name"])
    parts = {
        label: [make_namespec(name, str(p)) for p in group[key]]
        for label, key in (
            ("in place", "in_place"),
            ("restart", "restarted"),
            ("add", "added"),
            ("remove", "removed"),
        )
    }
    present = [label for label, names in parts.items() if names]
    if group["how"] in ("in place", "restart"):  # every change applied in place, or none
        return f"({group['how']})"
    if present == ["restart"]:
        return "(restart)"
    return "(" + "; ".join(f"{label}: {', '.join(parts[label])}" for label in present) + ")"


class UpdateAction(Action):
    name = "update"
    completes = COMPLETE_GROUPS
    speaks_json = True
    help_lines = (
        "update\t\t\tReload config and add/remove as necessary, and will restart affected programs",
        "update all\t\tReload config and add/remove as necessary, and will restart affected "
        "programs",
        "update <gname> [...]\tUpdate specific groups",
    )
    more_help_lines = (
        "update --json [...]",
        *GROUP_RESULTS_JSON_HELP,
        "\t\t\t(action: remove, update or add)",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        words, as_json = take_json_flag(arg.split())
        try:
            added, changed, removed = reload_config(ctl)
        except Fault as fault:
            ctl.exit_status = InitExit.GENERIC
            if fault.code != Faults.SHUTDOWN_STATE:
                raise
            ctl.output("ERROR: already shutting down")
            return False
        outcomes = Outcomes(ctl, as_json)
        # Names in the order given, each once; "all" is the same as no names.
        wanted = list(dict.fromkeys(words))
        if "all" in wanted:
            wanted = []
        if wanted:
            self._check_names(ctl, wanted, added, outcomes)
        for group in removed:
            if not wanted or group in wanted:
                self._remove(ctl, group, outcomes)
        vigil = True  # until the daemon says it has no vigil.updateProcessGroup
        for group in changed:
            if not wanted or group in wanted:
                vigil = vigil and self._update_in_steps(ctl, group, outcomes)
                if not vigil:
                    # Supervisor's: any change restarts the whole group (stop, remove, add)
                    ctl.supervisor("stopProcessGroup", group)
                    outcomes.note(f"{group}: stopped")
                    ctl.supervisor("removeProcessGroup", group)
                    ctl.supervisor("addProcessGroup", group)
                    message = "updated process group"
                    outcomes.add(f"{group}: {message}", "update", group, Faults.SUCCESS, message)
        for group in added:
            if not wanted or group in wanted:
                ctl.supervisor("addProcessGroup", group)
                message = "added process group"
                outcomes.add(f"{group}: {message}", "add", group, Faults.SUCCESS, message)
        outcomes.finish()
        return False

    @staticmethod
    def _update_in_steps(ctl: Controller, group: str, outcomes: Outcomes) -> bool:
        """Have a vigil daemon update the group as its configuration asks (rolling, in place,
        reconciled after a scale, or Supervisor's restart); False when the daemon has no
        vigil.updateProcessGroup (Supervisor's), and nothing was done."""
        try:
            result = ctl.client.call("vigil.updateProcessGroup", group)
        except Fault as fault:
            if fault.code == Faults.UNKNOWN_METHOD:
                return False
            raise
        assert isinstance(result, dict)
        if result["how"] == "restart":
            outcomes.note(f"{group}: stopped")
        else:
            show_steps(ctl, result["steps"], outcomes, "update")
        if result["done"]:
            message = "updated process group"
            if result["how"] != "restart":
                message += f" ({result['how']})"
            outcomes.add(f"{group}: {message}", "update", group, Faults.SUCCESS, message)
        else:
            line = failure_line(group, result)
            outcomes.add(line, "update", group, Faults.FAILED, line[7:])
            ctl.exit_status = InitExit.GENERIC
        return True

    def _check_names(
        self, ctl: Controller, wanted: list[str], added: list[str], outcomes: Outcomes
    ) -> None:
        infos = ctl.all_process_info()
        assert isinstance(infos, list)
        known = {info["group"] for info in infos} | set(added)
        for group in wanted:
            if group not in known:
                text = f"ERROR: no such group: {group}"
                outcomes.add(text, self.name, group, Faults.BAD_NAME, "no such group")
                ctl.exit_status = InitExit.GENERIC

    @staticmethod
    def _remove(ctl: Controller, group: str, outcomes: Outcomes) -> None:
        results = ctl.supervisor("stopProcessGroup", group)
        assert isinstance(results, list)
        outcomes.note(f"{group}: stopped")
        if any(result["status"] == Faults.FAILED for result in results):
            message = "has problems; not removing"
            outcomes.add(f"{group}: {message}", "remove", group, Faults.FAILED, message)
            ctl.exit_status = InitExit.GENERIC
            return
        ctl.supervisor("removeProcessGroup", group)
        message = "removed process group"
        outcomes.add(f"{group}: {message}", "remove", group, Faults.SUCCESS, message)


# What ``add`` and ``remove`` print for each fault: (the text line, its words, a failure?).
_ADD_FAULTS: dict[int, tuple[str, str, bool]] = {
    Faults.SHUTDOWN_STATE: ("ERROR: shutting down", "shutting down", True),
    # Not a failure: the group is there, as asked.
    Faults.ALREADY_ADDED: (
        "ERROR: process group already active",
        "process group already active",
        False,
    ),
    Faults.BAD_NAME: ("ERROR: no such process/group: {name}", "no such process/group", True),
}
_REMOVE_FAULTS: dict[int, tuple[str, str, bool]] = {
    Faults.STILL_RUNNING: (
        "ERROR: process/group still running: {name}",
        "process/group still running",
        True,
    ),
    Faults.BAD_NAME: ("ERROR: no such process/group: {name}", "no such process/group", True),
}


class _GroupChangeAction(Action):
    """``add`` and ``remove``: one XML-RPC call and one result per name."""

    completes = COMPLETE_GROUPS
    speaks_json = True
    method = ""
    done = ""
    faults: Mapping[int, tuple[str, str, bool]] = {}

    def run(self, ctl: Controller, arg: str) -> bool:
        names, as_json = take_json_flag(arg.split())
        outcomes = Outcomes(ctl, as_json)
        for name in names:
            try:
                ctl.supervisor(self.method, name)
            except Fault as fault:
                known = self.faults.get(fault.code)
                if known is None:
                    ctl.exit_status = InitExit.GENERIC
                    raise
                text, message, failed = known
                outcomes.add(text.format(name=name), self.name, name, fault.code, message)
                if failed:
                    ctl.exit_status = InitExit.GENERIC
            else:
                text = f"{name}: {self.done}"
                outcomes.add(text, self.name, name, Faults.SUCCESS, self.done)
        outcomes.finish()
        return False


class AddAction(_GroupChangeAction):
    name = "add"
    help_lines = ("add <name> [...]\tActivates any updates in config for process/group",)
    more_help_lines = ("add --json <name> [...]", *GROUP_RESULTS_JSON_HELP)
    method = "addProcessGroup"
    done = "added process group"
    faults = _ADD_FAULTS


class RemoveAction(_GroupChangeAction):
    name = "remove"
    help_lines = ("remove <name> [...]\tRemoves process/group from active config",)
    more_help_lines = ("remove --json <name> [...]", *GROUP_RESULTS_JSON_HELP)
    method = "removeProcessGroup"
    done = "removed process group"
    faults = _REMOVE_FAULTS
