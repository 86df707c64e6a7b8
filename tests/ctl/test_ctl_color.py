"""Colour in supervisorctl is opt-in: ``[supervisorctl] color = auto | always | never``
(default never) and ``--color[=WHEN]``. Without either, the output is Supervisor's text on a
terminal too (what its own end-to-end test for Supervisor #664 reads through a pty)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ctl.harness import TestDaemon, run_ctl
from vigil.config.ctlfile import COLOR_MODES as FILE_COLOR_MODES
from vigil.config.ctlfile import load_ctl
from vigil.config.errors import ConfigError
from vigil.config.model import CtlConfig
from vigil.ctl.options import COLOR_MODES, UsageError, parse_command_line
from vigil.ctl.settings import DEFAULT_COLOR, resolve_settings

PROGRAMS = """
[program:sleeper]
command=sleep 1000
startsecs=0
"""
COLOURED = "sleeper                          \x1b[32mRUNNING\x1b[0m   pid "
PLAIN = "sleeper                          RUNNING   pid "


def test_defaults_and_modes_agree_between_file_and_command_line() -> None:
    assert CtlConfig().color == DEFAULT_COLOR == "never"
    assert COLOR_MODES == FILE_COLOR_MODES == ("auto", "always", "never")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], None),
        (["--color"], "always"),
        (["--color=auto"], "auto"),
        (["--color=NEVER"], "never"),
        (["--col=always"], "always"),  # a unique prefix, as for every long option
    ],
)
def test_color_option(args: list[str], expected: str | None) -> None:
    assert parse_command_line([*args, "status"]).color == expected


def test_color_option_leaves_supervisors_abbreviations_alone(tmp_path: Path) -> None:
    """``--co`` was ``--configuration`` in Supervisor and stays so; ``--color`` takes its
    value only after ``=``, so the next word is still the action."""
    line = parse_command_line(["--co", "x.conf", "--color", "status"])
    assert (line.configfile, line.color, line.args) == ("x.conf", "always", ["status"])


def test_bad_color_options_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="invalid value for --color 'red': expected auto"):
        parse_command_line(["--color=red", "status"])
    with pytest.raises(UsageError, match="conflicting command line option '--color'"):
        parse_command_line(["--color", "--color=never", "status"])


def test_color_from_file_and_command_line(tmp_path: Path) -> None:
    conf = tmp_path / "supervisord.conf"
    conf.write_text("[supervisorctl]\ncolor = Auto\n")
    settings, _ = resolve_settings(parse_command_line(["-c", str(conf), "status"]), "prog")
    assert settings.color == "auto"
    line = parse_command_line(["-c", str(conf), "--color=never", "status"])
    assert resolve_settings(line, "prog")[0].color == "never"
    conf.write_text("[supervisorctl]\n")
    assert resolve_settings(parse_command_line(["-c", str(conf)]), "prog")[0].color == "never"


def test_bad_color_in_file_names_the_value_and_the_place(tmp_path: Path) -> None:
    conf = tmp_path / "supervisord.conf"
    conf.write_text("[supervisorctl]\nserverurl=unix:///x\ncolor=rainbow\n")
    with pytest.raises(ConfigError) as raised:
        load_ctl(str(conf))
    text = str(raised.value)
    assert "invalid 'color' value 'rainbow' (expected auto, always or never)" in text
    assert f"{conf}:3" in text or "line 3" in text, text
    result = run_ctl("vigil", ["-c", str(conf), "status"])
    assert result.status == 2 and "rainbow" in result.stderr, result


def test_color_always_and_never_through_a_pipe(
    start_daemon: Callable[..., TestDaemon],
) -> None:
    daemon = start_daemon("vigil", PROGRAMS)
    daemon.wait_states({"sleeper": "RUNNING"})
    plain = run_ctl("vigil", ["-c", str(daemon.conf), "status"])
    assert PLAIN in plain.stdout and "\x1b" not in plain.stdout, plain
    assert COLOURED in run_ctl("vigil", ["-c", str(daemon.conf), "--color", "status"]).stdout
    # auto: a pipe is not a terminal
    auto = run_ctl("vigil", ["-c", str(daemon.conf), "--color=auto", "status"])
    assert "\x1b" not in auto.stdout, auto

    text = daemon.conf.read_text().replace("[supervisorctl]\n", "[supervisorctl]\ncolor=always\n")
    daemon.conf.write_text(text)
    assert COLOURED in run_ctl("vigil", ["-c", str(daemon.conf), "status"]).stdout
    never = run_ctl("vigil", ["-c", str(daemon.conf), "--color=never", "status"])
    assert PLAIN in never.stdout and "\x1b" not in never.stdout, never
