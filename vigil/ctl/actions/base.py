"""What every supervisorctl action is: a name, its help, what its arguments complete to, and
a ``run`` that parses the arguments, calls the server, prints and sets the exit status."""

from __future__ import annotations

from abc import ABC, abstractmethod

from vigil.ctl.exit_codes import InitExit

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


def take_json_flag(words: list[str]) -> tuple[list[str], bool]:
    """The words without ``--json``, and whether it was there."""
    rest = [word for word in words if word != JSON_FLAG]
    return rest, len(rest) != len(words)


def print_json(ctl: Controller, value: object) -> None:
    import json

    ctl.output(json.dumps(value, indent=2, sort_keys=True))
