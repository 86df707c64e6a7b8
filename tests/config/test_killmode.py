"""``killmode``: an opt-in key that sets stopasgroup/killasgroup, or asks for the whole tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.config import ConfigError, load
from vigil.config.model import KillMode, ProcessConfig


def _program(tmp_path: Path, lines: str) -> ProcessConfig:
    path = tmp_path / "supervisord.conf"
    path.write_text(f"[supervisord]\n[program:p]\ncommand=sleep 1\n{lines}\n")
    return load(str(path)).groups[0].processes[0]


@pytest.mark.parametrize(
    ("lines", "mode", "as_group"),
    [
        ("", None, False),
        ("stopasgroup=true", None, True),
        ("killmode=process", KillMode.PROCESS, False),
        ("killmode=group", KillMode.GROUP, True),
        ("killmode = Tree", KillMode.TREE, True),
        ("killmode=group\nstopasgroup=true\nkillasgroup=true", KillMode.GROUP, True),
    ],
)
def test_killmode_decides_group_signalling(
    tmp_path: Path, lines: str, mode: KillMode | None, as_group: bool
) -> None:
    process = _program(tmp_path, lines)
    assert process.killmode is mode
    assert (process.stopasgroup, process.killasgroup) == (as_group, as_group)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("killmode=all", "invalid 'killmode' value 'all' (one of process, group, tree)"),
        ("killmode=process\nkillasgroup=true", "killmode = process contradicts killasgroup"),
        ("killmode=tree\nstopasgroup=false", "killmode = tree contradicts stopasgroup = false"),
    ],
)
def test_bad_killmode_is_named_with_its_place(tmp_path: Path, lines: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _program(tmp_path, lines)
    (problem,) = caught.value.problems
    assert message in problem.message
    assert problem.section == "program:p" and problem.line > 0
