"""supervisorctl's command line: our parser against ``getopt`` (what Supervisor uses), our URL
test against Supervisor's own, and the settings that result."""

from __future__ import annotations

import getopt
import json
import os
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.ctl.harness import DEADLINE, reference_bin
from vigil.config.model import CtlConfig
from vigil.ctl.options import (
    LONG_OPTIONS,
    SHORT_OPTIONS,
    HelpRequested,
    UsageError,
    parse_command_line,
    split_options,
    url_problem,
)
from vigil.ctl.settings import DEFAULT_PROMPT, DEFAULT_SERVERURL, resolve_settings

WORDS = st.sampled_from(
    [
        "-c", "-cfile", "-i", "-is", "-s", "-h", "-?", "-u", "-p", "-r", "-z", "-:", "-",
        "--", "--help", "--he", "--h", "--hist=x", "--history_file", "--history-file",
        "--serverurl", "--serverurl=unix:///x", "--s", "--user=me", "--password",
        "--interactive", "--interactive=1", "--=x", "--", "status", "x", "unix:///a", "",
    ]
)  # fmt: skip


@given(st.lists(WORDS, max_size=6))
@example(["--h"])
@example(["-cfile", "status", "-i"])
def test_options_split_like_getopt(argv: list[str]) -> None:
    try:
        expected: object = getopt.getopt(argv, SHORT_OPTIONS, list(LONG_OPTIONS))
    except getopt.GetoptError as error:
        expected = str(error)
    try:
        pairs, rest = split_options(argv)
        ours: object = (pairs, rest)
    except UsageError as error:
        ours = str(error)
    assert ours == expected


URL_PARTS = st.sampled_from(
    ["http", "unix", "HTTP", "x+y", "1a", ":", "/", "//", "[", "]", "::1", ";", "?", "#", "a", "é",
     "localhost", "9001", " ", "\t", "@", ".", "-"]
)  # fmt: skip


# Supervisor 4.3.0's own check of a server URL (``datatypes.url``), one value per line of JSON
# in, its error message (or null when it accepts the value) per line of JSON out.
URL_ORACLE = """
import json, sys
from supervisor.datatypes import url
for line in sys.stdin:
    try:
        url(json.loads(line))
    except ValueError as error:
        answer = str(error)
    else:
        answer = None
    print(json.dumps(answer), flush=True)
"""


class SupervisorUrlCheck:
    """Asks Supervisor's ``datatypes.url``, in a process of Supervisor's venv kept for the
    module (one process per value would make the property test crawl)."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [reference_bin("python"), "-c", URL_ORACLE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._pending = b""

    def problem(self, value: str) -> str | None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(value).encode() + b"\n")
        self._proc.stdin.flush()
        answer: str | None = json.loads(self._read_line())
        return answer

    def _read_line(self) -> bytes:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + DEADLINE
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            readable, _, _ = select.select([fd], [], [], max(left, 0))
            assert readable, f"Supervisor's url check gave no answer within {DEADLINE} s"
            chunk = os.read(fd, 65536)
            assert chunk, f"Supervisor's url check exited with {self._proc.wait()}"
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(DEADLINE)


@pytest.fixture(scope="module")
def supervisor_url() -> Iterator[SupervisorUrlCheck]:
    check = SupervisorUrlCheck()
    try:
        yield check
    finally:
        check.close()


@settings(deadline=None)  # each example waits for another process: no bound on a loaded machine
@given(value=st.lists(URL_PARTS, max_size=8).map("".join))
@example(value="http://[::1")
@example(value="http://[::1]:9001")
@example(value="http://]::1[")
@example(value="http://h\u00e9/")
@example(value="http:;x")
@example(value="unix:///tmp/s.sock")
def test_url_check_agrees_with_supervisors(supervisor_url: SupervisorUrlCheck, value: str) -> None:
    assert url_problem(value) == supervisor_url.problem(value)


def test_options_apply_in_order() -> None:
    line = parse_command_line(["-s", "unix:///a", "-u", "me", "-p", "pw", "-i", "stop", "x"])
    assert (line.serverurl, line.username, line.password) == ("unix:///a", "me", "pw")
    assert line.interactive is True
    assert line.args == ["stop", "x"]
    with pytest.raises(HelpRequested):
        parse_command_line(["-s", "unix:///a", "-h", "-s", "bad"])
    with pytest.raises(UsageError, match="option -z not recognized"):  # getopt's errors first
        parse_command_line(["-h", "-z"])
    with pytest.raises(UsageError, match="invalid value for -s 'a'"):
        parse_command_line(["-s", "a", "-s", "b"])
    with pytest.raises(UsageError, match="conflicting command line option '--serverurl'"):
        parse_command_line(["-s", "unix:///a", "--serverurl", "unix:///b"])


def test_defaults_without_a_file_are_the_config_models() -> None:
    defaults = CtlConfig()
    assert (defaults.serverurl, defaults.prompt) == (DEFAULT_SERVERURL, DEFAULT_PROMPT)


def test_settings_from_file_and_command_line(tmp_path: Path) -> None:
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        "[supervisorctl]\nserverurl=unix://%(here)s/s.sock\nusername=fileuser\n"
        "password=filepw\nprompt=mine\nhistory_file=~/hist\n"
    )
    settings, warnings = resolve_settings(parse_command_line(["-c", str(conf)]), "prog")
    assert settings.serverurl == f"unix://{tmp_path}/s.sock"
    assert (settings.username, settings.password, settings.prompt) == ("fileuser", "filepw", "mine")
    assert settings.history_file == str(Path("~/hist").expanduser())
    assert settings.interactive and warnings == []

    line = parse_command_line(["-c", str(conf), "-u", "me", "-r", "h2", "-s", "http://h:1", "x"])
    settings, _ = resolve_settings(line, "prog")
    assert settings.serverurl == "http://h:1"
    assert (settings.username, settings.password) == ("me", "filepw")
    assert settings.history_file == str(Path.cwd() / "h2")
    assert not settings.interactive


def test_no_file_found_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    program = str(tmp_path / "bin" / "supervisorctl")
    settings, _ = resolve_settings(parse_command_line(["version"]), program)
    assert (settings.serverurl, settings.prompt) == (DEFAULT_SERVERURL, DEFAULT_PROMPT)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "supervisord.conf").write_text("[supervisorctl]\nprompt=found\n")
    settings, _ = resolve_settings(parse_command_line(["version"]), program)
    assert settings.prompt == "found"


def test_empty_configuration_option_reads_no_file(tmp_path: Path) -> None:
    settings, _ = resolve_settings(parse_command_line(["-c", "", "version"]), "prog")
    assert settings.serverurl == DEFAULT_SERVERURL
