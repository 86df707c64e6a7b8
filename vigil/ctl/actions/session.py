"""``help``, ``quit``, ``exit`` and ``EOF``: the shell's own actions."""

from __future__ import annotations

from vigil.ctl.actions.base import COMPLETE_ACTIONS, Action

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.ctl.controller import Controller

HELP_HEADER = "default commands (type help <topic>):"
HELP_WIDTH = 79


class HelpAction(Action):
    name = "help"
    listed = False
    completes = COMPLETE_ACTIONS
    help_lines = (
        "help\t\tPrint a list of available actions",
        "help <action>\tPrint help for <action>",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        topic = arg.strip()
        if topic == self.name:
            self.show_help(ctl)
        elif topic:
            action = ctl.actions.get(topic)
            if action is None or not action.help_lines:
                ctl.output(f"*** No help on {topic}")
            else:
                action.show_help(ctl)
                for line in action.more_help_lines:
                    ctl.output(line)
        else:
            names = sorted(name for name, action in ctl.actions.items() if action.listed)
            ctl.output("")
            ctl.output(HELP_HEADER)
            ctl.output("=" * len(HELP_HEADER))
            for line in columns(names, HELP_WIDTH):
                ctl.output(line)
            ctl.output("")
        return False


def columns(words: list[str], width: int) -> list[str]:
    """Words in as few rows as fit ``width``, filled column by column, two spaces apart; one
    per line if even a single column is too wide (the layout of Python's ``cmd`` module, which
    Supervisor's help uses)."""
    for rows in range(1, len(words)):
        cols = [words[start : start + rows] for start in range(0, len(words), rows)]
        widths = [max(map(len, col)) for col in cols]
        if sum(widths) + 2 * (len(cols) - 1) <= width:
            padded = [[w.ljust(wide) for w in col] for col, wide in zip(cols, widths, strict=True)]
            return ["  ".join(col[row] for col in padded if row < len(col)) for row in range(rows)]
    return list(words)


class QuitAction(Action):
    name = "quit"
    help_lines: tuple[str, ...] = ("quit\tExit the supervisor shell.",)

    def run(self, ctl: Controller, arg: str) -> bool:
        ctl.output("")
        return True


class ExitAction(QuitAction):
    name = "exit"
    help_lines = ("exit\tExit the supervisor shell.",)


class EndOfInputAction(QuitAction):
    """What Ctrl-D at the prompt runs."""

    name = "EOF"
    listed = False
    help_lines = ()
