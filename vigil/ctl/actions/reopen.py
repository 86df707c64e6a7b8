"""``reopen``: open log files again by their paths after an external rotation (logrotate's
``mv``), without restarting anything. vigil's: it calls ``vigil.reopenLogs``, which
Supervisor's daemon does not have (there, SIGUSR2 reopens every log).

Not in the list ``help`` prints, which stays Supervisor's; ``help reopen`` tells of it.
"""

from __future__ import annotations

from vigil.ctl.actions.base import COMPLETE_PROCESSES, Action, Outcomes, take_json_flag
from vigil.ctl.errors import Fault
from vigil.ctl.exit_codes import InitExit
from vigil.ctl.names import make_namespec, split_namespec
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.ctl.controller import Controller

NOT_VIGIL = (
    "Error: reopen needs a vigil daemon; this one has no vigil.reopenLogs "
    "(send it SIGUSR2 to reopen every log)"
)


class ReopenAction(Action):
    name = "reopen"
    listed = False
    completes = COMPLETE_PROCESSES
    speaks_json = True
    help_lines = (
        "reopen <name>\t\tReopen a process' log files (after they were moved away)",
        "reopen <gname>:*\tReopen the log files of every process in a group",
        "reopen <name> <name>\tReopen the log files of several processes",
        "reopen all\t\tReopen every process' log files and the main log",
    )
    more_help_lines = (
        "reopen --json <name> ...",
        "\t\t\tWith --json: a JSON array of one object per result with the keys",
        "\t\t\tname, action, status (SUCCESS or the fault's name), code, message",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        names, as_json = take_json_flag(arg.split())
        if not ctl.upcheck():
            return False
        if self.lacks_names(ctl, names):
            return False
        outcomes = Outcomes(ctl, as_json)
        for name in ["all"] if "all" in names else names:
            try:
                results = ctl.client.call("vigil.reopenLogs", name)
            except Fault as fault:
                if fault.code == Faults.UNKNOWN_METHOD:
                    ctl.output(NOT_VIGIL)
                    ctl.exit_status = InitExit.UNIMPLEMENTED_FEATURE
                    return False
                self._refused(outcomes, name, fault)
                ctl.record_fault(fault.code)
                continue
            assert isinstance(results, list)
            for result in results:
                namespec = make_namespec(str(result["group"]), str(result["name"]))
                outcomes.add(
                    f"{namespec}: reopened", self.name, namespec, Faults.SUCCESS, "reopened"
                )
        outcomes.finish()
        return False

    def _refused(self, outcomes: Outcomes, name: str, fault: Fault) -> None:
        group, process = split_namespec(name)
        if fault.code == Faults.BAD_NAME:
            reason = "no such process" if process is not None else "no such group"
        else:
            reason = fault.text
        namespec = f"{group}:*" if process is None else make_namespec(group, process)
        outcomes.add(f"{namespec}: ERROR ({reason})", self.name, namespec, fault.code, reason)
