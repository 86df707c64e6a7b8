"""The keys of start/stop hooks (issue 15) and of how `update` replaces processes (issue 19):
defaults that keep Supervisor's behaviour, what they read as, bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.config import ConfigError, load
from vigil.config.model import Config, UpdateStrategy


def _load(tmp_path: Path, program: str, supervisord: str = "") -> Config:
    path = tmp_path / "supervisord.conf"
    path.write_text(f"[supervisord]\n{supervisord}\n[program:p]\ncommand=sleep 1\n{program}\n")
    return load(str(path))


def test_without_the_keys_nothing_changes(tmp_path: Path) -> None:
    config = _load(tmp_path, "")
    process = config.groups[0].processes[0]
    assert (process.pre_start, process.post_stop, process.hook_timeout) == (None, None, 30.0)
    assert process.update_strategy is UpdateStrategy.RESTART
    assert config.supervisord.update_in_place is False


def test_hooks_are_expanded_per_process(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "numprocs=2\nprocess_name=%(program_name)s_%(process_num)d\n"
        "pre_start=mkdir -p /run/%(process_num)d\npost_stop = rm -f %(here)s/%(program_name)s\n"
        "hook_timeout = 2.5\nupdate_strategy = Rolling",
        "update_in_place = true",
    )
    first, second = config.groups[0].processes
    assert (first.pre_start, second.pre_start) == ("mkdir -p /run/0", "mkdir -p /run/1")
    assert first.post_stop == f"rm -f {tmp_path}/p"
    assert first.hook_timeout == 2.5 and first.update_strategy is UpdateStrategy.ROLLING
    assert config.supervisord.update_in_place is True


@pytest.mark.parametrize(
    ("line", "option", "message"),
    [
        ("pre_start=", "pre_start", "empty: give a command or leave it out"),
        ("post_stop=  ", "post_stop", "empty: give a command or leave it out"),
        ("hook_timeout=0", "hook_timeout", "not a number of seconds above 0: '0'"),
        ("hook_timeout=never", "hook_timeout", "not a number of seconds above 0"),
        ("update_strategy=blue-green", "update_strategy", "(one of restart, rolling)"),
    ],
)
def test_bad_values_name_section_and_option(
    tmp_path: Path, line: str, option: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, line)
    (problem,) = caught.value.problems
    assert message in problem.message
    assert (problem.section, problem.option) == ("program:p", option)


def test_update_in_place_must_be_a_boolean(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, "", "update_in_place = sometimes")
    (problem,) = caught.value.problems
    assert (problem.section, problem.option) == ("supervisord", "update_in_place")
