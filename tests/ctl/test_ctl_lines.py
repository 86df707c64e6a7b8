"""How supervisorctl reads a command line and lays out what it prints: against Python's ``cmd``
module (which Supervisor's shell is built on) and Supervisor's own formats."""

from __future__ import annotations

import cmd
import io

from hypothesis import given
from hypothesis import strategies as st

from vigil.ctl.actions import builtin_actions
from vigil.ctl.actions.session import columns
from vigil.ctl.controller import Controller, parse_line
from vigil.ctl.names import make_namespec, split_namespec
from vigil.ctl.output import avail_line, status_lines
from vigil.ctl.settings import ClientSettings
from vigil.ctl.shell import Completer


@given(st.text(" \t?!abc_XYZ09:-*", max_size=12))
def test_lines_split_like_cmd(line: str) -> None:
    word, arg, whole = cmd.Cmd().parseline(line)
    assert parse_line(line) == (word, arg or "", whole)


@given(st.lists(st.text("abcdefghij", min_size=1, max_size=14), max_size=30), st.integers(1, 100))
def test_columns_like_cmd(words: list[str], width: int) -> None:
    printed = io.StringIO()
    cmd.Cmd(stdout=printed).columnize(words, width)
    expected = printed.getvalue().splitlines() if words else ["<empty>"]
    assert (columns(words, width) or ["<empty>"]) == expected


def test_namespecs() -> None:
    assert make_namespec("a", "a") == "a"
    assert make_namespec("g", "p") == "g:p"
    assert split_namespec("a") == ("a", "a")
    assert split_namespec("g:p") == ("g", "p")
    assert split_namespec("g:*") == ("g", None)
    assert split_namespec("g:") == ("g", None)
    assert split_namespec("g:p:q") == ("g", "p:q")


def _info(group: str, name: str, state: str, description: str = "") -> dict[str, object]:
    return {"group": group, "name": name, "statename": state, "description": description}


def test_status_columns_widen_for_long_names() -> None:
    short = status_lines([_info("a", "a", "RUNNING", "pid 1, uptime 0:00:01")])
    assert short == ["a" + " " * 32 + "RUNNING   pid 1, uptime 0:00:01"]
    long_name = "x" * 40
    lines = status_lines(
        [_info(long_name, long_name, "STOPPED", "Not started"), _info("a", "a", "STARTING")]
    )
    assert lines == [long_name + "   STOPPED   Not started", "a" + " " * 42 + "STARTING  "]


def test_status_colour_keeps_the_columns() -> None:
    plain, coloured = (
        status_lines([_info("a", "a", state, "d")], colour=colour)[0]
        for state, colour in (("FATAL", False), ("FATAL", True))
    )
    assert coloured == plain.replace("FATAL", "\x1b[31mFATAL\x1b[0m")
    assert status_lines([_info("a", "a", "STOPPED", "d")], colour=True) == [
        "a" + " " * 32 + "STOPPED   d"
    ]


def test_avail_line() -> None:
    info = {
        "group": "grp",
        "name": "manual",
        "inuse": True,
        "autostart": False,
        "group_prio": 999,
        "process_prio": 5,
    }
    assert avail_line(info) == "grp:manual                       in use    manual    999:5"


class _Listing(Controller):
    """A controller whose server is a list: completion is pure logic over process names."""

    def __init__(self, infos: list[dict[str, object]]) -> None:
        settings = ClientSettings(
            serverurl="unix:///unused",
            username=None,
            password=None,
            prompt="supervisor",
            history_file=None,
            interactive=True,
        )
        super().__init__(
            settings,
            builtin_actions(),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
            read_line=input,
            read_secret=input,
        )
        self.infos = infos
        self.calls = 0

    def all_process_info(self) -> object:
        self.calls += 1
        return self.infos


def test_completion() -> None:
    ctl = _Listing(
        [
            _info("solo", "solo", "RUNNING"),
            _info("grp", "a", "RUNNING"),
            _info("grp", "b", "RUNNING"),
        ]
    )
    completer = Completer(ctl)
    assert completer.matches("", "") == [
        f"{name} "
        for name in [
            *("add", "avail", "clear", "exit", "fg", "help", "maintail", "open", "pid", "quit"),
            *("reload", "remove", "reread", "restart", "shutdown", "signal", "start", "status"),
            *("stop", "tail", "update", "version"),
        ]
    ]
    assert completer.matches("sta", "sta") == ["start ", "status "]
    assert completer.matches("help st", "st") == ["start ", "status ", "stop "]
    assert completer.matches("start ", "") == ["solo ", "grp:a ", "grp:* ", "grp:b "]
    assert completer.matches("stop so", "so") == ["solo "]
    assert completer.matches("stop solo:", "solo:") == ["solo:solo ", "solo:* "]
    assert completer.matches("update ", "") == ["solo ", "grp "]
    assert completer.matches("reload ", "") == []
    assert completer.matches("bogus ", "") == []
    assert ctl.calls == 1  # fetched once per command line
    completer.forget()
    completer.matches("remove g", "g")
    assert ctl.calls == 2


def test_completer_protocol_returns_matches_one_by_one() -> None:
    completer = Completer(_Listing([]))
    completer.line_buffer = lambda: "ver"
    assert [completer.complete("ver", state) for state in range(3)] == ["version ", None, None]
