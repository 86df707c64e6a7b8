"""What every supervisorctl action is: a name, its help, what its arguments complete to, and
a ``run`` that parses the arguments, calls the server, prints and sets the exit status."""

from __future__ import annotations

from abc import ABC, abstractmethod

from vigil.ctl.exit_codes import InitExit
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.ctl.controller import Controller

# What the shell offers when completing an action's arguments.
COMPLETE_ACTIONS = "actions"
COMPLETE_GROUPS = "groups"
COMPLETE_PROCESSES = "processes"

JSON_FLAG = "--json"


class Action(ABC):
    """One supervisorctl action."""

    name = ""
    help_lines: tuple[str, ...] = ()
    # What vigil adds to Supervisor's help (``--json``): shown by ``help <action>`` only, so
    # the help printed after a usage mistake stays exactly Supervisor's.
    more_help_lines: tuple[str, ...] = ()
    # Shown in the list `help` prints (help itself and EOF are not).
    listed = True
    completes: str | None = None
    # Takes ``--json``: while it runs with the flag, everything but the JSON document goes
    # to stderr (see `Controller.execute`).
    speaks_json = False

    @abstractmethod
    def run(self, ctl: Controller, arg: str) -> bool:
        """Do the action; True asks the shell to end."""

    def show_help(self, ctl: Controller) -> None:
        for line in self.help_lines:
            ctl.output(line)

    def refuse_arguments(self, ctl: Controller, arg: str) -> bool:
        """For actions that take none: say so with the help, exit status 1. True if refused."""
        if not arg:
            return False
        ctl.output(f"Error: {self.name} accepts no arguments")
        ctl.exit_status = InitExit.GENERIC
        self.show_help(ctl)
        return True

    def lacks_names(
        self, ctl: Controller, names: list[str], status: int = InitExit.GENERIC
    ) -> bool:
        """For actions on processes: with no name, say so with the help and exit `status`
        (Supervisor's start uses 2, the others 1). True if nothing was named."""
        if names:
            return False
        ctl.output(f"Error: {self.name} requires a process name")
        ctl.exit_status = status
        self.show_help(ctl)
        return True


def take_json_flag(words: list[str]) -> tuple[list[str], bool]:
    """The words without ``--json``, and whether it was there."""
    rest = [word for word in words if word != JSON_FLAG]
    return rest, len(rest) != len(words)


def print_json(ctl: Controller, value: object) -> None:
    """The one JSON document of an action run with ``--json``, on stdout."""
    import json

    ctl.stdout.write(json.dumps(value, indent=2, sort_keys=True) + "\n")


def result_record(action: str, name: str, code: int, message: str) -> dict[str, object]:
    """One outcome of an action on one name (``start``, ``add`` ...) in ``--json`` output:
    the name as the text form shows it, the fault's name (``SUCCESS`` when it worked), its
    Supervisor code, and the words the text form shows (``started``, ``already started``)."""
    try:
        status = Faults(code).name
    except ValueError:
        status = str(code)
    return {"name": name, "action": action, "status": status, "code": code, "message": message}


class Outcomes:
    """Where an action's per-name results go: printed as text lines at once, or kept as
    records for one JSON array printed at the end."""

    def __init__(self, ctl: Controller, as_json: bool) -> None:
        self.ctl = ctl
        self.as_json = as_json
        self.records: list[dict[str, object]] = []

    def add(self, text: str, action: str, name: str, code: int, message: str) -> None:
        if self.as_json:
            self.records.append(result_record(action, name, code, message))
        else:
            self.ctl.output(text)

    def note(self, text: str) -> None:
        """A line of the text form with no record of its own (``grp: stopped`` before the
        group is removed)."""
        if not self.as_json:
            self.ctl.output(text)

    def finish(self) -> None:
        if self.as_json:
            print_json(self.ctl, self.records)
