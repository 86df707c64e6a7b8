"""``completion bash|zsh|fish``: print the shell completion script (see vigil.ctl.completion).

Not in the list ``help`` prints, which stays Supervisor's; ``help completion`` tells of it.
"""

from __future__ import annotations

from vigil.ctl.actions.base import Action
from vigil.ctl.exit_codes import InitExit

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.ctl.controller import Controller


class CompletionAction(Action):
    name = "completion"
    listed = False
    help_lines = (
        "completion bash|zsh|fish\tPrint the shell's completion script for supervisorctl",
        "\t\t\t(see the README for where each shell reads it)",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        from vigil.ctl.completion import SHELLS, script

        words = arg.split()
        if len(words) != 1 or words[0] not in SHELLS:
            ctl.output("Error: completion requires one shell name: " + ", ".join(SHELLS))
            ctl.exit_status = InitExit.INVALID_ARGS
            self.show_help(ctl)
            return False
        ctl.stdout.write(script(words[0], ctl.actions))
        return False
