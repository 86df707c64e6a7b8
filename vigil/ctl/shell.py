"""supervisorctl's interactive shell: a prompt with readline editing, history and completion of
action, group and process names; ``status`` runs first."""

from __future__ import annotations

import contextlib

from vigil.ctl.actions.base import COMPLETE_ACTIONS, COMPLETE_GROUPS, COMPLETE_PROCESSES

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

    from vigil.ctl.controller import Controller

# Characters readline must treat as part of a word, so "group:process", "group:*" and
# "my-program" complete as one.
_WORD_CHARS = ":*-"
FIRST_COMMAND = "status"


class Completer:
    """Tab completion. Process names are fetched once per command line, not at every key."""

    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl
        self.line_buffer: Callable[[], str] = str
        self._infos: list[dict[str, object]] | None = None
        self._matches: list[str] = []

    def forget(self) -> None:
        """Fetch process names afresh next time (they may have changed)."""
        self._infos = None

    def complete(self, text: str, state: int) -> str | None:
        """readline's completer: the ``state``-th completion of ``text``."""
        if state == 0:
            try:
                self._matches = self.matches(self.line_buffer(), text)
            except Exception:
                self._matches = []
        return self._matches[state] if state < len(self._matches) else None

    def matches(self, line: str, text: str) -> list[str]:
        words = line.split()
        if not words or (len(words) == 1 and not line.endswith(" ")):
            return self._actions(text)
        action = self.ctl.actions.get(words[0])
        kind = action.completes if action is not None else None
        if kind == COMPLETE_ACTIONS:
            return self._actions(text)
        if kind == COMPLETE_GROUPS:
            groups = dict.fromkeys(str(info["group"]) for info in self._process_infos())
            return [group + " " for group in groups if group.startswith(text)]
        if kind == COMPLETE_PROCESSES:
            return [name + " " for name in self._process_names(text) if name.startswith(text)]
        return []

    def _actions(self, text: str) -> list[str]:
        names = sorted(
            name for name, action in self.ctl.actions.items() if action.listed or name == "help"
        )
        return [name + " " for name in names if name.startswith(text)]

    def _process_names(self, text: str) -> list[str]:
        """Bare names for processes alone in their group, ``group:name`` and ``group:*``
        otherwise (and for every process once the word being completed has a colon)."""
        names: list[str] = []
        for info in self._process_infos():
            group, name = str(info["group"]), str(info["name"])
            if ":" in text or name != group:
                names.append(f"{group}:{name}")
                if f"{group}:*" not in names:
                    names.append(f"{group}:*")
            else:
                names.append(name)
        return names

    def _process_infos(self) -> list[dict[str, object]]:
        if self._infos is None:
            infos = self.ctl.all_process_info()
            self._infos = infos if isinstance(infos, list) else []
        return self._infos


def _load_readline(completer: Completer, history_file: str | None) -> ModuleType | None:
    try:
        import readline
    except ImportError:
        return None
    delims = readline.get_completer_delims()
    readline.set_completer_delims("".join(ch for ch in delims if ch not in _WORD_CHARS))
    readline.set_completer(completer.complete)
    if "libedit" in (readline.__doc__ or ""):
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")
    completer.line_buffer = readline.get_line_buffer
    if history_file:
        with contextlib.suppress(OSError):  # no history yet
            readline.read_history_file(history_file)
    return readline


def run_shell(ctl: Controller) -> None:
    """Read and run command lines until ``quit``, ``exit``, Ctrl-D, or Ctrl-C at the prompt.
    Ctrl-C while an action runs (``tail -f``, ``fg``, a slow ``start``) returns to the
    prompt."""
    completer = Completer(ctl)
    history_file = ctl.settings.history_file
    readline = _load_readline(completer, history_file)
    pending = [FIRST_COMMAND]
    try:
        while True:
            if pending:
                line = pending.pop(0)
            else:
                try:
                    line = input(ctl.settings.prompt + "> ")
                except EOFError:
                    line = "EOF"
            completer.forget()
            try:
                if ctl.execute(line):
                    break
            except KeyboardInterrupt:
                ctl.disconnect()
                ctl.output("")
    except KeyboardInterrupt:
        ctl.output("")
    finally:
        if readline is not None and history_file:
            with contextlib.suppress(OSError):  # history is a convenience, not worth a failure
                readline.write_history_file(history_file)
