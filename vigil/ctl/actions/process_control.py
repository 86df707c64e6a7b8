"""``start``, ``stop``, ``restart`` and ``signal``: one line per process touched.

Each takes process names, ``group:*`` for a whole group, or ``all``. A per-process failure is
printed and sets the exit status (7 when the program is dead, 1 otherwise) except the one
failure the action shrugs off: starting a started process, stopping a stopped one.

With ``--json`` the lines become one JSON array of records (see `result_record`), printed once
the action is done; ``restart`` gives its stop records, then its start records.
"""

from __future__ import annotations

from vigil.ctl.actions.base import COMPLETE_PROCESSES, Action, Outcomes, take_json_flag
from vigil.ctl.actions.operations import UsageProblem, rolling_restart, take_rolling_flags
from vigil.ctl.errors import Fault
from vigil.ctl.exit_codes import InitExit
from vigil.ctl.names import make_namespec, split_namespec
from vigil.ctl.output import signal_outcome, start_outcome
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.ctl.controller import Controller

RESULTS_JSON_HELP = (
    "\t\t\tWith --json: a JSON array of one object per result with the keys",
    "\t\t\tname, action, status (SUCCESS or the fault's name), code, message",
)


def _results(value: object) -> list[dict[str, object]]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list of results, got {value!r}")
    return value


def _code(result: dict[str, object]) -> int:
    code = result["status"]
    if not isinstance(code, int):
        raise TypeError(f"bad result status {code!r}")
    return code


class _ResultsAction(Action):
    """An action whose output is one result per process: ``run`` parses ``--json`` and
    prints the records at the end; `act` does the work (``restart`` runs two of them)."""

    speaks_json = True

    def run(self, ctl: Controller, arg: str) -> bool:
        names, as_json = take_json_flag(arg.split())
        outcomes = Outcomes(ctl, as_json)
        if self.act(ctl, names, outcomes):
            outcomes.finish()
        return False

    def act(self, ctl: Controller, names: list[str], outcomes: Outcomes) -> bool:
        """Do the action; False if it stopped before doing anything (no server, no names)."""
        raise NotImplementedError


class StartAction(_ResultsAction):
    name = "start"
    completes = COMPLETE_PROCESSES
    help_lines = (
        "start <name>\t\tStart a process",
        "start <gname>:*\t\tStart all processes in a group",
        "start <name> <name>\tStart multiple processes or groups",
        "start all\t\tStart all processes",
    )
    more_help_lines = ("start --json <name> ...", *RESULTS_JSON_HELP)

    def act(self, ctl: Controller, names: list[str], outcomes: Outcomes) -> bool:
        if not ctl.upcheck():
            return False
        if self.lacks_names(ctl, names, InitExit.INVALID_ARGS):
            return False
        if "all" in names:
            self._show(ctl, _results(ctl.supervisor("startAllProcesses")), outcomes)
            return True
        for name in names:
            group, process = split_namespec(name)
            if process is None:
                self._start_group(ctl, group, outcomes)
                continue
            try:
                ctl.supervisor("startProcess", name)
            except Fault as fault:
                text, message = start_outcome(group, process, fault.code)
                outcomes.add(text, self.name, make_namespec(group, process), fault.code, message)
                ctl.record_fault(fault.code, Faults.ALREADY_STARTED)
            else:
                namespec = make_namespec(group, process)
                text = f"{namespec}: started"
                outcomes.add(text, self.name, namespec, Faults.SUCCESS, "started")
        return True

    def _start_group(self, ctl: Controller, group: str, outcomes: Outcomes) -> None:
        try:
            results = _results(ctl.supervisor("startProcessGroup", group))
        except Fault as fault:
            if fault.code != Faults.BAD_NAME:
                ctl.exit_status = InitExit.GENERIC
                raise
            text = f"{group}: ERROR (no such group)"
            outcomes.add(text, self.name, group, fault.code, "no such group")
            ctl.exit_status = InitExit.INVALID_ARGS
            return
        self._show(ctl, results, outcomes)

    def _show(self, ctl: Controller, results: list[dict[str, object]], outcomes: Outcomes) -> None:
        for result in results:
            group, process, code = str(result["group"]), str(result["name"]), _code(result)
            text, message = start_outcome(group, process, code)
            outcomes.add(text, self.name, make_namespec(group, process), code, message)
            ctl.record_fault(code, Faults.ALREADY_STARTED)


class _SignalLikeAction(_ResultsAction):
    """``stop`` and ``signal``: the same results, the same failures."""

    success = ""
    ignored: int | None = None  # the fault that is not a failure

    def _one(self, ctl: Controller, name: str, outcomes: Outcomes, *params: object) -> None:
        group, process = split_namespec(name)
        namespec = make_namespec(group, str(process))
        try:
            ctl.supervisor(self.name + "Process", name, *params)
        except Fault as fault:
            text, message = signal_outcome(group, process, fault.code, fault.text, self.success)
            outcomes.add(text, self.name, namespec, fault.code, message)
            ctl.record_fault(fault.code, self.ignored)
        else:
            text = f"{namespec}: {self.success}"
            outcomes.add(text, self.name, namespec, Faults.SUCCESS, self.success)

    def _show(self, ctl: Controller, results: list[dict[str, object]], outcomes: Outcomes) -> None:
        for result in results:
            group, process, code = str(result["group"]), str(result["name"]), _code(result)
            text, message = signal_outcome(
                group, process, code, str(result["description"]), self.success
            )
            outcomes.add(text, self.name, make_namespec(group, process), code, message)
            ctl.record_fault(code, self.ignored)


class StopAction(_SignalLikeAction):
    name = "stop"
    completes = COMPLETE_PROCESSES
    help_lines = (
        "stop <name>\t\tStop a process",
        "stop <gname>:*\t\tStop all processes in a group",
        "stop <name> <name>\tStop multiple processes or groups",
        "stop all\t\tStop all processes",
    )
    more_help_lines = ("stop --json <name> ...", *RESULTS_JSON_HELP)
    success = "stopped"
    ignored = Faults.NOT_RUNNING

    def act(self, ctl: Controller, names: list[str], outcomes: Outcomes) -> bool:
        if not ctl.upcheck():
            return False
        if self.lacks_names(ctl, names):
            return False
        if "all" in names:
            self._show(ctl, _results(ctl.supervisor("stopAllProcesses")), outcomes)
            return True
        for name in names:
            group, process = split_namespec(name)
            if process is None:
                self._stop_group(ctl, group, outcomes)
            else:
                self._one(ctl, name, outcomes)
        return True

    def _stop_group(self, ctl: Controller, group: str, outcomes: Outcomes) -> None:
        try:
            results = _results(ctl.supervisor("stopProcessGroup", group))
        except Fault as fault:
            ctl.exit_status = InitExit.GENERIC
            if fault.code != Faults.BAD_NAME:
                raise
            text = f"{group}: ERROR (no such group)"
            outcomes.add(text, self.name, group, fault.code, "no such group")
            return
        self._show(ctl, results, outcomes)


class RestartAction(Action):
    name = "restart"
    completes = COMPLETE_PROCESSES
    speaks_json = True
    help_lines = (
        "restart <name>\t\tRestart a process",
        "restart <gname>:*\tRestart all processes in a group",
        "restart <name> <name>\tRestart multiple processes or groups",
        "restart all\t\tRestart all processes",
        "Note: restart does not reread config files. For that, see reread and update.",
    )
    more_help_lines = (
        "restart --json <name> ...",
        *RESULTS_JSON_HELP,
        "\t\t\t(the stop results, then the start results)",
        "restart --rolling [--batch N] [--pause SECONDS] <gname>:*|<name> ...",
        "\t\t\tOne process (or N) at a time, the next once it is RUNNING",
        "\t\t\tagain (ready, healthy); stops at the first that fails to",
        "\t\t\tcome back and leaves the others running (vigil daemons only)",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        words, as_json = take_json_flag(arg.split())
        try:
            names, rolling, batch, pause = take_rolling_flags(words)
        except UsageProblem as problem:
            ctl.output(f"Error: restart: {problem}")
            ctl.exit_status = InitExit.INVALID_ARGS
            self.show_help(ctl)
            return False
        if not ctl.upcheck():
            return False
        if self.lacks_names(ctl, names):
            return False
        outcomes = Outcomes(ctl, as_json)
        if rolling:
            if rolling_restart(ctl, ["all"] if "all" in names else names, batch, pause, outcomes):
                outcomes.finish()
            return False
        # Everything named is stopped, then everything named is started.
        stopped = StopAction().act(ctl, names, outcomes)
        started = StartAction().act(ctl, names, outcomes)
        if stopped or started:
            outcomes.finish()
        return False


class SignalAction(_SignalLikeAction):
    name = "signal"
    completes = COMPLETE_PROCESSES
    help_lines = (
        "signal <signal name> <name>\t\tSignal a process",
        "signal <signal name> <gname>:*\t\tSignal all processes in a group",
        "signal <signal name> <name> <name>\tSignal multiple processes or groups",
        "signal <signal name> all\t\tSignal all processes",
    )
    more_help_lines = ("signal --json <signal name> <name> ...", *RESULTS_JSON_HELP)
    success = "signalled"

    def act(self, ctl: Controller, names: list[str], outcomes: Outcomes) -> bool:
        if not ctl.upcheck():
            return False
        if len(names) < 2:
            ctl.output("Error: signal requires a signal name and a process name")
            self.show_help(ctl)
            ctl.exit_status = InitExit.GENERIC
            return False
        signal_name, names = names[0], names[1:]
        if "all" in names:
            results = _results(ctl.supervisor("signalAllProcesses", signal_name))
            self._show(ctl, results, outcomes)
            return True
        for name in names:
            group, process = split_namespec(name)
            if process is None:
                self._signal_group(ctl, group, signal_name, outcomes)
            else:
                self._one(ctl, name, outcomes, signal_name)
        return True

    def _signal_group(
        self, ctl: Controller, group: str, signal_name: str, outcomes: Outcomes
    ) -> None:
        try:
            results = _results(ctl.supervisor("signalProcessGroup", group, signal_name))
        except Fault as fault:
            if fault.code != Faults.BAD_NAME:
                raise
            text = f"{group}: ERROR (no such group)"
            outcomes.add(text, self.name, group, fault.code, "no such group")
            ctl.exit_status = InitExit.GENERIC
            return
        self._show(ctl, results, outcomes)
