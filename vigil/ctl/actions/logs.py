"""``tail``, ``maintail`` and ``clear``: reading and emptying process and daemon logs.

vigil's additions: ``--json`` for each, and ``tail -f`` of several processes at once
(``tail -f web:* worker``), each line after its process's name as ``docker compose logs -f``
shows them. ``tail -f`` of one process stays Supervisor's byte for byte.
"""

from __future__ import annotations

from vigil.ctl.actions.base import (
    COMPLETE_PROCESSES,
    Action,
    Outcomes,
    print_json,
    take_json_flag,
)
from vigil.ctl.errors import Fault
from vigil.ctl.exit_codes import InitExit
from vigil.ctl.log_stream import (
    FollowedLog,
    follow,
    follow_many,
    logtail_path,
    warn_about_encoding,
)
from vigil.ctl.names import make_namespec, split_namespec
from vigil.ctl.output import clear_outcome, info_namespec
from vigil.faults import Faults

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.ctl.controller import Controller

DEFAULT_TAIL_BYTES = 1600
CHANNELS = ("stdout", "stderr")
_READ_ERRORS: dict[int, str] = {
    Faults.NO_FILE: "no log file",
    Faults.FAILED: "unknown error reading log",
}


def _names_many(names: list[str]) -> bool:
    """Whether ``tail -f`` names more than one process: several names, or a whole group
    (``g:*``), or ``all``."""
    return len(names) > 1 or names[0] == "all" or split_namespec(names[0])[1] is None


class TailAction(Action):
    name = "tail"
    completes = COMPLETE_PROCESSES
    speaks_json = True
    help_lines = (
        "tail [-f] <name> [stdout|stderr] (default stdout)\n"
        "Ex:\n"
        "tail -f <name>\t\tContinuous tail of named process stdout\n"
        "\t\t\tCtrl-C to exit.\n"
        "tail -100 <name>\tlast 100 *bytes* of process stdout\n"
        "tail <name> stderr\tlast 1600 *bytes* of process stderr",
    )
    more_help_lines = (
        "tail -f <name> <gname>:* ... [stdout|stderr]",
        "\t\t\tContinuous tail of several processes (or all), each line",
        "\t\t\tafter its process name and ' | ', coloured per process",
        "\t\t\tas --color says",
        'tail --json [-N] <name> [stdout|stderr]\t{"name", "channel", "data"}',
        "tail -f --json <name> ...\tOne such JSON object per line, as lines come",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        words, as_json = take_json_flag(arg.split())
        if not ctl.upcheck():
            return False
        if len(words) > 1 and words[0] == "-f":
            names = words[1:]
            if len(names) > 1 and names[-1].lower() in CHANNELS:
                names = names[:-1]
            if as_json or _names_many(names):
                return self._follow(ctl, words[1:], as_json)
        if not words or len(words) > 3:
            ctl.output("Error: too few arguments" if not words else "Error: too many arguments")
            ctl.exit_status = InitExit.GENERIC
            self.show_help(ctl)
            return False
        modifier = words.pop(0) if words[0].startswith("-") else None
        if not words:
            return self._fail(ctl, "Error: tail requires process name")
        # With a channel the name is the first word and the channel the last.
        name = words[0]
        channel = words[-1].lower() if len(words) > 1 else "stdout"
        if channel not in CHANNELS:
            return self._fail(ctl, f"Error: bad channel {channel!r}")
        size = DEFAULT_TAIL_BYTES
        if modifier == "-f":
            follow(ctl, logtail_path(name, channel))
            return False
        if modifier is not None:
            try:
                size = int(modifier[1:])
            except ValueError:
                return self._fail(ctl, f"Error: bad argument {modifier}")
        if not as_json:
            warn_about_encoding(ctl)
        method = "readProcessStdoutLog" if channel == "stdout" else "readProcessStderrLog"
        try:
            text = ctl.supervisor(method, name, -size, 0)
        except Fault as fault:
            ctl.exit_status = InitExit.GENERIC
            reason = {**_READ_ERRORS, Faults.BAD_NAME: "no such process name"}.get(fault.code)
            if reason is None:
                raise
            ctl.output(f"{name}: ERROR ({reason})")
            return False
        if as_json:
            print_json(ctl, {"name": name, "channel": channel, "data": str(text)})
        else:
            ctl.output(str(text))
        return False

    def _follow(self, ctl: Controller, names: list[str], as_json: bool) -> bool:
        """``tail -f`` of the processes named (``g:*`` and ``all`` included), each on its
        channel: the last word when it is one, else stdout."""
        channel = "stdout"
        if len(names) > 1 and names[-1].lower() in CHANNELS:
            channel = names.pop().lower()
        namespecs = self._expand(ctl, names)
        if not namespecs:
            return False
        from vigil.ctl.actions.status import wants_colour

        logs = [
            FollowedLog(name, logtail_path(name, channel), {"name": name, "channel": channel})
            for name in namespecs
        ]
        follow_many(ctl, logs, colour=wants_colour(ctl) and not as_json, as_json=as_json)
        return False

    @staticmethod
    def _expand(ctl: Controller, names: list[str]) -> list[str]:
        """The processes the names mean, each once, in the order named; a name that means
        none is reported on stderr (with the streams' own complaints, away from the logs)
        and sets exit status 1."""
        infos = ctl.all_process_info()
        assert isinstance(infos, list)
        found: dict[str, None] = {}
        for name in names:
            group, process = split_namespec(name)
            matches = [
                info_namespec(info)
                for info in infos
                if name == "all"
                or (info["group"] == group and (process is None or info["name"] == process))
            ]
            if not matches:
                ctl.exit_status = InitExit.GENERIC
                what = "no such group" if process is None else "no such process"
                ctl.stderr.write(f"{group if process is None else name}: ERROR ({what})\n")
            found.update(dict.fromkeys(matches))
        return list(found)

    @staticmethod
    def _fail(ctl: Controller, message: str) -> bool:
        ctl.output(message)
        ctl.exit_status = InitExit.GENERIC
        return False


class MaintailAction(Action):
    name = "maintail"
    speaks_json = True
    help_lines = (
        "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)",
        "maintail -100\tlast 100 *bytes* of supervisord main log file",
        "maintail\tlast 1600 *bytes* of supervisor main log file",
        "",
    )
    more_help_lines = (
        'maintail --json [-N]\t{"data": the text}',
        "maintail -f --json\tOne such JSON object per line, as lines come",
    )

    def run(self, ctl: Controller, arg: str) -> bool:
        words, as_json = take_json_flag(arg.split())
        if not ctl.upcheck():
            return False
        if len(words) > 1:
            ctl.output("Error: too many arguments")
            ctl.exit_status = InitExit.GENERIC
            self.show_help(ctl)
            return False
        size = DEFAULT_TAIL_BYTES
        if words:
            if words[0] == "-f":
                if as_json:
                    main_log = FollowedLog("supervisord", "/mainlogtail", {})
                    follow_many(ctl, [main_log], colour=False, as_json=True)
                else:
                    follow(ctl, "/mainlogtail")
                return False
            try:
                if not words[0].startswith("-"):
                    raise ValueError(words[0])
                size = int(words[0][1:])
            except ValueError:
                ctl.output(f"Error: bad argument {words[0]}")
                ctl.exit_status = InitExit.GENERIC
                return False
        try:
            text = ctl.supervisor("readLog", -size, 0)
        except Fault as fault:
            ctl.exit_status = InitExit.GENERIC
            reason = _READ_ERRORS.get(fault.code)
            if reason is None:
                raise
            ctl.output(f"supervisord: ERROR ({reason})")
            return False
        if as_json:
            print_json(ctl, {"data": str(text)})
        else:
            ctl.output(str(text))
        return False


class ClearAction(Action):
    name = "clear"
    completes = COMPLETE_PROCESSES
    speaks_json = True
    help_lines = (
        "clear <name>\t\tClear a process' log files.",
        "clear <name> <name>\tClear multiple process' log files",
        "clear all\t\tClear all process' log files",
    )
    more_help_lines = (
        "clear --json <name> ...",
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
        if "all" in names:
            results = ctl.supervisor("clearAllProcessLogs")
            assert isinstance(results, list)
            for result in results:
                code = int(result["status"])
                gname, pname = str(result["group"]), str(result["name"])
                text, message = clear_outcome(gname, pname, code)
                outcomes.add(text, self.name, make_namespec(gname, pname), code, message)
                ctl.record_fault(code)
        else:
            for name in names:
                group, process = split_namespec(name)
                try:
                    ctl.supervisor("clearProcessLogs", name)
                except Fault as fault:
                    text, message = clear_outcome(group, process, fault.code)
                    namespec = make_namespec(group, str(process))
                    outcomes.add(text, self.name, namespec, fault.code, message)
                    ctl.record_fault(fault.code)
                else:
                    namespec = make_namespec(group, str(process))
                    text = f"{namespec}: cleared"
                    outcomes.add(text, self.name, namespec, Faults.SUCCESS, "cleared")
        outcomes.finish()
        return False
