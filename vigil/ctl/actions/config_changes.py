"""``avail``, ``reread``, ``update``, ``add`` and ``remove``: the configuration on disk against
the process groups the daemon runs.

Like Supervisor's, these do not check first that the server answers: when it does not, the
connection error itself is what gets printed.
"""

from __future__ import annotations

from vigil.ctl.actions.base import COMPLETE_GROUPS, Action, print_json, take_json_flag
from vigil.ctl.errors import Fault
from vigil.ctl.exit_codes import InitExit
from vigil.ctl.names import make_namespec
from vigil.ctl.output import avail_line
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.ctl.controller import Controller

AVAIL_JSON_FIELDS = ("group", "name", "inuse", "autostart", "group_prio", "process_prio")


class AvailAction(Action):
    name = "avail"
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
    help_lines = ("reread \t\t\tReload the daemon's configuration files without add/remove",)

    def run(self, ctl: Controller, arg: str) -> bool:
        if self.refuse_arguments(ctl, arg):
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
        changes = {name: "available" for name in added}
        changes.update((name, "changed") for name in changed)
        changes.update((name, "disappeared") for name in removed)
        for name in sorted(changes):
            ctl.output(f"{name}: {changes[name]}")
        if not changes:
            ctl.output("No config updates to processes")
        return False


class UpdateAction(Action):
    name = "update"
    completes = COMPLETE_GROUPS
    help_lines = (
        "update\t\t\tReload config and add/remove as necessary, and will restart affected programs",
        "update all\t\tReload config and add/remove as necessary, and will restart affected "
        "programs",
        "update <gname> [...]\tUpdate specific groups",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        try:
            added, changed, removed = reload_config(ctl)
        except Fault as fault:
            ctl.exit_status = InitExit.GENERIC
            if fault.code != Faults.SHUTDOWN_STATE:
                raise
            ctl.output("ERROR: already shutting down")
            return False
        # Names in the order given, each once; "all" is the same as no names.
        wanted = list(dict.fromkeys(arg.split()))
        if "all" in wanted:
            wanted = []
        if wanted:
            self._check_names(ctl, wanted, added)
        for group in removed:
            if not wanted or group in wanted:
                self._remove(ctl, group)
        for group in changed:
            if not wanted or group in wanted:
                # Any change restarts the whole group: stop, remove, add back.
                ctl.supervisor("stopProcessGroup", group)
                ctl.output(f"{group}: stopped")
                ctl.supervisor("removeProcessGroup", group)
                ctl.supervisor("addProcessGroup", group)
                ctl.output(f"{group}: updated process group")
        for group in added:
            if not wanted or group in wanted:
                ctl.supervisor("addProcessGroup", group)
                ctl.output(f"{group}: added process group")
        return False

    @staticmethod
    def _check_names(ctl: Controller, wanted: list[str], added: list[str]) -> None:
        infos = ctl.all_process_info()
        assert isinstance(infos, list)
        known = {info["group"] for info in infos} | set(added)
        for group in wanted:
            if group not in known:
                ctl.output(f"ERROR: no such group: {group}")
                ctl.exit_status = InitExit.GENERIC

    @staticmethod
    def _remove(ctl: Controller, group: str) -> None:
        results = ctl.supervisor("stopProcessGroup", group)
        assert isinstance(results, list)
        ctl.output(f"{group}: stopped")
        if any(result["status"] == Faults.FAILED for result in results):
            ctl.output(f"{group}: has problems; not removing")
            ctl.exit_status = InitExit.GENERIC
            return
        ctl.supervisor("removeProcessGroup", group)
        ctl.output(f"{group}: removed process group")


class AddAction(Action):
    name = "add"
    completes = COMPLETE_GROUPS
    help_lines = ("add <name> [...]\tActivates any updates in config for process/group",)

    def run(self, ctl: Controller, arg: str) -> bool:
        for name in arg.split():
            try:
                ctl.supervisor("addProcessGroup", name)
            except Fault as fault:
                if fault.code == Faults.SHUTDOWN_STATE:
                    ctl.output("ERROR: shutting down")
                    ctl.exit_status = InitExit.GENERIC
                elif fault.code == Faults.ALREADY_ADDED:
                    # Not a failure: the group is there, as asked.
                    ctl.output("ERROR: process group already active")
                elif fault.code == Faults.BAD_NAME:
                    ctl.output(f"ERROR: no such process/group: {name}")
                    ctl.exit_status = InitExit.GENERIC
                else:
                    ctl.exit_status = InitExit.GENERIC
                    raise
            else:
                ctl.output(f"{name}: added process group")
        return False


class RemoveAction(Action):
    name = "remove"
    completes = COMPLETE_GROUPS
    help_lines = ("remove <name> [...]\tRemoves process/group from active config",)

    def run(self, ctl: Controller, arg: str) -> bool:
        for name in arg.split():
            try:
                ctl.supervisor("removeProcessGroup", name)
            except Fault as fault:
                ctl.exit_status = InitExit.GENERIC
                if fault.code == Faults.STILL_RUNNING:
                    ctl.output(f"ERROR: process/group still running: {name}")
                elif fault.code == Faults.BAD_NAME:
                    ctl.output(f"ERROR: no such process/group: {name}")
                else:
                    raise
            else:
                ctl.output(f"{name}: removed process group")
        return False
