"""The restart policy's opt-in keys (issue 15): what they read as, and bad values named with
their section and option."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.config import ConfigError, load
from vigil.config.model import Backoff, ProcessConfig, ProgramType


def _program(tmp_path: Path, lines: str) -> ProcessConfig:
    path = tmp_path / "supervisord.conf"
    path.write_text(f"[supervisord]\n[program:p]\ncommand=sleep 1\n{lines}\n")
    return load(str(path)).groups[0].processes[0]


def test_without_the_keys_the_policy_is_supervisors(tmp_path: Path) -> None:
    process = _program(tmp_path, "")
    assert process.type is ProgramType.SIMPLE and process.backoff is Backoff.LINEAR
    assert (process.backoff_delay, process.backoff_max, process.backoff_jitter) == (1, None, 0)
    assert (process.backoff_reset, process.restart_delay, process.fatal_retry) == (None, 0, 0)
    assert process.start_limit is None and process.startretries == 3


def test_every_key_is_read(tmp_path: Path) -> None:
    process = _program(
        tmp_path,
        "startretries=-1\ntype = OneShot\nbackoff=exponential\nbackoff_delay=0.5\n"
        "backoff_max=30\nbackoff_jitter=0.25\nbackoff_reset=60\nrestart_delay=2\n"
        "start_limit = 5 / 60\nfatal_retry=300",
    )
    assert process.startretries == -1
    assert process.type is ProgramType.ONESHOT and process.backoff is Backoff.EXPONENTIAL
    assert (process.backoff_delay, process.backoff_max, process.backoff_jitter) == (0.5, 30, 0.25)
    assert (process.backoff_reset, process.restart_delay, process.fatal_retry) == (60, 2, 300)
    assert process.start_limit == (5, 60.0)


def test_retry_forever_is_not_warned_about_but_other_negatives_are(tmp_path: Path) -> None:
    path = tmp_path / "supervisord.conf"
    path.write_text("[supervisord]\n[program:p]\ncommand=sleep 1\nstartretries=-1\n")
    assert not [w for w in load(str(path)).warnings if "startretries" in w]
    path.write_text("[supervisord]\n[program:p]\ncommand=sleep 1\nstartretries=-2\n")
    assert [w for w in load(str(path)).warnings if "startretries" in w]


@pytest.mark.parametrize(
    ("line", "option", "message"),
    [
        ("backoff=random", "backoff", "invalid 'backoff' value 'random' (one of linear, expon"),
        ("type=forking", "type", "invalid 'type' value 'forking' (one of simple, oneshot)"),
        ("backoff_delay=soon", "backoff_delay", "not a number of seconds: 'soon'"),
        ("backoff_max=-1", "backoff_max", "not a number of seconds (0 or more): '-1'"),
        ("restart_delay=inf", "restart_delay", "not a number of seconds (0 or more)"),
        ("backoff_jitter=1.5", "backoff_jitter", "not a fraction from 0 to 1: '1.5'"),
        ("backoff_jitter=nan", "backoff_jitter", "not a fraction from 0 to 1"),
        ("backoff_reset=x", "backoff_reset", "not a number of seconds: 'x'"),
        ("fatal_retry=-5", "fatal_retry", "not a number of seconds (0 or more): '-5'"),
        ("start_limit=5", "start_limit", "invalid 'start_limit' value '5' (N/SECONDS"),
        ("start_limit=0/60", "start_limit", "invalid 'start_limit' value '0/60'"),
        ("start_limit=5/0", "start_limit", "invalid 'start_limit' value '5/0'"),
        ("start_limit=a/b", "start_limit", "invalid 'start_limit' value 'a/b'"),
    ],
)
def test_bad_values_name_section_and_option(
    tmp_path: Path, line: str, option: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _program(tmp_path, line)
    (problem,) = caught.value.problems
    assert message in problem.message
    assert (problem.section, problem.option, problem.line) == ("program:p", option, 4)
    assert f"[program:p] {option} = " in str(problem)


def test_a_misspelt_key_is_answered_with_the_right_one(tmp_path: Path) -> None:
    path = tmp_path / "supervisord.conf"
    path.write_text("[supervisord]\n[program:p]\ncommand=sleep 1\nrestart_dely=3\n")
    (warning,) = load(str(path)).warnings
    assert "did you mean 'restart_delay'?" in warning
