"""``start``, ``stop``, ``restart`` and ``signal``: one line per process touched.

Each takes process names, ``group:*`` for a whole group, or ``all``. A per-process failure is
printed and sets the exit status (7 when the program is dead, 1 otherwise) except the one
failure the action shrugs off: starting a started process, stopping a stopped one.
"""

from __future__ import annotations

from vigil.ctl.actions.base import COMPLETE_PROCESSES, Action
from vigil.ctl.errors import Fault
from vigil.ctl.exit_codes import InitExit
from vigil.ctl.names import make_namespec, split_namespec
from vigil.ctl.output import signal_result, start_result
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.ctl.controller import Controller


def _results(value: object) -> list[dict[str, object]]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list of results, got {value!r}")
    return value


def _code(result: dict[str, object]) -> int:
    code = result["status"]
    if not isinstance(code, int):
        raise TypeError(f"bad result status {code!r}")
    return code


class StartAction(Action):
    name = "start"
    completes = COMPLETE_PROCESSES
    help_lines = (
        "start <name>\t\tStart a process",
        "start <gname>:*\t\tStart all processes in a group",
        "start <name> <name>\tStart multiple processes or groups",
        "start all\t\tStart all processes",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        if not ctl.upcheck():
            return False
        names = arg.split()
        if not names:
            ctl.output("Error: start requires a process name")
            ctl.exit_status = InitExit.INVALID_ARGS
            self.show_help(ctl)
            return False
        if "all" in names:
            self._show(ctl, _results(ctl.supervisor("startAllProcesses")))
            return False
        for name in names:
            group, process = split_namespec(name)
            if process is None:
                self._start_group(ctl, group)
                continue
            try:
                ctl.supervisor("startProcess", name)
            except Fault as fault:
                ctl.output(start_result(group, process, fault.code))
                ctl.record_fault(fault.code, Faults.ALREADY_STARTED)
            else:
                ctl.output(f"{make_namespec(group, process)}: started")
        return False

    def _start_group(self, ctl: Controller, group: str) -> None:
        try:
            results = _results(ctl.supervisor("startProcessGroup", group))
        except Fault as fault:
            if fault.code != Faults.BAD_NAME:
                ctl.exit_status = InitExit.GENERIC
                raise
            ctl.output(f"{group}: ERROR (no such group)")
            ctl.exit_status = InitExit.INVALID_ARGS
            return
        self._show(ctl, results)

    @staticmethod
    def _show(ctl: Controller, results: list[dict[str, object]]) -> None:
        for result in results:
            ctl.output(start_result(str(result["group"]), str(result["name"]), _code(result)))
            ctl.record_fault(_code(result), Faults.ALREADY_STARTED)


class StopAction(Action):
    name = "stop"
    completes = COMPLETE_PROCESSES
    help_lines = (
        "stop <name>\t\tStop a process",
        "stop <gname>:*\t\tStop all processes in a group",
        "stop <name> <name>\tStop multiple processes or groups",
        "stop all\t\tStop all processes",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        if not ctl.upcheck():
            return False
        names = arg.split()
        if not names:
            ctl.output("Error: stop requires a process name")
            ctl.exit_status = InitExit.GENERIC
            self.show_help(ctl)
            return False
        if "all" in names:
            self._show(ctl, _results(ctl.supervisor("stopAllProcesses")))
            return False
        for name in names:
            group, process = split_namespec(name)
            if process is None:
                self._stop_group(ctl, group)
                continue
            try:
                ctl.supervisor("stopProcess", name)
            except Fault as fault:
                ctl.output(signal_result(group, process, fault.code, fault.text, "stopped"))
                ctl.record_fault(fault.code, Faults.NOT_RUNNING)
            else:
                ctl.output(f"{make_namespec(group, process)}: stopped")
        return False

    def _stop_group(self, ctl: Controller, group: str) -> None:
        try:
            results = _results(ctl.supervisor("stopProcessGroup", group))
        except Fault as fault:
            ctl.exit_status = InitExit.GENERIC
            if fault.code != Faults.BAD_NAME:
                raise
            ctl.output(f"{group}: ERROR (no such group)")
            return
        self._show(ctl, results)

    @staticmethod
    def _show(ctl: Controller, results: list[dict[str, object]]) -> None:
        for result in results:
            ctl.output(_result_line(result, "stopped"))
            ctl.record_fault(_code(result), Faults.NOT_RUNNING)


def _result_line(result: dict[str, object], success: str) -> str:
    return signal_result(
        str(result["group"]),
        str(result["name"]),
        _code(result),
        str(result["description"]),
        success,
    )


class RestartAction(Action):
    name = "restart"
    completes = COMPLETE_PROCESSES
    help_lines = (
        "restart <name>\t\tRestart a process",
        "restart <gname>:*\tRestart all processes in a group",
        "restart <name> <name>\tRestart multiple processes or groups",
        "restart all\t\tRestart all processes",
        "Note: restart does not reread config files. For that, see reread and update.",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        if not ctl.upcheck():
            return False
        if not arg.split():
            ctl.output("Error: restart requires a process name")
            ctl.exit_status = InitExit.GENERIC
            self.show_help(ctl)
            return False
        # Everything named is stopped, then everything named is started (no rolling restart).
        StopAction().run(ctl, arg)
        StartAction().run(ctl, arg)
        return False


class SignalAction(Action):
    name = "signal"
    completes = COMPLETE_PROCESSES
    help_lines = (
        "signal <signal name> <name>\t\tSignal a process",
        "signal <signal name> <gname>:*\t\tSignal all processes in a group",
        "signal <signal name> <name> <name>\tSignal multiple processes or groups",
        "signal <signal name> all\t\tSignal all processes",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        if not ctl.upcheck():
            return False
        words = arg.split()
        if len(words) < 2:
            ctl.output("Error: signal requires a signal name and a process name")
            self.show_help(ctl)
            ctl.exit_status = InitExit.GENERIC
            return False
        signal_name, names = words[0], words[1:]
        if "all" in names:
            self._show(ctl, _results(ctl.supervisor("signalAllProcesses", signal_name)))
            return False
        for name in names:
            group, process = split_namespec(name)
            if process is None:
                self._signal_group(ctl, group, signal_name)
                continue
            try:
                ctl.supervisor("signalProcess", name, signal_name)
            except Fault as fault:
                ctl.output(signal_result(group, process, fault.code, fault.text))
                ctl.record_fault(fault.code)
            else:
                ctl.output(f"{make_namespec(group, process)}: signalled")
        return False

    def _signal_group(self, ctl: Controller, group: str, signal_name: str) -> None:
        try:
            results = _results(ctl.supervisor("signalProcessGroup", group, signal_name))
        except Fault as fault:
            if fault.code != Faults.BAD_NAME:
                raise
            ctl.output(f"{group}: ERROR (no such group)")
            ctl.exit_status = InitExit.GENERIC
            return
        self._show(ctl, results)

    @staticmethod
    def _show(ctl: Controller, results: list[dict[str, object]]) -> None:
        for result in results:
            ctl.output(_result_line(result, "signalled"))
            ctl.record_fault(_code(result))
